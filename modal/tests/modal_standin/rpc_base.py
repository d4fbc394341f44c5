"""The plumbing every RPC goes through: token check, a per-RPC counter, and a loud UNIMPLEMENTED for the rest.

The servicer is built on the pinned client's own service definition (`modal_proto.api_grpc.ModalClientBase`), so
the method names, request and response types are the client's. Any RPC the stand-in does not implement answers
UNIMPLEMENTED and is logged to stderr with its name, which is how a missing one is found: run the command, read
the log.
"""

from __future__ import annotations

import sys
import time

import grpclib.const
from grpclib import GRPCError, Status
from modal_proto import api_grpc

from .faults import apply_fault
from .store import Store

# Modal answers a token it does not know with UNAUTHENTICATED; the client maps that status to AuthError.
BAD_TOKEN_MESSAGE = "Invalid token: the token ID or token secret was not recognized. Run `modal token new`."
MISSING_TOKEN_MESSAGE = "Token missing. Could not authenticate client."


def log(message: str) -> None:
    print(f"[modal-standin] {message}", file=sys.stderr, flush=True)


class ServicerBase:
    """State and helpers shared by the RPC groups (apps, functions, volumes, objects)."""

    def __init__(self, store: Store, token_id: str, token_secret: str):
        self.store = store
        self.token_id = token_id
        self.token_secret = token_secret
        self.blob_url = ""
        self.web_url = ""
        self.started_at = time.time()

    def set_urls(self, blob_url: str, web_url: str) -> None:
        self.blob_url = blob_url.rstrip("/")
        self.web_url = web_url.rstrip("/")

    @staticmethod
    def listed_page(objects, environment: str, pagination) -> list:
        """One page of a List RPC as Modal pages it: the named objects of `environment` created before
        `pagination.created_before`, newest first, at most `pagination.max_objects` (0: all)."""
        before = pagination.created_before or float("inf")
        page = sorted(
            (o for o in objects if o.environment == environment and o.name and o.created_at < before),
            key=lambda o: o.created_at,
            reverse=True,
        )
        return page[: pagination.max_objects] if pagination.max_objects else page

    def changed(self) -> None:
        """Called after every mutation: persists the state when the server has a state folder."""
        self.store.save()

    def check_token(self, metadata) -> None:
        token_id = metadata.get("x-modal-token-id")
        token_secret = metadata.get("x-modal-token-secret")
        if not token_id or not token_secret:
            raise GRPCError(Status.UNAUTHENTICATED, MISSING_TOKEN_MESSAGE)
        if token_id != self.token_id or token_secret != self.token_secret:
            raise GRPCError(Status.UNAUTHENTICATED, BAD_TOKEN_MESSAGE)

    def __mapping__(self):
        handlers = super().__mapping__()  # type: ignore[misc]
        wrapped = {}
        for path, handler in handlers.items():
            name = path.rsplit("/", 1)[-1]
            wrapped[path] = grpclib.const.Handler(
                self._guarded(name, handler.func), handler.cardinality, handler.request_type, handler.reply_type
            )
        return wrapped

    def _guarded(self, name: str, func):
        async def guarded(stream):
            self.store.rpc_counts[name] = self.store.rpc_counts.get(name, 0) + 1
            self.check_token(stream.metadata)
            rules = self.store.behaviour.get("failRpc")
            if rules:
                try:
                    stream = apply_fault(rules, name, stream)
                finally:
                    if not rules:
                        del self.store.behaviour["failRpc"]
            await func(stream)

        return guarded


def _unimplemented(name: str):
    async def handler(self, stream) -> None:
        await stream.recv_message()
        log(f"UNIMPLEMENTED RPC {name}")
        self.store.unimplemented.append(name)
        raise GRPCError(Status.UNIMPLEMENTED, f"modal stand-in: RPC {name} is not implemented")

    handler.__name__ = name
    return handler


def complete_servicer(cls):
    """Fills every RPC of ModalClientBase that `cls` does not implement with a logged UNIMPLEMENTED answer."""
    for name in api_grpc.ModalClientBase.__abstractmethods__:
        if getattr(cls, name, None) is None or getattr(getattr(cls, name), "__isabstractmethod__", False):
            setattr(cls, name, _unimplemented(name))
    cls.__abstractmethods__ = frozenset()
    return cls
