"""Hello, environments, secrets, images, mounts and blobs.

Images are never built: ImageGetOrCreate answers "already built" (result SUCCESS), so the client goes straight on
to create its functions. Images and mounts are content-addressed (the same definition gets the same id), so an
unchanged redeploy produces unchanged function definitions, which is what makes Modal's no-op deploy possible.
"""

from __future__ import annotations

import hashlib
import time

from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
from grpclib import GRPCError, Status
from modal_proto import api_pb2

from .ids import new_id
from .image_builds import take_build

IMAGE_BUILDER_VERSION = "2025.06"
CREATED_BY = "standin-user"


class ObjectRpcs:
    async def ClientHello(self, stream) -> None:
        await stream.recv_message()
        await stream.send_message(api_pb2.ClientHelloResponse(image_builder_version=IMAGE_BUILDER_VERSION))

    # -- environments ------------------------------------------------------------------------------------------

    async def EnvironmentGetOrCreate(self, stream) -> None:
        request: api_pb2.EnvironmentGetOrCreateRequest = await stream.recv_message()
        environment = self.store.environment(request.deployment_name)
        if environment is None:
            raise GRPCError(Status.NOT_FOUND, f"Environment '{request.deployment_name}' not found")
        metadata = api_pb2.EnvironmentMetadata(
            name=environment.name,
            settings=api_pb2.EnvironmentSettings(image_builder_version=IMAGE_BUILDER_VERSION, webhook_suffix="standin"),
        )
        await stream.send_message(
            api_pb2.EnvironmentGetOrCreateResponse(environment_id=environment.environment_id, metadata=metadata)
        )

    async def EnvironmentList(self, stream) -> None:
        await stream.recv_message()
        response = api_pb2.EnvironmentListResponse()
        for environment in self.store.environments.values():
            response.items.append(
                api_pb2.EnvironmentListItem(
                    name=environment.name,
                    environment_id=environment.environment_id,
                    created_at=environment.created_at,
                    webhook_suffix="standin",
                    default=environment.name == "main",
                    image_builder_version=IMAGE_BUILDER_VERSION,
                )
            )
        await stream.send_message(response)

    # -- secrets -----------------------------------------------------------------------------------------------

    def secret_metadata(self, secret) -> api_pb2.SecretMetadata:
        return api_pb2.SecretMetadata(
            name=secret.name,
            environment_name=secret.environment,
            keys=sorted(secret.keys),
            last_used_at=secret.last_used_at,
            creation_info=api_pb2.CreationInfo(created_at=secret.created_at, created_by=CREATED_BY),
        )

    async def SecretGetOrCreate(self, stream) -> None:
        request: api_pb2.SecretGetOrCreateRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        kind = request.object_creation_type
        existing = self.store.secret_named(request.deployment_name, environment) if request.deployment_name else None
        if kind == api_pb2.OBJECT_CREATION_TYPE_UNSPECIFIED:
            if existing is None:
                raise GRPCError(
                    Status.NOT_FOUND, f"Secret '{request.deployment_name}' not found in environment '{environment}'"
                )
            missing = sorted(set(request.required_keys) - set(existing.keys))
            if missing:
                raise GRPCError(
                    Status.NOT_FOUND,
                    f"Secret '{existing.name}' is missing the required key(s): {', '.join(missing)}",
                )
            existing.last_used_at = time.time()
            secret = existing
        elif kind == api_pb2.OBJECT_CREATION_TYPE_CREATE_FAIL_IF_EXISTS and existing is not None:
            raise GRPCError(Status.ALREADY_EXISTS, f"Secret '{request.deployment_name}' already exists")
        elif kind in (api_pb2.OBJECT_CREATION_TYPE_EPHEMERAL, api_pb2.OBJECT_CREATION_TYPE_ANONYMOUS_OWNED_BY_APP):
            secret = self.store.create_secret("", environment, dict(request.env_dict))
        else:
            overwrite = kind == api_pb2.OBJECT_CREATION_TYPE_CREATE_OVERWRITE_IF_EXISTS
            secret = self.store.put_secret(request.deployment_name, environment, dict(request.env_dict), overwrite)
        self.changed()
        await stream.send_message(
            api_pb2.SecretGetOrCreateResponse(secret_id=secret.secret_id, metadata=self.secret_metadata(secret))
        )

    async def SecretGetInfo(self, stream) -> None:
        request: api_pb2.SecretGetInfoRequest = await stream.recv_message()
        secret = self.store.secrets.get(request.secret_id)
        if secret is None:
            raise GRPCError(Status.NOT_FOUND, f"Secret {request.secret_id} not found")
        await stream.send_message(api_pb2.SecretGetInfoResponse(metadata=self.secret_metadata(secret)))

    async def SecretList(self, stream) -> None:
        request: api_pb2.SecretListRequest = await stream.recv_message()
        environment = self._environment_name(request.environment_name)
        secrets = self.listed_page(self.store.secrets.values(), environment, request.pagination)
        response = api_pb2.SecretListResponse(environment_name=environment)
        for secret in secrets:
            response.items.append(
                api_pb2.SecretListItem(
                    label=secret.name,
                    secret_id=secret.secret_id,
                    created_at=secret.created_at,
                    last_used_at=secret.last_used_at,
                    environment_name=environment,
                    metadata=self.secret_metadata(secret),
                )
            )
        await stream.send_message(response)

    async def SecretDelete(self, stream) -> None:
        request: api_pb2.SecretDeleteRequest = await stream.recv_message()
        if self.store.secrets.pop(request.secret_id, None) is None:
            raise GRPCError(Status.NOT_FOUND, f"Secret {request.secret_id} not found")
        self.changed()
        await stream.send_message(empty_pb2.Empty())

    # -- images ------------------------------------------------------------------------------------------------

    def _image_metadata(self) -> api_pb2.ImageMetadata:
        return api_pb2.ImageMetadata(
            python_version_info="3.11.13 (main, standin)", image_builder_version=IMAGE_BUILDER_VERSION
        )

    async def ImageGetOrCreate(self, stream) -> None:
        request: api_pb2.ImageGetOrCreateRequest = await stream.recv_message()
        key = request.image.SerializeToString(deterministic=True) + request.builder_version.encode()
        image_id = next((iid for iid, image in self.store.images.items() if image["key"] == key), None)
        if image_id is None:
            image_id = "im-" + hashlib.sha256(key).hexdigest()[:22]
            self.store.images[image_id] = {
                "key": key,
                "dockerfile_commands": list(request.image.dockerfile_commands),
                "base_images": [
                    {"imageId": base.image_id, "dockerTag": base.docker_tag} for base in request.image.base_images
                ],
                "request": MessageToDict(request, preserving_proto_field_name=True),
            }
            self.changed()
        build = take_build(self.store.behaviour)
        if build is not None:
            # Not built yet: the client joins the build and streams its logs (ImageJoinStreaming).
            self.store.image_builds[image_id] = build
            self.changed()
            await stream.send_message(api_pb2.ImageGetOrCreateResponse(image_id=image_id))
            return
        result = api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS)
        await stream.send_message(
            api_pb2.ImageGetOrCreateResponse(image_id=image_id, result=result, metadata=self._image_metadata())
        )

    async def ImageJoinStreaming(self, stream) -> None:
        request: api_pb2.ImageJoinStreamingRequest = await stream.recv_message()
        if request.image_id not in self.store.images:
            raise GRPCError(Status.NOT_FOUND, f"Image {request.image_id} not found")
        build = self.store.image_builds.pop(request.image_id, None) or {"logs": [], "error": None}
        for index, line in enumerate(build["logs"]):
            logs = api_pb2.TaskLogs(data=line if line.endswith("\n") else line + "\n", timestamp=time.time())
            logs.file_descriptor = api_pb2.FILE_DESCRIPTOR_STDOUT
            await stream.send_message(api_pb2.ImageJoinStreamingResponse(task_logs=[logs], entry_id=str(index + 1)))
        if build["error"] is None:
            result = api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS)
        else:
            result = api_pb2.GenericResult(
                status=api_pb2.GenericResult.GENERIC_STATUS_FAILURE, exception=build["error"]
            )
        self.changed()
        await stream.send_message(
            api_pb2.ImageJoinStreamingResponse(result=result, metadata=self._image_metadata(), eof=True)
        )

    # -- mounts ------------------------------------------------------------------------------------------------

    async def MountBatchedCheckExistence(self, stream) -> None:
        request: api_pb2.MountBatchedCheckExistenceRequest = await stream.recv_message()
        missing = [h for h in request.sha256_hex_hashes if h not in self.store.mount_file_contents]
        response = api_pb2.MountBatchedCheckExistenceResponse(missing_sha256_hex_hashes=missing)
        response.checked_at.GetCurrentTime()
        await stream.send_message(response)

    async def MountGetOrCreate(self, stream) -> None:
        request: api_pb2.MountGetOrCreateRequest = await stream.recv_message()
        files = sorted((f.filename, f.sha256_hex, f.mode) for f in request.files)
        for filename, sha256_hex, _ in files:
            if sha256_hex not in self.store.mount_file_contents:
                raise GRPCError(Status.NOT_FOUND, f"Mount file {filename}: content {sha256_hex} was never uploaded")
        checksum = hashlib.sha256(repr((request.deployment_name, files)).encode()).hexdigest()
        mount_id = "mo-" + checksum[:22]
        self.store.mounts[mount_id] = {"files": {name: sha for name, sha, _ in files}}
        self.changed()
        await stream.send_message(
            api_pb2.MountGetOrCreateResponse(
                mount_id=mount_id, handle_metadata=api_pb2.MountHandleMetadata(content_checksum_sha256_hex=checksum)
            )
        )

    # -- blobs -------------------------------------------------------------------------------------------------

    async def BlobCreate(self, stream) -> None:
        await stream.recv_message()
        blob_id = new_id("bl")
        response = api_pb2.BlobCreateResponse(blob_ids=[blob_id])
        response.upload_urls.items.append(f"{self.blob_url}/blob/{blob_id}")
        await stream.send_message(response)

    async def BlobGet(self, stream) -> None:
        request: api_pb2.BlobGetRequest = await stream.recv_message()
        if request.blob_id not in self.store.blobs:
            raise GRPCError(Status.NOT_FOUND, f"Blob {request.blob_id} not found")
        await stream.send_message(api_pb2.BlobGetResponse(download_url=f"{self.blob_url}/blob/{request.blob_id}"))
