"""`apiactions chat --state sqlite:///file.db` resumes a conversation across restarts."""

from __future__ import annotations

from pathlib import Path

from langchain_apiactions.cli.demo_server import DemoStoreServer
from tests.clirun import apiactions_process

ACTIONS = """
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  method: GET
  url: {url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}]
"""


def _chat(path: Path, text: str, *extra: str) -> str:
    proc = apiactions_process(
        "chat", str(path), "--allow-network", "127.0.0.0/8", *extra,
        stdin=text, env={"STORE_API_KEY": "state-key-1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_chat_state_resumes_the_conversation_after_a_restart(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'chat.db'}"
    with DemoStoreServer("state-key-1") as server:
        path = tmp_path / "actions.yaml"
        path.write_text(ACTIONS.format(url=server.url))
        first = _chat(path, "Where is my order?\n\n", "--state", state)
        assert "could you tell me your order number?" in first
        assert server.requests == []
        # A new process: the answer to the question asked in the first run is understood.
        second = _chat(path, "#12345\n\n", "--state", state)
        assert "Resuming conversation 'cli-chat'" in second
        assert server.requests == [("GET", "/orders/12345")]
        assert "Shipped" in second
        # Without the state, the same answer alone starts from nothing.
        third = _chat(path, "#12345\n\n")
        assert "Resuming" not in third
        assert len(server.requests) == 1
