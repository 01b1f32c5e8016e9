"""The registry of workbench commands and the helpers their argument parsers share.

A command is a handler registered with :func:`command`; ``help``, the command reference
and completion are all generated from here.

>>> @command("hello", "hello [NAME]", "Say hello.", registry={})
... def hello(interp, name="world"):
...     return f"hello {name}"
>>> hello.command.parse("Ada")
{'name': 'Ada'}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import did_you_mean
from .syntax import CommandError, parse_object, split_words

Parser = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Command:
    """One command: its name, how it is written, what it does, and its handler.

    ``form`` marks syntax forms that are typed without a command word
    (``NS/name.method(args)``); they are documented but not looked up by name.
    """

    name: str
    usage: str
    summary: str
    handler: Callable[..., Any]
    parse: Parser
    details: str = ""
    examples: tuple[str, ...] = ()
    form: bool = False
    aliases: tuple[str, ...] = field(default=())


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, summary: str, *, parse: Parser | None = None,
            details: str = "", examples: tuple[str, ...] = (), form: bool = False,
            aliases: tuple[str, ...] = (), registry: dict[str, Command] | None = None):
    """Register a handler ``fn(interp, **args)`` under ``name``.

    Without ``parse``, the arguments are read from ``usage``: each word after the name
    is a parameter (``NS/name`` is ``obj``, ``[X]`` is optional, ``X`` becomes ``x``).
    """

    def register(fn):
        cmd = Command(name, usage, summary, fn, parse or usage_parser(usage), details,
                      tuple(examples), form, tuple(aliases))
        target = COMMANDS if registry is None else registry
        target[name] = cmd
        for alias in aliases:
            target[alias] = cmd
        fn.command = cmd
        return fn

    return register


def usage_parser(usage: str) -> Parser:
    """A parser for simple usages: ``storage NS/name [PREFIX]`` -> ``{obj, prefix}``."""
    params = []
    for word in usage.split()[1:]:
        optional = word.startswith("[")
        word = word.strip("[]")
        params.append(("obj" if word == "NS/name" else word.lower(), optional))
    name = usage.split()[0]

    def parse(text: str) -> dict[str, Any]:
        words = [w.text for w in split_words(text)]
        required = sum(1 for _, optional in params if not optional)
        if not required <= len(words) <= len(params):
            raise CommandError(f"usage: {usage}")
        args: dict[str, Any] = {}
        for (param, _), word in zip(params, words):
            args[param] = parse_object(word) if param == "obj" else word
        return args

    parse.__doc__ = f"Arguments of {name}: {usage}"
    return parse


def find_command(name: str) -> Command:
    """The command registered as ``name``, or an error that suggests a close one."""
    cmd = COMMANDS.get(name)
    if cmd is None or cmd.form:
        names = sorted(n for n, c in COMMANDS.items() if not c.form)
        raise CommandError(f"unknown command {name!r}{did_you_mean(name, names)}; try help")
    return cmd


def command_names() -> list[str]:
    """Names (and aliases) that can start a line, sorted."""
    return sorted(n for n, c in COMMANDS.items() if not c.form)


def unique_commands() -> list[Command]:
    """Every registered command once, in registration order."""
    seen: dict[str, Command] = {}
    for cmd in COMMANDS.values():
        seen.setdefault(cmd.name, cmd)
    return list(seen.values())
