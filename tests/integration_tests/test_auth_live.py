"""Each `auth` kind and form bodies, sent for real to a loopback API that checks them."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.callbacks import BaseCallbackHandler

from langchain_apiactions.cli import main as cli_main
from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import call, make_toolkit

WHEN = "Use this action when the visitor asks about the status of their order."
KEY = "shpat_Zq9/+&= key"  # characters that URL-encoding and base64 change
USER, PASSWORD = "store-user", "p@ss:wörd"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FORMS = {KEY, urllib.parse.quote(KEY, safe=""), urllib.parse.quote_plus(KEY), PASSWORD, BASIC}


def checks(expected: Any) -> Any:
    """A route that answers 200 only when `expected(rec)` holds, and echoes what it got."""

    def handler(rec: Recorded) -> Reply:
        echo = {"headers": rec.headers, "query": rec.query, "body": rec.body.decode()}
        if not expected(rec):
            return Reply(401, {"message": "bad credentials", "echo": echo})
        return Reply(200, {"order": {"status": "Shipped"}, "echo": echo})

    return handler


def action(name: str, url: str, auth: str, fields: bool = True) -> str:
    rf = "  response_fields: [{name: status, path: order.status}, {name: echo}]" if fields else ""
    return f"""
- name: {name}
  when_to_use: {WHEN}
  method: GET
  url: {url}
  auth: {auth}
{rf}
"""


def assert_clean(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text, f"secret form {form!r} leaked in: {text[:300]}"


class Everything(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *a, **k: object.__getattribute__(self, "seen").append(repr((a, k)))
        return object.__getattribute__(self, name)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_KEY", KEY)
    monkeypatch.setenv("API_USER", USER)
    monkeypatch.setenv("API_PASSWORD", PASSWORD)


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            '{type: bearer, token: "${SHOP_KEY}"}',
            lambda rec: rec.headers.get("Authorization") == f"Bearer {KEY}",
        ),
        (
            '{type: basic, username: "${API_USER}", password: "${API_PASSWORD}"}',
            lambda rec: rec.headers.get("Authorization") == f"Basic {BASIC}",
        ),
        (
            '{type: api_key, in: header, name: X-Shopify-Access-Token, value: "${SHOP_KEY}"}',
            lambda rec: rec.headers.get("X-Shopify-Access-Token") == KEY,
        ),
        (
            '{type: api_key, in: query, name: api_key, value: "${SHOP_KEY}"}',
            lambda rec: rec.query_pairs == [("page", "1"), ("api_key", KEY)],
        ),
        (
            '{type: api_key, in: cookie, name: session, value: "${SHOP_KEY}"}',
            lambda rec: rec.headers.get("Cookie") == f"session={KEY}",
        ),
    ],
    ids=["bearer", "basic", "api_key-header", "api_key-query", "api_key-cookie"],
)
def test_each_auth_kind_reaches_the_api_and_is_masked_everywhere(
    api: ApiServer, env: None, auth: str, expected: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api.route("GET", "/orders", checks(expected))
    tool = make_toolkit(action("Lookup", f"{api.url}/orders?page=1", auth)).get_tools()[0]
    handler = Everything()
    caplog.set_level(logging.DEBUG)
    msg = tool.invoke(
        {"name": "Lookup", "args": {}, "id": "c1", "type": "tool_call"},
        config={"callbacks": [handler], "configurable": {"session_id": "s"}},
    )
    art = msg.artifact
    assert art["ok"] is True, art
    assert art["data"]["status"] == "Shipped"
    assert expected(api.last)
    # The careless API echoed the credential back: the model and the artifact see ***.
    assert "***" in json.dumps(art["data"]["echo"])
    assert_clean(
        msg.content, json.dumps(art), "\n".join(handler.seen), caplog.text, repr(tool.runtime)
    )


def test_wrong_credentials_fail_cleanly_with_secret_masked(api: ApiServer, env: None) -> None:
    api.route("GET", "/orders", checks(lambda rec: False))
    tool = make_toolkit(
        action("Lookup", f"{api.url}/orders", '{type: bearer, token: "${SHOP_KEY}"}')
    ).get_tools()[0]
    msg = call(tool, {})
    assert msg.artifact["ok"] is False
    assert msg.artifact["error"] == "HTTP 401 Unauthorized: bad credentials"
    assert_clean(msg.content, json.dumps(msg.artifact))


def test_defaults_auth_applies_to_every_action_and_can_be_switched_off(
    api: ApiServer, env: None
) -> None:
    api.route("*", "*", checks(lambda rec: True))
    tk = make_toolkit(f"""
defaults:
  auth: {{type: api_key, name: X-Api-Key, value: "${{SHOP_KEY}}"}}
actions:
  - {{name: A, when_to_use: {WHEN}, method: GET, url: "{api.url}/a"}}
  - {{name: B, when_to_use: {WHEN}, method: GET, url: "{api.url}/b", auth: null}}
""")
    call(tk.get_tool("A"), {})
    assert api.last.headers["X-Api-Key"] == KEY
    call(tk.get_tool("B"), {})
    assert "X-Api-Key" not in api.last.headers


def test_cli_call_shows_auth_masked(
    api: ApiServer, env: None, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    api.route("GET", "/orders", checks(lambda rec: True))
    path = tmp_path / "actions.yaml"
    path.write_text(
        action(
            "Lookup",
            f"{api.url}/orders?page=1",
            '{type: basic, username: "${API_USER}", password: "${API_PASSWORD}"}',
        )
        + action(
            "Keyed",
            f"{api.url}/orders",
            '{type: api_key, in: query, name: key, value: "${SHOP_KEY}"}',
            fields=False,
        )
    )
    for name in ("Lookup", "Keyed"):
        code = cli_main(["call", str(path), name, "--allow-network", "127.0.0.0/8", "--json"])
        assert code == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "> Authorization: Basic ***" in text
    assert re.search(r"> GET http://127\.0\.0\.1:\d+/orders\?key=\*\*\*", text)
    assert_clean(text)


# --------------------------------------------------------------------------- form bodies


@pytest.fixture(scope="module")
def form_server() -> Iterator[ApiServer]:
    s = ApiServer().start()
    s.route("*", "*", Reply(200, {"ok": True}))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def form_tool(form_server: ApiServer) -> Any:
    tk = make_toolkit(f"""
- name: Pay
  when_to_use: Use this action when the visitor wants to pay for an order.
  method: POST
  url: {form_server.url}/v1/charges
  body_format: form
  inputs: [{{name: a, required: true}}, {{name: tags, array: true}}, {{name: amount, type: number}}]
  body:
    description: "order {{a}}"
    customer: "{{a}}"
    "metadata[tag]": "{{tags}}"
    amount: "{{amount}}"
    currency: usd
""")
    return tk.get_tools()[0]


hostile = st.lists(
    st.one_of(
        st.sampled_from([*"&=+%#?;, \r\n\t\x00{}[]\"'", "%26", "&admin=1", "a=b", "{tags}"]),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=25,
).map("".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=hostile, tags=st.lists(hostile, max_size=3), amount=st.integers(-(10**20), 10**20))
def test_form_body_on_the_wire_has_exactly_the_template_fields(
    form_server: ApiServer, form_tool: Any, a: str, tags: list[str], amount: int
) -> None:
    art = call(form_tool, {"a": a, "tags": tags, "amount": amount}).artifact
    assert art["ok"] is True, art
    rec = form_server.last
    assert rec.headers["Content-Type"] == "application/x-www-form-urlencoded"
    pairs = urllib.parse.parse_qsl(rec.body.decode("ascii"), keep_blank_values=True)
    assert pairs == [
        ("description", f"order {a}"),
        ("customer", a),
        *(("metadata[tag]", t) for t in tags),
        ("amount", str(amount)),
        ("currency", "usd"),
    ]


def test_inspect_view_shows_every_auth_kind_concealed(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_apiactions.cli.inspector_server import RequestInspector

    monkeypatch.setenv("CLIENT_ID", "client-1")
    monkeypatch.setenv("CLIENT_SECRET", KEY)
    out = io.StringIO()
    inspector = RequestInspector(
        respond={"access_token": "at-abcdef123456", "token_type": "Bearer", "status": "ok"},
        out=out,
    ).start()
    oauth = (
        f'{{type: oauth2, token_url: "{inspector.url}/token", client_id: "${{CLIENT_ID}}", '
        'client_secret: "${CLIENT_SECRET}", client_auth: form}'
    )
    try:
        tk = make_toolkit(
            action(
                "Q",
                f"{inspector.url}/q?page=2",
                '{type: api_key, in: query, name: key, value: "${SHOP_KEY}"}',
            )
            + action(
                "B",
                f"{inspector.url}/b",
                '{type: basic, username: "${API_USER}", password: "${API_PASSWORD}"}',
            )
            + action(
                "C",
                f"{inspector.url}/c",
                '{type: api_key, in: cookie, name: sid, value: "${SHOP_KEY}"}',
            )
            + action("O", f"{inspector.url}/o", oauth)
        )
        for name in ("Q", "B", "C", "O"):
            assert call(tk.get_tool(name), {}).artifact["ok"] is True
    finally:
        inspector.stop()
    shown = out.getvalue()
    assert "── GET /q?page=2&key=shpa…(17 chars)" in shown
    assert "query  key = 'shpa…(17 chars)'" in shown
    assert f"header Authorization: Basic {BASIC[:4]}…({len(BASIC)} chars)" in shown
    assert "header Cookie: sid=…(21 chars)" in shown
    assert "client_secret = 'shpa…(17 chars)'" in shown
    assert "header Authorization: Bearer at-a…(15 chars)" in shown
    assert "at-abcdef123456" not in shown
    assert_clean(shown)
    [q, *_] = inspector.requests
    assert q["query"] == [("page", "2"), ("key", KEY)]  # what was received, exactly


def test_basic_auth_from_trusted_context_is_masked_in_its_encoded_form(api: ApiServer) -> None:
    api.route(
        "GET", "/orders", checks(lambda rec: rec.headers.get("Authorization") == f"Basic {BASIC}")
    )
    tk = make_toolkit(
        action(
            "Lookup",
            f"{api.url}/orders",
            '{type: basic, username: "${context.user}", password: "${context.password}"}',
        )
    )
    msg = tk.get_tool("Lookup").invoke(
        {"name": "Lookup", "args": {}, "id": "c", "type": "tool_call"},
        config={"configurable": {"context": {"user": USER, "password": PASSWORD}}},
    )
    assert msg.artifact["ok"] is True, msg.artifact
    assert msg.artifact["data"]["echo"]["headers"]["Authorization"] == "Basic ***"
    assert_clean(msg.content, json.dumps(msg.artifact))
