"""Everything the stand-in control plane knows, in memory, optionally pickled to a state folder after each change.

One Store per server process. The gRPC servicer and the HTTP control API run on one asyncio loop in one thread,
so the store needs no locks.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from modal_proto import api_pb2

from .ids import new_id

DEFAULT_ENVIRONMENT = "main"
STATE_FILE = "standin-state.pickle"


@dataclass
class Environment:
    name: str
    environment_id: str
    created_at: float


@dataclass
class AppVersion:
    """One entry of an app's deployment history (what `modal app history` lists)."""

    version: int
    tag: str
    deployed_at: float
    client_version: str
    function_ids: dict
    class_ids: dict
    definition_ids: dict
    # tag -> definition id as published: function ids are reused across versions, their definitions are not.
    definitions_by_tag: dict = field(default_factory=dict)
    commit_hash: str = ""
    commit_dirty: bool = False
    rollback_version: int = 0
    # What reached the control plane for this version: one entry per function/class (see deploy_record.py).
    record: list = field(default_factory=list)
    publish_request: dict = field(default_factory=dict)


@dataclass
class LogLine:
    timestamp: float
    data: str
    fd: int = api_pb2.FILE_DESCRIPTOR_STDOUT
    task_id: str = ""
    function_id: str = ""
    function_call_id: str = ""


@dataclass
class App:
    app_id: str
    description: str
    environment: str
    state: int
    created_at: float
    name: str = ""  # the deployment name; empty until AppPublish of a deployed app
    deployed_at: float = 0.0
    stopped_at: float = 0.0
    stopped_by: str = ""
    versions: list = field(default_factory=list)
    # The live layout: tag -> object id (a rollback swaps these for an older version's).
    function_ids: dict = field(default_factory=dict)
    class_ids: dict = field(default_factory=dict)
    logs: list = field(default_factory=list)

    def current_version(self) -> Optional[AppVersion]:
        return self.versions[-1] if self.versions else None


@dataclass
class FunctionRecord:
    """A function (or a class's service function) as FunctionCreate defined it."""

    function_id: str
    app_id: str
    tag: str
    definition: Any  # api_pb2.Function
    definition_id: str
    create_request: dict = field(default_factory=dict)
    # update_autoscaler settings in force (merged); the next deployed version resets them, as the client's docs say
    autoscaler_override: dict = field(default_factory=dict)
    bound_from: str = ""  # a Cls() instance's bound function points at its class service function


@dataclass
class ClassRecord:
    class_id: str
    app_id: str
    tag: str
    request: dict = field(default_factory=dict)


@dataclass
class VolumeFile:
    data: bytes
    mtime: float
    mode: int = 0o644


@dataclass
class Volume:
    volume_id: str
    name: str
    environment: str
    created_at: float
    fs_version: int
    files: dict = field(default_factory=dict)  # path without leading "/" -> VolumeFile
    commits: int = 0
    reloads: int = 0


@dataclass
class Secret:
    secret_id: str
    name: str
    environment: str
    keys: dict
    created_at: float
    last_used_at: float = 0.0


@dataclass
class Plan:
    """What the next call(s) of a function do: run for duration_ms, then return `result` or raise `error`."""

    duration_ms: int = 0
    result: Any = None
    error: Optional[dict] = None
    writes: list = field(default_factory=list)
    app: str = ""  # only calls into this app name use the plan (empty: any app)


@dataclass
class FunctionCall:
    function_call_id: str
    input_id: str
    function_id: str
    function_name: str
    app_id: str
    app_name: str
    args: Any
    kwargs: Any
    data_format: int
    invocation: str  # "spawn" or "remote"
    created_at: float
    plan: Plan
    state: str = "running"  # queued | running | succeeded | failed | cancelled
    started_at: float = 0.0  # when it left the queue (a container slot was free)
    completed_at: float = 0.0
    result_item: Any = None  # api_pb2.FunctionGetOutputsItem once finished
    expired: bool = False  # the output is gone (delivered with clear_on_success, or expired by a test)


class Store:
    def __init__(self, state_dir: Optional[Path] = None):
        self.state_dir = state_dir
        self.reset()

    def reset(self) -> None:
        now = time.time()
        self.environments = {DEFAULT_ENVIRONMENT: Environment(DEFAULT_ENVIRONMENT, new_id("en"), now)}
        self.apps: dict = {}
        self.functions: dict = {}
        self.definitions: dict = {}  # definition id -> api_pb2.Function (content-addressed)
        self.classes: dict = {}
        self.volumes: dict = {}
        self.secrets: dict = {}
        self.images: dict = {}  # image_id -> {"request": dict, "key": bytes}
        self.image_builds: dict = {}  # image_id -> a planned build ImageJoinStreaming will stream
        self.mounts: dict = {}  # mount_id -> {"files": {filename: sha256_hex}}
        self.mount_file_contents: dict = {}  # sha256_hex -> bytes
        self.blobs: dict = {}  # blob_id -> bytes
        self.blocks: dict = {}  # sha256 hex of a volume block -> bytes
        self.calls: dict = {}
        self.plans: dict = {}  # function name -> [Plan, ...]
        self.behaviour: dict = {}
        self.autoscaler_updates: list = []  # every update_autoscaler call, in order (a log; never reset by deploys)
        self.web_url_overrides: dict = {}  # "<environment>/<app name>" -> URL every web method of that app reports
        self.rpc_counts: dict = {}
        self.unimplemented: list = []

    # -- environments ------------------------------------------------------------------------------------------

    def environment(self, name: str) -> Optional[Environment]:
        return self.environments.get(name or DEFAULT_ENVIRONMENT)

    # -- apps --------------------------------------------------------------------------------------------------

    def deployed_app(self, name: str, environment: str) -> Optional[App]:
        """The app currently deployed under `name` (a stopped one no longer is)."""
        for app in self.apps.values():
            if app.name == name and app.environment == environment and app.state == api_pb2.APP_STATE_DEPLOYED:
                return app
        return None

    def latest_app_named(self, name: str, environment: str) -> Optional[App]:
        """The newest app that ever carried `name` (deployed or stopped)."""
        named = [app for app in self.apps.values() if app.name == name and app.environment == environment]
        return max(named, key=lambda app: app.created_at) if named else None

    def app_of_function(self, function_id: str) -> Optional[App]:
        record = self.functions.get(function_id)
        return self.apps.get(record.app_id) if record else None

    # -- volumes and secrets -----------------------------------------------------------------------------------

    def volume_named(self, name: str, environment: str) -> Optional[Volume]:
        for volume in self.volumes.values():
            if volume.name == name and volume.environment == environment:
                return volume
        return None

    def create_volume(self, name: str, environment: str, fs_version: int = api_pb2.VOLUME_FS_VERSION_V1) -> Volume:
        volume = Volume(new_id("vo"), name, environment, time.time(), fs_version)
        self.volumes[volume.volume_id] = volume
        return volume

    def secret_named(self, name: str, environment: str) -> Optional[Secret]:
        for secret in self.secrets.values():
            if secret.name == name and secret.environment == environment:
                return secret
        return None

    def put_secret(self, name: str, environment: str, keys: dict, overwrite: bool = True) -> Secret:
        existing = self.secret_named(name, environment)
        if existing is not None:
            if overwrite:
                existing.keys = dict(keys)
            return existing
        return self.create_secret(name, environment, keys)

    def create_secret(self, name: str, environment: str, keys: dict) -> Secret:
        secret = Secret(new_id("st"), name, environment, dict(keys), time.time())
        self.secrets[secret.secret_id] = secret
        return secret

    # -- persistence -------------------------------------------------------------------------------------------

    def _persistent_fields(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "state_dir"}

    def save(self) -> None:
        """Pickles the state to the state folder (when one was given) through a temp file and a rename."""
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        target = self.state_dir / STATE_FILE
        temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        with open(temp, "wb") as handle:
            pickle.dump(self._persistent_fields(), handle)
        os.replace(temp, target)

    def load(self) -> bool:
        """Restores a previous run's state from the state folder; False when there is none."""
        if self.state_dir is None or not (self.state_dir / STATE_FILE).exists():
            return False
        with open(self.state_dir / STATE_FILE, "rb") as handle:
            self.__dict__.update(pickle.load(handle))
        return True
