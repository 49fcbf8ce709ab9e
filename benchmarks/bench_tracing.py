"""Row 10: the cost of the OpenTelemetry spans of a call (issue 25).

The same compiled action, interleaved: spans off (as without the extra `otel`: the
library's tracer is None) vs the API's no-op tracer (the extra, no SDK) and vs the SDK
recording every span (an in-memory exporter behind a SimpleSpanProcessor).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from langchain_apiactions import ApiActionsToolkit, tracing


def bench_tracing(
    base: str,
    action: dict[str, Any],
    n: int,
    interleaved: Callable[..., Any],
    row: Callable[..., None],
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recording = provider.get_tracer("langchain_apiactions")
    noop = trace.NoOpTracer()
    tk = ApiActionsToolkit(actions=[action], allowed_networks=["127.0.0.0/8"])
    tool = tk.get_tools()[0]
    call = {"name": tool.name, "args": {"order_number": "12345"}, "id": "c1", "type": "tool_call"}

    def with_tracer(t: Any) -> Callable[[], None]:
        def run() -> None:
            tracing._tracer = t
            tool.invoke(call)
            exporter.clear()

        return run

    for _ in range(200):
        with_tracer(recording)()
    for name, tracer in (
        ("the API's no-op tracer (extra, no SDK)", noop),
        ("the SDK recording every span", recording),
    ):
        ta, tb = interleaved(with_tracer(tracer), with_tracer(None), n)
        on, off = statistics.median(ta), statistics.median(tb)
        row(f"10. per call: spans via {name} vs spans off", f"{on * 1e6:.0f} µs", f"{off * 1e6:.0f} µs",
            on / off, "no-op <= 1.02; SDK: measured")  # fmt: skip
    tracing._tracer = tracing._UNSET
    tk.close()
