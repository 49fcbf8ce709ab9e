"""Snippets of the docs pages that no other test file runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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
