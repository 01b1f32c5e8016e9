"""How a runtime's event loop gets run: by the thread that calls, by a timekeeper, or hosted.

The binding lets one thread at a time into a JavaScript context, and handing a call to
another thread costs 80-160 µs, so the runtime does not keep a thread for its loop unless
it has to:

- **driven** (the default): the thread that makes a synchronous call takes the runtime's
  lock and runs the event itself (:func:`step` first, the loop only if the event has to
  wait). With the real clock a :class:`Timekeeper` thread sleeps until the next alarm or
  timer is due and then takes the same lock to deliver it, so alarms fire on time while
  the program does something else (or the REPL waits at its prompt);
- **hosted**: when something must run on the loop for a long time (a server) or the caller
  is inside another running loop (a notebook), the loop moves to a thread of its own that
  runs it forever; calls from other threads then hop to it.

Only public asyncio is used: an event's first step runs outside any task, so the core
never uses what needs one (``asyncio.timeout``, ``wait_for``) and keeps its budget with
timer handles instead.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

THREAD_STACK = 16 * 1024 * 1024  # JavaScript's own stack limit is 4 MiB of it


def loop_running_here() -> bool:
    """True when the calling thread is inside a running event loop (a notebook, a server)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def step(coro: Coroutine) -> tuple[bool, Any]:
    """Run ``coro`` until it first waits: ``(True, result)``, or ``(False, what it waits on)``.

    Most events never wait (an uncontended turn, a handler whose Promise settles while the
    job queue drains), and then no loop iteration is needed at all.
    """
    try:
        return False, coro.send(None)
    except StopIteration as done:
        return True, done.value


async def resume(coro: Coroutine, waiting_on: Any) -> Any:
    """Finish, inside a task, a coroutine that :func:`step` ran until it waited.

    ``waiting_on`` is what it yielded: an asyncio future (awaiting one yields it) or None
    (``asyncio.sleep(0)``). The future counts as awaited already, so this task waits on a
    future of its own that the first one completes; the coroutine reads the first one's
    outcome itself when resumed.
    """
    while True:
        try:
            if waiting_on is None:
                await asyncio.sleep(0)
            elif not waiting_on.done():
                await _completion(waiting_on)
        except BaseException as exc:  # noqa: BLE001 - the coroutine takes it from here
            if waiting_on is None or not waiting_on.done():  # we were cancelled: pass it on
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
        try:
            waiting_on = coro.send(None)
        except StopIteration as done:
            return done.value


def _completion(future: asyncio.Future) -> asyncio.Future:
    """A new future that completes (with None) when ``future`` does."""
    done = future.get_loop().create_future()

    def wake(_) -> None:
        if not done.done():
            done.set_result(None)

    future.add_done_callback(wake)
    return done


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread with a stack large enough for JavaScript's."""
    old = threading.stack_size()
    threading.stack_size(THREAD_STACK)
    try:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    return thread


class Timekeeper:
    """A thread that sleeps until the next alarm or timer is due, then has it delivered.

    ``tick()`` delivers what is due and returns the seconds until the next due item (or
    None); :meth:`due_in` is told whenever something is scheduled. A wake-up that finds
    nothing due (the item was cancelled meanwhile) only asks ``tick`` again.
    """

    def __init__(self, tick: Callable[[], float | None]) -> None:
        self._tick = tick
        self._cond = threading.Condition()
        self._due: float | None = 0.0  # a first tick looks at what the store holds
        self._stopped = False
        self._thread = start_thread(self._run, "dobj-clock")

    def due_in(self, seconds: float) -> None:
        when = time.monotonic() + seconds
        with self._cond:
            if self._due is None or when < self._due:
                self._due = when
                self._cond.notify()

    def stop(self, *, wait: bool = True) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (self._due is None or self._due > time.monotonic()):
                    self._cond.wait(None if self._due is None else self._due - time.monotonic())
                if self._stopped:
                    return
                self._due = None
            nxt = self._tick()
            if nxt is not None:
                self.due_in(nxt)
