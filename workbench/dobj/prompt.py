"""The REPL's prompt: completion, colours, the toolbar, multi-line input and history.

Completion is :func:`dobj.commands.suggest` behind a thin prompt_toolkit ``Completer``;
colouring is :func:`highlight`, a small pure lexer of the command language.

>>> [kind for kind, _ in highlight("COUNTER/global.increment(3)") if kind != "text"]
['namespace', 'name', 'punct', 'method', 'punct', 'number', 'punct']
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from .commands import command_names, is_complete
from .commands.complete import Vocabulary, suggest
from .runtime.clock import format_ms

_TOKEN = re.compile(r"""
    (?P<comment>^\s*\#.*$)
  | (?P<string>'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|`(?:[^`\\]|\\.)*`?)
  | (?P<object>(?<![\w/])[A-Za-z_][\w-]*/(?:[^\s.(/'"]|\.(?![A-Za-z_$][\w$]*\())*)
  | (?P<method>\.[A-Za-z_$][\w$]*(?=\s*\())
  | (?P<option>(?<!\S)--?[A-Za-z][\w-]*)
  | (?P<number>(?<![\w.])\d+(?:\.\d+)?(?:ms|s|m|h|d)?(?![\w.]))
  | (?P<punct>[()\[\]{},:])
  | (?P<word>[^\s'"`()\[\]{},:]+)
  | (?P<space>\s+)
""", re.X)

STYLE = Style.from_dict({
    "command": "bold #5f87ff", "namespace": "bold #00af87", "name": "#00af87",
    "method": "#d787ff", "string": "#d7af5f", "number": "#5fafff", "option": "#af87d7",
    "comment": "italic #808080", "punct": "#a8a8a8", "error": "bg:#870000",
    "bottom-toolbar": "noreverse bg:#262626 #bcbcbc", "bottom-toolbar.key": "bold #ffffff",
})


def highlight(line: str, first: bool = True) -> list[tuple[str, str]]:
    """``(kind, text)`` pieces of one line; ``first`` marks the line a command starts on."""
    pieces: list[tuple[str, str]] = []
    commands = set(command_names())
    for m in _TOKEN.finditer(line):
        kind, text = m.lastgroup, m.group()
        if kind == "object":
            ns, _, name = text.partition("/")
            pieces += [("namespace", ns + "/")] + ([("name", name)] if name else [])
            continue
        if kind == "method":
            pieces += [("punct", "."), ("method", text[1:])]
            continue
        if kind == "word" and first and not any(k != "text" for k, _ in pieces) and text in commands:
            kind = "command"
        pieces.append((kind if kind not in ("word", "space") else "text", text))
    return pieces


class CommandLexer(Lexer):
    """Colours the command language as it is typed."""

    def lex_document(self, document):
        lines = document.lines

        def line_pieces(number: int):
            return [(f"class:{kind}" if kind != "text" else "", text)
                    for kind, text in highlight(lines[number], first=number == 0)]

        return line_pieces


class CommandCompleter(Completer):
    """prompt_toolkit's face of :func:`suggest`; ``vocabulary`` is refreshed between commands."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or Vocabulary()

    def get_completions(self, document, complete_event):
        for s in suggest(document.text_before_cursor, self.vocabulary):
            yield Completion(s.text, start_position=s.start, display_meta=s.meta)


def key_bindings() -> KeyBindings:
    """Enter runs the command when its brackets are balanced, else starts a new line."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    return bindings


def toolbar_text(interp) -> list[tuple[str, str]]:
    """The bottom toolbar: bundle, clock (manual or real, and its time), live objects."""
    rt = interp.runtime
    if rt is None:
        return [("class:bottom-toolbar", " no bundle loaded: load BUNDLE ")]
    kind = "manual" if rt.clock.manual else "real"
    key = "class:bottom-toolbar.key"
    return [
        (key, f" {rt.bundle_path.name} "),
        ("", "│ clock "), (key, kind), ("", f" {format_ms(rt.clock.now_ms())} "),
        ("", "│ "), (key, str(rt.live_count())), ("", " live │ help, Tab, Ctrl-D "),
    ]


def history_path() -> Path:
    """Where the history lives: ``$XDG_DATA_HOME/dobj/history`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "dobj" / "history"


def open_history(path: Path | None = None) -> History:
    """A file history, or an in-memory one when the data folder cannot be written."""
    path = path or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def make_session(interp, completer: CommandCompleter, *, input=None, output=None,
                 history: History | None = None) -> PromptSession:
    """The PromptSession of the REPL (``input``/``output`` let tests drive it)."""
    real = interp.runtime is not None and not interp.runtime.clock.manual
    return PromptSession(
        message=[("class:namespace", "dobj"), ("", "> ")],
        multiline=True, prompt_continuation=lambda width, *_: "." * (width - 1) + " ",
        key_bindings=key_bindings(), completer=completer, complete_while_typing=False,
        complete_in_thread=True,  # storage keys are looked up then: keep the prompt's loop free
        lexer=CommandLexer(), style=STYLE, bottom_toolbar=lambda: toolbar_text(interp),
        history=history if history is not None else open_history(),
        refresh_interval=1.0 if real else 0, input=input, output=output,
    )
