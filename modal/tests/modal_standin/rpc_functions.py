"""Function and class RPCs: definitions (precreate/create), lookups by name or id, calls, autoscaler overrides.

Calls take the classic control-plane path of the client (FunctionMap, FunctionGetOutputs): the handle metadata
never names an input plane, so `.remote()`, `.spawn()` and `FunctionCall.get/cancel` all come here.
"""

from __future__ import annotations

import hashlib
import time

from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from grpclib import GRPCError, Status
from modal_proto import api_pb2

from .calls import decode_input
from .ids import new_id
from .store import ClassRecord, FunctionRecord

# The client polls FunctionGetOutputs with its own timeout (at most 55 s); the answer is held until then.
MAX_OUTPUTS_WAIT_S = 60.0


def function_data_of(fn: api_pb2.Function) -> api_pb2.FunctionData:
    """The FunctionData view of a Function (the shared fields plus one ranked function), as lookups return."""
    data = api_pb2.FunctionData()
    fields = data.DESCRIPTOR.fields_by_name
    for field, value in fn.ListFields():
        target = fields.get(field.name)
        if target is None:
            continue
        if target.message_type is not None and target.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    getattr(data, field.name)[key].CopyFrom(item)
                else:
                    getattr(data, field.name)[key] = item
        elif field.is_repeated:
            getattr(data, field.name).extend(value)
        elif field.message_type is not None:
            getattr(data, field.name).CopyFrom(value)
        else:
            setattr(data, field.name, value)
    data.ranked_functions.add(rank=0).function.CopyFrom(fn)
    return data


def definition_id_of(fn: api_pb2.Function) -> str:
    """Content-derived: a redeploy of an unchanged function gets the same definition id (that is a no-op deploy).

    Images and mounts are content-addressed here too, so their ids inside the definition are stable. The client
    resolves mounts and dependencies concurrently, so their order varies between runs: it is not part of the id.
    """
    canonical = api_pb2.Function()
    canonical.CopyFrom(fn)
    mount_ids = sorted(canonical.mount_ids)
    del canonical.mount_ids[:]
    canonical.mount_ids.extend(mount_ids)
    for name, key in (("volume_mounts", "mount_path"), ("object_dependencies", "object_id")):
        field = getattr(canonical, name)
        ordered = [
            type(item).FromString(item.SerializeToString()) for item in sorted(field, key=lambda m: getattr(m, key))
        ]
        canonical.ClearField(name)
        getattr(canonical, name).extend(ordered)
    return "de-" + hashlib.sha256(canonical.SerializeToString(deterministic=True)).hexdigest()[:22]


class FunctionRpcs:
    def web_url_for(self, app_id: str, tag: str) -> str:
        app = self.store.apps.get(app_id)
        label = (app.description if app else app_id).replace(".", "-")
        return f"{self.web_url}/web/{label}/{tag.replace('.', '-').lower()}"

    def _web_url_override(self, app_id: str) -> str:
        app = self.store.apps.get(app_id)
        if app is None:
            return ""
        return self.store.web_url_overrides.get(f"{app.environment}/{app.name or app.description}", "")

    def handle_metadata(self, function_id: str) -> api_pb2.FunctionHandleMetadata:
        record: FunctionRecord = self.store.functions[function_id]
        fn: api_pb2.Function = record.definition
        override = self._web_url_override(record.app_id)
        metadata = api_pb2.FunctionHandleMetadata(
            function_name=fn.function_name,
            function_type=fn.function_type,
            web_url=(override or fn.web_url) if fn.web_url else "",
            is_method=fn.is_method,
            definition_id=record.definition_id,
            supported_input_formats=fn.supported_input_formats,
            supported_output_formats=fn.supported_output_formats,
            app_id=record.app_id,
        )
        if fn.HasField("class_parameter_info"):
            metadata.class_parameter_info.CopyFrom(fn.class_parameter_info)
        if fn.HasField("function_schema"):
            metadata.function_schema.CopyFrom(fn.function_schema)
        for name, method in fn.method_definitions.items():
            entry = metadata.method_handle_metadata[name]
            entry.function_name = method.function_name
            entry.function_type = method.function_type
            entry.web_url = (override or method.web_url) if method.web_url else ""
            entry.is_method = True
            entry.use_method_name = name
            entry.app_id = record.app_id
            entry.supported_input_formats.extend(method.supported_input_formats)
            entry.supported_output_formats.extend(method.supported_output_formats)
            if method.HasField("function_schema"):
                entry.function_schema.CopyFrom(method.function_schema)
        return metadata

    def _function(self, function_id: str) -> FunctionRecord:
        record = self.store.functions.get(function_id)
        if record is None:
            raise GRPCError(Status.NOT_FOUND, f"Function {function_id} not found")
        return record

    # -- definitions -------------------------------------------------------------------------------------------

    async def FunctionPrecreate(self, stream) -> None:
        request: api_pb2.FunctionPrecreateRequest = await stream.recv_message()
        function_id = request.existing_function_id or new_id("fu")
        definition = api_pb2.Function(
            function_name=request.function_name,
            function_type=request.function_type,
            supported_input_formats=request.supported_input_formats,
            supported_output_formats=request.supported_output_formats,
        )
        if request.HasField("webhook_config") and request.webhook_config.type:
            definition.webhook_config.CopyFrom(request.webhook_config)
            definition.web_url = self.web_url_for(request.app_id, request.function_name)
        for name, method in request.method_definitions.items():
            definition.method_definitions[name].CopyFrom(method)
            if method.webhook_config.type:
                definition.method_definitions[name].web_url = self.web_url_for(
                    request.app_id, f"{request.function_name.removesuffix('.*')}-{name}"
                )
        if function_id not in self.store.functions:
            # A placeholder until FunctionCreate; a redeploy's precreate leaves the live definition alone.
            self.store.functions[function_id] = FunctionRecord(
                function_id=function_id,
                app_id=request.app_id,
                tag=request.function_name,
                definition=definition,
                definition_id="",
            )
            self.changed()
        await stream.send_message(
            api_pb2.FunctionPrecreateResponse(
                function_id=function_id, handle_metadata=self.handle_metadata(function_id)
            )
        )

    async def FunctionCreate(self, stream) -> None:
        request: api_pb2.FunctionCreateRequest = await stream.recv_message()
        if not request.HasField("function"):
            raise GRPCError(Status.INVALID_ARGUMENT, "modal stand-in: only single-definition functions are supported")
        fn = api_pb2.Function()
        fn.CopyFrom(request.function)
        self._check_references(fn)
        function_id = request.existing_function_id or new_id("fu")
        definition_id = definition_id_of(fn)
        if fn.webhook_config.type:
            fn.web_url = self.web_url_for(request.app_id, fn.function_name)
        for name, method in fn.method_definitions.items():
            if method.webhook_config.type:
                method.web_url = self.web_url_for(request.app_id, f"{fn.function_name.removesuffix('.*')}-{name}")
        self.store.definitions[definition_id] = fn
        previous = self.store.functions.get(function_id)
        self.store.functions[function_id] = FunctionRecord(
            function_id=function_id,
            app_id=request.app_id,
            tag=fn.function_name,
            definition=fn,
            definition_id=definition_id,
            create_request=MessageToDict(request, preserving_proto_field_name=True),
            # Overrides stay until the app publishes a new version (a no-op deploy keeps them).
            autoscaler_override=previous.autoscaler_override if previous else {},
        )
        self.changed()
        await stream.send_message(
            api_pb2.FunctionCreateResponse(
                function_id=function_id,
                function=fn,
                function_data=function_data_of(fn),
                handle_metadata=self.handle_metadata(function_id),
            )
        )

    def _check_references(self, fn: api_pb2.Function) -> None:
        for secret_id in fn.secret_ids:
            if secret_id not in self.store.secrets:
                raise GRPCError(Status.NOT_FOUND, f"Secret {secret_id} not found")
        for mount in fn.volume_mounts:
            if mount.volume_id not in self.store.volumes:
                raise GRPCError(Status.NOT_FOUND, f"Volume {mount.volume_id} not found")
        if fn.image_id and fn.image_id not in self.store.images:
            raise GRPCError(Status.NOT_FOUND, f"Image {fn.image_id} not found")

    async def ClassCreate(self, stream) -> None:
        request: api_pb2.ClassCreateRequest = await stream.recv_message()
        class_id = request.existing_class_id or new_id("cs")
        self.store.classes[class_id] = ClassRecord(
            class_id=class_id,
            app_id=request.app_id,
            tag="",
            request=MessageToDict(request, preserving_proto_field_name=True),
        )
        self.changed()
        await stream.send_message(api_pb2.ClassCreateResponse(class_id=class_id))

    # -- lookups -----------------------------------------------------------------------------------------------

    def _deployed_app_for_lookup(self, app_name: str, environment_name: str):
        environment = self._environment_name(environment_name)
        app = self.store.deployed_app(app_name, environment)
        if app is None:
            raise GRPCError(Status.NOT_FOUND, f"App '{app_name}' not found in environment '{environment}'")
        return app

    def _layout_at(self, app, version: int):
        if not version:
            return app.function_ids, app.class_ids
        entry = next((v for v in app.versions if v.version == version), None)
        if entry is None:
            raise GRPCError(Status.NOT_FOUND, f"App '{app.name}' has no version v{version}")
        return entry.function_ids, entry.class_ids

    async def FunctionGet(self, stream) -> None:
        request: api_pb2.FunctionGetRequest = await stream.recv_message()
        app = self._deployed_app_for_lookup(request.app_name, request.environment_name)
        function_ids, class_ids = self._layout_at(app, request.app_version)
        function_id = function_ids.get(request.object_tag)
        if function_id is None:
            if request.object_tag in class_ids:
                detail = api_pb2.FunctionLookupError(reason=api_pb2.FunctionLookupError.REASON_CLASS_NAME_USED)
                raise GRPCError(Status.NOT_FOUND, f"'{request.object_tag}' is a class", [detail])
            raise GRPCError(Status.NOT_FOUND, f"Function '{request.object_tag}' not found in app '{app.name}'")
        record = self._function(function_id)
        await stream.send_message(
            api_pb2.FunctionGetResponse(
                function_id=function_id,
                handle_metadata=self.handle_metadata(function_id),
                function=function_data_of(record.definition),
            )
        )

    async def FunctionGetById(self, stream) -> None:
        request: api_pb2.FunctionGetByIdRequest = await stream.recv_message()
        record = self._function(request.function_id)
        await stream.send_message(
            api_pb2.FunctionGetByIdResponse(
                function=function_data_of(record.definition), handle_metadata=self.handle_metadata(record.function_id)
            )
        )

    async def ClassGet(self, stream) -> None:
        request: api_pb2.ClassGetRequest = await stream.recv_message()
        app = self._deployed_app_for_lookup(request.app_name, request.environment_name)
        function_ids, class_ids = self._layout_at(app, request.app_version)
        class_id = class_ids.get(request.object_tag)
        if class_id is None:
            raise GRPCError(Status.NOT_FOUND, f"Class '{request.object_tag}' not found in app '{app.name}'")
        response = api_pb2.ClassGetResponse(class_id=class_id)
        service_id = function_ids.get(f"{request.object_tag}.*")
        if service_id is not None:
            response.handle_metadata.class_function_id = service_id
            response.handle_metadata.class_function_metadata.CopyFrom(self.handle_metadata(service_id))
        await stream.send_message(response)

    async def FunctionBindParams(self, stream) -> None:
        request: api_pb2.FunctionBindParamsRequest = await stream.recv_message()
        base = self._function(request.function_id)
        # An unparameterised Cls() binds to the same parameters every time; one bound id per base and params.
        key = f"{request.function_id}:{hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()}"
        bound_id = next((fid for fid, rec in self.store.functions.items() if rec.bound_from == key), None)
        if bound_id is None:
            bound_id = new_id("fu")
            self.store.functions[bound_id] = FunctionRecord(
                function_id=bound_id,
                app_id=base.app_id,
                tag=base.tag,
                definition=base.definition,
                definition_id=base.definition_id,
                bound_from=key,
            )
            self.changed()
        await stream.send_message(
            api_pb2.FunctionBindParamsResponse(
                bound_function_id=bound_id, handle_metadata=self.handle_metadata(bound_id)
            )
        )

    # -- autoscaler --------------------------------------------------------------------------------------------

    def _service_record(self, function_id: str) -> FunctionRecord:
        """update_autoscaler on a Cls() instance targets its bound function; the override belongs to the class."""
        record = self._function(function_id)
        if record.bound_from:
            return self._function(record.bound_from.split(":", 1)[0])
        return record

    async def FunctionUpdateSchedulingParams(self, stream) -> None:
        request: api_pb2.FunctionUpdateSchedulingParamsRequest = await stream.recv_message()
        record = self._service_record(request.function_id)
        settings = MessageToDict(request.settings, preserving_proto_field_name=True)
        if request.warm_pool_size_override:
            settings.setdefault("min_containers", request.warm_pool_size_override)
        self.store.autoscaler_updates.append(
            {
                "at": time.time(),
                "app": self._app_label(record.app_id),
                "function": record.tag,
                "functionId": request.function_id,
                "settings": settings,
            }
        )
        record.autoscaler_override.update(settings)
        current = api_pb2.AutoscalerSettings()
        current.CopyFrom(record.definition.autoscaler_settings)
        for key, value in record.autoscaler_override.items():
            if key in current.DESCRIPTOR.fields_by_name:
                setattr(current, key, value)
        self.changed()
        await stream.send_message(api_pb2.FunctionUpdateSchedulingParamsResponse(current_settings=current))

    def _app_label(self, app_id: str) -> str:
        app = self.store.apps.get(app_id)
        return (app.name or app.description) if app else ""

    # -- calls -------------------------------------------------------------------------------------------------

    def _start_call(self, function_id: str, item: api_pb2.FunctionPutInputsItem, invocation_type: int):
        record = self._function(function_id)
        app = self.store.apps.get(record.app_id)
        if app is None or app.state not in (
            api_pb2.APP_STATE_DEPLOYED,
            api_pb2.APP_STATE_EPHEMERAL,
            api_pb2.APP_STATE_DETACHED,
            api_pb2.APP_STATE_INITIALIZING,
        ):
            raise GRPCError(Status.FAILED_PRECONDITION, "App is stopped or was not found")
        args, kwargs = decode_input(item.input, self.store.blobs)
        invocation = "spawn" if invocation_type == api_pb2.FUNCTION_CALL_INVOCATION_TYPE_ASYNC else "remote"
        return self.calls.start(self._service_record(function_id), args, kwargs, item.input.data_format, invocation)

    async def FunctionMap(self, stream) -> None:
        request: api_pb2.FunctionMapRequest = await stream.recv_message()
        if len(request.pipelined_inputs) != 1:
            raise GRPCError(Status.UNIMPLEMENTED, "modal stand-in: only single-input calls (.remote/.spawn)")
        call = self._start_call(request.function_id, request.pipelined_inputs[0], request.function_call_invocation_type)
        response = api_pb2.FunctionMapResponse(
            function_call_id=call.function_call_id,
            function_call_jwt=f"jwt-{call.function_call_id}",
            sync_client_retries_enabled=False,
            max_inputs_outstanding=1000,
        )
        response.pipelined_inputs.add(idx=0, input_id=call.input_id, input_jwt=f"jwt-{call.input_id}")
        await stream.send_message(response)

    def _call(self, function_call_id: str):
        call = self.store.calls.get(function_call_id)
        if call is None:
            raise GRPCError(Status.NOT_FOUND, f"Function call {function_call_id} not found")
        return call

    async def FunctionGetOutputs(self, stream) -> None:
        request: api_pb2.FunctionGetOutputsRequest = await stream.recv_message()
        call = self._call(request.function_call_id)
        await self.calls.wait(call, min(max(request.timeout, 0.0), MAX_OUTPUTS_WAIT_S))
        response = api_pb2.FunctionGetOutputsResponse(last_entry_id="0-0")
        if call.expired:
            # Modal no longer holds the output: no outputs and nothing unfinished (the client: OutputExpiredError).
            response.num_unfinished_inputs = 0
        elif call.result_item is not None:
            response.outputs.append(call.result_item)
            response.num_unfinished_inputs = 0
            if request.clear_on_success and call.state == "succeeded":
                # `.remote()` asks Modal to drop a successful output once delivered; a later get() finds none.
                call.expired = True
                self.changed()
        else:
            response.num_unfinished_inputs = 1
        await stream.send_message(response)

    async def FunctionCallFromId(self, stream) -> None:
        request: api_pb2.FunctionCallFromIdRequest = await stream.recv_message()
        call = self._call(request.function_call_id)
        await stream.send_message(
            api_pb2.FunctionCallFromIdResponse(
                function_call_id=call.function_call_id,
                num_inputs=1,
                metadata=api_pb2.FunctionCallHandleMetadata(app_id=call.app_id, function_id=call.function_id),
            )
        )

    async def FunctionCallCancel(self, stream) -> None:
        request: api_pb2.FunctionCallCancelRequest = await stream.recv_message()
        self._call(request.function_call_id)
        self.calls.cancel(request.function_call_id, "Input was cancelled by user")
        await stream.send_message(empty_pb2.Empty())

    def cancel_calls_of_app(self, app_id: str, reason: str) -> None:
        for call in list(self.store.calls.values()):
            if call.app_id == app_id and call.state in ("queued", "running"):
                self.calls.cancel(call.function_call_id, reason)
