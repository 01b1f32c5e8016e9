"""The examples in the core's docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["dobj.errors", "dobj.openapi", "dobj.runtime.actors", "dobj.runtime.bundle",
           "dobj.runtime.clock", "dobj.runtime.engine", "dobj.runtime.storage", "dobj.runtime.trace",
           "dobj.methods", "dobj.server.gateway", "dobj.server.messages"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
