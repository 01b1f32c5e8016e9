"""Run the examples of a Markdown page: the machinery behind test_docs and test_samples.

A page's fenced code blocks are examples, and each kind runs the way a reader would run it:

- ```` ```python ````: executed in order, one namespace per page, with the repository root as
  the working directory; a line ``EXPR  # -> LITERAL`` also asserts ``EXPR == LITERAL``.
  A block that starts with ``In [n]:`` is an IPython session instead: its cells run in a
  real IPython shell and must show the outputs under them (see :mod:`ipysession`).
- ```` ```js ```` that define ``exports.objects``: loaded as bundles (fragments are prose).
- ```` ```console ```` / ```` ```sh ````: ``$ COMMAND`` lines (plain lines in ``sh``) with the
  output that follows them. ``dobj-repl`` commands run through the real CLI, ``dobj serve``
  starts a real server on a free port for the rest of the page, and ``curl`` is sent to it;
  the output must match what the page shows (durations and column padding aside).

A block that cannot run (``pip install``) is marked with ``<!-- no-run: reason -->`` on the
line before it; anything else that is not runnable fails, so no example goes unchecked.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)

_FENCE = re.compile(r"^```(\w*)\s*$")
_NO_RUN = re.compile(r"<!--\s*no-run:\s*\S.*-->")
_EXPECT = re.compile(r"^(\s*)(.+?)\s+# -> (.+)$")


@dataclass
class Block:
    lang: str
    text: str
    line: int              # line number of the opening fence
    no_run: bool = False


@dataclass
class Command:
    line: str               # the command as a shell would get it (heredoc included)
    output: list[str] = field(default_factory=list)


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with their opt-out marks."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        found.append(Block(m.group(1), "\n".join(body) + "\n", start + 1, bool(_NO_RUN.search(before))))
        i += 1
    return found


def commands(block: Block) -> list[Command]:
    """The commands of a console or sh block, each with the output shown after it."""
    lines = block.text.splitlines()
    prompt = block.lang == "console" or any(ln.startswith("$ ") for ln in lines)
    result: list[Command] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if prompt and not line.startswith("$ "):
            if result:
                result[-1].output.append(line)
            i += 1
            continue
        text = line[2:] if prompt else line
        if not text.strip() or text.lstrip().startswith("#"):
            i += 1
            continue
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        heredoc = re.search(r"<<-?'?(\w+)'?", text)
        if heredoc:
            end = heredoc.group(1)
            while i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i]
                if lines[i] == end:
                    break
        result.append(Command(text))
        i += 1
    return result


def normalize(text: str) -> str:
    """Output with durations, column padding and trailing blanks made comparable."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\d+(\.\d+)? ms\b", "<ms>", line.rstrip())
        line = re.sub(r"-{2,}", "-", re.sub(r" {2,}", " ", line))
        out.append(line)
    return "\n".join(out).strip("\n")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.pop("NO_COLOR", None)
    env["COLUMNS"] = "200"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """Runs the shell commands of one page, keeping a ``dobj serve`` alive between them."""

    def __init__(self, path: Path, workdir: Path) -> None:
        self.path, self.workdir = path, workdir
        self.server: subprocess.Popen | None = None
        self.port: int | None = None
        self.namespace: dict = {"__name__": "__doc_example__"}
        self.session = None  # the page's IPython shell, opened by its first session block

    # -- python ------------------------------------------------------------------------
    def run_python(self, block: Block) -> None:
        source = "\n".join(_with_asserts(line) for line in block.text.splitlines())
        code = compile(source, f"{self.path.name}:{block.line}", "exec")
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            exec(code, self.namespace)  # noqa: S102 - the docs' own examples
        finally:
            os.chdir(cwd)

    def close_python(self) -> None:
        for value in list(self.namespace.values()):
            close = getattr(value, "close", None)
            if type(value).__name__ == "Runtime" and callable(close):
                close()
        if self.session is not None:
            self.session.close()
            self.session = None

    def run_session(self, block: Block) -> None:
        from ipysession import Session

        if self.session is None:
            self.session = Session(self.path.name, self.workdir / "session")
        self.session.check(block)

    # -- js ----------------------------------------------------------------------------
    def run_js(self, block: Block) -> None:
        if "exports.objects" not in block.text and "module.exports" not in block.text:
            return
        import dobj

        bundle = self.workdir / f"block{block.line}.js"
        bundle.write_text(block.text, encoding="utf-8")
        with dobj.Runtime.load(bundle) as rt:
            assert rt.namespaces, f"{self.path.name}:{block.line}: the bundle has no objects"

    # -- shell -------------------------------------------------------------------------
    def run_shell(self, block: Block) -> None:
        for cmd in commands(block):
            where = f"{self.path.name}:{block.line}: {cmd.line.splitlines()[0]}"
            words = cmd.line.split()
            if words[:2] == ["dobj", "serve"]:
                self.serve(cmd.line)
            elif words[0] == "curl":
                self.check(where, cmd, self.sh(self.curl_line(cmd.line), where))
            elif "dobj-repl" in cmd.line:
                if any(line.startswith("dobj> ") for line in cmd.output):
                    self.interactive(where, cmd)
                else:
                    self.check(where, cmd, self.sh(cmd.line, where))
            else:
                raise AssertionError(f"{where}: not a command the docs tests can run; "
                                     "mark the block <!-- no-run: reason --> if it cannot run")

    def sh(self, line: str, where: str, stdin: str | None = None) -> str:
        proc = subprocess.run(["bash", "-c", line], cwd=ROOT, env=_env(), input=stdin,
                              capture_output=True, text=True, timeout=60)
        output = proc.stdout + proc.stderr
        expect_fail = "|| " in line or "; echo" in line
        assert proc.returncode == 0 or expect_fail, f"{where}: exit {proc.returncode}\n{output}"
        return output

    def check(self, where: str, cmd: Command, output: str) -> None:
        expected = "\n".join(cmd.output)
        if not expected.strip():
            return
        if self.port is not None:
            expected = expected.replace("127.0.0.1:8787", f"127.0.0.1:{self.port}")
        assert normalize(output) == normalize(expected), (
            f"{where}: the output differs from the page\n--- page\n{expected}\n--- now\n{output}")

    def interactive(self, where: str, cmd: Command) -> None:
        """A terminal session shown with prompts: type its commands, expect its results."""
        typed = [line[len("dobj> "):] for line in cmd.output if line.startswith("dobj> ")]
        output = self.sh(cmd.line, where, stdin="\n".join(typed) + "\n")
        shown = [line for line in cmd.output
                 if line.strip() and not line.startswith(("dobj> ", "dobj workbench:"))]
        missing = [line for line in shown if normalize(line) not in normalize(output)]
        assert not missing, f"{where}: these lines did not come out: {missing}\n{output}"

    def curl_line(self, line: str) -> str:
        assert self.port is not None, f"{self.path.name}: curl before dobj serve"
        return re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{self.port}", line)

    def serve(self, line: str) -> None:
        self.stop()
        args = shlex.split(line.split("#")[0].replace("&", " "))
        args = _set_option(args, "--port", str(_free_port()))
        args = _set_option(args, "--data", str(self.workdir / f"data{len(os.listdir(self.workdir))}"))
        self.port = int(args[args.index("--port") + 1])
        self.server = subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, f"dobj serve exited: {self.server.stdout.read()}"
            for health in ("/healthz", "/_dobj/healthz"):  # a project's Worker owns /healthz
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{health}", timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"{line}: the server did not answer /healthz or /_dobj/healthz")

    def stop(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            finally:
                if self.server.poll() is None:
                    self.server.kill()
                    self.server.wait()
                self.server.stdout.close()
            self.server, self.port = None, None


def _set_option(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


def _with_asserts(line: str) -> str:
    """``expr  # -> literal`` becomes an assertion when both sides parse as such."""
    m = _EXPECT.match(line)
    if not m:
        return line
    indent, expr, claim = m.groups()
    claim = claim.split(";")[0].strip()
    try:
        expected = ast.literal_eval(claim)
        ast.parse(expr, mode="eval")
    except (ValueError, SyntaxError):
        return line
    return f"{indent}assert ({expr}) == {expected!r}, {expr!r} + ' is not ' + {claim!r}"


def is_session(block: Block) -> bool:
    """Whether a block is an IPython session (``In [n]: ...``) rather than plain Python."""
    return block.lang == "python" and block.text.startswith("In [")


def run_page(path: Path) -> int:
    """Run every example of one page; returns how many blocks ran."""
    ran = 0
    with tempfile.TemporaryDirectory(prefix="dobj-docs-") as tmp:
        page = Page(path, Path(tmp))
        try:
            for block in blocks(path):
                if block.no_run:
                    continue
                if is_session(block):
                    page.run_session(block)
                elif block.lang == "python":
                    page.run_python(block)
                elif block.lang == "js":
                    page.run_js(block)
                elif block.lang in ("console", "sh", "bash", "shell"):
                    page.run_shell(block)
                else:
                    continue
                ran += 1
        finally:
            page.stop()
            page.close_python()
    return ran

