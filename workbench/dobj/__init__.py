"""dobj: a Durable Objects workbench for Python.

>>> import dobj
>>> rt = dobj.Runtime.load("samples/counter.js")      # doctest: +SKIP
>>> rt.get("COUNTER", "global").increment(3)          # doctest: +SKIP
3
"""

from .errors import (
    BadRequest,
    BundleError,
    DobjError,
    ExecutionError,
    MethodNotFound,
    PayloadTooLarge,
    RuntimeClosed,
    ScriptTimeout,
    StorageError,
    UnknownNamespace,
)
from .runtime import ObjectHandle, Response, Runtime

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "BundleError",
    "DobjError",
    "ExecutionError",
    "MethodNotFound",
    "ObjectHandle",
    "PayloadTooLarge",
    "Response",
    "Runtime",
    "RuntimeClosed",
    "ScriptTimeout",
    "StorageError",
    "UnknownNamespace",
]
