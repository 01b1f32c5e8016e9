"""The documentation: mkdocs builds it without a warning, and every example in it runs."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import ipysession
from docblocks import blocks, commands, normalize, run_page
from ipysession import cells, comparable

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.slow
def test_mkdocs_builds_the_docs_in_strict_mode_without_warnings(tmp_path):
    pytest.importorskip("mkdocs")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    assert (tmp_path / "site" / "cloudflare" / "index.html").exists()


def test_every_page_is_in_the_nav_and_linked_from_the_index():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in DOCS:
        assert f": {page.name}" in config, f"{page.name} is not in the mkdocs nav"
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"


@pytest.mark.slow
@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_example_in_the_page_runs(page):
    run_page(page)


def test_opt_outs_are_rare_and_give_a_reason():
    marked = [(p.name, b.line) for p in DOCS for b in blocks(p) if b.no_run]
    assert len(marked) <= 4, marked


def test_readme_python_and_javascript_examples_run(tmp_path):
    """The README's own examples (its shell lines are the set-up commands, not run here)."""
    from docblocks import Page, _with_asserts

    readme = ROOT / "README.md"
    page = Page(readme, tmp_path)
    bundles, claims = 0, 0
    try:
        for block in blocks(readme):
            if block.lang == "python":
                page.run_python(block)
                claims += sum(_with_asserts(line) != line for line in block.text.splitlines())
            elif block.lang == "js":
                page.run_js(block)
                bundles += "exports.objects" in block.text
    finally:
        page.close_python()
    assert bundles >= 1, "the README shows no bundle that was loaded"
    assert claims >= 3, "the README's Python example checks fewer than 3 results (# -> value)"


# -- the machinery itself ------------------------------------------------------------------
def test_console_blocks_split_into_commands_with_their_output(tmp_path):
    md = tmp_path / "page.md"
    md.write_text(
        "<!-- no-run: an example -->\n```sh\npip install .\n```\n\n"
        "```console\n$ dobj-repl x.js <<'EOF'\ntick 1s\nEOF\nout 1\n\n$ curl -s \\\n  http://h\n{}\n```\n",
        encoding="utf-8",
    )
    first, second = blocks(md)
    assert first.no_run and not second.no_run
    cmds = commands(second)
    assert [c.line for c in cmds] == ["dobj-repl x.js <<'EOF'\ntick 1s\nEOF", "curl -s \\\n  http://h"]
    assert cmds[0].output == ["out 1", ""] and cmds[1].output == ["{}"]


def test_output_comparison_ignores_durations_and_column_padding():
    assert normalize("a    b  0.031 ms\n----  --\n\n") == normalize("a b 12.5 ms\n--- -")


def test_a_command_the_tests_cannot_run_fails_unless_marked(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("```sh\nrm -rf /tmp/nothing-here\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="no-run"):
        run_page(md)


def test_ipython_session_blocks_split_into_cells_with_their_output(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("```python\nIn [1]: x = 1\n   ...: x + 1\nOut[1]: 2\n\n"
                  "In [2]: %dobj nonsense\nUsageError: unknown command\n```\n", encoding="utf-8")
    (block,) = blocks(md)
    first, second = cells(block)
    assert (first.number, first.source, first.output) == (1, "x = 1\nx + 1", ["Out[1]: 2", ""])
    assert (second.number, second.source) == (2, "%dobj nonsense")
    assert second.output == ["UsageError: unknown command"]


def test_output_comparison_keeps_a_timelines_lanes_and_event_counts_not_their_places():
    page = ("ACCOUNT/a  1111 333\nLEDGER/l    22  44\n           0 ms   9.5 ms\n"
            "clock: 2026-01-02T03:04:05.678Z")
    now = ("LEDGER/l   1 333333\nACCOUNT/a    2222 4\n           0 ms      31 ms\n"
           "clock: 2027-11-29T15:10:08.071Z")
    assert comparable(page) == comparable(now)
    assert comparable(page) != comparable(now.replace("2222 4", "2222"))
    failed, tried = doctest.testmod(ipysession)
    assert tried > 0 and failed == 0


def test_a_wrong_output_in_an_ipython_session_fails(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("```python\nIn [1]: %load_ext dobj\n\nIn [2]: %dobj load ../samples/counter.js\n"
                  "Out[2]: loaded counter.js: COUNTER (Counter)\n\n"
                  "In [3]: %dobj COUNTER/a.increment(2)\nOut[3]: 3\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"In \[3\] shows something else"):
        run_page(md)


def test_a_wrong_claim_in_a_python_example_fails(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("```python\nx = 1 + 1\nx  # -> 3\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="x is not 3"):
        run_page(md)
