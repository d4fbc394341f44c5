"""Function calls: no container runs them; each call follows the outcome a test planned for its function.

A plan says how long the call runs, then what it returns (serialised with modal's own serialisation code, in the
data format the client sent its input in, so the real client deserialises it) or raises (a pickled exception of
the named type, as a container reports a remote failure), and which volume files it leaves behind. A call with
no plan fails loudly, naming the control API call that plans it.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import time
from typing import Any, Optional

from modal_proto import api_pb2

from .ids import new_id
from .rpc_base import log
from .store import FunctionCall, Plan, VolumeFile


class PlanError(ValueError):
    """A plan posted to the control API is malformed; the message names the field."""


def parse_plan(body: dict) -> Plan:
    if not isinstance(body, dict):
        raise PlanError("plan: the body must be a JSON object")
    unknown = set(body) - {"durationMs", "result", "error", "writes", "app"}
    if unknown:
        raise PlanError(f"plan: unknown field(s) {sorted(unknown)}")
    duration = body.get("durationMs", 0)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0:
        raise PlanError(f"plan.durationMs must be a number >= 0, got {duration!r}")
    error = body.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("type"), str):
            raise PlanError('plan.error must be {"type": "ExceptionName", "message": "..."}')
        exception_type(error["type"])  # fail now, not at call time
    writes = body.get("writes") or []
    if not isinstance(writes, list):
        raise PlanError("plan.writes must be a list")
    for index, write in enumerate(writes):
        if not isinstance(write, dict) or not isinstance(write.get("volume"), str) or not write.get("path"):
            raise PlanError(f"plan.writes[{index}] needs volume and path")
        contents = [key for key in ("contentBase64", "text", "json", "delete") if key in write]
        if len(contents) != 1:
            raise PlanError(f"plan.writes[{index}] needs exactly one of contentBase64, text, json, delete")
        write_bytes(write)
    return Plan(
        duration_ms=int(duration),
        result=body.get("result"),
        error=error,
        writes=writes,
        app=body.get("app") or "",
    )


def _client_serialization():
    """The client's own serialisation module, imported on first use: importing `modal` takes most of a second,
    and the stand-in should be ready before that (server.py warms it up in the background once it listens)."""
    import modal._serialization

    return modal._serialization


def exception_type(name: str) -> type:
    """A builtin exception or one of modal.exception's, by name (they unpickle on the client's side)."""
    import modal.exception

    candidate = getattr(builtins, name, None) or getattr(modal.exception, name, None)
    if not (isinstance(candidate, type) and issubclass(candidate, BaseException)):
        raise PlanError(f"plan.error.type {name!r} is not a builtin or modal.exception exception")
    return candidate


def write_bytes(write: dict) -> Optional[bytes]:
    if "contentBase64" in write:
        try:
            return base64.b64decode(write["contentBase64"], validate=True)
        except ValueError:
            raise PlanError(f"plan.writes: contentBase64 of {write['path']} is not base64") from None
    if "text" in write:
        return str(write["text"]).encode()
    if "json" in write:
        return (json.dumps(write["json"], indent=2) + "\n").encode()
    return None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def unplanned(function_name: str) -> Plan:
    message = (
        f"modal stand-in: no outcome planned for {function_name}: "
        f"POST /functions/{function_name}/plan before calling it"
    )
    return Plan(error={"type": "RuntimeError", "message": message})


FINISHED = ("succeeded", "failed", "cancelled")


def container_slots(record) -> int:
    """How many calls of a function run at once: max_containers × inputs per container (0: no limit).

    A call beyond that waits queued, as Modal queues inputs behind busy containers (deploy.py gives download_model
    and compile_deepgemm max_containers=1, so a second call waits for the first instead of running alongside).
    """
    fn = record.definition
    override = record.autoscaler_override.get("max_containers")
    if override is not None:
        containers = int(override)
    elif fn.autoscaler_settings.HasField("max_containers"):
        containers = fn.autoscaler_settings.max_containers
    else:
        containers = fn.concurrency_limit
    return containers * max(1, fn.max_concurrent_inputs) if containers else 0


class CallEngine:
    def __init__(self, servicer):
        self.servicer = servicer
        self.store = servicer.store
        self._done: dict = {}  # function_call_id -> asyncio.Event (not persisted)
        self._timers: dict = {}

    def _event(self, call_id: str) -> asyncio.Event:
        event = self._done.get(call_id)
        if event is None:
            event = self._done[call_id] = asyncio.Event()
            if self.store.calls.get(call_id) and self.store.calls[call_id].state in FINISHED:
                event.set()
        return event

    def take_plan(self, function_name: str, app_name: str) -> Plan:
        queue = self.store.plans.get(function_name) or []
        matching = [index for index, plan in enumerate(queue) if not plan.app or plan.app == app_name]
        if not matching:
            return unplanned(function_name)
        index = matching[0]
        # The last matching plan stays for later calls; earlier ones are used once, in order.
        return queue.pop(index) if len(matching) > 1 else queue[index]

    def start(self, function_record, args, kwargs, data_format: int, invocation: str) -> FunctionCall:
        app = self.store.apps.get(function_record.app_id)
        app_name = app.name or app.description if app else ""
        plan = self.take_plan(function_record.tag, app_name)
        call = FunctionCall(
            function_call_id=new_id("fc"),
            input_id=new_id("in"),
            function_id=function_record.function_id,
            function_name=function_record.tag,
            app_id=function_record.app_id,
            app_name=app_name,
            args=_jsonable(list(args)),
            kwargs=_jsonable(dict(kwargs)),
            data_format=data_format or api_pb2.DATA_FORMAT_PICKLE,
            invocation=invocation,
            created_at=time.time(),
            plan=plan,
        )
        slots = container_slots(function_record)
        if slots and len(self._running(call.function_id)) >= slots:
            call.state = "queued"
        else:
            call.started_at = call.created_at
        self.store.calls[call.function_call_id] = call
        log(
            f"call {call.function_call_id} {call.function_name}{tuple(args)} {dict(kwargs)} ({invocation}, {call.state})"
        )
        self.schedule(call)
        self.servicer.changed()
        return call

    def _running(self, function_id: str) -> list:
        return [c for c in self.store.calls.values() if c.function_id == function_id and c.state == "running"]

    def _promote(self, function_id: str) -> None:
        """Starts the oldest queued call of a function once a container slot is free."""
        record = self.store.functions.get(function_id)
        slots = container_slots(record) if record else 0
        queued = sorted(
            (c for c in self.store.calls.values() if c.function_id == function_id and c.state == "queued"),
            key=lambda c: c.created_at,
        )
        for call in queued:
            if slots and len(self._running(function_id)) >= slots:
                return
            call.state = "running"
            call.started_at = time.time()
            log(f"call {call.function_call_id} {call.function_name} started (was queued)")
            self.schedule(call)
            self.servicer.changed()

    def schedule(self, call: FunctionCall) -> None:
        """Arms the timer that finishes a running call at started_at + durationMs (also after a restart)."""
        if call.state != "running":
            return
        delay = max(0.0, call.started_at + call.plan.duration_ms / 1000 - time.time())
        loop = asyncio.get_running_loop()
        self._timers[call.function_call_id] = loop.call_later(delay, self.finish, call.function_call_id)

    def finish(self, call_id: str) -> None:
        call = self.store.calls.get(call_id)
        if call is None or call.state != "running":
            return
        plan = call.plan
        error = plan.error
        try:
            self._apply_writes(call)
        except LookupError as err:
            error = {"type": "RuntimeError", "message": str(err)}
        if error is None:
            call.state = "succeeded"
            data = _client_serialization().serialize_data_format(plan.result, call.data_format)
            result = api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS, data=data)
            data_format = call.data_format
        else:
            call.state = "failed"
            exc = exception_type(error["type"])(error.get("message", ""))
            result = api_pb2.GenericResult(
                status=api_pb2.GenericResult.GENERIC_STATUS_FAILURE,
                data=_client_serialization().pickle_exception(exc),
                exception=repr(exc),
                traceback=f"Traceback (most recent call last):\n  (remote: {call.function_name})\n"
                f"{type(exc).__name__}: {exc}\n",
            )
            data_format = api_pb2.DATA_FORMAT_PICKLE
        self._complete(call, result, data_format)

    def cancel(self, call_id: str, reason: str = "cancelled") -> bool:
        call = self.store.calls.get(call_id)
        if call is None or call.state in FINISHED:
            return False
        timer = self._timers.pop(call_id, None)
        if timer:
            timer.cancel()
        call.state = "cancelled"
        result = api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_TERMINATED, exception=reason)
        self._complete(call, result, api_pb2.DATA_FORMAT_PICKLE, f" ({reason})")
        return True

    def _complete(self, call: FunctionCall, result, data_format: int, note: str = "") -> None:
        log(f"call {call.function_call_id} {call.function_name} {call.state}{note}")
        call.completed_at = time.time()
        call.result_item = api_pb2.FunctionGetOutputsItem(
            input_id=call.input_id, idx=0, result=result, data_format=data_format, retry_count=0
        )
        self._timers.pop(call.function_call_id, None)
        self._event(call.function_call_id).set()
        self.servicer.changed()
        self._promote(call.function_id)

    def _apply_writes(self, call: FunctionCall) -> None:
        app = self.store.apps.get(call.app_id)
        environment = app.environment if app else "main"
        for write in call.plan.writes:
            volume = self.store.volume_named(write["volume"], environment)
            if volume is None:
                raise LookupError(f"modal stand-in: planned write to volume {write['volume']!r}, which does not exist")
            path = write["path"].strip("/")
            if write.get("delete"):
                for existing in [p for p in volume.files if p == path or p.startswith(path + "/")]:
                    del volume.files[existing]
            else:
                volume.files[path] = VolumeFile(data=write_bytes(write), mtime=time.time())

    async def wait(self, call: FunctionCall, timeout: float) -> bool:
        """Waits up to `timeout` seconds for the call to finish; True when it has."""
        if call.state in FINISHED:
            return True
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(self._event(call.function_call_id).wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def resume_after_restart(self) -> None:
        for call in self.store.calls.values():
            self.schedule(call)
        for function_id in {c.function_id for c in self.store.calls.values() if c.state == "queued"}:
            self._promote(function_id)


def decode_input(function_input: api_pb2.FunctionInput, blobs: dict):
    """(args, kwargs) of a call, decoded with the client's own deserialiser."""
    if function_input.WhichOneof("args_oneof") == "args_blob_id":
        raw = blobs[function_input.args_blob_id]
    else:
        raw = function_input.args
    args, kwargs = _client_serialization().deserialize_data_format(raw, function_input.data_format, None)
    return args, kwargs
