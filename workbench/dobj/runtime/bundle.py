"""Bundles: read a CommonJS file, find its object classes, and name their namespaces.

>>> namespace_for("ChatRoom"), namespace_for("URLParser"), namespace_for("chat-room")
('CHAT_ROOM', 'URL_PARSER', 'CHAT_ROOM')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BundleError

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD = re.compile(r"([a-z0-9])([A-Z])")
# What a workbench command (COUNTER/global.increment()) and a URL segment can address.
_ADDRESSABLE = re.compile(r"[\w$-]+\Z")
_ALLOWED = "letters, digits, '_', '-' and '$'"


def namespace_for(export_name: str) -> str:
    """The default namespace of an exported class: CamelCase to UPPER_SNAKE.

    >>> namespace_for("Counter2DView"), namespace_for("IOStream"), namespace_for("V2Beta")
    ('COUNTER2_D_VIEW', 'IO_STREAM', 'V2_BETA')
    """
    name = export_name.replace("-", "_")
    name = _ACRONYM.sub(r"\1_\2", name)
    name = _WORD.sub(r"\1_\2", name)
    return re.sub(r"_+", "_", name).strip("_").upper()


HANDLERS = ("fetch", "alarm")


@dataclass(frozen=True)
class ClassInfo:
    """An exported object class: its export name, namespace and prototype methods.

    ``fetch(req)`` and ``alarm()`` are handlers: the runtime calls them for requests and
    alarms. Every other method is an RPC method. ``params`` holds each method's declared
    parameter count (JavaScript's ``length``: parameters before the first default), in the
    order of ``methods``.

    >>> info = ClassInfo("Counter", "COUNTER", ("alarm", "fetch", "increment"), (0, 1, 0))
    >>> info.rpc_methods, info.handlers, info.parameters("fetch")
    (('increment',), ('fetch', 'alarm'), 1)
    """

    export: str
    namespace: str
    methods: tuple[str, ...]
    params: tuple[int, ...] = ()

    @property
    def rpc_methods(self) -> tuple[str, ...]:
        """The RPC methods, in name order."""
        return tuple(m for m in self.methods if m not in HANDLERS)

    @property
    def handlers(self) -> tuple[str, ...]:
        """The handlers the class has, in the order of :data:`HANDLERS`."""
        return tuple(h for h in HANDLERS if h in self.methods)

    def parameters(self, method: str) -> int | None:
        """How many parameters ``method`` declares (None when not known)."""
        if method in self.methods and len(self.params) == len(self.methods):
            return self.params[self.methods.index(method)]
        return None


def read_source(path: Path) -> str:
    """The text of a bundle file, or a :class:`BundleError` that says what is wrong."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"bundle {path} does not exist") from None
    except IsADirectoryError:
        raise BundleError(f"bundle {path} is a folder; pass the bundle's .js file") from None
    except UnicodeDecodeError as exc:
        raise BundleError(f"bundle {path} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from None


def read_manifest(path: str | Path) -> dict[str, str]:
    """``{namespace: export name}`` from a JSON or TOML manifest ``{"objects": {...}}``."""
    import tomllib  # only for manifests: it is slow to import

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except OSError as exc:
        raise BundleError(f"cannot read manifest {path}: {exc.strerror}") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise BundleError(f"manifest {path} is not valid {path.suffix[1:] or 'JSON'}: {exc}") from None
    objects = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objects, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in objects.items()
    ):
        raise BundleError(
            f'manifest {path} must map namespaces to class names: {{"objects": {{"TALLY": "Counter"}}}}'
        )
    return dict(objects)


def classes_from(described: dict, filename: str, manifest: dict[str, str] | None) -> dict[str, ClassInfo]:
    """Check what a bundle exported and name its namespaces.

    ``described`` is the answer of the ``define`` glue (js/dispatch.js):
    ``{"classes": {export: {"ctor": bool, ...}}}``.
    """
    if "error" in described:
        raise BundleError(
            f"{filename} exports no objects: end it with exports.objects = {{ MyClass }}"
            " (or module.exports = { objects: { MyClass } })"
        )
    exported = described["classes"]
    for key, info in exported.items():
        if not info["ctor"]:
            raise BundleError(
                f"{filename}: exports.objects.{key} is {info['type']}, not a class;"
                " export only classes (constructors) in objects"
            )
    if not exported:
        raise BundleError(f"{filename}: exports.objects is empty; export at least one class")
    if manifest is not None:
        unknown = [c for c in manifest.values() if c not in exported]
        if unknown:
            raise BundleError(
                f"the manifest names {', '.join(map(repr, unknown))}, which {filename} does not"
                f" export; it exports {', '.join(exported)}"
            )
        for ns in manifest:
            if not _ADDRESSABLE.match(ns):
                raise BundleError(
                    f"the manifest's namespace {ns!r} cannot be addressed by commands or URLs:"
                    f" a namespace holds only {_ALLOWED}"
                )
        binding = manifest
    else:
        binding = {}
        for key in exported:
            if not _ADDRESSABLE.match(key):
                raise BundleError(
                    f"{filename}: export {key!r} cannot become a namespace that commands and URLs"
                    f" can address: export names hold only {_ALLOWED}; rename it or give a --manifest"
                )
            ns = namespace_for(key)
            if not ns:
                raise BundleError(f"{filename}: export {key!r} gives an empty namespace")
            if ns in binding:
                raise BundleError(
                    f"{filename}: exports {binding[ns]!r} and {key!r} both map to namespace {ns};"
                    " rename one or give a --manifest"
                )
            binding[ns] = key
    return {
        ns: ClassInfo(export=key, namespace=ns, methods=tuple(exported[key]["methods"]),
                      params=tuple(exported[key].get("params", ())))
        for ns, key in binding.items()
    }
