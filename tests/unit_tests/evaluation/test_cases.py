"""Eval case keys (tags, multi-intent expect, split), the report's shapes, --explain and
the history, measured with the offline model (no sockets)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from langchain_apiactions import OfflineChatModel
from langchain_apiactions.errors import ActionConfigError
from langchain_apiactions.evaluation import evaluate, load_cases, read_runs, visitor_answer
from tests.clirun import run_cli

ACTIONS = [
    {"name": "Order", "when_to_use": "Use when the visitor asks where their order is.",
     "method": "GET", "url": "https://a.example/o/{n}",
     "inputs": [{"name": "n", "required": True, "description": "The order number"}]},
    {"name": "Refund", "when_to_use": "Use when the visitor wants a refund for an item.",
     "method": "POST", "url": "https://a.example/r", "body": {"x": 1}},
    {"name": "Ticket", "when_to_use": "Use when the visitor reports a broken item.",
     "method": "POST", "url": "https://a.example/t", "body": {"x": 1}},
]  # fmt: skip


def test_tags_multi_intent_and_splits() -> None:
    cases = load_cases([
        {"utterance": "Where is my order #12?", "expect": "Order", "tags": ["typo", "short"],
         "split": "tune"},
        {"utterance": "The item is broken, I want a refund", "expect": ["Refund", "Ticket"],
         "tags": ["multi-intent"], "split": "holdout"},
        {"utterance": "wher is my ordr #3", "expect": "Order", "tags": "typo", "split": "holdout"},
        {"utterance": "hello", "expect": "none"},
    ])  # fmt: skip
    assert cases[1].accepted == ("Refund", "Ticket")
    result = evaluate(ACTIONS, cases, OfflineChatModel(), max_workers=1)
    by = {c.utterance: c for c in result.cases}
    assert by["The item is broken, I want a refund"].correct  # either action is right
    assert not by["wher is my ordr #3"].correct  # the lexical model misses the typos
    assert result.per_tag == {
        "multi-intent": {"accuracy": 1.0, "cases": 1},
        "short": {"accuracy": 1.0, "cases": 1},
        "typo": {"accuracy": 0.5, "cases": 2},
    }
    assert result.per_split == {
        "tune": {"accuracy": 1.0, "cases": 1},
        "holdout": {"accuracy": 0.5, "cases": 2},
    }
    data = result.to_dict()
    assert data["per_tag"]["typo"] == {"accuracy": 0.5, "cases": 2}
    assert data["cases"][1]["accepted"] == ["Refund", "Ticket"]
    text = result.report()
    assert "splits: tune 100.0% (1 cases), holdout 50.0% (2 cases)" in text
    assert re.search(r"\n  typo +50\.0%  \(2 cases\)", text)
    holdout = evaluate(ACTIONS, cases, OfflineChatModel(), split="holdout")
    assert [c.utterance for c in holdout.cases] == [
        "The item is broken, I want a refund", "wher is my ordr #3"]  # fmt: skip
    assert holdout.run.split == "holdout"


def test_bad_case_keys_are_named() -> None:
    with pytest.raises(ActionConfigError) as info:
        load_cases(
            [{"utterance": "x", "expect": ["Order", "Nope"], "split": "holdot", "tags": {"a": 1}}],
            actions=__import__("langchain_apiactions").load_actions(ACTIONS),
        )
    text = str(info.value)
    assert "split: must be tune or holdout (did you mean 'holdout'?)" in text
    assert "tags: must be a list of words" in text
    assert "expect: unknown action 'Nope'" in text


def test_a_holdout_utterance_copied_into_a_description_is_a_warning() -> None:
    copied = [
        dict(ACTIONS[0], when_to_use=ACTIONS[0]["when_to_use"] + " Like: where is my parcel today?")
    ]
    cases = [
        {"utterance": "Where is my parcel today?", "expect": "Order", "split": "holdout"},
        {"utterance": "Where is my parcel today?", "expect": "Order", "split": "tune"},
    ]
    result = evaluate(copied, cases, OfflineChatModel())
    assert result.warnings == [
        "holdout case 'Where is my parcel today?' is copied into Order's description: "
        "it no longer measures how the descriptions generalise"
    ]
    assert "warning: holdout case 'Where is my parcel today?'" in result.report()


def test_explain_shows_the_words_that_matched_and_the_reply() -> None:
    cases = [
        {"utterance": "I won the order of the day #7, what now?", "expect": "none"},
        {"utterance": "Where is my order?", "expect": "Order"},
    ]
    result = evaluate(ACTIONS, cases, OfflineChatModel(), explain=True)
    won, asked = result.cases
    assert won.chosen == "Order"
    assert won.explain is not None
    assert [(e.action, e.words) for e in won.explain] == [
        ("Order", ("order",)), ("Refund", ()), ("Ticket", ())]  # fmt: skip
    assert asked.reply == "Sure - could you tell me the order number?"
    text = result.report(explain=True)
    assert "      Order: 1.386 (order)" in text
    assert "      reply: 'Sure - could you tell me the order number?'" in text
    data = result.to_dict()
    assert data["cases"][0]["explain"][0] == {"action": "Order", "score": 1.386, "words": ["order"]}


def test_many_actions_print_a_compact_confusion_and_the_confused_pairs() -> None:
    actions = [
        {"name": f"A{i}", "when_to_use": f"Use when the visitor says topic{i}.",
         "method": "GET", "url": "https://a.example/x"}
        for i in range(7)
    ]  # fmt: skip
    actions[1]["when_to_use"] += " Also topic0 topic0 questions."
    cases = [
        {"utterance": "topic0 questions", "expect": "A0"},
        {"utterance": "topic0 questions please", "expect": "A0"},
        {"utterance": "topic2", "expect": "A2"},
        {"utterance": "nothing at all", "expect": "A3"},
    ]
    result = evaluate(actions, cases, OfflineChatModel())
    text = result.report()
    assert (
        "confusion (off the diagonal: expected -> chosen)\n  A0 -> A1: 2\n  A3 -> none: 1" in text
    )
    assert "rows: expected, columns: chosen" not in text
    assert result.confused_pairs == [("A0", "A1", 2)]
    assert "actions the model confused:\n  A0 <-> A1: 2" in text


def test_visitor_answers_what_was_asked() -> None:
    from langchain_apiactions.config import ActionInput

    inputs = {
        "order_number": ActionInput(name="order_number", description="The order number"),
        "email": ActionInput(name="email", description="Where we write to"),
    }
    args = {"order_number": "12345", "email": "ana@example.com"}
    assert visitor_answer("What is your order number?", args, inputs) == "12345"
    assert visitor_answer("And your email?", args, inputs) == "ana@example.com"
    assert visitor_answer("Where should we write to you?", args, inputs) == "ana@example.com"
    assert (
        visitor_answer("Could you tell me more?", args, inputs)
        == "order number: 12345; email: ana@example.com"
    )
    assert visitor_answer("Anything?", {}, inputs) is None


def test_history_lists_every_run(tmp_path: Path) -> None:
    actions = tmp_path / "a.json"
    actions.write_text(json.dumps(ACTIONS))
    cases = tmp_path / "c.yaml"
    cases.write_text("- {utterance: 'Where is my order #5?', expect: Order}\n")
    cache = str(tmp_path / "cache")
    for _ in range(2):
        code, out = run_cli(
            "eval", str(actions), str(cases), "--model", "offline", "--cache-dir", cache
        )
        assert code == 0
    run_cli(
        "eval", str(actions), str(cases), "--model", "offline", "--cache-dir", cache, "--no-history"
    )
    runs = read_runs(cache)
    assert len(runs) == 2
    assert runs[0].model == "offline" and runs[0].accuracy == 1.0 and runs[0].f1["Order"] == 1.0
    assert runs[0].sha256["actions"] == {
        str(actions): __import__("hashlib").sha256(actions.read_bytes()).hexdigest()
    }
    code, out = run_cli("eval", "--history", "--cache-dir", cache)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and "100.0%" in lines[0] and "offline" in lines[0]
    code, out = run_cli("eval", "--history", "--cache-dir", str(tmp_path / "none"))
    assert (code, out) == (0, "no runs recorded yet\n")
    code, out = run_cli("eval", str(actions))
    assert code == 2 and "eval needs FILE and CASES (or --history)" in out
