"""Deliverable: `modal deploy modal/deploy.py` of the production example through the real CLI, checked at the
control plane against the spec render.

The operator's path: `glm-ops spec render examples/glm-5.1-b200.yaml --out F`, then `GLM_OPS_DEPLOY_CONFIG=F modal
deploy` for the serve app (the Server) and, with GLM_OPS_DEPLOY_ROLE=ops, for the storage functions' app. What the
stand-in recorded is what the real client sent in FunctionCreate (GPU, volumes, secrets, scaling, concurrency,
timeouts, web endpoint, image, mounts), decoded from the protobufs, not what deploy.py meant to send.
"""

import hashlib
import math

import pytest

from conftest import API_KEY_SECRET, PROJECT_ROOT, modal_deploy, render_spec, text

PRODUCTION_EXAMPLE = PROJECT_ROOT / "examples" / "glm-5.1-b200.yaml"
REMOTE_CONFIG_PATH = "/root/glm-ops/deploy-config.json"


@pytest.fixture(scope="module")
def production(standin_server, tmp_path_factory):
    """The production example rendered, and both of its apps deployed through the real CLI (once for this module)."""
    standin = standin_server
    standin.reset()
    rendered = tmp_path_factory.mktemp("production") / "glm-5.1-b200.deploy-config.json"
    config = render_spec(PRODUCTION_EXAMPLE, rendered)
    standin.control("POST", "/secrets", {"name": config["secrets"]["apiKey"], "keys": {"API_KEY": "sk-test"}})
    serve = modal_deploy(
        standin, config["app"], tag="rollout-prod-1", config=rendered, environment=config["environment"]
    )
    assert serve.returncode == 0, text(serve)
    ops = modal_deploy(standin, config["opsApp"], config=rendered, role="ops", environment=config["environment"])
    assert ops.returncode == 0, text(ops)
    apps = {app["name"]: app for app in standin.state()["apps"]}
    return {
        "config": config,
        "config_sha256": hashlib.sha256(rendered.read_bytes()).hexdigest(),
        "serve": {f["name"]: f for f in apps[config["app"]]["versions"][-1]["functions"]},
        "ops": {f["name"]: f for f in apps[config["opsApp"]]["versions"][-1]["functions"]},
        "versions": apps[config["app"]]["versions"],
    }


def _volumes(function):
    return {(volume["name"], volume["mountPath"]) for volume in function["volumes"]}


def _both_volumes(config):
    return {
        (config["volumes"]["weights"]["name"], config["volumes"]["weights"]["mountPath"]),
        (config["volumes"]["kernels"]["name"], config["volumes"]["kernels"]["mountPath"]),
    }


def test_the_serve_app_is_one_tagged_version_holding_only_the_server(production):
    assert [(v["version"], v["tag"]) for v in production["versions"]] == [(1, "rollout-prod-1")]
    assert set(production["serve"]) == {"Server.*", "Server"}
    assert production["serve"]["Server"]["kind"] == "class-handle"


def test_the_server_has_the_spec_gpu_volumes_secret_scaling_concurrency_and_timeouts(production, deploy_module):
    config, server = production["config"], production["serve"]["Server.*"]
    assert server["gpu"] == config["gpu"] == "B200:8"
    assert _volumes(server) == _both_volumes(config)
    assert server["secrets"] == [config["secrets"]["apiKey"]] == [API_KEY_SECRET]
    assert server["scaling"] == {
        "minContainers": config["modal"]["minContainers"],
        "maxContainers": config["modal"]["maxContainers"],
        "scaledownWindow": config["modal"]["scaledownWindow"],
        "bufferContainers": 0,
    }
    assert server["concurrency"]["maxInputs"] == config["modal"]["maxInputs"]
    startup = math.ceil(config["health"]["startupTimeout"]) + math.ceil(config["warmup"]["timeout"])
    assert server["timeouts"] == {"startupTimeout": startup, "timeout": deploy_module.REQUEST_TIMEOUT_S}


def test_the_server_serves_a_web_server_on_the_spec_port(production):
    config, server = production["config"], production["serve"]["Server.*"]
    web = server["methods"]["serve"]["webEndpoint"]
    assert web["type"] == "WEBHOOK_TYPE_WEB_SERVER"
    assert web["webServerPort"] == config["port"]
    assert web["webServerStartupTimeout"] == config["health"]["startupTimeout"]


def test_every_function_runs_the_spec_image_with_the_rendered_config_mounted(production):
    config = production["config"]
    for name, function in {**production["serve"], **production["ops"]}.items():
        if function["kind"] == "class-handle":
            continue
        layers = function["image"]["layers"]
        assert layers and layers[0]["dockerfileCommands"][0].startswith("FROM "), name
        commands = [command for layer in layers for command in layer["dockerfileCommands"]]
        assert f"ENV GLM_OPS_DEPLOY_CONFIG={REMOTE_CONFIG_PATH}" in commands, name
        mounted = {path: sha for mount in function["mounts"] for path, sha in mount["files"].items()}
        assert mounted.get(REMOTE_CONFIG_PATH) == production["config_sha256"], name  # the very bytes rendered
    for name in ("Server.*", "compile_deepgemm"):
        function = production["serve"].get(name) or production["ops"][name]
        assert function["image"]["layers"][0]["dockerfileCommands"][0] == f"FROM {config['image']}", name


def test_the_ops_app_holds_the_four_storage_functions_with_their_gpu_volumes_and_timeouts(production):
    config, ops = production["config"], production["ops"]
    assert set(ops) == {"download_model", "compile_deepgemm", "verify_setup", "commit_volume"}
    weights = (config["volumes"]["weights"]["name"], config["volumes"]["weights"]["mountPath"])
    assert ops["compile_deepgemm"]["gpu"] == config["gpu"] == "B200:8"
    assert [ops[name]["gpu"] for name in ("download_model", "verify_setup", "commit_volume")] == [None, None, None]
    assert _volumes(ops["download_model"]) == {weights}
    for name in ("compile_deepgemm", "verify_setup", "commit_volume"):
        assert _volumes(ops[name]) == _both_volumes(config), name
    assert all(function["secrets"] == [] for function in ops.values())
    timeouts = config["timeouts"]
    assert {name: function["timeouts"]["timeout"] for name, function in ops.items()} == {
        "download_model": timeouts["downloadSec"],
        "compile_deepgemm": timeouts["compileSec"],
        "verify_setup": timeouts["verifySec"],
        "commit_volume": timeouts["commitSec"],
    }
    # one download and one compile at a time: a retried rollout cannot start a second 8×B200 compile alongside
    assert ops["download_model"]["scaling"]["maxContainers"] == ops["compile_deepgemm"]["scaling"]["maxContainers"] == 1
