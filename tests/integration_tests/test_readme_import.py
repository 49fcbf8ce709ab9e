"""The README's "Import" walk-through, run as written: import, curate, validate, eval."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
TITLE = "## Import: from an OpenAPI document or a cURL line"


def _blocks() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(TITLE, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, re.S)


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


def test_readme_import_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = _blocks()
    kinds = [(lang, text.splitlines()[0]) for lang, text in blocks]
    assert kinds[1:] == [
        ("bash", "apiactions import openapi museum-api.yaml -o museum.yaml \\"),
        ("yaml", "# museum.yaml (excerpt)"),
        ("yaml", "# cases.yaml"),
        ("bash", "apiactions eval museum.yaml cases.yaml"),
        ("", "museum.yaml: accuracy 75.0% on 4 cases"),
        ("yaml", "# museum.yaml: getMuseumHours, curated"),
        ("bash", "apiactions validate museum.yaml"),
        ("", "museum.yaml: 3 action(s) OK, 0 warning(s)"),
        ("bash", kinds[9][1]),
        ("yaml", "# stripe.yaml (excerpt)"),
    ]
    text = {i: b for i, (_, b) in enumerate(blocks)}
    shutil.copy(ROOT / "tests/data/openapi/redocly-museum-3.1.yaml", tmp_path / "museum-api.yaml")

    _bash(text[1], tmp_path)  # import
    museum = tmp_path / "museum.yaml"
    _assert_lines_in(text[2], museum.read_text())
    (tmp_path / "cases.yaml").write_text(text[3])
    _assert_lines_in(text[5], _bash(text[4], tmp_path))  # eval: 75%, the misfire

    curated = text[6].splitlines()[1]  # curate as the README says
    before = museum.read_text()
    after = re.sub(r"(?m)^    when_to_use: Get museum hours\..*$", curated, before)
    assert after != before
    museum.write_text(after)
    _assert_lines_in(text[8], _bash(text[7], tmp_path))  # validate, eval 100%, dry run

    _bash(text[9], tmp_path)  # cURL
    stripe = (tmp_path / "stripe.yaml").read_text()
    _assert_lines_in(text[10], stripe)
    assert "sk_test_123" not in stripe
