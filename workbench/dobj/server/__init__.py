"""The HTTP server mode: a plain ASGI gateway over a :class:`dobj.Runtime`, served by uvicorn.

Routes::

    POST /rpc/:namespace/:objectName/:method   body: JSON array of arguments
         -> 200 {"ok":true,"result":R}
    ANY  /fetch/:namespace/:objectName/*path   -> the object's fetch(req), as it answered
    GET  /healthz                              -> 200 {"ok":true}
    GET  /openapi.json                         -> the OpenAPI description of these routes

The package holds one concept per module:

- :mod:`.gateway`: the ASGI app (:func:`create_app`), its routing and its error envelope;
- :mod:`.messages`: reading requests and writing responses;
- :mod:`.serving`: :class:`Server`, uvicorn on the runtime's loop, and signal handling.

The app needs no web framework and can be mounted in Starlette or FastAPI
(``Mount("/do", app=create_app(rt))``), served on the runtime's loop by :class:`Server`.

>>> rt = dobj.Runtime.load("samples/counter.js", data=".dobj", clock="real")  # doctest: +SKIP
>>> with Server(rt, port=0) as server:                                        # doctest: +SKIP
...     print(server.url)
http://127.0.0.1:41234
"""

from .gateway import ROUTES, Gateway, MethodNotAllowed, NotFound, create_app, example_curl
from .messages import DEFAULT_MAX_BODY, local_path
from .serving import Server, bind_socket

__all__ = [
    "DEFAULT_MAX_BODY",
    "ROUTES",
    "Gateway",
    "MethodNotAllowed",
    "NotFound",
    "Server",
    "bind_socket",
    "create_app",
    "example_curl",
    "local_path",
]
