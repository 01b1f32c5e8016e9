"""The workbench command language (SPEC section 8), shared by the REPL and the notebook.

Commands are registered in :mod:`.registry`; each handler takes the :class:`Interpreter`
and its parsed arguments and returns a result object (:mod:`.results`) that carries plain
data, a plain-text rendering and ``_repr_html_``. Nothing here prints.

>>> import dobj                                                        # doctest: +SKIP
>>> with Interpreter(dobj.Runtime.load("samples/counter.js")) as wb:   # doctest: +SKIP
...     print(wb.run("COUNTER/global.increment(3)"))
3
"""

from . import objects, recording, session, snapshots, sockets, storage, timeline  # noqa: F401  (registers the commands)
from .complete import Suggestion, suggest
from .interpreter import Interpreter, Parsed, parse, split_commands
from .reference import help_text, reference_markdown
from .registry import COMMANDS, Command, command, command_names
from .results import FetchReply, Group, Message, Quit, Result, Table, Value, error_text
from .syntax import CommandError, Incomplete, is_complete

__all__ = [
    "COMMANDS",
    "Command",
    "CommandError",
    "FetchReply",
    "Group",
    "Incomplete",
    "Interpreter",
    "Message",
    "Parsed",
    "Quit",
    "Result",
    "Suggestion",
    "Table",
    "Value",
    "command",
    "command_names",
    "error_text",
    "help_text",
    "is_complete",
    "parse",
    "reference_markdown",
    "split_commands",
    "suggest",
]
