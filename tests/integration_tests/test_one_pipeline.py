"""One pipeline: the tool, `apiactions call` and the MCP server make the same call.

The same arguments go to a loopback API through the LangChain tool, the command line
(`--json`) and a real MCP client (the SDK's, connected in memory to our server): the API
receives the same request three times, and the three artifacts are the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import mcp.types as mt
import pytest
from mcp.shared.memory import create_connected_server_and_client_session

from langchain_apiactions import ApiActionsToolkit
from tests.apiserver import ApiServer, Recorded, Reply
from tests.clirun import run_cli_streams

SECRET = "sk-live-one-pipeline-8f7e6d"

ACTIONS = """
- name: Check_Order
  when_to_use: Use this action when the visitor asks about an order.
  method: GET
  url: "{url}/shops/{{context.shop}}/orders/{{order}}?key=${{ONE_KEY}}"
  inputs: [{{name: order, required: true}}, {{name: lines, type: number}}]
  headers: {{X-Api-Key: "${{ONE_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}, {{name: eta, path: order.eta}}]
"""

CALLS = [
    pytest.param({"order": "A-1", "lines": 2}, id="ok"),
    pytest.param({"order": "missing"}, id="http_status"),
    pytest.param({"lines": "many"}, id="invalid_argument"),
    pytest.param({"order": ".."}, id="invalid_value"),
]


def _reply(rec: Recorded) -> Reply:
    if rec.path.endswith("/missing"):
        return Reply(404, {"message": f"no such order (key {SECRET})"})
    return Reply(200, {"order": {"status": "Shipped", "echo": SECRET}})


@pytest.fixture
def action_file(api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONE_KEY", SECRET)
    for order in ("A-1", "missing"):
        api.route("GET", f"/shops/north/orders/{order}", _reply)
    path = tmp_path / "actions.yaml"
    path.write_text(ACTIONS.format(url=api.url))
    return path


def _same(artifact: Any) -> Any:
    """The artifact as JSON, without the time the call took."""
    art = json.loads(json.dumps(artifact, default=str))
    if art.get("request"):
        art["request"].pop("elapsed_ms")
    return art


def via_tool(path: Path, args: dict[str, Any]) -> tuple[Any, str]:
    with ApiActionsToolkit.from_file(path, allowed_networks=["127.0.0.0/8"]) as toolkit:
        message = toolkit.get_tool("Check_Order").invoke(
            {"type": "tool_call", "id": "c1", "name": "Check_Order", "args": args},
            config={"configurable": {"session_id": "s1", "context": {"shop": "north"}}},
        )
    return _same(message.artifact), str(message.content)


def via_cli(path: Path, args: dict[str, Any]) -> Any:
    argv = ["call", str(path), "Check_Order", "--json", "--allow-network", "127.0.0.0/8"]
    argv += ["--context", "shop=north", "--session", "s1"]
    for name, value in args.items():
        argv += ["--arg", f"{name}={value}"]
    _, out, _ = run_cli_streams(*argv)
    return _same(json.loads(out))


def via_mcp(path: Path, args: dict[str, Any]) -> tuple[Any, str]:
    result: list[mt.CallToolResult] = []

    async def go() -> None:
        with ApiActionsToolkit.from_file(path, allowed_networks=["127.0.0.0/8"]) as toolkit:
            server = toolkit.to_mcp_server(context={"shop": "north"})
            async with create_connected_server_and_client_session(server) as client:
                result.append(await client.call_tool("Check_Order", args))

    anyio.run(go)
    (called,) = result
    text = called.content[0]
    assert isinstance(text, mt.TextContent)
    assert called.isError is not (called.structuredContent or {}).get("ok")
    return _same(called.structuredContent), text.text


@pytest.mark.parametrize("args", CALLS)
def test_the_tool_the_cli_and_mcp_make_the_same_call(
    api: ApiServer, action_file: Path, args: dict[str, Any]
) -> None:
    tool_artifact, tool_text = via_tool(action_file, args)
    cli_artifact = via_cli(action_file, args)
    mcp_artifact, mcp_text = via_mcp(action_file, args)
    assert cli_artifact == tool_artifact
    assert mcp_artifact == tool_artifact
    assert mcp_text == tool_text
    assert SECRET not in json.dumps(tool_artifact) + tool_text
    sent = [(r.method, r.path, r.query, r.headers.get("X-Api-Key")) for r in api.requests]
    if tool_artifact["request"] is None:  # stopped before sending, by all three
        assert sent == []
        assert tool_artifact["error_kind"] == "invalid_argument"
        return
    assert sent == [sent[0]] * 3  # the same request, three times
    method, where, query, key = sent[0]
    assert (method, where, query, key) == (
        "GET",
        f"/shops/north/orders/{args['order']}",
        f"key={SECRET}",
        SECRET,
    )
    assert tool_artifact["request"]["url"] == (
        f"{api.url}/shops/{{context.shop}}/orders/{args['order']}?key=***"
    )
    expected_kind = None if args["order"] == "A-1" else "http_status"
    assert tool_artifact["error_kind"] == expected_kind
