"""The OpenAPI description of the HTTP gateway, served at ``/openapi.json``.

It documents every route, the request bodies and every status with its envelope, with
the loaded bundle's namespaces and methods as examples, so that clients and API fuzzers
know what to send.

>>> spec = openapi_spec({"COUNTER": ("increment",)}, version="0.1.0")
>>> sorted(spec["paths"])
['/fetch/{namespace}/{objectName}/{path}', '/healthz', '/rpc/{namespace}/{objectName}/{method}']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ERRORS = {
    "400": ("bad_request", "Malformed path, name, body or arguments"),
    "404": ("unknown_namespace, method_not_found or not_found", "No such namespace, method or route"),
    "405": ("bad_request", "The route exists, but not for this HTTP method"),
    "413": ("payload_too_large", "The request body (or a stored value) is over the limit"),
    "500": ("execution_error or storage_error", "The JavaScript threw, or storage failed"),
    "504": ("timeout", "The event's budget ran out"),
}


def _envelope_error() -> dict:
    return {
        "type": "object",
        "required": ["ok", "error"],
        "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "stack": {"type": "string"},
                },
            },
        },
    }


def _error_responses(statuses: Sequence[str]) -> dict:
    return {
        status: {
            "description": f"{ERRORS[status][1]} (code: {ERRORS[status][0]})",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _param(name: str, description: str, example: str | None) -> dict:
    param = {"name": name, "in": "path", "required": True, "description": description,
             "schema": {"type": "string", "minLength": 1}}
    if example is not None:
        param["example"] = example
    return param


def openapi_spec(namespaces: Mapping[str, Sequence[str]], *, version: str) -> dict:
    """The OpenAPI 3.0 document for a bundle with ``{namespace: RPC methods}``."""
    first = next(iter(namespaces), None)
    methods = tuple(namespaces.get(first, ())) if first else ()
    path_params = [
        _param("namespace", "A namespace of the bundle: " + ", ".join(namespaces), first),
        _param("objectName", "The object's name: 1 to 1024 UTF-8 bytes, no '/', '\\' or control"
               " characters, not '.' or '..'", "global"),
    ]
    rpc = {
        "post": {
            "summary": "Call an RPC method of an object",
            "operationId": "rpc",
            "parameters": path_params + [_param("method", "The method to call", methods[0] if methods else None)],
            "requestBody": {
                "required": False,
                "description": "The arguments as a JSON array; an empty body means no arguments",
                "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
            },
            "responses": {
                "200": {
                    "description": "The method's result",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}},
                },
                **_error_responses(["400", "404", "405", "413", "500", "504"]),
            },
        }
    }
    fetch_operation = {
        "summary": "Send a request to the object's fetch(req) handler",
        "parameters": path_params + [_param("path", "The object-local path", "count")],
        "responses": {
            "default": {"description": "Whatever the object's fetch(req) answered"},
            **_error_responses(["400", "404", "413", "500", "504"]),
        },
    }
    fetch = {
        verb: {**fetch_operation, "operationId": f"fetch_{verb}"}
        for verb in ("get", "post", "put", "patch", "delete")
    }
    fetch["post"] = {**fetch["post"], "requestBody": {
        "required": False, "content": {"*/*": {"schema": {"type": "string"}}}}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "dobj gateway",
            "version": version,
            "description": "RPC calls and fetch requests to the objects of a Durable Objects bundle.",
        },
        "paths": {
            "/rpc/{namespace}/{objectName}/{method}": rpc,
            "/fetch/{namespace}/{objectName}/{path}": fetch,
            "/healthz": {
                "get": {
                    "summary": "Health check",
                    "operationId": "healthz",
                    "responses": {"200": {"description": "The server is up",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Result": {
                    "type": "object",
                    "required": ["ok", "result"],
                    "properties": {"ok": {"type": "boolean", "enum": [True]}, "result": {}},
                },
                "Error": _envelope_error(),
            }
        },
    }
