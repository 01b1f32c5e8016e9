"""The commit point: every write of an event is committed before its result leaves.

Events that finish in the same round of a running loop (a server under load) share one
SQLite commit; a lone event on a loop that is not running commits at once.
"""

from __future__ import annotations

import asyncio

from ..errors import StorageError
from .storage import Store


class CommitPoint:
    """Counts the events in flight and commits the store for them.

    >>> loop = asyncio.new_event_loop()
    >>> point = CommitPoint(Store(None), loop)
    >>> point.store.put(1, "k", "1"); point.store.dirty
    True
    >>> loop.run_until_complete(point.reached()); point.store.dirty
    False
    >>> loop.close(); point.store.close()
    """

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop, objects=None) -> None:
        self.store, self.loop, self.objects = store, loop, objects
        self.inflight = 0  # events between taking their turn and their commit
        self._waiters: list[asyncio.Future] | None = None

    async def reached(self) -> None:
        """Return once this event's writes are committed (raises ``StorageError`` if not).

        On a loop that runs on its own, the commit waits for the end of the loop's current
        round, so that every event finishing in that round shares it.
        """
        if self._waiters is None and not self.loop.is_running():  # nothing to share it with
            self.commit()
            return
        if self._waiters is None:
            self._waiters = []
            self.loop.call_soon(self._flush)
        future = self.loop.create_future()
        self._waiters.append(future)
        await future

    @property
    def dirty(self) -> bool:
        """True when some write is not committed yet."""
        return self.store.dirty or (self.objects is not None and self.objects.dirty)

    def commit(self) -> None:
        """Commit the objects' own databases (Workers projects), then the store."""
        if self.objects is not None:
            self.objects.commit()
        self.store.commit()

    def _flush(self) -> None:
        waiters, self._waiters = self._waiters or [], None
        try:
            self.commit()
        except StorageError as err:
            for f in waiters:
                if not f.done():
                    f.set_exception(err)
            return
        for f in waiters:
            if not f.done():
                f.set_result(None)
