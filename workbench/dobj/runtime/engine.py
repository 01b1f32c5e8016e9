"""The JavaScript engine: one quickjs-ng context with a budget, limits and safe host calls.

Facts about the binding that shape this module (measured, see the project's engine notes):

- integers >= 2**31 are corrupted and NUL cuts strings on the way back, so every value
  crosses as JSON text;
- a Python exception escaping a host callable poisons the context, so :meth:`Engine.expose`
  wraps every callable to catch everything and return an error reply instead;
- ``set_time_limit`` forbids calls into Python, so the budget is our own interrupt handler,
  installed through ``ctypes`` on the ``JSRuntime*`` read from the context object (checked
  at start-up against ``JS_GetRuntime``);
- the stack limit is measured from the thread that entered last, so a new thread first
  calls ``JS_UpdateStackTop``.

>>> engine = Engine()
>>> engine.eval("1 + 1")
2
"""

from __future__ import annotations

import ctypes
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

try:
    import _quickjs
    import quickjs
except ImportError as exc:  # pragma: no cover - the dependency is declared
    raise ImportError("dobj needs the quickjs-ng package: pip install quickjs-ng") from exc

from ..errors import BundleError, DobjError

DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024
DEFAULT_STACK_SIZE = 4 * 1024 * 1024  # ~2,400 frames; larger risks the real thread stack

_lib = ctypes.CDLL(_quickjs.__file__)
_lib.JS_GetRuntime.restype = ctypes.c_void_p
_lib.JS_GetRuntime.argtypes = [ctypes.c_void_p]
_lib.JS_SetInterruptHandler.restype = None
_lib.JS_SetInterruptHandler.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_lib.JS_UpdateStackTop.restype = None
_lib.JS_UpdateStackTop.argtypes = [ctypes.c_void_p]
_INTERRUPT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

# Layout of the binding's Context object: PyObject header, then JSRuntime*, JSContext*.
_RUNTIME_OFFSET = 16
_CONTEXT_OFFSET = 24

_FACTORY_HEAD = "(function (exports, module, require) {"
_FRAME = re.compile(r"<input>:(\d+):(\d+)")

# The runtime's own JavaScript, in load order: each file is a function of the internal
# object that the files share (see js/errors.js).
RUNTIME_JS = ("errors", "storage", "env", "globals", "dispatch")
_JS_DIR = Path(__file__).parent / "js"
_RUNTIME_SOURCES = tuple((_JS_DIR / f"{name}.js").read_text(encoding="utf-8") for name in RUNTIME_JS)
# Every evaluation reports its frames as "<input>:line:col": the bundle is compiled below
# blank lines so that its lines come after every line of the runtime's files, which is how
# clean_stack tells the bundle's frames from the runtime's.
_BUNDLE_OFFSET = max(text.count("\n") for text in _RUNTIME_SOURCES) + 1


def context_pointers(ctx: quickjs.Context) -> tuple[int, int]:
    """``(JSRuntime*, JSContext*)`` of a binding context, verified with ``JS_GetRuntime``."""
    rt = ctypes.c_void_p.from_address(id(ctx) + _RUNTIME_OFFSET).value
    jsctx = ctypes.c_void_p.from_address(id(ctx) + _CONTEXT_OFFSET).value
    if not rt or not jsctx or _lib.JS_GetRuntime(jsctx) != rt:
        raise DobjError(
            "this quickjs-ng build has an unexpected memory layout; install the version"
            " pinned by dobj (pip install 'quickjs-ng==0.17.0.2')"
        )
    return rt, jsctx


class Engine:
    """One JavaScript context owned by one thread at a time.

    ``deadline`` is a ``time.monotonic()`` value: JavaScript running past it is interrupted
    (``interrupted`` is then set so the caller can tell a budget stop from a throw).
    """

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        stack_size: int = DEFAULT_STACK_SIZE,
    ) -> None:
        self.ctx = quickjs.Context()
        self._rt, _ = context_pointers(self.ctx)
        self.deadline = float("inf")
        self.interrupted = False
        self._handler = _INTERRUPT(self._on_interrupt)  # kept alive as long as the context
        _lib.JS_SetInterruptHandler(self._rt, ctypes.cast(self._handler, ctypes.c_void_p), None)
        self._thread = threading.get_ident()
        self._offset = 0
        self._filename = "<bundle>"
        if memory_limit:
            self.ctx.set_memory_limit(memory_limit)
        self.ctx.set_max_stack_size(stack_size)

    def _on_interrupt(self, _rt, _opaque) -> int:
        if time.monotonic() > self.deadline:
            self.interrupted = True
            return 1
        return 0

    def enter(self) -> None:
        """Prepare the calling thread to run JavaScript (call before every entry)."""
        ident = threading.get_ident()
        if ident != self._thread:
            _lib.JS_UpdateStackTop(self._rt)
            self._thread = ident

    def eval(self, source: str):
        self.enter()
        return self.ctx.eval(source)

    def expose(self, name: str, fn: Callable[..., object], *, reply: bool = True) -> None:
        """Make ``fn`` callable from JavaScript as the global ``name``.

        With ``reply`` the wrapper returns ``"!" + error JSON`` when ``fn`` raises, which
        the runtime's JavaScript turns into an error; nothing ever escapes into the engine.
        """

        def safe(*args):
            try:
                return fn(*args)
            except DobjError as err:
                if not reply:
                    return None
                info = {"code": err.code, "message": err.message}
                if err.js_name:
                    info["name"] = err.js_name
                return "!" + json.dumps(info)
            except BaseException as exc:  # noqa: BLE001 - an escaping error poisons the context
                info = {"code": "execution_error", "message": f"{type(exc).__name__}: {exc}"}
                return "!" + json.dumps(info) if reply else None

        self.ctx.add_callable(name, safe)

    def install(self, host: dict[str, Callable[..., object]], sources) -> Callable[[str], object]:
        """Evaluate the runtime's JavaScript ``sources`` with ``host`` functions; returns
        ``pick``: ``pick("invoke")`` gives a glue function of the runtime.

        The host functions are captured into the runtime's internal object and removed from
        ``globalThis`` before any user code can run.
        """
        for name, fn in host.items():
            self.expose(f"__host_{name}", fn, reply=name in {"storage", "stub", "timer", "cfs", "cfid", "outbound", "ws"})
        names = ", ".join(f"{n}: __host_{n}" for n in host)
        deletes = "".join(f" delete globalThis.__host_{n};" for n in host)
        internal = self.eval(f"(() => {{ const host = {{{names}}};{deletes} return {{ host, glue: {{}} }}; }})()")
        for text in sources:
            self.eval(text)(internal)
        return self.eval("(internal) => (name) => internal.glue[name]")(internal)

    def load(self, host: dict[str, Callable[..., object]], source: str, filename: str):
        """Evaluate the runtime's JavaScript with ``host`` functions and compile a CommonJS bundle.

        Returns ``(pick, factory)``: ``pick("invoke")`` gives a glue function of the runtime;
        ``factory`` is the bundle's ``(exports, module, require) => ...``, compiled at global
        scope so that bundle code sees the globals and nothing of the loader. The host
        functions are captured into the runtime's internal object and removed from
        ``globalThis`` before any bundle code can run.
        """
        pick = self.install(host, _RUNTIME_SOURCES)
        self._offset = _BUNDLE_OFFSET
        self._filename = filename
        try:
            factory = self.eval("\n" * _BUNDLE_OFFSET + _FACTORY_HEAD + source + "\n})")
        except quickjs.JSException as exc:
            name, message, stack = split_exception(exc)
            where = self._location(stack)
            m = _FRAME.search(stack)
            if name == "SyntaxError" and m and int(m.group(1)) - self._offset > source.count("\n"):
                # The parser reached the loader's closing line: the bundle itself ended early.
                lines = source.rstrip("\n").split("\n")
                where = f":{len(lines)}:{len(lines[-1]) + 1}"
                message = "unexpected end of the file: a bracket, brace, string or comment is left open"
            raise BundleError(
                f"{filename}{where}: {name}: {message}", js_name=name, js_stack=self.clean_stack(stack)
            ) from None
        return pick, factory

    def _map(self, line: int, col: int) -> tuple[int, int] | None:
        line -= self._offset
        if line < 1:
            return None
        return line, (max(1, col - len(_FACTORY_HEAD)) if line == 1 else col)

    def _location(self, stack: str) -> str:
        for m in _FRAME.finditer(stack):
            mapped = self._map(int(m.group(1)), int(m.group(2)))
            if mapped:
                return f":{mapped[0]}:{mapped[1]}"
        return ""

    def clean_stack(self, stack: str) -> str:
        """The bundle's frames of a stack, as ``file:line:col``; the runtime's own are dropped."""
        out = []
        for line in stack.splitlines():
            m = _FRAME.search(line)
            if m is None:
                if "(native)" not in line and line.strip():
                    out.append(line)
                continue
            mapped = self._map(int(m.group(1)), int(m.group(2)))
            if mapped:
                out.append(line[: m.start()] + f"{self._filename}:{mapped[0]}:{mapped[1]}" + line[m.end():])
        return "\n".join(out)

    def drain(self) -> bool:
        """Run every pending job; stop at one the budget interrupted and return False."""
        while True:
            try:
                if not self.ctx.execute_pending_job():
                    return True
            except quickjs.JSException:
                if self.interrupted:
                    return False

    def memory(self) -> dict:
        return self.ctx.memory()


def split_exception(exc: BaseException) -> tuple[str, str, str]:
    """``(name, message, stack)`` from the text of a binding ``JSException``."""
    text = str(exc.args[0] if exc.args else exc)
    first, _, stack = text.partition("\n")
    name, sep, message = first.partition(": ")
    if not sep:
        name, message = "Error", first
    return name, message, stack
