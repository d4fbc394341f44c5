"""Sentinel and marker logic on temporary folders, judged by the same vectors as the TypeScript downloader."""

import json
import os
import time
from pathlib import Path

import pytest

from conftest import sentinel_vectors

VECTORS = sentinel_vectors()


def test_the_shared_vectors_cover_every_verdict():
    assert len(VECTORS) >= 20
    assert {vector["expected"]["quick"] for vector in VECTORS} == {"valid", "partial", "missing", "corrupt"}
    reasons = {
        reason
        for vector in VECTORS
        for entry in vector["expected"].get("rehashed", {}).get("quick", [])
        for reason in entry["reasons"]
    }
    assert reasons == {"mtime", "ctime", "inode", "legacy-sentinel"}


def _wait_for_ctime_past(folder, ctime_ns):
    """Waits until a fresh file in `folder` gets a later ctime, so the next change surely moves a file's ctime."""
    probe = folder / f".ctime-probe-{os.getpid()}"
    try:
        for attempt in range(10_000):
            probe.write_text(str(attempt))
            if probe.stat().st_ctime_ns > ctime_ns:
                return
            time.sleep(0.001)
        raise AssertionError(f"the filesystem clock in {folder} never passed ctime {ctime_ns}")
    finally:
        probe.unlink(missing_ok=True)


def _set_mtime_ns(path, mtime_ns):
    os.utime(path, ns=(path.stat().st_atime_ns, mtime_ns))


def _materialise(vector, folder):
    for entry in vector["filesOnDisk"]:
        path = folder / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry["content"].encode("utf-8"))
    sentinel = vector["sentinel"]
    recorded = {}
    if vector.get("stampFiles") and isinstance(sentinel, dict):
        sentinel = json.loads(json.dumps(sentinel))
        for entry in sentinel["files"]:
            stat = (folder / entry["path"]).stat()
            recorded[entry["path"]] = stat
            entry["stamp"] = {"mtimeNs": str(stat.st_mtime_ns), "ctimeNs": str(stat.st_ctime_ns), "ino": str(stat.st_ino)}
        _wait_for_ctime_past(folder, max(stat.st_ctime_ns for stat in recorded.values()))
    if sentinel is not None:
        text = sentinel if isinstance(sentinel, str) else json.dumps(sentinel)
        (folder / vector.get("sentinelFile", ".glm-ops-download-complete.json")).write_text(text)
    for step in vector.get("afterSentinel", []):
        target = folder / step["path"]
        if step["op"] == "rewrite-in-place":
            with open(target, "r+b") as handle:
                handle.write(step["content"].encode("utf-8"))
        elif step["op"] == "replace":
            target.with_name(target.name + ".new").write_bytes(step["content"].encode("utf-8"))
            os.replace(target.with_name(target.name + ".new"), target)
        elif step["op"] == "chmod":
            os.chmod(target, int(step["mode"], 8))
        elif step["op"] == "mtime-forward":
            _set_mtime_ns(target, recorded[step["path"]].st_mtime_ns + 1_000_000_000)
        else:
            raise AssertionError(f"unknown afterSentinel op {step['op']!r}")
        if step.get("restoreMtime"):
            _set_mtime_ns(target, recorded[step["path"]].st_mtime_ns)


@pytest.mark.parametrize("mode", ["quick", "full"])
@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_deploy_py_accepts_and_rejects_like_typescript(deploy_module, vector, mode, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    _materialise(vector, folder)
    verdict = deploy_module.evaluate_weights_dir(folder, vector["expectedContext"], full=(mode == "full"))
    assert verdict["state"] == vector["expected"][mode], verdict["problems"]
    if vector["expected"].get("problemIncludes") and verdict["state"] != "valid":
        assert vector["expected"]["problemIncludes"] in "\n".join(verdict["problems"])
    if "rehashed" in vector["expected"]:
        assert verdict["rehashed"] == vector["expected"]["rehashed"][mode]


def test_a_written_sentinel_is_valid_and_removing_it_makes_the_folder_partial(deploy_module, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model-00001-of-00001.safetensors").write_bytes(b"x" * 100)
    repo, commit = "zai-org/GLM-5.1-FP8", "a" * 40
    sentinel = deploy_module.build_sentinel(tmp_path, ["config.json", "model-00001-of-00001.safetensors"], repo, "main", commit)
    path = deploy_module.write_sentinel(tmp_path, sentinel)
    assert path.name == deploy_module.SENTINEL_FILE
    assert not list(tmp_path.glob("*.tmp-*"))
    assert deploy_module.evaluate_weights_dir(tmp_path, {"repo": repo, "commit": commit}, full=True)["state"] == "valid"
    deploy_module.remove_sentinel(tmp_path)
    assert deploy_module.evaluate_weights_dir(tmp_path)["state"] == "partial"
    deploy_module.remove_sentinel(tmp_path)  # idempotent


def test_a_malformed_sentinel_is_never_written(deploy_module, tmp_path):
    with pytest.raises(ValueError, match="commit"):
        deploy_module.write_sentinel(tmp_path, {"schemaVersion": 1, "repo": "a/b", "revision": "main", "commit": "x",
                                                "files": [{"path": "a", "sizeBytes": 1, "sha256": "0" * 64}],
                                                "totalBytes": 1, "completedAt": "now"})
    assert not (tmp_path / deploy_module.SENTINEL_FILE).exists()


def _target(deploy_module, gpu="B200", sm_arch="sm100", image="lmsysorg/sglang:v0.5.10", revision="c" * 40):
    config = json.loads(json.dumps(deploy_module.CONFIG))
    config["gpuType"], config["smArch"], config["image"] = gpu, sm_arch, image
    return deploy_module.kernel_target(config, revision)


def test_marker_valid_missing_and_stale_for_each_reason(deploy_module, tmp_path):
    marker_path = tmp_path / deploy_module.KERNEL_MARKER_NAME
    b200 = _target(deploy_module)
    assert deploy_module.evaluate_marker(marker_path, b200)["state"] == "missing"
    deploy_module.write_marker(marker_path, deploy_module.make_marker(b200, "rollout-1"))
    verdict = deploy_module.evaluate_marker(marker_path, b200)
    assert verdict["state"] == "valid" and verdict["marker"]["rolloutId"] == "rollout-1"
    assert verdict["marker"]["smArch"] == "sm100"
    h200 = deploy_module.evaluate_marker(marker_path, _target(deploy_module, gpu="H200", sm_arch="sm90"))
    assert h200["state"] == "stale" and "other GPU: compiled for B200 (sm100), spec needs H200 (sm90)" in h200["reasons"]
    image = deploy_module.evaluate_marker(marker_path, _target(deploy_module, image="lmsysorg/sglang:v0.5.11"))
    assert image["state"] == "stale" and "other image" in image["reasons"][0]
    revision = deploy_module.evaluate_marker(marker_path, _target(deploy_module, revision="d" * 40))
    assert revision["state"] == "stale" and "other model revision" in revision["reasons"][0]
    marker_path.write_text("{not json")
    assert deploy_module.evaluate_marker(marker_path, b200)["state"] == "stale"


def test_setup_report_matches_the_spec_only_when_sentinel_and_marker_agree(deploy_module, tmp_path):
    weights, kernels = tmp_path / "w", tmp_path / "k"
    weights.mkdir(), kernels.mkdir()
    config = deploy_module.CONFIG
    assert deploy_module.setup_report(weights, kernels, config)["matchesSpec"] is False
    (weights / "model.safetensors").write_bytes(b"w" * 10)
    commit = "e" * 40
    deploy_module.write_sentinel(weights, deploy_module.build_sentinel(weights, ["model.safetensors"], config["model"]["repo"], "main", commit))
    report = deploy_module.setup_report(weights, kernels, config)
    assert report["weights"]["state"] == "valid" and report["kernels"]["state"] == "missing"
    deploy_module.write_marker(kernels / config["kernelMarkerName"], deploy_module.make_marker(deploy_module.kernel_target(config, commit)))
    report = deploy_module.setup_report(weights, kernels, config)
    assert report["matchesSpec"] is True and report["weights"]["commit"] == commit


# ---------------------------------------------------------------------------------------------------------------
# download_model's decision (ensure_weights_folder) on a real folder; `fetch` plays snapshot_download, which keeps
# the files already there and brings back the missing ones
# ---------------------------------------------------------------------------------------------------------------

HUB_FILES = {
    "config.json": b'{"model_type":"glm_moe_dsa"}\n',
    "model-00001-of-00002.safetensors": b"A" * 4096,
    "model-00002-of-00002.safetensors": b"B" * 4096,
}
REPO, COMMIT = "zai-org/GLM-5.1-FP8", "f" * 40


class _Hub:
    def __init__(self):
        self.fetched = []

    def fetch(self, folder):
        for name, content in HUB_FILES.items():
            if not (folder / name).exists():
                (folder / name).write_bytes(content)
                self.fetched.append(name)


@pytest.fixture
def hashed(deploy_module, monkeypatch):
    """The files deploy.py hashes, in order (a wrapper around its own sha256_file)."""
    seen = []
    real = deploy_module.sha256_file

    def counting(path):
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(deploy_module, "sha256_file", counting)
    return seen


def _ensure(deploy_module, folder, hub, **kwargs):
    return deploy_module.ensure_weights_folder(folder, REPO, "main", COMMIT, fetch=hub.fetch, log=lambda *a, **k: None, **kwargs)


def test_an_untouched_folder_is_skipped_without_hashing_anything(deploy_module, tmp_path, hashed):
    hub = _Hub()
    first = _ensure(deploy_module, tmp_path, hub)
    assert first["skipped"] is False and sorted(hub.fetched) == sorted(HUB_FILES)
    hashed.clear()
    again = _ensure(deploy_module, tmp_path, hub)
    assert (again["skipped"], again["needsCommit"], again["status"]["rehashed"], hashed) == (True, False, [], [])


def test_a_shard_corrupted_in_place_is_re_hashed_and_only_it_is_fetched_again(deploy_module, tmp_path, hashed):
    hub = _Hub()
    _ensure(deploy_module, tmp_path, hub)
    shard = tmp_path / "model-00002-of-00002.safetensors"
    _wait_for_ctime_past(tmp_path, shard.stat().st_ctime_ns)
    with open(shard, "r+b") as handle:
        handle.seek(100)
        handle.write(b"XXXX")
    hub.fetched.clear()
    hashed.clear()
    outcome = _ensure(deploy_module, tmp_path, hub)
    assert outcome["skipped"] is False and outcome["needsCommit"] is True
    assert outcome["filesRepaired"] == [shard.name] and hub.fetched == [shard.name]
    # One hash to find it, one for the fresh copy: the untouched files are never read.
    assert hashed == [shard.name, shard.name]
    assert deploy_module.evaluate_weights_dir(tmp_path, {"repo": REPO, "commit": COMMIT}, full=True)["state"] == "valid"


def test_a_rewrite_that_restores_the_mtime_is_still_caught(deploy_module, tmp_path):
    hub = _Hub()
    _ensure(deploy_module, tmp_path, hub)
    shard = tmp_path / "model-00001-of-00002.safetensors"
    before = shard.stat()
    _wait_for_ctime_past(tmp_path, before.st_ctime_ns)
    with open(shard, "r+b") as handle:
        handle.write(b"Z")
    _set_mtime_ns(shard, before.st_mtime_ns)
    assert (shard.stat().st_mtime_ns, shard.stat().st_ino, shard.stat().st_size) == (
        before.st_mtime_ns, before.st_ino, before.st_size)
    verdict = deploy_module.evaluate_weights_dir(tmp_path, {"repo": REPO, "commit": COMMIT})
    assert verdict["state"] == "corrupt"
    assert verdict["rehashed"] == [{"path": shard.name, "reasons": ["ctime"], "isMatch": False}]
    assert _ensure(deploy_module, tmp_path, hub)["filesRepaired"] == [shard.name]


def test_a_legacy_sentinel_is_re_hashed_once_then_rewritten_with_stamps(deploy_module, tmp_path, hashed):
    hub = _Hub()
    _ensure(deploy_module, tmp_path, hub)
    path = tmp_path / deploy_module.SENTINEL_FILE
    sentinel = json.loads(path.read_text())
    sentinel["schemaVersion"] = 1
    for entry in sentinel["files"]:
        del entry["stamp"]
    path.write_text(json.dumps(sentinel))
    hashed.clear()
    upgraded = _ensure(deploy_module, tmp_path, hub)
    assert upgraded["skipped"] is True and upgraded["needsCommit"] is True
    assert sorted(hashed) == sorted(HUB_FILES)
    assert {entry["reasons"][0] for entry in upgraded["status"]["rehashed"]} == {"legacy-sentinel"}
    assert json.loads(path.read_text())["schemaVersion"] == 2
    hashed.clear()
    assert _ensure(deploy_module, tmp_path, hub)["status"]["rehashed"] == [] and hashed == []
