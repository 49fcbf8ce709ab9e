"""docs/import.md's walk-through, run as written: import, curate, validate, eval."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.docs_snippets import snippet

ROOT = Path(__file__).parents[2]


def _bash(script: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDOCLY_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-ec", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _assert_lines_in(expected: str, text: str) -> None:
    lines = {line.rstrip() for line in text.splitlines()}
    for line in expected.splitlines()[1 if expected.startswith("#") else 0 :]:
        assert line.rstrip() in lines, f"{line!r} not in:\n{text}"


def test_import_walkthrough_runs_as_written(tmp_path: Path) -> None:
    def text(name: str) -> str:
        return snippet(name).text

    assert text("import-museum").startswith("apiactions import openapi museum-api.yaml -o museum")
    shutil.copy(ROOT / "tests/data/openapi/redocly-museum-3.1.yaml", tmp_path / "museum-api.yaml")

    _bash(text("import-museum"), tmp_path)
    museum = tmp_path / "museum.yaml"
    _assert_lines_in(text("import-museum-excerpt"), museum.read_text())
    (tmp_path / "cases.yaml").write_text(text("import-museum-cases"))
    eval_out = _bash(text("import-museum-eval"), tmp_path)
    _assert_lines_in(text("import-museum-eval-output"), eval_out)  # 75%, the misfire

    curated = text("import-museum-curated").splitlines()[1]  # curate as the page says
    before = museum.read_text()
    after = re.sub(r"(?m)^    when_to_use: Get museum hours\..*$", curated, before)
    assert after != before
    museum.write_text(after)
    checked = _bash(text("import-museum-validate"), tmp_path)  # validate, eval 100%, dry run
    _assert_lines_in(text("import-museum-validate-output"), checked)

    _bash(text("import-curl"), tmp_path)
    stripe = (tmp_path / "stripe.yaml").read_text()
    _assert_lines_in(text("import-curl-excerpt"), stripe)
    assert "sk_test_123" not in stripe
