"""The control API tests use to arrange behaviour and read what reached the control plane (JSON over HTTP).

Every error is a 4xx with {"error": "..."} naming the field and the reason. See README.md for the endpoints.
"""

from __future__ import annotations

import hashlib
import json
import time

from aiohttp import web
from modal_proto import api_pb2

from .calls import PlanError, parse_plan
from .deploy_record import describe_function
from .faults import FaultError, parse_rules
from .image_builds import ImageBuildError, parse_image_build
from .rpc_apps import log_line
from .store import DEFAULT_ENVIRONMENT, Environment, VolumeFile
from .ids import new_id

APP_STATES = {
    api_pb2.APP_STATE_DEPLOYED: "deployed",
    api_pb2.APP_STATE_STOPPED: "stopped",
    api_pb2.APP_STATE_EPHEMERAL: "ephemeral",
    api_pb2.APP_STATE_DETACHED: "detached",
    api_pb2.APP_STATE_INITIALIZING: "initializing",
    api_pb2.APP_STATE_STOPPING: "stopping",
    api_pb2.APP_STATE_DISABLED: "disabled",
}
LOG_SOURCES = {
    "stdout": api_pb2.FILE_DESCRIPTOR_STDOUT,
    "stderr": api_pb2.FILE_DESCRIPTOR_STDERR,
    "system": api_pb2.FILE_DESCRIPTOR_INFO,
}
# Switches a test can set with POST /behaviour; each is cleared once used up (see README.md).
BEHAVIOURS = {"noopDeploy": (bool,), "failRpc": (dict, list), "imageBuild": (dict,)}


class ControlError(web.HTTPBadRequest):
    def __init__(self, message: str, status: int = 400):
        super().__init__(text=json.dumps({"error": message}), content_type="application/json")
        self.set_status(status)


def _json(payload, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, indent=1, sort_keys=True), status=status, content_type="application/json"
    )


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except json.JSONDecodeError as err:
        raise ControlError(f"the body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _environment(store, value) -> str:
    name = value or DEFAULT_ENVIRONMENT
    if store.environment(name) is None:
        raise ControlError(f"environment {name!r} does not exist (POST /environments first)", 404)
    return name


def describe_call(call) -> dict:
    return {
        "id": call.function_call_id,
        "function": call.function_name,
        "functionId": call.function_id,
        "app": call.app_name,
        "appId": call.app_id,
        "args": call.args,
        "kwargs": call.kwargs,
        "invocation": call.invocation,
        "state": call.state,
        "expired": call.expired,
        "createdAt": call.created_at,
        "startedAt": call.started_at or None,
        "completedAt": call.completed_at or None,
        "plannedDurationMs": call.plan.duration_ms,
    }


def describe_app(store, app) -> dict:
    return {
        "appId": app.app_id,
        "name": app.name,
        "description": app.description,
        "environment": app.environment,
        "state": APP_STATES.get(app.state, str(app.state)),
        "createdAt": app.created_at,
        "deployedAt": app.deployed_at or None,
        "stoppedAt": app.stopped_at or None,
        "liveFunctionIds": dict(app.function_ids),
        "liveClassIds": dict(app.class_ids),
        "live": [
            describe_function(store, store.functions[fid])
            for fid in app.function_ids.values()
            if fid in store.functions
        ],
        "versions": [
            {
                "version": v.version,
                "tag": v.tag,
                "deployedAt": v.deployed_at,
                "clientVersion": v.client_version,
                "rollbackVersion": v.rollback_version or None,
                "functions": v.record,
            }
            for v in app.versions
        ],
        "logLines": len(app.logs),
    }


def describe_state(store) -> dict:
    return {
        "environments": sorted(store.environments),
        "apps": [describe_app(store, app) for app in sorted(store.apps.values(), key=lambda a: a.created_at)],
        "volumes": [
            {
                "name": volume.name,
                "volumeId": volume.volume_id,
                "environment": volume.environment,
                "commits": volume.commits,
                "reloads": volume.reloads,
                "files": [
                    {
                        "path": path,
                        "size": len(entry.data),
                        "mtime": entry.mtime,
                        "sha256": hashlib.sha256(entry.data).hexdigest(),
                    }
                    for path, entry in sorted(volume.files.items())
                ],
            }
            for volume in store.volumes.values()
            if volume.name
        ],
        "secrets": [
            {"name": s.name, "environment": s.environment, "keys": sorted(s.keys), "lastUsedAt": s.last_used_at or None}
            for s in store.secrets.values()
            if s.name
        ],
        "calls": [describe_call(call) for call in sorted(store.calls.values(), key=lambda c: c.created_at)],
        "autoscalerUpdates": list(store.autoscaler_updates),
        "behaviour": dict(store.behaviour),
        "rpcCounts": dict(store.rpc_counts),
        "unimplementedRpcs": list(store.unimplemented),
    }


def _app_name(store, app_id: str) -> str:
    app = store.apps.get(app_id)
    return (app.name or app.description) if app else ""


def add_control_routes(web_app: web.Application, servicer) -> None:
    store = servicer.store

    @web.middleware
    async def errors(request, handler):
        try:
            return await handler(request)
        except (PlanError, FaultError, ImageBuildError) as err:
            return _json({"error": str(err)}, 400)

    web_app.middlewares.append(errors)

    async def reset(_request):
        for call in list(store.calls.values()):
            servicer.calls.cancel(call.function_call_id, "reset")
        store.reset()
        servicer.changed()
        return _json({"reset": True})

    async def state(_request):
        return _json(describe_state(store))

    async def calls(_request):
        return _json([describe_call(call) for call in sorted(store.calls.values(), key=lambda c: c.created_at)])

    async def expire_call(request):
        call = store.calls.get(request.match_info["call_id"])
        if call is None:
            raise ControlError(f"function call {request.match_info['call_id']!r} does not exist", 404)
        if call.state in ("queued", "running"):
            raise ControlError(f"function call {call.function_call_id} is {call.state}: only a finished call expires")
        call.expired = True
        servicer.changed()
        return _json(describe_call(call))

    async def post_environment(request):
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ControlError("name: a non-empty string is required")
        if name not in store.environments:
            store.environments[name] = Environment(name, new_id("en"), time.time())
            servicer.changed()
        return _json({"name": name}, 201)

    async def post_secret(request):
        body = await _body(request)
        name, keys = body.get("name"), body.get("keys", {})
        if not isinstance(name, str) or not name:
            raise ControlError("name: a non-empty string is required")
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise ControlError("keys: an object of string values is required")
        environment = _environment(store, body.get("environment"))
        store.put_secret(name, environment, keys)
        servicer.changed()
        return _json({"name": name, "keys": sorted(keys)}, 201)

    async def delete_secret(request):
        environment = _environment(store, request.query.get("environment"))
        secret = store.secret_named(request.match_info["name"], environment)
        if secret is None:
            raise ControlError(f"secret {request.match_info['name']!r} does not exist", 404)
        del store.secrets[secret.secret_id]
        servicer.changed()
        return _json({"deleted": secret.name})

    async def post_volume(request):
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ControlError("name: a non-empty string is required")
        environment = _environment(store, body.get("environment"))
        volume = store.volume_named(name, environment) or store.create_volume(name, environment)
        servicer.changed()
        return _json({"name": name, "volumeId": volume.volume_id}, 201)

    def _volume(request):
        environment = _environment(store, request.query.get("environment"))
        volume = store.volume_named(request.match_info["name"], environment)
        if volume is None:
            raise ControlError(f"volume {request.match_info['name']!r} does not exist", 404)
        return volume

    async def delete_volume(request):
        volume = _volume(request)
        del store.volumes[volume.volume_id]
        servicer.changed()
        return _json({"deleted": volume.name})

    def _path(request) -> str:
        path = (request.query.get("path") or "").strip("/")
        if not path:
            raise ControlError("path: the query parameter ?path=P is required")
        return path

    async def put_file(request):
        volume, path = _volume(request), _path(request)
        volume.files[path] = VolumeFile(data=await request.read(), mtime=time.time())
        servicer.changed()
        return _json({"path": path, "size": len(volume.files[path].data)}, 201)

    async def get_file(request):
        volume, path = _volume(request), _path(request)
        if path not in volume.files:
            raise ControlError(f"{volume.name}:{path} does not exist", 404)
        return web.Response(body=volume.files[path].data, content_type="application/octet-stream")

    async def delete_file(request):
        volume, path = _volume(request), _path(request)
        doomed = [p for p in volume.files if p == path or p.startswith(path + "/")]
        if not doomed:
            raise ControlError(f"{volume.name}:{path} does not exist", 404)
        for existing in doomed:
            del volume.files[existing]
        servicer.changed()
        return _json({"deleted": doomed})

    async def behaviour(request):
        body = await _body(request)
        for key, value in body.items():
            if key == "forceColor":
                raise ControlError(
                    "forceColor is client-side: set FORCE_COLOR=1 in the modal client's environment (rich colours "
                    "its --json output then); the control plane has nothing to do"
                )
            if key not in BEHAVIOURS:
                raise ControlError(f"unknown behaviour {key!r}; known: {sorted(BEHAVIOURS)}")
            if value is not None and not isinstance(value, BEHAVIOURS[key]):
                names = " or ".join(kind.__name__ for kind in BEHAVIOURS[key])
                raise ControlError(f"{key}: expected {names} or null, got {value!r}")
        if body.get("failRpc") is not None:
            body["failRpc"] = parse_rules(body["failRpc"])
        if body.get("imageBuild") is not None:
            body["imageBuild"] = parse_image_build(body["imageBuild"])
        for key, value in body.items():
            if value is None:
                store.behaviour.pop(key, None)
            else:
                store.behaviour[key] = value
        servicer.changed()
        return _json({"behaviour": dict(store.behaviour)})

    async def post_plan(request):
        name = request.match_info["name"]
        plan = parse_plan(await _body(request))
        store.plans.setdefault(name, []).append(plan)
        servicer.changed()
        return _json({"function": name, "queued": len(store.plans[name])}, 201)

    async def put_plan(request):
        name = request.match_info["name"]
        store.plans[name] = [parse_plan(await _body(request))]
        servicer.changed()
        return _json({"function": name, "queued": 1})

    async def post_web_url(request):
        name = request.match_info["name"]
        body = await _body(request)
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ControlError("url: an http(s) URL is required")
        environment = _environment(store, body.get("environment"))
        store.web_url_overrides[f"{environment}/{name}"] = url.rstrip("/")
        servicer.changed()
        return _json({"app": name, "url": url.rstrip("/")})

    async def delete_plan(request):
        store.plans.pop(request.match_info["name"], None)
        servicer.changed()
        return _json({"function": request.match_info["name"], "queued": 0})

    async def post_logs(request):
        name = request.match_info["name"]
        body = await _body(request)
        environment = _environment(store, body.get("environment"))
        app = store.latest_app_named(name, environment)
        if app is None:
            raise ControlError(f"app {name!r} was never deployed in {environment!r}", 404)
        lines = body.get("lines")
        if not isinstance(lines, list) or not lines:
            raise ControlError('lines: a non-empty list of {"text", "timestamp"?, "source"?} is required')
        parsed = []
        for index, line in enumerate(lines):
            if isinstance(line, str):
                line = {"text": line}
            if not isinstance(line, dict) or not isinstance(line.get("text"), str):
                raise ControlError(f"lines[{index}].text: a string is required")
            source = line.get("source", "stdout")
            if source not in LOG_SOURCES:
                raise ControlError(f"lines[{index}].source {source!r}: use one of {sorted(LOG_SOURCES)}")
            timestamp = line.get("timestamp", time.time())
            if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
                raise ControlError(f"lines[{index}].timestamp: seconds since the epoch are required")
            text = line["text"] if line["text"].endswith("\n") else line["text"] + "\n"
            parsed.append(
                log_line(
                    text,
                    float(timestamp),
                    LOG_SOURCES[source],
                    task_id=line.get("taskId", "ta-standin"),
                    function_id=line.get("functionId", ""),
                )
            )
        servicer.add_log_lines(app, parsed)
        return _json({"app": name, "appId": app.app_id, "added": len(parsed)}, 201)

    web_app.router.add_post("/reset", reset)
    web_app.router.add_get("/state", state)
    web_app.router.add_get("/calls", calls)
    web_app.router.add_post("/calls/{call_id}/expire", expire_call)
    web_app.router.add_post("/environments", post_environment)
    web_app.router.add_post("/secrets", post_secret)
    web_app.router.add_delete("/secrets/{name}", delete_secret)
    web_app.router.add_post("/volumes", post_volume)
    web_app.router.add_delete("/volumes/{name}", delete_volume)
    web_app.router.add_put("/volumes/{name}/files", put_file)
    web_app.router.add_get("/volumes/{name}/files", get_file)
    web_app.router.add_delete("/volumes/{name}/files", delete_file)
    web_app.router.add_post("/behaviour", behaviour)
    web_app.router.add_post("/functions/{name}/plan", post_plan)
    web_app.router.add_put("/functions/{name}/plan", put_plan)
    web_app.router.add_delete("/functions/{name}/plan", delete_plan)
    web_app.router.add_post("/apps/{name}/web-url", post_web_url)
    web_app.router.add_post("/apps/{name}/logs", post_logs)
