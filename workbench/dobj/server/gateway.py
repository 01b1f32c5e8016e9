"""The gateway: a plain ASGI app that routes HTTP requests to the objects of a runtime.

Routes::

    POST /rpc/:namespace/:objectName/:method   body: JSON array of arguments
         -> 200 {"ok":true,"result":R}
    ANY  /fetch/:namespace/:objectName/*path   -> the object's fetch(req), as it answered
    GET  /healthz                              -> 200 {"ok":true}
    GET  /openapi.json                         -> the OpenAPI description of these routes

A Workers project with a Worker (a default export with ``fetch``) gets every request in its
Worker, as ``wrangler dev`` does; the routes above then answer under ``/_dobj/``.

Every failure is ``{"ok":false,"error":{"code":C,"message":M}}`` with the status of the
:class:`~dobj.errors.DobjError` behind it; the mapping happens in one place,
:meth:`Gateway.__call__`. Reading requests and writing responses is
:mod:`dobj.server.messages`.

>>> app = create_app(rt, max_body=1 << 20)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import shlex
import time

from ..errors import BadRequest, DobjError, PayloadTooLarge
from .messages import (
    DEFAULT_MAX_BODY, JSON_HEADERS, Disconnected, full_url, local_path, read_body, request_headers,
    respond, response_headers, rpc_arguments, segment,
)

logger = logging.getLogger("dobj.server")

ROUTES = ("POST /rpc/:namespace/:objectName/:method, ANY /fetch/:namespace/:objectName/*path,"
          " GET /healthz, GET /openapi.json")
_HANDLE_CACHE = 10_000


def example_curl(namespaces, base_url: str) -> str:
    """A curl line to try on a server: a call of the first namespace's first RPC method
    that takes no arguments (``-d '[]'``), else of its first RPC method with a placeholder
    for the arguments, explained by a shell comment; a fetch when it has no RPC method.

    >>> from dobj.runtime.bundle import ClassInfo
    >>> counter = ClassInfo("Counter", "COUNTER", ("add", "alarm", "fetch", "increment"), (1, 0, 1, 0))
    >>> print(example_curl({"COUNTER": counter}, "http://127.0.0.1:8787"))
    curl -X POST http://127.0.0.1:8787/rpc/COUNTER/global/increment -d '[]'
    >>> adder = ClassInfo("Adder", "ADDER", ("add",), (2,))
    >>> print(example_curl({"ADDER": adder}, "http://127.0.0.1:8787"))
    curl -X POST http://127.0.0.1:8787/rpc/ADDER/global/add -d '[ARGS...]'  # ARGS...: the 2 arguments as JSON
    """
    namespace, info = next(iter(namespaces.items()))
    methods = info.rpc_methods
    if not methods:
        return f"curl {shlex.quote(f'{base_url}/fetch/{namespace}/global/')}"
    for method in methods:
        if info.parameters(method) == 0:
            return f"curl -X POST {base_url}/rpc/{namespace}/global/{method} -d '[]'"
    count = info.parameters(methods[0])
    what = f"the {count} arguments" if count and count > 1 else "the arguments" if count is None else "the argument"
    return (f"curl -X POST {base_url}/rpc/{namespace}/global/{methods[0]} -d '[ARGS...]'"
            f"  # ARGS...: {what} as JSON")


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
            handle = self.runtime.get(segment(namespace), segment(name))
            if len(self._handles) >= _HANDLE_CACHE:
                self._handles.clear()
            self._handles[(namespace, name)] = handle
        return handle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] == "websocket":
            from .sockets import serve_websocket

            return await serve_websocket(self, scope, receive, send)
        if scope["type"] != "http":
            raise RuntimeError(f"dobj's gateway serves HTTP and WebSockets, not {scope['type']!r}")
        started = time.perf_counter()
        path = local_path(scope)
        try:
            status = await self._route(scope, path, receive, send)
        except Disconnected:
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
        if self.runtime.has_worker:  # as in wrangler dev, the Worker answers everything else
            if not path.startswith("/_dobj/"):
                return await self._worker(scope, receive, send)
            path = path[len("/_dobj"):]
        parts = path.split("/")  # ["", "rpc", ns, name, method]
        route, method = parts[1], scope["method"]
        if route == "rpc":
            if method != "POST":
                raise MethodNotAllowed(f"RPC calls are POST requests, not {method}", "POST")
            return await self._rpc(parts[2:], scope, receive, send)
        if route == "fetch":
            return await self._fetch(parts[2:], scope, receive, send)
        if path in ("/healthz", "/openapi.json"):
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed(f"{path} answers GET, not {method}", "GET, HEAD")
            body = b'{"ok":true}' if path == "/healthz" else self._openapi()
            return await respond(send, 200, body, JSON_HEADERS)
        raise NotFound(f"no route for {method} {path}; the routes are {ROUTES}")

    def _openapi(self) -> bytes:
        """The OpenAPI description for the bundle as it is loaded now."""
        namespaces = {ns: info.rpc_methods for ns, info in self.runtime.namespaces.items()}
        if self._spec is None or self._spec[0] != namespaces:
            from .. import __version__
            from ..openapi import openapi_spec

            self._spec = (namespaces, json.dumps(openapi_spec(namespaces, version=__version__)).encode())
        return self._spec[1]

    async def _rpc(self, parts: list[str], scope, receive, send) -> int:
        if len(parts) != 3 or not all(parts):
            raise BadRequest("malformed RPC path; use POST /rpc/:namespace/:objectName/:method")
        handle, method = self._handle(parts[0], parts[1]), segment(parts[2])
        args = rpc_arguments(await read_body(scope, receive, self.max_body))
        result = await handle.acall_json(method, args)
        return await respond(send, 200, b'{"ok":true,"result":%s}' % result.encode(), JSON_HEADERS)

    async def _fetch(self, parts: list[str], scope, receive, send) -> int:
        if len(parts) < 2 or not parts[0]:
            raise BadRequest("malformed fetch path; use /fetch/:namespace/:objectName/*path")
        handle = self._handle(parts[0], parts[1])
        rest = "/" + "/".join(parts[2:]).replace("#", "%23")
        query = scope.get("query_string", b"").decode("latin-1")
        body = await read_body(scope, receive, self.max_body)
        headers = request_headers(scope)
        response = await handle.afetch(
            rest, query=query, method=scope["method"], headers=headers, body=body,
            url=full_url(scope, headers.get("host"), query),
        )
        content = b"" if response.status in (204, 304) else response.body
        return await respond(send, response.status, content, response_headers(response.headers))

    async def _worker(self, scope, receive, send) -> int:
        body = await read_body(scope, receive, self.max_body)
        headers = request_headers(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        url = full_url(scope, headers.get("host"), query)
        origin, _, rest = url.partition("://")
        host_end = rest.find("/")
        response = await self.runtime.afetch(rest[host_end:], method=scope["method"], headers=headers,
                                             body=body, origin=f"{origin}://{rest[:host_end]}")
        content = b"" if response.status in (204, 304) else response.body
        return await respond(send, response.status, content, response_headers(response.headers))

    async def _send_error(self, send, err: DobjError) -> int:
        body = json.dumps({"ok": False, "error": err.to_dict(self.dev_errors)},
                          separators=(",", ":")).encode()
        headers = list(JSON_HEADERS)
        if isinstance(err, MethodNotAllowed):
            headers.append((b"allow", err.allow.encode()))
        if isinstance(err, PayloadTooLarge):
            headers.append((b"connection", b"close"))  # the rest of the body is not read
        return await respond(send, err.http_status, body, headers)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
