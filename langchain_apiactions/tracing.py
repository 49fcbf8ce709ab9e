"""OpenTelemetry spans of each call (extra `otel`: `opentelemetry-api`).

Each call is a span `execute_tool <action>` (GenAI semantic conventions:
`gen_ai.operation.name`, `gen_ai.tool.name`, `gen_ai.tool.call.id`, `error.type`), with a
CLIENT span per HTTP attempt (HTTP semantic conventions: `http.request.method`,
`server.address`, `server.port`, `url.full` masked, `http.response.status_code`,
`http.request.resend_count`): each retry urllib3 makes, each redirect hop and the resend
after a 401 is a span of its own, and so is the OAuth2 token request. What happened
without an HTTP attempt of its own is a span event on the call's span:
`apiactions.once_per_session.skipped`, `apiactions.limit_reached`, `apiactions.cache.hit`,
`apiactions.pagination.page`, `apiactions.oauth2.token`; a replayed answer's CLIENT span
has the event `apiactions.cassette.replayed`.

Only names, methods, hosts, ports, status codes, error kinds and masked URLs are ever
set: never a body, a header value, a secret or a context value.

Without `opentelemetry-api` installed nothing is imported (`tracer()` is None after one
`find_spec`) and a call does what it did before; with the API and no SDK the spans are
the API's no-op ones, no attribute is computed (`is_recording()`) and no attempt is timed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from langchain_apiactions.call import CallOutcome
    from langchain_apiactions.network import HttpResult

__all__ = ["end_tool_span", "event", "http_spans", "recording", "tool_span", "tracer"]

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


def recording() -> bool:
    """True when the current span records (a call inside a recorded `execute_tool` span):
    only then are a request's attempts timed and turned into spans."""
    if tracer() is None:
        return False
    from opentelemetry import trace

    return trace.get_current_span().is_recording()


def http_spans(
    method: str,
    url: str,
    result: HttpResult,
    mask: Callable[[str], str],
    resend_count: int,
    start_ns: int,
) -> None:
    """The CLIENT spans of one request, children of the current span: one per attempt on
    the wire (`result.attempts`: each retry urllib3 made and each redirect hop), or one for
    an answer that had none (replayed from a cassette, or refused before anything went
    out). `mask` masks secrets and private context values in a URL; `resend_count` is how
    many attempts of this request were made before these (a resend after a 401)."""
    t = tracer()
    if t is None:
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attempts: list[tuple[str, int, int, int | None, str | None]] = [
        (a.url, a.start_ns, a.end_ns or time.time_ns(), a.status, a.error) for a in result.attempts
    ]
    if not attempts:
        attempts = [(url, start_ns, time.time_ns(), result.status, result.error_kind)]
    for n, (sent_url, start, end, status, error) in enumerate(attempts, resend_count):
        span = t.start_span(method, kind=SpanKind.CLIENT, start_time=start)
        real = urllib.parse.urlsplit(sent_url)
        shown_url = mask(sent_url)
        span.set_attribute("http.request.method", method)
        span.set_attribute("server.address", urllib.parse.urlsplit(shown_url).hostname or "")
        port = real.port or {"http": 80, "https": 443}.get(real.scheme)
        if port is not None:
            span.set_attribute("server.port", port)
        span.set_attribute("url.full", shown_url)
        if n:
            span.set_attribute("http.request.resend_count", n)
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if result.replayed:
            span.add_event("apiactions.cassette.replayed", timestamp=start)
        kind = str(status) if status is not None and status >= 400 else error
        if kind is not None:
            span.set_attribute("error.type", kind)
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=max(end, start))


def event(name: str, attributes: dict[str, Any] | None = None) -> None:
    """An event on the current span (the call's or its HTTP attempt's)."""
    if tracer() is None:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, attributes or {})
