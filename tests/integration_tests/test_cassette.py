"""Record and replay (cassette=, record_mode=): against a real loopback API."""

from __future__ import annotations

import base64
import urllib.parse
from pathlib import Path

import pytest
import yaml

from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import call, make_toolkit

KEY = "sk-live-4f9a8b7c6d5e"
TOKEN = "user-tok-9q8w7e6r5t"


def _actions(api: ApiServer) -> str:
    return f"""
- name: Find_Order
  when_to_use: Use this action to look up an order by number.
  method: GET
  url: {api.url}/orders/{{order}}?key=${{API_KEY}}
  headers: {{X-User: "${{context.user_token}}", X-Lang: "{{lang}}"}}
  inputs: [{{name: order, required: true}}, {{name: lang, default: en}}]
  response_fields: {{status: status, note: note}}
- name: Cancel_Order
  when_to_use: Use this action to cancel an order.
  method: POST
  url: {api.url}/cancel
  inputs: [{{name: order, required: true}}]
  body: {{order: "{{order}}"}}
  once_per_session: true
  response_fields: {{cancelled: cancelled}}
"""


def _echo(r: Recorded) -> Reply:
    # The API echoes every secret it got, in the body and in a header.
    query = urllib.parse.parse_qs(r.query)
    return Reply(
        200,
        {
            "status": "shipped",
            "note": f"key {query['key'][0]} user {r.headers.get('X-User')}",
            "raw": r.path + "?" + r.query,
        },
        headers={"X-Echo": f"{query['key'][0]}/{r.headers.get('X-User')}"},
    )


def _toolkit(api: ApiServer, cassette: Path, mode: str = "once"):  # type: ignore[no-untyped-def]
    return make_toolkit(_actions(api), env={"API_KEY": KEY}, cassette=cassette, record_mode=mode)


def _find(tk, order: str = "A-17", token: str = TOKEN, **args: str):  # type: ignore[no-untyped-def]
    return tk.get_tool("Find_Order").invoke(
        {"name": "Find_Order", "args": {"order": order, **args}, "id": "c1", "type": "tool_call"},
        config={"configurable": {"session_id": "s1", "context": {"user_token": token}}},
    )


def test_once_records_then_replays_the_same_text_without_a_connection(
    api: ApiServer, tmp_path: Path
) -> None:
    api.route("GET", "/orders/A-17", _echo)
    api.route("POST", "/cancel", Reply(200, {"cancelled": True}))
    path = tmp_path / "cassettes" / "orders.yaml"
    with _toolkit(api, path) as tk:
        live = _find(tk)
        live_cancel = call(tk.get_tool("Cancel_Order"), {"order": "A-17"})
    assert live.artifact["ok"] and len(api.requests) == 2
    text = path.read_text()
    # Readable YAML with placeholders; no form of any secret.
    data = yaml.safe_load(text)
    first = data["interactions"][0]
    assert first["request"]["url"].endswith("/orders/A-17?key=${API_KEY}")
    assert first["response"]["json"]["status"] == "shipped"
    assert "${context.user_token}" in first["response"]["json"]["note"]
    for secret in (KEY, TOKEN):
        for form in (
            secret,
            urllib.parse.quote(secret),
            base64.b64encode(secret.encode()).decode(),
        ):
            assert form not in text

    connections = api.connections
    with _toolkit(api, path) as tk:
        replayed = _find(tk)
        again = call(tk.get_tool("Cancel_Order"), {"order": "A-17"})
        twice = call(tk.get_tool("Cancel_Order"), {"order": "A-17"})
    assert api.connections == connections and len(api.requests) == 2  # nothing sent
    assert replayed.content == live.content and KEY not in replayed.content
    assert TOKEN not in replayed.content and "***" in replayed.content
    assert replayed.artifact["data"] == live.artifact["data"]
    assert again.content == live_cancel.content
    # once_per_session holds on replay exactly as live.
    assert twice.artifact["error_kind"] == "already_ran"


def test_none_with_no_recording_is_ok_false_naming_the_cassette_and_sends_nothing(
    api: ApiServer, tmp_path: Path
) -> None:
    api.route("GET", "/orders/A-17", _echo)
    path = tmp_path / "orders.yaml"
    with _toolkit(api, path, "all") as tk:
        _find(tk)
    sent = len(api.requests)
    with _toolkit(api, path, "none") as tk:
        hit = _find(tk)
        miss = _find(tk, "B-2")
    assert hit.artifact["ok"]
    assert len(api.requests) == sent
    art = miss.artifact
    assert not art["ok"] and art["error_kind"] == "no_recording"
    assert str(path) in art["error"] and "B-2" in art["error"] and KEY not in art["error"]


def test_new_episodes_records_the_rest_and_all_records_again(
    api: ApiServer, tmp_path: Path
) -> None:
    api.route("GET", "/orders/A-17", _echo)
    api.route("GET", "/orders/B-2", _echo)
    path = tmp_path / "orders.yaml"
    with _toolkit(api, path) as tk:
        _find(tk)
    with _toolkit(api, path, "new_episodes") as tk:
        _find(tk)
        assert _find(tk, "B-2").artifact["ok"]
    assert len(api.requests) == 2
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 2
    with _toolkit(api, path, "once") as tk:  # the file exists: replay only
        assert _find(tk, "C-3").artifact["error_kind"] == "no_recording"
    with _toolkit(api, path, "all") as tk:
        _find(tk)
    assert len(api.requests) == 3
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 1


def test_match_headers_take_part_in_matching(api: ApiServer, tmp_path: Path) -> None:
    api.route("GET", "/orders/A-17", _echo)
    path = tmp_path / "orders.yaml"
    opts = {
        "env": {"API_KEY": KEY},
        "cassette": path,
        "cassette_match_headers": ["X-Lang", "X-User"],
    }
    with make_toolkit(_actions(api), **opts) as tk:
        _find(tk)
    assert yaml.safe_load(path.read_text())["interactions"][0]["request"]["headers"] == {
        "x-lang": "en",
        "x-user": "${context.user_token}",
    }
    with make_toolkit(_actions(api), record_mode="none", **opts) as tk:
        assert _find(tk).artifact["ok"]
        # A private value is matched as its placeholder: another user's token replays too.
        assert _find(tk, token="another-token-1").artifact["ok"]
        assert _find(tk, lang="fr").artifact["error_kind"] == "no_recording"
    assert len(api.requests) == 1


def test_the_docs_agent_test_records_then_replays_with_the_plugin_fixture(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from langchain_apiactions.cli.demo_server import DemoStoreServer
    from tests.docs_snippets import at_server, snippet

    code = snippet("cassette-agent-test").text
    assert snippet("cassette-agent-test").extras == ("agent",)
    actions = snippet("quickstart-actions").text
    (tmp_path / "test_orders_agent.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTEST_"))}
    env["STORE_API_KEY"] = "sk-store-demo-0042"

    def pytest_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    with DemoStoreServer(env["STORE_API_KEY"]) as server:
        (tmp_path / "actions.yaml").write_text(at_server(actions, server.url))
        first = pytest_run()
        assert first.returncode == 0, first.stdout + first.stderr
        assert server.requests == [("GET", "/orders/12345")]
    cassette = tmp_path / "cassettes" / "test_orders_agent" / "test_where_is_my_order.yaml"
    assert "Shipped" in cassette.read_text()
    assert env["STORE_API_KEY"] not in cassette.read_text()
    # The server is gone: the second run can only pass by replaying.
    second = pytest_run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 passed" in second.stdout


def test_apiactions_call_records_and_replays_with_cassette_options(
    api: ApiServer, tmp_path: Path, monkeypatch: object
) -> None:
    import json

    from tests.clirun import run_cli

    api.route("POST", "/cancel", Reply(200, {"cancelled": True}))
    actions = tmp_path / "actions.yaml"
    actions.write_text(_actions(api))
    path = tmp_path / "cli.yaml"
    argv = ["call", str(actions), "Cancel_Order", "--arg", "order=A-17", "--yes", "--json"]
    argv += ["--allow-network", "127.0.0.0/8", "--cassette", str(path)]
    code, out = run_cli(*argv, "--record-mode", "all")
    assert code == 0, out
    code, replayed = run_cli(*argv, "--record-mode", "none")
    assert code == 0 and len(api.requests) == 1
    assert json.JSONDecoder().raw_decode(replayed[replayed.index("{") :])[0]["data"] == {
        "cancelled": True
    }
    code, missing = run_cli(*argv[:4], "order=B-2", *argv[5:], "--record-mode", "none")
    assert "no_recording" in missing and str(path) in missing and len(api.requests) == 1


@pytest.mark.parametrize("client_auth", ["basic", "form"])
def test_oauth2_token_requests_are_recorded_and_replayed_without_a_token_written(
    api: ApiServer, tmp_path: Path, creds: None, client_auth: str
) -> None:
    from tests.integration_tests.test_oauth2_live import (
        CLIENT_ID,
        CLIENT_SECRET,
        OAuthWorld,
        actions,
    )

    world = OAuthWorld(api, client_auth=client_auth)
    text = actions(world.url, api.url, client_auth=client_auth)
    path = tmp_path / "oauth.yaml"
    with make_toolkit(text, cassette=path) as tk:
        live = [call(tk.get_tool(n), {}) for n in ("Check_Order", "Admin_Order", "Check_Order")]
    assert [m.artifact["ok"] for m in live] == [True] * 3
    assert len(world.token_requests) == 2  # one token per scope
    assert live[0].artifact["data"]["echo"] == "Bearer ***"  # the API echoed the token
    written = path.read_text()
    data = yaml.safe_load(written)
    token_posts = [i for i in data["interactions"] if i["request"]["url"] == world.url]
    assert len(token_posts) == 2
    for post in token_posts:
        assert post["response"]["json"]["access_token"] == "${oauth2.access_token}"
        if client_auth == "form":
            assert "client_secret=${CLIENT_SECRET}" in post["request"]["body"]
    basic = base64.b64encode(
        f"{urllib.parse.quote_plus(CLIENT_ID)}:{urllib.parse.quote_plus(CLIENT_SECRET)}".encode()
    ).decode()
    for secret in (CLIENT_SECRET, basic, *world.issued):
        for form in (secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret, safe="")):
            assert form not in written, f"{form!r} was written to the cassette"

    connections, tokens = api.connections, len(world.token_requests)
    world.revoke_all()  # a token endpoint or API asked now would refuse
    with make_toolkit(text, cassette=path, record_mode="none") as tk:
        replayed = [call(tk.get_tool(n), {}) for n in ("Check_Order", "Admin_Order", "Check_Order")]
        assert tk.runtime.tokens.fetches == 2  # fetched, from the cassette
    assert api.connections == connections and len(world.token_requests) == tokens
    assert [m.content for m in replayed] == [m.content for m in live]
    assert [m.artifact["data"] for m in replayed] == [m.artifact["data"] for m in live]


def test_apiactions_chat_replays_a_recorded_conversation_with_no_connection(
    tmp_path: Path,
) -> None:
    import os
    import re
    import subprocess
    import sys

    from langchain_apiactions.cli.demo_server import DemoStoreServer
    from tests.apiserver import ConnectionRecorder

    key = "sk-chat-cassette-77"
    exe = Path(sys.executable).parent / "apiactions"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {"STORE_API_KEY": key}
    path = tmp_path / "chat.yaml"
    visitor = "Where is my order?\n#12345\nCan you cancel order #12345?\n\n"

    def chat(actions: Path, mode: str) -> str:
        argv = [str(exe), "chat", str(actions), "--model", "offline", "--debug"]
        argv += ["--allow-network", "127.0.0.0/8", "--cassette", str(path), "--record-mode", mode]
        proc = subprocess.run(
            argv, input=visitor, capture_output=True, text=True, timeout=120, env=env
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    with DemoStoreServer(key) as server:
        port = int(server.url.rsplit(":", 1)[1])
        actions = tmp_path / "actions.yaml"
        actions.write_text(
            f"""
- name: Check_Order_Status
  when_to_use: Use this action when the visitor asks where their order is or about its status.
  method: GET
  url: {server.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
  response_fields: [{{name: status, path: order.status}}, carrier]
- name: Cancel_Order
  when_to_use: Use this action when the visitor wants to cancel their order.
  method: POST
  url: {server.url}/orders/{{order_number}}/cancel
  inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
  headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
  once_per_session: true
"""
        )
        live = chat(actions, "once")
        sent = list(server.requests)
    assert ("GET", "/orders/12345") in sent and len(sent) == 2
    assert "status: Shipped" in live
    assert key not in path.read_text()

    # The API is gone; a listener on its port counts every connection attempt.
    listener = ConnectionRecorder(port=port)
    try:
        replayed = chat(actions, "none")
    finally:
        listener.close()
    assert listener.accepted == 0

    def shown(text: str) -> str:  # what the visitor reads (and --debug), the times aside
        text = re.sub(r'"elapsed_ms": [\d.]+', '"elapsed_ms": N', text)
        return re.sub(r"\d+(\.\d+)? ?ms", "N ms", text)

    assert shown(replayed) == shown(live)
