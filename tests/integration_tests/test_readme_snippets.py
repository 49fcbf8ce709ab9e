"""Issue 11: the README's agent snippets run as written (with the quickstart's actions.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from langchain_apiactions.cli.demo_server import DemoStoreServer
from tests.apiserver import ApiServer, Reply
from tests.docs_snippets import DOCS_API, ROOT, at_server, snippet


def run_snippet(
    tmp_path: Path, code: str, server: DemoStoreServer, **env: str
) -> subprocess.CompletedProcess[str]:
    # The quickstart's file, as written, with the port the test server got (never DOCS_API).
    actions = snippet("quickstart-actions").text
    assert f"{DOCS_API}/" in actions
    (tmp_path / "actions.yaml").write_text(at_server(actions, server.url))
    (tmp_path / "snippet.py").write_text(code)
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "snippet.py"],
        cwd=tmp_path,
        env=base | {"STORE_API_KEY": "demo"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_each_snippet_says_which_extra_it_needs() -> None:
    assert snippet("quickstart-py").extras == ("none",)
    assert snippet("agent-openai").extras == ("agent", "openai")
    assert snippet("agent-offline").extras == ("agent",)
    text = " ".join((ROOT / "README.md").read_text().split())
    assert "pip install 'langchain-apiactions[agent,openai]'" in text
    assert "pip install 'langchain-apiactions[agent]'" in text
    assert "no extra" in text


def test_readme_offline_agent_snippet_runs_as_written(tmp_path: Path) -> None:
    code = snippet("agent-offline").text
    with DemoStoreServer("demo") as server:
        proc = run_snippet(tmp_path, code, server)
        assert server.requests == [("GET", "/orders/12345")]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == snippet("agent-offline-output").text


def test_readme_openai_agent_snippet_runs_as_written(tmp_path: Path) -> None:
    code = snippet("agent-openai").text
    assert 'allowed_hosts=["127.0.0.1"]' in code
    llm = ApiServer().start()

    def completion(message: dict) -> dict:
        return {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "Check_Order_Status", "arguments": '{"order_number": 12345}'},
            }
        ],
    }
    answer = {"role": "assistant", "content": "Your order has shipped with UPS."}
    llm.route(
        "POST",
        "/v1/chat/completions",
        [Reply(200, completion(call)), Reply(200, completion(answer))],
    )
    try:
        with DemoStoreServer("demo") as server:
            proc = run_snippet(
                tmp_path, code, server, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=f"{llm.url}/v1"
            )
            # A real model sent the order number as a number: it was sent as its text.
            assert server.requests == [("GET", "/orders/12345")]
    finally:
        llm.stop()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Your order has shipped with UPS.\n"
    second = json.loads(llm.requests[1].body)
    tool_result = next(m for m in second["messages"] if m["role"] == "tool")
    assert '<api_data>{"status": "Shipped", "carrier": "UPS"}</api_data>' in tool_result["content"]
