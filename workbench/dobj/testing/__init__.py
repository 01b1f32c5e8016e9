"""Helpers for testing Durable Objects with dobj (the pytest plugin is :mod:`dobj.pytest_plugin`).

``fake_fetch(rt)`` answers the outbound ``fetch()`` calls of a Workers project's code from
answers registered by URL pattern, and records every request made:

>>> with fake_fetch(rt) as fake:                                    # doctest: +SKIP
...     fake.add("https://api.example.com/*", json={"ok": True})
...     rt.fetch("/uses-the-api").status
...     fake.requests[0].url
200
'https://api.example.com/v1'
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadRequest

__all__ = ["FakeFetch", "FakeRequest", "fake_fetch"]


@dataclass
class FakeRequest:
    """An outbound request the code made."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Answer:
    pattern: Any
    method: str | None
    respond: Callable[[FakeRequest], tuple[int, dict[str, str], bytes]]
    times: int | None = None
    used: int = 0


@dataclass
class FakeFetch:
    """The fakes of one runtime; use :func:`fake_fetch` to install it."""

    rt: Any
    answers: list[_Answer] = field(default_factory=list)
    requests: list[FakeRequest] = field(default_factory=list)

    def add(self, pattern: str | re.Pattern | Callable[[str], bool], *, json: Any = None,
            text: str | None = None, body: bytes | None = None, status: int = 200,
            headers: dict[str, str] | None = None, method: str | None = None,
            times: int | None = None,
            respond: Callable[[FakeRequest], tuple[int, dict[str, str], bytes]] | None = None) -> FakeFetch:
        """Answer requests whose URL matches ``pattern`` (a glob like ``https://api.x/*``, a
        compiled regex, or a function of the URL); the first matching answer wins, and one
        with ``times`` is used that many times at most."""
        if respond is None:
            out_headers = dict(headers or {})
            if json is not None:
                data = _json.dumps(json).encode()
                out_headers.setdefault("content-type", "application/json")
            elif text is not None:
                data = text.encode()
                out_headers.setdefault("content-type", "text/plain;charset=UTF-8")
            else:
                data = body or b""

            def respond(_request, _status=status, _headers=out_headers, _data=data):
                return _status, _headers, _data
        self.answers.append(_Answer(pattern, method.upper() if method else None, respond, times))
        return self

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> str:
        request = FakeRequest(method, url, headers, body)
        self.requests.append(request)
        for a in self.answers:
            if (a.method is None or a.method == method) and _matches(a.pattern, url) \
                    and (a.times is None or a.used < a.times):
                a.used += 1
                status, out_headers, data = a.respond(request)
                pairs = sorted((k.lower(), v) for k, v in out_headers.items())
                head = _json.dumps([status, "", pairs, None])
                return head + "\n" + ("b" + base64.b64encode(data).decode() if data else "n")
        raise BadRequest(f"fetch({url!r}) matched no fake answer; registered: "
                         + (", ".join(str(getattr(a.pattern, "pattern", a.pattern)) for a in self.answers) or "none"))

    def __enter__(self) -> FakeFetch:
        return self

    def __exit__(self, *exc) -> None:
        self.rt._core.fake_fetch = None


_json = json


def _matches(pattern, url: str) -> bool:
    if callable(pattern) and not isinstance(pattern, re.Pattern):
        return bool(pattern(url))
    if isinstance(pattern, re.Pattern):
        return pattern.search(url) is not None
    return fnmatch.fnmatchcase(url, pattern)


def fake_fetch(rt) -> FakeFetch:
    """Install fake answers for the outbound ``fetch()`` of ``rt``'s code (a Workers project)."""
    if not rt._core.cf:
        raise BadRequest("fake_fetch is for Workers projects: a CommonJS bundle has no fetch()")
    fake = FakeFetch(rt)
    rt._core.fake_fetch = fake
    return fake
