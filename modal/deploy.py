"""GLM-5.1 FP8 on Modal with SGLang: the operations guide's production app, driven by one glm-ops spec.

Everything deployment-specific (GPU, image, SGLang argv, scaling, volumes, timeouts, secret names) comes from
the JSON that `glm-ops spec render SPEC --out FILE` writes. The path is read from GLM_OPS_DEPLOY_CONFIG, else
`deploy-config.json` beside this file, so `modal deploy modal/deploy.py` works by hand. No flag list lives here.

Two apps from one file, chosen by GLM_OPS_DEPLOY_ROLE (guide "Deployment Pipeline"):
  serve (default)  app `<app>`: the Server class (SGLang behind @modal.web_server), nothing else
  ops              app `<app>-ops`: the storage functions, nothing else
    download_model     CPU only: download-with-sentinel, then commit the weights volume
    compile_deepgemm   the spec's GPU: SGLang's DeepGEMM compile, GPU-keyed marker last
    verify_setup       sentinel + marker, and whether they match the spec
    commit_volume      verify a volume's sentinel/marker, then commit it (no CLI commit exists)

glm-ops deploys the ops app with `modal deploy` and spawns its functions (FunctionCall ids it can re-attach to):
under `modal run` the remote work dies with the client process, which a multi-hour download must survive. By hand:
  GLM_OPS_DEPLOY_ROLE=ops modal deploy modal/deploy.py      then call the functions, or
  GLM_OPS_DEPLOY_ROLE=ops modal run modal/deploy.py::verify_setup
  modal deploy modal/deploy.py
Keeping Server out of the ops app also keeps a `minContainers > 0` spec from starting 8×B200 containers for it.

There is no keep_warm cron here (guide §6, §19): glm-ops' Temporal Schedule `keepwarm/<app>` replaces it, so the
schedule lives in one place, carries a time zone, and is visible and pausable in the Temporal UI.

Audit checklist (guide §13), each item and where it is handled:
  ordering           SGLang starts, passes /health and is warmed up in @modal.enter, before the web_server method
                     runs; Modal routes traffic only after that, so no request reaches a port that is not listening.
  log capture        SGLang's stdout/stderr are pipes streamed line by line into Modal's logs by background threads.
  watchdog           --watchdog-timeout comes from the spec's argv (glm-ops lint refuses one shorter than the load).
  crash monitor      a thread waits on the SGLang process and calls os._exit(1) when it exits while serving.
  sentinel           download_model writes a sentinel (every file, size, sha256) last; nothing trusts file counts.
  volume reload      both volumes are reloaded at the start of every GPU entry point and of verify/commit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import modal

# ---------------------------------------------------------------------------------------------------------------
# Configuration rendered by glm-ops
# ---------------------------------------------------------------------------------------------------------------

DEPLOY_CONFIG_ENV = "GLM_OPS_DEPLOY_CONFIG"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "deploy-config.json"
# Where the config is baked into every image: containers re-import this file and must read the same JSON.
REMOTE_CONFIG_PATH = "/root/glm-ops/deploy-config.json"
SUPPORTED_SCHEMA_VERSION = 1

DEPLOY_ROLE_ENV = "GLM_OPS_DEPLOY_ROLE"
SERVE_ROLE = "serve"
OPS_ROLE = "ops"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
# Modal's own bound for scaledown_window; the spec allows more, so it is checked here with a clear message.
MODAL_MAX_SCALEDOWN_WINDOW_S = 3600
API_KEY_ENV = "API_KEY"


class DeployConfigError(ValueError):
    """The rendered deploy config is missing or does not fit Modal; the message names the field and the fix."""


# Fields added to schema version 1 later: a config rendered by an older glm-ops lacks them.
_REQUIRED_FIELDS = (
    ("opsApp",),
    ("sentinelFile",),
    ("timeouts", "downloadSec"),
    ("timeouts", "compileSec"),
    ("timeouts", "verifySec"),
    ("timeouts", "commitSec"),
    ("warmup", "requests"),
)


def deploy_role(env: Optional[dict] = None) -> str:
    """Which app this import defines: GLM_OPS_DEPLOY_ROLE=ops (storage functions) or serve (the Server, default)."""
    env = os.environ if env is None else env
    role = (env.get(DEPLOY_ROLE_ENV) or SERVE_ROLE).strip()
    if role not in (SERVE_ROLE, OPS_ROLE):
        raise DeployConfigError(
            f"{DEPLOY_ROLE_ENV}={role!r}: use {SERVE_ROLE} (the Server) or {OPS_ROLE} (storage functions)"
        )
    return role


def config_path(env: Optional[dict] = None) -> Path:
    """The deploy config this import reads: GLM_OPS_DEPLOY_CONFIG, else deploy-config.json beside this file."""
    env = os.environ if env is None else env
    configured = (env.get(DEPLOY_CONFIG_ENV) or "").strip()
    return Path(configured) if configured else DEFAULT_CONFIG_PATH


def load_deploy_config(path: Path) -> dict:
    """Reads and checks the rendered config; raises DeployConfigError naming the field and the fix."""
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeployConfigError(
            f"{DEPLOY_CONFIG_ENV}: {path} does not exist: run `glm-ops spec render SPEC --out {path}`"
        ) from None
    except json.JSONDecodeError as err:
        raise DeployConfigError(f"{path} is not JSON ({err}): render it again with `glm-ops spec render`") from None
    if config.get("schemaVersion") != SUPPORTED_SCHEMA_VERSION:
        raise DeployConfigError(
            f"schemaVersion {config.get('schemaVersion')!r} in {path}: this deploy.py reads version "
            f"{SUPPORTED_SCHEMA_VERSION}; render the config with the same glm-ops version"
        )
    for field in _REQUIRED_FIELDS:
        value = config
        for key in field:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            raise DeployConfigError(
                f"{'.'.join(field)} is missing in {path}: render the config again with this glm-ops version "
                f"(`glm-ops spec render SPEC --out {path}`)"
            )
    window = config["modal"]["scaledownWindow"]
    if not 2 <= window <= MODAL_MAX_SCALEDOWN_WINDOW_S:
        raise DeployConfigError(
            f"modal.scaledownWindow {window} is outside Modal's 2..{MODAL_MAX_SCALEDOWN_WINDOW_S} s: "
            f"lower it in the spec (use keepWarm for longer holds)"
        )
    # The SM arch comes from glm-ops' GPU catalog; null means the spec names a GPU type the catalog does not know.
    if "smArch" not in config:
        raise DeployConfigError(
            f"smArch is missing in {path}: render the config again with this glm-ops version "
            f"(`glm-ops spec render SPEC --out {path}`)"
        )
    if config["smArch"] is None:
        raise DeployConfigError(
            f"gpu.type {config['gpuType']!r} has no known SM arch: use a GPU type glm-ops knows (`glm-ops spec check`)"
        )
    return config


CONFIG = load_deploy_config(config_path())
ROLE = deploy_role()
# The ops app's name comes from the render (`<app>-ops`), so the adapter that spawns its functions uses the same one.
APP_NAME: str = CONFIG["opsApp"] if ROLE == OPS_ROLE else CONFIG["app"]
if len(APP_NAME) > 63:
    raise DeployConfigError(
        f"app {CONFIG['app']!r}: the ops app name {APP_NAME!r} is over Modal's 63 characters; shorten app"
    )
SENTINEL_FILE: str = CONFIG["sentinelFile"]

MODEL_PATH: str = CONFIG["model"]["path"]
WEIGHTS_MOUNT: str = CONFIG["volumes"]["weights"]["mountPath"]
KERNELS_MOUNT: str = CONFIG["volumes"]["kernels"]["mountPath"]
PORT: int = CONFIG["port"]
GPU_TYPE: str = CONFIG["gpuType"].upper()
KERNEL_MARKER_NAME: str = CONFIG["kernelMarkerName"]
# DeepGEMM's JIT cache is keyed by GPU type inside the kernels volume, so a GPU switch never loads foreign kernels.
DEEPGEMM_CACHE_DIR = f"{KERNELS_MOUNT}/deepgemm/{GPU_TYPE}"

STARTUP_TIMEOUT_S = int(math.ceil(CONFIG["health"]["startupTimeout"]))
WARMUP_TIMEOUT_S = int(math.ceil(CONFIG["warmup"]["timeout"]))
HEALTH_POLL_INTERVAL_S = float(CONFIG["health"]["pollInterval"])
DOWNLOAD_TIMEOUT_S = int(CONFIG["timeouts"]["downloadSec"])
COMPILE_TIMEOUT_S = int(CONFIG["timeouts"]["compileSec"])
VERIFY_TIMEOUT_S = int(CONFIG["timeouts"]["verifySec"])
COMMIT_TIMEOUT_S = int(CONFIG["timeouts"]["commitSec"])
# A web_server input is one HTTP request; long streamed generations must fit.
REQUEST_TIMEOUT_S = 60 * 60
SHUTDOWN_GRACE_S = 20.0

# ---------------------------------------------------------------------------------------------------------------
# Modal objects: volumes, images, secret, app (all lazy: nothing here touches the network at import)
# ---------------------------------------------------------------------------------------------------------------

model_volume = modal.Volume.from_name(CONFIG["volumes"]["weights"]["name"], create_if_missing=True)
dg_volume = modal.Volume.from_name(CONFIG["volumes"]["kernels"]["name"], create_if_missing=True)
VOLUME_MOUNTS = {WEIGHTS_MOUNT: model_volume, KERNELS_MOUNT: dg_volume}
api_key_secret = modal.Secret.from_name(CONFIG["secrets"]["apiKey"])

_image_env = {
    DEPLOY_CONFIG_ENV: REMOTE_CONFIG_PATH,
    # Containers re-import this file: they must define the same app (role) to find their function.
    DEPLOY_ROLE_ENV: ROLE,
    "HF_XET_HIGH_PERFORMANCE": "1",
    "SGLANG_DG_CACHE_DIR": DEEPGEMM_CACHE_DIR,
    "SGLANG_ENABLE_JIT_DEEPGEMM": "1",
}
download_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install("huggingface_hub[hf_xet]>=0.30")
    .env(_image_env)
    .add_local_file(str(config_path()), REMOTE_CONFIG_PATH)
)
sglang_image = modal.Image.from_registry(CONFIG["image"]).env(_image_env).add_local_file(
    str(config_path()), REMOTE_CONFIG_PATH
)

app = modal.App(APP_NAME)


def ops_function(**options):
    """Registers a storage function on the ops app; in the serve role it stays a plain function (tests call it)."""

    def register(fn):
        return app.function(**options)(fn) if ROLE == OPS_ROLE else fn

    return register

# ---------------------------------------------------------------------------------------------------------------
# Download sentinel: the same accept/reject rules as src/storage/download-sentinel.ts (shared test vectors)
# ---------------------------------------------------------------------------------------------------------------

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DECIMAL = re.compile(r"^\d+$")
_SENTINEL_KEYS = {"schemaVersion", "repo", "revision", "commit", "files", "totalBytes", "completedAt"}
_LEGACY_FILE_KEYS = {"path", "sizeBytes", "sha256"}
_FILE_KEYS = _LEGACY_FILE_KEYS | {"stamp"}
_STAMP_KEYS = {"mtimeNs", "ctimeNs", "ino"}
# Schema 2 stamps every file; schema 1 (written before stamps existed) is still read, every file counted as touched.
SENTINEL_SCHEMA_VERSION = 2


def _is_nonnegative_int(value: Any) -> bool:
    # JSON has one number type: 5.0 is an integer to the TypeScript side, so it is one here too.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= 0 and float(value).is_integer()


def _is_nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 0


def _stamp_problems(stamp: Any, index: int) -> list:
    if not isinstance(stamp, dict):
        return [f"files[{index}].stamp must be an object"]
    problems = [f"files[{index}].stamp: unexpected key {key!r}" for key in sorted(set(stamp) - _STAMP_KEYS)]
    for key in sorted(_STAMP_KEYS):
        if not (isinstance(stamp.get(key), str) and _DECIMAL.match(stamp[key])):
            problems.append(f"files[{index}].stamp.{key} must be a decimal integer string")
    return problems


def sentinel_schema_problems(sentinel: Any) -> list:
    """Why a parsed sentinel is not well-formed (empty when it is)."""
    if not isinstance(sentinel, dict):
        return ["the sentinel is not a JSON object"]
    problems = [f"unexpected key {key!r}" for key in sorted(set(sentinel) - _SENTINEL_KEYS)]
    version = sentinel.get("schemaVersion")
    if isinstance(version, bool) or version not in (1, 2):
        problems.append(f"schemaVersion must be 1 or 2, got {version!r}")
    for key in ("repo", "revision", "completedAt"):
        if not _is_nonempty_str(sentinel.get(key)):
            problems.append(f"{key} must be a non-empty string")
    if not (isinstance(sentinel.get("commit"), str) and _HEX40.match(sentinel["commit"])):
        problems.append("commit must be a 40-hex commit sha")
    if not _is_nonnegative_int(sentinel.get("totalBytes")):
        problems.append("totalBytes must be a non-negative integer")
    files = sentinel.get("files")
    if not isinstance(files, list) or len(files) == 0:
        problems.append("files must be a non-empty list")
        return problems
    allowed = _FILE_KEYS if version == 2 else _LEGACY_FILE_KEYS
    for index, entry in enumerate(files):
        if not isinstance(entry, dict):
            problems.append(f"files[{index}] must be an object")
            continue
        problems += [f"files[{index}]: unexpected key {key!r}" for key in sorted(set(entry) - allowed)]
        if not _is_nonempty_str(entry.get("path")):
            problems.append(f"files[{index}].path must be a non-empty string")
        if not _is_nonnegative_int(entry.get("sizeBytes")):
            problems.append(f"files[{index}].sizeBytes must be a non-negative integer")
        if not (isinstance(entry.get("sha256"), str) and _HEX64.match(entry["sha256"])):
            problems.append(f"files[{index}].sha256 must be 64 lowercase hex")
        if version == 2:
            problems += _stamp_problems(entry.get("stamp"), index)
    return problems


def file_stamp(stat: os.stat_result) -> dict:
    """What a file looked like when hashed: mtime and ctime in ns and the inode, as decimal strings (as TypeScript).

    Any write moves mtime and ctime; setting mtime back (os.utime, touch -d) moves ctime, which no user can set back;
    replacing the file gives a new inode. A file whose size and stamp still match was not touched since.
    """
    return {"mtimeNs": str(stat.st_mtime_ns), "ctimeNs": str(stat.st_ctime_ns), "ino": str(stat.st_ino)}


def stamp_differences(recorded: dict, current: dict) -> list:
    """How `current` differs from `recorded`, in the TypeScript order: mtime, ctime, inode (empty when untouched)."""
    reasons = []
    if recorded["mtimeNs"] != current["mtimeNs"]:
        reasons.append("mtime")
    if recorded["ctimeNs"] != current["ctimeNs"]:
        reasons.append("ctime")
    if recorded["ino"] != current["ino"]:
        reasons.append("inode")
    return reasons


def touch_text(reasons: list) -> str:
    """One phrase for why a file was re-hashed (the same words as the TypeScript side)."""
    changed = [reason for reason in reasons if reason in ("mtime", "ctime", "inode")]
    parts = [f"{', '.join(changed)} changed since the sentinel"] if changed else []
    if "legacy-sentinel" in reasons:
        parts.append("schema-1 sentinel without stamps")
    if "full-check" in reasons:
        parts.append("full check")
    return "; ".join(parts)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks so 5 GB shards do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_inside(folder: Path, relative: str) -> bool:
    root = os.path.abspath(folder)
    return os.path.abspath(os.path.join(root, relative)).startswith(root + os.sep)


def indexed_shards(folder: Path) -> Optional[list]:
    """Shard files the safetensors index references (sorted, unique); None when there is no index."""
    try:
        raw = (folder / SAFETENSORS_INDEX_FILE).read_text()
    except OSError:
        return None
    try:
        weight_map = json.loads(raw).get("weight_map")
    except (ValueError, AttributeError):
        return [f"<unreadable {SAFETENSORS_INDEX_FILE}>"]
    if not isinstance(weight_map, dict) or not weight_map:
        return [f"<{SAFETENSORS_INDEX_FILE} without weight_map>"]
    return sorted({str(shard) for shard in weight_map.values()})


def evaluate_weights_dir(folder: Path, expected: Optional[dict] = None, full: bool = False) -> dict:
    """Judges a weights folder: {state: valid|missing|partial|corrupt, problems, rehashed, trusted, sentinel?}.

    Valid only when a well-formed sentinel names the expected repo/commit, every listed file exists with its size,
    every file touched since the sentinel (stamp changed, or a schema-1 sentinel without stamps) still hashes to its
    sha256 (every file with `full`), and every shard the safetensors index references is listed. `rehashed` names
    the files hashed and why; `trusted` maps each file proved good to the stamp it had then.
    """
    folder = Path(folder)
    try:
        raw = (folder / SENTINEL_FILE).read_text()
    except OSError:
        entries = list(folder.iterdir()) if folder.is_dir() else []
        if not entries:
            return {"state": "missing", "problems": [], "rehashed": [], "trusted": {}}
        return {
            "state": "partial",
            "problems": [f"no sentinel {SENTINEL_FILE}: the download did not finish"],
            "rehashed": [],
            "trusted": {},
        }
    try:
        sentinel = json.loads(raw)
    except ValueError:
        return {"state": "corrupt", "problems": [f"sentinel {SENTINEL_FILE} is not valid JSON"], "rehashed": [], "trusted": {}}
    schema_problems = sentinel_schema_problems(sentinel)
    if schema_problems:
        return {
            "state": "corrupt",
            "problems": [f"sentinel {SENTINEL_FILE} is malformed: {'; '.join(schema_problems)}"],
            "rehashed": [],
            "trusted": {},
        }
    problems, rehashed, trusted, to_hash = [], [], {}, []
    if expected and sentinel["repo"] != expected.get("repo"):
        problems.append(f'sentinel names repo "{sentinel["repo"]}", expected "{expected.get("repo")}"')
    if expected and expected.get("commit") and sentinel["commit"] != expected["commit"]:
        problems.append(f"sentinel names commit {sentinel['commit']}, expected {expected['commit']}")
    listed_total = sum(int(entry["sizeBytes"]) for entry in sentinel["files"])
    if listed_total != int(sentinel["totalBytes"]):
        problems.append(f"sentinel totalBytes {int(sentinel['totalBytes'])} != sum of file sizes {listed_total}")
    for entry in sentinel["files"]:
        relative = entry["path"]
        if not _is_inside(folder, relative):
            problems.append(f'sentinel lists "{relative}" outside the weights folder')
            continue
        file_path = folder / relative
        if not file_path.is_file():
            problems.append(f"{relative}: missing")
            continue
        stat = file_path.stat()
        if stat.st_size != int(entry["sizeBytes"]):
            problems.append(f"{relative}: size {stat.st_size}, sentinel says {int(entry['sizeBytes'])}")
            continue
        current = file_stamp(stat)
        reasons = stamp_differences(entry["stamp"], current) if "stamp" in entry else ["legacy-sentinel"]
        if full and not reasons:
            reasons.append("full-check")
        if reasons:
            to_hash.append((entry, current, reasons))
        else:
            trusted[relative] = current
    for entry, current, reasons in to_hash:
        relative = entry["path"]
        file_path = folder / relative
        digest = sha256_file(file_path)
        # A file written to while it was read may hash to anything: never call it good.
        steady = file_path.is_file() and file_stamp(file_path.stat()) == current
        matches = steady and digest == entry["sha256"]
        rehashed.append({"path": relative, "reasons": reasons, "isMatch": matches})
        if matches:
            trusted[relative] = current
        elif not steady:
            problems.append(f"{relative}: changed while it was being hashed")
        else:
            problems.append(f"{relative}: sha256 differs from the sentinel ({touch_text(reasons)})")
    listed = {entry["path"] for entry in sentinel["files"]}
    for shard in indexed_shards(folder) or []:
        if shard not in listed:
            problems.append(f"{SAFETENSORS_INDEX_FILE} references {shard}, which is not in the download")
    return {
        "state": "valid" if not problems else "corrupt",
        "problems": problems,
        "rehashed": rehashed,
        "trusted": trusted,
        "sentinel": sentinel,
    }


def build_sentinel(
    folder: Path, relative_paths: Iterable[str], repo: str, revision: str, commit: str, known: Optional[dict] = None
) -> dict:
    """A schema-2 sentinel for files already on disk: each file's size, sha256 and the stamp it had while hashed.

    `known` maps paths to {sha256, stamp} proved earlier: a file whose stamp is still that one is not hashed again.
    """
    files = []
    for relative in sorted(relative_paths):
        file_path = Path(folder) / relative
        before = file_path.stat()
        earlier = (known or {}).get(relative)
        if earlier and earlier["stamp"] == file_stamp(before):
            files.append({"path": relative, "sizeBytes": before.st_size, "sha256": earlier["sha256"], "stamp": earlier["stamp"]})
            continue
        digest = sha256_file(file_path)
        after = file_path.stat()
        if file_stamp(before) != file_stamp(after) or before.st_size != after.st_size:
            raise RuntimeError(f"{relative} changed while it was being hashed: nothing may write the weights folder now")
        files.append({"path": relative, "sizeBytes": before.st_size, "sha256": digest, "stamp": file_stamp(before)})
    return {
        "schemaVersion": SENTINEL_SCHEMA_VERSION,
        "repo": repo,
        "revision": revision,
        "commit": commit,
        "files": files,
        "totalBytes": sum(entry["sizeBytes"] for entry in files),
        "completedAt": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    }


def refreshed_sentinel(verdict: dict) -> dict:
    """The sentinel of a valid folder with the stamps its files have now (after re-hashing the touched ones)."""
    sentinel = verdict["sentinel"]
    files = [
        {
            "path": entry["path"],
            "sizeBytes": entry["sizeBytes"],
            "sha256": entry["sha256"],
            "stamp": verdict["trusted"][entry["path"]],
        }
        for entry in sentinel["files"]
    ]
    return {**sentinel, "schemaVersion": SENTINEL_SCHEMA_VERSION, "files": files}


def _write_json_atomically(target: Path, payload: dict) -> None:
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    with open(temp, "w") as handle:
        handle.write(json.dumps(payload, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target)


def write_sentinel(folder: Path, sentinel: dict) -> Path:
    """Writes the sentinel through a temp file and a rename (readers see all of it or none); refuses a bad one."""
    problems = sentinel_schema_problems(sentinel)
    if problems:
        raise ValueError(f"refusing to write a malformed sentinel: {'; '.join(problems)}")
    target = Path(folder) / SENTINEL_FILE
    _write_json_atomically(target, sentinel)
    return target


def remove_sentinel(folder: Path) -> None:
    """Deletes the sentinel first, so an interrupted repair never leaves a sentinel that lies."""
    try:
        (Path(folder) / SENTINEL_FILE).unlink()
    except FileNotFoundError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# DeepGEMM marker: GPU-keyed, written last by a finished compile (same fields as the platform port's KernelMarker)
# ---------------------------------------------------------------------------------------------------------------

_MARKER_KEYS = ("model", "gpuType", "smArch", "sglangImage", "modelRevision", "compiledAt")


def kernel_target(config: dict, model_revision: str) -> dict:
    """What a compile must match: model, GPU type and its SM arch, SGLang image, the resolved model commit."""
    return {
        "model": config["model"]["repo"],
        "gpuType": config["gpuType"].upper(),
        "smArch": config["smArch"],
        "sglangImage": config["image"],
        "modelRevision": model_revision,
    }


def make_marker(target: dict, rollout_id: Optional[str] = None) -> dict:
    """The marker for a finished compile of `target`."""
    marker = dict(target)
    marker["compiledAt"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    if rollout_id:
        marker["rolloutId"] = rollout_id
    return marker


def evaluate_marker(marker_path: Path, target: dict) -> dict:
    """{state: valid|missing|stale, reasons, marker?}: stale names what differs (GPU, SM arch, image, revision)."""
    try:
        raw = Path(marker_path).read_text()
    except OSError:
        return {"state": "missing", "reasons": [f"no marker {marker_path}: run compile_deepgemm"]}
    try:
        marker = json.loads(raw)
    except ValueError:
        return {"state": "stale", "reasons": [f"marker {marker_path} is malformed: recompile"]}
    if not isinstance(marker, dict) or not all(_is_nonempty_str(marker.get(key)) for key in _MARKER_KEYS):
        return {"state": "stale", "reasons": [f"marker {marker_path} is malformed: recompile"]}
    reasons = []
    if marker["gpuType"].upper() != target["gpuType"].upper():
        reasons.append(
            f"other GPU: compiled for {marker['gpuType']} ({marker['smArch']}), "
            f"spec needs {target['gpuType']} ({target['smArch']})"
        )
    elif marker["smArch"] != target["smArch"]:
        reasons.append(f"other SM arch: compiled for {marker['smArch']}, {target['gpuType']} is {target['smArch']}")
    if marker["sglangImage"] != target["sglangImage"]:
        reasons.append(f"other image: compiled with {marker['sglangImage']}, spec uses {target['sglangImage']}")
    if marker["modelRevision"] != target["modelRevision"]:
        reasons.append(
            f"other model revision: compiled for {marker['modelRevision']}, weights are {target['modelRevision']}"
        )
    if marker["model"] != target["model"]:
        reasons.append(f"other model: compiled for {marker['model']}, spec serves {target['model']}")
    return {"state": "valid" if not reasons else "stale", "reasons": reasons, "marker": marker}


def write_marker(marker_path: Path, marker: dict) -> None:
    """Writes the marker through a temp file and a rename: the last step of a compile."""
    _write_json_atomically(Path(marker_path), marker)


# ---------------------------------------------------------------------------------------------------------------
# SGLang process: command, log streaming, health wait, warmup, crash monitor
# ---------------------------------------------------------------------------------------------------------------


def build_sglang_cmd(config: dict, api_key: str = "") -> list:
    """The launch command exactly as glm-ops rendered it, with `--api-key` appended last when a key is given."""
    cmd = list(config["launchModule"]) + list(config["argv"])
    if api_key:
        if any(ch.isspace() for ch in api_key) or api_key.startswith("-"):
            # The key itself must never appear in the error.
            raise ValueError(f"secret {config['secrets']['apiKey']}: {API_KEY_ENV} has whitespace or starts with '-'")
        cmd += ["--api-key", api_key]
    return cmd


def redact(cmd: list) -> list:
    """The command with the value after --api-key hidden, for logging."""
    shown = list(cmd)
    for index, part in enumerate(shown[:-1]):
        if part == "--api-key":
            shown[index + 1] = "***"
    return shown


def stream_lines(source, sink, prefix: str = "") -> threading.Thread:
    """Copies a child's pipe into `sink` line by line from a daemon thread (Modal ships our stdout/stderr)."""

    def pump() -> None:
        for line in iter(source.readline, ""):
            sink.write(prefix + line)
            sink.flush()
        source.close()

    thread = threading.Thread(target=pump, name=f"log-stream{prefix.strip() or ''}", daemon=True)
    thread.start()
    return thread


class CrashMonitor:
    """Waits on the SGLang process; when it exits while serving, logs the guide's FATAL line and exits the container.

    `os._exit(1)` (not sys.exit) because Modal must replace the container instead of serving endless 502s (§5).
    """

    def __init__(self, process, exit_hook: Callable[[int], None] = os._exit, log=print):
        self._process = process
        self._exit_hook = exit_hook
        self._log = log
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="crash-monitor", daemon=True)

    def start(self) -> "CrashMonitor":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Marks a deliberate shutdown, so the exit that follows is not reported as a crash."""
        self._stopping.set()

    def _watch(self) -> None:
        code = self._process.wait()
        if self._stopping.is_set():
            return
        self._log(f"[monitor] FATAL: SGLang died (code {code})", flush=True)
        self._exit_hook(1)


class EngineStartupError(RuntimeError):
    """SGLang exited or did not become healthy in time; the message names the timeout field to raise."""


def _http(url: str, body: Optional[dict], api_key: str, timeout_s: float):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return response.status, response.read()


def wait_for_health(base_url: str, process, timeout_s: float, interval_s: float, log=print, clock=time.monotonic) -> int:
    """Polls GET /health until 200; returns the attempt that passed. Fails fast when the process exits."""
    deadline = clock() + timeout_s
    attempt = 0
    while True:
        attempt += 1
        code = process.poll()
        if code is not None:
            raise EngineStartupError(f"[health] SGLang exited with code {code} before /health passed")
        try:
            status, _ = _http(f"{base_url}/health", None, "", max(1.0, interval_s * 5))
            if status == 200:
                log(f"[health] passed on attempt {attempt}", flush=True)
                return attempt
        except (urllib.error.URLError, OSError):
            pass
        if clock() >= deadline:
            raise EngineStartupError(
                f"[health] /health not 200 after {timeout_s:.0f}s ({attempt} attempts): raise health.startupTimeout"
            )
        time.sleep(interval_s)


def warmup_requests(config: dict) -> list:
    """The guide's four diverse warmups (§6, §7: chat, no-thinking, long context, tools) as glm-ops rendered them,
    each body with the served model name filled in."""
    model = config["model"]["servedName"]
    return [(request["name"], {**request["body"], "model": model}) for request in config["warmup"]["requests"]]


def run_warmup(base_url: str, config: dict, api_key: str, timeout_s: float, log=print) -> None:
    """Sends the rendered warmups in turn; any non-200 is an EngineStartupError naming warmup.timeout."""
    requests = warmup_requests(config)
    for index, (name, body) in enumerate(requests, start=1):
        started = time.monotonic()
        try:
            status, _ = _http(f"{base_url}/v1/chat/completions", body, api_key, timeout_s)
        except urllib.error.HTTPError as err:
            raise EngineStartupError(f"[warmup] request {index} ({name}) failed with HTTP {err.code}") from None
        except (urllib.error.URLError, OSError) as err:
            raise EngineStartupError(
                f"[warmup] request {index} ({name}) failed ({type(err).__name__}): "
                f"raise warmup.timeout ({timeout_s:.0f}s)"
            ) from None
        log(
            f"[warmup] request {index}/{len(requests)} ({name}) status {status} in {time.monotonic() - started:.1f}s",
            flush=True,
        )


def terminate_gracefully(process, grace_s: float = SHUTDOWN_GRACE_S) -> Optional[int]:
    """SIGTERM to SGLang's process group, SIGKILL after `grace_s`; returns the exit code."""
    if process.poll() is not None:
        return process.returncode
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return process.wait()
    try:
        return process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


def start_engine(cmd: list, env: Optional[dict] = None) -> subprocess.Popen:
    """Starts SGLang in its own process group with piped output streamed into this process's stdout/stderr."""
    process = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        start_new_session=True,
        env=env,
    )
    stream_lines(process.stdout, sys.stdout)
    stream_lines(process.stderr, sys.stderr)
    return process


# ---------------------------------------------------------------------------------------------------------------
# One-time setup functions
# ---------------------------------------------------------------------------------------------------------------


def _resolve_commit(repo: str, revision: str) -> str:
    from huggingface_hub import HfApi

    return HfApi().model_info(repo, revision=revision).sha


def _sentinel_commit(folder: Path) -> Optional[str]:
    verdict = evaluate_weights_dir(folder)
    return verdict["sentinel"]["commit"] if verdict["state"] == "valid" else None


# max_containers=1: a second spawn (a retry that could not re-attach) queues behind the first and then finds the
# sentinel valid, so two downloads never write the same folder at once.
@ops_function(image=download_image, volumes={WEIGHTS_MOUNT: model_volume}, timeout=DOWNLOAD_TIMEOUT_S, max_containers=1)
def download_model(force: bool = False) -> str:
    """Download-with-sentinel into the weights volume, then commit it. Idempotent: a valid sentinel skips it."""
    from huggingface_hub import snapshot_download

    started = time.monotonic()
    repo, revision = CONFIG["model"]["repo"], CONFIG["model"]["revision"]
    model_volume.reload()
    commit = _resolve_commit(repo, revision)
    outcome = ensure_weights_folder(
        Path(MODEL_PATH),
        repo,
        revision,
        commit,
        fetch=lambda folder: snapshot_download(repo, revision=commit, local_dir=str(folder)),
        force=force,
    )
    if outcome.pop("needsCommit"):
        model_volume.commit()
        print(f"[download] committed to {CONFIG['volumes']['weights']['name']}", flush=True)
    return json.dumps({**outcome, "durationMs": int((time.monotonic() - started) * 1000)})


def ensure_weights_folder(
    folder: Path,
    repo: str,
    revision: str,
    commit: str,
    fetch: Callable[[Path], None],
    force: bool = False,
    log=print,
) -> dict:
    """download_model's decision, testable on a folder: skip on a valid sentinel, never on a stale one.

    Files touched since the sentinel (or all, for a schema-1 sentinel) are re-hashed first; when they still match,
    the sentinel is rewritten with their new stamps and the download skipped; when they do not, exactly those files
    are deleted and `fetch` (snapshot_download, which keeps the files already there) brings them back. The new sentinel
    reuses the digests of files proved good and untouched since, so a repair hashes only what it fetched.
    """
    expected = {"repo": repo, "commit": commit}
    before = evaluate_weights_dir(folder, expected)
    for entry in before["rehashed"]:
        verdict = "unchanged" if entry["isMatch"] else "sha256 DIFFERS"
        log(f"[download] re-hashed {entry['path']} ({touch_text(entry['reasons'])}): {verdict}", flush=True)
    if before["state"] == "valid" and not force:
        if before["rehashed"]:
            write_sentinel(folder, refreshed_sentinel(before))
        log(f"[download] sentinel valid for {repo}@{commit}: skipping", flush=True)
        return {
            "skipped": True,
            "status": _status_json(before),
            "filesRepaired": [],
            "needsCommit": bool(before["rehashed"]),
        }
    # The sentinel goes first, so a crash from here on never leaves one that vouches for half a download.
    remove_sentinel(folder)
    for problem in before["problems"]:
        bad = problem.split(":", 1)[0]
        if _is_inside(folder, bad) and (folder / bad).is_file():
            (folder / bad).unlink()
    folder.mkdir(parents=True, exist_ok=True)
    fetch(folder)
    on_disk = [
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and ".cache" not in path.relative_to(folder).parts and path.name != SENTINEL_FILE
    ]
    known = {}
    if before.get("sentinel") and not force:
        digests = {entry["path"]: entry["sha256"] for entry in before["sentinel"]["files"]}
        known = {path: {"sha256": digests[path], "stamp": stamp} for path, stamp in before["trusted"].items()}
    write_sentinel(folder, build_sentinel(folder, on_disk, repo, revision, commit, known=known))
    after = evaluate_weights_dir(folder, expected, full=False)
    if after["state"] != "valid":
        remove_sentinel(folder)
        raise RuntimeError(f"[download] verification failed after download: {after['problems']}")
    repaired = [entry["path"] for entry in before["rehashed"] if not entry["isMatch"]]
    log(f"[download] {len(on_disk)} files verified{f'; re-downloaded {repaired}' if repaired else ''}", flush=True)
    return {"skipped": False, "status": _status_json(after), "filesRepaired": repaired, "needsCommit": True}


# max_containers=1 for the same reason: never two 8-GPU compiles of one cache at once.
@ops_function(image=sglang_image, gpu=CONFIG["gpu"], volumes=VOLUME_MOUNTS, timeout=COMPILE_TIMEOUT_S, max_containers=1)
def compile_deepgemm(rollout_id: str = "", force: bool = False) -> str:
    """SGLang's DeepGEMM compile on the spec's GPU; the GPU-keyed marker is written last, then the volume committed."""
    started = time.monotonic()
    model_volume.reload()
    dg_volume.reload()
    commit = _sentinel_commit(Path(MODEL_PATH))
    if commit is None:
        raise RuntimeError(f"[compile] no valid download sentinel in {MODEL_PATH}: run download_model first")
    target = kernel_target(CONFIG, commit)
    marker_path = Path(KERNELS_MOUNT) / KERNEL_MARKER_NAME
    before = evaluate_marker(marker_path, target)
    if before["state"] == "valid" and not force:
        print(f"[compile] marker valid for {GPU_TYPE}: skipping", flush=True)
        return json.dumps({"skipped": True, "status": before, "durationMs": 0})
    marker_path.unlink(missing_ok=True)
    Path(DEEPGEMM_CACHE_DIR).mkdir(parents=True, exist_ok=True)
    cmd = ["python3", "-m", "sglang.compile_deep_gemm", *CONFIG["argv"]]
    print(f"[compile] {' '.join(cmd)}", flush=True)
    process = start_engine(cmd, env={**os.environ, "SGLANG_DG_CACHE_DIR": DEEPGEMM_CACHE_DIR})
    code = process.wait()
    if code != 0:
        raise RuntimeError(f"[compile] sglang.compile_deep_gemm exited with code {code}; see the lines above")
    write_marker(marker_path, make_marker(target, rollout_id or None))
    dg_volume.commit()
    print("DeepGEMM / compile success", flush=True)
    after = evaluate_marker(marker_path, target)
    return json.dumps({"skipped": False, "status": after, "durationMs": int((time.monotonic() - started) * 1000)})


def _status_json(verdict: dict) -> dict:
    sentinel = verdict.get("sentinel") or {}
    files = sentinel.get("files") or []
    return {
        "state": verdict["state"],
        "problems": verdict["problems"],
        "rehashed": verdict.get("rehashed", []),
        "commit": sentinel.get("commit"),
        "fileCount": len(files),
        "bytes": sentinel.get("totalBytes", 0),
    }


def setup_report(weights_dir: Path, kernels_dir: Path, config: dict, full: bool = False) -> dict:
    """The sentinel, the marker, and whether both match the spec (verify_setup's answer, testable on folders)."""
    weights = evaluate_weights_dir(weights_dir, {"repo": config["model"]["repo"]}, full=full)
    commit = (weights.get("sentinel") or {}).get("commit")
    kernels = evaluate_marker(Path(kernels_dir) / config["kernelMarkerName"], kernel_target(config, commit or "?"))
    return {
        "weights": _status_json(weights),
        "kernels": kernels,
        "matchesSpec": weights["state"] == "valid" and kernels["state"] == "valid",
    }


@ops_function(image=download_image, volumes=VOLUME_MOUNTS, timeout=VERIFY_TIMEOUT_S)
def verify_setup(full: bool = False) -> str:
    """Reports the sentinel, the marker and whether they match the spec, as JSON."""
    model_volume.reload()
    dg_volume.reload()
    report = setup_report(Path(MODEL_PATH), Path(KERNELS_MOUNT), CONFIG, full=full)
    print(json.dumps(report, indent=2), flush=True)
    return json.dumps(report)


@ops_function(image=download_image, volumes=VOLUME_MOUNTS, timeout=COMMIT_TIMEOUT_S)
def commit_volume(kind: str) -> str:
    """Verifies a volume's sentinel (weights) or marker (kernels) and commits it; the CLI has no commit command."""
    if kind not in ("weights", "kernels"):
        raise ValueError(f"kind {kind!r}: use weights or kernels")
    volume = model_volume if kind == "weights" else dg_volume
    volume.reload()
    if kind == "weights":
        verdict = evaluate_weights_dir(Path(MODEL_PATH), {"repo": CONFIG["model"]["repo"]})
        if verdict["state"] != "valid":
            raise RuntimeError(f"[commit] weights {verdict['state']}: {verdict['problems']}; run download_model")
    else:
        commit = _sentinel_commit(Path(MODEL_PATH)) or "?"
        verdict = evaluate_marker(Path(KERNELS_MOUNT) / KERNEL_MARKER_NAME, kernel_target(CONFIG, commit))
        if verdict["state"] != "valid":
            raise RuntimeError(f"[commit] kernels {verdict['state']}: {verdict['reasons']}; run compile_deepgemm")
    volume.commit()
    return json.dumps({"committed": kind, "state": verdict["state"]})


# ---------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------


# Only the serving app defines the Server: the ops app must never start an 8×B200 container for it.
if ROLE == SERVE_ROLE:

    @app.cls(
        image=sglang_image,
        gpu=CONFIG["gpu"],
        volumes=VOLUME_MOUNTS,
        secrets=[api_key_secret],
        min_containers=CONFIG["modal"]["minContainers"],
        max_containers=CONFIG["modal"]["maxContainers"],
        scaledown_window=CONFIG["modal"]["scaledownWindow"],
        # The enter hook holds weight load, /health and warmup; Modal kills a container whose startup exceeds this.
        startup_timeout=STARTUP_TIMEOUT_S + WARMUP_TIMEOUT_S,
        timeout=REQUEST_TIMEOUT_S,
    )
    @modal.concurrent(max_inputs=CONFIG["modal"]["maxInputs"])
    class Server:
        """SGLang behind Modal's web_server proxy.

        @modal.web_server rather than modal.experimental.http_server: web_server is the stable API in modal 1.6,
        it forwards straight to SGLang's own port (no extra proxy), and because all of startup happens in
        @modal.enter the route opens only once SGLang is healthy and warm, which closes the §13 ordering race.
        http_server caps exit_grace_period at 25 s and is experimental; revisit it when it is stable.
        """

        @modal.enter()
        def start(self) -> None:
            model_volume.reload()
            dg_volume.reload()
            if not Path(MODEL_PATH, SENTINEL_FILE).exists():
                raise EngineStartupError(f"weights sentinel missing in {MODEL_PATH}: run download_model")
            api_key = os.environ.get(API_KEY_ENV, "")
            if not api_key:
                raise EngineStartupError(
                    f"secret {CONFIG['secrets']['apiKey']} has no {API_KEY_ENV}: "
                    f"modal secret create {CONFIG['secrets']['apiKey']} {API_KEY_ENV}=..."
                )
            self._api_key = api_key
            cmd = build_sglang_cmd(CONFIG, api_key)
            print(f"[server] starting: {' '.join(redact(cmd))}", flush=True)
            self._process = start_engine(cmd)
            base_url = f"http://127.0.0.1:{PORT}"
            wait_for_health(base_url, self._process, STARTUP_TIMEOUT_S, HEALTH_POLL_INTERVAL_S)
            run_warmup(base_url, CONFIG, api_key, WARMUP_TIMEOUT_S)
            self._monitor = CrashMonitor(self._process).start()
            print("[server] ready", flush=True)

        @modal.web_server(port=PORT, startup_timeout=STARTUP_TIMEOUT_S)
        def serve(self) -> None:
            """SGLang already listens on PORT (started in the enter hook); Modal forwards requests to it."""

        @modal.exit()
        def shutdown(self) -> None:
            monitor = getattr(self, "_monitor", None)
            if monitor:
                monitor.stop()
            process = getattr(self, "_process", None)
            if process:
                code = terminate_gracefully(process)
                print(f"[server] SGLang stopped (code {code})", flush=True)


if __name__ == "__main__":
    summary = {"config": str(config_path()), "app": APP_NAME, "role": ROLE, "argv": build_sglang_cmd(CONFIG)}
    print(json.dumps(summary, indent=2))
