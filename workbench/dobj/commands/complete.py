"""Completion as a pure function: the text before the cursor in, suggestions out.

:func:`suggest` reads nothing but its arguments (a :class:`Vocabulary` snapshot and, for
file paths, a directory lister), so front ends wrap it thinly and tests call it directly.

>>> vocab = Vocabulary(commands={"storage": "", "serve": ""}, namespaces={"COUNTER": ("increment",)},
...                    objects=[("COUNTER", "global")])
>>> [s.text for s in suggest("COUNTER/global.inc", vocab)]
['increment']
>>> [s.text for s in suggest("st", vocab)]
['storage']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .syntax import CommandError, quote_word, split_words

_OBJECT_ARG = {"storage": 1, "put": 1, "del": 1, "delete": 1, "evict": 1, "fetch": 1}
_KEY_ARG = {"storage": 2, "put": 2, "del": 2, "delete": 2}
_OPTIONS = {"load": ["--data", "--manifest", "--real-clock", "--cpu-timeout"],
            "serve": ["--port", "--host"]}
_HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass(frozen=True)
class Suggestion:
    """Replace the last ``-start`` characters before the cursor with ``text``."""

    text: str
    start: int
    meta: str = ""


@dataclass
class Vocabulary:
    """What completion knows: commands (name -> summary), namespaces (-> RPC methods: not
    the ``fetch`` and ``alarm`` handlers), objects seen so far, and storage keys.

    Keys are either listed in ``keys`` or looked up when a key is being completed, by
    ``find_keys(namespace, name, prefix)`` (so nothing is read before it is needed).
    """

    commands: dict[str, str] = field(default_factory=dict)
    namespaces: dict[str, tuple[str, ...]] = field(default_factory=dict)
    objects: list[tuple[str, str]] = field(default_factory=list)
    keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    find_keys: Callable[[str, str, str], list[str]] | None = None
    snapshots: list[str] = field(default_factory=list)

    def keys_of(self, namespace: str, name: str, prefix: str) -> list[str]:
        """Keys of one object that may start with ``prefix`` (as typed, maybe quoted)."""
        if self.find_keys is None:
            return self.keys.get((namespace, name), [])
        return self.find_keys(namespace, name, prefix.lstrip("'\""))


def _match(partial: str, candidates, meta: str | dict = "") -> list[Suggestion]:
    """Candidates that start with ``partial`` (exact case first, then any case)."""
    exact = [c for c in candidates if c.startswith(partial)]
    folded = [c for c in candidates if c.lower().startswith(partial.lower()) and c not in exact]
    pick = lambda c: meta.get(c, "") if isinstance(meta, dict) else meta  # noqa: E731
    return [Suggestion(c, -len(partial), pick(c)) for c in exact + folded if c != partial]


def _objects(partial: str, vocab: Vocabulary) -> list[Suggestion]:
    """``NS/`` and ``NS/name`` candidates for a word that names an object."""
    if "/" not in partial:
        return _match(partial, [f"{ns}/" for ns in vocab.namespaces], "namespace")
    ns = partial.split("/", 1)[0]
    names = [f"{o_ns}/{quote_word(name)}" for o_ns, name in vocab.objects if o_ns == ns]
    return _match(partial, names, "object")


def _first_word(word: str, vocab: Vocabulary) -> list[Suggestion]:
    if "/" not in word:
        return _match(word, list(vocab.commands), vocab.commands) + _objects(word, vocab)
    ns, rest = word.split("/", 1)
    if "." in rest:
        name, partial = rest.rsplit(".", 1)
        methods = vocab.namespaces.get(ns, ())
        return _match(partial, list(methods), f"{ns} method")
    return _objects(word, vocab)


def suggest(text: str, vocab: Vocabulary,
            listdir: Callable[[str], list[tuple[str, bool]]] | None = None) -> list[Suggestion]:
    """Suggestions for the word before the cursor.

    ``listdir(folder)`` returns ``(name, is_dir)`` pairs for file-path completion
    (:func:`list_folder` by default).
    """
    if "(" in text or "\n" in text:
        return []  # inside JavaScript arguments
    stripped = text.lstrip()
    if not stripped or (" " not in stripped and not text.endswith(" ")):
        return _first_word(stripped, vocab)
    try:
        words = [w.text for w in split_words(stripped)]
    except CommandError:
        return []
    partial = "" if text[-1].isspace() else words.pop()
    return _argument(words[0], words[1:], partial, vocab, listdir or list_folder)


def _argument(cmd: str, before: list[str], partial: str, vocab: Vocabulary, listdir) -> list[Suggestion]:
    index = len(before) + 1
    if cmd == "help" and index == 1:
        return _match(partial, list(vocab.commands), vocab.commands)
    if cmd == "clock" and index == 1:
        return _match(partial, ["set"])
    if cmd in _OPTIONS:
        return _option(cmd, before, partial, listdir)
    named = _snapshot_argument(cmd, before, partial, vocab, listdir)
    if named is not None:
        return named
    if cmd == "fetch":
        if index == 1 and "/" not in partial:
            return _match(partial, _HTTP_METHODS, "method") + _objects(partial, vocab)
        if index <= 2 and (index == 1 or before[0].upper() in _HTTP_METHODS) and partial.count("/") < 2:
            return _objects(partial, vocab)
        return []
    if _OBJECT_ARG.get(cmd) == index:
        return _objects(partial, vocab)
    if _KEY_ARG.get(cmd) == index and "/" in before[0]:
        ns, name = before[0].split("/", 1)
        return _match(partial, [quote_word(k) for k in vocab.keys_of(ns, name, partial)], "key")
    return []


def _snapshot_argument(cmd: str, before: list[str], partial: str, vocab: Vocabulary, listdir):
    """Snapshot names for ``restore``, ``diff`` and ``snapshot save``; paths for the files of
    ``snapshot load`` and ``record``; None when the command is none of these."""
    index = len(before) + 1
    if (cmd == "restore" and index == 1) or (cmd == "diff" and index <= 2) or \
            (cmd == "snapshot" and before[:1] == ["save"] and index == 2):
        return _match(partial, vocab.snapshots, "snapshot")
    if (cmd == "snapshot" and before[:1] == ["load"] and index == 2) or \
            (cmd == "snapshot" and before[:1] == ["save"] and index == 3) or (cmd == "record" and index == 1):
        return _paths(partial, listdir)
    if cmd == "snapshot" and index == 1:
        return _match(partial, ["save", "load"])
    return None


def _option(cmd: str, before: list[str], partial: str, listdir) -> list[Suggestion]:
    """Options of ``load``/``serve``, and paths where ``load`` expects them."""
    previous = before[-1] if before else ""
    if previous in ("--data", "--manifest"):
        return _paths(partial, listdir, dirs_only=previous == "--data")
    if previous in ("--port", "--host", "--cpu-timeout"):
        return []
    if partial.startswith("-") or cmd == "serve":
        return _match(partial, [o for o in _OPTIONS[cmd] if o not in before])
    return _paths(partial, listdir)


def _paths(partial: str, listdir, dirs_only: bool = False) -> list[Suggestion]:
    folder, _, stem = partial.rpartition("/")
    base = folder + "/" if folder or partial.startswith("/") else ""
    try:
        entries = listdir(os.path.expanduser(folder) if folder else (base or "."))
    except OSError:
        return []
    names = [base + name + ("/" if is_dir else "") for name, is_dir in sorted(entries)
             if (is_dir or not dirs_only) and (not name.startswith(".") or stem.startswith("."))]
    return _match(partial, names, "path")


def list_folder(folder: str) -> list[tuple[str, bool]]:
    """``(name, is_dir)`` for the entries of a folder."""
    with os.scandir(folder or ".") as entries:
        return [(e.name, e.is_dir()) for e in entries]


def snapshot(interp, max_keys: int = 200) -> Vocabulary:
    """A :class:`Vocabulary` of an interpreter's runtime, read now (not while typing).

    Storage keys are not read here: they are asked of SQLite when a key is being
    completed, by prefix, without their values, at most ``max_keys`` of them.
    """
    from .registry import COMMANDS

    commands = {n: c.summary for n, c in COMMANDS.items() if not c.form}
    rt = interp.runtime
    if rt is None:
        return Vocabulary(commands=commands)

    def find_keys(namespace: str, name: str, prefix: str) -> list[str]:
        if namespace not in rt.namespaces:
            return []
        return rt.storage_keys(namespace, name, prefix=prefix or None, limit=max_keys)

    spaces = {ns: c.rpc_methods for ns, c in rt.namespaces.items()}
    return Vocabulary(commands=commands, namespaces=spaces, objects=interp.known_objects(),
                      find_keys=find_keys, snapshots=list(interp.snapshots))
