"""The second offline chooser (`offline-semantic`, by meaning) and scoring both in one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_apiactions.evaluation import evaluate
from langchain_apiactions.semantic_model import SemanticOfflineChatModel
from tests.clirun import run_cli


def actions(order: str, ticket: str) -> list[dict[str, Any]]:
    return [
        {"name": "Order", "when_to_use": order, "method": "GET", "url": "https://a.example/o"},
        {"name": "Ticket", "when_to_use": ticket, "method": "POST", "url": "https://a.example/t",
         "body": {"x": 1}},
    ]  # fmt: skip


A = actions(
    "Use when the visitor asks where their order is or when it will arrive.",
    "Use when the visitor reports a problem with an item.",
)
# Synonyms: clearer in meaning, fewer shared words.
B = actions(
    "Use when the visitor wants the whereabouts of a shipment or its estimated arrival.",
    "Use when the visitor reports a problem with an item, something broken or faulty.",
)
CASES = [
    {"utterance": "My blender won't turn on", "expect": "Ticket"},
    {"utterance": "What happened, the item is broken", "expect": "Ticket"},
    {"utterance": "When will my parcel arrive?", "expect": "Order"},
    {"utterance": "Where is my order?", "expect": "Order"},
    {"utterance": "The delivery is late, what is going on?", "expect": "Order"},
    {"utterance": "What time do you open?", "expect": "none"},
    {"utterance": "I have a complaint about the product quality", "expect": "Ticket"},
]


def test_the_semantic_chooser_matches_by_meaning() -> None:
    result = evaluate(B, CASES, SemanticOfflineChatModel(), explain=True)
    assert result.run.model == "offline-semantic"
    parcel = result.cases[2]
    assert parcel.chosen == "Order"  # "parcel arrive" ~ "whereabouts of a shipment"
    assert parcel.explain is not None and parcel.explain[0].action == "Order"
    assert parcel.explain[0].words == ()  # by meaning: no words to show
    assert result.cases[5].chosen == "none"  # below the threshold: no call


def test_both_offline_choosers_in_one_run_and_a_change_that_helps_only_one(
    tmp_path: Path,
) -> None:
    a, b, cases = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "cases.json"
    a.write_text(json.dumps(A))
    b.write_text(json.dumps(B))
    cases.write_text(json.dumps(CASES))
    out_json = tmp_path / "r.json"
    page = tmp_path / "r.html"
    code, out = run_cli("eval", str(a), str(cases), "--model", "offline,offline-semantic",
                        "--compare", str(b), "--json", str(out_json), "--no-history",
                        "--html", str(page))  # fmt: skip
    assert code == 0, out
    assert out.startswith("model: offline\n")
    assert "\nmodel: offline-semantic\n" in out
    assert "warning: helps only one offline matcher: offline -14.3%, offline-semantic +14.3%" in out
    data = json.loads(out_json.read_text())
    assert [r["model"] for r in data["runs"]] == ["offline", "offline-semantic"]
    assert [r["compare"]["accuracy"] for r in data["runs"]] == [0.4286, 0.7143]
    assert data["verdict"].startswith("helps only one offline matcher")
    html = page.read_text()  # one page, a section per model, each with its A/B
    assert '<h1 id="model1">model: offline</h1>' in html
    assert '<h1 id="model2">model: offline-semantic</h1>' in html
    for table in ("per-action", "per-action-b", "per-action-m2", "per-action-m2-b", "broken-m2"):
        assert f'id="{table}"' in html
