#!/usr/bin/env python3
"""Condense recorded HTTP exchanges of the real SGLang server into the JSON fixtures the golden tests read.

    python3 scripts/import-sglang-recordings.py RECORDINGS_DIR test/fixtures/sglang-real NAME [NAME ...]

RECORDINGS_DIR holds `<name>.http.txt` files: a comment header, the exact request bytes, the exact response bytes and
the de-chunked body. Each named exchange becomes `<name>.json` with the request (method, path, the headers a test
needs, the JSON body) and the response (status, content-type/allow/vary headers, the JSON body or, for an event
stream, the list of `data:` payloads). What is dropped or changed is listed in the fixtures' README: the pickled
`custom_logit_processor` the recording used to force tokens, and the long prompt of the over-context case.
"""

import json
import sys
from pathlib import Path

KEPT_RESPONSE_HEADERS = ("content-type", "allow", "vary")
LONG_TEXT = 2000


def parse(text: str) -> dict:
    head, _, rest = text.partition("=== REQUEST (exact bytes sent; CRLF kept) ===\n")
    request, _, rest = rest.partition("=== RESPONSE (exact bytes received; CRLF and chunked framing kept) ===\n")
    response, _, rest = rest.partition("=== RESPONSE BODY (transfer framing removed) ===\n")
    body, _, _ = rest.partition("=== RECV TIMING")
    meta = {}
    for line in head.splitlines():
        if line.startswith("# ") and ": " in line:
            key, _, value = line[2:].partition(": ")
            meta[key] = value
    req_head, _, req_body = request.replace("\r\n", "\n").partition("\n\n")
    req_lines = req_head.splitlines()
    method, path, _ = req_lines[0].split(" ", 2)
    req_headers = {k.lower(): v for k, _, v in (l.partition(": ") for l in req_lines[1:])}
    resp_head = response.replace("\r\n", "\n").partition("\n\n")[0].splitlines()
    status = int(resp_head[0].split(" ")[1]) if resp_head and resp_head[0].startswith("HTTP/") else None
    resp_headers = {k.lower(): v for k, _, v in (l.partition(": ") for l in resp_head[1:])}
    return {
        "meta": meta,
        "method": method,
        "path": path,
        "req_headers": req_headers,
        "req_body": req_body.rstrip("\n"),
        "status": status,
        "resp_headers": resp_headers,
        "body": body.rstrip("\n"),
    }


def request_body(raw: str):
    if raw.strip() == "":
        return {"raw": ""}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"raw": raw}
    if isinstance(value, dict):
        value.pop("custom_logit_processor", None)
        for message in value.get("messages", []) if isinstance(value.get("messages"), list) else []:
            if isinstance(message, dict) and isinstance(message.get("content"), str) and len(message["content"]) > LONG_TEXT:
                message["content"] = {"elided_repeat": message["content"][:12], "length": len(message["content"])}
    return {"json": value}


def response_body(headers: dict, raw: str):
    if headers.get("content-type", "").startswith("text/event-stream"):
        events = []
        for line in raw.split("\n"):
            if line.startswith("data: "):
                data = line[len("data: "):]
                events.append(data if data == "[DONE]" else json.loads(data))
        return {"events": events}
    if raw == "":
        return {"text": ""}
    try:
        return {"json": json.loads(raw)}
    except json.JSONDecodeError:
        return {"text": raw}


def main() -> None:
    source, target, *names = sys.argv[1:]
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        exchange = parse((Path(source) / f"{name}.http.txt").read_text(encoding="utf-8"))
        headers = {k: v for k, v in exchange["req_headers"].items() if k in ("content-type", "authorization")}
        fixture = {
            "exchange": name,
            "what": exchange["meta"].get("what"),
            "server": exchange["meta"].get("server"),
            "sent_at": exchange["meta"].get("sent_at"),
            "request": {"method": exchange["method"], "path": exchange["path"], "headers": headers}
            | request_body(exchange["req_body"]),
            "response": {
                "status": exchange["status"],
                "headers": {k: v for k, v in exchange["resp_headers"].items() if k in KEPT_RESPONSE_HEADERS},
            }
            | response_body(exchange["resp_headers"], exchange["body"]),
        }
        (out / f"{name}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
