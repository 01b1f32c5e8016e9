"""The pytest plugin (registered as ``pytest11``): test Durable Objects with the runtime itself.

    @pytest.mark.dobj("samples/counter.js")
    def test_increment(dobj):
        assert dobj.get("COUNTER", "a").increment(2) == 2

- ``dobj``: a :class:`dobj.Runtime` on the manual clock, its storage in ``tmp_path``, closed
  after the test. The project (a bundle, or a Workers project folder, config or entry) comes
  from ``@pytest.mark.dobj(path, **options)`` (options as ``Runtime.load`` takes them), else
  from ``--dobj-project PATH``, else from the ``dobj_project`` ini setting.
- ``dobj_factory(path=None, **options)``: more runtimes in one test, each closed after it.
- A failing test that used them shows the recent trace of each runtime in its report.

Relative paths are taken from the test file's folder when they exist there, else from the
rootdir (the folder of pytest's ini file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TRACE_LINES = 20


def pytest_addoption(parser) -> None:
    group = parser.getgroup("dobj", "Durable Objects with dobj")
    group.addoption("--dobj-project", metavar="PATH", default=None,
                    help="the bundle or Workers project the dobj fixture loads (unless a test's"
                         " @pytest.mark.dobj names one)")
    parser.addini("dobj_project", "the bundle or Workers project the dobj fixture loads by default")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "dobj(path, **options): the bundle or Workers project the dobj fixture loads,"
                   " with Runtime.load options (clock, cpu_timeout, ...)")


def _resolve(path: str | Path, request) -> Path:
    path = Path(path)
    if path.is_absolute():
        return path
    here = Path(str(request.node.fspath)).parent / path
    return here if here.exists() else Path(str(request.config.rootpath)) / path


@pytest.fixture
def dobj_factory(request, tmp_path):
    """Make runtimes: ``dobj_factory("samples/counter.js", clock="real")``; each is on the
    manual clock with storage under ``tmp_path`` unless told otherwise, and closed after
    the test."""
    import dobj

    made: list = []
    request.node._dobj_runtimes = made

    def make(path: str | Path | None = None, **options):
        if path is None:
            path = _default_project(request)
        options.setdefault("clock", "manual")
        options.setdefault("data", tmp_path / f"dobj-data-{len(made)}")
        rt = dobj.Runtime.load(_resolve(path, request), **options)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def _default_project(request) -> str:
    path = request.config.getoption("dobj_project") or request.config.getini("dobj_project")
    if not path:
        pytest.fail("the dobj fixture needs a project: @pytest.mark.dobj(\"path\"), --dobj-project PATH,"
                    " or dobj_project = path in the ini file", pytrace=False)
    return path


@pytest.fixture
def dobj(request, dobj_factory):
    """A runtime of the project the test names (``@pytest.mark.dobj``) or the default one."""
    marker = request.node.get_closest_marker("dobj")
    if marker is not None and marker.args:
        return dobj_factory(marker.args[0], **marker.kwargs)
    return dobj_factory(None, **(marker.kwargs if marker is not None else {}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    runtimes = getattr(item, "_dobj_runtimes", None)
    if not runtimes or not report.failed or call.when != "call":
        return
    from .commands.timeline import Events

    for i, rt in enumerate(runtimes):
        try:
            events = rt.trace(TRACE_LINES)
        except Exception as exc:  # noqa: BLE001 - a report must not fail
            text = f"(the trace could not be read: {exc})"
        else:
            text = str(Events(events)) if events else "(no events)"
        name = f"dobj trace of {rt.bundle_path.name}" + (f" #{i + 1}" if len(runtimes) > 1 else "")
        report.sections.append((name, text))
