"""The examples in docstrings run, and every module listed here has some."""

import doctest
import importlib

import pytest

CORE = ["dobj.errors", "dobj.openapi", "dobj.runtime.actors", "dobj.runtime.bundle",
        "dobj.runtime.clock", "dobj.runtime.engine", "dobj.runtime.limits", "dobj.runtime.storage",
        "dobj.runtime.trace", "dobj.runtime.replies", "dobj.runtime.commits", "dobj.runtime.clone",
        "dobj.runtime.snapshots", "dobj.runtime.storequeries"]
FRONT_ENDS = [
    "dobj.server.gateway", "dobj.server.messages", "dobj.cli",
    "dobj.commands.syntax", "dobj.commands.results", "dobj.commands.registry",
    "dobj.commands.interpreter", "dobj.commands.complete", "dobj.commands.reference",
    "dobj.commands.objects", "dobj.commands.storage", "dobj.commands.timeline",
    "dobj.commands.session", "dobj.commands.snapshots", "dobj.commands.recording", "dobj.render",
    "dobj.prompt",
]


@pytest.mark.parametrize("name", CORE + FRONT_ENDS)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0, f"{name} has no docstring example: take it off the list or give it one"
    assert result.failed == 0
