"""`apiactions eval` metrics on a scripted model, and the request inspector."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_apiactions.cli.inspector_server import RequestInspector
from langchain_apiactions.evaluation import compare_results, evaluate, load_cases
from tests.clirun import run_cli
from tests.evalfiles import store_ab_files

ACTIONS = [
    {"name": "Order", "when_to_use": "Use when the visitor asks where their order is.",
     "method": "GET", "url": "https://a.example/o/{n}", "inputs": [{"name": "n", "required": True}]},
    {"name": "Ticket", "when_to_use": "Use when the visitor reports a problem.",
     "method": "POST", "url": "https://a.example/t", "body": {"x": 1}},
]  # fmt: skip


class KnownAnswers(BaseChatModel):
    """Answers from a fixed table: utterance -> (tool, args) or None; records the tools."""

    answers: dict[str, Any]
    offered: list[Any] = []

    @property
    def _llm_type(self) -> str:
        return "known"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        self.offered.append(tools)
        return self

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        answer = self.answers[str(messages[-1].content)]
        if answer is None:
            msg = AIMessage(content="no tool")
        else:
            name, args = answer
            msg = AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "1"}])
        return ChatResult(generations=[ChatGeneration(message=msg)])


CASES = [
    {"utterance": "where is 1", "expect": "Order", "args": {"n": "1"}},
    {"utterance": "where is 2", "expect": "Order", "args": {"n": "2"}},
    {"utterance": "package late", "expect": "Order"},
    {"utterance": "broken item", "expect": "Ticket"},
    {"utterance": "refund please", "expect": "Ticket"},
    {"utterance": "hello", "expect": "none"},
    {"turns": ["i need help", "my order 7"], "expect": "Order", "args": {"n": "7"}},
]
ANSWERS = {
    "where is 1": ("Order", {"n": "1"}),
    "where is 2": ("Order", {"n": "22"}),  # right action, wrong argument
    "package late": ("Ticket", {}),  # misfire
    "broken item": ("Ticket", {}),
    "refund please": None,  # missed
    "hello": ("Order", {"n": "0"}),  # false alarm
    "i need help": None,
    "my order 7": ("Order", {"n": 7.0}),
}


def test_metrics_on_known_answers() -> None:
    model = KnownAnswers(answers=ANSWERS)
    result = evaluate(ACTIONS, load_cases(CASES), model)
    assert result.accuracy == pytest.approx(4 / 7)
    assert result.confusion == {
        "Order": {"Order": 3, "Ticket": 1, "none": 0},
        "Ticket": {"Order": 0, "Ticket": 1, "none": 1},
        "none": {"Order": 1, "Ticket": 0, "none": 0},
    }
    # Order: tp=3 (1, 2, turns), fp=1 (hello), fn=1 (late)
    # turns: mean model turns of the cases that chose Order (1, 2, hello: 1; turns case: 2)
    assert result.per_action["Order"] == {
        "precision": 0.75,
        "recall": 0.75,
        "f1": 0.75,
        "support": 4,
        "turns": 1.25,
    }
    # Ticket: tp=1, fp=1 (late), fn=1 (refund)
    assert result.per_action["Ticket"] == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "turns": 1.0}  # fmt: skip
    assert result.per_action["none"]["support"] == 1
    assert result.argument_accuracy == pytest.approx(2 / 3)
    assert [(c.utterance, c.chosen) for c in result.misfires] == [
        ("package late", "Ticket"), ("refund please", "none"), ("hello", "Order")]  # fmt: skip
    data = json.loads(result.to_json())
    assert {"accuracy", "per_action", "confusion", "cases"} <= set(data)
    assert data["cases"][6] == {
        "utterance": "i need help / my order 7", "expected": "Order", "chosen": "Order",
        "correct": True, "arguments": {"n": 7.0}, "expected_arguments": {"n": "7"},
        "arguments_ok": True, "stability": 1.0, "samples": ["Order"], "turns": 2}  # fmt: skip
    assert data["cases"][4]["reply"] == "no tool"  # kept for a case scored none or wrong
    assert result.table()[0] == {"action": "Order", **result.per_action["Order"]}
    # the model saw the tools' names, descriptions and schemas, nothing callable
    [tools] = model.offered
    assert [t["function"]["name"] for t in tools] == ["Order", "Ticket"]
    assert tools[0]["function"]["parameters"]["required"] == ["n"]


def test_repeat_measures_stability() -> None:
    flips = iter(["Order", "Ticket", "Order", "Order"])

    class Flaky(KnownAnswers):
        def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
            msg = AIMessage(content="", tool_calls=[{"name": next(flips), "args": {}, "id": "1"}])
            return ChatResult(generations=[ChatGeneration(message=msg)])

    result = evaluate(ACTIONS, load_cases([{"utterance": "x", "expect": "Order"}]), Flaky(answers={}),
                      repeat=4, max_workers=1)  # fmt: skip
    assert result.cases[0].samples == ["Order", "Ticket", "Order", "Order"]
    assert result.cases[0].chosen == "Order"
    assert result.stability == 0.75


def test_compare_shows_the_difference_per_action() -> None:
    a = evaluate(ACTIONS, load_cases(CASES), KnownAnswers(answers=ANSWERS))
    better = dict(ANSWERS, **{"package late": ("Order", {}), "refund please": ("Ticket", {})})
    b = evaluate(ACTIONS, load_cases(CASES), KnownAnswers(answers=better))
    text = compare_results(a, b)
    assert re.search(r"accuracy\s+57\.1%\s+85\.7%\s+\+28\.6%", text)
    assert "'package late': Ticket -> Order (fixed)" in text
    assert "'refund please': none -> Ticket (fixed)" in text


def test_bad_cases_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("- {expect: Order}\n- utterance: hi\n  args: 3\n")
    with pytest.raises(ValueError) as info:
        load_cases(path)
    assert "case 1: needs `utterance`" in str(info.value)
    assert 'case 2 ("hi"): args: must be a mapping' in str(info.value)


def test_eval_cli_with_the_offline_model_and_compare(tmp_path: Path) -> None:
    a, b = store_ab_files(tmp_path)
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {utterance: 'Where is my order #12345?', expect: Check_Order_Status, args: {order_number: '12345'}}\n"
        "- {utterance: 'Do you sell socks?', expect: Search_Products}\n"
        "- {utterance: 'What is the weather?', expect: none}\n"
        "- turns: ['Where is my order?', 'It is #999']\n  expect: Check_Order_Status\n"
    )
    out_json = tmp_path / "r.json"
    code, out = run_cli("eval", str(a), str(cases), "--model", "offline", "--compare", str(b),
                        "--json", str(out_json), "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert code == 0
    assert out.startswith("model: offline\n")
    # The diff comes first; the full reports only with --verbose.
    assert f"A/B: {a} -> {b}\n0 fixed, 1 broken, 0 still wrong\n\nbroken:\n" in out
    assert "'Do you sell socks?': Search_Products -> none (broken)" in out
    assert f"{a}: accuracy" not in out
    code, out = run_cli("eval", str(a), str(cases), "--model", "offline", "--compare", str(b),
                        "--verbose", "--no-history")  # fmt: skip
    assert f"A: {a}: accuracy 100.0% on 4 cases, arguments 100.0%" in out
    assert f"B: {b}: accuracy 75.0% on 4 cases" in out
    data = json.loads(out_json.read_text())
    assert data["accuracy"] == 1.0 and data["compare"]["accuracy"] == 0.75
    assert data["confusion"]["none"]["none"] == 1


def test_the_offline_model_goes_through_the_same_conversation() -> None:
    from langchain_apiactions import OfflineChatModel

    cases = load_cases([
        {"utterance": "Where is my order?", "expect": "Order", "args": {"n": "4521"}},
        {"utterance": "Where is my order?", "expect": "Order"},
    ])  # fmt: skip
    result = evaluate(ACTIONS, cases, OfflineChatModel(), max_workers=1)
    # It asks for the order number; the simulated visitor answers from `args`.
    first, second = result.cases
    assert (first.chosen, first.arguments, first.turns) == ("Order", {"n": "4521"}, 2)
    # Without `args` nobody answers: a question is no choice, as for any model.
    assert (second.chosen, second.turns) == ("none", 1)
    assert second.reply == "Sure - could you tell me the n?"


def test_an_unknown_model_is_an_error_message_and_exit_code(tmp_path: Path) -> None:
    from langchain_apiactions import ModelSpecError
    from langchain_apiactions.cli.demo import load_model

    with pytest.raises(ModelSpecError, match="unknown model 'nope'"):
        load_model("nope")
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {utterance: hi, expect: none}\n")
    actions = tmp_path / "a.json"
    actions.write_text(json.dumps(ACTIONS))
    code, out = run_cli("eval", str(actions), str(cases), "--model", "nope")
    assert code == 2
    assert out == "error: unknown model 'nope': use offline, offline-semantic or openai:<model>\n"


def test_inspector_receives_a_real_request_from_apiactions_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    record = tmp_path / "requests.jsonl"
    inspector = RequestInspector(respond={"status": "Shipped"}, record=record, out=out).start()
    try:
        actions = tmp_path / "a.yaml"
        actions.write_text(f"""
- name: Create_Ticket
  when_to_use: Use when the visitor wants a human to follow up with a support ticket.
  method: POST
  url: {inspector.url}/tickets?source=chat
  inputs: [{{name: subject, required: true}}]
  headers: {{Authorization: "Bearer ${{INSPECT_KEY}}"}}
  body: {{subject: "{{subject}}", tags: [chat]}}
  response_fields: [status]
""")
        monkeypatch.setenv("INSPECT_KEY", "sk-inspect-123456")
        code, printed = run_cli("call", str(actions), "Create_Ticket", "--arg", "subject=Broken zip",
                                "--allow-private-networks")  # fmt: skip
    finally:
        inspector.stop()
    assert code == 0
    assert 'fields: status="Shipped"' in printed
    shown = out.getvalue()
    assert "── POST /tickets?source=chat" in shown
    assert "query  source = 'chat'" in shown
    assert "header Authorization: Bearer sk-i…(17 chars)" in shown  # concealed by default
    assert "sk-inspect-123456" not in shown
    assert '"subject": "Broken zip"' in shown
    [entry] = [json.loads(line) for line in record.read_text().splitlines()]
    assert entry["method"] == "POST" and entry["path"] == "/tickets"
    assert entry["json"] == {"subject": "Broken zip", "tags": ["chat"]}
    assert entry["headers"]["Authorization"] == "Bearer sk-inspect-123456"  # the record is exact


def test_inspect_cli_serves_until_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    from langchain_apiactions.cli import inspector_server as mod

    started = threading.Event()
    real_serve = mod.RequestInspector.serve_forever

    def serve(self: RequestInspector) -> None:
        started.set()
        threading.Thread(target=real_serve, args=(self,), daemon=True).start()
        started.wait()
        r = requests.get(f"{self.url}/ping?x=1", timeout=5)
        assert r.json() == {"pong": 1}
        self._server.shutdown()
        raise KeyboardInterrupt

    monkeypatch.setattr(mod.RequestInspector, "serve_forever", serve)
    code, out = run_cli("inspect", "--port", "0", "--respond", '{"pong": 1}')
    assert code == 0
    assert "── GET /ping?x=1" in out
    assert "1 request(s) received." in out
