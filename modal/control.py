"""Small control-plane helper the glm-ops adapter runs with the project venv's Python (no `modal` CLI command exists
for these): set a deployed Server's min_containers with update_autoscaler, and find its web URL.

  python modal/control.py set-min-containers --app APP [--env ENV] --min N
  python modal/control.py endpoint --app APP [--env ENV]

Prints one JSON object on stdout. Credentials come from the environment or the Modal profile, as for the CLI.
"""

import argparse
import json
import sys

SERVER_CLASS = "Server"
WEB_METHOD = "serve"


def _server(app: str, env):
    import modal

    return modal.Cls.from_name(app, SERVER_CLASS, environment_name=env)()


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="control.py")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("set-min-containers", "endpoint"):
        command = sub.add_parser(name)
        command.add_argument("--app", required=True)
        command.add_argument("--env", default=None)
        if name == "set-min-containers":
            command.add_argument("--min", type=int, required=True, dest="minimum")
    args = parser.parse_args(argv)
    try:
        if args.command == "set-min-containers":
            result = set_min_containers(args.app, args.env, args.minimum)
        else:
            result = endpoint(args.app, args.env)
    except Exception as err:  # one line for the adapter to classify; the type name carries NotFound/Auth
        print(f"Error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
