"""modal/control.py's call commands (spawn, call-status, cancel) through the real SDK against the stand-in.

These are the three operations the adapter builds its long steps on: a spawned call outlives the process that
spawned it, and any later process asks for it by id. Each test plans the call's outcome at the control plane.
"""

import json

import pytest

from conftest import CONTROL_PY, modal_deploy, text

OPS_APP = "glm-control-ops"


@pytest.fixture
def ops(standin):
    """A fresh stand-in with the ops role of deploy.py deployed (the default rendered config)."""
    deployed = modal_deploy(standin, OPS_APP, role="ops")
    assert deployed.returncode == 0, text(deployed)
    return standin


def control(standin, *args):
    """Runs control.py; returns (exit code, the JSON it printed or None, stderr)."""
    done = standin.python(str(CONTROL_PY), *args)
    stdout = done.stdout.decode().strip()
    return done.returncode, (json.loads(stdout.splitlines()[-1]) if stdout else None), done.stderr.decode()


def spawn(standin, function="download_model", kwargs="{}"):
    code, printed, stderr = control(standin, "spawn", "--app", OPS_APP, "--env", "main", "--function", function,
                                    "--kwargs", kwargs)
    assert code == 0, stderr
    return printed["callId"]


def test_spawn_returns_at_once_and_call_status_follows_the_call_to_its_result(ops):
    ops.control("PUT", "/functions/download_model/plan", {"durationMs": 3000, "result": json.dumps({"skipped": True})})
    call_id = spawn(ops)
    assert call_id.startswith("fc-")
    assert control(ops, "call-status", "--id", call_id, "--wait", "0")[1] == {"state": "running"}
    code, status, _ = control(ops, "call-status", "--id", call_id, "--wait", "10")
    assert (code, status) == (0, {"state": "done", "result": json.dumps({"skipped": True})})
    # Asked again (another worker re-attaching), the result is still there.
    assert control(ops, "call-status", "--id", call_id, "--wait", "0")[1]["state"] == "done"
    [call] = [c for c in ops.calls() if c["id"] == call_id]
    assert (call["function"], call["invocation"], call["kwargs"]) == ("download_model", "spawn", {})


def test_a_remote_exception_is_a_failed_state_with_its_type_and_message(ops):
    ops.control("PUT", "/functions/compile_deepgemm/plan",
                {"durationMs": 100, "error": {"type": "RuntimeError", "message": "[compile] exited with code 1"}})
    call_id = spawn(ops, "compile_deepgemm", json.dumps({"rollout_id": "r1"}))
    code, status, _ = control(ops, "call-status", "--id", call_id, "--wait", "10")
    assert code == 0
    assert status == {"state": "failed", "error": {"type": "RuntimeError", "message": "[compile] exited with code 1"}}


def test_a_function_that_ran_out_of_time_is_failed_not_running(ops):
    # FunctionTimeoutError is a modal TimeoutError: it must not be mistaken for "no result yet".
    ops.control("PUT", "/functions/download_model/plan",
                {"durationMs": 100, "error": {"type": "FunctionTimeoutError", "message": "Function timed out"}})
    call_id = spawn(ops)
    status = control(ops, "call-status", "--id", call_id, "--wait", "10")[1]
    assert status["state"] == "failed" and status["error"]["type"] == "FunctionTimeoutError"


def test_an_expired_result_is_reported_as_expired(ops):
    ops.control("PUT", "/functions/commit_volume/plan", {"durationMs": 50, "result": "{}"})
    call_id = spawn(ops, "commit_volume", json.dumps({"kind": "weights"}))
    assert control(ops, "call-status", "--id", call_id, "--wait", "10")[1]["state"] == "done"
    ops.control("POST", f"/calls/{call_id}/expire")
    assert control(ops, "call-status", "--id", call_id, "--wait", "0")[1] == {"state": "expired"}


def test_cancel_ends_the_call_on_the_control_plane_and_its_status_says_failed(ops):
    ops.control("PUT", "/functions/compile_deepgemm/plan", {"durationMs": 60000, "result": "{}"})
    call_id = spawn(ops, "compile_deepgemm")
    code, printed, _ = control(ops, "cancel", "--id", call_id)
    assert (code, printed) == (0, {"cancelled": call_id})
    [call] = [c for c in ops.calls() if c["id"] == call_id]
    assert call["state"] == "cancelled"
    assert control(ops, "call-status", "--id", call_id, "--wait", "5")[1]["state"] == "failed"


def test_the_helpers_own_failures_exit_1_with_one_error_line_naming_the_type(ops):
    code, printed, stderr = control(ops, "call-status", "--id", "fc-000000000000000000000000", "--wait", "0")
    assert (code, printed) == (1, None)
    assert stderr.strip().splitlines()[-1].startswith("Error: NotFoundError: ")
    code, _, stderr = control(ops, "spawn", "--app", "no-such-app", "--env", "main", "--function", "download_model")
    assert code == 1 and "Error: NotFoundError: " in stderr
    code, _, stderr = control(ops, "spawn", "--app", OPS_APP, "--function", "download_model", "--kwargs", "[1]")
    assert code == 1 and stderr.strip() == "Error: ValueError: --kwargs must be a JSON object of keyword arguments"
    code, _, stderr = control(ops, "call-status", "--id", "fc-x", "--wait", "600")
    assert code == 1 and "Error: ValueError: --wait 600.0: must be 0..60 seconds" in stderr
