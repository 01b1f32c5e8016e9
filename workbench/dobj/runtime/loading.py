"""Loading code into a fresh engine: a CommonJS bundle (:func:`load_bundle`) or a
Cloudflare Workers project (:func:`load_project`); evaluate it, check its exports, bind
its namespaces.

The engine comes back ready to use, or a :class:`~dobj.errors.BundleError` says what is
wrong (file, line and column where JavaScript gives them); nothing half-loaded is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import bundle as bundles
from .engine import _JS_DIR, _RUNTIME_SOURCES, RUNTIME_JS, Engine, split_exception

# The runtime's JavaScript functions the core calls (see js/dispatch.js, the glue it returns).
GLUE = ("define", "bind", "construct", "drop", "methods", "invoke", "fetch", "alarm",
        "fireTimer", "dropTimers", "settleStub")


def load_bundle(path: Path, *, manifest: str | Path | None, memory_limit: int, budget: float,
                host: dict[str, Callable[..., object]]) -> tuple[Engine, dict, dict[str, bundles.ClassInfo]]:
    """``(engine, glue, classes)`` for the CommonJS bundle at ``path``.

    ``host`` holds the functions the prelude calls back (storage, console, timers, ...);
    the bundle's top-level code runs within ``budget`` seconds (0: no limit).
    """
    source = bundles.read_source(path)
    binding = bundles.read_manifest(manifest) if manifest else None
    engine = Engine(memory_limit=memory_limit)
    pick, factory = engine.load(host, source, path.name)
    glue = {name: pick(name) for name in GLUE}
    engine.deadline = time.monotonic() + budget if budget else float("inf")
    try:
        described = json.loads(glue["define"](factory))
    except Exception as exc:  # JSException from top-level code
        name, message, stack = split_exception(exc)
        if engine.interrupted:
            message = "the bundle's top-level code did not finish within the budget"
        where = engine._location(stack)
        raise bundles.BundleError(
            f"{path.name}{where}: {name}: {message}", js_name=name, js_stack=engine.clean_stack(stack),
        ) from None
    finally:
        engine.deadline = float("inf")
    classes = bundles.classes_from(described, path.name, binding)
    glue["bind"](json.dumps({ns: c.export for ns, c in classes.items()}))
    return engine, glue, classes


CF_GLUE = ("receive", "builtins", "describe", "bind", "construct", "drop", "methods", "invoke",
           "fetch", "alarm", "workerFetch", "fireTimer", "dropTimers", "settleStub", "socketEvent",
           "forgetSockets", "socketHandles")
# The builtin module "cloudflare:workers": its exports are read from a global that exists
# only while the entry module loads.
CLOUDFLARE_WORKERS = """const c = globalThis.__dobj_cloudflare;
export const DurableObject = c.DurableObject;
export const WorkerEntrypoint = c.WorkerEntrypoint;
export const RpcTarget = c.RpcTarget;
export const WorkflowEntrypoint = c.WorkflowEntrypoint;
export const env = c.env;
export function waitUntil(promise) { Promise.resolve(promise).catch(() => {}); }
"""
# Compatibility date from which workerd keeps an error's class name and fields over RPC.
ENHANCED_ERRORS_DATE = "2026-04-21"
BLOB_MESSAGES_DATE = "2026-03-17"
AUTO_REPLY_CLOSE_DATE = "2026-04-07"


@dataclass
class LoadedProject:
    """What :func:`load_project` gives besides the engine: the project, its loader and Worker."""

    project: object
    loader: object
    worker: str | None  # "handler" (default export with fetch), "entrypoint", or None
    warnings: list[str]
    socket_flags: dict[str, bool] = field(default_factory=dict)


def _cf_sources() -> tuple[str, ...]:
    """The runtime's JavaScript for projects: errors, the web platform, the shared globals,
    and Cloudflare's own ids, storage and dispatch instead of the seed dialect's."""
    from .web import WEB_SOURCES

    shared = tuple(_RUNTIME_SOURCES[RUNTIME_JS.index(name)] for name in ("errors", "globals"))
    own = tuple((_JS_DIR / "cf" / f"{name}.js").read_text(encoding="utf-8") for name in ("env", "storage", "sockets", "dispatch"))
    return shared[:1] + WEB_SOURCES + shared[1:] + own


def load_project(path: Path, *, memory_limit: int, budget: float,
                 host: dict[str, Callable[..., object]]):
    """``(engine, glue, classes, loaded)`` for the Workers project at ``path`` (a folder, its
    wrangler config, or its entry module)."""
    from .modules import ModuleLoader
    from .project import read_project
    from .web import web_host_functions

    project = read_project(path)
    engine = Engine(memory_limit=memory_limit)
    pick = engine.install({**host, **web_host_functions()}, _cf_sources())
    engine.eval("delete globalThis.require")  # ES modules import; there is no require
    glue = {name: pick(name) for name in CF_GLUE}
    loader = ModuleLoader(project, {"cloudflare:workers": CLOUDFLARE_WORKERS})
    glue["builtins"]()
    engine.ctx.set("__dobj_receive", glue["receive"])
    try:
        loader.load_entry(engine, "__dobj_receive", budget=budget)
    finally:
        engine.eval("delete globalThis.__dobj_receive")
    described = json.loads(glue["describe"]())
    classes = _project_classes(project, described["classes"])
    date = project.compatibility_date or ""
    enhanced = ("enhanced_error_serialization" in project.compatibility_flags
                or (date >= ENHANCED_ERRORS_DATE and "no_enhanced_error_serialization" not in project.compatibility_flags))
    flags = _socket_flags(project)
    glue["bind"](json.dumps({
        "namespaces": {ns: c.export for ns, c in classes.items()},
        "sqlite": {ns: _sqlite_backed(project, c.export) for ns, c in classes.items()},
        "vars": project.vars, "compatibility": {"enhancedErrors": enhanced, **flags},
    }))
    warnings = []
    if project.unsupported:
        where = project.relative(project.config_path) if project.config_path else "the project"
        warnings.append(f"{where}: dobj does not support {', '.join(project.unsupported)}; ignored")
    worker = described["worker"] if described["worker"] in ("handler", "entrypoint") else None
    return engine, glue, classes, LoadedProject(project, loader, worker, warnings, flags)


def _socket_flags(project) -> dict[str, bool]:
    """How WebSockets behave for the project's compatibility date and flags, as in workerd:
    binary messages reach listeners as Blob from 2026-03-17, and a close frame from the peer
    is answered by the runtime itself from 2026-04-07 (``web_socket_auto_reply_to_close``)."""
    date, flags = project.compatibility_date or "", project.compatibility_flags
    auto_reply = ("web_socket_auto_reply_to_close" in flags
                  or (date >= AUTO_REPLY_CLOSE_DATE and "web_socket_manual_reply_to_close" not in flags))
    return {
        "blobMessages": date >= BLOB_MESSAGES_DATE,
        "autoReplyClose": auto_reply,
        # a close reason over 123 bytes throws at 2026-04-26 and not at 2026-03-01 (measured);
        # taken to change with the close reply, the change between those dates
        "closeReasonLimit": auto_reply,
    }


def _sqlite_backed(project, class_name: str) -> bool:
    """Whether the migrations make ``class_name`` SQLite-backed (``new_sqlite_classes``) rather
    than key-value backed (``new_classes``, where ``storage.sql`` and ``storage.kv`` fail)."""
    sqlite = True
    for step in project.migrations:
        for old, new in step.renamed_classes:
            if new == class_name and old in step.new_classes:
                sqlite = False
        if class_name in step.new_classes:
            sqlite = False
        if class_name in step.new_sqlite_classes:
            sqlite = True
    return sqlite


def _project_classes(project, exported: dict) -> dict[str, bundles.ClassInfo]:
    """Namespaces from the config's bindings, or every exported DurableObject class."""
    entry = project.relative(project.main)
    if project.bindings is None:
        binding = {bundles.namespace_for(name): name for name, info in exported.items() if info["durable"]}
        if not binding:
            raise bundles.BundleError(
                f"{entry} exports no class extending DurableObject; export one"
                " (export class Counter extends DurableObject { ... }) or add a wrangler.jsonc"
                " with durable_objects.bindings")
    else:
        binding = dict(project.bindings)
        config = project.relative(project.config_path) if project.config_path else "the config"
        for ns, class_name in binding.items():
            if class_name not in exported:
                raise bundles.BundleError(
                    f"{config}: durable_objects.bindings names class {class_name!r} ({ns}), which"
                    f" {entry} does not export; export it (export class {class_name} extends"
                    " DurableObject { ... }) or fix the binding")
    return {
        ns: bundles.ClassInfo(export=name, namespace=ns, methods=tuple(exported[name]["methods"]),
                              params=tuple(exported[name]["params"]))
        for ns, name in binding.items()
    }
