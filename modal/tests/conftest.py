"""Shared set-up for the deploy.py tests: import paths, the project root, the shared sentinel vectors."""

import json
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
