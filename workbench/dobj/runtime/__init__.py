"""The runtime core: engine, bundle, storage, clock, dispatch and the Python API.

This package imports only the standard library, ``sqlite3`` and the JavaScript engine;
it never prints: it returns values and raises :class:`dobj.DobjError`.
"""

from .bundle import ClassInfo, namespace_for
from .clock import format_ms, parse_duration, parse_instant
from .handles import Clock, ObjectHandle, Response, StorageView, build_request
from .runtime import Runtime
from .trace import Event

__all__ = [
    "ClassInfo",
    "Clock",
    "Event",
    "ObjectHandle",
    "Response",
    "Runtime",
    "StorageView",
    "build_request",
    "format_ms",
    "namespace_for",
    "parse_duration",
    "parse_instant",
]
