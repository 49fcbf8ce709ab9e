"""Row P: one call as a tool call, next to what else a user could write instead.

The same GET of the fast server's order, the same three fields returned, round-robin in
one run (medians, a garbage collection before each call), each as a ratio to the
expert's `@tool` on a shared `requests.Session`:

- ours: the compiled action (`ApiActionsToolkit`);
- `StructuredTool` + `httpx.Client` (one shared client, trust_env=False);
- langchain-community's `RequestsGetTool` (when installed: `pip install -e '.[bench]'`),
  which returns the whole body, as it does;
- FastMCP's `from_openapi` tool for the same operation, called through its in-memory
  client (async; when fastmcp is installed), which returns the whole body;
- the floor: raw `http.client` on one kept-alive connection, no tool around it.
"""

from __future__ import annotations

import gc
import http.client
import json
import statistics
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from langchain_core.tools import StructuredTool, tool
from timing import frozen_heap  # benchmarks/ is on sys.path

from langchain_apiactions import ApiActionsToolkit


def order_fields(order: dict[str, Any]) -> str:
    """The three fields every tool of rows 1 and P returns, as the expert writes them."""
    return json.dumps(
        {
            "status": order["status"],
            "carrier": order["tracking"]["carrier"],
            "estimated_delivery": order["estimated_delivery"],
        }
    )


def httpx_tool(base: str, client: Any, key: str) -> StructuredTool:
    @tool
    def order_status(order_number: str) -> str:
        """Use this action when the visitor asks about the status of their order."""
        r = client.get(f"{base}/orders/{order_number}", headers={"Authorization": f"Bearer {key}"})
        r.raise_for_status()
        return order_fields(r.json()["order"])

    return order_status


def http_client_floor(base: str, key: str) -> tuple[Callable[[], str], Callable[[], None]]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)

    def call() -> str:
        conn.request("GET", "/orders/12345", headers={"Authorization": f"Bearer {key}"})
        r = conn.getresponse()
        body = r.read()
        return order_fields(json.loads(body)["order"])

    return call, conn.close


def _order_document(base: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Orders", "version": "1"},
        "servers": [{"url": base}],
        "paths": {
            "/orders/{order_number}": {
                "get": {
                    "operationId": "order_status",
                    "summary": "The status of an order",
                    "parameters": [
                        {
                            "name": "order_number",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"200": {"description": "The order"}},
                }
            }
        },
    }


def round_robin(
    fns: dict[str, Callable[[], Any]],
    n: int,
    coroutines: dict[str, Callable[[], Any]],
    opened: Any = None,
) -> dict[str, float]:
    """Medians of each function and coroutine, one call of each in turn, in one event
    loop (inside `opened`, an async context such as an MCP client's session)."""
    import asyncio
    import contextlib

    times: dict[str, list[float]] = {name: [] for name in (*fns, *coroutines)}

    async def run() -> None:
        async with opened if opened is not None else contextlib.nullcontext():
            await measure()

    async def measure() -> None:
        for co in coroutines.values():  # warm
            for _ in range(100):
                await co()
        with frozen_heap():
            for _ in range(n):
                for name, fn in fns.items():
                    gc.collect()
                    t0 = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t0)
                for name, co in coroutines.items():
                    gc.collect()
                    t0 = time.perf_counter()
                    await co()
                    times[name].append(time.perf_counter() - t0)

    asyncio.run(run())
    return {name: statistics.median(ts) for name, ts in times.items()}


def bench_peers(
    base: str,
    action: dict[str, Any],
    key: str,
    expert: Callable[[], Any],
    n: int,
    row: Callable[..., None],
) -> None:
    import httpx

    tk = ApiActionsToolkit(actions=[action], allowed_networks=["127.0.0.0/8"])
    ours = tk.get_tools()[0]

    def call(t: Any) -> Callable[[], Any]:
        payload = {
            "name": t.name,
            "args": {"order_number": "12345"},
            "id": "c",
            "type": "tool_call",
        }
        return lambda: t.invoke(payload)

    client = httpx.Client(trust_env=False, timeout=10)
    floor, close_floor = http_client_floor(base, key)
    fns: dict[str, Callable[[], Any]] = {
        "expert @tool + requests.Session": expert,
        "ours": call(ours),
        "StructuredTool + httpx.Client": call(httpx_tool(base, client, key)),
        "raw http.client (floor)": floor,
    }
    try:
        from langchain_community.tools.requests.tool import RequestsGetTool
        from langchain_community.utilities.requests import TextRequestsWrapper
    except ImportError:
        print("P. RequestsGetTool skipped: langchain-community is not installed")
    else:
        wrapper = TextRequestsWrapper(headers={"Authorization": f"Bearer {key}"})
        get = RequestsGetTool(requests_wrapper=wrapper, allow_dangerous_requests=True)
        fns["langchain-community RequestsGetTool"] = lambda: get.invoke(f"{base}/orders/12345")
    coroutines: dict[str, Callable[[], Any]] = {}
    try:
        from fastmcp import Client, FastMCP
    except ImportError:
        print("P. FastMCP skipped: fastmcp is not installed")
        mcp_client = None
    else:
        server = FastMCP.from_openapi(
            _order_document(base),
            client=httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, trust_env=False
            ),
        )
        mcp_client = Client(server)

        async def fastmcp_call() -> Any:
            return await mcp_client.call_tool("order_status", {"order_number": "12345"})

        coroutines["FastMCP from_openapi (in-memory client, async)"] = fastmcp_call
    for fn in fns.values():  # warm every pool
        for _ in range(100):
            fn()
    medians = round_robin(fns, n, coroutines, mcp_client)
    expert_time = medians["expert @tool + requests.Session"]
    for name, median in medians.items():
        if name.startswith("expert"):
            continue
        row(f"P. per call, {name} vs the expert @tool (round-robin)",
            f"{median * 1e6:.0f} µs", f"{expert_time * 1e6:.0f} µs", median / expert_time, "(reported)")  # fmt: skip
    client.close()
    close_floor()
    tk.close()
