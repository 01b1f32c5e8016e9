"""The Jupyter front end: ``%load_ext dobj``, the ``%dobj`` and ``%%dobj`` magics.

The magics run the same workbench commands as the REPL (one :class:`~dobj.commands.Interpreter`
per shell, held by :class:`DobjMagics`; nothing global) and return their results as the
cell's value: the plain Python value for a call, a result object that renders as an HTML
table for storage, objects, alarms and the trace. Errors are one ``UsageError`` line;
``%dobj stack`` shows the last one in full, with its JavaScript stack.

    In [1]: %load_ext dobj
    In [2]: %dobj load ../samples/counter.js
    In [3]: %dobj COUNTER/global.increment(3)
    Out[3]: 3
    In [4]: rt = %dobj runtime          # the Python API, side by side
    In [5]: await rt.get("COUNTER", "global").acall("increment", 1)
    Out[5]: 4
"""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from .commands import Group, Interpreter, Message, Quit, Result, error_text, split_commands
from .commands.timeline import Events
from .errors import BadRequest, DobjError
from .lanes import Timeline

LOAD_HINT = "%dobj load BUNDLE"
NOTEBOOK_HELP = """\
In a notebook, also:
  %dobj runtime          the loaded dobj.Runtime, for the Python API (rt = %dobj runtime)
  %dobj stack            the last error in full, with its JavaScript stack
  %dobj timeline [N]     the last N events (default 50) as a timeline, one lane per object
  %%dobj                 several commands in one cell, one per line; each result is shown
  dobj.current()         the loaded runtime, from Python code"""


class TraceView(Result):
    """The ``trace`` command's table with a timeline of the same events above it."""

    def __init__(self, table: Events) -> None:
        self.table = table
        self.timeline = Timeline(table.events)

    @property
    def value(self) -> list[dict]:  # type: ignore[override]
        return self.table.value

    def to_text(self) -> str:
        return self.table.to_text()

    def to_html(self) -> str:
        return self.timeline.to_html() + self.table.to_html()


def one_line(err: DobjError) -> str:
    """An error as the single line a notebook shows (``%dobj stack`` has the rest)."""
    lines = error_text(err).splitlines()
    first = lines[0].removeprefix("error: ")
    if err.js_stack:
        return first + "  (%dobj stack shows the JavaScript stack)"
    return first + ("  (%dobj stack shows the rest)" if len(lines) > 1 else "")


def _print_text(obj, p, cycle) -> None:
    """IPython's plain-text view of a result: its text rendering, not its repr."""
    p.text(obj.to_text())


@magics_class
class DobjMagics(Magics):
    """``%dobj`` / ``%%dobj``: workbench commands in a notebook, one runtime per shell."""

    def __init__(self, shell) -> None:
        super().__init__(shell)
        self.interp = Interpreter(load_hint=LOAD_HINT)
        self.last_error: DobjError | None = None
        self.local = {"runtime": self.show_runtime, "stack": self.show_stack,
                      "timeline": self.show_timeline, "quit": self.close_runtime,
                      "exit": self.close_runtime, "help": self.show_help}

    @property
    def runtime(self):
        """The loaded runtime; ``BadRequest`` saying how to load one when there is none."""
        if self.interp.runtime is None:
            raise BadRequest(f"no bundle is loaded; load one with: {LOAD_HINT}")
        return self.interp.runtime

    @line_cell_magic
    def dobj(self, line: str, cell: str | None = None):
        """Run a workbench command (``%dobj objects``), or one per line of the cell (``%%dobj``)."""
        if cell is None:
            return self.run_line(line)
        self.run_cell(line, cell)
        return None

    def run_line(self, line: str):
        """Route one command: notebook-only words here, the rest to the interpreter."""
        word, _, rest = line.strip().partition(" ")
        word = word or "help"
        handler = self.local.get(word)
        if handler is not None and not (word == "help" and rest.strip()):
            return self.guard(handler, rest.strip())
        value = self.cell_value(self.guard(self.interp.run, line))
        notices = self.interp.take_notices()
        if not notices:
            return value
        if value is not None:  # the command's result first, then what arrived while it ran
            display(value)
        print("\n".join(notices))
        return None

    def run_cell(self, line: str, cell: str) -> None:
        """Run the commands of a ``%%dobj`` cell in order, displaying each result."""
        commands = ([line] if line.strip() else []) + list(split_commands(cell.splitlines()))
        for text in commands:
            try:
                value = self.run_line(text)
            except UsageError as err:
                where = text.strip().splitlines()[0]
                raise UsageError(f"{where}: {err}") from None
            if value is not None:
                display(value)

    def guard(self, fn, *args):
        """Call ``fn``; a dobj error becomes one ``UsageError`` line and is kept for ``stack``
        (after what arrived meanwhile, WebSocket messages, is printed)."""
        try:
            return fn(*args)
        except DobjError as err:
            self.last_error = err
            for text in self.interp.take_notices():
                print(text)
            raise UsageError(one_line(err)) from None

    def cell_value(self, result: Result | None):
        """What the cell shows: console lines are printed, then the value or the table."""
        if result is None:
            return None
        for level, text in getattr(result, "console", ()):
            print(f"[{level}] {text}")
        if isinstance(result, Events):
            return TraceView(result)
        if isinstance(result, Quit):
            return self.close_runtime("")
        return result.cell_value()

    # -- notebook-only commands -----------------------------------------------------------
    def show_runtime(self, rest: str):
        """``%dobj runtime``: the :class:`dobj.Runtime` for the Python API."""
        return self.runtime

    def show_stack(self, rest: str) -> Message:
        """``%dobj stack``: the last error with its JavaScript stack."""
        if self.last_error is None:
            return Message("no error yet")
        return Message(error_text(self.last_error), value=self.last_error.js_stack)

    def show_timeline(self, rest: str) -> Timeline:
        """``%dobj timeline [N]``: the last N events as one lane per object."""
        if rest and not rest.isdigit():
            raise BadRequest("usage: %dobj timeline [N]  (N a number of events)")
        return Timeline(self.runtime.trace(int(rest) if rest else 50))

    def show_help(self, rest: str) -> Group:
        """``%dobj`` or ``%dobj help``: the command list and the notebook's extras."""
        return Group([self.interp.run("help"), Message(NOTEBOOK_HELP)], value=None)

    def close_runtime(self, rest: str) -> Message:
        """``%dobj quit``: close the runtime (storage under ``--data`` stays on disk)."""
        had = self.interp.runtime is not None
        self.interp.close()
        return Message("closed the runtime" if had else "no runtime was loaded")


def current():
    """The runtime loaded with ``%dobj load`` in the running IPython shell.

    >>> rt = dobj.current()                                   # doctest: +SKIP
    >>> rt.get("COUNTER", "global").increment()               # doctest: +SKIP
    4
    """
    from IPython import get_ipython

    shell = get_ipython()
    magics = shell.magics_manager.registry.get("DobjMagics") if shell is not None else None
    if magics is None:
        raise BadRequest("dobj is not loaded in this shell; run %load_ext dobj, then %dobj load BUNDLE")
    return magics.runtime


def load_ipython_extension(ipython) -> None:
    """``%load_ext dobj``: register the magics and the plain-text view of results."""
    ipython.register_magics(DobjMagics(ipython))
    ipython.display_formatter.formatters["text/plain"].for_type(Result, _print_text)


def unload_ipython_extension(ipython) -> None:
    """Close the runtime and remove what :func:`load_ipython_extension` added."""
    manager = ipython.magics_manager
    magics = manager.registry.pop("DobjMagics", None)
    if magics is not None:
        magics.interp.close()
    for kind in ("line", "cell"):
        manager.magics[kind].pop("dobj", None)
    ipython.display_formatter.formatters["text/plain"].pop(Result, None)


__all__ = ["DobjMagics", "TraceView", "current", "load_ipython_extension", "unload_ipython_extension"]
