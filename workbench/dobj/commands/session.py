"""Commands about the session: help, quit, reload, load another bundle, serve over HTTP.

>>> from dobj.commands import parse
>>> parse("serve --port 0").args
{'port': 0, 'host': '127.0.0.1'}
"""

from __future__ import annotations

from typing import Any

from .reference import help_text
from .registry import command
from .results import Message, Quit
from .syntax import CommandError, split_words


def _namespaces_line(rt) -> str:
    spaces = ", ".join(f"{ns} ({c.export})" for ns, c in rt.namespaces.items())
    return f"{rt.bundle_path.name}: {spaces}"


@command("help", "help [COMMAND]", "List the commands, or explain one.",
         examples=("help", "help tick"), aliases=("?",))
def help_(interp, command: str | None = None) -> Message:
    """The command list, or one command's usage, details and examples."""
    return Message(help_text(command))


@command("quit", "quit", "End the session (Ctrl-D does too).", aliases=("exit",))
def quit_(interp) -> Quit:
    """Ask the front end to stop."""
    return Quit()


@command("reload", "reload", "Re-read the bundle file; storage and alarms stay, live instances"
         " are dropped.")
def reload(interp) -> Message:
    """Reload the bundle from disk."""
    rt = interp.rt
    classes = rt.reload()
    return Message(f"reloaded {_namespaces_line(rt)}",
                   value={ns: list(c.methods) for ns, c in classes.items()})


def _options(words: list[str], flags: dict[str, bool], usage: str) -> dict[str, Any]:
    """Read ``--name value`` and ``--flag`` options; positional words under ``"args"``."""
    out: dict[str, Any] = {"args": []}
    while words:
        word = words.pop(0)
        if word.startswith("--"):
            name, eq, inline = word[2:].partition("=")
            if name not in flags:
                raise CommandError(f"unknown option --{name}; usage: {usage}")
            if flags[name]:
                out[name] = True
            elif eq:
                out[name] = inline
            elif words:
                out[name] = words.pop(0)
            else:
                raise CommandError(f"--{name} needs a value; usage: {usage}")
        else:
            out["args"].append(word)
    return out


LOAD_USAGE = "load BUNDLE [--data DIR] [--manifest FILE] [--real-clock] [--cpu-timeout 2s]"


def _parse_load(text: str) -> dict[str, Any]:
    flags = {"data": False, "manifest": False, "real-clock": True, "cpu-timeout": False}
    opts = _options([w.text for w in split_words(text)], flags, LOAD_USAGE)
    if len(opts["args"]) != 1:
        raise CommandError(f"usage: {LOAD_USAGE}")
    return {"bundle": opts["args"][0], "data": opts.get("data"), "manifest": opts.get("manifest"),
            "real_clock": opts.get("real-clock", False), "cpu_timeout": opts.get("cpu-timeout", "2s")}


@command("load", LOAD_USAGE, "Load a bundle (replacing the current one, which is closed).",
         parse=_parse_load, examples=("load samples/counter.js",))
def load(interp, bundle: str, data=None, manifest=None, real_clock=False, cpu_timeout="2s") -> Message:
    """Load ``bundle``; the old runtime stays in use if the new one fails to load."""
    from ..runtime import Runtime

    rt = Runtime.load(bundle, data=data, manifest=manifest, cpu_timeout=cpu_timeout,
                      clock="real" if real_clock else "manual")
    interp.replace_runtime(rt)
    return Message(f"loaded {_namespaces_line(rt)}",
                   value={ns: list(c.methods) for ns, c in rt.namespaces.items()})


SERVE_USAGE = "serve [--port N] [--host HOST]"


def _parse_serve(text: str) -> dict[str, Any]:
    opts = _options([w.text for w in split_words(text)], {"port": False, "host": False}, SERVE_USAGE)
    if opts["args"]:
        raise CommandError(f"usage: {SERVE_USAGE}")
    port = opts.get("port", "8787")
    if not str(port).isdigit() or int(port) > 65535:
        raise CommandError(f"--port needs a port number (0 picks a free one), not {port!r}")
    return {"port": int(port), "host": opts.get("host", "127.0.0.1")}


@command("serve", SERVE_USAGE, "Serve this runtime over HTTP in the background (/rpc and /fetch"
         " routes); the REPL and HTTP clients see the same objects.", parse=_parse_serve,
         details="--port 0 picks a free port. The server stops with the session.",
         examples=("serve", "serve --port 9000"))
def serve(interp, port: int = 8787, host: str = "127.0.0.1") -> Message:
    """Start the HTTP gateway on a background thread."""
    rt = interp.rt
    if interp.server is not None:
        return Message(f"already serving on {interp.server.url}", value=interp.server.url)
    try:
        from ..server import Server, example_curl
    except ImportError as exc:
        raise CommandError(f"the HTTP server module is unavailable: {exc}") from None
    try:
        interp.server = Server(rt, host=host, port=port).start()
    except OSError as exc:
        raise CommandError(str(exc)) from None
    url = interp.server.url
    return Message(f"serving {rt.bundle_path.name} on {url}\ntry: {example_curl(rt.namespaces, url)}",
                   value=url)
