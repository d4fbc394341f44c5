"""`modal volume ls/get/rm/list/create` through the real CLI against the stand-in's volumes.

`modal volume get VOL PATH -` writes the file's bytes to stdout and then the client's own
"✓ Finished downloading files to local!" line (cli/volume.py `get`): the adapter must cope with exactly that.
"""

import json

from conftest import text

VOLUME = "glm51-model-weights"
SENTINEL = "GLM-5.1-FP8/.glm-ops-download-complete.json"
SENTINEL_BYTES = b'{"schemaVersion": 1, "repo": "zai-org/GLM-5.1-FP8"}\n'


def _volume_with_files(standin):
    standin.control("POST", "/volumes", {"name": VOLUME})
    standin.control("PUT", f"/volumes/{VOLUME}/files?path={SENTINEL}", raw=SENTINEL_BYTES)
    standin.control(
        "PUT", f"/volumes/{VOLUME}/files?path=GLM-5.1-FP8/model-00001-of-00002.safetensors", raw=b"a" * 1000
    )
    standin.control("PUT", f"/volumes/{VOLUME}/files?path=GLM-5.1-FP8/sub/extra.bin", raw=b"\x00\x01\x02")


def _files(standin, volume=VOLUME):
    (entry,) = [v for v in standin.state()["volumes"] if v["name"] == volume]
    return {f["path"]: f["size"] for f in entry["files"]}


def test_ls_json_lists_one_folder_with_types_and_sizes(standin):
    _volume_with_files(standin)
    listed = standin.modal("volume", "ls", VOLUME, "GLM-5.1-FP8", "--env", "main", "--json")
    assert listed.returncode == 0, text(listed)
    rows = {row["filename"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {SENTINEL, "GLM-5.1-FP8/model-00001-of-00002.safetensors", "GLM-5.1-FP8/sub"}
    assert rows[SENTINEL]["type"] == "file" and rows[SENTINEL]["size"] == len(SENTINEL_BYTES)
    assert rows["GLM-5.1-FP8/sub"]["type"] == "dir"
    root = json.loads(standin.modal("volume", "ls", VOLUME, "/", "--json").stdout)
    assert [(row["filename"], row["type"]) for row in root] == [("GLM-5.1-FP8", "dir")]


def test_get_to_stdout_prints_the_bytes_then_the_clients_finished_line(standin):
    _volume_with_files(standin)
    got = standin.modal("volume", "get", VOLUME, SENTINEL, "-", "--env", "main")
    assert got.returncode == 0, text(got)
    assert got.stdout.startswith(SENTINEL_BYTES)
    assert got.stdout[len(SENTINEL_BYTES) :].decode().strip() == "✓ Finished downloading files to local!"


def test_get_to_a_file_and_to_a_folder_downloads_through_block_urls(standin, tmp_path):
    _volume_with_files(standin)
    one = tmp_path / "sentinel.json"
    got = standin.modal("volume", "get", VOLUME, SENTINEL, str(one), "--env", "main")
    assert got.returncode == 0, text(got)
    assert one.read_bytes() == SENTINEL_BYTES
    again = standin.modal("volume", "get", VOLUME, SENTINEL, str(one))
    assert again.returncode == 2 and "already exists. Use --force" in again.stderr.decode()  # a click UsageError
    forced = standin.modal("volume", "get", VOLUME, SENTINEL, str(one), "--force")
    assert forced.returncode == 0, text(forced)
    folder = tmp_path / "all"
    folder.mkdir()
    got = standin.modal("volume", "get", VOLUME, "GLM-5.1-FP8", str(folder))
    assert got.returncode == 0, text(got)
    assert (folder / "GLM-5.1-FP8" / "sub" / "extra.bin").read_bytes() == b"\x00\x01\x02"
    assert (folder / "GLM-5.1-FP8" / "model-00001-of-00002.safetensors").read_bytes() == b"a" * 1000


def test_a_file_larger_than_one_block_comes_back_whole(standin, tmp_path):
    standin.control("POST", "/volumes", {"name": VOLUME})
    payload = bytes(range(256)) * (9 * 1024 * 1024 // 256) + b"tail"  # > 8 MiB: two blocks
    standin.control("PUT", f"/volumes/{VOLUME}/files?path=big.bin", raw=payload)
    target = tmp_path / "big.bin"
    got = standin.modal("volume", "get", VOLUME, "big.bin", str(target))
    assert got.returncode == 0, text(got)
    assert target.read_bytes() == payload


def test_a_missing_path_is_the_servers_not_found_for_get_and_ls(standin):
    _volume_with_files(standin)
    got = standin.modal("volume", "get", VOLUME, "GLM-5.1-FP8/absent.json", "-", "--env", "main")
    assert got.returncode == 1
    assert got.stdout == b""
    assert "No such file or directory: 'GLM-5.1-FP8/absent.json'" in got.stderr.decode()
    listed = standin.modal("volume", "ls", VOLUME, "nowhere", "--json")
    assert listed.returncode == 1 and "No such file or directory: 'nowhere'" in listed.stderr.decode()


def test_a_missing_volume_is_not_found_too(standin):
    listed = standin.modal("volume", "ls", "no-such-volume", "/", "--json")
    assert listed.returncode == 1
    assert "Volume 'no-such-volume' not found" in listed.stderr.decode()


def test_rm_removes_a_file_and_needs_recursive_for_a_folder(standin):
    _volume_with_files(standin)
    removed = standin.modal("volume", "rm", VOLUME, SENTINEL, "--env", "main")
    assert removed.returncode == 0, text(removed)
    assert SENTINEL not in _files(standin)
    folder = standin.modal("volume", "rm", VOLUME, "GLM-5.1-FP8")
    assert folder.returncode == 1 and "is a directory" in folder.stderr.decode()
    assert len(_files(standin)) == 2
    recursive = standin.modal("volume", "rm", VOLUME, "GLM-5.1-FP8", "--recursive")
    assert recursive.returncode == 0, text(recursive)
    assert _files(standin) == {}
    missing = standin.modal("volume", "rm", VOLUME, "GLM-5.1-FP8/gone")
    assert missing.returncode == 1 and "No such file or directory" in missing.stderr.decode()


def test_volume_create_and_list_json(standin):
    created = standin.modal("volume", "create", "scratch", "--env", "main")
    assert created.returncode == 0, text(created)
    standin.control("POST", "/volumes", {"name": "made-by-control"})
    listed = standin.modal("volume", "list", "--env", "main", "--json")
    assert listed.returncode == 0, text(listed)
    assert sorted(row["name"] for row in json.loads(listed.stdout)) == ["made-by-control", "scratch"]
    again = standin.modal("volume", "create", "scratch", "--env", "main")
    assert again.returncode == 1 and "already exists" in again.stderr.decode()


def test_volume_put_uploads_through_mount_put_file(standin, tmp_path):
    standin.control("POST", "/volumes", {"name": VOLUME})
    local = tmp_path / "marker.json"
    local.write_bytes(b'{"gpuType": "B200"}')
    put = standin.modal("volume", "put", VOLUME, str(local), "/.compiled-GLM-5.1-FP8")
    assert put.returncode == 0, text(put)
    assert standin.control("GET", f"/volumes/{VOLUME}/files?path=.compiled-GLM-5.1-FP8") == b'{"gpuType": "B200"}'


def test_the_stand_ins_block_size_is_the_clients():
    from modal._utils.blob_utils import BLOCK_SIZE as CLIENT_BLOCK_SIZE
    from modal_standin.rpc_volumes import BLOCK_SIZE

    assert BLOCK_SIZE == CLIENT_BLOCK_SIZE
