"""IPython sessions on a docs page: ``In [n]:`` cells run in a real shell, outputs compared.

A ```` ```python ```` block whose first line is ``In [n]: ...`` is a session transcript:

    In [2]: %dobj COUNTER/global.increment(3)
    Out[2]: 3

    In [3]: rt = %dobj runtime
       ...: rt.get("COUNTER", "global").increment(1)
    Out[3]: 4

Every cell of a page runs in order in one :class:`InteractiveShell`, whose working
directory is a copy of ``notebooks/`` beside a copy of ``samples/`` (so the page's
``../samples/...`` paths work and its ``%%writefile`` bundles do not land in the source
tree). What the cell shows, its ``Out[n]`` value as IPython prints it, printed lines and
``UsageError`` lines, must match the lines the page shows under the cell, and ``n`` must be
the shell's execution count. Only what varies from run to run is made comparable:
durations, clock times, column padding, and the ids, order and places of a timeline's bars.

To refresh a page's transcripts after changing it: ``python tests/ipysession.py PAGE``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from docblocks import ROOT, Block, blocks, is_session, normalize

_IN = re.compile(r"^In \[(\d+)\]: ?(.*)$")
_MORE = re.compile(r"^ +\.\.\.: ?(.*)$")
_AXIS = re.compile(r"^ +0 ms +[\d.]+ m?s$")
_LANE = re.compile(r"^(\S+) +([\d ]+)$")
_BARS = re.compile(r"(\d)\1*")  # a run of one digit is one event's bar
_TIMES = [
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<datetime>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?\b"), "<time>"),
]


@dataclass
class Cell:
    number: int
    source: str
    line: int                  # line number of the ``In [n]:`` line in the page
    output: list[str] = field(default_factory=list)


def cells(block: Block) -> list[Cell]:
    """The cells of a transcript: each input (continuation lines joined) and its output."""
    found: list[Cell] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        m = _IN.match(lines[i])
        if not m:
            assert found, f"line {block.line + 1 + i}: a transcript starts with In [n]:"
            found[-1].output.append(lines[i])
            i += 1
            continue
        source = [m.group(2)]
        start = block.line + 1 + i
        while i + 1 < len(lines) and _MORE.match(lines[i + 1]):
            i += 1
            source.append(_MORE.match(lines[i]).group(1))
        found.append(Cell(int(m.group(1)), "\n".join(source), start))
        i += 1
    return found


def comparable(text: str) -> str:
    """Output with run-to-run differences taken out (see :func:`docblocks.normalize`).

    Concurrent events start in a different order from run to run, so a timeline keeps its
    lanes and how many events each lane shows, not their ids, order or places:

    >>> comparable("LEDGER/l     3333 4\\nACCOUNT/a  111 22\\n           0 ms    4.2 ms")
    'ACCOUNT/a 2 events\\nLEDGER/l 2 events\\n<axis>'
    """
    for pattern, placeholder in _TIMES:
        text = pattern.sub(placeholder, text)
    lines = text.splitlines()
    for axis in [n for n, line in enumerate(lines) if _AXIS.match(line)]:
        first = axis
        while first > 0 and _LANE.match(lines[first - 1]):
            first -= 1
        lanes = sorted(_LANE.match(line).groups() for line in lines[first:axis])
        lines[first:axis + 1] = [f"{name} {len(_BARS.findall(bars))} events"
                                 for name, bars in lanes] + ["<axis>"]
    return normalize("\n".join(lines))


class Session:
    """One IPython shell for one page; its working directory is a copy of ``notebooks/``."""

    def __init__(self, page: str, workdir: Path) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        assert not InteractiveShell.initialized(), "another IPython shell is still open"
        self.page = page
        shutil.copytree(ROOT / "samples", workdir / "samples")
        shutil.copytree(ROOT / "notebooks", workdir / "notebooks")
        self.cwd = workdir / "notebooks"
        self._saved = os.environ.get("IPYTHONDIR"), sys.displayhook, sys.excepthook
        os.environ["IPYTHONDIR"] = str(workdir / "ipython")  # no user profile or startup files
        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        self.shell = InteractiveShell.instance(config=config)

    def run(self, cell: Cell) -> str:
        """Run one cell as IPython would; returns everything it showed."""
        from IPython.core.error import UsageError

        where = f"{self.page}:{cell.line}"
        assert cell.number == self.shell.execution_count, (
            f"{where}: the page says In [{cell.number}], the shell is at "
            f"In [{self.shell.execution_count}]")
        shown = io.StringIO()
        cwd = os.getcwd()
        os.chdir(self.cwd)
        try:
            with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
                result = self.shell.run_cell(cell.source, store_history=True)
        finally:
            os.chdir(cwd)
        error = result.error_before_exec or result.error_in_exec
        assert error is None or isinstance(error, UsageError), (
            f"{where}: the cell raised {error!r}\n{shown.getvalue()}")
        return shown.getvalue()

    def check(self, block: Block) -> None:
        """Run the cells of a transcript; each must show what the page shows."""
        for cell in cells(block):
            output = self.run(cell)
            expected = "\n".join(cell.output)
            assert comparable(output) == comparable(expected), (
                f"{self.page}:{cell.line}: In [{cell.number}] shows something else\n"
                f"--- page\n{expected.strip()}\n--- now\n{output.strip()}")

    def transcript(self, block: Block) -> str:
        """The block as it runs now: every cell with its current output."""
        parts = []
        for cell in cells(block):
            prompt = f"In [{self.shell.execution_count}]: "
            more = " " * (len(prompt) - 5) + "...: "
            source = cell.source.splitlines() or [""]
            lines = [prompt + source[0]] + [(more + s).rstrip() for s in source[1:]]
            output = self.run(Cell(self.shell.execution_count, cell.source, cell.line))
            lines += [line.rstrip() for line in output.strip("\n").splitlines()]
            parts.append("\n".join(lines))
        return "\n\n".join(parts) + "\n"

    def close(self) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        try:
            if "dobj" in self.shell.extension_manager.loaded:
                self.shell.run_line_magic("unload_ext", "dobj")
        finally:
            InteractiveShell.clear_instance()
            home, sys.displayhook, sys.excepthook = self._saved
            if home is None:
                os.environ.pop("IPYTHONDIR", None)
            else:
                os.environ["IPYTHONDIR"] = home


def refresh(path: Path, workdir: Path) -> None:
    """Rewrite the transcripts of a page with what its cells show now."""
    lines = path.read_text(encoding="utf-8").splitlines()
    session = Session(path.name, workdir)
    try:
        fresh = [(block, session.transcript(block)) for block in blocks(path)
                 if not block.no_run and is_session(block)]
    finally:
        session.close()
    for block, text in reversed(fresh):
        lines[block.line:block.line + len(block.text.splitlines())] = text.splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dobj-docs-") as tmp:
        refresh(Path(sys.argv[1]), Path(tmp))
