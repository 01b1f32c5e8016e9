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


def load_ipython_extension(ipython) -> None:
    """``%load_ext dobj``: register the ``%dobj`` magics (imports IPython only now)."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext dobj``: close the runtime and remove the magics."""
    from .notebook import unload_ipython_extension as unload

    unload(ipython)


def current() -> Runtime:
    """The runtime loaded with ``%dobj load`` in the running IPython shell."""
    from .notebook import current as notebook_current

    return notebook_current()
