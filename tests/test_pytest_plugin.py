"""The pytest plugin: real pytest sessions in tmp_path, with the plugin found through its entry point."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"
GUESTBOOK = ROOT / "samples" / "guestbook-ts"


def run_pytest(folder: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_marker_names_the_project_and_the_runtime_is_on_the_manual_clock_with_storage_in_tmp_path(tmp_path):
    result = run_pytest(tmp_path, {"test_counter.py": f"""
        import pytest

        @pytest.mark.dobj({str(COUNTER)!r})
        def test_increments(dobj, tmp_path):
            counter = dobj.get("COUNTER", "a")
            assert counter.increment(2) == 2
            assert dobj.clock.manual
            assert str(dobj.data_dir).startswith(str(tmp_path))

        @pytest.mark.dobj({str(GUESTBOOK)!r}, cpu_timeout=5)
        def test_a_cloudflare_project(dobj):
            assert dobj.fetch("/page/x", method="POST", body='{{"author": "a", "text": "b"}}').status == 201
    """})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_project_comes_from_the_option_or_the_ini_file_and_the_factory_makes_more(tmp_path):
    (tmp_path / "counter.js").write_text(COUNTER.read_text())
    files = {
        "pytest.ini": "[pytest]\ndobj_project = counter.js\n",
        "test_default.py": """
            def test_default_project(dobj, dobj_factory):
                assert dobj.get("COUNTER", "a").increment(1) == 1
                other = dobj_factory()
                assert other.get("COUNTER", "a").increment(5) == 5  # its own storage
                assert dobj.get("COUNTER", "a").increment(1) == 2
        """,
    }
    assert run_pytest(tmp_path, files).returncode == 0
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    assert run_pytest(tmp_path, {}, "--dobj-project", str(COUNTER)).returncode == 0
    missing = run_pytest(tmp_path, {})
    assert missing.returncode == 1 and "the dobj fixture needs a project" in missing.stdout


def test_a_failing_test_shows_the_trace_of_its_runtime(tmp_path):
    result = run_pytest(tmp_path, {"test_fails.py": f"""
        import pytest

        @pytest.mark.dobj({str(COUNTER)!r})
        def test_wrong(dobj):
            dobj.get("COUNTER", "seen").increment(41)
            assert dobj.get("COUNTER", "seen").increment(1) == 43
    """})
    assert result.returncode == 1
    assert "dobj trace of counter.js" in result.stdout
    assert "COUNTER/seen" in result.stdout and "increment(41)" in result.stdout


@pytest.mark.parametrize("runner", ["asyncio", "anyio"])
def test_async_tests_use_the_async_api(tmp_path, runner):
    pytest.importorskip("pytest_asyncio" if runner == "asyncio" else "anyio")
    mark = "@pytest.mark.asyncio" if runner == "asyncio" else "@pytest.mark.anyio"
    extra = "" if runner == "asyncio" else "\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n"
    result = run_pytest(tmp_path, {"test_async.py": f"""
import pytest
{extra}
{mark}
@pytest.mark.dobj({str(COUNTER)!r})
async def test_async(dobj):
    counter = dobj.get("COUNTER", "a")
    assert await counter.acall("increment", 3) == 3
    assert (await counter.afetch("/count")).text == "3"
"""})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_testing_page_examples_pass_as_a_real_test_module(tmp_path):
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = run_pytest(tmp_path, {"test_page.py": code}, "--rootdir", str(ROOT), "-c", str(tmp_path / "pytest.ini"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_fake_fetch_answers_outbound_requests_by_pattern_and_records_them(tmp_path):
    import dobj
    from dobj.testing import fake_fetch

    (tmp_path / "src").mkdir()
    (tmp_path / "wrangler.jsonc").write_text('{"name": "w", "main": "src/index.js"}')
    (tmp_path / "src" / "index.js").write_text(textwrap.dedent("""
        export default {
          async fetch(request) {
            const upstream = await fetch("https://api.example.com/v1/items?q=1", {
              method: "POST", headers: { "x-key": "k" }, body: JSON.stringify({ want: 2 }) });
            return Response.json({ status: upstream.status, body: await upstream.json() });
          },
        };
    """))
    with dobj.Runtime.load(tmp_path) as rt:
        refused = rt.fetch("/")
        assert refused.status == 500 and "was refused" in refused.text  # no fakes: no network
        with fake_fetch(rt) as fake:
            fake.add("https://api.example.com/v1/*", json={"items": [1, 2]}, status=201, method="POST")
            assert rt.fetch("/").json() == {"status": 201, "body": {"items": [1, 2]}}
            (request,) = fake.requests
            assert (request.method, request.url, request.headers["x-key"], request.json()) == (
                "POST", "https://api.example.com/v1/items?q=1", "k", {"want": 2})
            fake.answers.clear()
            assert "matched no fake answer" in rt.fetch("/").text
