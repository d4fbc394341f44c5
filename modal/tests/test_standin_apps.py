"""`modal deploy`, `modal app list/history/rollback/stop/logs`, `modal secret`: the real CLI against the stand-in.

Covers the behaviours the issue found in the client's source: a no-op deploy prints "Deployment skipped" and makes
no version (runner.py `_deploy_app`); stop then deploy makes a new app whose history restarts at v1 (runner.py
`_init_local_app_from_name`); stopping a stopped app exits 1 (cli/app.py `stop`); FORCE_COLOR colours --json.
"""

import json
import re
import time

from conftest import API_KEY_SECRET, MODAL_DIR, modal_deploy, text

APP = "glm-standin-test"


def _with_secret(standin):
    standin.control("POST", "/secrets", {"name": API_KEY_SECRET, "keys": {"API_KEY": "sk-test"}})


def _app(standin, name=APP, state=None):
    apps = [a for a in standin.state()["apps"] if a["name"] == name and (state is None or a["state"] == state)]
    assert apps, f"no app {name} ({state}) in {standin.state()['apps']}"
    return apps[-1]


def _history(standin, name=APP):
    listed = standin.modal("app", "history", name, "--env", "main", "--json")
    assert listed.returncode == 0, text(listed)
    return json.loads(listed.stdout)


def _changed_config(tmp_path, **modal_overrides):
    config = json.loads((MODAL_DIR / "deploy-config.json").read_text())
    config["modal"].update(modal_overrides)
    path = tmp_path / "deploy-config.json"
    path.write_text(json.dumps(config))
    return path


def test_deploy_creates_the_app_with_one_tagged_version_and_records_the_server(standin):
    _with_secret(standin)
    deployed = modal_deploy(standin, APP, tag="rollout-1")
    assert deployed.returncode == 0, text(deployed)
    assert "App deployed in" in deployed.stdout.decode()
    app = _app(standin)
    assert app["state"] == "deployed"
    assert [(v["version"], v["tag"]) for v in app["versions"]] == [(1, "rollout-1")]
    server = next(f for f in app["versions"][0]["functions"] if f["name"] == "Server.*")
    assert server["gpu"] == "B200:8" and server["secrets"] == [API_KEY_SECRET]
    # the client looked the secret up by name and created both volumes on the way
    assert sorted(v["name"] for v in standin.state()["volumes"]) == ["glm51-deepgemm-cache", "glm51-model-weights"]


def test_deploy_without_the_api_key_secret_fails_with_the_clients_error_and_deploys_nothing(standin):
    deployed = modal_deploy(standin, APP, tag="rollout-1")
    assert deployed.returncode == 1
    assert f"Secret '{API_KEY_SECRET}' not found" in deployed.stderr.decode()
    assert not [a for a in standin.state()["apps"] if a["state"] == "deployed"]


def test_an_unchanged_redeploy_is_skipped_like_modal_no_version_no_tag(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    again = modal_deploy(standin, APP, tag="rollout-2")
    assert again.returncode == 0, text(again)
    assert "Deployment skipped: no changes detected" in again.stdout.decode()
    assert "App deployed in" not in again.stdout.decode()
    assert [(row["version"], row["tag"]) for row in _history(standin)] == [("v1", "rollout-1")]


def test_a_changed_redeploy_makes_the_next_version(standin, tmp_path):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    changed = modal_deploy(standin, APP, tag="rollout-2", config=_changed_config(tmp_path, maxContainers=5))
    assert changed.returncode == 0, text(changed)
    assert "App deployed in" in changed.stdout.decode()
    assert [(row["version"], row["tag"]) for row in _history(standin)] == [("v2", "rollout-2"), ("v1", "rollout-1")]
    live = {f["name"]: f for f in _app(standin)["live"]}
    assert live["Server.*"]["scaling"]["maxContainers"] == 5


def test_the_noop_deploy_switch_forces_the_next_deploy_either_way_once(standin, tmp_path):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    standin.control("POST", "/behaviour", {"noopDeploy": False})
    forced = modal_deploy(standin, APP, tag="rollout-2")
    assert "App deployed in" in forced.stdout.decode(), text(forced)
    standin.control("POST", "/behaviour", {"noopDeploy": True})
    skipped = modal_deploy(standin, APP, tag="rollout-3", config=_changed_config(tmp_path, maxContainers=4))
    assert "Deployment skipped: no changes detected" in skipped.stdout.decode(), text(skipped)
    assert standin.state()["behaviour"] == {}  # one-shot
    assert [row["tag"] for row in _history(standin)] == ["rollout-2", "rollout-1"]


def test_app_list_json_shows_deployed_and_stopped_apps(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="t1").returncode == 0
    assert modal_deploy(standin, "other-app", tag="t1").returncode == 0
    assert standin.modal("app", "stop", "other-app", "--yes", "--env", "main").returncode == 0
    listed = standin.modal("app", "list", "--env", "main", "--json")
    assert listed.returncode == 0, text(listed)
    rows = {row["description"]: row for row in json.loads(listed.stdout)}
    assert rows[APP]["state"] == "deployed" and rows[APP]["app_id"] == _app(standin)["appId"]
    assert rows["other-app"]["state"] == "stopped" and rows["other-app"]["stopped_at"]
    assert set(rows[APP]) == {"app_id", "description", "state", "tasks", "created_at", "stopped_at"}


def test_history_json_has_version_time_client_and_tag(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-7").returncode == 0
    (row,) = _history(standin)
    assert row["version"] == "v1" and row["tag"] == "rollout-7" and row["client"] == "1.6.4"
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["time_deployed"])


def test_rollback_to_a_version_deploys_it_as_the_next_version(standin, tmp_path):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    assert (
        modal_deploy(standin, APP, tag="rollout-2", config=_changed_config(tmp_path, maxContainers=5)).returncode == 0
    )
    rolled = standin.modal("app", "rollback", APP, "v1", "--env", "main")
    assert rolled.returncode == 0, text(rolled)
    assert "Deployment rollback successful!" in rolled.stdout.decode()
    assert [row["version"] for row in _history(standin)] == ["v3", "v2", "v1"]
    app = _app(standin)
    assert app["versions"][-1]["rollbackVersion"] == 1
    live = {f["name"]: f for f in app["live"]}
    assert live["Server.*"]["scaling"]["maxContainers"] == 3  # v1's definition is live again


def test_rollback_to_an_unknown_version_fails_with_the_servers_not_found(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    rolled = standin.modal("app", "rollback", APP, "v9", "--env", "main")
    assert rolled.returncode == 1
    assert "Rollback version not found in App history." in rolled.stderr.decode()
    assert [row["version"] for row in _history(standin)] == ["v1"]


def test_stop_then_stop_again_exits_1_with_already_stopped(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    stopped = standin.modal("app", "stop", APP, "--yes", "--env", "main")
    assert stopped.returncode == 0, text(stopped)
    assert _app(standin)["state"] == "stopped"
    again = standin.modal("app", "stop", APP, "--yes", "--env", "main")
    assert again.returncode == 1
    assert "App is already stopped." in again.stderr.decode()
    # the stopped app is still what the name resolves to, so its history is readable
    assert [row["tag"] for row in _history(standin)] == ["rollout-1"]


def test_a_deploy_after_stop_creates_a_new_app_whose_history_restarts_at_v1(standin, tmp_path):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    assert (
        modal_deploy(standin, APP, tag="rollout-2", config=_changed_config(tmp_path, maxContainers=5)).returncode == 0
    )
    old_id = _app(standin)["appId"]
    assert standin.modal("app", "stop", APP, "--yes", "--env", "main").returncode == 0
    redeployed = modal_deploy(standin, APP, tag="rollout-3")
    assert redeployed.returncode == 0, text(redeployed)
    assert "App deployed in" in redeployed.stdout.decode()  # unchanged content, but a new app: not a no-op
    new = _app(standin, state="deployed")
    assert new["appId"] != old_id
    assert [(row["version"], row["tag"]) for row in _history(standin)] == [("v1", "rollout-3")]


def test_app_logs_prints_the_lines_the_stand_in_holds_with_timestamps_since_and_tail(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    now = time.time()
    lines = [
        {"text": "too old", "timestamp": now - 7200},
        {"text": "[server] starting", "timestamp": now - 120},
        {"text": "model.safetensors not found, fetching", "timestamp": now - 60, "source": "stderr"},
        {"text": "[server] ready", "timestamp": now - 10},
    ]
    standin.control("POST", f"/apps/{APP}/logs", {"lines": lines})
    fetched = standin.modal("app", "logs", APP, "--env", "main", "--timestamps", "--since", "1h", "--tail", "2")
    assert fetched.returncode == 0, text(fetched)
    printed = fetched.stdout.decode().splitlines()
    assert [line.split(" ", 2)[2] for line in printed] == ["model.safetensors not found, fetching", "[server] ready"]
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) for line in printed)
    window = standin.modal("app", "logs", APP, "--env", "main", "--since", "1h")
    assert window.stdout.decode().splitlines() == [
        "[server] starting",
        "model.safetensors not found, fetching",
        "[server] ready",
    ]


def test_force_color_makes_the_client_colour_its_json_output(standin):
    _with_secret(standin)
    assert modal_deploy(standin, APP, tag="rollout-1").returncode == 0
    plain = standin.modal("app", "list", "--env", "main", "--json")
    coloured = standin.modal("app", "list", "--env", "main", "--json", env={"FORCE_COLOR": "1"})
    assert b"\x1b[" not in plain.stdout and json.loads(plain.stdout)
    assert b"\x1b[" in coloured.stdout
    stripped = re.sub(rb"\x1b\[[0-9;]*m", b"", coloured.stdout)
    assert json.loads(stripped) == json.loads(plain.stdout)


def test_secret_create_and_list_json(standin):
    created = standin.modal("secret", "create", "hub-token", "HF_TOKEN=hf_x", "OTHER=1", "--env", "main")
    assert created.returncode == 0, text(created)
    (secret,) = standin.state()["secrets"]
    assert secret["name"] == "hub-token" and secret["keys"] == ["HF_TOKEN", "OTHER"]
    listed = standin.modal("secret", "list", "--env", "main", "--json")
    assert [row["name"] for row in json.loads(listed.stdout)] == ["hub-token"]
    again = standin.modal("secret", "create", "hub-token", "HF_TOKEN=y", "--env", "main")
    assert again.returncode == 1 and "already exists" in again.stderr.decode()


def test_environment_list_shows_main(standin):
    listed = standin.modal("environment", "list", "--json")
    assert listed.returncode == 0, text(listed)
    assert [row["name"] for row in json.loads(listed.stdout)] == ["main"]


def test_a_deploy_prints_planned_image_build_logs_on_stdout_before_a_later_failure(standin):
    _with_secret(standin)
    build = {"logs": ["Step 1/2 : RUN apt-get install -y libfoo", "E: Package 'libfoo' not found"]}
    fail = {"name": "AppPublish", "status": "FAILED_PRECONDITION", "message": "deployment quota exceeded"}
    standin.control("POST", "/behaviour", {"imageBuild": build, "failRpc": fail})
    deployed = modal_deploy(standin, APP, tag="rollout-1")
    assert deployed.returncode == 1
    assert "E: Package 'libfoo' not found" in deployed.stdout.decode()  # printed by the client's build-log code
    assert deployed.stderr.decode().strip() == "Error: deployment quota exceeded"
    assert not [a for a in standin.state()["apps"] if a["state"] == "deployed"]


def test_a_failed_image_build_is_the_clients_image_build_error(standin):
    _with_secret(standin)
    standin.control("POST", "/behaviour", {"imageBuild": {"logs": ["exit code 100"], "error": "build step failed"}})
    deployed = modal_deploy(standin, APP, tag="rollout-1")
    assert deployed.returncode == 1
    assert re.search(r"Image build for im-\w+ failed with the exception:\s+build step failed", deployed.stderr.decode())


def test_history_of_a_name_never_deployed_is_the_clients_not_found(standin):
    listed = standin.modal("app", "history", "never-deployed", "--env", "main", "--json")
    assert listed.returncode == 1
    assert "No App with name 'never-deployed' found in the 'main' environment." in listed.stderr.decode()
