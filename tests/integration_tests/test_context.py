"""Trusted context: `{context.NAME}` / `${context.NAME}` reach the API, never the model."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from langchain_apiactions import ActionConfigError, check_actions, create_api_actions_agent
from langchain_apiactions.errors import MissingContextError
from tests.apiserver import ApiServer, Reply
from tests.clirun import run_cli
from tests.helpers import make_toolkit
from tests.scripted import ScriptedModel, tool_call

CUSTOMER = "C-7731"
TOKEN = "tok-user-9f3a1c77e2b04d5f"

ACTIONS = """
actions:
  - name: My_Orders
    when_to_use: Use when the signed-in customer asks about one of their orders.
    method: POST
    url: "{api}/customers/{{context.customer_id}}/orders/{{order_no}}/lookup?who={{context.customer_id}}"
    headers:
      Authorization: "Bearer ${{context.user_token}}"
      X-Customer: "{{context.customer_id}}"
    inputs:
      - {{name: order_no, type: text, required: true, description: The order number}}
    body: {{customer: "{{context.customer_id}}", order: "{{order_no}}", note: "for {{context.customer_id}}"}}
    response_fields: [status]
"""


class SchemaModel(ScriptedModel):
    """A scripted model that also records the OpenAI tool schemas it was offered."""

    schemas: list[list[dict[str, Any]]]

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        self.schemas.append([convert_to_openai_tool(t) for t in tools])
        return super().bind_tools(tools, **kwargs)


def _model(args: dict[str, Any]) -> SchemaModel:
    call = tool_call("My_Orders", args)
    return SchemaModel(
        script=[call, AIMessage(content="Shipped.")], seen=[], offered=[], schemas=[]
    )


@pytest.fixture
def orders_api(api: ApiServer) -> ApiServer:
    api.route("POST", f"/customers/{CUSTOMER}/orders/A1/lookup", Reply(200, {"status": "Shipped"}))
    return api


def _assert_request(api: ApiServer) -> None:
    assert len(api.requests) == 1
    req = api.requests[0]
    assert req.path == f"/customers/{CUSTOMER}/orders/A1/lookup"
    assert req.query_pairs == [("who", CUSTOMER)]
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["X-Customer"] == CUSTOMER
    assert req.json == {"customer": CUSTOMER, "order": "A1", "note": f"for {CUSTOMER}"}


def _no_trusted_values(*things: Any) -> None:
    text = json.dumps(things, default=repr)
    assert CUSTOMER not in text
    assert TOKEN not in text


def test_direct_call_sends_context_to_the_api_and_not_to_the_model(
    orders_api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    toolkit = make_toolkit(ACTIONS.format(api=orders_api.url))
    tool = toolkit.get_tool("My_Orders")
    caplog.set_level(logging.DEBUG)
    msg = tool.invoke(
        {
            "name": "My_Orders",
            # The model tries to choose the customer: the argument is never used.
            "args": {"order_no": "A1", "customer_id": "C-EVIL", "user_token": "evil"},
            "id": "call_1",
            "type": "tool_call",
        },
        config={
            "configurable": {
                "session_id": "s1",
                "context": {"customer_id": CUSTOMER, "user_token": TOKEN},
            }
        },
    )
    _assert_request(orders_api)
    assert msg.artifact["ok"] is True
    assert msg.artifact["data"] == {"status": "Shipped"}
    assert msg.artifact["request"]["url"] == (
        f"{orders_api.url}/customers/{{context.customer_id}}/orders/A1/lookup"
        "?who={context.customer_id}"
    )
    _no_trusted_values(msg.content, msg.artifact, [r.getMessage() for r in caplog.records])
    assert "C-EVIL" not in json.dumps(orders_api.requests[0].__dict__, default=repr)


def test_agent_run_context_reaches_the_api_and_never_the_model(
    orders_api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    @dataclasses.dataclass
    class UserContext:
        customer_id: str
        user_token: str

    m = _model({"order_no": "A1", "customer_id": "C-EVIL"})
    agent = create_api_actions_agent(
        m,
        ACTIONS.format(api=orders_api.url),
        allowed_networks=["127.0.0.0/8"],
        context_schema=UserContext,
    )
    caplog.set_level(logging.DEBUG)
    events: list[Any] = []
    for chunk in agent.stream(
        {"messages": [{"role": "user", "content": "Where is my order A1?"}]},
        {"configurable": {"thread_id": "t1"}},
        context=UserContext(customer_id=CUSTOMER, user_token=TOKEN),
        stream_mode=["updates", "custom", "messages"],
    ):
        events.append(chunk)
    _assert_request(orders_api)
    state = agent.get_state({"configurable": {"thread_id": "t1"}}).values
    tool_msgs = [x for x in state["messages"] if isinstance(x, ToolMessage)]
    assert tool_msgs[0].artifact["ok"] is True
    assert "Shipped" in str(tool_msgs[0].content)
    # Neither the messages the model read, nor the tool schema it was offered, nor the
    # artifact, the streamed events or the logs carry the trusted values.
    _no_trusted_values(
        [[x.content for x in turn] for turn in m.seen],
        m.schemas,
        [x.artifact for x in tool_msgs],
        events,
        [r.getMessage() for r in caplog.records],
    )
    # The schema the model is offered names only the declared input.
    params = m.schemas[0][0]["function"]["parameters"]["properties"]
    assert set(params) == {"order_no"}


def test_agent_context_as_a_plain_dict_without_a_schema(orders_api: ApiServer) -> None:
    m = _model({"order_no": "A1"})
    agent = create_api_actions_agent(
        m, ACTIONS.format(api=orders_api.url), allowed_networks=["127.0.0.0/8"]
    )
    agent.invoke(
        {"messages": [{"role": "user", "content": "Where is my order A1?"}]},
        {"configurable": {"thread_id": "t1"}},
        context={"customer_id": CUSTOMER, "user_token": TOKEN},
    )
    _assert_request(orders_api)


async def test_async_agent_run_uses_the_run_context(orders_api: ApiServer) -> None:
    m = _model({"order_no": "A1"})
    agent = create_api_actions_agent(
        m, ACTIONS.format(api=orders_api.url), allowed_networks=["127.0.0.0/8"]
    )
    await agent.ainvoke(
        {"messages": [{"role": "user", "content": "Where is my order A1?"}]},
        {"configurable": {"thread_id": "t1"}},
        context={"customer_id": CUSTOMER, "user_token": TOKEN},
    )
    _assert_request(orders_api)


def test_missing_context_sends_nothing_and_names_it(orders_api: ApiServer) -> None:
    toolkit = make_toolkit(ACTIONS.format(api=orders_api.url))
    tool = toolkit.get_tool("My_Orders")
    msg = tool.invoke(
        {
            "name": "My_Orders",
            "args": {"order_no": "A1", "customer_id": CUSTOMER},
            "id": "call_1",
            "type": "tool_call",
        },
        config={"configurable": {"session_id": "s1", "context": {"user_token": TOKEN}}},
    )
    assert orders_api.requests == []
    assert msg.artifact["ok"] is False
    assert msg.artifact["status_code"] is None
    assert "context.customer_id" in msg.artifact["error"]
    assert "context.user_token" not in msg.artifact["error"]
    assert "No data is available" in msg.content
    with pytest.raises(MissingContextError, match=r"context\.customer_id"):
        tool.prepare({"order_no": "A1"})


def test_agent_without_context_sends_nothing(orders_api: ApiServer) -> None:
    m = _model({"order_no": "A1", "customer_id": CUSTOMER})
    agent = create_api_actions_agent(
        m, ACTIONS.format(api=orders_api.url), allowed_networks=["127.0.0.0/8"]
    )
    out = agent.invoke(
        {"messages": [{"role": "user", "content": "Where is my order A1?"}]},
        {"configurable": {"thread_id": "t1"}},
    )
    assert orders_api.requests == []
    tool_msg = next(x for x in out["messages"] if isinstance(x, ToolMessage))
    assert "context.customer_id" in tool_msg.artifact["error"]


def test_context_token_echoed_by_the_api_is_masked(api: ApiServer) -> None:
    api.route("GET", "/me", Reply(200, {"token": TOKEN, "note": f"you sent {TOKEN}"}))
    toolkit = make_toolkit(
        f"""
actions:
  - name: Me
    when_to_use: Use when the signed-in customer asks who they are.
    method: GET
    url: "{api.url}/me?key=${{context.user_token}}"
"""
    )
    msg = toolkit.get_tool("Me").invoke(
        {"name": "Me", "args": {}, "id": "c", "type": "tool_call"},
        config={"configurable": {"context": {"user_token": TOKEN}}},
    )
    assert api.last.query_pairs == [("key", TOKEN)]
    assert msg.artifact["ok"] is True
    _no_trusted_values(msg.content, msg.artifact)
    assert msg.artifact["request"]["url"].endswith("/me?key=***")


def test_context_in_a_button_and_validation(api: ApiServer) -> None:
    text = f"""
actions:
  - name: Portal
    when_to_use: Use when the signed-in customer wants their account portal link.
    method: GET
    url: "{api.url}/portal"
    button: {{label: "Open", url: "https://shop.example/c/{{context.customer_id}}"}}
"""
    api.route("GET", "/portal", Reply(200, {"ok": True}))
    report = check_actions(text)
    assert report.errors == []
    assert report.actions[0].context_names() == ["customer_id"]
    msg = (
        make_toolkit(text)
        .get_tool("Portal")
        .invoke(
            {"name": "Portal", "args": {}, "id": "c", "type": "tool_call"},
            config={"configurable": {"context": {"customer_id": CUSTOMER}}},
        )
    )
    assert msg.artifact["button"] == {"label": "Open", "url": f"https://shop.example/c/{CUSTOMER}"}


@pytest.mark.parametrize(
    ("where", "snippet", "message"),
    [
        ("url", 'url: "https://{context.host}/x"', "host"),
        (
            "body",
            'method: POST\n    url: "https://a.example/x"\n    body: {k: "${context.tok}"}',
            "secret",
        ),
        (
            "button",
            'url: "https://a.example/x"\n    button: {label: "${context.tok}", url: "https://a.example/"}',
            "secret",
        ),
    ],
)
def test_context_refused_where_it_cannot_stand(where: str, snippet: str, message: str) -> None:
    text = "actions:\n  - name: A\n    when_to_use: Use when testing where context may stand.\n"
    if "method" not in snippet:
        text += "    method: GET\n"
    text += "    " + snippet + "\n"
    with pytest.raises(ActionConfigError, match=message):
        make_toolkit(text)


def test_cli_validate_call_and_dry_run_name_the_context(
    orders_api: ApiServer, tmp_path: Any
) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(ACTIONS.format(api=orders_api.url))
    code, text = run_cli("validate", str(path))
    assert code == 0
    assert "context.customer_id, context.user_token" in text

    code, text = run_cli(
        "call",
        str(path),
        "My_Orders",
        "--arg",
        "order_no=A1",
        "--dry-run",
        "--allow-private-networks",
    )
    assert code == 2
    assert "context.customer_id: MISSING" in text
    assert "error: missing trusted context context.customer_id, context.user_token" in text
    assert orders_api.requests == []

    code, text = run_cli(
        "call",
        str(path),
        "My_Orders",
        "--arg",
        "order_no=A1",
        "--allow-private-networks",
        "--context",
        f"customer_id={CUSTOMER}",
        "--context",
        f"user_token={TOKEN}",
    )
    assert code == 0, text
    _assert_request(orders_api)
    assert "context.customer_id: given" in text
    assert 'status="Shipped"' in text
    _no_trusted_values(text)


def test_auth_block_takes_a_context_token(api: ApiServer) -> None:
    api.route("GET", "/me", Reply(200, {"name": "Ada"}))
    toolkit = make_toolkit(
        f"""
actions:
  - name: Me
    when_to_use: Use when the signed-in customer asks who they are.
    method: GET
    url: "{api.url}/me"
    auth: {{type: bearer, token: "${{context.user_token}}"}}
"""
    )
    assert toolkit.actions[0].context_names() == ["user_token"]
    assert toolkit.actions[0].secret_names() == []
    msg = toolkit.get_tool("Me").invoke(
        {"name": "Me", "args": {}, "id": "c", "type": "tool_call"},
        config={"configurable": {"context": {"user_token": TOKEN}}},
    )
    assert api.last.headers["Authorization"] == f"Bearer {TOKEN}"
    assert msg.artifact["ok"] is True
    _no_trusted_values(msg.content, msg.artifact)


def test_oauth2_credentials_cannot_come_from_context() -> None:
    with pytest.raises(ActionConfigError, match="not from the run's context"):
        make_toolkit(
            """
actions:
  - name: Me
    when_to_use: Use when the signed-in customer asks who they are.
    method: GET
    url: "https://api.example/me"
    auth:
      type: oauth2_client_credentials
      token_url: https://auth.example/token
      client_id: "${context.client}"
      client_secret: "${SECRET}"
"""
        )


def test_context_name_must_be_plain() -> None:
    with pytest.raises(ActionConfigError, match="a context name must match"):
        make_toolkit(
            """
actions:
  - name: A
    when_to_use: Use when testing where context may stand.
    method: GET
    url: "https://api.example/x/{context.user.id}"
"""
        )
