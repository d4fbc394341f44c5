"""Volume RPCs (VolumeFS v1, Modal's default): get-or-create, list, file listing, download, upload, remove, commit.

Files are kept as bytes under paths relative to the volume root ("GLM-5.1-FP8/config.json"); directories exist
implicitly, as parents of files. Downloads go through block URLs on the stand-in's blob HTTP server, as Modal's
do through its block store, so `modal volume get` runs its real download code.
"""

from __future__ import annotations

import hashlib
import time

from google.protobuf import empty_pb2
from grpclib import GRPCError, Status
from modal_proto import api_pb2

from .store import Volume, VolumeFile

CREATED_BY = "standin-user"
# The block size of Modal's volume store; the client computes each block URL's expected length from its own copy
# (modal._utils.blob_utils.BLOCK_SIZE, checked equal by a test), so the two must agree.
BLOCK_SIZE = 8 * 1024 * 1024


def normalise(path: str) -> str:
    return path.strip().strip("/")


def _dirs_of(files: dict) -> set:
    dirs = set()
    for path in files:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:depth]))
    return dirs


class VolumeRpcs:
    def volume_metadata(self, volume: Volume) -> api_pb2.VolumeMetadata:
        return api_pb2.VolumeMetadata(
            name=volume.name,
            version=volume.fs_version,
            creation_info=api_pb2.CreationInfo(created_at=volume.created_at, created_by=CREATED_BY),
        )

    def _volume(self, volume_id: str) -> Volume:
        volume = self.store.volumes.get(volume_id)
        if volume is None:
            raise GRPCError(Status.NOT_FOUND, f"Volume {volume_id} not found")
        return volume

    async def VolumeGetOrCreate(self, stream) -> None:
        request: api_pb2.VolumeGetOrCreateRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        kind = request.object_creation_type
        if request.version not in (api_pb2.VOLUME_FS_VERSION_UNSPECIFIED, api_pb2.VOLUME_FS_VERSION_V1):
            raise GRPCError(Status.UNIMPLEMENTED, "modal stand-in: only VolumeFS v1 volumes are supported")
        if kind == api_pb2.OBJECT_CREATION_TYPE_EPHEMERAL:
            volume = self.store.create_volume("", environment)
        else:
            volume = self.store.volume_named(request.deployment_name, environment)
            if volume is not None and kind == api_pb2.OBJECT_CREATION_TYPE_CREATE_FAIL_IF_EXISTS:
                raise GRPCError(Status.ALREADY_EXISTS, f"Volume '{request.deployment_name}' already exists")
            if volume is None:
                if kind in (
                    api_pb2.OBJECT_CREATION_TYPE_CREATE_IF_MISSING,
                    api_pb2.OBJECT_CREATION_TYPE_CREATE_FAIL_IF_EXISTS,
                ):
                    volume = self.store.create_volume(request.deployment_name, environment)
                else:
                    raise GRPCError(
                        Status.NOT_FOUND,
                        f"Volume '{request.deployment_name}' not found in environment '{environment}'",
                    )
        self.changed()
        await stream.send_message(
            api_pb2.VolumeGetOrCreateResponse(
                volume_id=volume.volume_id, version=volume.fs_version, metadata=self.volume_metadata(volume)
            )
        )

    async def VolumeGetById(self, stream) -> None:
        request: api_pb2.VolumeGetByIdRequest = await stream.recv_message()
        volume = self._volume(request.volume_id)
        await stream.send_message(
            api_pb2.VolumeGetByIdResponse(volume_id=volume.volume_id, metadata=self.volume_metadata(volume))
        )

    async def VolumeList(self, stream) -> None:
        request: api_pb2.VolumeListRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        volumes = self.listed_page(self.store.volumes.values(), environment, request.pagination)
        response = api_pb2.VolumeListResponse(environment_name=environment)
        for volume in volumes:
            response.items.append(
                api_pb2.VolumeListItem(
                    label=volume.name,
                    volume_id=volume.volume_id,
                    created_at=volume.created_at,
                    metadata=self.volume_metadata(volume),
                )
            )
        await stream.send_message(response)

    async def VolumeDelete(self, stream) -> None:
        request: api_pb2.VolumeDeleteRequest = await stream.recv_message()
        volume = self._volume(request.volume_id)
        del self.store.volumes[volume.volume_id]
        self.changed()
        await stream.send_message(empty_pb2.Empty())

    async def VolumeHeartbeat(self, stream) -> None:
        request = await stream.recv_message()
        self._volume(request.volume_id)
        await stream.send_message(empty_pb2.Empty())

    async def VolumeCommit(self, stream) -> None:
        request = await stream.recv_message()
        self._volume(request.volume_id).commits += 1
        self.changed()
        await stream.send_message(api_pb2.VolumeCommitResponse(skip_reload=False))

    async def VolumeReload(self, stream) -> None:
        request = await stream.recv_message()
        self._volume(request.volume_id).reloads += 1
        self.changed()
        await stream.send_message(empty_pb2.Empty())

    # -- files -------------------------------------------------------------------------------------------------

    def list_entries(self, volume: Volume, path: str, recursive: bool) -> list:
        """FileEntry protos under `path` (or that one file); NOT_FOUND when the path does not exist."""
        path = normalise(path)
        files = volume.files
        dirs = _dirs_of(files)
        if path and path in files:
            entry = files[path]
            return [
                api_pb2.FileEntry(path=path, type=api_pb2.FileEntry.FILE, mtime=int(entry.mtime), size=len(entry.data))
            ]
        if path and path not in dirs:
            raise GRPCError(Status.NOT_FOUND, f"No such file or directory: '{path}'")
        prefix = f"{path}/" if path else ""
        entries = []
        for directory in sorted(dirs):
            if directory.startswith(prefix) and (recursive or "/" not in directory[len(prefix) :]):
                newest = max(
                    (f.mtime for p, f in files.items() if p.startswith(directory + "/")), default=volume.created_at
                )
                entries.append(api_pb2.FileEntry(path=directory, type=api_pb2.FileEntry.DIRECTORY, mtime=int(newest)))
        for file_path in sorted(files):
            if file_path.startswith(prefix) and (recursive or "/" not in file_path[len(prefix) :]):
                entry = files[file_path]
                entries.append(
                    api_pb2.FileEntry(
                        path=file_path, type=api_pb2.FileEntry.FILE, mtime=int(entry.mtime), size=len(entry.data)
                    )
                )
        return entries

    async def VolumeListFiles(self, stream) -> None:
        request: api_pb2.VolumeListFilesRequest = await stream.recv_message()
        entries = self.list_entries(self._volume(request.volume_id), request.path, request.recursive)
        if request.max_entries:
            entries = entries[: request.max_entries]
        for start in range(0, len(entries), 100):
            await stream.send_message(api_pb2.VolumeListFilesResponse(entries=entries[start : start + 100]))
        if not entries:
            await stream.send_message(api_pb2.VolumeListFilesResponse())

    async def VolumeGetFile2(self, stream) -> None:
        request: api_pb2.VolumeGetFile2Request = await stream.recv_message()
        volume = self._volume(request.volume_id)
        path = normalise(request.path)
        entry = volume.files.get(path)
        if entry is None:
            raise GRPCError(Status.NOT_FOUND, f"No such file: '{path}'")
        data = entry.data
        start = min(request.start, len(data))
        end = len(data) if not request.len else min(len(data), start + request.len)
        urls = []
        for block_index in range(start // BLOCK_SIZE, -(-end // BLOCK_SIZE)):
            block = data[block_index * BLOCK_SIZE : (block_index + 1) * BLOCK_SIZE]
            digest = hashlib.sha256(block).hexdigest()
            self.store.blocks[digest] = block
            low = max(start, block_index * BLOCK_SIZE) - block_index * BLOCK_SIZE
            high = min(end, (block_index + 1) * BLOCK_SIZE) - block_index * BLOCK_SIZE
            urls.append(f"{self.blob_url}/block/{digest}?offset={low}&length={high - low}")
        await stream.send_message(
            api_pb2.VolumeGetFile2Response(get_urls=urls, size=len(data), start=start, len=end - start)
        )

    async def VolumeRemoveFile(self, stream) -> None:
        request: api_pb2.VolumeRemoveFileRequest = await stream.recv_message()
        volume = self._volume(request.volume_id)
        path = normalise(request.path)
        if path in volume.files:
            del volume.files[path]
        elif path in _dirs_of(volume.files) or not path:
            if not request.recursive:
                raise GRPCError(
                    Status.INVALID_ARGUMENT, f"'{path or '/'}' is a directory: use recursive=True (--recursive)"
                )
            for existing in [p for p in volume.files if not path or p.startswith(path + "/")]:
                del volume.files[existing]
        else:
            raise GRPCError(Status.NOT_FOUND, f"No such file or directory: '{path}'")
        self.changed()
        await stream.send_message(empty_pb2.Empty())

    async def MountPutFile(self, stream) -> None:
        """Content upload shared by mounts and v1 volume puts: the file's bytes keyed by sha256."""
        request: api_pb2.MountPutFileRequest = await stream.recv_message()
        if request.WhichOneof("data_oneof") == "data":
            self.store.mount_file_contents[request.sha256_hex] = request.data
        elif request.WhichOneof("data_oneof") == "data_blob_id":
            self.store.mount_file_contents[request.sha256_hex] = self.store.blobs[request.data_blob_id]
        response = api_pb2.MountPutFileResponse(exists=request.sha256_hex in self.store.mount_file_contents)
        response.checked_at.GetCurrentTime()
        await stream.send_message(response)

    async def VolumePutFiles(self, stream) -> None:
        request: api_pb2.VolumePutFilesRequest = await stream.recv_message()
        volume = self._volume(request.volume_id)
        for file in request.files:
            path = normalise(file.filename)
            if path in volume.files and request.disallow_overwrite_existing_files:
                raise GRPCError(Status.ALREADY_EXISTS, f"{path}: already exists")
            if file.sha256_hex not in self.store.mount_file_contents:
                raise GRPCError(Status.NOT_FOUND, f"{path}: content {file.sha256_hex} was never uploaded")
        for file in request.files:
            volume.files[normalise(file.filename)] = VolumeFile(
                data=self.store.mount_file_contents[file.sha256_hex], mtime=time.time(), mode=file.mode or 0o644
            )
        self.changed()
        await stream.send_message(empty_pb2.Empty())
