#!/usr/bin/env python3
"""Compute SGLang bench_serving's own figures for recorded per-request timings: the oracle of glm-ops' loadgen.

    .venv/bin/python scripts/bench-serving-oracle.py test/fixtures/loadgen/bench-serving-cases.json [--sglang 0.5.17]

The cases file holds runs as glm-ops' loadgen records them (per request: success, start time, TTFT, latency, the
inter-chunk gaps and the tokens each chunk carried, output and prompt tokens; per run: the duration and the accept
length). This script downloads the pinned sglang wheel from PyPI with `pip download --no-deps` (nothing installed:
no torch, no CUDA), unpacks its `sglang/benchmark/` package into a temporary folder (under an empty `sglang/__init__.py`: the real
one loads SGLang's frontend language, which the benchmark does not use), and imports `sglang.benchmark.serving` (the module
`python -m sglang.bench_serving` runs) with inert stand-ins for the imports `calculate_metrics` never calls
(transformers, orjson, requests, tqdm, PIL, SGLang's server package); numpy is real (requirements.txt), since its
mean, std and percentile are the definitions being checked. Each run's records become `RequestFuncOutput`s and
`DatasetRow`s, `calculate_metrics` computes the figures, and the script writes them back into the cases file under
`bench_serving`, with the wheel's sha256 and the keys of the JSON line bench_serving writes (read from its
`benchmark()` source with `ast`). The jest test `test/loadgen/bench-serving-oracle.test.ts` compares glm-ops'
figures with these. Only refreshing the file needs the network.

A chunk's tokens reach bench_serving the way it counts them: it re-tokenises each chunk's text when the server
reports an accept length, so each chunk's text here is that many space-separated words and the stand-in tokenizer
counts words.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.abc
import importlib.machinery
import json
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

#: Imports of sglang.benchmark.serving (and the dataset modules it loads) that calculate_metrics never calls.
STAND_IN_TOPS = {"transformers", "orjson", "requests", "tqdm", "PIL", "pybase64", "datasets", "termplotlib"}


class StandIn(types.ModuleType):
    """A module whose every attribute is an inert class, so `from x import Y` and `class Z(Y)` both work."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__ = []  # a package, so submodules import too

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = type(attr, (), {"__init__": lambda self, *a, **k: None})
        setattr(self, attr, value)
        return value


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top in STAND_IN_TOPS or fullname == "sglang.srt" or fullname.startswith("sglang.srt."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return StandIn(spec.name)

    def exec_module(self, module):
        return None


class WordTokenizer:
    """bench_serving re-tokenises chunk texts; here a chunk of n tokens is n words."""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [0] * len(text.split())


def download_wheel(version: str, dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", f"sglang=={version}", "-d", str(dest)],
        check=True,
    )
    wheels = sorted(dest.glob(f"sglang-{version}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download sglang=={version} produced no wheel in {dest}")
    return wheels[0]


def result_keys(serving_source: str) -> list[str]:
    """The keys of the `result = {...}` dict bench_serving's benchmark() writes as one JSON line."""
    tree = ast.parse(serving_source)
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "benchmark":
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "result" for t in inner.targets)
                    and isinstance(inner.value, ast.Dict)
                ):
                    return [k.value for k in inner.value.keys if isinstance(k, ast.Constant)]
    raise SystemExit("no `result = {...}` in benchmark(): bench_serving's source changed shape")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("--sglang", default="0.5.17")
    args = parser.parse_args()
    cases = json.loads(args.cases.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(args.sglang, Path(tmp))
        site = Path(tmp) / "site"
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("sglang/benchmark/") and name.endswith(".py"):
                    archive.extract(name, site)
        # The package's own __init__ loads SGLang's frontend language (IPython, ...), which the benchmark never uses.
        (site / "sglang" / "__init__.py").write_text("")
        sys.path.insert(0, str(site))
        sys.meta_path.insert(0, StandInFinder())
        from sglang.benchmark import serving  # noqa: E402

        source = (site / "sglang" / "benchmark" / "serving.py").read_text()
        for case in cases["cases"]:
            outputs, rows = [], []
            for record in case["records"]:
                output = serving.RequestFuncOutput()
                output.success = record["success"]
                output.start_time = record["startTime"]
                output.ttft = record["ttft"]
                output.latency = record["latency"]
                output.itl = list(record["itl"])
                output.text_chunks = [" ".join(["t"] * n) for n in record["chunkTokens"]]
                output.output_len = record["outputTokens"]
                output.prompt_len = record["promptTokens"]
                outputs.append(output)
                rows.append(serving.DatasetRow(prompt="", prompt_len=record["promptTokens"], output_len=record["outputTokens"]))
            metrics, _ = serving.calculate_metrics(
                input_requests=rows,
                outputs=outputs,
                dur_s=case["durationS"],
                tokenizer=WordTokenizer(),
                backend="sglang-oai-chat",
                accept_length=case["acceptLength"],
            )
            case["bench_serving"] = {
                key: float(value) if not isinstance(value, int) else value for key, value in vars(metrics).items()
            }
        cases["oracle"] = {
            "sglang": args.sglang,
            "wheel": wheel.name,
            "wheelSha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "module": "sglang.benchmark.serving (python -m sglang.bench_serving)",
            "resultKeys": result_keys(source),
        }
    args.cases.write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
