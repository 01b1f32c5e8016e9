"""Shared fixtures: bundles written to tmp_path, runtimes that are always closed."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

import dobj

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# Longer fuzz, property and crash runs than CI's: DOBJ_TEST_SCALE=20 pytest -m slow
SCALE = max(1, int(os.environ.get("DOBJ_TEST_SCALE", "1")))


@pytest.fixture
def bundle(tmp_path):
    """Write JavaScript source to a bundle file in tmp_path and return its path."""

    def write(source: str, name: str = "bundle.js") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(bundle):
    """Load inline JavaScript as a runtime; every runtime is closed after the test."""
    runtimes = []

    def _load(source: str, name: str = "bundle.js", **options) -> dobj.Runtime:
        rt = dobj.Runtime.load(bundle(source, name), **options)
        runtimes.append(rt)
        return rt

    yield _load
    for rt in runtimes:
        rt.close()


@pytest.fixture
def counter():
    """The sample Counter on an in-memory store and the manual clock."""
    rt = dobj.Runtime.load(SAMPLES / "counter.js")
    yield rt
    rt.close()
