"""A project's ES modules in a QuickJS context, with real module semantics.

The binding evaluates modules but cannot resolve imports, so :class:`ModuleLoader`
installs QuickJS's own module loader hooks through ``ctypes`` on the context's
``JSRuntime*``: QuickJS asks Python to *normalize* each specifier (resolve it to a
canonical module name, see :mod:`dobj.runtime.resolve`) and to *load* each new name
(read the file, strip TypeScript types, compile it as a module). QuickJS then links and
evaluates the graph itself: live bindings, cycles, one instance per file, top-level
``await`` and dynamic ``import()`` behave as in workerd.

Canonical names are paths relative to the project root (``src/counter.ts``; a file outside
the root keeps its absolute path), so QuickJS's stacks already name the project's files;
:meth:`ModuleLoader.module_frames` maps TypeScript columns back and drops the frames
that are not the project's.

Both hooks catch everything: a Python exception escaping a ``ctypes`` callback, or a NULL
returned without a pending JavaScript exception, kills the process. A failure is thrown
into JavaScript as an error whose message says what happened, and recorded so that the
load reports it with the importing file, line and column.
"""

from __future__ import annotations

import ctypes
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import _quickjs
import quickjs

from ..errors import BundleError
from .assets import data_module, json_module, text_module
from .engine import Engine, context_pointers, split_exception
from .project import Project
from .resolve import ResolveError, Resolver, module_kind
from .syntax import has_module_syntax, import_position
from .transform import Stripped, TransformError, strip_types


class _JSValue(ctypes.Structure):
    _fields_ = [("u", ctypes.c_uint64), ("tag", ctypes.c_int64)]


_JS_TAG_EXCEPTION = 6
_JS_EVAL_TYPE_GLOBAL = 0
_JS_EVAL_TYPE_MODULE = 1
_JS_EVAL_FLAG_COMPILE_ONLY = 1 << 5

_NORMALIZE = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)
_LOADER = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)

_lib = ctypes.CDLL(_quickjs.__file__)
_lib.JS_SetModuleLoaderFunc.restype = None
_lib.JS_SetModuleLoaderFunc.argtypes = [ctypes.c_void_p, _NORMALIZE, _LOADER, ctypes.c_void_p]
_lib.js_strdup.restype = ctypes.c_void_p
_lib.js_strdup.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.JS_Eval.restype = _JSValue
_lib.JS_Eval.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int]
_lib.JS_FreeValue.restype = None
_lib.JS_FreeValue.argtypes = [ctypes.c_void_p, _JSValue]

_CJS = re.compile(r"\bmodule\.exports\b|\bexports\.[\w$]+\s*=|\brequire\s*\(")
_FRAME = re.compile(r"^(?P<head>\s*at (?:.*? \()?)(?P<file>[^()]+?):(?P<line>\d+):(?P<col>\d+)(?P<tail>\)?)\s*$")
# Observes the bootstrap module's Promise: its state as JSON text (a flat string).
_WATCH = """(p) => { const s = { state: "pending" };
  p.then(() => { s.state = "fulfilled"; }, (e) => { s.state = "rejected";
    s.name = e && e.name || "Error"; s.message = String(e && e.message !== undefined ? e.message : e);
    s.stack = String(e && e.stack || ""); });
  return () => JSON.stringify(s); }"""


@dataclass
class _Module:
    """A module QuickJS knows by ``name``: a project file (``path``) or a builtin."""

    name: str
    kind: str
    path: Path | None = None
    source: str | None = None
    stripped: Stripped | None = None


class ModuleLoader:
    """Loads ``project``'s module graph into an :class:`~dobj.runtime.engine.Engine`.

    ``builtins`` maps specifiers such as ``"cloudflare:workers"`` to module source text.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "index.ts").write_text('import { hi } from "./hi"; export default hi(1);')
    >>> _ = (folder / "hi.ts").write_text('export const hi = (n: number): string => `hi ${n}`;')
    >>> from .project import read_project
    >>> engine = Engine()
    >>> _ = engine.eval("globalThis.receive = (m) => { globalThis.entry = m; }")
    >>> ModuleLoader(read_project(folder / "index.ts")).load_entry(engine, "receive")
    >>> engine.eval("entry.default")
    'hi 1'
    """

    def __init__(self, project: Project, builtins: Mapping[str, str] | None = None) -> None:
        self.project = project
        self.builtins = dict(builtins or {})
        self.resolver = Resolver(show=project.relative)
        self.modules: dict[str, _Module] = {n: _Module(n, "builtin", source=s) for n, s in self.builtins.items()}
        self.failures: dict[str, str] = {}  # message thrown into JavaScript -> the load error's text
        self._callbacks = None

    # --- public API ---

    def install(self, engine: Engine) -> None:
        """Hook this loader into ``engine``'s runtime; it stays alive as long as ``engine``."""
        runtime, _ = context_pointers(engine.ctx)
        self._callbacks = (_NORMALIZE(self._normalize), _LOADER(self._load))
        _lib.JS_SetModuleLoaderFunc(runtime, *self._callbacks, None)
        engine.module_loader = self

    def load_entry(self, engine: Engine, receiver: str, *, budget: float = 0) -> None:
        """Evaluate ``import * as m from "<main>"; receiver(m);`` and run it to completion.

        ``receiver`` names a global function the caller defined; it gets the entry's module
        namespace. Top-level code runs within ``budget`` seconds (0: no limit). Raises
        :class:`BundleError` naming the project's file, line and column.
        """
        if getattr(engine, "module_loader", None) is not self:
            self.install(engine)
        try:
            main = self._register(self.project.main, importer=None)
        except ResolveError as exc:
            raise BundleError(f"{self.project.relative(self.project.main)}: {exc.reason}") from None
        bootstrap = f"import * as m from {json.dumps(main.name)};\n{receiver}(m);\n"
        engine.deadline = time.monotonic() + budget if budget else float("inf")
        try:
            engine.enter()
            promise = engine.ctx.module(bootstrap)
            state = engine.ctx.eval(_WATCH)(promise)
            finished = engine.drain()
            outcome = json.loads(state())
        except quickjs.JSException as exc:
            raise self._error(*split_exception(exc), engine) from None
        finally:
            engine.deadline = float("inf")
        if not finished or engine.interrupted:
            raise BundleError(f"{main.name}: the top-level code did not finish within the budget")
        if outcome["state"] == "rejected":
            raise self._error(outcome["name"], outcome["message"], outcome["stack"], engine)
        if outcome["state"] == "pending":
            raise BundleError(
                f"{main.name}: a top-level await never settled while loading (timers and I/O do not run"
                " before the Worker is loaded); move the awaited work into a handler"
            )

    def module_frames(self, stack: str) -> str:
        """The project's frames of a JavaScript ``stack`` as ``file:line:col`` of its own source.

        TypeScript columns are mapped back through sucrase's source map; frames of
        builtins, of the runtime's own code and of native functions are dropped.
        """
        out = []
        for line in stack.splitlines():
            m = _FRAME.match(line)
            if m is None:
                if line.strip() and "(native)" not in line:
                    out.append(line)
                continue
            place = self._place(m)
            if place is not None:
                out.append(f"{m['head']}{place}{m['tail']}")
        return "\n".join(out)

    def location(self, stack: str) -> str | None:
        """``file:line:col`` of the first frame in the project's own files (else a package, a builtin)."""
        places = [(m["file"], self._place(m)) for m in map(_FRAME.match, stack.splitlines()) if m]
        places = [(f, p) for f, p in places if p is not None]
        for file, place in places:
            if "node_modules/" not in file:
                return place
        if places:
            return places[0][1]
        for m in filter(None, map(_FRAME.match, stack.splitlines())):  # a builtin's own error
            if m["file"] in self.builtins:
                return f"{m['file']}:{m['line']}:{m['col']}"
        return None

    # --- the two hooks QuickJS calls ---

    def _normalize(self, ctx, base: bytes, specifier: bytes, _opaque) -> int | None:
        try:
            base_name, spec = base.decode(), specifier.decode()
            if spec in self.builtins:
                return _lib.js_strdup(ctx, spec.encode())
            importer = self.modules.get(base_name)
            if importer is not None and importer.kind == "builtin":
                raise ResolveError(f"builtin module {base_name!r} can import only builtin modules")
            if importer is None:  # the bootstrap, or code eval'd at global scope
                if spec in self.modules:
                    return _lib.js_strdup(ctx, spec.encode())
                importer = _Module("<eval>", "javascript", path=self.project.root / "<eval>")
            module = self._register(self.resolver.resolve(spec, importer.path), importer, spec)
            return _lib.js_strdup(ctx, module.name.encode())
        except ResolveError as exc:
            reason = exc.reason + (f" (tried {', '.join(exc.tried)})" if exc.tried else "")
            return self._fail(ctx, "Error", self._at_import(base, specifier, f"cannot import {_quoted(specifier)}: {reason}"))
        except BaseException as exc:  # noqa: BLE001 - nothing may escape into QuickJS
            return self._fail(ctx, "Error", f"cannot import {_quoted(specifier)}: {type(exc).__name__}: {exc}")

    def _load(self, ctx, name: bytes, _opaque) -> int | None:
        try:
            module = self.modules[name.decode()]
            try:
                code = self._code(module)
            except TransformError as exc:
                where = f"{module.name}:{exc.line}:{exc.column}" if exc.line else module.name
                message = f"{where}: {exc.message}"
                return self._fail(ctx, "SyntaxError", message, report=f"{where}: SyntaxError: {exc.message}")
            data = code.encode()
            value = _lib.JS_Eval(ctx, ctypes.create_string_buffer(data), len(data), module.name.encode(),
                                 _JS_EVAL_TYPE_MODULE | _JS_EVAL_FLAG_COMPILE_ONLY)
            if value.tag == _JS_TAG_EXCEPTION:
                return None  # QuickJS's SyntaxError is pending, with the module's name and position
            pointer = value.u
            _lib.JS_FreeValue(ctx, value)
            return pointer
        except BaseException as exc:  # noqa: BLE001 - nothing may escape into QuickJS
            return self._fail(ctx, "Error", f"cannot load {_quoted(name)}: {type(exc).__name__}: {exc}")

    # --- helpers ---

    def _register(self, path: Path, importer: _Module | None, spec: str | None = None) -> _Module:
        name = self.project.relative(path)
        known = self.modules.get(name)
        if known is not None:
            return known
        try:
            kind = module_kind(path)
        except ResolveError as exc:
            if importer is None:
                raise BundleError(f"{name}: cannot be the entry module: {exc.reason}") from None
            raise
        module = _Module(name, kind, path=path)
        if kind in ("javascript", "typescript", "json", "text"):
            try:
                module.source = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise ResolveError(f"cannot read {name}: {exc}") from None
        if kind == "javascript" and not has_module_syntax(module.source) and _CJS.search(module.source):
            package = name.split("node_modules/")[-1].split("/")[0] if "node_modules/" in name else None
            what = f"package {package!r} is CommonJS ({name})" if package else f"{name} is a CommonJS module"
            raise ResolveError(f"{what}, which dobj does not load yet; use an ES module build or file")
        self.modules[name] = module
        return module

    def _code(self, module: _Module) -> str:
        if module.kind in ("builtin", "javascript"):
            return module.source
        if module.kind == "typescript":
            module.stripped = strip_types(module.source, module.name)
            return module.stripped.code
        if module.kind == "text":
            return text_module(module.source)
        if module.kind == "data":
            return data_module(module.path.read_bytes())
        return json_module(module.source)

    def _at_import(self, base: bytes, specifier: bytes, text: str) -> str:
        importer = self.modules.get(base.decode(errors="replace"))
        if importer is None or importer.source is None or importer.kind == "builtin":
            return text
        line, col = import_position(importer.source, specifier.decode(errors="replace"))
        return f"{importer.name}:{line}:{col}: {text}" if line else f"{importer.name}: {text}"

    def _fail(self, ctx, error_class: str, message: str, report: str | None = None) -> None:
        """Throw ``new error_class(message)`` into JavaScript and return NULL for QuickJS.

        ``report`` (default: ``message``) is what a failed load says about it.
        """
        self.failures[message] = report or message
        source = f"throw new {error_class}({json.dumps(message)});".encode()
        _lib.JS_Eval(ctx, ctypes.create_string_buffer(source), len(source), b"<dobj>", _JS_EVAL_TYPE_GLOBAL)

    def _place(self, m: re.Match) -> str | None:
        module = self.modules.get(m["file"])
        if module is None or module.kind == "builtin":
            return None
        line, col = int(m["line"]), int(m["col"])
        if module.stripped is not None:
            col = module.stripped.original_column(line, col)
        return f"{module.name}:{line}:{col}"

    def _error(self, name: str, message: str, stack: str, engine: Engine) -> BundleError:
        if engine.interrupted:
            return BundleError(f"{self.project.relative(self.project.main)}: the top-level code did not finish within the budget")
        recorded = self.failures.get(message)
        if recorded is not None:
            return BundleError(recorded, js_name=name, js_stack=self.module_frames(stack))
        where = self.location(stack)
        text = f"{where}: {name}: {message}" if where else f"{self.project.relative(self.project.main)}: {name}: {message}"
        return BundleError(text, js_name=name, js_stack=self.module_frames(stack))


def _quoted(specifier: bytes | str) -> str:
    text = specifier.decode(errors="replace") if isinstance(specifier, bytes) else specifier
    return json.dumps(text)
