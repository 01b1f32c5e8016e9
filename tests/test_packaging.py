"""What `pip install .` ships: every file the runtime reads at run time is package data."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workbench" / "dobj"


def test_every_javascript_file_of_the_runtime_is_declared_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["dobj"]
    files = [PurePosixPath(p.relative_to(PACKAGE).as_posix()) for p in PACKAGE.rglob("*")
             if p.is_file() and p.suffix in (".js", ".json", ".txt", ".md") or p.name == "LICENSE"]
    assert files, "no data files found: did the package move?"
    left_out = [str(f) for f in files if not any(f.match(g) for g in globs)]
    assert left_out == [], f"not in [tool.setuptools.package-data] of pyproject.toml: {left_out}"
