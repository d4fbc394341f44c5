"""The apps deploy.py defines, inspected offline: functions, GPU, image, volumes, secrets, scaling, timeouts.

One file, two apps: the serve role (default) defines only the Server, the ops role (GLM_OPS_DEPLOY_ROLE=ops) only the
storage functions that glm-ops spawns and re-attaches to.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from app_inspect import definition_of, dockerfile_commands, functions_of, local_files_of
from conftest import MODAL_DIR, PROJECT_ROOT

STORAGE_FUNCTIONS = {"download_model", "compile_deepgemm", "verify_setup", "commit_volume"}


@pytest.fixture(scope="session")
def ops_module():
    """deploy.py imported a second time, as the ops role (a module of its own name, so both apps coexist)."""
    previous = os.environ.get("GLM_OPS_DEPLOY_ROLE")
    os.environ["GLM_OPS_DEPLOY_ROLE"] = "ops"
    try:
        spec = importlib.util.spec_from_file_location("deploy_ops_role", MODAL_DIR / "deploy.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if previous is None:
            os.environ.pop("GLM_OPS_DEPLOY_ROLE", None)
        else:
            os.environ["GLM_OPS_DEPLOY_ROLE"] = previous
    return module


def test_the_serve_role_defines_only_the_server_under_the_spec_app_name(deploy_module):
    assert deploy_module.ROLE == "serve"
    assert deploy_module.app.name == deploy_module.CONFIG["app"]
    assert set(functions_of(deploy_module.app)) == {"Server.*"}
    assert "keep_warm" not in functions_of(deploy_module.app)  # the Temporal Schedule replaces the guide's cron


def test_the_ops_role_defines_only_the_storage_functions_under_the_rendered_ops_app_name(ops_module):
    assert ops_module.ROLE == "ops"
    assert ops_module.app.name == ops_module.CONFIG["opsApp"] == f"{ops_module.CONFIG['app']}-ops"
    assert set(functions_of(ops_module.app)) == STORAGE_FUNCTIONS
    # No Server: a minContainers > 0 spec must not start 8×B200 containers for the ops app, nor need the API key.
    assert not hasattr(ops_module, "Server")
    for name, fn in functions_of(ops_module.app).items():
        assert definition_of(fn)["secrets"] == [], name


def test_download_and_compile_run_one_at_a_time_and_every_timeout_comes_from_the_render(ops_module):
    config = ops_module.CONFIG
    functions = functions_of(ops_module.app)
    assert definition_of(functions["download_model"])["max_containers"] == 1
    assert definition_of(functions["compile_deepgemm"])["max_containers"] == 1
    assert {name: definition_of(fn)["timeout"] for name, fn in functions.items()} == {
        "download_model": config["timeouts"]["downloadSec"],
        "compile_deepgemm": config["timeouts"]["compileSec"],
        "verify_setup": config["timeouts"]["verifySec"],
        "commit_volume": config["timeouts"]["commitSec"],
    }
    assert ops_module.SENTINEL_FILE == config["sentinelFile"] == ".glm-ops-download-complete.json"


def test_download_model_is_cpu_only_with_the_weights_volume(ops_module):
    fn = functions_of(ops_module.app)["download_model"]
    assert fn._spec.gpus is None
    assert set(fn._spec.volumes) == {"/model-cache"}
    assert repr(fn._spec.volumes["/model-cache"]) == "modal.Volume.from_name('glm51-model-weights')"
    assert any("huggingface_hub" in command for command in dockerfile_commands(fn._spec.image))


def test_compile_deepgemm_has_the_spec_gpu_the_sglang_image_and_both_volumes(ops_module):
    config = ops_module.CONFIG
    fn = functions_of(ops_module.app)["compile_deepgemm"]
    assert fn._spec.gpus == config["gpu"] == "B200:8"
    assert f"FROM {config['image']}" in dockerfile_commands(fn._spec.image)
    assert set(fn._spec.volumes) == {"/model-cache", "/dg-cache"}
    assert "ENV SGLANG_DG_CACHE_DIR=/dg-cache/deepgemm/B200" in dockerfile_commands(fn._spec.image)


def test_server_has_the_spec_scaling_timeouts_secret_and_web_server(deploy_module):
    config = deploy_module.CONFIG
    server = functions_of(deploy_module.app)["Server.*"]
    definition = definition_of(server)
    assert server._spec.gpus == config["gpu"]
    assert f"FROM {config['image']}" in dockerfile_commands(server._spec.image)
    assert set(server._spec.volumes) == {"/model-cache", "/dg-cache"}
    assert definition["min_containers"] == config["modal"]["minContainers"] == 0
    assert definition["max_containers"] == config["modal"]["maxContainers"] == 3
    assert definition["scaledown_window"] == config["modal"]["scaledownWindow"] == 900
    assert definition["max_concurrent_inputs"] == config["modal"]["maxInputs"] == 20
    assert definition["startup_timeout"] == config["health"]["startupTimeout"] + config["warmup"]["timeout"]
    assert [repr(secret) for secret in definition["secrets"]] == [f"modal.Secret.from_name('{config['secrets']['apiKey']}')"]
    serve = definition["method_definitions"]["serve"].webhook_config
    assert serve.web_server_port == config["port"] == 8000
    assert serve.web_server_startup_timeout == config["health"]["startupTimeout"]


def test_every_image_carries_the_rendered_config_and_its_role_for_the_container_to_re_import(deploy_module, ops_module):
    for module in (deploy_module, ops_module):
        for name, fn in functions_of(module.app).items():
            files = local_files_of(fn._spec.image)
            commands = dockerfile_commands(fn._spec.image)
            assert (str(module.config_path()), module.REMOTE_CONFIG_PATH) in files, name
            assert f"ENV GLM_OPS_DEPLOY_CONFIG={module.REMOTE_CONFIG_PATH}" in commands, name
            # A container imports deploy.py again: with another role it would not find its function.
            assert f"ENV GLM_OPS_DEPLOY_ROLE={module.ROLE}" in commands, name


def _describe_app_with(config_file, role=None):
    """Imports deploy.py in a fresh interpreter with another rendered config and reports what the App holds."""
    script = (
        "import json, sys, warnings; warnings.filterwarnings('ignore'); sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import deploy, app_inspect as ai\n"
        "s = ai.functions_of(deploy.app)['Server.*']; d = ai.definition_of(s)\n"
        "print(json.dumps({'gpu': s._spec.gpus, 'min': d['min_containers'], 'max': d['max_containers'],\n"
        "  'window': d['scaledown_window'], 'inputs': d['max_concurrent_inputs'], 'cmd': deploy.build_sglang_cmd(deploy.CONFIG),\n"
        "  'images': ai.dockerfile_commands(s._spec.image)}))\n"
    )
    env = {**os.environ, "GLM_OPS_DEPLOY_CONFIG": str(config_file)}
    env.pop("GLM_OPS_DEPLOY_ROLE", None)
    if role is not None:
        env["GLM_OPS_DEPLOY_ROLE"] = role
    return subprocess.run(
        [sys.executable, "-c", script, str(MODAL_DIR), str(MODAL_DIR / "tests")],
        env=env, capture_output=True, text=True, timeout=120,
    )


EXAMPLES = sorted((PROJECT_ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_the_app_follows_each_example_spec_as_the_typescript_render_says(example, tmp_path):
    cli = PROJECT_ROOT / "lib" / "cli" / "main.js"
    assert cli.exists(), "build first: npx tsc -p tsconfig.build.json"
    rendered = tmp_path / "deploy-config.json"
    subprocess.run(["node", str(cli), "spec", "render", str(example), "--out", str(rendered)], check=True, timeout=60)
    config = json.loads(rendered.read_text())
    result = _describe_app_with(rendered)
    assert result.returncode == 0, result.stderr
    app = json.loads(result.stdout.strip().splitlines()[-1])
    assert app["cmd"] == ["python3", "-m", "sglang.launch_server", *config["argv"]]
    assert app["cmd"][3:5] == ["--model-path", config["model"]["path"]]
    assert app["gpu"] == f"{config['gpuType']}:{config['gpuCount']}"
    assert (app["min"], app["max"], app["window"], app["inputs"]) == (
        config["modal"]["minContainers"], config["modal"]["maxContainers"],
        config["modal"]["scaledownWindow"], config["modal"]["maxInputs"],
    )
    assert f"FROM {config['image']}" in app["images"]


def test_a_missing_config_fails_at_import_naming_the_variable_and_the_fix(tmp_path):
    result = _describe_app_with(tmp_path / "absent.json")
    assert result.returncode != 0
    assert "GLM_OPS_DEPLOY_CONFIG" in result.stderr and "glm-ops spec render" in result.stderr


def test_a_scaledown_window_beyond_modals_limit_is_refused_with_the_field_named(tmp_path):
    config = json.loads((MODAL_DIR / "deploy-config.json").read_text())
    config["modal"]["scaledownWindow"] = 7200
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    result = _describe_app_with(path)
    assert result.returncode != 0
    assert "modal.scaledownWindow 7200" in result.stderr


def test_the_api_key_is_appended_last_and_redacted_for_logs(deploy_module):
    cmd = deploy_module.build_sglang_cmd(deploy_module.CONFIG, "sk-secret-value")
    assert cmd[-2:] == ["--api-key", "sk-secret-value"]
    assert "sk-secret-value" not in " ".join(deploy_module.redact(cmd))
    with pytest.raises(ValueError) as err:
        deploy_module.build_sglang_cmd(deploy_module.CONFIG, "bad key")
    assert "bad key" not in str(err.value)


def _config_with(tmp_path, change):
    config = json.loads((MODAL_DIR / "deploy-config.json").read_text())
    change(config)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    return path


def test_an_unknown_role_is_refused_naming_the_variable_and_the_choices(tmp_path):
    result = _describe_app_with(MODAL_DIR / "deploy-config.json", role="both")
    assert result.returncode != 0
    assert "GLM_OPS_DEPLOY_ROLE='both'" in result.stderr and "serve" in result.stderr and "ops" in result.stderr


def test_a_config_rendered_before_the_ops_app_existed_is_refused_naming_the_field(tmp_path):
    result = _describe_app_with(_config_with(tmp_path, lambda c: c.pop("opsApp")))
    assert result.returncode != 0
    assert "opsApp is missing" in result.stderr and "glm-ops spec render" in result.stderr
    result = _describe_app_with(_config_with(tmp_path, lambda c: c["timeouts"].pop("compileSec")))
    assert "timeouts.compileSec is missing" in result.stderr


def test_an_ops_app_name_over_modals_limit_is_refused(tmp_path):
    result = _describe_app_with(_config_with(tmp_path, lambda c: c.update(opsApp="a" * 64)), role="ops")
    assert result.returncode != 0
    assert "over Modal's 63 characters" in result.stderr


def test_a_gpu_type_without_a_known_sm_arch_is_refused_naming_the_field(tmp_path):
    result = _describe_app_with(_config_with(tmp_path, lambda c: c.update(gpuType="A10G", smArch=None)))
    assert result.returncode != 0
    assert "gpu.type 'A10G' has no known SM arch" in result.stderr


def test_a_config_rendered_before_the_warmups_were_rendered_is_refused_naming_the_field(tmp_path):
    result = _describe_app_with(_config_with(tmp_path, lambda c: c["warmup"].pop("requests")))
    assert result.returncode != 0
    assert "warmup.requests is missing" in result.stderr and "glm-ops spec render" in result.stderr
