"""Turn a workbench session into a pytest module: ``record FILE.py`` ... ``record stop``.

The module loads the same project on the manual clock, starting where the session's clock
stood, replays every command in order (one line each, with the original command as a
comment) and asserts every result that was shown, as Python literals; an error that was
shown is expected again. Commands whose outcome cannot be replayed exactly are written as
comments that say why, never dropped.

>>> from dobj.commands import parse
>>> parse("record stop").args
{'target': 'stop'}
"""

from __future__ import annotations

import pprint
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..runtime.clock import format_ms
from .registry import command
from .results import Message
from .syntax import CommandError, split_words

# Commands whose outcome depends on more than the project and the commands before them.
NOT_REPLAYED = {
    "serve": "it starts a server in the background; the test calls the objects directly",
    "load": "the test loads its project once, at the start",
    "trace": "it shows durations, which differ from run to run",
    "help": "it shows the command reference, not behaviour",
    "quit": "it ends the session",
    "exit": "it ends the session",
}


@dataclass
class Recorder:
    """Commands seen since ``record FILE.py``, with what they showed."""

    path: Path
    project: str
    clock_ms: float
    lines: list[str] = field(default_factory=list)

    def add(self, line: str, name: str, *, value: Any = None, error: Exception | None = None) -> None:
        text = line.strip()
        pad = " " * 8
        comment = pad + "# " + text.replace("\n", "\n" + pad + "# ")
        if name in NOT_REPLAYED:
            self.lines.append(f"{comment}\n{pad}# not replayed: {NOT_REPLAYED[name]}")
            return
        call = f"wb.run({text!r})"
        if error is not None:
            message = getattr(error, "message", str(error))
            self.lines.append(f"{comment}\n{pad}with pytest.raises(DobjError, match={_escaped(message)!r}):\n{pad}    {call}")
        elif value is None:
            self.lines.append(f"{comment}\n{pad}{call}")
        else:
            shown = pprint.pformat(value, width=80, sort_dicts=False).replace("\n", "\n" + pad + "    ")
            self.lines.append(f"{comment}\n{pad}assert {call}.value == (\n{pad}    {shown}\n{pad}), {text!r}")

    def module(self) -> str:
        head = (f'"""A dobj workbench session on {self.project}, recorded {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n'
                "Replays it on the manual clock and checks that everything shown is shown again.\n"
                '"""\n\n'
                "import datetime  # noqa: F401 - values may be dates\n\n"
                "import pytest\n\n"
                "import dobj\n"
                "from dobj import DobjError\n"
                "from dobj.commands import Interpreter\n\n"
                f"PROJECT = {self.project!r}\n\n\n"
                "def test_recorded_session(tmp_path):\n"
                f"    rt = dobj.Runtime.load(PROJECT, data=tmp_path / 'data', clock_start={format_ms(self.clock_ms)!r})\n"
                "    with Interpreter(rt) as wb:\n")
        body = "\n".join(self.lines) if self.lines else "        pass  # nothing was recorded"
        return head + body + "\n"


def _escaped(message: str) -> str:
    import re

    return re.escape(message.splitlines()[0] if message else "")


def _parse_record(text: str) -> dict[str, Any]:
    words = split_words(text)
    if len(words) != 1:
        raise CommandError("usage: record FILE.py (start) or record stop (write it)")
    return {"target": words[0].text}


@command("record", "record FILE.py", "Record the session's commands into a pytest module"
         " (record FILE.py), then write it (record stop).", parse=_parse_record,
         details="The module replays every command on the manual clock from where the session's"
         " clock stood, and asserts every result shown; run it with pytest.",
         examples=("record test_counter_session.py", "record stop"))
def record(interp, target: str) -> Message:
    """Start recording into ``target``, or write the recording (``target`` is ``stop``)."""
    if target == "stop":
        recorder = interp.recorder
        if recorder is None:
            raise CommandError("nothing is being recorded; start with: record FILE.py")
        try:
            recorder.path.write_text(recorder.module(), encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {recorder.path}: {exc.strerror or exc}; the recording"
                               " goes on, stop again with: record stop") from None
        interp.recorder = None
        return Message(f"wrote {recorder.path} ({len(recorder.lines)} commands): run it with pytest {recorder.path}",
                       value=str(recorder.path))
    if interp.recorder is not None:
        raise CommandError(f"already recording into {interp.recorder.path}; finish with: record stop")
    path = Path(target)
    if path.suffix != ".py":
        raise CommandError("record into a Python file, e.g. record test_session.py")
    if not path.parent.is_dir():
        raise CommandError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    rt = interp.rt
    if not rt.clock.manual:
        raise CommandError("recording needs the manual clock, which a test can replay; start the"
                           " workbench without --real-clock")
    interp.recorder = Recorder(path.resolve(), str(rt.bundle_path.resolve()), rt.clock.now_ms())
    return Message(f"recording into {path}; finish with: record stop", value=str(path))
