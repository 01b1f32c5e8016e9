"""Serving the gateway: uvicorn on the runtime's own event loop, and its signal handling.

All JavaScript runs on the runtime's loop, so the app must run on that loop too:
:class:`Server` binds its socket at once, runs uvicorn on the loop's thread, and stops it
gracefully (in-flight requests finish) on :meth:`Server.stop` or on SIGINT/SIGTERM.

>>> with Server(rt, port=0) as server:                     # doctest: +SKIP
...     print(server.url)
http://127.0.0.1:41234
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import threading

import uvicorn

from ..runtime.sockets import MAX_MESSAGE
from .gateway import create_app, logger
from .messages import DEFAULT_MAX_BODY


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
            access_log=False, lifespan="off", ws="websockets-sansio", ws_max_size=MAX_MESSAGE,
            ws_per_message_deflate=False, proxy_headers=False,
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
