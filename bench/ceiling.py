"""The ceiling of the HTTP benchmark: a trivial ASGI app on exactly dobj's server set-up.

    python -m bench.ceiling --port 8790

Every request gets one fixed JSON body, as fast as the server under it can answer. It runs
through the same :class:`dobj.server.Server` as ``dobj serve`` (uvicorn on the runtime's
loop, uvloop when installed, the same config), so the gap between it and ``dobj serve`` is
dobj's own work per request.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a file
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

BODY = b'{"ok":true,"result":1}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
COUNTER = Path(__file__).resolve().parent.parent / "samples" / "counter.js"


async def app(scope, receive, send) -> None:
    """Answer every HTTP request with :data:`BODY` (after reading its body)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args(argv)
    from dobj.cli import _prefer_uvloop
    from dobj.runtime import Runtime
    from dobj.server import Server

    _prefer_uvloop()
    with tempfile.TemporaryDirectory() as data, \
            Runtime.load(COUNTER, data=data, clock="real") as rt, \
            Server(rt, "127.0.0.1", args.port, app=app) as server:
        server.serve_until_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
