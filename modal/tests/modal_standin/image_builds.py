"""Planned image builds (`POST /behaviour {"imageBuild": ...}`): the next image(s) a deploy asks for are "built".

Without it every image is already built (ImageGetOrCreate answers SUCCESS) and the client goes straight on. With
{"logs": ["line", ...], "error": "message" (optional), "times": 1}, the next `times` ImageGetOrCreate calls answer
"not built yet", so the client joins the build (ImageJoinStreaming) and prints the build's log lines through its
own output code, as it does for a real build; then the build succeeds, or fails with `error` (the client raises
ImageBuildError "Image build for im-... failed with the exception: ...").
"""

from __future__ import annotations


class ImageBuildError(ValueError):
    """An imageBuild behaviour is malformed; the message names the field."""


def parse_image_build(value) -> dict:
    if not isinstance(value, dict):
        raise ImageBuildError('imageBuild: an object {"logs": [...], "error"?: "...", "times"?: N} is required')
    unknown = set(value) - {"logs", "error", "times"}
    if unknown:
        raise ImageBuildError(f"imageBuild: unknown field(s) {sorted(unknown)}")
    logs = value.get("logs", [])
    if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
        raise ImageBuildError("imageBuild.logs must be a list of strings")
    error = value.get("error")
    if error is not None and not isinstance(error, str):
        raise ImageBuildError("imageBuild.error must be a string (the build's exception) or absent")
    times = value.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ImageBuildError("imageBuild.times must be an integer >= 1")
    return {"logs": list(logs), "error": error, "times": times}


def take_build(behaviour: dict):
    """The build the next ImageGetOrCreate performs (None: already built); counts it against `times`."""
    build = behaviour.get("imageBuild")
    if not build:
        return None
    build["times"] -= 1
    if build["times"] <= 0:
        del behaviour["imageBuild"]
    return {"logs": build["logs"], "error": build["error"]}
