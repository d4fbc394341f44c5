"""Sentinel and marker logic on temporary folders, judged by the same vectors as the TypeScript downloader."""

import json

import pytest

from conftest import sentinel_vectors

VECTORS = sentinel_vectors()


def test_the_shared_vectors_cover_every_verdict():
    assert len(VECTORS) >= 10
    assert {vector["expected"]["quick"] for vector in VECTORS} == {"valid", "partial", "missing", "corrupt"}


def _materialise(vector, folder):
    for entry in vector["filesOnDisk"]:
        path = folder / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry["content"].encode("utf-8"))
    if vector["sentinel"] is not None:
        text = vector["sentinel"] if isinstance(vector["sentinel"], str) else json.dumps(vector["sentinel"])
        (folder / vector.get("sentinelFile", ".glm-ops-download-complete.json")).write_text(text)


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
