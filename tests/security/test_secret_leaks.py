"""No secret appears anywhere: content, artifact, events, callbacks, traces, logs, errors, CLI."""

from __future__ import annotations

import io
import json
import logging
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

from langchain_apiactions import ApiActionsToolkit, OfflineChatModel, create_api_actions_agent
from langchain_apiactions.cli import main as cli_main
from tests.apiserver import ApiServer, Reply
from tests.helpers import call

SECRET = "sk-Zq9/+&= secret"  # characters that URL-encoding changes
FORMS = {SECRET, urllib.parse.quote(SECRET, safe=""), urllib.parse.quote_plus(SECRET), "sk-Zq9"}


class Everything(BaseCallbackHandler):
    """Collects every callback payload as text."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):

            def record(*args: Any, **kwargs: Any) -> None:
                object.__getattribute__(self, "seen").append(repr((name, args, kwargs)))

            return record
        return object.__getattribute__(self, name)


def assert_clean(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text, f"secret form {form!r} leaked in: {text[:300]}"


@pytest.fixture
def actions(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    # The API echoes what it gets back, including the key (a careless API).
    api.route("GET", "/orders/1", lambda rec: Reply(200, {"status": "Shipped", "echo": rec.query}))
    api.route(
        "GET", "/orders/2", lambda rec: Reply(500, {"message": f"bad key {rec.headers['X-Key']}"})
    )
    api.route("GET", "/orders/3", Reply(200, {"status": "late"}, delay=2))
    return f"""
- name: Lookup
  when_to_use: Use this action when the visitor asks where their order is.
  triggered_response: Looking it up.
  method: GET
  url: {api.url}/orders/{{n}}?key=${{SECRET_KEY}}
  inputs: [{{name: n, required: true, description: The order number}}]
  headers: {{X-Key: "${{SECRET_KEY}}", Authorization: "Bearer ${{SECRET_KEY}}"}}
  response_fields: [status, echo]
  timeout: 1.5
- name: Down
  when_to_use: Use this action when the visitor asks about the offline thing.
  method: POST
  url: http://127.0.0.1:9/x?key=${{SECRET_KEY}}
"""


def test_nothing_leaks_through_tools_callbacks_traces_and_logs(
    actions: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tk = ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"])
    lookup, down = tk.get_tools()
    handler, collector = Everything(), RunCollectorCallbackHandler()
    config = {"callbacks": [handler, collector], "configurable": {"session_id": "s"}}
    outputs = []
    for tool, args in (
        (lookup, {"n": "1"}),
        (lookup, {"n": "2"}),
        (lookup, {"n": "3"}),
        (down, {}),
    ):
        msg = tool.invoke({"name": tool.name, "args": args, "id": "c", "type": "tool_call"}, config)
        outputs.append(msg.content)
        outputs.append(json.dumps(msg.artifact))
    assert "Shipped" in outputs[0]  # the calls really happened
    assert "HTTP 500" in outputs[2]
    assert "timeout" in outputs[4]
    assert "could not connect" in outputs[6]
    traces = [run.model_dump_json() for run in collector.traced_runs]
    logs = [r.getMessage() for r in caplog.records]
    assert any("urllib3" in r.name for r in caplog.records)  # DEBUG lines were written...
    assert_clean(*outputs, *handler.seen, *traces, *logs)  # ...with the key masked
    assert any("key=***" in line for line in logs)
    # attributes, reprs and dumps
    assert_clean(
        repr(tk),
        str(tk),
        tk.model_dump_json(),
        repr(lookup),
        str(lookup.__dict__),
        repr(tk.runtime),
        str(tk.runtime.secrets),
        json.dumps(lookup.tool_call_schema),
    )


def test_nothing_leaks_through_an_agent_run(actions: str) -> None:
    handler, collector = Everything(), RunCollectorCallbackHandler()
    agent = create_api_actions_agent(OfflineChatModel(), actions, allowed_networks=["127.0.0.0/8"])
    chunks = list(
        agent.stream(
            {"messages": [{"role": "user", "content": "Where is my order #1?"}]},
            {"configurable": {"thread_id": "t"}, "callbacks": [handler, collector]},
            stream_mode=["updates", "custom", "messages"],
        )
    )
    text = repr(chunks)
    assert "Shipped" in text
    state = agent.get_state({"configurable": {"thread_id": "t"}})
    assert_clean(
        text, repr(state), *handler.seen, *(r.model_dump_json() for r in collector.traced_runs)
    )


def test_nothing_leaks_in_cli_output(actions: str, tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(actions)
    for argv in (
        ["call", str(path), "Lookup", "--arg", "n=1", "--allow-private-networks", "--json"],
        ["call", str(path), "Lookup", "--arg", "n=2", "--allow-private-networks"],
        ["call", str(path), "Lookup", "--arg", "n=1", "--dry-run"],
        ["call", str(path), "Down", "--allow-private-networks"],
        ["validate", str(path)],
    ):
        out = io.StringIO()
        old, sys.stdout = sys.stdout, out
        try:
            cli_main(argv)
        finally:
            sys.stdout = old
        assert "***" in out.getvalue() or argv[0] == "validate"
        assert_clean(out.getvalue())


def test_missing_secret_error_names_the_variable_not_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match=r"\$\{SECRET_KEY\} is not set"):
        ApiActionsToolkit(
            actions=[
                {
                    "name": "A",
                    "when_to_use": "Use when the visitor asks about the thing in the store.",
                    "method": "GET",
                    "url": "https://a.example/?k=${SECRET_KEY}",
                }
            ]
        )


def test_secret_in_the_response_is_masked(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    api.route("GET", "/whoami", lambda rec: Reply(200, {"you": rec.headers["X-Key"]}))
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": "Who",
                "when_to_use": "Use when the visitor asks which account the chat uses.",
                "method": "GET",
                "url": f"{api.url}/whoami",
                "headers": {"X-Key": "${SECRET_KEY}"},
            }
        ],
        allowed_networks=["127.0.0.0/8"],
    )
    msg = call(tk.get_tools()[0], {})
    assert msg.artifact["data"] == {"you": "***"}
    assert_clean(msg.content, json.dumps(msg.artifact))
