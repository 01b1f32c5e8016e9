"""Every tutorial notebook runs top to bottom in a real kernel (nbclient), as in Jupyter.

The notebooks run in a copy of ``notebooks/`` beside a copy of ``samples/``, so the bundles
they write with ``%%writefile`` do not land in the source tree.
"""

from __future__ import annotations

import shutil
import sys

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_three_tutorial_notebooks():
    assert [p.name for p in NOTEBOOKS][:3] == ["01-quickstart.ipynb", "02-time.ipynb",
                                                "03-concurrency.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_committed_without_outputs(path):
    import json

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the notebooks and the samples, side by side like in the repository."""
    root = tmp_path_factory.mktemp("tutorial")
    shutil.copytree(ROOT / "samples", root / "samples")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    return root / "notebooks"


def python3_kernel_of_this_interpreter() -> str:
    """The ``python3`` kernelspec, checked to exist (pip installs it with ipykernel)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", "python3", sys.executable), spec.argv
    return "python3"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client / zmq internals
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_in_a_real_kernel(path, workdir, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(workdir.parent / "ipython"))  # no user startup files
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(workdir / path.name, as_version=4)
    client = NotebookClient(nb, kernel_name=python3_kernel_of_this_interpreter(), timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    assert not [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                if o.output_type == "error"], "errors should show as one UsageError line"
    for cell in nb.cells:
        if cell.cell_type == "code":
            stderr = "".join(o.text for o in cell.outputs if o.get("name") == "stderr")
            expected = "raises-exception" in cell.metadata.get("tags", [])
            assert stderr.startswith("UsageError: ") is expected, (cell.source, stderr)
    html = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if "text/html" in o.get("data", {})]
    assert html, "the magics' results should render as HTML"
    nbformat.write(nb, workdir / f"{path.stem}.executed.ipynb")
