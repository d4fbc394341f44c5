"""Crash monitor, log streaming, health wait, warmup and graceful shutdown against real child processes."""

import http.server
import io
import json
import subprocess
import sys
import threading
import time

import pytest


def _child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_the_crash_monitor_calls_its_exit_hook_when_the_child_dies(deploy_module):
    child = _child("import os, time, signal; time.sleep(0.3); os.kill(os.getpid(), signal.SIGKILL)")
    exited, lines = threading.Event(), []
    codes = []
    monitor = deploy_module.CrashMonitor(child, exit_hook=lambda code: (codes.append(code), exited.set()),
                                         log=lambda line, **_: lines.append(line)).start()
    assert exited.wait(10)
    assert codes == [1]
    assert lines == ["[monitor] FATAL: SGLang died (code -9)"]
    monitor.thread.join(1)


def test_a_deliberate_shutdown_is_not_reported_as_a_crash(deploy_module):
    child = _child("import time; time.sleep(30)")
    codes = []
    monitor = deploy_module.CrashMonitor(child, exit_hook=codes.append, log=lambda *a, **k: None).start()
    monitor.stop()
    assert deploy_module.terminate_gracefully(child, grace_s=5) == -15
    monitor.thread.join(5)
    assert codes == []


def test_graceful_shutdown_escalates_to_sigkill_after_the_grace_period(deploy_module):
    child = _child("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)")
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    assert deploy_module.terminate_gracefully(child, grace_s=0.5) == -9
    assert time.monotonic() - started < 5


def test_child_output_is_streamed_line_by_line(deploy_module):
    child = _child("import sys; print('out-1'); print('err-1', file=sys.stderr); print('out-2')")
    out, err = io.StringIO(), io.StringIO()
    threads = [deploy_module.stream_lines(child.stdout, out), deploy_module.stream_lines(child.stderr, err)]
    child.wait(10)
    for thread in threads:
        thread.join(5)
    assert out.getvalue() == "out-1\nout-2\n" and err.getvalue() == "err-1\n"


class _Engine(http.server.BaseHTTPRequestHandler):
    healthy_after = 3
    calls = {"health": 0, "chat": []}

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).calls["health"] += 1
        self.send_response(200 if type(self).calls["health"] >= type(self).healthy_after else 503)
        self.end_headers()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls["chat"].append((self.headers.get("Authorization"), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def engine_url():
    _Engine.calls = {"health": 0, "chat": []}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_health_wait_counts_attempts_then_warmup_sends_four_diverse_requests(deploy_module, engine_url):
    child = _child("import time; time.sleep(30)")
    try:
        lines = []
        attempt = deploy_module.wait_for_health(engine_url, child, 10, 0.05, log=lambda l, **_: lines.append(l))
        assert attempt == 3 and lines == ["[health] passed on attempt 3"]
        config = deploy_module.CONFIG
        deploy_module.run_warmup(engine_url, config, "sk-test", 10, log=lambda *a, **k: None)
        sent = _Engine.calls["chat"]
        assert len(sent) == 4 and {auth for auth, _ in sent} == {"Bearer sk-test"}
        # The bodies glm-ops rendered, in order, each naming the served model.
        model = config["model"]["servedName"]
        assert [body for _, body in sent] == [{**r["body"], "model": model} for r in config["warmup"]["requests"]]
        assert sent[1][1]["chat_template_kwargs"] == {"enable_thinking": False}
        assert "tools" in sent[3][1]
    finally:
        child.kill()
        child.wait()


def test_health_wait_fails_fast_when_the_engine_exits(deploy_module):
    child = _child("import sys; sys.exit(3)")
    child.wait(10)
    with pytest.raises(deploy_module.EngineStartupError, match="code 3"):
        deploy_module.wait_for_health("http://127.0.0.1:9", child, 60, 0.05)


def test_health_wait_times_out_naming_the_spec_field(deploy_module):
    child = _child("import time; time.sleep(30)")
    try:
        with pytest.raises(deploy_module.EngineStartupError, match="health.startupTimeout"):
            deploy_module.wait_for_health("http://127.0.0.1:9", child, 0.3, 0.05)
    finally:
        child.kill()
        child.wait()
