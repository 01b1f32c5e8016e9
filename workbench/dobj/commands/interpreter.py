"""The interpreter: one command line in, one result object out.

The REPL and the notebook each hold an :class:`Interpreter` around a runtime; it keeps
what a session accumulates (objects seen so far, a background server), nothing global.

>>> import dobj                                                   # doctest: +SKIP
>>> interp = Interpreter(dobj.Runtime.load("samples/counter.js"))  # doctest: +SKIP
>>> interp.run("COUNTER/global.increment(3)").value               # doctest: +SKIP
3
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import DobjError
from .registry import COMMANDS, Command, find_command
from .results import Result
from .syntax import CommandError, is_complete

_OBJECT_FORM = re.compile(r"\s*[^\s/()'\"]+/")


@dataclass(frozen=True)
class Parsed:
    """A parsed command line: the command and the keyword arguments of its handler."""

    command: Command
    args: dict[str, Any]


def parse(line: str) -> Parsed | None:
    """Parse one command line; None for a blank line or a ``#`` comment.

    >>> p = parse("storage COUNTER/global c")
    >>> p.command.name, p.args
    ('storage', {'obj': ('COUNTER', 'global'), 'prefix': 'c'})
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if _OBJECT_FORM.match(text):
        form = COMMANDS["call"] if _has_call(text) else COMMANDS["object"]
        return Parsed(form, form.parse(text))
    name, rest = re.match(r"(\S+)\s*(.*)", text, re.S).groups()
    cmd = find_command(name)
    return Parsed(cmd, cmd.parse(rest))


def _has_call(text: str) -> bool:
    from .syntax import _first_unquoted

    return _first_unquoted(text, "(") is not None


def split_commands(lines: Iterable[str]) -> Iterator[str]:
    """Group lines into commands: a line that leaves brackets open continues on the next.

    For scripts, piped input and notebook cells with several commands.

    >>> list(split_commands(["C/a.f(1,", " 2)", "", "objects"]))
    ['C/a.f(1,\\n 2)', 'objects']
    """
    pending = ""
    for line in lines:
        pending += line if line.endswith("\n") else line + "\n"
        if is_complete(pending):
            if pending.strip():
                yield pending.rstrip("\n")
            pending = ""
    if pending.strip():
        yield pending.rstrip("\n")


class Interpreter:
    """Runs workbench commands against one runtime (or none, until ``load``).

    ``load_hint`` is how the front end's user writes the ``load`` command (the REPL's
    ``load BUNDLE``, a notebook's ``%dobj load BUNDLE``); errors that ask for a bundle
    quote it.
    """

    def __init__(self, runtime=None, *, load_hint: str = "load BUNDLE") -> None:
        self.runtime = runtime
        self.load_hint = load_hint
        self.seen: set[tuple[str, str]] = set()
        self.server = None
        self.snapshots: dict = {}  # name -> Snapshot, for snapshot/restore/diff
        self.recorder = None  # a commands.recording.Recorder while recording
        self.clients: dict = {}  # number -> WebSocket client opened with ``ws``
        self.notices: list[str] = []  # what arrived meanwhile (WebSocket messages), not yet shown
        self.on_notice = None  # a front end that can show notices at once sets this
        self._running = False  # a command runs now

    def notice(self, text: str) -> None:
        """Something arrived by itself (a WebSocket message). Between commands it is shown at
        once when the front end can (``on_notice``); during a command it is kept for
        :meth:`take_notices`, which the front end calls after showing the command's result."""
        if self.on_notice is not None and not self._running:
            self.on_notice(text)
        else:
            self.notices.append(text)

    def take_notices(self) -> list[str]:
        notices, self.notices = self.notices, []
        return notices

    @property
    def rt(self):
        """The runtime; an error that says how to load one when there is none."""
        if self.runtime is None:
            raise CommandError(f"no bundle is loaded; load one with: {self.load_hint}")
        return self.runtime

    def run(self, line: str) -> Result | None:
        """Parse and run one command line; raises :class:`dobj.DobjError` on failure."""
        parsed = parse(line)
        if parsed is None:
            return None
        recorder, name = self.recorder, parsed.command.name
        if recorder is None or name == "record":
            return self.dispatch(parsed)
        try:
            result = self.dispatch(parsed)
        except DobjError as err:
            recorder.add(line, name, error=err)
            raise
        recorder.add(line, name, value=getattr(result, "value", None))
        return result

    def dispatch(self, parsed: Parsed) -> Result:
        """Run an already parsed command."""
        running, self._running = self._running, True
        try:
            return parsed.command.handler(self, **parsed.args)
        finally:
            self._running = running

    def handle(self, namespace: str, name: str):
        """The runtime's handle on an object, remembered for completion."""
        handle = self.rt.get(namespace, name)
        self.seen.add((namespace, name))
        return handle

    def known_objects(self) -> list[tuple[str, str]]:
        """Objects seen in this session plus every object that is live or has storage."""
        if self.runtime is None:
            return sorted(self.seen)
        return sorted(self.seen | set(self.runtime.objects()))

    def replace_runtime(self, runtime) -> None:
        """Switch to another runtime, closing the old one and its server."""
        self.stop_server()
        old, self.runtime = self.runtime, runtime
        self.seen.clear()
        self.clients.clear()
        if old is not None:
            old.close()

    def stop_server(self) -> None:
        """Stop the background server, if one runs."""
        server, self.server = self.server, None
        if server is not None:
            server.stop()

    def close(self) -> None:
        """Stop the server and close the runtime."""
        self.replace_runtime(None)

    def __enter__(self) -> Interpreter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
