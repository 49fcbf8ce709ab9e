"""`evaluate` / `apiactions eval` against a real OpenAI-compatible server on loopback.

The server is scripted like a model that follows the agent's system prompt: it asks for
a required input before calling. What it received (system message, tools, the visitor's
answers) is what the tests check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI

from langchain_apiactions import ApiActionsToolkit
from langchain_apiactions.agent import DEFAULT_SYSTEM_PROMPT
from langchain_apiactions.evaluation import evaluate, load_cases
from tests.apiserver import Reply
from tests.clirun import run_cli_streams
from tests.openai_server import ChatServer, completion

ACTIONS = [
    {"name": "Order", "when_to_use": "Use when the visitor asks where their order is.",
     "method": "GET", "url": "https://a.example/o/{n}",
     "inputs": [{"name": "n", "required": True, "description": "The order number"}]},
    {"name": "Ticket", "when_to_use": "Use when the visitor reports a problem.",
     "method": "POST", "url": "https://a.example/t", "body": {"x": 1}},
]  # fmt: skip
CASES = [
    {"utterance": "Where is my order?", "expect": "Order", "args": {"n": "4521"}},
    {"utterance": "My order 77 is late", "expect": "Order", "args": {"n": "77"}},
    {"utterance": "The zip is broken", "expect": "Ticket"},
    {"utterance": "What's the weather?", "expect": "none"},
]
ORDER_QUESTION = "Sure - what is your order number?"


def asks_first(messages: list[dict[str, Any]], body: dict[str, Any]) -> Reply:
    """A model that does what DEFAULT_SYSTEM_PROMPT says: ask for a missing input first."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    first = users[0].lower()
    if "broken" in first:
        return Reply(200, completion(call=("Ticket", {})))
    if "order" in first:
        digits = re.findall(r"\d+", " ".join(users))
        if digits:
            return Reply(200, completion(call=("Order", {"n": digits[-1]})))
        return Reply(200, completion(text=ORDER_QUESTION))
    return Reply(200, completion(text="Sorry, I can only help with orders and problems."))


@pytest.fixture
def llm() -> Iterator[ChatServer]:
    server = ChatServer(asks_first).start()
    yield server
    server.stop()


def chat_model(server: ChatServer) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-test", base_url=server.base_url, api_key="sk-test", max_retries=0)


def auth(headers: dict[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "authorization"), None)


def files(tmp_path: Path, cases: list[dict[str, Any]] = CASES) -> tuple[str, str]:
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps(ACTIONS))
    path = tmp_path / "cases.json"  # JSON is YAML
    path.write_text(json.dumps(cases))
    return str(actions), str(path)


def test_a_model_that_asks_first_scores_right(llm: ChatServer) -> None:
    result = evaluate(ACTIONS, load_cases(CASES), chat_model(llm), max_workers=1)
    assert result.accuracy == 1.0
    assert [(c.chosen, c.turns) for c in result.cases] == [
        ("Order", 2), ("Order", 1), ("Ticket", 1), ("none", 1)]  # fmt: skip
    assert result.cases[0].arguments == {"n": "4521"} and result.argument_accuracy == 1.0
    assert result.per_action["Order"]["turns"] == 1.5
    # Every request opened with the agent's system prompt...
    assert len(llm.seen) == 5
    for seen in llm.seen:
        assert seen.body["messages"][0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    # ...and the visitor answered the question with the case's value, after it.
    asked = next(s.body["messages"] for s in llm.seen if len(s.body["messages"]) == 4)
    assert [(m["role"], m.get("content")) for m in asked[1:]] == [
        ("user", "Where is my order?"), ("assistant", ORDER_QUESTION), ("user", "4521")]  # fmt: skip
    # The tools are the production tools, as ChatOpenAI sends them for the agent.
    with ApiActionsToolkit(actions=ACTIONS) as toolkit:
        production = [convert_to_openai_tool(t) for t in toolkit.get_tools()]
    assert llm.seen[0].body["tools"] == production
    assert result.run.model == f"openai:gpt-test at 127.0.0.1:{llm.server.port}"
    assert result.run.input_tokens == 50 and result.run.output_tokens == 10
    assert result.run.latency_p50_ms is not None and result.run.calls == 5


def test_one_turn_only_is_the_old_bug(llm: ChatServer) -> None:
    # With no room to answer, the question is scored `none`: what the issue measured
    # (78% -> 20%) when the eval never replied.
    result = evaluate(ACTIONS, load_cases(CASES), chat_model(llm), max_turns=1)
    assert result.cases[0].chosen == "none"
    assert result.cases[0].reply == ORDER_QUESTION
    assert result.accuracy == 0.75


def test_a_case_without_args_is_none_when_the_model_asks(llm: ChatServer) -> None:
    cases = load_cases([{"utterance": "Where is my order?", "expect": "Order"}])
    result = evaluate(ACTIONS, cases, chat_model(llm))
    assert (result.cases[0].chosen, result.cases[0].turns) == ("none", 1)
    assert result.cases[0].reply == ORDER_QUESTION


def test_cli_system_prompt_ab_and_model_line(llm: ChatServer, tmp_path: Path) -> None:
    actions, cases = files(tmp_path)
    strict = tmp_path / "strict.txt"
    strict.write_text("STRICT: call no action for problems; hand them to a person.")
    mine = tmp_path / "mine.txt"
    mine.write_text("You are the shop's assistant.")

    def guarded(messages: list[dict[str, Any]], body: dict[str, Any]) -> Reply:
        if messages[0]["content"].startswith("STRICT") and "broken" in messages[-1]["content"]:
            return Reply(200, completion(text="Let me get a person for you."))
        return asks_first(messages, body)

    llm.brain = guarded
    out_json = tmp_path / "r.json"
    code, out, err = run_cli_streams(
        "eval", actions, cases, "--model", "openai:gpt-test", "--base-url", llm.base_url,
        "--system-prompt", str(mine), "--system-prompt-b", str(strict),
        "--json", str(out_json), "--cache-dir", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"model: openai:gpt-test at 127.0.0.1:{llm.server.port}\n")
    assert "0 fixed, 1 broken, 0 still wrong" in out
    assert "'The zip is broken': Ticket -> none (broken)" in out
    prompts = {s.body["messages"][0]["content"] for s in llm.seen}
    assert prompts == {mine.read_text(), strict.read_text()}
    data = json.loads(out_json.read_text())
    assert data["diff"]["broken"] == ["The zip is broken"]
    assert data["compare"]["accuracy"] == 0.75
    import hashlib

    assert data["sha256"]["system_prompt"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert (
        data["compare"]["sha256"]["system_prompt"]
        == hashlib.sha256(strict.read_bytes()).hexdigest()
    )
    # --fail-under judges the candidate (B): 75% fails a 90% gate, A's 100% does not help.
    code, _, err = run_cli_streams(
        "eval", actions, cases, "--model", "openai:gpt-test", "--base-url", llm.base_url,
        "--system-prompt-b", str(strict), "--fail-under", "90%", "--cache-dir", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 1
    assert "accuracy of " in err and "75.0% is under --fail-under 90.0%" in err
    code, _, err = run_cli_streams(
        "eval", actions, cases, "--model", "openai:gpt-test", "--base-url", llm.base_url,
        "--system-prompt-b", str(strict), "--max-broken", "0", "--cache-dir", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 1
    assert "1 case(s) broken, more than --max-broken 0" in err


def test_cache_rerun_sends_nothing(llm: ChatServer, tmp_path: Path) -> None:
    actions, cases = files(tmp_path)
    cache = str(tmp_path / "cache")
    base = ["eval", actions, cases, "--model", "openai:gpt-test", "--base-url", llm.base_url]
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli_streams(*base, "--cache-dir", cache, "--json", str(out_json))
    assert code == 0
    assert len(llm.seen) == 5
    assert "5 calls sent; 0 cached" in out
    code, out, _ = run_cli_streams(*base, "--cache-dir", cache, "--json", str(out_json))
    assert code == 0
    assert len(llm.seen) == 5  # nothing sent
    assert "0 calls sent; 5 cached" in out
    data = json.loads(out_json.read_text())
    assert (data["cached"], data["calls"], data["accuracy"]) == (5, 0, 1.0)
    assert data["usage"] == {"input_tokens": 0, "output_tokens": 0}  # nothing spent
    # A changed description is a different request: only its cases are sent again.
    changed = json.loads(Path(actions).read_text())
    changed[1]["when_to_use"] = "Use when the visitor reports a problem with an item."
    Path(actions).write_text(json.dumps(changed))
    run_cli_streams(*base, "--cache-dir", cache)
    assert len(llm.seen) == 10  # tools are in the key: every case is new
    run_cli_streams(*base, "--cache-dir", cache, "--no-cache")
    assert len(llm.seen) == 15
    code, out, _ = run_cli_streams(*base, "--cache-dir", cache, "--repeat", "2")
    assert len(llm.seen) == 25 and "0 cached" in out  # samples never come from the cache
    code, out, _ = run_cli_streams("eval", "--history", "--cache-dir", cache)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 5
    assert all(f"openai:gpt-test at 127.0.0.1:{llm.server.port}" in line for line in lines)
    assert "100.0%" in lines[0] and "4 cases" in lines[0]
    record = json.loads((tmp_path / "cache" / "runs.jsonl").read_text().splitlines()[0])
    assert set(record) >= {"time", "model", "sha256", "accuracy", "f1"}
    assert record["f1"]["Order"] == 1.0


def test_retries_honour_retry_after_and_errors_do_not_stop_the_run(
    llm: ChatServer, tmp_path: Path
) -> None:
    answers = {"n": 0}

    def flaky(messages: list[dict[str, Any]], body: dict[str, Any]) -> Reply:
        text = messages[-1]["content"]
        if "weather" in text:
            return Reply(500, {"error": {"message": "the model is down"}})
        if "broken" in text:
            answers["n"] += 1
            if answers["n"] == 1:
                return Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
            if answers["n"] == 2:
                return Reply(503, {"error": {"message": "busy"}}, {"Retry-After": "0"})
        return asks_first(messages, body)

    llm.brain = flaky
    actions, cases = files(tmp_path)
    out_json = tmp_path / "r.json"
    code, out, err = run_cli_streams(
        "eval", actions, cases, "--model", "openai:gpt-test", "--base-url", llm.base_url,
        "--json", str(out_json), "--workers", "1", "--no-cache", "--cache-dir", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 2
    assert "1 case(s) ended in an error" in err
    data = json.loads(out_json.read_text())  # written all the same
    weather = next(c for c in data["cases"] if c["utterance"] == "What's the weather?")
    assert weather["chosen"] == "error"
    assert weather["error"].startswith("HTTP 500 after 5 attempts")
    assert data["errors"] == 1 and data["retries"] == 2 + 4
    assert data["accuracy"] == 1.0  # over the 3 cases measured
    broken = [s.at for s in llm.seen if "broken" in s.body["messages"][-1]["content"]]
    assert len(broken) == 3
    assert broken[1] - broken[0] >= 1.0  # Retry-After: 1 was honoured
    assert re.search(
        r"accuracy 100\.0% on 3 cases, .*\(1 more ended in an error, not scored\)", out
    )


def test_keyless_server_and_api_key_env(
    llm: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions, cases = files(tmp_path)
    code, out, err = run_cli_streams("eval", actions, cases, "--model", "openai:gpt-test",
                             "--base-url", llm.base_url, "--no-history", "--no-cache")  # fmt: skip
    assert code == 0, err  # no OPENAI_API_KEY anywhere
    assert {auth(s.headers) for s in llm.seen} == {"Bearer no-key"}
    monkeypatch.setenv("LOOP_KEY", "sk-loop-secret-1234")
    out_json = tmp_path / "r.json"
    code, out, err = run_cli_streams("eval", actions, cases, "--model", "openai:gpt-test",
                             "--base-url", llm.base_url, "--api-key-env", "LOOP_KEY",
                             "--json", str(out_json), "--cache-dir", str(tmp_path / "c"))  # fmt: skip
    assert code == 0
    assert auth(llm.seen[-1].headers) == "Bearer sk-loop-secret-1234"
    assert "sk-loop-secret" not in out + err + out_json.read_text()
    code, _, err = run_cli_streams("eval", actions, cases, "--model", "openai:gpt-test",
                           "--api-key-env", "NOT_SET_ANYWHERE")  # fmt: skip
    assert code == 2
    assert err == "error: --api-key-env NOT_SET_ANYWHERE: the environment variable is not set\n"
    code, _, err = run_cli_streams("eval", actions, cases, "--model", "openai:gpt-test")
    assert code == 2 and "needs an API key" in err


def test_eval_cassette_records_the_models_answers_then_replays_with_no_model_server(
    llm: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from tests.apiserver import ConnectionRecorder

    key = "sk-eval-cassette-4711"
    monkeypatch.setenv("EVAL_KEY", key)
    actions, cases = files(tmp_path)
    cassette = tmp_path / "eval.yaml"

    def run(mode: str, out: str, cases_file: str = cases) -> tuple[int, str, dict[str, Any]]:
        argv = ["eval", actions, cases_file, "--model", "openai:gpt-test", "--base-url"]
        argv += [llm.base_url, "--api-key-env", "EVAL_KEY", "--workers", "2", "--no-history"]
        argv += ["--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / out)]
        argv += ["--cassette", str(cassette), "--record-mode", mode]
        code, stdout, stderr = run_cli_streams(*argv)
        return code, stdout + stderr, json.loads((tmp_path / out).read_text())

    code, live_out, live = run("once", "live.json")
    assert code == 0, live_out
    assert len(llm.seen) == 5 and live["calls"] == 5
    written = cassette.read_text()
    data = yaml.safe_load(written)
    assert len(data["answers"]) == 5
    asked = next(a for a in data["answers"] if len(a["request"]["conversation"]) == 3)
    assert asked["request"]["conversation"] == [
        {"human": "Where is my order?"}, {"ai": ORDER_QUESTION}, {"human": "4521"}]  # fmt: skip
    assert asked["answer"]["tool_calls"][0]["args"] == {"n": "4521"}
    assert key not in written and DEFAULT_SYSTEM_PROMPT not in written

    # No model server any more: a listener on its port counts every connection attempt.
    llm.stop()
    listener = ConnectionRecorder(port=llm.server.port)
    try:
        code, out, replayed = run("none", "replayed.json")
        assert code == 0, out
        assert [(c["chosen"], c["turns"]) for c in replayed["cases"]] == [
            (c["chosen"], c["turns"]) for c in live["cases"]
        ]
        assert replayed["accuracy"] == live["accuracy"] == 1.0
        assert replayed["calls"] == 0 and replayed["cached"] == 5
        # A case the cassette has not heard: its error names the cassette; nothing sent.
        changed = tmp_path / "changed.json"
        changed.write_text(
            json.dumps([*CASES, {"utterance": "Is the shop open?", "expect": "none"}])
        )
        code, out, missed = run("none", "missed.json", str(changed))
    finally:
        listener.close()
    assert listener.accepted == 0
    assert code == 2
    [error] = [c for c in missed["cases"] if c["chosen"] == "error"]
    assert f"no recording of this model request in the cassette {cassette}" in error["error"]
