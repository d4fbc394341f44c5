"""App RPCs: create, look up by name, publish (deploy), history, rollback, stop, list, logs.

What the real client does with the answers (modal 1.6.4):
  - `modal deploy` looks the name up (AppGetByDeploymentName); a deployed app is reused (AppGetLayout), else a new
    app is created (AppCreate), so a deploy after `modal app stop` gets a new app id and its history restarts at v1.
  - AppPublish answering `deployed_at=0` makes the client print "Deployment skipped: no changes detected" and
    create no version (runner.py, `_deploy_app`). The stand-in answers that when every function definition equals
    the live version's, as Modal does, or when a test asked for it (`noopDeploy`).
  - `modal app stop` of a stopped app: AppGetByDeploymentName returns it as `previous_app_id` with a STOPPED
    lifecycle, and the client itself exits 1 with "App is already stopped." (cli/app.py `stop`).
"""

from __future__ import annotations

import asyncio
import time

from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
from grpclib import GRPCError, Status
from modal_proto import api_pb2
from modal_version import __version__ as CLIENT_VERSION

from .deploy_record import describe_deploy
from .ids import new_id
from .rpc_base import log
from .store import App, AppVersion, LogLine

DEPLOYED_BY = "standin-user"


def _ts(message) -> float:
    return message.seconds + message.nanos / 1e9


class AppRpcs:
    def _environment_name(self, name: str) -> str:
        environment = self.store.environment(name)
        if environment is None:
            raise GRPCError(Status.NOT_FOUND, f"Environment '{name}' not found")
        return environment.name

    def _app(self, app_id: str) -> App:
        app = self.store.apps.get(app_id)
        if app is None:
            raise GRPCError(Status.NOT_FOUND, f"App '{app_id}' not found")
        return app

    def _lifecycle(self, app: App) -> api_pb2.AppLifecycle:
        current = app.current_version()
        return api_pb2.AppLifecycle(
            app_state=app.state,
            created_at=app.created_at,
            created_by=DEPLOYED_BY,
            deployed_at=app.deployed_at,
            deployed_by=DEPLOYED_BY if app.deployed_at else "",
            version=current.version if current else 0,
            stopped_at=app.stopped_at,
            stopped_by=app.stopped_by,
        )

    def app_url(self, app: App) -> str:
        return f"{self.web_url}/apps/{app.environment}/{app.name or app.app_id}"

    async def AppCreate(self, stream) -> None:
        request: api_pb2.AppCreateRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        app = App(
            app_id=new_id("ap"),
            description=request.description,
            environment=environment,
            state=request.app_state or api_pb2.APP_STATE_INITIALIZING,
            created_at=time.time(),
        )
        self.store.apps[app.app_id] = app
        self.changed()
        url = self.app_url(app)
        await stream.send_message(api_pb2.AppCreateResponse(app_id=app.app_id, app_page_url=url, app_logs_url=url))

    async def AppGetByDeploymentName(self, stream) -> None:
        request: api_pb2.AppGetByDeploymentNameRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        response = api_pb2.AppGetByDeploymentNameResponse(environment_name=environment)
        deployed = self.store.deployed_app(request.name, environment)
        if deployed is not None:
            response.app_id = deployed.app_id
            response.lifecycle.CopyFrom(self._lifecycle(deployed))
        else:
            previous = self.store.latest_app_named(request.name, environment)
            if previous is not None:
                response.previous_app_id = previous.app_id
                response.lifecycle.CopyFrom(self._lifecycle(previous))
        await stream.send_message(response)

    async def AppGetLifecycle(self, stream) -> None:
        request: api_pb2.AppGetLifecycleRequest = await stream.recv_message()
        app = self._app(request.app_id)
        await stream.send_message(api_pb2.AppGetLifecycleResponse(lifecycle=self._lifecycle(app)))

    async def AppGetLayout(self, stream) -> None:
        request: api_pb2.AppGetLayoutRequest = await stream.recv_message()
        app = self._app(request.app_id)
        layout = api_pb2.AppLayout(function_ids=app.function_ids, class_ids=app.class_ids)
        for function_id in app.function_ids.values():
            if function_id in self.store.functions:
                layout.objects.append(
                    api_pb2.Object(object_id=function_id, function_handle_metadata=self.handle_metadata(function_id))
                )
        for class_id in app.class_ids.values():
            layout.objects.append(
                api_pb2.Object(object_id=class_id, class_handle_metadata=api_pb2.ClassHandleMetadata())
            )
        await stream.send_message(api_pb2.AppGetLayoutResponse(app_layout=layout))

    async def AppHeartbeat(self, stream) -> None:
        request: api_pb2.AppHeartbeatRequest = await stream.recv_message()
        self._app(request.app_id)
        await stream.send_message(empty_pb2.Empty())

    async def AppClientDisconnect(self, stream) -> None:
        request: api_pb2.AppClientDisconnectRequest = await stream.recv_message()
        app = self.store.apps.get(request.app_id)
        # Modal stops an app that never finished initialising and an ephemeral app whose client left; a deployed
        # or detached app keeps running.
        if app is not None and app.state in (api_pb2.APP_STATE_INITIALIZING, api_pb2.APP_STATE_EPHEMERAL):
            app.state = api_pb2.APP_STATE_STOPPED
            app.stopped_at = time.time()
            self.cancel_calls_of_app(app.app_id, "the app's client disconnected")
            self.changed()
        await stream.send_message(empty_pb2.Empty())

    def _definitions_unchanged(self, app: App, request: api_pb2.AppPublishRequest) -> bool:
        current = app.current_version()
        if current is None or app.state != api_pb2.APP_STATE_DEPLOYED:
            return False
        mine = {tag: self.store.functions[fid].definition_id for tag, fid in request.function_ids.items()}
        return mine == current.definitions_by_tag and set(request.class_ids) == set(current.class_ids)

    async def AppPublish(self, stream) -> None:
        request: api_pb2.AppPublishRequest = await stream.recv_message()
        app = self._app(request.app_id)
        if request.app_state != api_pb2.APP_STATE_DEPLOYED:
            # `modal run`: the ephemeral app's objects become its layout; no version.
            app.function_ids = dict(request.function_ids)
            app.class_ids = dict(request.class_ids)
            app.state = request.app_state or app.state
            self.changed()
            await stream.send_message(api_pb2.AppPublishResponse(url=self.app_url(app), deployed_at=time.time()))
            return

        forced = self.store.behaviour.pop("noopDeploy", None)
        noop = forced if forced is not None else self._definitions_unchanged(app, request)
        holder = self.store.deployed_app(request.name, app.environment)
        if holder is not None and holder.app_id != app.app_id:
            # Two deploys of a new name raced (both created an app): the name moves to the later publish and the
            # earlier app stops. The stand-in's choice; Modal's answer to this race is not observable here.
            holder.state = api_pb2.APP_STATE_STOPPED
            holder.stopped_at = time.time()
            holder.stopped_by = DEPLOYED_BY
            log(f"app {holder.app_id} stopped: the name {request.name!r} was published by {app.app_id}")
        app.name = request.name
        if noop and app.current_version() is not None:
            # Nothing changes on Modal's side for a no-op: no version, no tag, the live layout stays.
            app.state = api_pb2.APP_STATE_DEPLOYED
            self.changed()
            await stream.send_message(api_pb2.AppPublishResponse(url=self.app_url(app), deployed_at=0))
            return

        now = time.time()
        current = app.current_version()
        version = AppVersion(
            version=(current.version if current else 0) + 1,
            tag=request.deployment_tag,
            deployed_at=now,
            client_version=stream.metadata.get("x-modal-client-version") or CLIENT_VERSION,
            function_ids=dict(request.function_ids),
            class_ids=dict(request.class_ids),
            definition_ids=dict(request.definition_ids),
            definitions_by_tag={
                tag: self.store.functions[fid].definition_id for tag, fid in request.function_ids.items()
            },
            commit_hash=request.commit_info.commit_hash if request.HasField("commit_info") else "",
            commit_dirty=request.commit_info.dirty if request.HasField("commit_info") else False,
            record=describe_deploy(self.store, request.function_ids, request.class_ids),
            publish_request=MessageToDict(request, preserving_proto_field_name=True),
        )
        app.versions.append(version)
        for function_id in request.function_ids.values():
            self.store.functions[function_id].autoscaler_override = {}
        app.function_ids = dict(request.function_ids)
        app.class_ids = dict(request.class_ids)
        app.state = api_pb2.APP_STATE_DEPLOYED
        app.deployed_at = now
        self.changed()
        await stream.send_message(api_pb2.AppPublishResponse(url=self.app_url(app), deployed_at=now))

    async def AppList(self, stream) -> None:
        request: api_pb2.AppListRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        response = api_pb2.AppListResponse()
        for app in self.store.apps.values():
            if app.environment != environment or app.state == api_pb2.APP_STATE_INITIALIZING:
                continue
            response.apps.append(
                api_pb2.AppListResponse.AppListItem(
                    app_id=app.app_id,
                    description=app.name or app.description,
                    name=app.name,
                    state=app.state,
                    created_at=app.created_at,
                    stopped_at=app.stopped_at,
                    n_running_tasks=0,
                )
            )
        await stream.send_message(response)

    async def AppDeploymentHistory(self, stream) -> None:
        request: api_pb2.AppDeploymentHistoryRequest = await stream.recv_message()
        app = self._app(request.app_id)
        response = api_pb2.AppDeploymentHistoryResponse()
        for version in reversed(app.versions):
            entry = api_pb2.AppDeploymentHistory(
                app_id=app.app_id,
                version=version.version,
                client_version=version.client_version,
                deployed_at=version.deployed_at,
                deployed_by=DEPLOYED_BY,
                tag=version.tag,
                rollback_version=version.rollback_version,
                rollback_allowed=True,
            )
            if version.commit_hash:
                entry.commit_info.commit_hash = version.commit_hash
                entry.commit_info.dirty = version.commit_dirty
            response.app_deployment_histories.append(entry)
        await stream.send_message(response)

    async def AppRollback(self, stream) -> None:
        request: api_pb2.AppRollbackRequest = await stream.recv_message()
        app = self._app(request.app_id)
        current = app.current_version()
        current_number = current.version if current else 0
        if request.version < 0:
            target_number = current_number + request.version
            if target_number <= 0:
                raise GRPCError(Status.INVALID_ARGUMENT, "Rollback request exceeds number of App deployments.")
        elif request.version > 0:
            target_number = request.version
        else:
            raise GRPCError(Status.INVALID_ARGUMENT, "Invalid rollback version request.")
        target = next((v for v in app.versions if v.version == target_number), None)
        if target is None:
            raise GRPCError(Status.NOT_FOUND, "Rollback version not found in App history.")
        now = time.time()
        app.versions.append(
            AppVersion(
                version=current_number + 1,
                tag=target.tag,
                deployed_at=now,
                client_version=target.client_version,
                function_ids=dict(target.function_ids),
                class_ids=dict(target.class_ids),
                definition_ids=dict(target.definition_ids),
                definitions_by_tag=dict(target.definitions_by_tag),
                commit_hash=target.commit_hash,
                commit_dirty=target.commit_dirty,
                rollback_version=target.version,
                record=target.record,
                publish_request=target.publish_request,
            )
        )
        app.function_ids = dict(target.function_ids)
        app.class_ids = dict(target.class_ids)
        for tag, function_id in target.function_ids.items():
            # The function ids outlive versions; put the rolled-back-to definition behind each of them again.
            record = self.store.functions.get(function_id)
            definition_id = target.definitions_by_tag.get(tag)
            if record is not None and definition_id in self.store.definitions:
                record.definition = self.store.definitions[definition_id]
                record.definition_id = definition_id
                record.autoscaler_override = {}
        app.deployed_at = now
        self.changed()
        await stream.send_message(api_pb2.AppRollbackResponse(url=self.app_url(app), deployed_at=now))

    async def AppStop(self, stream) -> None:
        request: api_pb2.AppStopRequest = await stream.recv_message()
        app = self._app(request.app_id)
        app.state = api_pb2.APP_STATE_STOPPED
        app.stopped_at = time.time()
        app.stopped_by = DEPLOYED_BY
        self.cancel_calls_of_app(app.app_id, "the app was stopped")
        self.changed()
        await stream.send_message(empty_pb2.Empty())

    async def ObjectSuggest(self, stream) -> None:
        await stream.recv_message()
        await stream.send_message(api_pb2.ObjectSuggestResponse())

    async def TaskList(self, stream) -> None:
        # No containers ever run here.
        await stream.recv_message()
        await stream.send_message(api_pb2.TaskListResponse())

    # -- logs --------------------------------------------------------------------------------------------------

    def add_log_lines(self, app: App, lines: list) -> None:
        for line in lines:
            app.logs.append(line)
        app.logs.sort(key=lambda line: line.timestamp)
        self.changed()

    def _matching_logs(self, app: App, request) -> list:
        since = _ts(request.since) if request.HasField("since") else 0.0
        until = _ts(request.until) if request.HasField("until") else float("inf")
        lines = []
        for line in app.logs:
            if not since <= line.timestamp < until:
                continue
            if request.source and line.fd != request.source:
                continue
            if request.function_id and line.function_id != request.function_id:
                continue
            if request.function_call_id and line.function_call_id != request.function_call_id:
                continue
            if request.task_id and line.task_id != request.task_id:
                continue
            if request.search_text and request.search_text not in line.data:
                continue
            lines.append(line)
        return lines

    async def AppFetchLogs(self, stream) -> None:
        request: api_pb2.AppFetchLogsRequest = await stream.recv_message()
        app = self._app(request.app_id)
        lines = self._matching_logs(app, request)
        if request.limit:
            lines = lines[-request.limit :]  # the newest `limit`, oldest first
        response = api_pb2.AppFetchLogsResponse()
        for line in lines:
            batch = response.batches.add(task_id=line.task_id, function_id=line.function_id)
            batch.items.append(
                api_pb2.TaskLogs(
                    data=line.data,
                    timestamp=line.timestamp,
                    file_descriptor=line.fd,
                    function_call_id=line.function_call_id,
                    container_id=line.task_id,
                )
            )
        await stream.send_message(response)

    async def AppGetLogs(self, stream) -> None:
        """The follow stream (`modal run`, `modal app logs -f`): lines after last_entry_id, then app_done once the
        app has stopped, or the end of the stream after `timeout` so the client re-opens it."""
        request: api_pb2.AppGetLogsRequest = await stream.recv_message()
        app = self._app(request.app_id)
        next_index = int(request.last_entry_id) + 1 if request.last_entry_id.isdigit() else 0
        deadline = time.monotonic() + min(request.timeout or 55.0, 55.0)
        while True:
            for index in range(next_index, len(app.logs)):
                line = app.logs[index]
                if request.file_descriptor and line.fd != request.file_descriptor:
                    continue
                batch = api_pb2.TaskLogsBatch(entry_id=str(index), task_id=line.task_id, function_id=line.function_id)
                batch.items.append(api_pb2.TaskLogs(data=line.data, timestamp=line.timestamp, file_descriptor=line.fd))
                await stream.send_message(batch)
            next_index = len(app.logs)
            if app.state in (api_pb2.APP_STATE_STOPPED, api_pb2.APP_STATE_STOPPING):
                await stream.send_message(api_pb2.TaskLogsBatch(app_done=True))
                return
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.2)

    async def AppCountLogs(self, stream) -> None:
        request: api_pb2.AppCountLogsRequest = await stream.recv_message()
        app = self._app(request.app_id)
        bucket_secs = request.bucket_secs or 3600
        since = int(_ts(request.since)) // bucket_secs * bucket_secs
        buckets: dict = {}
        for line in self._matching_logs(app, request):
            start = int(line.timestamp) // bucket_secs * bucket_secs
            bucket = buckets.setdefault(start, {"stdout": 0, "stderr": 0, "system": 0})
            key = {api_pb2.FILE_DESCRIPTOR_STDERR: "stderr", api_pb2.FILE_DESCRIPTOR_INFO: "system"}.get(
                line.fd, "stdout"
            )
            bucket[key] += 1
        response = api_pb2.AppCountLogsResponse(app_id=app.app_id)
        for start in sorted(buckets):
            if start < since:
                continue
            entry = response.buckets.add(
                stdout_logs=buckets[start]["stdout"],
                stderr_logs=buckets[start]["stderr"],
                system_logs=buckets[start]["system"],
            )
            entry.bucket_start_at.FromSeconds(start)
        await stream.send_message(response)


def log_line(data: str, timestamp: float, fd: int = api_pb2.FILE_DESCRIPTOR_STDOUT, **ids) -> LogLine:
    return LogLine(timestamp=timestamp, data=data, fd=fd, **ids)
