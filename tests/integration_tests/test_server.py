"""Several workers: the graph factory as LangGraph's server loads it, and `langgraph dev`.

The factory (`langchain_apiactions.langgraph_server:make_graph`) is configured by environment
variables; workers share the conversation (SQLite checkpointer) and the once-per-session
records (a real redis-server).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apiserver import ApiServer, Reply
from tests.redisserver import RedisServer

CUSTOMER = "C-5521"
TOKEN = "tok-srv-7d1e9a0b33"

ACTIONS = """
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  method: GET
  url: {url}/customers/{{context.customer_id}}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{Authorization: "Bearer ${{context.user_token}}"}}
  response_fields: [{{name: status, path: order.status}}]
"""

# The langgraph.json of the README's "Production" section.
LANGGRAPH_JSON = {
    "dependencies": ["."],
    "graphs": {"agent": "langchain_apiactions.langgraph_server:make_graph"},
}

# One turn in a fresh process, loading the graph by import path as the server does.
TURN = """
import importlib, json, sys
module, attr = "langchain_apiactions.langgraph_server:make_graph".split(":")
graph = getattr(importlib.import_module(module), attr)()
thread, text, context = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = graph.invoke(
    {"messages": [{"role": "user", "content": text}]},
    {"configurable": {"thread_id": thread}},
    context=context,
)
print(json.dumps({"reply": out["messages"][-1].content, "n": len(out["messages"])}))
"""


@pytest.fixture
def orders(api: ApiServer) -> ApiServer:
    api.route(
        "GET", f"/customers/{CUSTOMER}/orders/12345", Reply(200, {"order": {"status": "Shipped"}})
    )
    return api


def _env(tmp_path: Path, api: ApiServer, redis: RedisServer, **extra: str) -> dict[str, str]:
    path = tmp_path / "actions.yaml"
    path.write_text(ACTIONS.format(url=api.url))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "APIACTIONS_"))}
    return env | {
        "APIACTIONS_FILE": str(path),
        "APIACTIONS_MODEL": "offline",
        "APIACTIONS_SESSION_STORE": redis.url,
        "APIACTIONS_ALLOW_NETWORKS": "127.0.0.0/8",
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        **extra,
    }


def test_factory_workers_share_the_conversation_and_the_store(
    tmp_path: Path, orders: ApiServer, redis_server: RedisServer
) -> None:
    env = _env(
        tmp_path,
        orders,
        redis_server,
        APIACTIONS_CHECKPOINTER=f"sqlite:///{tmp_path / 'conversations.db'}",
    )
    context = json.dumps({"customer_id": CUSTOMER, "user_token": TOKEN})

    def turn(text: str) -> dict[str, object]:
        proc = subprocess.run(
            [sys.executable, "-c", TURN, "t-1", text, context],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    first = turn("Where is my order?")  # worker 1
    assert "order number" in str(first["reply"])
    assert orders.requests == []
    second = turn("#12345")  # worker 2 continues the same conversation
    assert "Shipped" in str(second["reply"])
    assert second["n"] > first["n"]
    req = orders.requests[0]
    assert req.path == f"/customers/{CUSTOMER}/orders/12345"
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in json.dumps([first, second])


def test_factory_settings_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_apiactions.langgraph_server import (
        ServerSettingsError,
        checkpointer_from_url,
        make_graph,
    )

    monkeypatch.delenv("APIACTIONS_FILE", raising=False)
    with pytest.raises(ServerSettingsError, match="APIACTIONS_FILE is not set"):
        make_graph()
    with pytest.raises(ServerSettingsError, match=r"expected sqlite:///file\.db"):
        checkpointer_from_url("mysql://u:pw@h/db")


def test_the_old_import_path_serves_the_same_factory() -> None:
    # `langgraph.json` files written for `langchain_apiactions.server:make_graph` (its
    # name before `langgraph_server`) keep loading the very same factory.
    from langchain_apiactions import langgraph_server, server

    assert server.make_graph is langgraph_server.make_graph
    assert server.checkpointer_from_url is langgraph_server.checkpointer_from_url
    assert server.ServerSettings is langgraph_server.ServerSettings
    assert server.__all__ == langgraph_server.__all__


def _listening_port(pid: int, deadline: float) -> int:
    import psutil

    while time.monotonic() < deadline:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        for p in procs:
            try:
                conns = p.net_connections(kind="tcp")
            except psutil.Error:
                continue
            for c in conns:
                if c.status == psutil.CONN_LISTEN and c.laddr.ip == "127.0.0.1":
                    return int(c.laddr.port)
        time.sleep(0.1)
    msg = "langgraph dev did not listen"
    raise RuntimeError(msg)


def test_langgraph_dev_serves_a_two_turn_conversation(
    tmp_path: Path, orders: ApiServer, redis_server: RedisServer
) -> None:
    from langgraph_sdk import get_sync_client

    (tmp_path / "langgraph.json").write_text(json.dumps(LANGGRAPH_JSON))
    exe = Path(sys.executable).parent / "langgraph"
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(exe),
            "dev",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--no-browser",
            "--no-reload",
            "--config",
            "langgraph.json",
        ],
        cwd=tmp_path,  # it writes .langgraph_api/ here
        env=_env(tmp_path, orders, redis_server),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stack = contextlib.ExitStack()
    try:
        port = _listening_port(proc.pid, time.monotonic() + 60)
        client = get_sync_client(url=f"http://127.0.0.1:{port}")
        stack.callback(client.close)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.assistants.search(graph_id="agent")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        thread = client.threads.create()
        context = {"customer_id": CUSTOMER, "user_token": TOKEN}
        first = client.runs.wait(
            thread["thread_id"],
            "agent",
            input={"messages": [{"role": "user", "content": "Where is my order?"}]},
            context=context,
        )
        assert "order number" in first["messages"][-1]["content"]
        second = client.runs.wait(
            thread["thread_id"],
            "agent",
            input={"messages": [{"role": "user", "content": "#12345"}]},
            context=context,
        )
        assert "Shipped" in second["messages"][-1]["content"]
        req = orders.requests[0]
        assert req.path == f"/customers/{CUSTOMER}/orders/12345"
        assert req.headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in json.dumps([first, second])
        assert (tmp_path / ".langgraph_api").is_dir()
    finally:
        stack.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
