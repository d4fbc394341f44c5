"""Shared set-up for the modal/ tests: import paths, the project root, the shared sentinel vectors, and the stand-in
control plane (modal_standin/) that the real `modal` CLI and SDK run against."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

MODAL_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = MODAL_DIR.parent
SENTINEL_VECTOR_DIR = PROJECT_ROOT / "test" / "fixtures" / "sentinel"

sys.path.insert(0, str(MODAL_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# modal 1.6 marks the build-phase introspection the tests rely on as deprecated; it still works offline.
warnings.filterwarnings("ignore", message=".*registered_.*deprecated.*")


def sentinel_vectors():
    """The accept/reject vectors the TypeScript sentinel tests use (test/fixtures/sentinel/*.json)."""
    return [json.loads(path.read_text()) for path in sorted(SENTINEL_VECTOR_DIR.glob("*.json"))]


@pytest.fixture(scope="session")
def deploy_module():
    import deploy

    return deploy


# ---------------------------------------------------------------------------------------------------------------
# The stand-in control plane (modal_standin/): the real `modal` CLI and SDK run against it
# ---------------------------------------------------------------------------------------------------------------

DEPLOY_PY = MODAL_DIR / "deploy.py"
CONTROL_PY = MODAL_DIR / "control.py"
GLM_OPS_CLI = PROJECT_ROOT / "lib" / "cli" / "main.js"
API_KEY_SECRET = "glm-api-key"


@pytest.fixture(scope="session")
def standin_server(tmp_path_factory):
    """One stand-in per test session (free ports); each test gets it reset through the `standin` fixture."""
    from modal_standin.harness import StandinProcess

    work_dir = tmp_path_factory.mktemp("modal-standin")
    server = StandinProcess.start(work_dir)
    server.log_path = work_dir / "standin.stderr.log"
    yield server
    server.stop()


@pytest.fixture
def standin(standin_server):
    """The stand-in with nothing in it (no apps, volumes, secrets, calls, plans or behaviour switches)."""
    standin_server.reset()
    return standin_server


def render_spec(example: Path, out: Path) -> dict:
    """`glm-ops spec render EXAMPLE --out FILE` through the built CLI, as an operator renders a deploy config."""
    assert GLM_OPS_CLI.exists(), "build first: npx tsc -p tsconfig.build.json"
    argv = ["node", str(GLM_OPS_CLI), "spec", "render", str(example), "--out", str(out)]
    subprocess.run(argv, check=True, timeout=60)
    return json.loads(out.read_text())


def modal_deploy(standin, app: str, tag: str = "", config: Path = None, role: str = None, environment: str = "main"):
    """`modal deploy modal/deploy.py --name APP --env ENV [--tag TAG]` with the real CLI against the stand-in."""
    extra = {}
    if config is not None:
        extra["GLM_OPS_DEPLOY_CONFIG"] = str(config)
    if role is not None:
        extra["GLM_OPS_DEPLOY_ROLE"] = role
    argv = ["deploy", str(DEPLOY_PY), "--name", app, "--env", environment] + (["--tag", tag] if tag else [])
    return standin.modal(*argv, env=extra)


def text(completed) -> str:
    """stdout + stderr of a finished command, decoded, for assertion messages."""
    return completed.stdout.decode(errors="replace") + completed.stderr.decode(errors="replace")
