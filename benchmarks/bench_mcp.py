"""Benchmark 8: the per-call overhead of serving an action over MCP (stdio).

The same compiled action, against the same loopback API: called in-process as a
LangChain tool call (`tool.invoke`), and called by the `mcp` SDK's client through
`apiactions mcp FILE` over stdio (a JSON-RPC round trip through two pipes and a second
process). Interleaved, medians; the difference is what MCP adds to each call.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import frozen_heap  # benchmarks/ is on sys.path

from langchain_apiactions import ApiActionsToolkit


async def _measure(action: dict[str, Any], n: int) -> tuple[list[float], list[float]]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    toolkit = ApiActionsToolkit(actions=[action], allowed_networks=["127.0.0.0/8"])
    tool = toolkit.get_tools()[0]
    args = {"order_number": "12345"}
    call = {"name": tool.name, "args": args, "id": "c1", "type": "tool_call"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "actions.json"
        path.write_text(json.dumps([action]))
        exe = Path(sys.executable).parent / "apiactions"
        params = StdioServerParameters(
            command=str(exe),
            args=["mcp", str(path), "--allow-network", "127.0.0.0/8"],
            env=dict(os.environ),
        )
        with open(os.environ.get("BENCH_MCP_LOG", os.devnull), "w") as devnull:
            async with (
                stdio_client(params, errlog=devnull) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                for _ in range(100):  # warm both sides
                    tool.invoke(call)
                    await session.call_tool(tool.name, args)
                local: list[float] = []
                remote: list[float] = []
                with frozen_heap():
                    for _ in range(n):
                        gc.collect()
                        t0 = time.perf_counter()
                        tool.invoke(call)
                        t1 = time.perf_counter()
                        gc.collect()
                        t2 = time.perf_counter()
                        result = await session.call_tool(tool.name, args)
                        t3 = time.perf_counter()
                        assert not result.isError, result
                        local.append(t1 - t0)
                        remote.append(t3 - t2)
    toolkit.close()
    return remote, local


def bench_mcp_stdio(
    action: dict[str, Any], n: int, row: Callable[[str, str, str, float | str, str], None]
) -> None:
    remote, local = asyncio.run(_measure(action, n))
    m_remote, m_local = statistics.median(remote), statistics.median(local)
    overhead = m_remote - m_local
    row(
        f"8. MCP stdio: call through `apiactions mcp` vs in-process; +{overhead * 1e6:.0f} µs",
        f"{m_remote * 1e6:.0f} µs",
        f"{m_local * 1e6:.0f} µs",
        m_remote / m_local,
        "reported",
    )
