"""Errors raised by dobj.

Every failure that dobj reports is a :class:`DobjError` with a stable ``code`` and the
HTTP status the server answers it with::

    DobjError                      code              http_status
    ├── BundleError                bundle_error      500   the bundle does not load
    ├── BadRequest                 bad_request       400   bad input from the caller
    │   └── PayloadTooLarge        payload_too_large 413
    ├── UnknownNamespace           unknown_namespace 404
    ├── MethodNotFound             method_not_found  404
    ├── ScriptTimeout              timeout           504   the event's budget ran out
    ├── ExecutionError             execution_error   500   the JavaScript threw
    ├── StorageError               storage_error     500   SQLite or the data folder failed
    └── RuntimeClosed              runtime_closed    503

Errors of the libraries underneath (the JavaScript engine, ``sqlite3``) are translated
once, where they are caught, with ``raise ... from exc``. A JavaScript exception keeps its
``js_name``, ``js_message`` and ``js_stack``.
"""

from __future__ import annotations

from collections.abc import Iterable


class DobjError(Exception):
    """Base of every error dobj raises.

    >>> err = BadRequest("name must not be empty")
    >>> (err.code, err.http_status)
    ('bad_request', 400)
    """

    code = "internal_error"
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        js_name: str | None = None,
        js_stack: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.js_name = js_name
        self.js_message = message if js_name else None
        self.js_stack = js_stack
        if code is not None:
            self.code = code

    def to_dict(self, dev: bool = True) -> dict:
        """The error as the server's envelope body: ``{"code": ..., "message": ...}``."""
        body = {"code": self.code, "message": self.message if dev else _public_message(self)}
        if dev and self.js_stack:
            body["stack"] = self.js_stack
        return body


class BundleError(DobjError):
    code = "bundle_error"


class BadRequest(DobjError):
    code = "bad_request"
    http_status = 400


class PayloadTooLarge(BadRequest):
    code = "payload_too_large"
    http_status = 413


class UnknownNamespace(DobjError):
    code = "unknown_namespace"
    http_status = 404


class MethodNotFound(DobjError):
    code = "method_not_found"
    http_status = 404


class ScriptTimeout(DobjError):
    code = "timeout"
    http_status = 504


class ExecutionError(DobjError):
    code = "execution_error"


class StorageError(DobjError):
    code = "storage_error"


class RuntimeClosed(DobjError):
    code = "runtime_closed"
    http_status = 503


BY_CODE: dict[str, type[DobjError]] = {
    cls.code: cls
    for cls in (
        BundleError,
        BadRequest,
        PayloadTooLarge,
        UnknownNamespace,
        MethodNotFound,
        ScriptTimeout,
        ExecutionError,
        StorageError,
        RuntimeClosed,
    )
}


def from_code(code: str, message: str, **kwargs) -> DobjError:
    """Build the error class that owns ``code`` (``ExecutionError`` for unknown codes)."""
    cls = BY_CODE.get(code, ExecutionError)
    return cls(message, **kwargs)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix naming the closest choice, or ``""``.

    >>> did_you_mean("COUNTR", ["COUNTER", "CHAT_ROOM"])
    " (did you mean 'COUNTER'?)"
    >>> did_you_mean("inc", ["increment", "fetch"])
    " (did you mean 'increment'?)"
    """
    import difflib  # only when there is a mistake to explain: it is slow to import

    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        folded = {c.lower(): c for c in choices}
        close = [folded[word.lower()]] if word.lower() in folded else []
    if not close and word:
        close = sorted(c for c in choices if c.lower().startswith(word.lower()))[:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _public_message(err: DobjError) -> str:
    if isinstance(err, (ExecutionError, StorageError)) or err.code == "internal_error":
        return "the object failed to handle the request"
    return err.message
