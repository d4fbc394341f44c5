"""Starts the serving stack once per session and hands each test an official OpenAI client pointed at it.

The stack is `lib/scripts/conformance-stack.js` (built by scripts/setup.sh from src/scripts/conformance-stack.ts):
an SGLang emulator on a free port and the local platform's router in front of another engine. It prints one JSON
line with both URLs and a throw-away API key, and stops when its stdin closes. Every test runs twice: straight at
the engine, and through the router, as a client of the deployed app would call it.
"""

import json
import subprocess
import time
from pathlib import Path

import urllib.error
import urllib.request

import openai
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = PROJECT_ROOT / "lib" / "scripts" / "conformance-stack.js"
START_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def stack():
    if not LAUNCHER.exists():
        pytest.fail(f"{LAUNCHER} is missing: build lib/ first (bash scripts/setup.sh or npm run build)")
    process = subprocess.Popen(
        ["node", str(LAUNCHER)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        pytest.fail(f"conformance stack did not start (exit {process.returncode}): {process.stderr.read()[-2000:]}")
    info = json.loads(line)
    try:
        # The router cold-starts its engine on the first request and holds it until the engine serves.
        wait_until_healthy(info["router_url"])
        yield info
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_healthy(url):
    deadline = time.monotonic() + START_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                last = response.status
            if last == 200:
                return
        except urllib.error.HTTPError as err:
            last = err.code
        except OSError as err:
            last = repr(err)
        time.sleep(0.2)
    pytest.fail(f"{url}/health did not answer 200 within {START_TIMEOUT_S} s (last: {last})")


@pytest.fixture(params=["engine", "router"])
def base_url(request, stack):
    return stack["emulator_url"] if request.param == "engine" else stack["router_url"]


@pytest.fixture
def client(base_url, stack):
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=stack["api_key"], max_retries=0, timeout=60)


@pytest.fixture
def model(stack):
    return stack["served_model_name"]
