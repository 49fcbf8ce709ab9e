"""The docs site: `mkdocs build --strict` as docs/contributing.md says, and it fails on a
broken link, a missing anchor and an API reference that names nothing."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import langchain_apiactions
from tests.docs_snippets import ROOT, snippet

BUILD = snippet("contributing-docs-build").text


def _site_root(tmp_path: Path) -> Path:
    """A copy of what the build reads (pages copied, so a test may break one)."""
    where = tmp_path / "repo"
    where.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", where / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", where / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "LICENSE", "examples", "notebooks", "langchain_apiactions", ".venv"):
        if (ROOT / name).exists():
            (where / name).symlink_to(ROOT / name)
    return where


def _build(where: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | {"NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        ["bash", "-ec", BUILD], cwd=where, env=env, capture_output=True, text=True, timeout=300
    )


def _options(parser: argparse.ArgumentParser) -> list[str]:
    found = [s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _options(sub)
    return found


def _reference_module(name: str = "cli_reference"):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = _site_root(tmp_path_factory.mktemp("docs"))
    proc = _build(where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return where / "site"


def test_the_site_builds_strict_with_every_page(site: Path) -> None:
    for page in ("action-file", "authentication", "tool", "cli", "api", "security"):
        assert (site / page / "index.html").is_file(), page
    home = (site / "index.html").read_text()
    assert "Two commands" in home and 'href="action-file/"' in home  # README, links to pages


def test_the_cli_reference_has_every_command_and_option_of_the_parser(site: Path) -> None:
    html = (site / "cli" / "index.html").read_text()
    parser = _reference_module().build_parser()
    from langchain_apiactions.cli import _parser

    assert parser.format_help() == _parser().format_help()  # the parser apiactions runs
    for option in _options(parser):
        assert option in html, option
    for command in ("validate", "call", "import openapi", "import curl", "mcp", "eval"):
        assert f"apiactions {command}</code>" in html, command


def test_the_layout_table_has_every_module_of_the_package(site: Path) -> None:
    html = (site / "contributing" / "index.html").read_text()
    names = [name for name, _ in _reference_module("package_layout").modules()]
    assert "langchain_apiactions.toolkit" in names and "langchain_apiactions.cli" in names
    for name in names:
        assert f"<code>{name}</code>" in html, name


def test_the_api_reference_has_everything_exported(site: Path) -> None:
    html = (site / "api" / "index.html").read_text()
    for name in langchain_apiactions.__all__:
        assert f'id="langchain_apiactions.{name}"' in html, (
            f"{name} is exported: add `::: langchain_apiactions.{name}` to docs/api.md"
        )


@pytest.mark.parametrize(
    ("page", "line", "complaint"),
    [
        ("tool.md", "[the options](no-such-page.md)", "no-such-page.md"),
        ("tool.md", "[the options](sending.md#no-such-anchor)", "no-such-anchor"),
        ("api.md", "::: langchain_apiactions.NoSuchThing", "NoSuchThing"),
    ],
    ids=["broken-link", "missing-anchor", "missing-reference"],
)
def test_a_broken_link_or_reference_fails_the_build(
    tmp_path: Path, page: str, line: str, complaint: str
) -> None:
    where = _site_root(tmp_path)
    with (where / "docs" / page).open("a") as f:
        f.write(f"\n{line}\n")
    proc = _build(where)
    assert proc.returncode != 0
    assert complaint in proc.stdout + proc.stderr
