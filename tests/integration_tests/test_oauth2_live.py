"""OAuth2 client credentials against a loopback token server and API that check everything.

The token endpoint checks the grant type, the scope and the client's id and secret
(HTTP Basic or form fields); the API accepts only unexpired, unrevoked tokens it issued.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
import urllib.parse
from typing import Any

import pytest

from tests.apiserver import ApiServer, ConnectionRecorder, Recorded, Reply
from tests.helpers import call, make_toolkit

CLIENT_ID = "shop-client"
CLIENT_SECRET = "cs_Zq9/+&= very secret"  # changed by form-encoding and base64


class OAuthWorld:
    """A token endpoint and an orders API on one loopback server."""

    def __init__(
        self,
        server: ApiServer,
        *,
        expires_in: float | None = 3600,
        client_auth: str = "basic",
        token_delay: float = 0.0,
    ) -> None:
        self.server = server
        self.expires_in = expires_in
        self.client_auth = client_auth
        self.token_delay = token_delay
        self.issued: dict[str, float] = {}  # token -> expiry (monotonic)
        self.token_requests: list[Recorded] = []
        self.api_statuses: list[int] = []
        self.lock = threading.Lock()
        server.route("POST", "/oauth/token", self.token)
        server.route("*", "/orders", self.orders)

    @property
    def url(self) -> str:
        return f"{self.server.url}/oauth/token"

    def _client(self, rec: Recorded) -> tuple[str, str] | None:
        form = dict(urllib.parse.parse_qsl(rec.body.decode()))
        if self.client_auth == "basic":
            header = rec.headers.get("Authorization", "")
            if not header.startswith("Basic ") or "client_secret" in form:
                return None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)
        if "Authorization" in rec.headers:
            return None
        return form.get("client_id", ""), form.get("client_secret", "")

    def token(self, rec: Recorded) -> Reply:
        with self.lock:
            self.token_requests.append(rec)
        time.sleep(self.token_delay)
        form = dict(urllib.parse.parse_qsl(rec.body.decode()))
        if rec.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return Reply(400, {"error": "invalid_request"})
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if self._client(rec) != (CLIENT_ID, CLIENT_SECRET):
            return Reply(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        if form.get("scope", "") not in ("orders.read", "orders.read orders.write"):
            return Reply(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(16)
        with self.lock:
            life = self.expires_in if self.expires_in is not None else 10**6
            self.issued[token] = time.monotonic() + life
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return Reply(200, body)

    def orders(self, rec: Recorded) -> Reply:
        header = rec.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        with self.lock:
            expiry = self.issued.get(token)
            valid = header.startswith("Bearer ") and expiry is not None
            valid = valid and time.monotonic() < expiry  # type: ignore[operator]
            self.api_statuses.append(200 if valid else 401)
        if not valid:
            return Reply(401, {"error": "invalid_token", "message": "token expired or revoked"})
        return Reply(200, {"order": {"status": "Shipped"}, "echo": header})

    def revoke_all(self) -> None:
        with self.lock:
            self.issued.clear()


def actions(
    token_url: str,
    api_url: str,
    *,
    client_auth: str = "basic",
    timeout: float = 10,
    extra: str = "",
) -> str:
    auth = f"""{{type: oauth2_client_credentials, token_url: "{token_url}",
          client_id: "${{CLIENT_ID}}", client_secret: "${{CLIENT_SECRET}}",
          client_auth: {client_auth}"""
    return f"""
defaults:
  timeout: {timeout}
  response_fields: [{{name: status, path: order.status}}, {{name: echo}}]
actions:
  - name: Check_Order
    when_to_use: Use this action when the visitor asks about the status of their order.
    method: GET
    url: {api_url}/orders
    auth: {auth}, scope: orders.read}}
  - name: Update_Order
    when_to_use: Use this action when the visitor wants to change their order somehow.
    method: POST
    url: {api_url}/orders
    body: {{note: "{{note}}"}}
    inputs: [{{name: note}}]
    auth: {auth}, scope: [orders.read]}}
  - name: Admin_Order
    when_to_use: Use this action when the visitor wants the admin view of their order.
    method: GET
    url: {api_url}/orders
    auth: {auth}, scope: orders.read orders.write}}
{extra}
"""


def clean(*texts: str) -> None:
    forms = {
        CLIENT_SECRET,
        urllib.parse.quote_plus(CLIENT_SECRET),
        urllib.parse.quote(CLIENT_SECRET, safe=""),
    }
    for text in texts:
        for form in forms:
            assert form not in text, f"client secret leaked: {text[:300]}"


@pytest.mark.parametrize("client_auth", ["basic", "form"])
def test_one_token_serves_many_calls_and_both_actions_of_a_scope(
    api: ApiServer, creds: None, client_auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    world = OAuthWorld(api, client_auth=client_auth)
    caplog.set_level(logging.DEBUG)
    tk = make_toolkit(actions(world.url, api.url, client_auth=client_auth))
    for i in range(10):
        art = call(tk.get_tool("Check_Order"), {}).artifact
        assert art["ok"] is True and art["data"]["status"] == "Shipped", art
        art = call(tk.get_tool("Update_Order"), {"note": f"n{i}"}).artifact
        assert art["ok"] is True, art
    assert len(world.token_requests) == 1  # 20 calls, same token_url + client_id + scope
    assert world.api_statuses == [200] * 20
    grant = dict(urllib.parse.parse_qsl(world.token_requests[0].body.decode()))
    assert grant["grant_type"] == "client_credentials" and grant["scope"] == "orders.read"
    # Another scope is another token.
    msg = call(tk.get_tool("Admin_Order"), {})
    assert msg.artifact["ok"] is True
    assert len(world.token_requests) == 2
    # The API echoed the bearer token: the model and the artifact never see it.
    assert msg.artifact["data"]["echo"] == "Bearer ***"
    token = api.last.headers["Authorization"].removeprefix("Bearer ")
    for text in (msg.content, json.dumps(msg.artifact), caplog.text):
        assert token not in text
    clean(msg.content, json.dumps(msg.artifact), caplog.text)
    assert tk.runtime.tokens.fetches == 2


def test_refreshed_shortly_before_it_expires(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api, expires_in=2)  # refreshed 1 s before expiry (half its life)
    tool = make_toolkit(actions(world.url, api.url)).get_tool("Check_Order")
    assert call(tool, {}).artifact["ok"] is True
    first = api.last.headers["Authorization"]
    assert call(tool, {}).artifact["ok"] is True
    assert len(world.token_requests) == 1
    time.sleep(1.2)  # still valid on the server (2 s), but inside the refresh margin
    assert call(tool, {}).artifact["ok"] is True
    assert len(world.token_requests) == 2
    assert api.last.headers["Authorization"] != first
    assert world.api_statuses == [200, 200, 200]  # never sent an expired token


def test_refreshed_once_after_a_401_and_the_request_sent_again(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api)
    tool = make_toolkit(actions(world.url, api.url)).get_tool("Update_Order")
    assert call(tool, {"note": "one"}).artifact["ok"] is True
    world.revoke_all()
    before = len(api.requests)
    art = call(tool, {"note": "two"}).artifact
    assert art["ok"] is True, art
    assert len(world.token_requests) == 2
    assert world.api_statuses == [200, 401, 200]
    sent = [r for r in api.requests[before:] if r.path == "/orders"]
    assert [r.json for r in sent] == [{"note": "two"}, {"note": "two"}]  # the POST, twice


def test_a_second_401_is_the_answer_no_loop(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api)
    api.route("*", "/orders", Reply(401, {"error": "invalid_token", "message": "no access"}))
    tool = make_toolkit(actions(world.url, api.url)).get_tool("Check_Order")
    art = call(tool, {}).artifact
    assert art["ok"] is False and art["status_code"] == 401
    assert art["error"] == "HTTP 401 Unauthorized: no access"
    assert len(world.token_requests) == 2
    assert len([r for r in api.requests if r.path == "/orders"]) == 2


def test_fifty_concurrent_first_calls_fetch_one_token(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api, token_delay=0.3)
    tk = make_toolkit(actions(world.url, api.url))
    tools = [tk.get_tool("Check_Order"), tk.get_tool("Update_Order")]
    barrier = threading.Barrier(50)
    results: list[Any] = [None] * 50

    def run(i: int) -> None:
        barrier.wait()
        args = {} if i % 2 == 0 else {"note": str(i)}
        results[i] = call(tools[i % 2], args, session=f"s{i}").artifact

    threads = [threading.Thread(target=run, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r is not None and r["ok"] for r in results), [r and r["error"] for r in results]
    assert len(world.token_requests) == 1
    assert world.api_statuses == [200] * 50
    assert len({r.headers["Authorization"] for r in api.requests if r.path == "/orders"}) == 1


def test_token_endpoint_error_is_its_own_text_with_secrets_masked(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CLIENT_SECRET", CLIENT_SECRET + "-wrong")
    world = OAuthWorld(api)
    # This endpoint repeats the secret it got: it must still come out masked.
    api.route(
        "POST",
        "/bad/token",
        lambda rec: Reply(
            401,
            {
                "error": "invalid_client",
                "error_description": f"bad secret {urllib.parse.parse_qs(rec.body.decode())['client_secret'][0]}",
            },
        ),
    )
    tk = make_toolkit(actions(world.url, api.url))
    msg = call(tk.get_tool("Check_Order"), {})
    art = msg.artifact
    assert art["ok"] is False and art["status_code"] is None
    assert art["error"] == (
        "token request failed: HTTP 401 Unauthorized: invalid_client (Client authentication failed)"
    )
    assert "token request failed" in msg.content
    assert world.api_statuses == []  # the API was never called without a token
    tk2 = make_toolkit(
        actions(f"{api.url}/bad/token", api.url, client_auth="form"),
    )
    art = call(tk2.get_tool("Check_Order"), {}).artifact
    assert art["error"] == (
        "token request failed: HTTP 401 Unauthorized: invalid_client (bad secret ***)"
    )
    assert CLIENT_SECRET not in json.dumps(art)


def test_token_endpoint_on_a_refused_address_is_never_dialled(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api)
    recorder = ConnectionRecorder("127.0.0.2")
    try:
        token_url = f"http://127.0.0.2:{recorder.port}/oauth/token"
        tk = make_toolkit(actions(token_url, api.url), allowed_networks=["127.0.0.1/32"])
        start = time.monotonic()
        art = call(tk.get_tool("Check_Order"), {}).artifact
        assert time.monotonic() - start < 1
        assert art["ok"] is False and art["error_kind"] == "auth_failed"
        assert art["error"].startswith(
            "token request failed: refused address: 127.0.0.2 resolves to 127.0.0.2 (loopback)"
        )
        assert recorder.accepted == 0
        assert world.api_statuses == []
    finally:
        recorder.close()


def test_a_slow_token_endpoint_counts_against_the_call_deadline(
    api: ApiServer, creds: None
) -> None:
    world = OAuthWorld(api, token_delay=3)
    tool = make_toolkit(actions(world.url, api.url, timeout=1)).get_tool("Check_Order")
    start = time.monotonic()
    art = call(tool, {}).artifact
    elapsed = time.monotonic() - start
    assert art["ok"] is False and art["error_kind"] == "not_sent_timeout"
    assert art["error"].startswith("token request failed: timeout")
    assert elapsed < 2
    assert world.api_statuses == []


def test_no_expires_in_means_kept_until_the_api_refuses_it(api: ApiServer, creds: None) -> None:
    world = OAuthWorld(api, expires_in=None)
    tool = make_toolkit(actions(world.url, api.url)).get_tool("Check_Order")
    for _ in range(3):
        assert call(tool, {}).artifact["ok"] is True
    assert len(world.token_requests) == 1


async def test_async_calls_share_the_token(api: ApiServer, creds: None) -> None:
    import asyncio

    world = OAuthWorld(api, token_delay=0.2)
    tool = make_toolkit(actions(world.url, api.url)).get_tool("Check_Order")
    msgs = await asyncio.gather(
        *(
            tool.ainvoke(
                {"name": tool.name, "args": {}, "id": f"c{i}", "type": "tool_call"},
                config={"configurable": {"session_id": f"s{i}"}},
            )
            for i in range(10)
        )
    )
    assert all(m.artifact["ok"] for m in msgs)
    assert len(world.token_requests) == 1


def test_cli_call_shows_the_oauth2_token_masked(
    api: ApiServer, creds: None, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_apiactions.cli import main as cli_main

    world = OAuthWorld(api)
    path = tmp_path / "actions.yaml"
    path.write_text(actions(world.url, api.url))
    code = cli_main(["call", str(path), "Check_Order", "--allow-network", "127.0.0.0/8", "--json"])
    out = capsys.readouterr()
    assert code == 0, out
    shown = out.out + out.err  # with --json, the request view goes to stderr
    assert "> Authorization: Bearer ***" in shown
    token = api.last.headers["Authorization"].removeprefix("Bearer ")
    assert token not in shown
    assert '"echo": "Bearer ***"' in out.out
    clean(out.out, out.err)


def test_elapsed_counts_the_token_request_and_close_forgets_tokens(
    api: ApiServer, creds: None
) -> None:
    world = OAuthWorld(api, token_delay=0.3)
    tk = make_toolkit(actions(world.url, api.url))
    art = call(tk.get_tool("Check_Order"), {}).artifact
    assert art["ok"] is True and art["request"]["elapsed_ms"] >= 300
    assert call(tk.get_tool("Check_Order"), {}).artifact["request"]["elapsed_ms"] < 300
    tk.close()
    assert call(tk.get_tool("Check_Order"), {}).artifact["ok"] is True
    assert len(world.token_requests) == 2
