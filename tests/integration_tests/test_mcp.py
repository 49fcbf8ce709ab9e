"""`apiactions mcp`: a real MCP client from the SDK over stdio and streamable HTTP.

Every test talks to the loopback API server and asserts what it received, what the MCP
client got back (the text a model reads, the structured artifact, `isError`), and that
no secret crossed the wire or reached the server's stderr.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp.types as mt
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from langchain_apiactions import ApiActionsToolkit
from tests.apiserver import ApiServer, Recorded, Reply
from tests.docs_snippets import at_server, snippet

SECRET = "sk-live-mcp-7c1e9a2b44"
EXE = Path(sys.executable).parent / "apiactions"

ACTIONS = """
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  method: GET
  url: "{url}/orders/{{order_number}}?key=${{SHOP_KEY}}"
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{X-API-Key: "${{SHOP_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}, {{name: echo, path: order.echo}}]
- name: Subscribe_Newsletter
  when_to_use: Use this action when the visitor wants the newsletter.
  method: POST
  url: "{url}/subscribe"
  once_per_session: true
  inputs: [{{name: email, required: true, description: The visitor's email}}]
  body: {{email: "{{email}}", session: "{{session_id}}"}}
  headers: {{X-API-Key: "${{SHOP_KEY}}"}}
- name: Update_Address
  when_to_use: Use this action to change the delivery address of an order.
  method: PUT
  url: "{url}/orders/{{order_number}}/address"
  inputs:
    - {{name: order_number, required: true}}
    - {{name: street, required: true}}
  body: {{street: "{{street}}"}}
- name: Cancel_Order
  when_to_use: Use this action when the visitor wants to cancel an order.
  method: DELETE
  url: "{url}/orders/{{order_number}}"
  confirm: true
  inputs: [{{name: order_number, required: true}}]
- name: Create_Ticket
  when_to_use: |
    Use this action to open a support ticket.
      Not for order questions.
  method: POST
  url: "{url}/tickets"
  confirm: true
  inputs: [{{name: summary, required: true}}]
  body: {{summary: "{{summary}}"}}
"""


def _order(rec: Recorded) -> Reply:
    number = rec.path.rsplit("/", 1)[-1]
    return Reply(200, {"order": {"number": number, "status": "Shipped"}})


@pytest.fixture
def shop(api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOP_KEY", SECRET)
    api.route("GET", "/orders/12345", _order)
    api.route("POST", "/subscribe", Reply(201, {"subscribed": True}))
    api.route("PUT", "/orders/12345/address", Reply(200, {"ok": True}))
    api.route("DELETE", "/orders/12345", Reply(204))
    api.route("POST", "/tickets", Reply(201, {"id": "T-1"}))
    path = tmp_path / "actions.yaml"
    path.write_text(ACTIONS.format(url=api.url))
    return path


class Wire:
    """Every JSON-RPC message both ways, as the client sent and received it."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def _record(self, message: SessionMessage | Exception) -> None:
        if isinstance(message, SessionMessage):
            self.messages.append(message.message.model_dump_json(by_alias=True))
        else:
            self.messages.append(repr(message))

    @asynccontextmanager
    async def tap(self, read: Any, write: Any) -> AsyncIterator[tuple[Any, Any]]:
        to_client, client_read = anyio.create_memory_object_stream[Any](100)
        client_write, from_client = anyio.create_memory_object_stream[Any](100)

        async def inbound() -> None:
            async with to_client:
                async for message in read:
                    self._record(message)
                    await to_client.send(message)

        async def outbound() -> None:
            async with from_client:
                async for message in from_client:
                    self._record(message)
                    await write.send(message)

        async with client_read, client_write, anyio.create_task_group() as tg:
            tg.start_soon(inbound)
            tg.start_soon(outbound)
            yield client_read, client_write
            tg.cancel_scope.cancel()

    @property
    def text(self) -> str:
        return "\n".join(self.messages)


def _server_args(path: Path, *extra: str) -> list[str]:
    return ["mcp", str(path), "--allow-network", "127.0.0.0/8", *extra]


@asynccontextmanager
async def stdio_session(
    path: Path,
    wire: Wire,
    errlog: Any,
    *extra: str,
    elicitation: Any = None,
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=str(EXE), args=_server_args(path, *extra), env=dict(os.environ)
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        wire.tap(read, write) as (r, w),
        ClientSession(r, w, elicitation_callback=elicitation) as session,
    ):
        await session.initialize()
        yield session


class _Tee(httpx.AsyncByteStream):
    def __init__(self, inner: Any, wire: Wire) -> None:
        self.inner = inner
        self.wire = wire

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.wire.messages.append(chunk.decode("utf-8", errors="replace"))
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class RawCapture(httpx.AsyncBaseTransport):
    """The raw HTTP bodies both ways (what a proxy between client and server would see)."""

    def __init__(self, wire: Wire) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.wire.messages.append(f"{request.method} {request.url} {body.decode()}")
        response = await self.inner.handle_async_request(request)
        self.wire.messages.append(f"{response.status_code} {dict(response.headers)}")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, self.wire),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def http_session(
    url: str, wire: Wire, elicitation: Any = None
) -> AsyncIterator[ClientSession]:
    client = httpx.AsyncClient(transport=RawCapture(wire), timeout=httpx.Timeout(30, read=300))
    async with (
        client,
        streamable_http_client(url, http_client=client) as (r, w, _),
        ClientSession(r, w, elicitation_callback=elicitation) as session,
    ):
        await session.initialize()
        yield session


class HttpServer:
    def __init__(self, path: Path, tmp_path: Path, *extra: str) -> None:
        self.stderr_path = tmp_path / f"mcp-http-{time.monotonic_ns()}.log"
        self._err = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [str(EXE), *_server_args(path, "--transport", "http", "--port", "0", *extra)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 30
        while True:
            found = re.search(r"MCP server on (http://\S+)", self.stderr)
            if found:
                self.url = found.group(1)
                break
            assert self.proc.poll() is None, self.stderr
            assert time.monotonic() < deadline, self.stderr
            time.sleep(0.05)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self) -> str:
        self.proc.terminate()
        stdout, _ = self.proc.communicate(timeout=10)
        self._err.close()
        return stdout.decode()


@pytest.fixture
def http_server(shop: Path, tmp_path: Path) -> Iterator[HttpServer]:
    server = HttpServer(shop, tmp_path, "--log-level", "debug")
    yield server
    server.stop()


def _in_process(path: Path) -> ApiActionsToolkit:
    return ApiActionsToolkit.from_file(path, allowed_networks=["127.0.0.0/8"])


def _langchain_call(toolkit: ApiActionsToolkit, name: str, args: dict[str, Any]) -> Any:
    tool = toolkit.get_tool(name)
    return tool.invoke(
        {"name": name, "args": args, "id": "c1", "type": "tool_call"},
        config={"configurable": {"session_id": "in-process"}},
    )


def _text(result: mt.CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, mt.TextContent)
    return block.text


def _without_timing(artifact: dict[str, Any]) -> dict[str, Any]:
    request = dict(artifact.get("request") or {})
    request.pop("elapsed_ms", None)
    return {**artifact, "request": request or None}


# ---------------------------------------------------------------------------- stdio


async def test_stdio_lists_the_langchain_tools_with_their_annotations(
    shop: Path, tmp_path: Path
) -> None:
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err) as session:
            listed = (await session.list_tools()).tools
    toolkit = _in_process(shop)
    assert [t.name for t in listed] == [t.name for t in toolkit.get_tools()]
    for mcp_tool, lc_tool in zip(listed, toolkit.get_tools(), strict=True):
        assert mcp_tool.description == lc_tool.description
        # The JSON schema the LangChain tool hands a model, its description tidied.
        expected = {
            **lc_tool.tool_call_schema,
            "description": inspect.cleandoc(lc_tool.description),
        }  # type: ignore[dict-item]
        assert mcp_tool.inputSchema == expected
    hints = {
        t.name: (
            t.annotations.readOnlyHint,
            t.annotations.destructiveHint,
            t.annotations.idempotentHint,
            t.annotations.openWorldHint,
        )
        for t in listed
        if t.annotations is not None
    }
    assert hints == {
        "Check_Order_Status": (True, False, True, True),
        "Subscribe_Newsletter": (False, False, False, True),
        "Update_Address": (False, False, True, True),
        "Cancel_Order": (False, True, True, True),
        "Create_Ticket": (False, True, False, True),
    }
    toolkit.close()


async def test_stdio_call_sends_the_exact_request_and_returns_what_the_model_reads(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err) as session:
            result = await session.call_tool("Check_Order_Status", {"order_number": "12345"})
    sent = api.last
    assert (sent.method, sent.path, sent.query) == ("GET", "/orders/12345", f"key={SECRET}")
    assert sent.headers["X-API-Key"] == SECRET
    assert sent.body == b""
    assert result.isError is False
    toolkit = _in_process(shop)
    expected = _langchain_call(toolkit, "Check_Order_Status", {"order_number": "12345"})
    toolkit.close()
    assert _text(result) == expected.content
    assert _text(result).startswith("[Check_Order_Status] succeeded (HTTP 200).")
    assert '<api_data>{"status": "Shipped", "echo": null}</api_data>' in _text(result)
    assert result.structuredContent is not None
    assert _without_timing(result.structuredContent) == _without_timing(expected.artifact)
    assert result.structuredContent["request"]["url"] == f"{api.url}/orders/12345?key=***"
    assert SECRET not in wire.text


async def test_stdio_failing_api_is_a_tool_error_and_the_server_keeps_serving(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    api.route("GET", "/orders/500", Reply(500, {"message": "database is down"}))
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err) as session:
            failed = await session.call_tool("Check_Order_Status", {"order_number": "500"})
            invalid = await session.call_tool("Check_Order_Status", {})
            unknown = await session.call_tool("No_Such_Action", {})
            ok = await session.call_tool("Check_Order_Status", {"order_number": "12345"})
    assert failed.isError is True
    assert _text(failed).startswith("[Check_Order_Status] failed")
    assert "database is down" in _text(failed)
    assert failed.structuredContent is not None
    assert failed.structuredContent["ok"] is False
    assert failed.structuredContent["status_code"] == 500
    # The arguments are checked by the tool: the model is told which one to fix.
    assert invalid.isError is True
    with _in_process(shop) as toolkit:
        refused = _langchain_call(toolkit, "Check_Order_Status", {})
    assert _text(invalid) == refused.content
    assert "order_number" in _text(invalid)
    assert unknown.isError is True
    assert "Unknown tool 'No_Such_Action'" in _text(unknown)
    assert ok.isError is False
    assert [r.path for r in api.requests] == ["/orders/500", "/orders/12345"]


async def test_stdio_once_per_session_is_the_connection(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err) as session:
            first = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
            again = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
        async with stdio_session(shop, Wire(), err) as other:
            third = await other.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
    assert first.isError is False
    assert again.isError is True
    assert again.structuredContent is not None
    assert again.structuredContent["skipped"] is True
    assert "already ran in this session" in _text(again)
    assert third.isError is False
    posts = [r for r in api.requests if r.path == "/subscribe"]
    assert len(posts) == 2
    # `{session_id}` is the MCP connection's own id, one per connection.
    ids = [p.json["session"] for p in posts]
    assert ids[0] != ids[1]
    assert all(re.fullmatch(r"mcp-[0-9a-f]{32}", i) for i in ids)


async def test_stdio_secrets_absent_from_every_message_and_stderr(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    # A hostile API echoes the key back, in data and in an error.
    api.route(
        "GET",
        "/orders/echo",
        lambda rec: Reply(200, {"order": {"status": "ok", "echo": rec.headers["X-API-Key"]}}),
    )
    api.route(
        "GET",
        "/orders/leak",
        lambda rec: Reply(401, {"message": f"bad key {rec.headers['X-API-Key']}"}),
    )
    wire = Wire()
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        async with stdio_session(shop, wire, err, "--log-level", "debug") as session:
            echo = await session.call_tool("Check_Order_Status", {"order_number": "echo"})
            leak = await session.call_tool("Check_Order_Status", {"order_number": "leak"})
    # The API did receive the key (so the assertions below can fail)...
    assert [r.headers["X-API-Key"] for r in api.requests] == [SECRET, SECRET]
    # ...and it never came back to the client, nor into the server's log.
    assert echo.structuredContent is not None
    assert echo.structuredContent["data"]["echo"] == "***"
    assert "bad key ***" in _text(leak)
    assert len(wire.messages) >= 6
    assert SECRET not in wire.text
    stderr = log.read_text()
    assert "Check_Order_Status GET" in stderr  # debug logging was on
    assert SECRET not in stderr


def test_cli_bad_file_is_a_message_on_stderr_and_nothing_on_stdout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: x\n  method: FETCH\n  url: http://127.0.0.1/\n")
    proc = subprocess.run(
        [str(EXE), "mcp", str(bad)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""  # stdout is the protocol channel
    assert proc.stderr.startswith("error: ")
    assert "bad.yaml" in proc.stderr


# ---------------------------------------------------------------------- streamable HTTP


async def test_http_lists_and_calls_with_the_exact_request(
    http_server: HttpServer, shop: Path, api: ApiServer
) -> None:
    wire = Wire()
    async with http_session(http_server.url, wire) as session:
        listed = (await session.list_tools()).tools
        result = await session.call_tool(
            "Update_Address", {"order_number": "12345", "street": "Elm 1"}
        )
    assert [t.name for t in listed] == [
        "Check_Order_Status",
        "Subscribe_Newsletter",
        "Update_Address",
        "Cancel_Order",
        "Create_Ticket",
    ]
    sent = api.last
    assert (sent.method, sent.path) == ("PUT", "/orders/12345/address")
    assert sent.json == {"street": "Elm 1"}
    assert sent.headers["Content-Type"] == "application/json"
    assert result.isError is False
    assert _text(result).startswith("[Update_Address] succeeded (HTTP 200).")
    assert result.structuredContent is not None
    assert result.structuredContent["data"] == {"ok": True}


async def test_http_once_per_session_is_the_mcp_session(
    http_server: HttpServer, api: ApiServer
) -> None:
    wire = Wire()
    async with http_session(http_server.url, wire) as one:
        first = await one.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
        async with http_session(http_server.url, wire) as two:
            other = await two.call_tool("Subscribe_Newsletter", {"email": "b@example.com"})
            other_again = await two.call_tool("Subscribe_Newsletter", {"email": "b@example.com"})
        again = await one.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
    assert (first.isError, other.isError) == (False, False)
    assert (again.isError, other_again.isError) == (True, True)
    posts = [r for r in api.requests if r.path == "/subscribe"]
    assert [p.json["email"] for p in posts] == ["a@example.com", "b@example.com"]
    sessions = [p.json["session"] for p in posts]
    assert sessions[0] != sessions[1]
    # The session id sent to the API is derived from, never equal to, the Mcp-Session-Id.
    mcp_ids = set(re.findall(r"'mcp-session-id': '([0-9a-f]+)'", wire.text))
    assert len(mcp_ids) == 2
    assert not any(m in s for m in mcp_ids for s in sessions)


async def test_http_stateless_every_call_is_its_own_session(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    server = HttpServer(shop, tmp_path, "--stateless")
    try:
        async with http_session(server.url, Wire()) as session:
            first = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
            second = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
    finally:
        server.stop()
    assert (first.isError, second.isError) == (False, False)
    posts = [r for r in api.requests if r.path == "/subscribe"]
    assert len(posts) == 2
    assert posts[0].json["session"] != posts[1].json["session"]


async def test_http_failing_api_is_a_tool_error_and_secrets_stay_out(
    http_server: HttpServer, api: ApiServer
) -> None:
    api.route(
        "GET",
        "/orders/leak",
        lambda rec: Reply(403, {"message": f"key {rec.headers['X-API-Key']} is revoked"}),
    )
    api.route("GET", "/orders/slow", Reply(200, {"order": {"status": "late"}}, delay=0))
    wire = Wire()
    async with http_session(http_server.url, wire) as session:
        leak = await session.call_tool("Check_Order_Status", {"order_number": "leak"})
        ok = await session.call_tool("Check_Order_Status", {"order_number": "12345"})
    assert api.requests[0].headers["X-API-Key"] == SECRET
    assert leak.isError is True
    assert _text(leak).startswith("[Check_Order_Status] failed")
    assert "key *** is revoked" in _text(leak)
    assert ok.isError is False
    assert SECRET not in wire.text
    stdout = http_server.stop()
    stderr = http_server.stderr
    assert "Check_Order_Status GET" in stderr  # debug logging was on
    assert SECRET not in stderr + stdout


async def test_http_refuses_a_foreign_host_header(http_server: HttpServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            http_server.url,
            headers={
                "Host": "attacker.example:80",
                "Accept": "application/json, text/event-stream",
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert response.status_code == 421


# ------------------------------------------------------------ confirm: elicitation


def _elicitation(answers: list[mt.ElicitResult], asked: list[str]) -> Any:
    async def callback(context: Any, params: mt.ElicitRequestParams) -> mt.ElicitResult:
        asked.append(params.message)
        return answers.pop(0)

    return callback


async def test_confirm_asks_through_elicitation_and_a_no_sends_nothing(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    asked: list[str] = []
    answers = [
        mt.ElicitResult(action="decline"),
        mt.ElicitResult(action="accept", content={"confirm": False}),
        mt.ElicitResult(action="accept", content={"confirm": True}),
    ]
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(
            shop, wire, err, elicitation=_elicitation(answers, asked)
        ) as session:
            declined = await session.call_tool("Cancel_Order", {"order_number": "12345"})
            unticked = await session.call_tool("Cancel_Order", {"order_number": "12345"})
            accepted = await session.call_tool("Cancel_Order", {"order_number": "12345"})
            invalid = await session.call_tool("Cancel_Order", {})
    assert len(asked) == 3  # invalid arguments are refused before anyone is asked
    assert asked[0].startswith("Allow the action 'Cancel_Order'?")
    assert '{"order_number": "12345"}' in asked[0]
    for refused in (declined, unticked):
        assert refused.isError is True
        assert "the user did not confirm it, so nothing was sent" in _text(refused)
        assert refused.structuredContent is not None
        assert refused.structuredContent["ok"] is False
        assert refused.structuredContent["status_code"] is None
    assert accepted.isError is False
    assert invalid.isError is True
    assert [(r.method, r.path) for r in api.requests] == [("DELETE", "/orders/12345")]


async def test_confirm_without_elicitation_support_relies_on_the_annotation(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, Wire(), err) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            result = await session.call_tool("Create_Ticket", {"summary": "Broken lid"})
    annotations = tools["Create_Ticket"].annotations
    assert annotations is not None
    assert annotations.destructiveHint is True
    assert result.isError is False
    assert api.last.json == {"summary": "Broken lid"}


async def test_confirm_over_http_uses_elicitation_too(
    http_server: HttpServer, api: ApiServer
) -> None:
    asked: list[str] = []
    answers = [mt.ElicitResult(action="cancel")]
    async with http_session(http_server.url, Wire(), _elicitation(answers, asked)) as session:
        result = await session.call_tool("Create_Ticket", {"summary": "Broken lid"})
    assert len(asked) == 1
    assert result.isError is True
    assert not [r for r in api.requests if r.path == "/tickets"]


# ------------------------------------------------------------ trusted context


CONTEXT_ACTIONS = """
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is.
  method: GET
  url: "{url}/tenants/{{context.tenant}}/orders/{{order_number}}"
  inputs: [{{name: order_number, required: true}}]
  headers: {{X-Customer-Token: "${{context.customer_token}}"}}
"""


async def test_cli_context_values_reach_the_api_never_the_client(
    api: ApiServer, tmp_path: Path
) -> None:
    token = "ctx-token-5f0c2d9e"
    api.route(
        "GET",
        "/tenants/acme/orders/7",
        lambda rec: Reply(200, {"echo": rec.headers["X-Customer-Token"]}),
    )
    path = tmp_path / "context.yaml"
    path.write_text(CONTEXT_ACTIONS.format(url=api.url))
    wire = Wire()
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        async with stdio_session(
            path,
            wire,
            err,
            "--context",
            "tenant=acme",
            "--context",
            f"customer_token={token}",
            "--log-level",
            "debug",
        ) as session:
            schema = (await session.list_tools()).tools[0].inputSchema
            result = await session.call_tool("Check_Order_Status", {"order_number": "7"})
    assert list(schema["properties"]) == ["order_number"]  # the model never sees context
    assert (api.last.path, api.last.headers["X-Customer-Token"]) == (
        "/tenants/acme/orders/7",
        token,
    )
    assert result.isError is False
    assert token not in wire.text
    assert token not in log.read_text()


# ------------------------------------------------- langchain-mcp-adapters round trip


async def test_langchain_mcp_adapters_round_trip_into_create_agent(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    from langchain.agents import create_agent
    from langchain_core.messages import ToolMessage
    from langchain_core.utils.function_calling import convert_to_openai_tool
    from langchain_mcp_adapters.tools import load_mcp_tools

    from langchain_apiactions import OfflineChatModel

    question = {"messages": [{"role": "user", "content": "Where is my order #12345?"}]}
    toolkit = _in_process(shop)
    local = await create_agent(OfflineChatModel(), toolkit.get_tools()).ainvoke(question)
    toolkit.close()
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err) as session:
            tools = await load_mcp_tools(session)
            # The model is shown exactly the same tools either way.
            assert [convert_to_openai_tool(t) for t in tools] == [
                convert_to_openai_tool(t) for t in toolkit.get_tools()
            ]
            remote = await create_agent(OfflineChatModel(), tools).ainvoke(question)
    assert [(r.method, r.path) for r in api.requests] == [("GET", "/orders/12345")] * 2
    (local_tool,) = [m for m in local["messages"] if isinstance(m, ToolMessage)]
    (remote_tool,) = [m for m in remote["messages"] if isinstance(m, ToolMessage)]
    assert remote_tool.text == local_tool.content
    assert remote_tool.artifact["structured_content"]["data"] == {"status": "Shipped", "echo": None}
    answer = remote["messages"][-1].content
    assert answer == local["messages"][-1].content
    assert "Shipped" in answer


# ------------------------------------------------------------------ README snippets


def _quickstart_actions(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "actions.yaml"
    path.write_text(at_server(snippet("quickstart-actions").text, f"http://127.0.0.1:{port}"))
    return path


def _path_with_venv() -> str:
    return f"{EXE.parent}{os.pathsep}{os.environ.get('PATH', '')}"


async def test_readme_claude_desktop_config_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_apiactions.cli.demo_server import DemoStoreServer

    block = snippet("mcp-claude-desktop").text
    server = json.loads(block)["mcpServers"]["store"]
    monkeypatch.setenv("PATH", _path_with_venv())
    with DemoStoreServer("demo") as store:
        actions = _quickstart_actions(tmp_path, int(store.url.rsplit(":", 1)[1]))
        args = [
            str(actions) if a == "/absolute/path/to/actions.yaml" else a for a in server["args"]
        ]
        assert args != server["args"]
        params = StdioServerParameters(command=server["command"], args=args, env=server["env"])
        with (tmp_path / "stderr.log").open("w") as err:
            async with (
                stdio_client(params, errlog=err) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                tools = (await session.list_tools()).tools
                result = await session.call_tool("Check_Order_Status", {"order_number": "12345"})
    assert [t.name for t in tools] == ["Check_Order_Status"]
    assert result.isError is False
    assert '<api_data>{"status": "Shipped", "carrier": "UPS"}</api_data>' in _text(result)


def test_readme_langchain_mcp_adapters_round_trip_runs_as_written(
    tmp_path: Path,
) -> None:
    from langchain_apiactions.cli.demo_server import DemoStoreServer

    script = snippet("mcp-agent").text
    expected = snippet("mcp-agent-output").text
    (tmp_path / "mcp_agent.py").write_text(script)
    env = dict(os.environ) | {"STORE_API_KEY": "demo", "PATH": _path_with_venv()}
    with DemoStoreServer("demo") as store:
        _quickstart_actions(tmp_path, int(store.url.rsplit(":", 1)[1]))
        proc = subprocess.run(
            [sys.executable, "mcp_agent.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected


# ------------------------------------------------------------------ embedding


async def test_to_mcp_server_runs_on_your_own_transport(shop: Path, api: ApiServer) -> None:
    from mcp.shared.memory import create_connected_server_and_client_session

    with _in_process(shop) as toolkit:
        server = toolkit.to_mcp_server(name="shop")
        assert server.name == "shop"
        async with create_connected_server_and_client_session(server) as session:
            first = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
            again = await session.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
    assert (first.isError, again.isError) == (False, True)
    assert api.last.json["email"] == "a@example.com"
    assert len(api.requests) == 1


def test_the_package_does_not_import_mcp_until_asked() -> None:
    code = (
        "import sys, langchain_apiactions as la\n"
        "tk = la.ApiActionsToolkit(actions=[{'name': 'x', 'method': 'GET', "
        "'url': 'https://example.com/'}])\n"
        "tk.get_tools()\n"
        "assert 'mcp' not in sys.modules, 'mcp imported'\n"
        "tk.to_mcp_server()\n"
        "assert 'mcp' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


async def test_cli_session_store_records_the_mcp_session(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    from langchain_apiactions import SqliteSessionStore

    db = tmp_path / "sessions.db"
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, Wire(), err, "--session-store", f"sqlite:///{db}") as s:
            first = await s.call_tool("Subscribe_Newsletter", {"email": "a@example.com"})
    assert first.isError is False
    session_id = api.last.json["session"]
    store = SqliteSessionStore(str(db))
    try:
        assert store.has_run(session_id, "Subscribe_Newsletter")
        assert not store.has_run("mcp-other", "Subscribe_Newsletter")
    finally:
        store.close()


# ---------------------------------------------------------------------------- --select K


async def test_select_serves_find_actions_and_call_action_with_the_same_results(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    wire = Wire()
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(shop, wire, err, "--select", "2") as session:
            listed = (await session.list_tools()).tools
            found = await session.call_tool("find_actions", {"query": "where is my order?"})
            called = await session.call_tool(
                "call_action",
                {"name": "Check_Order_Status", "arguments": {"order_number": "12345"}},
            )
            first = await session.call_tool(
                "call_action",
                {"name": "Subscribe_Newsletter", "arguments": {"email": "a@example.com"}},
            )
            again = await session.call_tool(
                "call_action",
                {"name": "Subscribe_Newsletter", "arguments": {"email": "a@example.com"}},
            )
            invalid = await session.call_tool(
                "call_action", {"name": "Check_Order_Status", "arguments": {}}
            )
            unknown = await session.call_tool("call_action", {"name": "Nope", "arguments": {}})
    assert [t.name for t in listed] == ["find_actions", "call_action"]
    assert found.isError is False
    assert found.structuredContent is not None
    entries = found.structuredContent["actions"]
    assert len(entries) == 2
    assert entries[0]["name"] == "Check_Order_Status"
    with _in_process(shop) as toolkit:
        tool = toolkit.get_tool("Check_Order_Status")
        assert entries[0]["description"] == tool.description
        assert entries[0]["input_schema"] == {
            **tool.tool_call_schema,  # type: ignore[dict-item]
            "description": inspect.cleandoc(tool.description),
        }
        expected = _langchain_call(toolkit, "Check_Order_Status", {"order_number": "12345"})
        refused = _langchain_call(toolkit, "Check_Order_Status", {})
    # The call is the per-action tool's call: the same text, artifact and error flag.
    assert called.isError is False
    assert _text(called) == expected.content
    assert called.structuredContent is not None
    assert _without_timing(called.structuredContent) == _without_timing(expected.artifact)
    assert (api.requests[0].method, api.requests[0].path) == ("GET", "/orders/12345")
    assert first.isError is False
    assert again.isError is True
    assert again.structuredContent is not None and again.structuredContent["skipped"] is True
    assert invalid.isError is True and _text(invalid) == refused.content
    assert unknown.isError is True
    assert "Unknown action 'Nope' (call find_actions to find one)" in _text(unknown)
    # Over MCP: one order lookup and one subscription; then the in-process reference call.
    assert [r.path for r in api.requests] == ["/orders/12345", "/subscribe", "/orders/12345"]
    assert SECRET not in wire.text


async def test_select_call_action_asks_for_confirmation_like_the_tool(
    shop: Path, api: ApiServer, tmp_path: Path
) -> None:
    asked: list[str] = []
    answers = [mt.ElicitResult(action="decline")]
    with (tmp_path / "stderr.log").open("w") as err:
        async with stdio_session(
            shop, Wire(), err, "--select", "3", elicitation=_elicitation(answers, asked)
        ) as session:
            declined = await session.call_tool(
                "call_action", {"name": "Cancel_Order", "arguments": {"order_number": "12345"}}
            )
    assert asked and asked[0].startswith("Allow the action 'Cancel_Order'?")
    assert declined.isError is True
    assert "the user did not confirm it, so nothing was sent" in _text(declined)
    assert api.requests == []
