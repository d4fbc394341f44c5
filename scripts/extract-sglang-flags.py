#!/usr/bin/env python3
"""Extract SGLang's server flag table, per release, from the release's own argparse parser.

    python3 scripts/extract-sglang-flags.py 0.5.10 0.5.17 0.5.23 [--out-dir src/spec/sglang-flags]

For each version it downloads the sglang wheel from PyPI with `pip download --no-deps` (nothing is installed: no
torch, no CUDA), unpacks the `sglang` package into a temporary folder and, in a child `python3 -I -S` that sees only
the standard library, that folder and msgspec (the one pure-Python-level dependency the parser's own classes are
built on), imports `sglang.srt.server_args` and calls `ServerArgs.add_cli_args` on the same
`argparse.ArgumentParser(prog=...)` that `prepare_server_args` builds. Every other third-party import (torch,
transformers, ...) is answered by an inert stand-in module, so the code runs without them; whatever the stand-ins
would have decided (choices computed from a GPU probe, say) is recorded as "dynamic" instead of guessed.

Why run the parser rather than read the source: from 0.5.2x the flags are declared through dataclass annotations
spread over a package (`sglang/srt/arg_groups/`), choices come from imported constants and registries, and argparse
itself decides metavars, `nargs` and the usage text. Running SGLang's parser code is the only way to get the table
argparse really uses. The source is still read for what argparse does not keep: comments marking deprecated choice
values (`"nsa",  # Deprecated alias for "dsa"`).

The output is one JSON file per version (`sglang-X.Y.Z.json`) with the wheel's sha256 and the extraction date. Only
the developer who refreshes the tables needs the network; tests read the committed files.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

#: msgspec is what ServerArgs and its `Arg` metadata are built on (0.5.2x); pinned so a refresh is reproducible.
MSGSPEC_REQUIREMENT = "msgspec==0.23.0"
#: The table format; bump it when a field changes meaning.
FORMAT_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "spec" / "sglang-flags"


def pip_download(requirement: str, dest: Path) -> Path:
    """Downloads one wheel (no dependencies) and returns its path."""
    before = set(dest.glob("*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", requirement, "-d", str(dest)],
        check=True,
    )
    new = sorted(set(dest.glob("*.whl")) - before) or sorted(dest.glob(f"{requirement.split('==')[0]}-*.whl"))
    if not new:
        raise SystemExit(f"pip download {requirement} produced no wheel in {dest}")
    return new[-1]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack(wheel: Path, site: Path, top: str) -> None:
    """Unpacks the `top` package of a wheel (sources and, for msgspec, its extension module)."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(f"{top}/"):
                archive.extract(name, site)


def render_table(table: dict) -> str:
    """Pretty JSON with one flag per line: small enough to import, and a release's changes read as a line diff."""
    head = {key: value for key, value in table.items() if key != "flags"}
    lines = json.dumps(head, indent=2, ensure_ascii=False)[:-2].rstrip()
    flags = ",\n".join(f"    {json.dumps(flag, ensure_ascii=False, separators=(',', ':'))}" for flag in table["flags"])
    return f"{lines},\n  \"flags\": [\n{flags}\n  ]\n}}\n"


def run_child(site: Path) -> dict:
    """Runs the extraction child over an unpacked `sglang` package folder and returns its raw table."""
    child = subprocess.run(
        [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--child", str(site)],
        # A clean environment: SGLANG_* variables change defaults and choices at add_cli_args time.
        # PYTHONHASHSEED fixes the order argparse prints set-valued choices in, so a refresh reproduces the file.
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "80", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise SystemExit(f"extracting the flags under {site} failed (exit {child.returncode})")
    return json.loads(child.stdout)


def finish_table(raw: dict, version: str, wheel: dict | None) -> dict:
    if raw["version"] != version:
        raise SystemExit(f"the package says it is sglang {raw['version']}, not {version}")
    return {
        "format": FORMAT_VERSION,
        "version": version,
        "wheel": wheel,
        "extractedAt": datetime.date.today().isoformat(),
        "extractedWith": f"scripts/extract-sglang-flags.py (python {raw['python']}, argparse of the standard library)",
        **{key: value for key, value in raw.items() if key not in ("version", "python")},
    }


def write_table(table: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"sglang-{table['version']}.json"
    out.write_text(render_table(table))
    return out


def extract_version(version: str, out_dir: Path, wheel: Path | None, work: Path) -> Path:
    downloads = work / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    wheel = wheel or pip_download(f"sglang=={version}", downloads)
    site = work / f"site-{version}"
    site.mkdir(parents=True, exist_ok=True)
    unpack(wheel, site, "sglang")
    unpack(pip_download(MSGSPEC_REQUIREMENT, downloads), site, "msgspec")
    raw = run_child(site)
    return write_table(finish_table(raw, version, {"file": wheel.name, "sha256": sha256_of(wheel)}), out_dir)


# --------------------------------------------------------------------------------------------------------------------
# The child: runs with the standard library, the unpacked sglang package and msgspec only.
# --------------------------------------------------------------------------------------------------------------------

REAL_TOP_LEVEL = {"sglang", "msgspec"}

#: What the stand-ins answer where "anything" would mislead the platform probes: a CPU-only torch with no vendor
#: extensions (`hasattr(torch, "npu")` must be False, `torch.version.hip` None), so the table is the one SGLang builds
#: on a machine without accelerators.
ABSENT = object()
STAND_IN_OVERRIDES = {
    "torch.__version__": "2.9.0",
    "torch.version.hip": None,
    "torch.version.cuda": None,
    "torch.version.musa": ABSENT,
    "torch.npu": ABSENT,
    "torch.hpu": ABSENT,
    "torch_npu": ABSENT,
    # Module-level `Processor.to_str()` pickles a class: bytes, not the class a decorator-like call would hand back.
    "dill.dumps": lambda obj, *args, **kwargs: b"",
    # `sglang/__init__.py` (0.5.2x) patches transformers' config validators at import time.
    "transformers.PretrainedConfig.__class_validators__": [],
}


def install_stand_ins() -> list[str]:
    """Answers every import that is neither the standard library nor sglang/msgspec with an inert module."""
    import importlib.abc
    import importlib.machinery
    import types

    stubbed: list[str] = []

    import abc

    # An ABCMeta, so `class Op(nn.Module, ABC)` has no metaclass conflict.
    class StandInMeta(abc.ABCMeta):
        # Attribute access, calls, indexing, iteration and arithmetic all yield another stand-in, so module-level code
        # such as `is_cuda = torch.cuda.is_available()` or `@torch.compile` runs. Stand-ins are falsy: "no GPU".
        def __getattr__(cls, name: str):
            return attribute(cls.__qualname__, name)

        def __call__(cls, *args, **kwargs):
            if "_stand_in" not in cls.__dict__:
                return super().__call__(*args, **kwargs)
            return call_result(cls.__qualname__, args, kwargs)

        def __getitem__(cls, key):
            return make(f"{cls.__qualname__}[]")

        def register(cls, *args, **kwargs):
            # `AutoProcessor.register(Config, Processor)` on a stand-in; a real ABC subclass keeps ABCMeta's.
            if "_stand_in" not in cls.__dict__:
                return super().register(*args, **kwargs)
            return args[0] if args else None

        def __setitem__(cls, key, value):
            pass

        def __delitem__(cls, key):
            pass

        def __iter__(cls):
            return iter(())

        def __len__(cls):
            return 0

        def __bool__(cls):
            return False

        def __contains__(cls, item):
            return False

        def __int__(cls):
            return 0

        def __index__(cls):
            return 0

        def __float__(cls):
            return 0.0

        def __enter__(cls):
            return cls

        def __exit__(cls, *exc):
            return False

        def __lt__(cls, other):
            return False

        def __gt__(cls, other):
            return True

        __le__, __ge__ = __lt__, __gt__

        def __add__(cls, other):
            return cls

        __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
        __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __add__

        def __neg__(cls):
            return cls

        __pos__ = __abs__ = __invert__ = __neg__

        def __repr__(cls):
            return f"<stand-in {cls.__qualname__}>"

    class StandInValue(str):
        # What calling a stand-in returns: an empty string (so `getattr(torch, device)` and `device == "cuda"` work)
        # that still answers attributes and calls.
        def __getattr__(self, name: str):
            if name.startswith("__") and name.endswith("__"):
                raise AttributeError(name)
            return StandInValue()

        def __call__(self, *args, **kwargs):
            return call_result("value", args, kwargs)

        def __getitem__(self, key):
            return StandInValue()

        def __setitem__(self, key, value):
            pass

        def __delitem__(self, key):
            pass

        def __iter__(self):
            return iter(())

        def __int__(self):
            return 0

        def __index__(self):
            return 0

        def __float__(self):
            return 0.0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        # Compared with anything, a stand-in is "newer": version gates such as `torch_release >= (2, 4)` pass.
        def __lt__(self, other):
            return False

        def __gt__(self, other):
            return True

        __le__, __ge__ = __lt__, __gt__

        def __add__(self, other):
            return self

        __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
        __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __and__ = __rand__ = __add__
        __or__ = __ror__ = __xor__ = __lshift__ = __rshift__ = __matmul__ = __add__

        def __neg__(self):
            return self

        __pos__ = __abs__ = __invert__ = __neg__

    def call_result(name, args, kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not is_stand_in(args[0]):
            return args[0]  # used as a decorator
        return StandInValue()

    def attribute(owner: str, name: str):
        full = f"{owner}.{name}"
        override = STAND_IN_OVERRIDES.get(full, make)
        if override is ABSENT or (name.startswith("__") and name.endswith("__") and override is make):
            raise AttributeError(name)
        return make(full) if override is make else override

    def make(name: str):
        # Subclasses may pass class keywords (`class Kwargs(ProcessingKwargs, total=False)`): accept and ignore them.
        namespace = {"_stand_in": True, "__qualname__": name, "__module__": "stand_in"}
        namespace["__init_subclass__"] = classmethod(lambda cls, **kwargs: None)
        return StandInMeta(name, (), namespace)

    class StandInModule(types.ModuleType):
        def __getattr__(self, name: str):
            value = attribute(self.__name__, name)
            setattr(self, name, value)
            return value

    class StandInLoader(importlib.abc.Loader):
        def create_module(self, spec):
            module = StandInModule(spec.name)
            module.__path__ = []
            return module

        def exec_module(self, module):
            pass

    class StandInFinder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            top = fullname.split(".")[0]
            if top in REAL_TOP_LEVEL or top in sys.stdlib_module_names or STAND_IN_OVERRIDES.get(fullname) is ABSENT:
                return None
            if top == fullname and top not in stubbed:
                stubbed.append(top)
            return importlib.machinery.ModuleSpec(fullname, StandInLoader(), is_package=True)

    # Last: anything the standard library or the site folder provides is imported for real.
    sys.meta_path.append(StandInFinder())
    return stubbed


def is_stand_in(value) -> bool:
    return type(value).__name__ in ("StandInMeta", "StandInValue") or type(type(value)).__name__ == "StandInMeta"


def jsonable(value):
    """A JSON value for a default/const/choice, or a marker for what cannot be one."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"float": repr(value)}
    if is_stand_in(value):
        return {"dynamic": repr(value)}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(item) for item in value), key=repr)
    import enum

    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    return {"repr": repr(value)}


def type_name(kind) -> str | None:
    if kind is None:
        return None
    if kind in (int, float, str, bool):
        return kind.__name__
    if is_stand_in(kind):
        return "dynamic"
    name = getattr(kind, "__name__", None) or type(kind).__name__
    module = getattr(kind, "__module__", "") or ""
    return f"{module}.{name}" if module.startswith("sglang") else name


def deprecated_choice_values(root: Path) -> list[dict]:
    """String items of list/tuple displays marked `# Deprecated alias for "X"` in the argument sources."""
    import ast
    import io
    import re
    import tokenize

    found: list[dict] = []
    files = [root / "srt" / "server_args.py", *sorted((root / "srt" / "arg_groups").rglob("*.py"))]
    pattern = re.compile(r"deprecated alias (?:for|of) [\"'`]([^\"'`]+)[\"'`]", re.IGNORECASE)
    for file in files:
        if not file.exists():
            continue
        text = file.read_text()
        comments = {}
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                match = pattern.search(token.string)
                if match:
                    comments[token.start[0]] = match.group(1)
        if not comments:
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
                continue
            if not all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts):
                continue
            values = [item.value for item in node.elts]
            for item in node.elts:
                replacement = comments.get(item.lineno)
                if replacement is not None and replacement in values:
                    found.append(
                        {
                            "value": item.value,
                            "replacement": replacement,
                            "list": values,
                            "source": f"sglang/{file.relative_to(root).as_posix()}:{item.lineno}",
                        }
                    )
    return found


def prog_of_prepare_server_args(root: Path) -> str | None:
    """The `prog=` of the ArgumentParser that `prepare_server_args` builds (what error messages start with)."""
    import ast

    tree = ast.parse((root / "srt" / "server_args.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "prepare_server_args":
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "ArgumentParser":
                    for keyword in call.keywords:
                        if keyword.arg == "prog" and isinstance(keyword.value, ast.Constant):
                            return keyword.value.value
                    return None
    return None


def compile_deep_gemm_parser(root: Path) -> dict:
    """How `python3 -m sglang.compile_deep_gemm` parses its argv, read from its `__main__` block."""
    import ast

    path = root / "compile_deep_gemm.py"
    if not path.exists():
        return {"present": False}
    tree = ast.parse(path.read_text())
    main = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and getattr(node.test.left, "id", None) == "__name__"
        ),
        None,
    )
    calls = [ast.unparse(call) for call in ast.walk(main)] if main else []
    uses_server_args = any(call.startswith("ServerArgs.add_cli_args(") for call in calls)
    parser_call = next((call for call in calls if call.startswith("argparse.ArgumentParser(")), None)
    extra = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "CompileArgs":
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "add_argument":
                    names = [arg.value for arg in call.args if isinstance(arg, ast.Constant)]
                    kwargs = {kw.arg: ast.unparse(kw.value) for kw in call.keywords if kw.arg}
                    extra.append({"optionStrings": names, **kwargs})
    return {
        "present": True,
        "usesServerArgsParser": uses_server_args,
        "parser": parser_call,
        # argparse's default prog is the basename of sys.argv[0]: `python -m` sets it to the module's file.
        "prog": "compile_deep_gemm.py" if parser_call == "argparse.ArgumentParser()" else None,
        "extraArguments": extra,
    }


def capture_deprecation(action, parser) -> dict | None:
    """Runs a deprecated action once on a scratch namespace and records what SGLang itself prints or raises."""
    import io
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.WARNING)
    errors = io.StringIO()
    old_stderr, old_stdout = sys.stderr, sys.stdout
    sys.stderr, sys.stdout = errors, errors
    option = action.option_strings[0]
    value = None if action.nargs == 0 else (list(action.choices)[0] if action.choices else "x")
    if action.nargs in ("+", "*") or isinstance(action.nargs, int) and action.nargs > 0:
        value = [value]
    outcome = "warns"
    try:
        action(parser, argparse.Namespace(), value, option)
    except SystemExit:
        outcome = "exits"
    except Exception as err:  # noqa: BLE001 - recorded, not fatal: the table notes what happened
        outcome = f"raises {type(err).__name__}"
    finally:
        sys.stderr, sys.stdout = old_stderr, old_stdout
        root.removeHandler(handler)
        root.setLevel(old_level)
    printed = (stream.getvalue() + errors.getvalue()).strip()
    return {"outcome": outcome, "message": printed} if printed or outcome != "warns" else None


#: "Use --new-flag instead", "use --backend=auto", "Alias for --new-flag": the replacement a help text names.
REPLACEMENT_IN_HELP = __import__("re").compile(
    r"(?:\b[Uu]se|[Aa]lias (?:for|of))\s+(--[a-z0-9][a-z0-9-]*(?:=[^\s,.)]+)?)"
)


def deprecated_by_help(help_text: str, action) -> bool:
    """A help text that starts with a deprecation marker, or says this very flag is deprecated.

    A help that merely mentions another deprecated flag ("Replaces the deprecated --grpc-mode") does not count.
    """
    import re

    if re.match(r"^\W*deprecated\b", help_text, re.IGNORECASE):
        return True
    return any(f"{option} is deprecated" in help_text for option in action.option_strings)


def describe_action(action, parser, formatter) -> dict:
    entry: dict = {
        "optionStrings": list(action.option_strings),
        "dest": action.dest,
        "action": type(action).__name__,
    }
    if action.nargs is not None:
        entry["nargs"] = action.nargs
    kind = type_name(action.type)
    if kind is not None:
        entry["type"] = kind
    if action.choices is not None:
        if is_stand_in(action.choices):
            entry["choices"] = "dynamic"
        elif isinstance(action.choices, (set, frozenset)):
            # argparse prints a set in hash order, which changes from run to run: record it sorted, and say so.
            entry["choices"] = sorted(jsonable(list(action.choices)), key=repr)
            entry["choicesOrder"] = "set"
        else:
            entry["choices"] = jsonable(list(action.choices))
    default = action.default
    entry["default"] = "==SUPPRESS==" if default == argparse.SUPPRESS else jsonable(default)
    if action.const is not None:
        entry["const"] = jsonable(action.const)
    if action.required:
        entry["required"] = True
    if action.metavar is not None:
        entry["metavar"] = jsonable(action.metavar)
    hidden = action.help == argparse.SUPPRESS
    if hidden:
        entry["hidden"] = True
    else:
        # What argparse prints for this flag in the usage line, from its own formatter (metavar, choices, nargs).
        if action.nargs == 0:
            part = action.format_usage() if hasattr(action, "format_usage") else action.option_strings[0]
        else:
            metavar = formatter._get_default_metavar_for_optional(action)
            part = f"{action.option_strings[0]} {formatter._format_args(action, metavar)}"
        entry["usage"] = part if action.required else f"[{part}]"
    extras = {
        key: jsonable(value)
        for key, value in vars(action).items()
        if key
        not in {
            "option_strings",
            "dest",
            "nargs",
            "const",
            "default",
            "type",
            "choices",
            "required",
            "help",
            "metavar",
            "container",
            "deprecated",
        }
    }
    help_text = action.help if isinstance(action.help, str) and not hidden else ""
    is_deprecated = type(action).__name__.startswith("Deprecated") or deprecated_by_help(help_text, action)
    if is_deprecated:
        deprecation: dict = {}
        if extras.get("new_flag"):
            deprecation["replacement"] = extras["new_flag"]
        else:
            stated = REPLACEMENT_IN_HELP.search(help_text)
            if stated:
                deprecation["replacement"] = stated.group(1)
                deprecation["replacementFrom"] = "help"
        if extras.get("error_message"):
            deprecation["errorMessage"] = extras["error_message"]
        if help_text:
            deprecation["help"] = help_text[:400]
        if type(action).__name__.startswith("Deprecated"):
            printed = capture_deprecation(action, parser)
            if printed:
                deprecation["onUse"] = printed
        entry["deprecated"] = deprecation
    if extras:
        entry["extra"] = extras
    return entry


def child_main(site: str) -> None:
    sys.path.insert(0, site)
    stubbed = install_stand_ins()
    root = Path(site) / "sglang"
    import importlib

    version_module = importlib.import_module("sglang.version")
    server_args = importlib.import_module("sglang.srt.server_args")
    prog = prog_of_prepare_server_args(root)
    parser = argparse.ArgumentParser(prog=prog)
    server_args.ServerArgs.add_cli_args(parser)
    formatter = parser._get_formatter()
    actions = [
        describe_action(action, parser, formatter)
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
    ]
    deprecated_values = deprecated_choice_values(root)
    for entry in actions:
        choices = entry.get("choices")
        if not isinstance(choices, list):
            continue
        marks = [
            {key: mark[key] for key in ("value", "replacement", "source")}
            for mark in deprecated_values
            if mark["value"] in choices and mark["replacement"] in choices and all(v in choices for v in mark["list"])
        ]
        if marks:
            entry["deprecatedChoices"] = marks
    table = {
        "version": version_module.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "parser": {
            "prog": prog,
            "allowAbbrev": parser.allow_abbrev,
            "prefixChars": parser.prefix_chars,
            "addHelp": parser.add_help,
            "usagePrefix": "usage: ",
            "helpUsage": "[-h]" if parser.add_help else None,
        },
        "compileDeepGemm": compile_deep_gemm_parser(root),
        "standIns": sorted(stubbed),
        "flags": actions,
    }
    json.dump(table, sys.stdout)


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2])
        return
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("versions", nargs="+", help="SGLang release versions, e.g. 0.5.10 0.5.23")
    cli.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    cli.add_argument("--wheel", type=Path, help="use this downloaded wheel (one version only) instead of pip download")
    cli.add_argument("--work-dir", type=Path, help="keep downloads and unpacked sources here (default: a temp dir)")
    cli.add_argument(
        "--site",
        type=Path,
        help="read an already unpacked folder holding the `sglang` package (one version; the table has no wheel hash)",
    )
    options = cli.parse_args()
    if (options.wheel or options.site) and len(options.versions) != 1:
        cli.error("--wheel and --site go with exactly one version")
    with tempfile.TemporaryDirectory(prefix="sglang-flags-") as scratch:
        work = options.work_dir or Path(scratch)
        for version in options.versions:
            if options.site:
                out = write_table(finish_table(run_child(options.site), version, None), options.out_dir)
            else:
                out = extract_version(version, options.out_dir, options.wheel, work)
            flags = json.loads(out.read_text())["flags"]
            print(f"sglang {version}: {len(flags)} flags -> {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")


if __name__ == "__main__":
    main()
