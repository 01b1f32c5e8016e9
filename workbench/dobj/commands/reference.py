"""Help and the command reference, generated from the registry.

>>> "tick DURATION" in help_text()
True
"""

from __future__ import annotations

from ..errors import did_you_mean
from .registry import COMMANDS, Command, unique_commands
from .syntax import CommandError

# The order of SPEC section 8: objects first, then storage, time, and the session.
ORDER = ["call", "object", "fetch", "objects", "storage", "put", "del", "alarms", "clock", "tick",
         "trace", "evict", "reload", "load", "serve", "help", "quit"]
USAGE_WIDTH = 34


def ordered_commands() -> list[Command]:
    """Every command once, in the order help and the reference list them."""
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(unique_commands(), key=lambda c: rank.get(c.name, len(ORDER)))


def _lookup(name: str) -> Command:
    key = name.strip()
    if key in COMMANDS:
        return COMMANDS[key]
    if "/" in key:
        return COMMANDS["call" if "(" in key or "." in key else "object"]
    names = sorted(COMMANDS)
    raise CommandError(f"no command {key!r}{did_you_mean(key, names)}; try help")


def help_text(name: str | None = None) -> str:
    """The list of commands, or the full help of one (usage, details, examples)."""
    if name:
        cmd = _lookup(name)
        lines = [f"usage: {cmd.usage}", "", cmd.summary]
        if cmd.details:
            lines += ["", cmd.details]
        if cmd.aliases:
            lines += ["", "also: " + ", ".join(cmd.aliases)]
        if cmd.examples:
            lines += ["", "examples:"] + [f"  {e}" for e in cmd.examples]
        return "\n".join(lines)
    lines = []
    for cmd in ordered_commands():
        if len(cmd.usage) > USAGE_WIDTH:
            lines += [f"  {cmd.usage}", f"  {'':{USAGE_WIDTH}}  {cmd.summary}"]
        else:
            lines.append(f"  {cmd.usage:{USAGE_WIDTH}}  {cmd.summary}")
    return "\n".join(["commands:"] + lines + ["", "help COMMAND explains one; Ctrl-D or quit ends."])


def reference_markdown() -> str:
    """The command reference as Markdown (it is part of docs/repl.md)."""
    out = ["| command | does |", "|---|---|"]
    for cmd in ordered_commands():
        out.append(f"| `{cmd.usage}` | {cmd.summary} |")
    for cmd in ordered_commands():
        out += ["", f"### `{cmd.usage}`", "", cmd.summary]
        if cmd.details:
            out += ["", cmd.details]
        if cmd.aliases:
            out += ["", "Also written: " + ", ".join(f"`{a}`" for a in cmd.aliases) + "."]
        if cmd.examples:
            out += ["", "```"] + list(cmd.examples) + ["```"]
    return "\n".join(out) + "\n"

