"""docs/large-catalogues.md: its snippets run as written, with its actions.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_apiactions import load_actions
from tests.docs_snippets import snippet


def run(tmp_path: Path, name: str) -> str:
    (tmp_path / "actions.yaml").write_text(snippet("catalogue-actions").text)
    (tmp_path / "snippet.py").write_text(snippet(name).text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    proc = subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_page_actions_have_examples() -> None:
    actions = load_actions(snippet("catalogue-actions").text)
    assert [len(a.examples) for a in actions] == [2, 1, 0]


@pytest.mark.parametrize(
    ("code", "output"),
    [
        ("catalogue-select", "catalogue-select-output"),
        ("catalogue-agent", "catalogue-agent-output"),
    ],
)
def test_snippet_prints_what_the_page_shows(tmp_path: Path, code: str, output: str) -> None:
    assert run(tmp_path, code) == snippet(output).text
