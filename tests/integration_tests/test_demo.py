"""`apiactions demo` end to end, as a subprocess, and the README quickstart as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from langchain_apiactions.cli.demo_server import DemoStoreServer
from tests.clirun import apiactions_process
from tests.docs_snippets import DOCS_API, at_server, snippet


def test_demo_runs_offline_and_shows_the_whole_experience() -> None:
    exe = Path(sys.executable).parent / "apiactions"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "STORE_API_KEY")}
    start = time.monotonic()
    proc = subprocess.run([str(exe), "demo"], capture_output=True, text=True, timeout=120, env=env)
    took = time.monotonic() - start
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert took < 30
    assert "Model: OfflineChatModel" in out
    # asks for the missing order number, the visitor gives it, then a GET lookup
    assert "Bot: Sure - could you tell me your order number or tracking number?" in out
    assert re.search(r"→ GET http://127\.0\.0\.1:\d+/orders/12345  ← 200 in [\d.]+ ms", out)
    assert 'fields: status="Shipped", carrier="UPS"' in out
    assert "[button] Track my package -> https://track.example.com/1Z999AA10123456784" in out
    # a POST that creates a ticket with a JSON body
    assert re.search(r"→ POST http://127\.0\.0\.1:\d+/tickets  ← 201", out)
    assert '"requester": {"email": "ana@example.com"}' in out
    # once per session, confirmation, chat closing
    assert "Subscribe_Newsletter already ran in this session" in out
    assert out.count('"email": "ana@example.com", "source": "chatbot"') == 1
    assert out.count("→ POST http://127.0.0.1") == 3
    assert '? Confirm Cancel_Order with {"order_number": "12345"}?' in out
    assert "Thanks for chatting with us - goodbye!" in out
    assert "✖ chat closed" in out
    assert "demo-store-key" not in out + proc.stderr


def test_readme_quickstart_runs_as_written(tmp_path: Path) -> None:
    yaml_block = snippet("quickstart-actions").text
    py_block = snippet("quickstart-py").text
    assert len(yaml_block.strip().splitlines()) + len(py_block.strip().splitlines()) == 10
    (tmp_path / "quickstart.py").write_text(py_block)
    env = dict(os.environ) | {"STORE_API_KEY": "demo"}
    # The README's file as written, with the free port the server got: a test never binds
    # a fixed port (the README's own demo server may be running at DOCS_API).
    assert f"{DOCS_API}/" in yaml_block
    with DemoStoreServer("demo") as server:
        (tmp_path / "actions.yaml").write_text(at_server(yaml_block, server.url))
        proc = subprocess.run(
            [sys.executable, "quickstart.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == snippet("quickstart-output").text


def _action_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "actions.yaml"
    path.write_text(f"""
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  triggered_response: Let me look that up.
  method: GET
  url: {url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}]
""")
    return path


def test_chat_over_your_own_file_with_debug(tmp_path: Path) -> None:
    with DemoStoreServer("chat-key-31") as server:
        path = _action_file(tmp_path, server.url)
        proc = apiactions_process(
            "chat", str(path), "--allow-network", "127.0.0.0/8", "--debug",
            stdin="Where is my order?\n#12345\n\n", env={"STORE_API_KEY": "chat-key-31"},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Bot: Sure - could you tell me your order number?" in out
    assert re.search(r"→ GET http://127\.0\.0\.1:\d+/orders/12345  ← 200", out)
    assert '"status": "Shipped"' in out  # --debug prints the artifact
    assert "chat-key-31" not in out


def test_chat_from_a_pipe_without_triggered_response(tmp_path: Path) -> None:
    """Piped input that just ends closes the prompt's line; no triggered response is no `""`."""
    with DemoStoreServer("pipe-key-77") as server:
        path = tmp_path / "actions.yaml"
        path.write_text(f"""
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  method: GET
  url: {server.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true}}]
  headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}]
""")
        proc = apiactions_process(
            "chat", str(path), "--model", "offline", "--allow-host", "127.0.0.1",
            stdin="Where is my order #12345?\n",  # no empty line: the input just ends
            env={"STORE_API_KEY": "pipe-key-77"},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "⚡ Check_Order_Status fired; the visitor sees at once: nothing" in out
    assert '""' not in out
    assert "Bot: Here is what I found - status: Shipped." in out
    assert out.endswith("\n> \n")


def test_demo_with_an_openai_compatible_server(tmp_path: Path) -> None:
    import json

    from tests.apiserver import ApiServer, Reply

    llm = ApiServer().start()
    reply = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the model"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    llm.route("POST", "/v1/chat/completions", Reply(200, reply))
    exe = Path(sys.executable).parent / "apiactions"
    env = dict(os.environ) | {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{llm.url}/v1"}
    try:
        proc = subprocess.run(
            [str(exe), "demo", "--model", "openai:gpt-test"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        llm.stop()
    assert proc.returncode == 0, proc.stderr
    assert "Model: ChatOpenAI" in proc.stdout
    assert "Bot: Hello from the model" in proc.stdout
    first = json.loads(llm.requests[0].body)
    assert first["model"] == "gpt-test"
    assert {t["function"]["name"] for t in first["tools"]} >= {"Check_Order_Status", "Cancel_Order"}


def test_demo_interactive_reads_the_visitor_and_asks_for_confirmation() -> None:
    proc = apiactions_process(
        "demo",
        "--interactive",
        stdin="Please cancel order #67890\nno\nWhere is my order #67890?\n\n",
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Confirm Cancel_Order with" in out  # the question, answered "no" on stdin
    assert "/orders/67890/cancel" not in out  # declined: nothing was sent
    assert re.search(r"→ GET http://127\.0\.0\.1:\d+/orders/67890  ← 200", out)
    assert 'fields: status="Processing"' in out
    assert "missing: carrier, tracking_number, estimated_delivery" in out
