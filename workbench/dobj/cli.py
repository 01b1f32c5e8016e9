"""The ``dobj`` command: ``dobj serve BUNDLE`` serves a bundle over HTTP.

Each command is a few lines around one call of the Python API; errors from dobj are
printed as one line on stderr with exit status 1.

    $ dobj serve samples/counter.js
    dobj: serving samples/counter.js on http://127.0.0.1:8787 (data in .dobj)
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import re
import sys

from .errors import BadRequest, DobjError
from .runtime import Runtime, parse_duration
from .server import DEFAULT_MAX_BODY, Server, example_curl

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)(i?b?)", re.IGNORECASE)
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parse_size(text: str) -> int:
    """Bytes in ``"16MiB"``, ``"512k"``, ``"10MB"`` or a plain number of bytes.

    >>> parse_size("16MiB"), parse_size("1kb"), parse_size("2048")
    (16777216, 1000, 2048)
    """
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise BadRequest(f"{text!r} is not a size; write it like 16MiB, 512k or 1000000")
    number, prefix, suffix = float(m.group(1)), m.group(2).lower(), m.group(3).lower()
    base = 1000 if suffix == "b" and prefix else 1024
    return int(number * base ** " kmg".index(prefix or " "))


def serve(args: argparse.Namespace) -> int:
    """``dobj serve``: load the bundle, serve it until SIGINT/SIGTERM, close the store."""
    _prefer_uvloop()
    with Runtime.load(args.bundle, data=args.data, clock="real", cpu_timeout=args.cpu_timeout,
                      manifest=args.manifest, durability=args.durability) as rt:
        server = Server(rt, args.host, args.port, max_body=args.max_body,
                        dev_errors=args.dev_errors, log_level=args.log_level)
        with server:
            print(banner(rt, server, args), flush=True)
            server.serve_until_signal()
    return 0


def banner(rt: Runtime, server: Server, args: argparse.Namespace) -> str:
    """What ``dobj serve`` prints once it listens: the address and a curl line to try."""
    lines = [f"dobj: serving {args.bundle} on {server.url} (data in {args.data})"]
    lines += [f"dobj: warning: {text}" for text in rt.warnings]
    if rt.has_worker:
        lines.append("  the Worker answers every request; the gateway answers under /_dobj/")
    for namespace, info in rt.namespaces.items():
        lines.append(f"  {namespace:<12} {info.export}: {describe_methods(info)}")
    base = server.url
    if args.host in ("0.0.0.0", "::", ""):
        base = f"http://127.0.0.1:{server.port}" if args.host != "::" else f"http://[::1]:{server.port}"
    lines.append(f"try: {example_curl(rt.namespaces, base)}")
    return "\n".join(lines)


def describe_methods(info) -> str:
    """``increment; handlers: fetch, alarm``: RPC methods first, handlers apart.

    >>> from dobj.runtime.bundle import ClassInfo
    >>> describe_methods(ClassInfo("Counter", "COUNTER", ("alarm", "fetch", "increment")))
    'increment; handlers: fetch, alarm'
    """
    rpc, handled = info.rpc_methods, info.handlers
    text = ", ".join(rpc) or "no RPC methods"
    return text + (f"; handlers: {', '.join(handled)}" if handled else "")


def _prefer_uvloop() -> None:
    """Run the runtime's loop on uvloop when it is installed (faster sockets)."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _warn_if_exposed(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        print(f"dobj: warning: listening on {host}, not on loopback: anyone who can reach it"
              " can call every object, with no authentication", file=sys.stderr)


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except DobjError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except DobjError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dobj`` and its subcommands."""
    parser = argparse.ArgumentParser(prog="dobj", description="Run Durable-Objects-style JavaScript bundles locally.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = commands.add_parser("serve", help="serve a bundle over HTTP",
                            description="Serve a bundle over HTTP: POST /rpc/NS/NAME/METHOD,"
                            " ANY /fetch/NS/NAME/PATH, GET /healthz.")
    p.add_argument("bundle", metavar="BUNDLE", help="the CommonJS bundle (.js) to serve, or a Cloudflare"
                   " Workers project: its folder, its wrangler config or its entry module")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default: 8787)")
    p.add_argument("--data", default=".dobj", metavar="DIR",
                   help="folder for the SQLite storage, locked while serving (default: ./.dobj)")
    p.add_argument("--cpu-timeout", type=_duration, default=2.0, metavar="DURATION",
                   help="budget of one event, like 2s or 250ms; 0 = none (default: 2s)")
    p.add_argument("--max-body", type=_size, default=DEFAULT_MAX_BODY, metavar="SIZE",
                   help="largest request body, like 16MiB or 512k (default: 16MiB)")
    p.add_argument("--manifest", metavar="FILE", help="JSON or TOML file mapping namespaces to exported classes")
    p.add_argument("--no-dev-errors", dest="dev_errors", action="store_false",
                   help="leave JavaScript messages and stacks out of error responses")
    p.add_argument("--log-level", default="warning", choices=_LOG_LEVELS,
                   help="info logs one line per request (default: warning, errors only)")
    p.add_argument("--durability", default="normal", choices=("normal", "full"),
                   help="full fsyncs every commit, surviving power loss (default: normal)")
    p.set_defaults(run=serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dobj`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "warning").upper(),
                        format="%(asctime)s %(levelname)s %(message)s")
    if getattr(args, "host", None):
        _warn_if_exposed(args.host)
    try:
        return args.run(args)
    except (DobjError, OSError) as err:
        print(f"dobj: error: {getattr(err, 'message', None) or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
