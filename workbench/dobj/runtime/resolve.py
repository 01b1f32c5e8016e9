"""Resolving import specifiers to files, the way wrangler's esbuild does for a Worker.

- relative and absolute paths: the file itself, then with each extension of
  :data:`EXTENSIONS` (esbuild's default order), then a ``.js``/``.mjs``/``.cjs`` path
  rewritten to its TypeScript twin (``./util.js`` → ``util.ts``), then a folder's
  ``package.json`` main fields and its ``index`` with each extension;
- bare specifiers: the package folder in ``node_modules`` of the importing file's folder
  or the nearest parent holding it; its ``package.json`` ``exports`` with the conditions of
  :data:`CONDITIONS` (the package's key order decides, as in Node and esbuild), or without
  ``exports`` its :data:`MAIN_FIELDS`, then ``index``;
- ``node:`` built-ins (and bare Node built-in names that no package provides) are refused.

What a file is follows wrangler's default module rules (:func:`module_kind`).

>>> module_kind(Path("schema.sql")), module_kind(Path("src/index.ts"))
('text', 'typescript')
"""

from __future__ import annotations

import json
from pathlib import Path

# esbuild's default resolveExtensions; wrangler keeps them.
EXTENSIONS = (".tsx", ".ts", ".jsx", ".js", ".css", ".json")
# esbuild tries these when an imported .js (...) file does not exist: TypeScript's convention.
_REWRITES = {".js": (".ts", ".tsx"), ".jsx": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",)}
# wrangler's build conditions; esbuild adds "import" for import statements and "default".
CONDITIONS = frozenset({"workerd", "worker", "browser", "import", "default"})
# esbuild's main fields for its default (browser) platform, which wrangler uses.
MAIN_FIELDS = ("browser", "module", "main")

_KINDS = {
    ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".mts": "typescript",
    ".json": "json", ".txt": "text", ".html": "text", ".sql": "text", ".bin": "data",
}
_UNSUPPORTED = {
    ".cjs": "a CommonJS module (.cjs), which dobj does not load yet",
    ".cts": "a CommonJS TypeScript module (.cts), which dobj does not load yet",
    ".wasm": "a WebAssembly module, which dobj does not support yet",
    ".tsx": "a TSX (JSX) module, which dobj does not support yet",
    ".jsx": "a JSX module, which dobj does not support yet",
}

NODE_BUILTINS = frozenset(["assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib", "test", "sqlite"])


class ResolveError(Exception):
    """A specifier that leads to no file: ``reason`` and the candidates ``tried``."""

    def __init__(self, reason: str, tried: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tried = tried or []


def module_kind(path: Path) -> str:
    """``javascript``, ``typescript``, ``json``, ``text`` or ``data`` (an ``ArrayBuffer``).

    Raises :class:`ResolveError` for a kind of file dobj cannot load.

    >>> module_kind(Path("logo.bin"))
    'data'
    """
    suffix = path.suffix.lower()
    if suffix in _KINDS:
        return _KINDS[suffix]
    reason = _UNSUPPORTED.get(suffix)
    if reason is None:
        reason = f"a {suffix or 'suffix-less'} file, for which no module rule exists (esbuild has no loader for it)"
    raise ResolveError(f"{path.name} is {reason}")


def package_name(specifier: str) -> tuple[str, str]:
    """``(package, subpath)`` of a bare specifier.

    >>> package_name("@scope/pkg/deep/file.js"), package_name("hono")
    (('@scope/pkg', './deep/file.js'), ('hono', '.'))
    """
    parts = specifier.split("/")
    count = 2 if specifier.startswith("@") else 1
    name, rest = "/".join(parts[:count]), parts[count:]
    return name, "./" + "/".join(rest) if rest else "."


class Resolver:
    """Resolves specifiers from files; ``show`` turns a path into what messages print."""

    def __init__(self, show=str) -> None:
        self.show = show

    def resolve(self, specifier: str, importer: Path) -> Path:
        """The real path of the file ``specifier`` names, imported from ``importer``."""
        tried: list[str] = []
        if specifier.startswith("node:"):
            raise ResolveError(f"{specifier!r} is a Node.js built-in module, which dobj does not support yet")
        if specifier.startswith(("./", "../", "/")) or specifier in (".", ".."):
            target = (importer.parent / specifier.split("?")[0])
            found = self._file_or_folder(target, tried)
            if found is None:
                raise ResolveError(f"no file {specifier!r} next to {self.show(importer)}", tried)
            return found.resolve()
        return self._package(specifier, importer, tried).resolve()

    # --- files and folders ---

    def _file(self, path: Path, tried: list[str]) -> Path | None:
        for candidate in (path, *(path.with_name(path.name + ext) for ext in EXTENSIONS)):
            tried.append(self.show(candidate))
            if candidate.is_file():
                return candidate
        for ext in _REWRITES.get(path.suffix, ()):
            candidate = path.with_suffix(ext)
            tried.append(self.show(candidate))
            if candidate.is_file():
                return candidate
        return None

    def _file_or_folder(self, path: Path, tried: list[str]) -> Path | None:
        found = self._file(path, tried)
        if found is None and path.is_dir():
            found = self._folder(path, tried)
        return found

    def _folder(self, folder: Path, tried: list[str]) -> Path | None:
        manifest = _read_package(folder)
        if manifest:
            for name in MAIN_FIELDS:
                entry = manifest.get(name)
                if isinstance(entry, str) and entry:
                    found = self._file(folder / entry, tried)
                    if found is None and (folder / entry).is_dir():
                        found = self._index(folder / entry, tried)
                    if found is not None:
                        return found
        return self._index(folder, tried)

    def _index(self, folder: Path, tried: list[str]) -> Path | None:
        for ext in EXTENSIONS:
            candidate = folder / f"index{ext}"
            tried.append(self.show(candidate))
            if candidate.is_file():
                return candidate
        return None

    # --- packages ---

    def _package(self, specifier: str, importer: Path, tried: list[str]) -> Path:
        name, subpath = package_name(specifier)
        for directory in (importer.parent, *importer.parent.parents):
            folder = directory / "node_modules" / name
            if directory.name == "node_modules" or not folder.is_dir():
                continue
            manifest = _read_package(folder)
            exports = manifest.get("exports") if manifest else None
            if exports is not None:
                target = _exports_target(exports, subpath)
                if target is None:
                    raise ResolveError(
                        f"package {name!r} does not export {subpath!r} for workers"
                        f" (its package.json exports, conditions {', '.join(sorted(CONDITIONS))})"
                    )
                found = self._file(folder / target, tried)
                if found is None:
                    raise ResolveError(f"package {name!r} exports {subpath!r} as {target!r}, which does not exist", tried)
                return found
            found = self._file_or_folder(folder / subpath, tried) if subpath != "." else self._folder(folder, tried)
            if found is None:
                raise ResolveError(f"package {name!r} has no file for {specifier!r}", tried)
            return found
        if name in NODE_BUILTINS:
            raise ResolveError(f"{specifier!r} is a Node.js built-in module, which dobj does not support yet")
        raise ResolveError(
            f"package {name!r} is not installed: no node_modules/{name} in {self.show(importer.parent)}"
            " or a folder above it (run npm install)"
        )


def _read_package(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _exports_target(exports, subpath: str) -> str | None:
    """The file (``./...``) that ``exports`` maps ``subpath`` to, or None (Node's algorithm)."""
    if isinstance(exports, (str, list)) or (
        isinstance(exports, dict) and exports and not any(k.startswith(".") for k in exports)
    ):
        exports = {".": exports}
    if not isinstance(exports, dict):
        return None
    if subpath in exports and "*" not in subpath:
        return _conditional(exports[subpath], None)
    best, star = None, None
    for key in exports:
        if key.count("*") == 1:
            prefix, suffix = key.split("*")
            matches = subpath.startswith(prefix) and subpath.endswith(suffix) and len(subpath) >= len(key) - 1
            if matches and (best is None or len(prefix) > len(best.split("*")[0])):
                best, star = key, subpath[len(prefix): len(subpath) - len(suffix)]
        elif key.endswith("/") and subpath.startswith(key) and best is None:
            best, star = key, None
    if best is None:
        return None
    if best.endswith("/") and "*" not in best:
        target = _conditional(exports[best], None)
        return target + subpath[len(best):] if target else None
    return _conditional(exports[best], star)


def _conditional(target, star: str | None) -> str | None:
    if isinstance(target, str):
        if not target.startswith("./"):
            return None
        return target.replace("*", star) if star is not None else target
    if isinstance(target, list):
        for item in target:
            found = _conditional(item, star)
            if found is not None:
                return found
        return None
    if isinstance(target, dict):
        for key, value in target.items():
            if key in CONDITIONS:
                found = _conditional(value, star)
                if found is not None:
                    return found
    return None
