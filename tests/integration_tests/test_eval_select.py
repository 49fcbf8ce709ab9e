"""`apiactions eval --select K`, `--distractors`, `--catalog-sizes`: selection measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from langchain_apiactions import OfflineChatModel
from langchain_apiactions.cli.demo import store_actions_text
from langchain_apiactions.evaluation import evaluate
from langchain_apiactions.evaluation.run import schema_only_tool
from langchain_apiactions.evaluation.selecting import SelectionReport
from tests.clirun import run_cli

TOPICS = ("weather", "cinema", "flights", "parking", "library", "museum", "trains", "taxes")
CASES = [
    {"utterance": "Where is my order #12345?", "expect": "Check_Order_Status",
     "args": {"order_number": "12345"}},
    {"utterance": "Do you sell socks?", "expect": "Search_Products"},
    {"utterance": "What is the weather?", "expect": "none"},
    {"turns": ["Where is my order?", "It is #999"], "expect": "Check_Order_Status"},
]  # fmt: skip


def distractors(n: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{TOPICS[i % len(TOPICS)].title()}_Desk_{i}",
            "when_to_use": f"Use when the visitor asks about {TOPICS[i % len(TOPICS)]} "
            f"at desk {i}.",
            "method": "GET",
            "url": f"https://desks.example.com/{i}",
        }
        for i in range(n)
    ]


def files(tmp_path: Path, n: int = 120) -> tuple[Path, Path, Path]:
    actions = tmp_path / "store.yaml"
    actions.write_text(store_actions_text())
    cases = tmp_path / "cases.yaml"
    cases.write_text(yaml.safe_dump(CASES))
    more = tmp_path / "distractors.yaml"
    more.write_text(yaml.safe_dump({"actions": distractors(n)}))
    return actions, cases, more


def test_select_binds_k_tools_per_call_and_reports_recall_and_characters(
    tmp_path: Path,
) -> None:
    actions, cases, more = files(tmp_path)
    result = evaluate(
        actions, cases, OfflineChatModel(), select=2, distractors=more, cache_dir=None
    )
    report = result.selection
    assert isinstance(report, SelectionReport)
    own = len(yaml.safe_load(store_actions_text())["actions"])
    assert (report.k, report.catalogue, report.cases) == (2, own + 120, 3)
    assert report.recall == 1.0
    assert result.accuracy == 1.0
    # Every call carried the schemas of two actions, a sliver of the catalogue's.
    assert report.calls == 5  # one per case, the follow-up case twice
    assert report.chars_per_call < report.chars_all / 30
    whole = sum(len(json.dumps(schema_only_tool(a))) for a in _loaded(actions, more))
    assert report.chars_all == whole


def _loaded(actions: Path, more: Path) -> list[Any]:
    from langchain_apiactions import load_actions

    return [*load_actions(actions), *load_actions(more)]


def test_cli_select_with_distractors_prints_the_selection_line(tmp_path: Path) -> None:
    actions, cases, more = files(tmp_path)
    code, out = run_cli(
        "eval", str(actions), str(cases), "--model", "offline", "--select", "3",
        "--distractors", str(more), "--no-history", "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert code == 0, out
    [line] = [x for x in out.splitlines() if x.startswith("selection:")]
    assert line.startswith("selection: top 3 of 125 actions, Recall@3 100.0% (3 cases); ")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["selection"]["k"] == 3 and data["selection"]["catalogue"] == 125


def test_cli_catalog_sizes_reports_each_size(tmp_path: Path) -> None:
    actions, cases, more = files(tmp_path)
    code, out = run_cli(
        "eval", str(actions), str(cases), "--model", "offline", "--select", "2",
        "--distractors", str(more), "--catalog-sizes", "5,50,1000", "--no-history",
    )  # fmt: skip
    assert code == 0, out
    lines = out.splitlines()
    header = lines.index(" actions    Recall@2   accuracy   schema chars/call")
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    # 5 is the store file alone; 1000 has only 120 distractors to add.
    assert [r[0] for r in rows] == ["5", "50", "125"]
    assert all(r[1] == "100.0%" and r[2] == "100.0%" for r in rows)


def test_cli_refuses_sizes_without_distractors(tmp_path: Path) -> None:
    actions, cases, _ = files(tmp_path)
    code, out = run_cli("eval", str(actions), str(cases), "--catalog-sizes", "10,100")
    assert code == 2
    assert "--catalog-sizes needs --distractors FILE2" in out
