"""What a deploy told the control plane, decoded from the client's FunctionCreate requests into plain JSON.

One entry per function of the published app (a class appears as its service function `Cls.*`): GPU as Modal's
"TYPE:COUNT" string, volumes by name with their mount paths, secrets by name, scaling, concurrency, timeouts, the
web endpoint, and the image. Tests compare this with the rendered deploy config.
"""

from __future__ import annotations

from typing import Optional

from modal_proto import api_pb2


def gpu_string(resources) -> Optional[str]:
    """Modal's GPU spelling: "B200:8" for eight, "H100" for one, None for a CPU function."""
    config = resources.gpu_config
    if not config.count and not config.gpu_type:
        return None
    gpu_type = config.gpu_type or api_pb2.GPUType.Name(config.type).replace("GPU_TYPE_", "")
    return gpu_type if config.count <= 1 else f"{gpu_type}:{config.count}"


def _webhook(config) -> Optional[dict]:
    if not config.type:
        return None
    return {
        "type": api_pb2.WebhookType.Name(config.type),
        "webServerPort": config.web_server_port or None,
        "webServerStartupTimeout": config.web_server_startup_timeout or None,
        "requiresProxyAuth": config.requires_proxy_auth,
        "method": config.method or None,
    }


def image_layers(store, image_id: str) -> list:
    """The image's Dockerfile commands layer by layer, base first (each layer names its base with "FROM base")."""
    image = store.images.get(image_id)
    if image is None:
        return []
    layers = []
    for base in image.get("base_images", []):
        layers += image_layers(store, base["imageId"])
    return layers + [{"imageId": image_id, "dockerfileCommands": image.get("dockerfile_commands", [])}]


def describe_function(store, record) -> dict:
    fn: api_pb2.Function = record.definition
    autoscaler = fn.autoscaler_settings
    volumes = []
    for mount in fn.volume_mounts:
        volume = store.volumes.get(mount.volume_id)
        volumes.append(
            {
                "name": volume.name if volume else None,
                "volumeId": mount.volume_id,
                "mountPath": mount.mount_path,
                "readOnly": mount.read_only,
            }
        )
    secrets = []
    for secret_id in fn.secret_ids:
        secret = store.secrets.get(secret_id)
        secrets.append(secret.name if secret else secret_id)
    methods = {}
    for name, method in fn.method_definitions.items():
        methods[name] = {"webEndpoint": _webhook(method.webhook_config), "webUrl": method.web_url or None}
    return {
        "name": record.tag,
        "functionId": record.function_id,
        "definitionId": record.definition_id,
        "kind": "class" if fn.is_class else "function",
        "gpu": gpu_string(fn.resources),
        "cpu": fn.resources.milli_cpu / 1000 if fn.resources.milli_cpu else None,
        "memoryMb": fn.resources.memory_mb or None,
        "volumes": sorted(volumes, key=lambda entry: entry["mountPath"]),
        "secrets": secrets,
        "scaling": {
            "minContainers": autoscaler.min_containers if autoscaler.HasField("min_containers") else fn.warm_pool_size,
            "maxContainers": (
                autoscaler.max_containers if autoscaler.HasField("max_containers") else fn.concurrency_limit
            )
            or None,
            "scaledownWindow": (
                autoscaler.scaledown_window if autoscaler.HasField("scaledown_window") else fn.task_idle_timeout_secs
            )
            or None,
            "bufferContainers": autoscaler.buffer_containers if autoscaler.HasField("buffer_containers") else 0,
        },
        "concurrency": {
            "maxInputs": fn.max_concurrent_inputs or None,
            "targetInputs": fn.target_concurrent_inputs or None,
            "inputsPerContainer": fn.max_inputs or None,
        },
        "timeouts": {"timeout": fn.timeout_secs or None, "startupTimeout": fn.startup_timeout_secs or None},
        "webEndpoint": _webhook(fn.webhook_config),
        "methods": methods,
        "image": {"imageId": fn.image_id, "layers": image_layers(store, fn.image_id)},
        "mounts": [
            {"mountId": mount_id, "files": dict(store.mounts.get(mount_id, {}).get("files", {}))}
            for mount_id in sorted(fn.mount_ids)
        ],
        "autoscalerOverride": dict(record.autoscaler_override),
    }


def describe_deploy(store, function_ids, class_ids) -> list:
    described = []
    for tag in sorted(function_ids):
        record = store.functions.get(function_ids[tag])
        if record is not None:
            described.append(describe_function(store, record))
    for tag in sorted(class_ids):
        described.append({"name": tag, "kind": "class-handle", "classId": class_ids[tag]})
    return described
