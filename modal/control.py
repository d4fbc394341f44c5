"""Small control-plane helper the glm-ops adapter runs with the project venv's Python, for what no `modal` CLI
command does: spawn a deployed function and follow the call by id, set a deployed Server's min_containers, find its
web URL.

  python modal/control.py spawn --app APP-ops [--env ENV] --function F [--kwargs JSON]   -> {"callId": "fc-..."}
  python modal/control.py call-status --id fc-... [--wait S]                            -> {"state": ...}
  python modal/control.py cancel --id fc-...                                            -> {"cancelled": "fc-..."}
  python modal/control.py set-min-containers --app APP [--env ENV] --min N
  python modal/control.py endpoint --app APP [--env ENV]

A spawned call runs on Modal independently of this process (unlike `modal run`, whose exit stops the app), so a
worker that dies mid-download can re-attach with `call-status` instead of starting the download again.

call-status prints one of
  {"state": "running"}
  {"state": "done", "result": <the function's return value>}
  {"state": "failed", "error": {"type": "...", "message": "..."}}   the remote function raised (or was cancelled)
  {"state": "expired"}                                                Modal no longer keeps the call's result
and exits 0: the call's outcome is data. Exit 1 with one `Error: Type: message` line on stderr means the helper
itself could not ask Modal (no such app, function or call; credentials; network).

Credentials come from the environment or the Modal profile, as for the CLI.
"""

import argparse
import json
import sys

SERVER_CLASS = "Server"
WEB_METHOD = "serve"
# How long call-status may wait for a result at most: the adapter heartbeats between polls.
MAX_WAIT_S = 60.0


def _server(app: str, env):
    import modal

    return modal.Cls.from_name(app, SERVER_CLASS, environment_name=env)()


def spawn(app: str, env, function: str, kwargs: dict) -> dict:
    """Spawns a function of a deployed app; the call keeps running after this process exits."""
    import modal

    call = modal.Function.from_name(app, function, environment_name=env).spawn(**kwargs)
    return {"callId": call.object_id}


def call_status(call_id: str, wait_s: float) -> dict:
    """The state of a spawned call, waiting up to `wait_s` for it to finish."""
    import modal
    from modal.exception import NotFoundError, OutputExpiredError

    if not 0 <= wait_s <= MAX_WAIT_S:
        raise ValueError(f"--wait {wait_s}: must be 0..{MAX_WAIT_S:.0f} seconds")
    call = modal.FunctionCall.from_id(call_id)
    try:
        result = call.get(timeout=wait_s)
    except OutputExpiredError:  # a modal TimeoutError: before the builtin one below
        return {"state": "expired"}
    except NotFoundError:  # no such call: the helper's own failure, not the call's
        raise
    except TimeoutError:  # the builtin one, raised by the SDK while the call has no output yet
        return {"state": "running"}
    except Exception as err:  # the remote function's own exception (FunctionTimeoutError included), re-raised
        return {"state": "failed", "error": {"type": type(err).__name__, "message": str(err)}}
    return {"state": "done", "result": result}


def cancel(call_id: str) -> dict:
    """Cancels a spawned call (its inputs are terminated, not retried)."""
    import modal

    modal.FunctionCall.from_id(call_id).cancel()
    return {"cancelled": call_id}


def set_min_containers(app: str, env, minimum: int) -> dict:
    """Overrides the Server's min_containers until the next deploy (the keep-warm and pre-warm lever)."""
    if minimum < 0:
        raise ValueError(f"--min {minimum}: must be 0 or more")
    _server(app, env).update_autoscaler(min_containers=minimum)
    return {"app": app, "minContainers": minimum}


def endpoint(app: str, env) -> dict:
    """The Server's stable web URL."""
    url = getattr(_server(app, env), WEB_METHOD).get_web_url()
    if not url:
        raise LookupError(f"app {app} has no web URL for {SERVER_CLASS}.{WEB_METHOD}: is it deployed?")
    return {"url": url}


def _kwargs(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise ValueError(f"--kwargs is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise ValueError("--kwargs must be a JSON object of keyword arguments")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="control.py")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("set-min-containers", "endpoint", "spawn"):
        command = sub.add_parser(name)
        command.add_argument("--app", required=True)
        command.add_argument("--env", default=None)
        if name == "set-min-containers":
            command.add_argument("--min", type=int, required=True, dest="minimum")
        if name == "spawn":
            command.add_argument("--function", required=True)
            command.add_argument("--kwargs", default="{}")
    status = sub.add_parser("call-status")
    status.add_argument("--id", required=True, dest="call_id")
    status.add_argument("--wait", type=float, default=0.0)
    stop = sub.add_parser("cancel")
    stop.add_argument("--id", required=True, dest="call_id")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "set-min-containers":
            result = set_min_containers(args.app, args.env, args.minimum)
        elif args.command == "endpoint":
            result = endpoint(args.app, args.env)
        elif args.command == "spawn":
            result = spawn(args.app, args.env, args.function, _kwargs(args.kwargs))
        elif args.command == "call-status":
            result = call_status(args.call_id, args.wait)
        else:
            result = cancel(args.call_id)
    except Exception as err:  # one line for the adapter to classify; the type name carries NotFound/Auth
        message = " ".join(str(err).split()) or "(no message)"
        print(f"Error: {type(err).__name__}: {message}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
