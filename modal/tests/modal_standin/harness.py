"""Starts the stand-in as a child process and talks to it: the pytest fixtures' side of the README's contract.

    with StandinProcess.start(tmp_dir) as standin:
        standin.modal("app", "list", "--json")          # the real CLI, against the stand-in
        standin.control("POST", "/secrets", {"name": "glm-api-key", "keys": {"API_KEY": "x"}})
        standin.state()["apps"]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

SERVER_SCRIPT = Path(__file__).resolve().parent / "server.py"
READY_TIMEOUT_S = 30


def venv_bin(name: str) -> str:
    """An executable beside the running interpreter (.venv/bin/modal, .venv/bin/python)."""
    return str(Path(sys.executable).with_name(name))


class StandinError(RuntimeError):
    pass


class StandinProcess:
    def __init__(self, process: subprocess.Popen, ready: dict, config_path: Path):
        self.process = process
        self.server_url = ready["serverUrl"]
        self.control_url = ready["controlUrl"]
        self.token_id = ready["tokenId"]
        self.token_secret = ready["tokenSecret"]
        self.config_path = config_path

    @classmethod
    def start(cls, work_dir: Path, state_dir: Optional[Path] = None, port: int = 0) -> "StandinProcess":
        work_dir.mkdir(parents=True, exist_ok=True)
        config_path = work_dir / "empty-modal.toml"
        config_path.write_text("")
        argv = [sys.executable, str(SERVER_SCRIPT), "--port", str(port)]
        if state_dir is not None:
            argv += ["--state-dir", str(state_dir)]
        stderr = open(work_dir / "standin.stderr.log", "ab")
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=_clean_env(os.environ))
        stderr.close()
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=READY_TIMEOUT_S)
            log = (work_dir / "standin.stderr.log").read_text()
            raise StandinError(f"the stand-in exited ({process.returncode}) before it was ready:\n{log}")
        return cls(process, json.loads(line), config_path)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> "StandinProcess":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- the real client, pointed at the stand-in ----------------------------------------------------------------

    def client_env(self, extra: Optional[dict] = None, **overrides) -> dict:
        """The environment the real `modal` CLI/SDK needs to use the stand-in (and nothing from ~/.modal.toml)."""
        env = _clean_env(os.environ)
        env.update(
            MODAL_SERVER_URL=self.server_url,
            MODAL_TOKEN_ID=self.token_id,
            MODAL_TOKEN_SECRET=self.token_secret,
            MODAL_CONFIG_PATH=str(self.config_path),
        )
        env.update(extra or {})
        env.update(overrides)
        return env

    def modal(
        self, *args: str, env: Optional[dict] = None, cwd=None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """Runs the real `modal` executable of the venv against the stand-in; returns its exit code and output."""
        return subprocess.run(
            [venv_bin("modal"), *args],
            env=self.client_env(env),
            cwd=cwd,
            capture_output=True,
            timeout=timeout,
        )

    def python(
        self, *args: str, env: Optional[dict] = None, cwd=None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """Runs the venv's Python (the real SDK) against the stand-in."""
        return subprocess.run(
            [venv_bin("python"), *args], env=self.client_env(env), cwd=cwd, capture_output=True, timeout=timeout
        )

    # -- the control API -----------------------------------------------------------------------------------------

    def control(self, method: str, path: str, body=None, raw: Optional[bytes] = None):
        """Calls the control API; returns the decoded JSON (or bytes for file reads). Raises on a 4xx/5xx."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.control_url + path, data=data, method=method)
        if raw is None and body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
                if response.headers.get_content_type() == "application/json":
                    return json.loads(payload)
                return payload
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            try:
                detail = json.loads(detail)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise StandinError(f"{method} {path}: HTTP {err.code}: {detail}") from None

    def state(self) -> dict:
        return self.control("GET", "/state")

    def calls(self) -> list:
        return self.control("GET", "/calls")

    def reset(self) -> None:
        self.control("POST", "/reset")


def _clean_env(environ) -> dict:
    """The caller's environment without Modal settings or colour switches that would change what the client does."""
    dropped = ("FORCE_COLOR", "NO_COLOR", "GLM_OPS_DEPLOY_CONFIG", "GLM_OPS_DEPLOY_ROLE")
    return {k: v for k, v in environ.items() if not k.startswith("MODAL_") and k not in dropped}
