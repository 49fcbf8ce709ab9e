"""OpenTelemetry spans of each call (extra `otel`: `opentelemetry-api`).

Each call is a span `execute_tool <action>` (GenAI semantic conventions:
`gen_ai.operation.name`, `gen_ai.tool.name`, `gen_ai.tool.call.id`, `error.type`), with a
CLIENT span per HTTP attempt (HTTP semantic conventions: `http.request.method`,
`server.address`, `server.port`, `url.full` masked, `http.response.status_code`,
`http.request.resend_count`). What happened without an HTTP attempt of its own is a span
event: `apiactions.once_per_session.skipped`, `apiactions.cache.hit`,
`apiactions.pagination.page`, `apiactions.retry`, `apiactions.oauth2.token`,
`apiactions.cassette.replayed`.

Only names, methods, hosts, ports, status codes, error kinds and masked URLs are ever
set: never a body, a header value, a secret or a context value.

Without `opentelemetry-api` installed nothing is imported (`tracer()` is None after one
`find_spec`) and a call does what it did before; with the API and no SDK the spans are
the API's no-op ones and no attribute is computed (`is_recording()`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from langchain_apiactions.call import CallOutcome
    from langchain_apiactions.network import HttpResult

__all__ = ["event", "http_span", "tool_span", "tracer"]

_UNSET: Any = object()
_tracer: Any = _UNSET


def tracer() -> Tracer | None:
    """The library's tracer, or None when `opentelemetry-api` is not installed."""
    global _tracer
    if _tracer is _UNSET:
        if importlib.util.find_spec("opentelemetry") is None:
            _tracer = None
        else:
            try:
                from opentelemetry import trace
            except ImportError:
                _tracer = None
            else:
                _tracer = trace.get_tracer("langchain_apiactions")
    return _tracer  # type: ignore[no-any-return]


@contextlib.contextmanager
def tool_span(action: str, tool_call_id: str | None) -> Iterator[Span | None]:
    """The `execute_tool <action>` span of one call (current while it runs)."""
    t = tracer()
    if t is None:
        yield None
        return
    with t.start_as_current_span(
        f"execute_tool {action}", record_exception=False, set_status_on_exception=True
    ) as span:
        if span.is_recording():
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", action)
            if tool_call_id:
                span.set_attribute("gen_ai.tool.call.id", tool_call_id)
        yield span


def end_tool_span(span: Span | None, outcome: CallOutcome) -> None:
    """Mark the call's span with what came of it (`error.type` on failure)."""
    if span is None or not span.is_recording():
        return
    from opentelemetry.trace import Status, StatusCode

    art = outcome.artifact
    if art.get("cached"):
        span.add_event("apiactions.cache.hit")
    if art["error_kind"] in ("already_ran", "limit_reached"):
        span.add_event(
            "apiactions.once_per_session.skipped"
            if art["error_kind"] == "already_ran"
            else "apiactions.limit_reached"
        )
    if not art["ok"]:
        span.set_attribute("error.type", str(art["error_kind"] or "error"))
        span.set_status(Status(StatusCode.ERROR))


@contextlib.contextmanager
def http_span(method: str, url: str, shown_url: str, resend_count: int) -> Iterator[Span | None]:
    """The CLIENT span of one HTTP attempt; `shown_url` is already masked."""
    t = tracer()
    if t is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    with t.start_as_current_span(
        method, kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=True
    ) as span:
        if span.is_recording():
            real = urllib.parse.urlsplit(url)
            shown = urllib.parse.urlsplit(shown_url)
            span.set_attribute("http.request.method", method)
            span.set_attribute("server.address", shown.hostname or "")
            port = real.port or {"http": 80, "https": 443}.get(real.scheme)
            if port is not None:
                span.set_attribute("server.port", port)
            span.set_attribute("url.full", shown_url)
            if resend_count:
                span.set_attribute("http.request.resend_count", resend_count)
        yield span


def end_http_span(span: Span | None, result: HttpResult) -> None:
    """The attempt's status code, retries (events) and `error.type`."""
    if span is None or not span.is_recording():
        return
    from opentelemetry.trace import Status, StatusCode

    if result.status is not None:
        span.set_attribute("http.response.status_code", result.status)
    for n, status in enumerate(result.retry_statuses, 1):
        span.add_event("apiactions.retry", {"apiactions.retry.number": n, "status": status})
    if result.retry_statuses:
        span.set_attribute("http.request.resend_count", len(result.retry_statuses))
    kind = result.error_kind or (
        str(result.status) if result.status is not None and result.status >= 400 else None
    )
    if kind is not None:
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR))


def event(name: str, attributes: dict[str, Any] | None = None) -> None:
    """An event on the current span (the call's or its HTTP attempt's)."""
    if tracer() is None:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, attributes or {})
