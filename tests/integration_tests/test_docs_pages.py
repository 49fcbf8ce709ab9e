"""Snippets of the docs pages that no other test file runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from langchain_apiactions import OfflineChatModel, evaluate, load_actions
from langchain_apiactions.evaluation import load_cases
from tests.apiserver import Reply
from tests.docs_snippets import snippet
from tests.openai_server import ChatServer, completion


def test_tuning_cases_are_checked_and_chosen_as_expected_offline(tmp_path: Path) -> None:
    """docs/tuning.md's cases.yaml, against the quickstart's actions.yaml."""
    actions = load_actions(snippet("quickstart-actions").text)
    (tmp_path / "cases.yaml").write_text(snippet("tuning-cases").text)
    cases = load_cases(tmp_path / "cases.yaml", actions=actions)
    assert [c.expected for c in cases] == ["Check_Order_Status", "Check_Order_Status", "none"]
    result = evaluate(actions, cases, OfflineChatModel())
    assert result.accuracy == 1.0, result.table()


def _visitor_brain(messages: list[dict[str, Any]], body: dict[str, Any]) -> Reply:
    """A model that does what the system prompt says: ask first, call with the number."""
    users = " ".join(str(m["content"]) for m in messages if m["role"] == "user")
    if "order" not in users.lower():
        return Reply(200, completion(text="Why did the parcel cross the road?"))
    number = re.findall(r"#(\d+)", users)
    if not number:
        return Reply(200, completion(text="Sure - what is your order number?"))
    return Reply(200, completion(call=("Check_Order_Status", {"order_number": number[-1]})))


def test_tuning_commands_run_as_written_against_an_openai_compatible_server(
    tmp_path: Path,
) -> None:
    """docs/tuning.md's three `apiactions eval` lines, with OPENAI_BASE_URL on loopback."""
    actions = snippet("quickstart-actions").text
    (tmp_path / "actions.yaml").write_text(actions)
    (tmp_path / "actions_v2.yaml").write_text(actions.replace("where their order is", "where"))
    (tmp_path / "cases.yaml").write_text(snippet("tuning-cases").text)
    llm = ChatServer(_visitor_brain).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env |= {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": llm.base_url,
            "HOME": str(tmp_path),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
        proc = subprocess.run(
            ["bash", "-ec", snippet("tuning-eval").text],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        llm.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the first and the third line's reports, and the second's A/B comparison
    assert proc.stdout.count("actions.yaml: accuracy 100.0% on 3 cases") == 2, proc.stdout
    assert "0 fixed, 0 broken, 0 still wrong" in proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["accuracy"] == 1.0 and results["compare"]["accuracy"] == 1.0
    assert llm.seen, "the model was asked"


def _examples_in(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(Path(__file__).resolve().parents[2] / "examples", tmp_path / "examples")


def test_tuning_case_keys_load(tmp_path: Path) -> None:
    """docs/tuning.md's case keys: a list of expected actions, tags, splits."""
    store = Path(__file__).resolve().parents[2] / "examples" / "store_actions.yaml"
    (tmp_path / "cases.yaml").write_text(snippet("tuning-case-keys").text)
    cases = load_cases(tmp_path / "cases.yaml", actions=load_actions(store))
    assert cases[0].accepted == ("Check_Order_Status", "Subscribe_Newsletter")
    assert [c.split for c in cases] == ["holdout", "tune"]
    assert cases[1].tags == ("order", "typo")


def test_tuning_offline_cli_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import shlex

    from langchain_apiactions.cli import main

    _examples_in(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(snippet("tuning-offline-cli").text.replace("\\\n", " "))
    assert argv[0] == "apiactions"
    assert main(argv[1:]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model: offline\n") and "\nmodel: offline-semantic\n" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in data["runs"]] == ["offline", "offline-semantic"]
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / ".apiactions-cache" / "runs.jsonl").read_text().count("\n") == 2


def test_tuning_python_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _examples_in(tmp_path)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet("tuning-python").text, "tuning-python", "exec"), {})
    out = capsys.readouterr().out
    assert out.split()[0].endswith("%") and "'cases': 3" in out and out.strip().endswith("offline")
