"""Every fenced block of README.md and docs/ is marked, and every marked block is tested."""

from __future__ import annotations

import re
from importlib.metadata import metadata

import pytest

from langchain_apiactions import check_actions
from tests.docs_snippets import ROOT, Block, all_blocks, snippet

EXTRAS = set(metadata("langchain-apiactions").get_all("Provides-Extra") or []) | {"none"}
# Languages whose blocks a reader runs or saves: each must say which extra it needs.
CODE = {"python", "yaml", "bash", "json", "toml", "sh", "console"}
BLOCKS = all_blocks()
TESTED = [b for b in BLOCKS if b.kind == "test"]


def test_the_pages_have_blocks() -> None:
    pages = {b.page for b in BLOCKS}
    assert {"README.md", "docs/action-file.md", "docs/production.md"} <= pages
    assert len(TESTED) >= 30


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_block_is_marked(block: Block) -> None:
    assert block.kind is not None, (
        f"{block.where}: a ```{block.lang} block without a marker: put "
        "<!-- test: NAME, extra: EXTRA --> (and a test that runs it) or "
        "<!-- skip-test: REASON --> on the line before it"
    )
    if block.kind == "skip-test":
        assert len(block.reason.split()) >= 3, f"{block.where}: skip-test needs a reason"
        return
    assert block.name and re.fullmatch(r"[a-z0-9][a-z0-9-]*", block.name), block.where
    if block.lang in CODE:
        assert block.extras, f"{block.where}: say which extra it needs (extra: none, ...)"
    assert set(block.extras) <= EXTRAS, f"{block.where}: unknown extra in {block.extras}"
    assert set(block.attrs) <= {"check"}, f"{block.where}: unknown attribute {block.attrs}"


def test_names_are_unique() -> None:
    names = [b.name for b in TESTED]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def _test_sources() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("*.py")
        if p.name != "docs_snippets.py"
    )


def test_every_marked_block_is_used_by_a_test() -> None:
    sources = _test_sources()
    unused = [
        b.where + " " + str(b.name)
        for b in TESTED
        if "check" not in b.attrs and f'"{b.name}"' not in sources and f"'{b.name}'" not in sources
    ]
    assert unused == [], "marked `test:` but no test names them"


VALID = [b for b in TESTED if b.attrs.get("check") == "valid"]


@pytest.mark.parametrize("block", VALID, ids=[str(b.name) for b in VALID])
def test_action_file_blocks_load_without_errors_or_warnings(block: Block) -> None:
    report = check_actions(block.text)
    assert report.errors == [] and report.warnings == [], block.where
    assert report.actions


def test_the_two_commands_are_unchanged_and_ci_runs_the_second() -> None:
    lines = snippet("two-commands").text.splitlines()
    assert lines == [
        "# 1. install, then run the offline demo (no API key, no network)",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[agent]' && .venv/bin/apiactions demo",
        "",
        "# 2. install, then run the whole test suite",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[4] in ci  # the first one's demo: tests/integration_tests/test_demo.py


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_the_readme_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target
