"""Function calls through the real SDK against the stand-in, and modal/control.py's own SDK calls.

Nothing runs the function bodies: each test plans the outcome (POST /functions/<name>/plan), and the real client
spawns, polls, re-attaches from another process, cancels and deserialises exactly as it would against Modal.
"""

import json

import pytest

from conftest import CONTROL_PY, API_KEY_SECRET, modal_deploy, text

OPS_APP = "glm-standin-ops"
SERVE_APP = "glm-standin-serve"
WEIGHTS = "glm51-model-weights"

SPAWN = """
import json, sys, modal
fn = modal.Function.from_name(sys.argv[1], sys.argv[2], environment_name="main")
call = fn.spawn(**json.loads(sys.argv[3]))
print(json.dumps({"id": call.object_id}))
"""

# Polls a call by id the way a re-attaching worker does; prints what happened as one JSON line.
GET = """
import json, sys, modal
from modal.exception import OutputExpiredError
call = modal.FunctionCall.from_id(sys.argv[1])
try:
    result = call.get(timeout=float(sys.argv[2]))
    outcome = {"state": "done", "result": result}
except OutputExpiredError:
    outcome = {"state": "expired"}
except TimeoutError:
    outcome = {"state": "running"}
except Exception as err:
    outcome = {"state": "raised", "type": type(err).__name__, "module": type(err).__module__, "message": str(err)}
print(json.dumps(outcome))
"""

CANCEL = """
import sys, modal
modal.FunctionCall.from_id(sys.argv[1]).cancel()
"""

REMOTE = """
import json, sys, modal
fn = modal.Function.from_name(sys.argv[1], sys.argv[2], environment_name="main")
try:
    print(json.dumps({"result": fn.remote(*json.loads(sys.argv[3]))}))
except Exception as err:
    print(json.dumps({"type": type(err).__name__, "message": str(err)}))
"""


@pytest.fixture
def ops(standin_server):
    """The ops app, deployed once and shared by the call tests (redeployed if a test reset the stand-in); each test
    plans its own outcomes, starts with an empty weights volume and looks only at the calls it made."""
    standin = standin_server
    deployed = [a for a in standin.state()["apps"] if a["name"] == OPS_APP and a["state"] == "deployed"]
    if not deployed:
        standin.reset()
        result = modal_deploy(standin, OPS_APP, role="ops")
        assert result.returncode == 0, text(result)
    for name in ("download_model", "compile_deepgemm", "verify_setup", "commit_volume"):
        standin.control("DELETE", f"/functions/{name}/plan")
    (weights,) = [v for v in standin.state()["volumes"] if v["name"] == WEIGHTS]
    for path in {f["path"].split("/")[0] for f in weights["files"]}:
        standin.control("DELETE", f"/volumes/{WEIGHTS}/files?path={path}")
    standin.seen_calls = {call["id"] for call in standin.calls()}
    return standin


def _new_calls(standin):
    """The calls made since the test started (the ops app and the stand-in are shared by this module)."""
    return [call for call in standin.calls() if call["id"] not in standin.seen_calls]


def _run(standin, script, *args):
    completed = standin.python("-c", script, *[str(a) for a in args])
    assert completed.returncode == 0, text(completed)
    return json.loads(completed.stdout.decode().strip().splitlines()[-1])


def _spawn(standin, function, **kwargs):
    return _run(standin, SPAWN, OPS_APP, function, json.dumps(kwargs))["id"]


def test_the_ops_role_deploys_the_four_storage_functions_and_no_server(ops):
    (app,) = [a for a in ops.state()["apps"] if a["name"] == OPS_APP]
    names = sorted(f["name"] for f in app["versions"][-1]["functions"])
    assert names == ["commit_volume", "compile_deepgemm", "download_model", "verify_setup"]


def test_a_spawned_call_finishes_on_the_stand_ins_clock_and_a_new_process_reattaches(ops):
    sentinel = {"schemaVersion": 1, "repo": "zai-org/GLM-5.1-FP8"}
    ops.control(
        "POST",
        "/functions/download_model/plan",
        {
            "durationMs": 1500,
            "result": json.dumps({"skipped": False}),
            "writes": [
                {"volume": WEIGHTS, "path": "GLM-5.1-FP8/model-00001.safetensors", "contentBase64": "AAEC"},
                {"volume": WEIGHTS, "path": "GLM-5.1-FP8/.glm-ops-download-complete.json", "json": sentinel},
            ],
        },
    )
    call_id = _spawn(ops, "download_model", force=False)  # this process exits right away
    outcome = _run(ops, GET, call_id, 60)  # another process re-attaches by id and waits
    assert outcome == {"state": "done", "result": json.dumps({"skipped": False})}
    got = ops.modal("volume", "get", WEIGHTS, "GLM-5.1-FP8/.glm-ops-download-complete.json", "-")
    assert json.loads(got.stdout.decode().split("✓")[0]) == sentinel
    (call,) = _new_calls(ops)
    assert (call["id"], call["function"], call["app"]) == (call_id, "download_model", OPS_APP)
    assert (call["kwargs"], call["invocation"], call["state"]) == ({"force": False}, "spawn", "succeeded")


def test_get_with_timeout_zero_is_a_timeout_while_running_and_cancel_ends_the_call_without_writes(ops):
    ops.control(
        "POST",
        "/functions/compile_deepgemm/plan",
        {"durationMs": 3_600_000, "result": "{}", "writes": [{"volume": WEIGHTS, "path": "marker", "text": "x"}]},
    )
    call_id = _spawn(ops, "compile_deepgemm", rollout_id="r1")
    assert _run(ops, GET, call_id, 0) == {"state": "running"}
    cancelled = ops.python("-c", CANCEL, call_id)
    assert cancelled.returncode == 0, text(cancelled)
    outcome = _run(ops, GET, call_id, 5)
    assert outcome["state"] == "raised" and outcome["type"] == "RemoteError"
    assert "cancelled" in outcome["message"]
    assert [c["state"] for c in _new_calls(ops)] == ["cancelled"]
    (weights,) = [v for v in ops.state()["volumes"] if v["name"] == WEIGHTS]
    assert weights["files"] == []


def test_a_planned_failure_is_re_raised_by_the_client_with_its_type_and_message(ops):
    message = "[compile] sglang.compile_deep_gemm exited with code 1; see the lines above"
    ops.control("POST", "/functions/compile_deepgemm/plan", {"error": {"type": "RuntimeError", "message": message}})
    assert _run(ops, REMOTE, OPS_APP, "compile_deepgemm", "[]") == {"type": "RuntimeError", "message": message}
    call_id = _spawn(ops, "compile_deepgemm")
    outcome = _run(ops, GET, call_id, 30)
    assert (outcome["state"], outcome["type"], outcome["message"]) == ("raised", "RuntimeError", message)
    assert [c["state"] for c in _new_calls(ops)] == ["failed", "failed"]


def test_an_unplanned_call_fails_naming_the_control_call_that_plans_it(ops):
    outcome = _run(ops, REMOTE, OPS_APP, "verify_setup", "[]")
    assert outcome["type"] == "RuntimeError"
    assert "no outcome planned for verify_setup: POST /functions/verify_setup/plan" in outcome["message"]


def test_plans_are_used_in_order_and_the_last_one_stays(ops):
    ops.control("POST", "/functions/commit_volume/plan", {"result": "first"})
    ops.control("POST", "/functions/commit_volume/plan", {"result": "later"})
    results = [_run(ops, REMOTE, OPS_APP, "commit_volume", '["weights"]')["result"] for _ in range(3)]
    assert results == ["first", "later", "later"]
    ops.control("PUT", "/functions/commit_volume/plan", {"result": {"committed": "kernels"}})
    assert _run(ops, REMOTE, OPS_APP, "commit_volume", '["kernels"]')["result"] == {"committed": "kernels"}
    assert [c["args"] for c in _new_calls(ops)] == [["weights"]] * 3 + [["kernels"]]


def test_an_expired_output_is_what_the_client_reports_as_expired(ops):
    ops.control("POST", "/functions/verify_setup/plan", {"result": "{}"})
    call_id = _spawn(ops, "verify_setup", full=True)
    assert _run(ops, GET, call_id, 30)["state"] == "done"
    ops.control("POST", f"/calls/{call_id}/expire")
    assert _run(ops, GET, call_id, 0) == {"state": "expired"}


def test_stopping_the_app_terminates_its_running_calls(standin):
    deployed = modal_deploy(standin, OPS_APP, role="ops")
    assert deployed.returncode == 0, text(deployed)
    standin.control("POST", "/functions/download_model/plan", {"durationMs": 3_600_000, "result": "{}"})
    call_id = _spawn(standin, "download_model")
    assert standin.modal("app", "stop", OPS_APP, "--yes").returncode == 0
    assert _run(standin, GET, call_id, 5)["type"] == "RemoteError"
    assert [c["state"] for c in standin.calls()] == ["cancelled"]


@pytest.fixture
def served(standin):
    standin.control("POST", "/secrets", {"name": API_KEY_SECRET, "keys": {"API_KEY": "sk-test"}})
    deployed = modal_deploy(standin, SERVE_APP, tag="rollout-1")
    assert deployed.returncode == 0, text(deployed)
    return standin


def _control_py(standin, *args):
    return standin.python(str(CONTROL_PY), *args)


def _live_server(standin):
    (app,) = [a for a in standin.state()["apps"] if a["name"] == SERVE_APP]
    return next(f for f in app["live"] if f["name"] == "Server.*")


def test_control_py_endpoint_reports_the_servers_web_url(served):
    default = _control_py(served, "endpoint", "--app", SERVE_APP, "--env", "main")
    assert default.returncode == 0, text(default)
    assert json.loads(default.stdout)["url"].endswith(f"/web/{SERVE_APP}/server-serve")
    served.control("POST", f"/apps/{SERVE_APP}/web-url", {"url": "http://127.0.0.1:18000/"})
    pointed = _control_py(served, "endpoint", "--app", SERVE_APP, "--env", "main")
    assert json.loads(pointed.stdout) == {"url": "http://127.0.0.1:18000"}


def test_control_py_set_min_containers_reaches_the_control_plane_as_update_autoscaler(served):
    done = _control_py(served, "set-min-containers", "--app", SERVE_APP, "--env", "main", "--min", "2")
    assert done.returncode == 0, text(done)
    assert json.loads(done.stdout) == {"app": SERVE_APP, "minContainers": 2}
    (update,) = served.state()["autoscalerUpdates"]
    assert (update["app"], update["function"], update["settings"]) == (SERVE_APP, "Server.*", {"min_containers": 2})
    assert _live_server(served)["autoscalerOverride"] == {"min_containers": 2}
    # a no-op redeploy keeps the override; a deploy of a new version resets it, as the client's docs say
    assert "Deployment skipped" in modal_deploy(served, SERVE_APP, tag="rollout-2").stdout.decode()
    assert _live_server(served)["autoscalerOverride"] == {"min_containers": 2}
    served.control("POST", "/behaviour", {"noopDeploy": False})
    assert "App deployed in" in modal_deploy(served, SERVE_APP, tag="rollout-3").stdout.decode()
    assert _live_server(served)["autoscalerOverride"] == {}
    assert len(served.state()["autoscalerUpdates"]) == 1  # the log of calls keeps it


def test_control_py_on_an_app_that_is_not_deployed_exits_1_with_one_error_line(standin):
    missing = _control_py(standin, "endpoint", "--app", "no-such-app", "--env", "main")
    assert missing.returncode == 1
    (line,) = missing.stderr.decode().strip().splitlines()
    assert line.startswith("Error: NotFoundError:") and "no-such-app" in line


def test_a_second_call_of_a_one_container_function_waits_queued_until_the_first_ends(ops):
    # deploy.py gives download_model max_containers=1: on Modal a second call queues behind the first
    ops.control("PUT", "/functions/download_model/plan", {"durationMs": 3_600_000, "result": "{}"})
    first, second = _spawn(ops, "download_model"), _spawn(ops, "download_model")
    states = {call["id"]: call["state"] for call in _new_calls(ops)}
    assert (states[first], states[second]) == ("running", "queued")
    assert _run(ops, GET, second, 0) == {"state": "running"}  # the client cannot tell queued from running
    assert ops.python("-c", CANCEL, first).returncode == 0
    states = {call["id"]: call for call in _new_calls(ops)}
    assert (states[first]["state"], states[second]["state"]) == ("cancelled", "running")
    assert states[second]["startedAt"] >= states[first]["completedAt"]
    assert ops.python("-c", CANCEL, second).returncode == 0
