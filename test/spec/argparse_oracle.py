"""The real argparse, rebuilt from a committed SGLang flag table, as the oracle for the TypeScript emulation.

    python3 test/spec/argparse_oracle.py TABLE.json CASES.json

CASES.json is a list of argv lists. For each it prints one JSON line: {"exit": code, "stderr": text, "dests": {...}}
(dests only when parsing succeeds). SGLang's custom actions become the standard action that stores the same thing;
its deprecation warnings are not reproduced here (the table records those verbatim).
"""

import argparse
import contextlib
import io
import json
import sys

SUPPRESS = "==SUPPRESS=="


def named(name, fn):
    fn.__name__ = name
    return fn


def type_of(name):
    if name is None:
        return None
    short = name.split(".")[-1]
    if short in ("int", "float", "str"):
        return {"int": int, "float": float, "str": str}[short]
    if short == "loads":
        return json.loads
    if short == "json_list_type":

        def json_list_type(value):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise argparse.ArgumentTypeError(f"Invalid JSON list: {value}. Please provide a valid JSON list.")

        return json_list_type
    if short == "nullable_str":
        return named("nullable_str", lambda value: None if not value or value == "None" else value)
    return named(short, lambda value: value)


def build(table):
    parser = argparse.ArgumentParser(prog=table["parser"]["prog"])
    for flag in table["flags"]:
        action = flag["action"]
        kwargs = {"dest": flag["dest"]}
        if flag.get("hidden"):
            kwargs["help"] = argparse.SUPPRESS
        default = flag.get("default")
        kwargs["default"] = argparse.SUPPRESS if default == SUPPRESS else default
        if flag.get("required"):
            kwargs["required"] = True
        options = flag["optionStrings"]
        if action in ("_StoreTrueAction", "DeprecatedStoreTrueAction"):
            kwargs["action"] = "store_true"
        elif action == "_StoreFalseAction":
            kwargs["action"] = "store_false"
        elif action in ("_StoreConstAction", "DeprecatedStoreConstAction", "DeprecatedAction") and flag.get("nargs") == 0:
            kwargs["action"] = "store_const"
            kwargs["const"] = flag.get("const")
        elif action == "BooleanOptionalAction":
            kwargs["action"] = argparse.BooleanOptionalAction
            options = [option for option in options if not option.startswith("--no-")]
        else:
            if "nargs" in flag:
                kwargs["nargs"] = flag["nargs"]
            if flag.get("type") is not None:
                kwargs["type"] = type_of(flag["type"])
            if isinstance(flag.get("choices"), list):
                kwargs["choices"] = flag["choices"]
            if flag.get("metavar") is not None:
                kwargs["metavar"] = tuple(flag["metavar"]) if isinstance(flag["metavar"], list) else flag["metavar"]
            if "const" in flag:
                kwargs["const"] = flag["const"]
        parser.add_argument(*options, **kwargs)
    return parser


def main():
    table = json.load(open(sys.argv[1]))
    cases = json.load(open(sys.argv[2]))
    for argv in cases:
        parser = build(table)
        err = io.StringIO()
        out = io.StringIO()
        result = {"exit": None}
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                namespace = parser.parse_args(argv)
                result["exit"] = None
                result["dests"] = {key: value for key, value in vars(namespace).items()}
            except SystemExit as stop:
                result["exit"] = stop.code
        result["stderr"] = err.getvalue()
        result["stdout"] = out.getvalue()[:200]
        print(json.dumps(result, default=repr))
    # The usage text argparse prints for this table, for a direct comparison.
    print(json.dumps({"usage": build(table).format_usage()}))


if __name__ == "__main__":
    main()
