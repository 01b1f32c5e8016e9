"""``python -m dobj.commands``: print the command reference as Markdown (for docs/repl.md)."""

from .reference import reference_markdown

print(reference_markdown(), end="")
