"""OpenTelemetry spans of each call (extra `otel`), exported to the SDK's in-memory exporter."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import make_toolkit

KEY = "sk-live-4f9a8b7c6d5e"
TOKEN = "user-tok-9q8w7e6r5t"
EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # set once per process (the API's rule)
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def _actions(api: ApiServer) -> str:
    return f"""
- name: Find_Order
  when_to_use: Use this action to look up an order by number.
  method: GET
  url: {api.url}/orders/{{order}}?key=${{API_KEY}}
  headers: {{X-User: "${{context.user_token}}"}}
  inputs: [{{name: order, required: true}}]
  response_fields: {{status: status}}
- name: Cancel_Order
  when_to_use: Use this action to cancel an order.
  method: POST
  url: {api.url}/cancel?key=${{API_KEY}}
  inputs: [{{name: order, required: true}}]
  headers: {{X-User: "${{context.user_token}}"}}
  body: {{order: "{{order}}"}}
  once_per_session: true
"""


def _echo(r: Recorded) -> Reply:
    query = urllib.parse.parse_qs(r.query)
    echoed = f"{query['key'][0]} {r.headers.get('X-User')} {r.body.decode()}"
    return Reply(200, {"status": "shipped", "echo": echoed}, headers={"X-Echo": echoed})


def _invoke(tk, name: str, order: str = "A-17"):  # type: ignore[no-untyped-def]
    return tk.get_tool(name).invoke(
        {"name": name, "args": {"order": order}, "id": "call_42", "type": "tool_call"},
        config={"configurable": {"session_id": "s1", "context": {"user_token": TOKEN}}},
    )


def _everything(span: Any) -> str:
    parts: list[Any] = [span.name, dict(span.attributes or {})]
    parts += [[e.name, dict(e.attributes or {})] for e in span.events]
    return json.dumps(parts, default=str)


def test_a_call_is_an_execute_tool_span_with_an_http_client_child(
    api: ApiServer, spans: InMemorySpanExporter
) -> None:
    api.route("GET", "/orders/A-17", _echo)
    api.route("GET", "/orders/B-2", Reply(404, {"error": f"no order; key {KEY}"}))
    api.route("POST", "/cancel", _echo)
    with make_toolkit(_actions(api), env={"API_KEY": KEY}) as tk:
        assert _invoke(tk, "Find_Order").artifact["ok"]
        assert not _invoke(tk, "Find_Order", "B-2").artifact["ok"]
        _invoke(tk, "Cancel_Order")
        assert _invoke(tk, "Cancel_Order").artifact["error_kind"] == "already_ran"
    done = spans.get_finished_spans()
    tools = [s for s in done if s.name.startswith("execute_tool")]
    http = [s for s in done if s.kind == trace.SpanKind.CLIENT]
    assert [s.name for s in tools] == ["execute_tool Find_Order"] * 2 + [
        "execute_tool Cancel_Order"
    ] * 2
    assert len(http) == 3  # the skipped call sent nothing
    first = tools[0].attributes or {}
    assert first["gen_ai.operation.name"] == "execute_tool"
    assert first["gen_ai.tool.name"] == "Find_Order"
    assert first["gen_ai.tool.call.id"] == "call_42"
    assert "error.type" not in first
    assert (tools[1].attributes or {})["error.type"] == "http_status"
    assert [e.name for e in tools[3].events] == ["apiactions.once_per_session.skipped"]
    assert (tools[3].attributes or {})["error.type"] == "already_ran"
    get = http[0]
    assert get.parent is not None and get.parent.span_id == tools[0].context.span_id
    attrs = get.attributes or {}
    assert attrs["http.request.method"] == "GET"
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == api.port
    assert attrs["url.full"] == f"{api.url}/orders/A-17?key=***"
    assert attrs["http.response.status_code"] == 200
    assert (http[1].attributes or {})["error.type"] == "404"
    # No secret, private context value or body anywhere in what was exported.
    exported = " ".join(_everything(s) for s in done)
    for secret in (KEY, TOKEN):
        for form in (
            secret,
            urllib.parse.quote(secret),
            base64.b64encode(secret.encode()).decode(),
        ):
            assert form not in exported
    assert "shipped" not in exported and "no order" not in exported


def test_a_401_resend_and_a_retry_are_visible(api: ApiServer, spans: InMemorySpanExporter) -> None:
    replies = [Reply(503, {}), Reply(200, {"status": "ok"})]
    api.route("GET", "/orders/A-17", lambda r: replies.pop(0))
    with make_toolkit(_actions(api), env={"API_KEY": KEY}) as tk:
        assert _invoke(tk, "Find_Order").artifact["ok"]
    http = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]
    assert len(http) == 1
    assert [e.name for e in http[0].events] == ["apiactions.retry"]
    assert (http[0].attributes or {})["http.request.resend_count"] == 1


def test_without_the_extra_nothing_of_opentelemetry_is_imported() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if the extra were not installed\n"
        "from langchain_apiactions import ApiActionsToolkit\n"
        "tk = ApiActionsToolkit(actions=[{'name': 'A', 'when_to_use': 'Use this action to ping.',"
        " 'method': 'GET', 'url': 'http://127.0.0.1:9/x'}], allowed_networks=['127.0.0.0/8'])\n"
        "tk.get_tools()[0].invoke({})\n"
        "from langchain_apiactions import tracing\n"
        "print(tracing.tracer(), sorted(m for m in sys.modules if m.startswith('opentelemetry.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None []"


def test_the_docs_console_exporter_snippet_runs_as_written(tmp_path: Path) -> None:
    import os

    from langchain_apiactions.cli.demo_server import DemoStoreServer
    from tests.docs_snippets import snippet

    block = snippet("otel-console")
    assert block.extras == ("otel",)
    (tmp_path / "snippet.py").write_text(block.text)
    with DemoStoreServer("demo") as server:
        actions = snippet("quickstart-actions").text.replace("http://127.0.0.1:8765", server.url)
        (tmp_path / "actions.yaml").write_text(actions)
        proc = subprocess.run(
            [sys.executable, "snippet.py"],
            cwd=tmp_path,
            env={**os.environ, "STORE_API_KEY": "demo"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.index('"name": "GET"') < out.index('"name": "execute_tool Check_Order_Status"')
    assert (
        '"http.response.status_code": 200' in out
        and '"gen_ai.tool.name": "Check_Order_Status"' in out
    )
