"""The HTTP gateway: a plain ASGI app over a :class:`dobj.Runtime`, and a uvicorn server for it.

Routes::

    POST /rpc/:namespace/:objectName/:method   body: JSON array of arguments
         -> 200 {"ok":true,"result":R}
    ANY  /fetch/:namespace/:objectName/*path   -> the object's fetch(req), as it answered
    GET  /healthz                              -> 200 {"ok":true}
    GET  /openapi.json                         -> the OpenAPI description of these routes

Every failure is ``{"ok":false,"error":{"code":C,"message":M}}`` with the status of the
:class:`~dobj.errors.DobjError` behind it; the mapping happens in one place,
:meth:`Gateway.__call__`. The app needs no web framework and can be mounted in Starlette
or FastAPI (``Mount("/do", app=create_app(rt))``).

All JavaScript runs on the runtime's loop, so the app must run on that loop too:
:class:`Server` runs uvicorn there.

>>> rt = dobj.Runtime.load("samples/counter.js", data=".dobj", clock="real")  # doctest: +SKIP
>>> with Server(rt, port=0) as server:                                        # doctest: +SKIP
...     print(server.url)
http://127.0.0.1:41234
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import signal
import socket
import threading
import time
from urllib.parse import quote, unquote_to_bytes

import uvicorn

from .errors import BadRequest, DobjError, ExecutionError, PayloadTooLarge

logger = logging.getLogger("dobj.server")

DEFAULT_MAX_BODY = 16 * 1024 * 1024
ROUTES = ("POST /rpc/:namespace/:objectName/:method, ANY /fetch/:namespace/:objectName/*path,"
          " GET /healthz, GET /openapi.json")
_JSON = [(b"content-type", b"application/json")]
_DROPPED_HEADERS = frozenset(("content-length", "transfer-encoding", "connection"))
_HANDLE_CACHE = 10_000
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class NotFound(DobjError):
    """No route matches the request path."""

    code = "not_found"
    http_status = 404


class MethodNotAllowed(BadRequest):
    """The route exists but not for this HTTP method."""

    http_status = 405

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class _Disconnected(Exception):
    """The client went away before its request body arrived."""


def create_app(runtime, *, max_body: int = DEFAULT_MAX_BODY, dev_errors: bool = True) -> Gateway:
    """The ASGI app serving ``runtime`` (see the module docstring for its routes).

    ``max_body`` caps request bodies in bytes (413 beyond it); with ``dev_errors=False``
    error envelopes carry no JavaScript messages or stacks.

    >>> app = create_app(rt, max_body=1 << 20)  # doctest: +SKIP
    """
    return Gateway(runtime, max_body=max_body, dev_errors=dev_errors)


class Gateway:
    """The ASGI application; build it with :func:`create_app`."""

    def __init__(self, runtime, *, max_body: int, dev_errors: bool) -> None:
        self.runtime = runtime
        self.max_body = max_body
        self.dev_errors = dev_errors
        self._handles: dict[tuple[str, str], object] = {}
        self._spec: tuple[dict, bytes] | None = None

    def _handle(self, namespace: str, name: str):
        """The object handle for two raw path segments (validated once, then cached)."""
        handle = self._handles.get((namespace, name))
        if handle is None or handle.namespace not in self.runtime.namespaces:  # after a reload
            handle = self.runtime.get(_segment(namespace), _segment(name))
            if len(self._handles) >= _HANDLE_CACHE:
                self._handles.clear()
            self._handles[(namespace, name)] = handle
        return handle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] != "http":
            raise RuntimeError(f"dobj's gateway serves HTTP only, not {scope['type']!r}")
        started = time.perf_counter()
        path = local_path(scope)
        try:
            status = await self._route(scope, path, receive, send)
        except _Disconnected:
            return
        except DobjError as err:
            status = await self._send_error(send, err)
            if status >= 500:
                logger.error("%s %s %d %s: %s", scope["method"], path, status, err.code, err.message)
        except Exception as exc:  # a defect in dobj: answer, and log it with its traceback
            logger.exception("internal error on %s %s", scope["method"], path)
            status = await self._send_error(send, DobjError(f"internal error: {type(exc).__name__}: {exc}"))
        if logger.isEnabledFor(logging.INFO):
            ms = (time.perf_counter() - started) * 1000.0
            logger.info("%s %s %d %.1fms", scope["method"], path, status, ms)

    async def _route(self, scope, path: str, receive, send) -> int:
        parts = path.split("/")  # ["", "rpc", ns, name, method]
        route, method = parts[1], scope["method"]
        if route == "rpc":
            if method != "POST":
                raise MethodNotAllowed(f"RPC calls are POST requests, not {method}", "POST")
            return await self._rpc(parts[2:], scope, receive, send)
        if route == "fetch":
            return await self._fetch(parts[2:], path, scope, receive, send)
        if path in ("/healthz", "/openapi.json"):
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed(f"{path} answers GET, not {method}", "GET, HEAD")
            body = b'{"ok":true}' if path == "/healthz" else self._openapi()
            return await _respond(send, 200, body, _JSON)
        raise NotFound(f"no route for {method} {path}; the routes are {ROUTES}")

    def _openapi(self) -> bytes:
        """The OpenAPI description for the bundle as it is loaded now."""
        namespaces = {ns: info.methods for ns, info in self.runtime.namespaces.items()}
        if self._spec is None or self._spec[0] != namespaces:
            from . import __version__
            from .openapi import openapi_spec

            self._spec = (namespaces, json.dumps(openapi_spec(namespaces, version=__version__)).encode())
        return self._spec[1]

    async def _rpc(self, parts: list[str], scope, receive, send) -> int:
        if len(parts) != 3 or not all(parts):
            raise BadRequest("malformed RPC path; use POST /rpc/:namespace/:objectName/:method")
        handle, method = self._handle(parts[0], parts[1]), _segment(parts[2])
        args = _rpc_arguments(await self._read_body(scope, receive))
        result = await handle.acall_json(method, args)
        return await _respond(send, 200, b'{"ok":true,"result":%s}' % result.encode(), _JSON)

    async def _fetch(self, parts: list[str], path: str, scope, receive, send) -> int:
        if len(parts) < 2 or not parts[0]:
            raise BadRequest("malformed fetch path; use /fetch/:namespace/:objectName/*path")
        handle = self._handle(parts[0], parts[1])
        rest = "/" + "/".join(parts[2:]).replace("#", "%23")
        query = scope.get("query_string", b"").decode("latin-1")
        body = await self._read_body(scope, receive)
        headers = _headers(scope)
        response = await handle.afetch(
            rest, query=query, method=scope["method"], headers=headers, body=body,
            url=_full_url(scope, headers.get("host"), query),
        )
        if response.status in (204, 304):
            return await _respond(send, response.status, b"", _response_headers(response.headers))
        return await _respond(send, response.status, response.body, _response_headers(response.headers))

    async def _read_body(self, scope, receive) -> bytes:
        """The request body, refused with 413 as soon as it is known to exceed the limit."""
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BadRequest(f"content-length {declared!r} is not a number")
            if int(declared) > self.max_body:
                raise self._too_large(f"{int(declared):,} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise self._too_large(f"more than {self.max_body:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: str) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is {size}; the limit is {self.max_body:,} bytes (--max-body)")

    async def _send_error(self, send, err: DobjError) -> int:
        status = err.http_status
        body = json.dumps({"ok": False, "error": err.to_dict(self.dev_errors)},
                          separators=(",", ":")).encode()
        headers = list(_JSON)
        if isinstance(err, MethodNotAllowed):
            headers.append((b"allow", err.allow.encode()))
        if isinstance(err, PayloadTooLarge):
            headers.append((b"connection", b"close"))  # the rest of the body is not read
        return await _respond(send, status, body, headers)


def local_path(scope) -> str:
    """The request path below the app's mount point, still percent-encoded.

    >>> local_path({"raw_path": b"/do/rpc/A/b%2Fc/m", "path": "/do/rpc/A/b/c/m", "root_path": "/do"})
    '/rpc/A/b%2Fc/m'
    """
    path = _raw_path(scope)
    root = quote(scope.get("root_path") or "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        path = path[len(root):]
    return path or "/"


def _segment(text: str) -> str:
    """One path segment, percent-decoded once, as UTF-8."""
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"path segment {text!r} is not UTF-8 once percent-decoded") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_ARGUMENTS = json.JSONDecoder(parse_constant=_no_constant)


def _rpc_arguments(body: bytes) -> str:
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


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1").strip()
    return None


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope["headers"]:
        k, v = key.decode("latin-1").lower(), value.decode("latin-1")
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


_CHECKED_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _response_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """The headers a fetch() handler returned, as HTTP allows them (else an execution_error).

    Handlers answer with the same few headers again and again, so each checked pair is
    remembered (a bounded cache).
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


def _full_url(scope, host: str | None, query: str) -> str:
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}" if server[1] is not None else server[0]
    return f"{scope.get('scheme', 'http')}://{host}{_raw_path(scope)}" + (f"?{query}" if query else "")


def _raw_path(scope) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1").partition("?")[0] if raw else quote(scope["path"])


async def _respond(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    headers = headers + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class Server:
    """Serve a runtime over HTTP with uvicorn, on the runtime's own event loop.

    The socket is bound at once (``port=0`` picks a free port, see :attr:`port`);
    :meth:`start` runs uvicorn on the runtime's loop thread, :meth:`stop` stops accepting,
    lets in-flight requests finish, and leaves the runtime open for its owner to close.
    ``app`` serves another ASGI app instead of the gateway, e.g. a Starlette app that
    mounts :func:`create_app` (it must run on the runtime's loop too).

    >>> with Server(rt, port=0) as server:                     # doctest: +SKIP
    ...     urllib.request.urlopen(server.url + "/healthz").status
    200
    """

    def __init__(self, runtime, host: str = "127.0.0.1", port: int = 8787, *,
                 max_body: int = DEFAULT_MAX_BODY, dev_errors: bool = True,
                 log_level: str | None = None, graceful_timeout: float = 30.0, app=None) -> None:
        self.runtime = runtime
        self.app = app or create_app(runtime, max_body=max_body, dev_errors=dev_errors)
        self._socket = bind_socket(host, port)
        self.host, self.port = host, self._socket.getsockname()[1]
        if log_level is not None:
            logger.setLevel(log_level.upper())
        config = uvicorn.Config(
            self.app, host=host, port=self.port, log_config=None, log_level=log_level,
            access_log=False, lifespan="off", ws="none", proxy_headers=False,
            server_header=False, timeout_graceful_shutdown=graceful_timeout,
        )
        self._uvicorn = _Uvicorn(config)
        self._future: concurrent.futures.Future | None = None

    @property
    def url(self) -> str:
        """The base URL the server answers on, like ``http://127.0.0.1:8787``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Server:
        """Start serving on the runtime's loop (hosting it on its thread if needed)."""
        self.runtime.start()
        self._future = asyncio.run_coroutine_threadsafe(self._serve(), self.runtime.loop)
        self._future.add_done_callback(lambda _: self._uvicorn.ready.set())
        self._uvicorn.ready.wait()
        if self._future.done():
            self._future.result()
        return self

    async def _serve(self) -> None:
        try:
            await self._uvicorn.serve(sockets=[self._socket])
        except SystemExit:  # uvicorn exits on startup failures; never let that kill the loop
            raise OSError(f"the HTTP server on {self.url} failed to start") from None
        finally:
            self._socket.close()

    def stop(self, *, force: bool = False) -> None:
        """Stop accepting connections, finish in-flight requests (unless ``force``), return."""
        if self._future is None:
            self._socket.close()
            return
        if not self._future.done():
            self.runtime.loop.call_soon_threadsafe(self._request_exit, force)
        self._future.result()

    def _request_exit(self, force: bool) -> None:
        self._uvicorn.should_exit = True
        self._uvicorn.force_exit = self._uvicorn.force_exit or force

    def serve_until_signal(self) -> None:
        """Block until SIGINT or SIGTERM, then stop gracefully (a second signal forces).

        Call it from the main thread, after :meth:`start`.
        """
        received = 0

        def on_signal(signum, frame) -> None:
            nonlocal received
            received += 1
            self.runtime.loop.call_soon_threadsafe(self._request_exit, received > 1)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self._future.done():
                concurrent.futures.wait([self._future], timeout=0.5)
            self._future.result()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, telling another thread when it is listening."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: any free port)."""
    sock = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        # proto must say TCP: asyncio only turns Nagle off (TCP_NODELAY) on such sockets,
        # and with Nagle on every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        return sock
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
