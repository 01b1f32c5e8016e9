"""Object identities: names, ids, and the turn that serializes each object's events.

>>> object_hex("COUNTER", "global")[:12]
'a6b44536c4fa'
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque

from ..errors import BadRequest
from .limits import check_text
from .trace import Event

MAX_NAME_BYTES = 1024


def check_name(name: str) -> str:
    """Refuse an object name the contract does not allow, saying why."""
    if not isinstance(name, str) or not name:
        raise BadRequest("object names are non-empty strings")
    if name in (".", ".."):
        raise BadRequest(f"{name!r} is not a valid object name")
    if any(c in name for c in "/\\") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadRequest(f"object name {name!r} contains '/', '\\' or a control character")
    check_text(name, "object name")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise BadRequest(f"object name is longer than {MAX_NAME_BYTES} bytes")
    return name


def object_hex(namespace: str, name: str) -> str:
    """``state.id.toString()``: lowercase hex SHA-256 of ``namespace + "\\0" + name``."""
    return hashlib.sha256(f"{namespace}\0{name}".encode("utf-8", "surrogatepass")).hexdigest()


class Turn:
    """A FIFO lock for the events of one object, free to take without awaiting.

    Releasing hands the turn straight to the next waiter, so no later arrival can slip in.
    """

    __slots__ = ("busy", "waiters")

    def __init__(self) -> None:
        self.busy = False
        self.waiters: deque[asyncio.Future] | None = None  # made on first contention

    def take_now(self) -> bool:
        """Take the turn if it is free and nobody waits; never blocks."""
        if self.busy or self.waiters:
            return False
        self.busy = True
        return True

    async def take(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.take_now():
            return
        future = loop.create_future()
        if self.waiters is None:
            self.waiters = deque()
        self.waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the turn was handed over just as we were cancelled
            else:
                self.waiters.remove(future)
            raise

    def release(self) -> None:
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.busy = False


class Actor:
    """One object identity and its (possibly absent) live instance."""

    __slots__ = ("namespace", "name", "oid", "lock", "gen", "live", "running", "timers", "named", "hexid",
                 "waiting")

    def __init__(self, namespace: str, name: str, oid: int) -> None:
        self.namespace, self.name, self.oid = namespace, name, oid
        self.lock = Turn()
        self.gen = 0  # bumped whenever the instance is discarded
        self.live = False
        self.running: Event | None = None
        self.timers: set[int] = set()
        self.named = True  # False: reached only by the hex digits of an id (no ctx.id.name)
        self.hexid: str | None = None  # its id's hex digits, once computed
        self.waiting: set[Event] | None = None  # events that let others in while they wait

    @property
    def path(self) -> str:
        return f"{self.namespace}/{self.name}"
