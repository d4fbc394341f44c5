"""The stand-in itself: ready line, token check, loud UNIMPLEMENTED, restart with a state folder, control API, faults.

Every `modal` here is the real pinned CLI; what it prints is Modal's own client code answering the stand-in.
"""

import json
import re

import pytest

from conftest import modal_deploy, text
from modal_standin.harness import StandinError, StandinProcess


def test_the_ready_line_names_both_urls_and_the_issued_token_pair(standin):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", standin.server_url)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", standin.control_url)
    assert standin.server_url != standin.control_url
    assert re.fullmatch(r"ak-[A-Za-z0-9]{22}", standin.token_id)
    assert re.fullmatch(r"as-[A-Za-z0-9]{22}", standin.token_secret)
    assert standin.state()["environments"] == ["main"]


def test_the_client_with_the_issued_token_lists_apps(standin):
    listed = standin.modal("app", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("which", ["MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"])
def test_a_token_it_did_not_issue_is_rejected_with_unauthenticated(standin, which):
    wrong = {which: ("ak-" if which.endswith("ID") else "as-") + "x" * 22}
    listed = standin.modal("app", "list", "--json", env=wrong)
    assert listed.returncode == 1
    assert listed.stdout == b""
    # UNAUTHENTICATED is what the client maps to AuthError; the CLI prints the server's message after "Error:".
    assert "Invalid token" in listed.stderr.decode()
    assert standin.state()["rpcCounts"]["AppList"] == 1  # it reached the server and was refused there


def test_an_rpc_it_does_not_implement_fails_loudly_and_is_logged_by_name(standin):
    listed = standin.modal("dict", "list", "--json")
    assert listed.returncode == 1
    assert "RPC DictList is not implemented" in listed.stderr.decode()
    assert standin.state()["unimplementedRpcs"] == ["DictList"]
    assert "UNIMPLEMENTED RPC DictList" in standin.log_path.read_text()


def test_a_restart_with_the_same_state_dir_keeps_tokens_apps_volumes_and_files(tmp_path):
    state_dir = tmp_path / "state"
    with StandinProcess.start(tmp_path / "first", state_dir=state_dir) as first:
        first.control("POST", "/volumes", {"name": "weights"})
        first.control("PUT", "/volumes/weights/files?path=dir/a.txt", raw=b"kept across restarts")
        first.control("POST", "/secrets", {"name": "glm-api-key", "keys": {"API_KEY": "k"}})
        assert modal_deploy(first, "kept-app", tag="before-restart").returncode == 0
        token = (first.token_id, first.token_secret)
    with StandinProcess.start(tmp_path / "second", state_dir=state_dir) as second:
        assert (second.token_id, second.token_secret) == token
        got = second.modal("volume", "get", "weights", "dir/a.txt", "-")
        assert got.returncode == 0, got.stderr
        assert got.stdout.startswith(b"kept across restarts")
        assert [s["name"] for s in second.state()["secrets"]] == ["glm-api-key"]
        history = second.modal("app", "history", "kept-app", "--json")
        assert [row["tag"] for row in json.loads(history.stdout)] == ["before-restart"], text(history)
        again = modal_deploy(second, "kept-app", tag="after-restart")
        assert "Deployment skipped: no changes detected" in again.stdout.decode(), text(again)


def test_control_api_errors_name_the_field_and_the_reason(standin):
    with pytest.raises(StandinError, match=r"HTTP 400.*durationMs must be a number >= 0"):
        standin.control("POST", "/functions/download_model/plan", {"durationMs": -1})
    with pytest.raises(StandinError, match=r"plan\.error\.type 'NoSuchError'"):
        standin.control("POST", "/functions/download_model/plan", {"error": {"type": "NoSuchError"}})
    with pytest.raises(StandinError, match=r"writes\[0\] needs exactly one of"):
        standin.control("POST", "/functions/f/plan", {"writes": [{"volume": "v", "path": "p"}]})
    with pytest.raises(StandinError, match=r"forceColor is client-side: set FORCE_COLOR=1"):
        standin.control("POST", "/behaviour", {"forceColor": True})
    with pytest.raises(StandinError, match=r"unknown behaviour 'noop'"):
        standin.control("POST", "/behaviour", {"noop": True})
    with pytest.raises(StandinError, match=r"HTTP 404.*volume 'absent' does not exist"):
        standin.control("PUT", "/volumes/absent/files?path=a", raw=b"x")
    with pytest.raises(StandinError, match=r"app 'never' was never deployed"):
        standin.control("POST", "/apps/never/logs", {"lines": ["x"]})


def test_reset_forgets_everything(standin):
    standin.control("POST", "/volumes", {"name": "v"})
    standin.control("POST", "/secrets", {"name": "s", "keys": {}})
    standin.control("POST", "/behaviour", {"noopDeploy": True})
    standin.control("POST", "/functions/f/plan", {"result": 1})
    standin.reset()
    state = standin.state()
    assert (state["volumes"], state["secrets"], state["behaviour"], state["apps"]) == ([], [], {}, [])


def test_an_injected_failure_after_some_output_leaves_that_output_on_stdout_and_the_error_on_stderr(standin):
    standin.control("POST", "/volumes", {"name": "v"})
    standin.control("PUT", "/volumes/v/files?path=d/a.log", raw=b"GET /v1/models: 404 not found\n")
    standin.control("PUT", "/volumes/v/files?path=d/b.log", raw=b"second\n")
    rule = {"name": "VolumeGetFile2", "status": "PERMISSION_DENIED", "message": "quota exceeded", "afterCalls": 1}
    standin.control("POST", "/behaviour", {"failRpc": rule})
    got = standin.modal("volume", "get", "v", "d", "-")
    assert got.returncode == 1
    assert got.stdout == b"GET /v1/models: 404 not found\n"  # the first file got out before the failure
    assert got.stderr.decode().strip() == "Error: quota exceeded"
    assert standin.state()["behaviour"] == {}  # used up


def test_the_client_retries_a_retryable_injected_failure_and_surfaces_it_only_when_it_persists(standin):
    standin.control("POST", "/behaviour", {"failRpc": {"name": "AppList", "status": "INTERNAL", "message": "boom"}})
    once = standin.modal("app", "list", "--json")
    assert once.returncode == 0 and json.loads(once.stdout) == []
    assert standin.state()["rpcCounts"]["AppList"] == 2
    standin.control(
        "POST", "/behaviour", {"failRpc": {"name": "AppList", "status": "INTERNAL", "message": "boom", "times": -1}}
    )
    persistent = standin.modal("app", "list", "--json")
    assert persistent.returncode == 1 and persistent.stderr.decode().strip() == "Error: boom"
    standin.control("POST", "/behaviour", {"failRpc": None})
    assert standin.modal("app", "list", "--json").returncode == 0


def test_a_malformed_fault_rule_is_refused_naming_the_field(standin):
    with pytest.raises(StandinError, match=r"failRpc.name 'AppPublishX' is not an RPC"):
        standin.control("POST", "/behaviour", {"failRpc": {"name": "AppPublishX"}})
    with pytest.raises(StandinError, match=r"failRpc\[1\].status 'BROKEN'"):
        standin.control(
            "POST", "/behaviour", {"failRpc": [{"name": "AppList"}, {"name": "AppList", "status": "BROKEN"}]}
        )
