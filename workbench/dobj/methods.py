"""Which methods of an object class are RPC methods and which are handlers.

``fetch(req)`` and ``alarm()`` are handlers: the runtime calls them for HTTP requests and
for alarms. Every other method of the class is an RPC method. Front ends list the two
apart and complete only RPC methods after ``NS/name.``.

>>> rpc_methods(("alarm", "fetch", "increment"))
('increment',)
>>> handlers(("alarm", "fetch", "increment"))
('fetch', 'alarm')
"""

from __future__ import annotations

from collections.abc import Iterable

HANDLERS = ("fetch", "alarm")


def rpc_methods(methods: Iterable[str]) -> tuple[str, ...]:
    """The RPC methods among ``methods``, in their order."""
    return tuple(m for m in methods if m not in HANDLERS)


def handlers(methods: Iterable[str]) -> tuple[str, ...]:
    """The handlers among ``methods``, in the order of :data:`HANDLERS`."""
    present = set(methods)
    return tuple(h for h in HANDLERS if h in present)
