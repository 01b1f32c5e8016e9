"""``dobj-repl BUNDLE``: the interactive workbench, and its scripted twin.

On a terminal it is a prompt_toolkit REPL with completion, colours and a toolbar; with
``-c COMMAND`` (repeatable) or commands on a pipe it runs them in order, prints plain
text, and exits non-zero if any failed. Reading, dispatching and rendering stay apart:
the prompt (or :func:`dobj.commands.split_commands`) reads, :func:`execute` dispatches,
:mod:`dobj.render` (or ``str(result)``) renders.

    $ printf 'COUNTER/global.increment(3)\\nstorage COUNTER/global\\n' | dobj-repl samples/counter.js
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TextIO

from .commands import Interpreter, Quit, Result, error_text, split_commands
from .errors import DobjError


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``dobj-repl``."""
    p = argparse.ArgumentParser(
        prog="dobj-repl", description="Work with the objects of a Durable Objects bundle interactively.")
    p.add_argument("bundle", help="the bundle (one CommonJS .js file exporting objects), or a Cloudflare"
                   " Workers project: its folder, its wrangler config or its entry module")
    p.add_argument("--data", metavar="DIR", help="keep storage in SQLite files under DIR (default: in memory)")
    p.add_argument("--real-clock", action="store_true", help="run on wall-clock time instead of the manual clock")
    p.add_argument("--cpu-timeout", default="2s", metavar="T", help="budget per event, e.g. 2s, 500ms; 0 = none")
    p.add_argument("--manifest", metavar="FILE", help="JSON or TOML file naming the namespaces")
    p.add_argument("-c", dest="commands", action="append", metavar="COMMAND",
                   help="run COMMAND and exit (repeatable); no prompt, plain text")
    p.add_argument("--echo", action="store_true", help="in scripted use, print each command before its output")
    return p


def load_runtime(args: argparse.Namespace):
    """Load the runtime the options ask for (manual clock unless ``--real-clock``)."""
    from .runtime import Runtime

    return Runtime.load(args.bundle, data=args.data, manifest=args.manifest,
                        cpu_timeout=args.cpu_timeout, clock="real" if args.real_clock else "manual")


def execute(interp: Interpreter, text: str) -> tuple[Result | None, BaseException | None]:
    """Run one command: ``(result, None)`` or ``(None, error)``; the session survives errors."""
    try:
        return interp.run(text), None
    except DobjError as err:
        return None, err
    except KeyboardInterrupt:
        return None, DobjError("interrupted")
    except Exception as exc:  # a defect: report it as a failed command, keep the session
        return None, exc


def run_script(interp: Interpreter, commands: Iterable[str], out: TextIO, err: TextIO,
               echo: bool = False) -> int:
    """Run commands in order, printing plain text; 1 if any failed, else 0."""
    failed = False
    interp.on_notice = lambda text: print(text, file=out, flush=True)
    for text in commands:
        if echo:
            print(f"> {text}", file=out, flush=True)
        result, error = execute(interp, text)
        if error is not None:
            failed = True
            out.flush()
            print(error_text(error), file=err, flush=True)
        elif result is not None:
            if isinstance(result, Quit):
                break
            print(result.to_text(), file=out, flush=True)
        for notice in interp.take_notices():  # what arrived while the command ran
            print(notice, file=out, flush=True)
        if echo:
            print(file=out, flush=True)
    return 1 if failed else 0


def run_interactive(interp: Interpreter, *, input=None, output=None, console=None,
                    history=None) -> int:
    """The REPL loop: read with prompt_toolkit, dispatch, render with rich, until quit."""
    from rich.console import Console

    from .commands.complete import snapshot
    from .prompt import CommandCompleter, make_session
    from .render import render, render_error

    console = console or Console()
    completer = CommandCompleter(snapshot(interp))
    session = make_session(interp, completer, input=input, output=output, history=history)
    interp.on_notice = lambda text: notify(session.app, console, text)
    console.print(banner(interp), highlight=False, markup=False)
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        result, error = execute(interp, text)
        if error is not None:
            render_error(console, error)
        else:
            render(console, result)
        for notice in interp.take_notices():  # what arrived while the command ran
            console.print(notice, highlight=False, markup=False)
        if isinstance(result, Quit):
            break
        completer.vocabulary = snapshot(interp)
    return 0


def notify(app, console, text: str) -> None:
    """Print something that arrived by itself (a WebSocket message): above the prompt while
    it waits for input, keeping the line being typed, or at once while a command runs."""
    from prompt_toolkit.application import run_in_terminal

    loop = app.loop if app.is_running else None
    if loop is None:
        console.print(text, highlight=False, markup=False)
        return
    show = lambda: console.print(text, highlight=False, markup=False)  # noqa: E731
    loop.call_soon_threadsafe(lambda: run_in_terminal(show))


def banner(interp: Interpreter) -> str:
    """The line the REPL greets with."""
    rt = interp.runtime
    spaces = ", ".join(f"{ns} ({c.export})" for ns, c in rt.namespaces.items())
    clock = "manual clock (tick 5s moves it)" if rt.clock.manual else "real clock"
    worker = " fetch /path reaches the Worker." if rt.has_worker else ""
    warnings = "".join(f"\nwarning: {text}" for text in rt.warnings)
    return (f"dobj workbench: {rt.bundle_path.name}: {spaces}; {clock}.{worker}"
            " help lists commands, Tab completes, Ctrl-D quits." + warnings)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``dobj-repl``."""
    args = build_parser().parse_args(argv)
    try:
        runtime = load_runtime(args)
    except DobjError as err:
        print(f"dobj-repl: {err.message}", file=sys.stderr)
        return 1
    with Interpreter(runtime) as interp:
        scripted = args.commands is not None or not (sys.stdin.isatty() and sys.stdout.isatty())
        if scripted:
            commands = args.commands if args.commands is not None else split_commands(sys.stdin)
            return run_script(interp, commands, sys.stdout, sys.stderr, echo=args.echo)
        return run_interactive(interp)


if __name__ == "__main__":
    sys.exit(main())
