"""Replay a project's recorded requests on dobj and give the answers workerd's recordings hold.

The steps and the answer format are those of ``tests/projects/record.mjs``: a step is
``{method, path, headers?, body?, sleep_ms?, note?, record_headers?}``, ``{parallel: [...]}``
(answers compared as a sorted list), a step with ``poll_until`` and ``timeout_ms``, or a
WebSocket step (``{"ws": NAME, ...}``, played with :class:`dobj.runtime.wsclient.WebSocket`); an
answer is ``{request, status, content_type, body (JSON-parsed when JSON), headers?}`` with
the values that change from run to run masked by ``mask.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

PROJECTS = Path(__file__).resolve().parent / "projects"
_MASKS = [(re.compile(m["pattern"]), m["replace"]) for m in json.loads((PROJECTS / "mask.json").read_text())]


def mask(value):
    if isinstance(value, str):
        for pattern, replace in _MASKS:
            value = pattern.sub(replace.replace("$", "\\"), value)
        return value
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {mask(k): mask(v) for k, v in value.items()}
    return value


def _request(step: dict) -> tuple[str, dict, bytes | None]:
    headers = dict(step.get("headers") or {})
    body = step.get("body")
    typed = any(h.lower() == "content-type" for h in headers)
    if body is not None and not isinstance(body, str):
        body = json.dumps(body, separators=(",", ":"))
        if not typed:
            headers["content-type"] = "application/json"
    elif body is not None and not typed:
        headers["content-type"] = "text/plain;charset=UTF-8"
    return step.get("method", "GET"), headers, None if body is None else body.encode("utf-8")


async def _send(rt, step: dict) -> dict:
    method, headers, body = _request(step)
    r = await rt.afetch(step["path"], method=method, headers=headers, body=body, origin="http://127.0.0.1:8787")
    return await _answer(r, step)


async def _answer(r, step: dict) -> dict:
    content_type = r.headers.get("content-type")
    value = r.text
    if content_type and "json" in content_type:
        try:
            value = json.loads(value)
        except ValueError:
            pass
    out = {"status": r.status, "content_type": content_type, "body": mask(value)}
    if step.get("record_headers"):
        out["headers"] = {h.lower(): mask(r.headers.get(h.lower())) for h in step["record_headers"]}
    return out


def _contains(body, subset) -> bool:
    if not isinstance(subset, dict):
        return body == subset
    return isinstance(body, dict) and all(_contains(body.get(k), v) for k, v in subset.items())


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def _ws_step(rt, step: dict, clients: dict) -> dict:
    """A WebSocket step (see tests/projects/README.md), played with dobj's own client."""
    from dobj.errors import DobjError
    from dobj.runtime.wsclient import UPGRADE_HEADERS, WebSocket

    name, timeout = step["ws"], step.get("timeout_ms", 3000) / 1000
    if "open" in step:
        headers = {**UPGRADE_HEADERS, **(step.get("headers") or {})}
        if step.get("protocols"):
            headers["sec-websocket-protocol"] = ", ".join(step["protocols"])
        r = await rt.afetch(step["open"], headers=headers, origin="http://127.0.0.1:8787")
        if r.status != 101 or r.web_socket is None:
            return await _answer(r, step)
        clients[name] = WebSocket(rt, r, step["open"])
        protocol = r.headers.get("sec-websocket-protocol")
        return {"status": 101, **({"protocol": protocol} if protocol else {})}
    ws = clients[name]
    try:
        if "send" in step or "send_bytes" in step or "send_size" in step:
            data = step["send"] if "send" in step else (
                bytes(step["send_bytes"]) if "send_bytes" in step else "x" * step["send_size"])
            await asyncio.to_thread(ws.send, data)
            return {}
        if "close" in step:
            await asyncio.to_thread(ws.close, step["close"] if step["close"] is not True else None,
                                    step.get("reason", ""))
            return {}
        if "drop" in step:
            await asyncio.to_thread(ws.drop)
            return {}
    except DobjError as err:
        return {"error": err.message}
    if "ping" in step:  # dobj answers protocol pings itself, as workerd does
        return {"pong": step["ping"]}
    shown = lambda m: m if isinstance(m, str) else {"bytes": list(m)}  # noqa: E731
    deadline = time.monotonic() + timeout
    if "receive" in step:
        n = step["receive"]
        while len(ws.messages) < n and ws.closed is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        enough = len(ws.messages) >= n
        out: dict = {"received": [shown(ws.messages.popleft()) for _ in range(min(n, len(ws.messages)))]}
        if not enough and ws.closed is not None:
            out["closed"] = _closed(ws)
        elif not enough:
            out["timeout"] = True
        return out
    while ws.closed is None and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    rest = [shown(m) for m in ws.receive_all()]
    return {"closed": _closed(ws), "received": rest} if ws.closed is not None else {"timeout": True, "received": rest}


def _closed(ws) -> dict:
    code, reason, clean = ws.closed
    return {"code": code, "reason": reason, "wasClean": clean}


async def _step(rt, step: dict, clients: dict) -> dict:
    if step.get("sleep_ms"):
        await asyncio.sleep(step["sleep_ms"] / 1000)
    if "ws" in step:
        return await _ws_step(rt, step, clients)
    if "parallel" in step:
        results = await asyncio.gather(*(_step(rt, s, clients) for s in step["parallel"]))
        return {"parallel": sorted(results, key=_canonical)}
    if "poll_until" in step:
        deadline = time.monotonic() + step.get("timeout_ms", 5000) / 1000
        while True:
            r = await _send(rt, step)
            if _contains(r["body"], step["poll_until"]) or time.monotonic() > deadline:
                return r
            await asyncio.sleep(0.05)
    return await _send(rt, step)


def _describe(step: dict) -> dict:
    if "ws" in step:
        return step
    if "parallel" in step:
        out = {"parallel": [_describe(s) for s in step["parallel"]]}
        if "note" in step:
            out["note"] = step["note"]
        return out
    d = {"method": step.get("method", "GET"), "path": step["path"]}
    for key in ("headers", "body", "note"):
        if key in step:
            d[key] = step[key]
    return d


def replay(rt, steps: list[dict]) -> list[dict]:
    """dobj's answers to ``steps``, in the recordings' format."""

    async def run():
        clients: dict = {}
        return [{"request": _describe(s), **(await _step(rt, s, clients))} for s in steps]

    return asyncio.run(run())
