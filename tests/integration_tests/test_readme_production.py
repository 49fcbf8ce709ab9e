"""docs/production.md: every snippet runs as written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_apiactions.cli.demo_server import DemoStoreServer
from tests.docs_snippets import at_server, snippet
from tests.redisserver import RedisServer


def run(tmp_path: Path, name: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / name).write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, name, *args],
        cwd=tmp_path,
        env=env | {"STORE_API_KEY": "demo"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def store() -> Iterator[DemoStoreServer]:
    with DemoStoreServer("demo") as server:
        yield server


def test_context_snippet(tmp_path: Path, store: DemoStoreServer) -> None:
    yaml_text = at_server(snippet("context-actions").text, store.url)
    (tmp_path / "my_orders.yaml").write_text(yaml_text)
    proc = run(tmp_path, "my_orders.py", snippet("context-agent").text)
    assert proc.returncode == 0, proc.stderr
    assert store.requests == [("GET", "/orders/12345?customer=C-7")]
    assert proc.stdout == snippet("context-agent-output").text


def test_session_store_snippet_sqlite_and_redis(
    tmp_path: Path, store: DemoStoreServer, redis_server: RedisServer
) -> None:
    code = at_server(snippet("session-store-coupon").text, store.url)
    assert '"sqlite:///sessions.db",  # or "redis://127.0.0.1:6379/0"' in code
    outputs = [run(tmp_path, "coupon.py", code) for _ in range(2)]
    assert [p.stdout for p in outputs] == ["True False\n", "False True\n"], outputs[0].stderr
    assert store.requests == [("POST", "/newsletter")]
    redis_code = code.replace("sqlite:///sessions.db", redis_server.url)
    outputs = [run(tmp_path, "coupon_redis.py", redis_code) for _ in range(2)]
    assert [p.stdout for p in outputs] == ["True False\n", "False True\n"], outputs[0].stderr
    assert store.requests == [("POST", "/newsletter")] * 2


def test_langgraph_json_is_what_the_server_test_loads() -> None:
    text = snippet("langgraph-json").text
    config = json.loads(text)
    assert config["graphs"] == {"agent": "langchain_apiactions.langgraph_server:make_graph"}
    from tests.integration_tests.test_server import LANGGRAPH_JSON

    assert config == LANGGRAPH_JSON


def test_resume_snippet(tmp_path: Path, store: DemoStoreServer) -> None:
    actions = at_server(snippet("quickstart-actions").text, store.url)
    (tmp_path / "actions.yaml").write_text(actions)
    code = snippet("checkpointer-resume").text
    first = run(tmp_path, "resume.py", code, "Where is my order?")
    assert first.returncode == 0, first.stderr
    assert "order number" in first.stdout
    assert store.requests == []
    second = run(tmp_path, "resume.py", code, "#12345")
    assert second.returncode == 0, second.stderr
    assert "Shipped" in second.stdout
    assert store.requests == [("GET", "/orders/12345")]
