"""Starts the stand-in control plane: gRPC for the `modal` client, HTTP for blobs and the control API.

  .venv/bin/python modal/tests/modal_standin/server.py [--port 0] [--control-port 0] [--state-dir DIR]

Prints exactly one JSON line on stdout when both servers listen:
  {"serverUrl": "http://127.0.0.1:PORT", "controlUrl": "http://127.0.0.1:PORT2",
   "tokenId": "ak-...", "tokenSecret": "as-..."}   (on one line)
then serves until SIGTERM or SIGINT. Logs (every UNIMPLEMENTED RPC by name, every call) go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys
from pathlib import Path

# Run as a script: make the package importable without putting the project's `modal/` folder on the path
# (it would shadow the installed `modal` client).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from grpclib.server import Server  # noqa: E402

from modal_standin.blob_http import add_blob_routes  # noqa: E402
from modal_standin.calls import CallEngine  # noqa: E402
from modal_standin.control_api import add_control_routes  # noqa: E402
from modal_standin.ids import new_token_pair  # noqa: E402
from modal_standin.rpc_apps import AppRpcs  # noqa: E402
from modal_standin.rpc_base import ServicerBase, complete_servicer, log  # noqa: E402
from modal_standin.rpc_functions import FunctionRpcs  # noqa: E402
from modal_standin.rpc_objects import ObjectRpcs  # noqa: E402
from modal_standin.rpc_volumes import VolumeRpcs  # noqa: E402
from modal_standin.store import Store  # noqa: E402
from modal_proto import api_grpc  # noqa: E402

HOST = "127.0.0.1"
TOKENS_FILE = "standin-tokens.json"


@complete_servicer
class StandinServicer(ServicerBase, AppRpcs, FunctionRpcs, VolumeRpcs, ObjectRpcs, api_grpc.ModalClientBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = CallEngine(self)


def _tokens(state_dir) -> tuple:
    """The issued token pair; a state folder keeps it across restarts so clients' credentials stay valid."""
    if state_dir is not None and (state_dir / TOKENS_FILE).exists():
        saved = json.loads((state_dir / TOKENS_FILE).read_text())
        return saved["tokenId"], saved["tokenSecret"]
    token_id, token_secret = new_token_pair()
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / TOKENS_FILE).write_text(json.dumps({"tokenId": token_id, "tokenSecret": token_secret}))
    return token_id, token_secret


async def serve(port: int, control_port: int, state_dir) -> None:
    store = Store(state_dir)
    restored = store.load()
    token_id, token_secret = _tokens(state_dir)

    servicer = StandinServicer(store, token_id, token_secret)
    web_app = web.Application(client_max_size=1024**3)
    add_blob_routes(web_app, store)
    add_control_routes(web_app, servicer)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, control_port)
    await site.start()
    http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    control_url = f"http://{HOST}:{http_port}"
    # Blob and block URLs the client is handed point at this HTTP server.
    servicer.set_urls(blob_url=control_url, web_url=control_url)
    if restored:
        servicer.calls.resume_after_restart()

    grpc_server = Server([servicer])
    await grpc_server.start(HOST, port)
    grpc_port = grpc_server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    ready = {
        "serverUrl": f"http://{HOST}:{grpc_port}",
        "controlUrl": control_url,
        "tokenId": token_id,
        "tokenSecret": token_secret,
    }
    print(json.dumps(ready), flush=True)
    # The client's serialisation code is needed at the first function call; import it now, off the event loop.
    warm_up = loop.run_in_executor(None, importlib.import_module, "modal._serialization")
    log(f"listening: gRPC {ready['serverUrl']}, control {control_url}" + (" (state restored)" if restored else ""))

    await stop.wait()
    await warm_up
    grpc_server.close()
    await grpc_server.wait_closed()
    await runner.cleanup()
    store.save()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="modal_standin/server.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="gRPC port (0: a free one)")
    parser.add_argument("--control-port", type=int, default=0, help="HTTP port for blobs and the control API")
    parser.add_argument("--state-dir", type=Path, default=None, help="keep the state here across restarts")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.control_port, args.state_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
