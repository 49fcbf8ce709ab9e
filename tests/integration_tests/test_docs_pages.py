"""Snippets of the docs pages that no other test file runs."""

from __future__ import annotations

from pathlib import Path

from langchain_apiactions import OfflineChatModel, evaluate, load_actions
from langchain_apiactions.evaluation import load_cases
from tests.docs_snippets import snippet


def test_tuning_cases_are_checked_and_chosen_as_expected_offline(tmp_path: Path) -> None:
    """docs/tuning.md's cases.yaml, against the quickstart's actions.yaml."""
    actions = load_actions(snippet("quickstart-actions").text)
    (tmp_path / "cases.yaml").write_text(snippet("tuning-cases").text)
    cases = load_cases(tmp_path / "cases.yaml", actions=actions)
    assert [c.expected for c in cases] == ["Check_Order_Status", "Check_Order_Status", "none"]
    result = evaluate(actions, cases, OfflineChatModel())
    assert result.accuracy == 1.0, result.table()
