"""HTTP messages at the gateway: reading requests, writing responses, on plain ASGI.

Everything here is a small function of an ASGI ``scope``, ``receive`` or ``send``: the
path below the mount point, path segments, the request body (refused past its limit), the
RPC argument array, request headers as the object sees them, the headers a ``fetch()``
handler answered with (checked, and without the ones the server frames itself), and the
response itself.

>>> rpc_arguments(b"[3, {\\"a\\": 1}]"), rpc_arguments(b"")
('[3, {"a": 1}]', '[]')
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote_to_bytes

from ..errors import BadRequest, ExecutionError, PayloadTooLarge

DEFAULT_MAX_BODY = 16 * 1024 * 1024
JSON_HEADERS = [(b"content-type", b"application/json")]
# The server frames every body itself (content-length); a handler's own framing headers
# would contradict it, so they are dropped from what fetch() answered.
_DROPPED_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CHECKED_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {}


class Disconnected(Exception):
    """The client went away before its request body arrived."""


# -- requests ---------------------------------------------------------------------------------
def local_path(scope) -> str:
    """The request path below the app's mount point, still percent-encoded.

    >>> local_path({"raw_path": b"/do/rpc/A/b%2Fc/m", "path": "/do/rpc/A/b/c/m", "root_path": "/do"})
    '/rpc/A/b%2Fc/m'
    """
    path = raw_path(scope)
    root = quote(scope.get("root_path") or "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        path = path[len(root):]
    return path or "/"


def raw_path(scope) -> str:
    """The whole request path as the client sent it (percent-encoded, no query)."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").partition("?")[0] if raw else quote(scope["path"])


def segment(text: str) -> str:
    """One path segment, percent-decoded once, as UTF-8.

    >>> segment("my%20room")
    'my room'
    """
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"path segment {text!r} is not UTF-8 once percent-decoded") from None


def header(scope, name: bytes) -> str | None:
    """The first request header called ``name`` (lower-case bytes), stripped, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1").strip()
    return None


def request_headers(scope) -> dict[str, str]:
    """Request headers as the object sees them: lower-case names, repeats joined by ``, ``."""
    out: dict[str, str] = {}
    for key, value in scope["headers"]:
        k, v = key.decode("latin-1").lower(), value.decode("latin-1")
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def full_url(scope, host: str | None, query: str) -> str:
    """The URL the client asked for, as ``req.url`` shows it."""
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}" if server[1] is not None else server[0]
    return f"{scope.get('scheme', 'http')}://{host}{raw_path(scope)}" + (f"?{query}" if query else "")


async def read_body(scope, receive, max_body: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``max_body``."""
    declared = header(scope, b"content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest(f"content-length {declared!r} is not a number")
        if int(declared) > max_body:
            raise too_large(f"{int(declared):,} bytes", max_body)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise too_large(f"more than {max_body:,} bytes", max_body)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def too_large(size: str, max_body: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is {size}; the limit is {max_body:,} bytes (--max-body)")


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_ARGUMENTS = json.JSONDecoder(parse_constant=_no_constant)


def rpc_arguments(body: bytes) -> str:
    """The body as the JSON text of an argument array, checked (an empty body is ``[]``)."""
    if not body.strip():
        return "[]"
    try:
        text = body.decode("utf-8")
        args = _ARGUMENTS.decode(text)
    except RecursionError:
        raise BadRequest("the body nests too deeply; send a flatter JSON array of arguments") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not JSON ({exc}); send a JSON array of arguments, like [3]") from None
    if not isinstance(args, list):
        raise BadRequest(f"the body must be a JSON array of arguments, like [3], not {type(args).__name__}")
    return text


# -- responses --------------------------------------------------------------------------------
def response_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """The headers a fetch() handler returned, as HTTP allows them (else an execution_error).

    Framing headers are dropped: the server sets ``content-length`` itself. Handlers
    answer with the same few headers again and again, so each checked pair is remembered
    (a bounded cache).

    >>> response_headers({"x-a": "1", "Content-Length": "99", "connection": "close"})
    [(b'x-a', b'1')]
    """
    out = []
    for name, value in headers.items():
        pair = _CHECKED_HEADERS.get((name, value))
        if pair is None:
            if name.lower() in _DROPPED_HEADERS:
                continue  # the server frames the body itself
            pair = _check_header(name, str(value))
            if len(_CHECKED_HEADERS) >= 1024:
                _CHECKED_HEADERS.clear()
            _CHECKED_HEADERS[(name, value)] = pair
        out.append(pair)
    return out


def _check_header(name: str, value: str) -> tuple[bytes, bytes]:
    try:
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value or "\0" in value:
            raise ValueError
        return name.encode("latin-1"), value.encode("latin-1")
    except (ValueError, UnicodeEncodeError):
        raise ExecutionError(
            f"fetch() returned the header {name!r}: {value[:60]!r}, which HTTP cannot carry;"
            " names are tokens, values are latin-1 text on one line"
        ) from None


async def respond(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """Send a whole response with its ``content-length``; returns ``status``."""
    headers = headers + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status
