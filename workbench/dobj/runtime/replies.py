"""What the prelude's glue answers, turned into results and :class:`~dobj.DobjError` s.

A reply is a string whose first character says what it is: ``R`` + result JSON, ``E`` +
error JSON, ``P`` pending (settled later), ``M`` no such method, ``T`` the budget stopped it.

>>> engine_failure(Exception("InternalError: out of memory\\n    at f (<input>:3:1)"))[:38]
'E{"name": "InternalError", "message": '
"""

from __future__ import annotations

import json

from ..errors import DobjError, ExecutionError, MethodNotFound, ScriptTimeout, did_you_mean, from_code
from .engine import Engine, split_exception
from .trace import Event

# Codes a JavaScript error keeps when it escapes a handler (storage errors keep theirs);
# anything else, a failed stub call included, is the handler's execution_error.
KEPT_CODES = frozenset({"bad_request", "payload_too_large", "storage_error", "execution_error"})


def engine_failure(exc: Exception) -> str:
    """An error JavaScript could not catch (out of memory, an engine fault) as an ``E`` reply."""
    name, message, stack = split_exception(exc)
    if message in ("", "null"):  # the heap was too full to even build the message
        name, message = "InternalError", "out of memory"
    return "E" + json.dumps({"name": name, "message": message, "stack": stack})


def script_error(info: dict, engine: Engine, memory_limit: int) -> DobjError:
    """The error an ``E`` reply carries; ``err.oom`` says whether the heap ran out."""
    stack = engine.clean_stack(info.get("stack", ""))
    name = info.get("name") or "Error"
    message = info.get("message", "")
    code = info.get("code")
    if name == "RangeError" and "call stack" in message:
        message += " (runaway recursion? the stack holds about 2,400 calls)"
    oom = name == "InternalError" and "out of memory" in message
    if oom:
        engine.ctx.gc()
        message = (f"out of memory: the JavaScript heap limit is {memory_limit >> 20} MiB;"
                   " the instance was discarded")
    if code in KEPT_CODES:
        err = from_code(code, message, js_name=name, js_stack=stack)
    else:
        err = ExecutionError(message, js_name=name, js_stack=stack)
    err.oom = oom
    return err


def timeout_error(event: Event | None, how: str, budget: float, *, on_manual_timer: bool) -> ScriptTimeout:
    """``event`` ran past its budget; ``on_manual_timer`` adds how to move the manual clock."""
    what = event.describe() if event else "JavaScript"
    hint = (
        "; it is waiting on a timer, but the clock is manual: advance it"
        " (tick 5s in the workbench, rt.clock.advance(5) in Python)"
    ) if on_manual_timer else ""
    return ScriptTimeout(
        f"{what} {how} its {budget:g}s budget{hint}; the instance was discarded"
        " and will be rebuilt on the next event"
    )


def method_not_found(event: Event, class_name: str, methods: list[str]) -> MethodNotFound:
    """The object has no handler for ``event``: say which methods it has."""
    if event.kind == "fetch":
        return MethodNotFound(f"{class_name} has no fetch(req) method; define fetch() to handle requests")
    return MethodNotFound(
        f"{class_name} has no method {event.method!r}{did_you_mean(event.method, methods)};"
        f" its methods are {', '.join(methods) or 'none'}"
    )
