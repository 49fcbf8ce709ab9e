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
from tests.helpers import call, make_toolkit

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


def _kids(spans: InMemorySpanExporter, parent: Any) -> list[Any]:
    return [
        s
        for s in spans.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


def _tool_spans(spans: InMemorySpanExporter) -> list[Any]:
    return [s for s in spans.get_finished_spans() if s.name.startswith("execute_tool")]


def _clean(spans: InMemorySpanExporter, *secrets: str) -> None:
    """No form of any secret, nor a body, in any exported name, attribute or event."""
    exported = " ".join(_everything(s) for s in spans.get_finished_spans())
    for secret in secrets:
        for form in (
            secret,
            urllib.parse.quote(secret),
            urllib.parse.quote(secret, safe=""),
            urllib.parse.quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
            json.dumps(secret)[1:-1],
        ):
            assert form not in exported, f"{form!r} reached a span"


def test_each_retry_is_a_client_span_of_its_own(
    api: ApiServer, spans: InMemorySpanExporter
) -> None:
    replies = [Reply(503, {"echo": KEY}), Reply(200, {"status": "ok"})]
    api.route("GET", "/orders/A-17", lambda r: replies.pop(0))
    with make_toolkit(_actions(api), env={"API_KEY": KEY}) as tk:
        assert _invoke(tk, "Find_Order").artifact["ok"]
    [tool] = _tool_spans(spans)
    first, second = _kids(spans, tool)
    assert [s.kind for s in (first, second)] == [trace.SpanKind.CLIENT] * 2
    one, two = dict(first.attributes or {}), dict(second.attributes or {})
    assert one["http.response.status_code"] == 503 and one["error.type"] == "503"
    assert "http.request.resend_count" not in one
    assert two["http.response.status_code"] == 200 and two["http.request.resend_count"] == 1
    assert "error.type" not in two and one["url.full"] == two["url.full"]
    assert first.end_time <= second.start_time  # the backoff is between them
    assert "error.type" not in (tool.attributes or {})  # the call itself succeeded
    _clean(spans, KEY, TOKEN)


def test_a_redirect_hop_is_a_resend(api: ApiServer, spans: InMemorySpanExporter) -> None:
    api.route("GET", "/orders/A-17", Reply(302, headers={"Location": "/orders/A-18?key=" + KEY}))
    api.route("GET", "/orders/A-18", Reply(200, {"status": "moved"}))
    with make_toolkit(_actions(api), env={"API_KEY": KEY}) as tk:
        assert _invoke(tk, "Find_Order").artifact["ok"]
    [tool] = _tool_spans(spans)
    hop, final = _kids(spans, tool)
    assert (hop.attributes or {})["http.response.status_code"] == 302
    assert (final.attributes or {})["url.full"] == f"{api.url}/orders/A-18?key=***"
    assert (final.attributes or {})["http.request.resend_count"] == 1
    _clean(spans, KEY, TOKEN)


def test_oauth2_token_requests_are_spans_and_a_401_resend_counts(
    api: ApiServer, spans: InMemorySpanExporter, creds: None
) -> None:
    from tests.integration_tests.test_oauth2_live import (
        CLIENT_ID,
        CLIENT_SECRET,
        OAuthWorld,
        actions,
    )

    world = OAuthWorld(api)
    with make_toolkit(actions(world.url, api.url)) as tk:
        tool = tk.get_tool("Check_Order")
        assert call(tool, {}).artifact["ok"]
        assert call(tool, {}).artifact["ok"]  # the kept token: no token request
        world.revoke_all()
        assert call(tool, {}).artifact["ok"]  # 401, a new token, sent again
    first, kept, refreshed = _tool_spans(spans)
    assert [e.name for e in first.events] == ["apiactions.oauth2.token"]
    assert (first.events[0].attributes or {})["apiactions.oauth2.rejected"] is False
    assert [(s.name, (s.attributes or {})["url.full"]) for s in _kids(spans, first)] == [
        ("POST", world.url),
        ("GET", f"{api.url}/orders"),
    ]
    assert list(kept.events) == []
    assert [s.name for s in _kids(spans, kept)] == ["GET"]
    assert [(e.name, dict(e.attributes or {})) for e in refreshed.events] == [
        ("apiactions.oauth2.token", {"apiactions.oauth2.rejected": True})
    ]
    rejected, token, again = _kids(spans, refreshed)
    assert (rejected.attributes or {})["http.response.status_code"] == 401
    assert token.name == "POST" and (token.attributes or {})["http.response.status_code"] == 200
    assert (again.attributes or {})["http.request.resend_count"] == 1
    tokens = [r.headers["Authorization"].removeprefix("Bearer ") for r in api.requests]
    bearer = [t for t in tokens if not t.startswith("Basic ")]
    _clean(spans, CLIENT_SECRET, *bearer, f"{CLIENT_ID}:{CLIENT_SECRET}")


def test_span_events_cache_hit_pages_and_limit(api: ApiServer, spans: InMemorySpanExporter) -> None:
    def page(rec: Recorded) -> Reply:
        n = int(dict(rec.query_pairs).get("page", "1"))
        link = f'<{api.url}/list?key={KEY}&page={n + 1}>; rel="next"' if n < 3 else ""
        return Reply(200, [{"id": n}], headers={"Link": link})

    api.route("GET", "/list", page)
    api.route("GET", "/items", Reply(200, {"stock": 3}))
    text = f"""
- name: List_Orders
  when_to_use: Use this when the visitor asks for the list of their orders.
  method: GET
  url: {api.url}/list?key=${{API_KEY}}
  pagination: {{link_header: true, max_pages: 3}}
- name: Find_Item
  when_to_use: Use this when the visitor asks whether an item is in stock.
  method: GET
  url: {api.url}/items?q={{q}}
  inputs: [{{name: q, required: true}}]
  cache: {{ttl: 60}}
  max_calls_per_session: 1
"""
    with make_toolkit(text, env={"API_KEY": KEY}) as tk:
        assert call(tk.get_tool("List_Orders"), {}).artifact["pagination"]["pages"] == 3
        find = tk.get_tool("Find_Item")
        assert call(find, {"q": "a"}).artifact["ok"]
        assert call(find, {"q": "a"}).artifact["cached"] is True
        assert call(find, {"q": "b"}).artifact["error_kind"] == "limit_reached"
    listed, found, cached, limited = _tool_spans(spans)
    assert [e.name for e in listed.events] == ["apiactions.pagination.page"] * 2
    assert (listed.events[0].attributes or {})["apiactions.pagination.style"] == "link_header"
    pages = _kids(spans, listed)
    assert [(s.attributes or {})["url.full"] for s in pages] == [
        f"{api.url}/list?key=***",
        f"{api.url}/list?key=***&page=2",
        f"{api.url}/list?key=***&page=3",
    ]
    assert list(found.events) == [] and len(_kids(spans, found)) == 1
    assert [e.name for e in cached.events] == ["apiactions.cache.hit"]
    assert _kids(spans, cached) == []  # nothing sent
    assert [e.name for e in limited.events] == ["apiactions.limit_reached"]
    assert (limited.attributes or {})["error.type"] == "limit_reached"
    assert _kids(spans, limited) == []
    _clean(spans, KEY)


def test_a_replayed_answer_is_a_client_span_with_the_replayed_event(
    api: ApiServer, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    api.route("GET", "/orders/A-17", _echo)
    path = tmp_path / "orders.yaml"
    with make_toolkit(_actions(api), env={"API_KEY": KEY}, cassette=path) as tk:
        live = _invoke(tk, "Find_Order")
    connections = api.connections
    with make_toolkit(_actions(api), env={"API_KEY": KEY}, cassette=path, record_mode="none") as tk:
        replayed = _invoke(tk, "Find_Order")
    assert api.connections == connections and replayed.content == live.content
    recorded, played = _tool_spans(spans)
    [sent] = _kids(spans, recorded)
    [answer] = _kids(spans, played)
    assert [e.name for e in sent.events] == []
    assert [e.name for e in answer.events] == ["apiactions.cassette.replayed"]
    attrs = answer.attributes or {}
    assert attrs["url.full"] == f"{api.url}/orders/A-17?key=***"
    assert attrs["http.response.status_code"] == 200
    _clean(spans, KEY, TOKEN)


def test_spans_nest_under_the_run_that_invokes_the_agent(
    api: ApiServer, spans: InMemorySpanExporter
) -> None:
    import asyncio

    from langchain_apiactions import OfflineChatModel, create_api_actions_agent

    api.route("GET", "/orders/A-17", _echo)
    agent = create_api_actions_agent(
        OfflineChatModel(),
        _actions(api),
        allowed_networks=["127.0.0.0/8"],
        env={"API_KEY": KEY},
    )
    tracer = trace.get_tracer("my-app")
    ask = {"messages": [{"role": "user", "content": "Please look up my order A-17"}]}

    def config(thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread, "context": {"user_token": TOKEN}}}

    with tracer.start_as_current_span("handle visitor message") as outer:
        agent.invoke(ask, config("t1"))

    async def visit() -> None:
        with tracer.start_as_current_span("handle visitor message (async)"):
            await agent.ainvoke(ask, config("t2"))

    asyncio.run(visit())
    done = spans.get_finished_spans()
    runs = [s for s in done if s.name.startswith("handle visitor message")]
    tools = _tool_spans(spans)
    assert len(tools) == 2, [s.name for s in done]
    for run, tool in zip(runs, tools, strict=True):
        assert tool.parent is not None and tool.parent.span_id == run.context.span_id
        assert tool.context.trace_id == run.context.trace_id
        [http] = _kids(spans, tool)
        assert http.context.trace_id == run.context.trace_id
    assert runs[0].context.span_id == outer.get_span_context().span_id
    _clean(spans, KEY, TOKEN)


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
    from tests.docs_snippets import at_server, snippet

    block = snippet("otel-console")
    assert block.extras == ("otel",)
    (tmp_path / "snippet.py").write_text(block.text)
    with DemoStoreServer("demo") as server:
        actions = at_server(snippet("quickstart-actions").text, server.url)
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
