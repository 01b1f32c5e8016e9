"""Loading a bundle into a fresh engine: evaluate it, check its exports, bind its namespaces.

The engine comes back ready to use, or a :class:`~dobj.errors.BundleError` says what is
wrong (file, line and column where JavaScript gives them); nothing half-loaded is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from . import bundle as bundles
from .engine import Engine, split_exception

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
