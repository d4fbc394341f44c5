"""Injected RPC failures (`POST /behaviour {"failRpc": ...}`): how a test makes Modal fail where and how it wants.

A rule: {"name": "AppPublish", "status": "INTERNAL", "message": "...", "afterCalls": 0, "times": 1,
"afterMessages": 0}. The first `afterCalls` calls of the RPC pass; the next `times` calls fail with the gRPC
status and message (times -1: until cleared). A streaming RPC fails after sending `afterMessages` messages. The
client's own retry policy applies: it retries INTERNAL, UNAVAILABLE, UNKNOWN, CANCELLED and DEADLINE_EXCEEDED on
unary RPCs (3 retries), so a single retryable failure is invisible to the command: use `times` > 3 or a status it
does not retry to see the failure surface.
"""

from __future__ import annotations

from grpclib import GRPCError, Status
from modal_proto import api_grpc

RULE_KEYS = {"name", "status", "message", "afterCalls", "times", "afterMessages"}


class FaultError(ValueError):
    """A failRpc rule is malformed; the message names the field."""


def parse_rules(value) -> list:
    rules = value if isinstance(value, list) else [value]
    parsed = []
    for index, rule in enumerate(rules):
        where = f"failRpc[{index}]" if isinstance(value, list) else "failRpc"
        if not isinstance(rule, dict):
            raise FaultError(f"{where}: an object {{name, status, message, ...}} is required")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise FaultError(f"{where}: unknown field(s) {sorted(unknown)}")
        name = rule.get("name")
        if name not in api_grpc.ModalClientBase.__abstractmethods__:
            raise FaultError(f"{where}.name {name!r} is not an RPC of the pinned client's ModalClient service")
        status = rule.get("status", "INTERNAL")
        if status not in Status.__members__ or status == "OK":
            raise FaultError(f"{where}.status {status!r}: use a gRPC status name such as INTERNAL or NOT_FOUND")
        numbers = {}
        for key, default in (("afterCalls", 0), ("times", 1), ("afterMessages", 0)):
            number = rule.get(key, default)
            if isinstance(number, bool) or not isinstance(number, int) or number < (-1 if key == "times" else 0):
                raise FaultError(f"{where}.{key} must be an integer >= 0{' (or -1)' if key == 'times' else ''}")
            numbers[key] = number
        if numbers["times"] == 0:
            raise FaultError(f"{where}.times 0 would never fail: use >= 1, or -1 for until cleared")
        parsed.append(
            {
                "name": name,
                "status": status,
                "message": str(rule.get("message", f"injected {status} for {name}")),
                **numbers,
            }
        )
    return parsed


class _FailingStream:
    """Passes `allowed` messages through, then fails the RPC (a stream that breaks after some data)."""

    def __init__(self, stream, allowed: int, error: GRPCError):
        self._stream = stream
        self._allowed = allowed
        self._error = error

    async def send_message(self, message, **kwargs):
        if self._allowed <= 0:
            raise self._error
        self._allowed -= 1
        await self._stream.send_message(message, **kwargs)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def apply_fault(rules: list, name: str, stream):
    """The stream to hand the handler, or raise the injected failure now; updates the rule's counters."""
    for rule in rules:
        if rule["name"] != name:
            continue
        if rule["afterCalls"] > 0:
            rule["afterCalls"] -= 1
            return stream
        if rule["times"] > 0:
            rule["times"] -= 1
            if rule["times"] == 0:
                rules.remove(rule)
        error = GRPCError(Status[rule["status"]], rule["message"])
        if rule["afterMessages"] > 0:
            return _FailingStream(stream, rule["afterMessages"], error)
        raise error
    return stream
