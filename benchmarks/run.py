"""Benchmarks: every figure next to its baseline, measured in the same run.

    python benchmarks/run.py            # full run (about a minute)
    python benchmarks/run.py --quick    # fewer repetitions

Each line prints our figure, the baseline's, and the ratio. Nothing here is a pass/fail
test: the README's table is copied from this output, with the machine it came from.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from bench_peers import order_fields  # benchmarks/ is on sys.path
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import StructuredTool, tool
from pydantic import Field, create_model
from timing import frozen_heap

from langchain_apiactions import ApiActionsToolkit, create_api_actions_agent, load_actions
from langchain_apiactions.extract import compile_path
from langchain_apiactions.network import HttpResult

KEY = "bench-secret-key"


def order_payload(lines: int) -> dict[str, Any]:
    return {
        "order": {
            "id": "12345",
            "status": "Shipped",
            "estimated_delivery": "2026-12-01",
            "tracking": {"carrier": "UPS", "number": "1Z999AA10123456784", "events": [
                {"at": f"2026-11-{d:02d}T10:00:00Z", "where": f"Hub {d}", "what": "in transit"}
                for d in range(1, 25)]},
            "customer": {"name": "Ana Example", "email": "ana@example.com",
                         "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"}},
            "items": [{"sku": f"SKU-{i:05d}", "name": f"Product number {i}", "qty": i % 3 + 1,
                       "price": 10.0 + i, "attributes": {"color": "red", "size": "M", "note": "x" * 40}}
                      for i in range(lines)],
        }
    }  # fmt: skip


SMALL = json.dumps(order_payload(3)).encode()
LARGE = json.dumps(order_payload(200)).encode()
MEGA = json.dumps(order_payload(5200)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(0.2)
            body = SMALL
        elif self.path.startswith("/large"):
            body = LARGE
        else:
            body = SMALL
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_server() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def action(base: str, path: str = "orders", name: str = "Order_Status") -> dict[str, Any]:
    return {
        "name": name,
        "when_to_use": "Use this action when the visitor asks about the status of their order.",
        "method": "GET",
        "url": f"{base}/{path}/{{order_number}}",
        "inputs": [{"name": "order_number", "required": True, "description": "Order number"}],
        "headers": {"Authorization": "Bearer ${BENCH_KEY}"},
        "response_fields": [
            {"name": "status", "path": "order.status"},
            {"name": "carrier", "path": "order.tracking.carrier"},
            {"name": "estimated_delivery", "path": "order.estimated_delivery"},
        ],
    }


def hand_written_tool(base: str, session: requests.Session) -> StructuredTool:
    @tool
    def order_status(order_number: str) -> str:
        """Use this action when the visitor asks about the status of their order."""
        r = session.get(
            f"{base}/orders/{order_number}", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        r.raise_for_status()
        return order_fields(r.json()["order"])

    return order_status


def tool_call(name: str, i: int) -> dict[str, Any]:
    return {"name": name, "args": {"order_number": "12345"}, "id": f"c{i}", "type": "tool_call"}


def interleaved(
    a: Callable[[], Any],
    b: Callable[[], Any],
    n: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], list[float]]:
    ta: list[float] = []
    tb: list[float] = []
    with frozen_heap():
        for _ in range(n):
            gc.collect()  # neither side pays for the other's garbage
            t0 = clock()
            a()
            t1 = clock()
            gc.collect()
            t2 = clock()
            b()
            t3 = clock()
            ta.append(t1 - t0)
            tb.append(t3 - t2)
    return ta, tb


ROWS: list[tuple[str, str, str, str, str]] = []


def row(what: str, ours: str, base: str, ratio: float | str, target: str) -> None:
    ratio_text = f"{ratio:.2f}" if isinstance(ratio, float) else ratio
    ROWS.append((what, ours, base, ratio_text, target))
    print(
        f"{what:<58} ours {ours:>14}  baseline {base:>14}  ratio {ratio_text:>6}  target {target}"
    )


# --------------------------------------------------------------------------- 1. per call


class FastServer:
    """`fast_server.py` in its own process, so the server never competes for our GIL."""

    def __init__(self) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(here, "fast_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def expert_session() -> requests.Session:
    """What an expert's hand-written tool uses: one shared session, no proxy lookups."""
    session = requests.Session()
    session.trust_env = False  # the default True costs ~540 µs a call in proxy/.netrc lookups
    return session


def bench_per_call(base: str, n: int) -> None:
    tk = ApiActionsToolkit(actions=[action(base)], allowed_networks=["127.0.0.0/8"])
    ours = tk.get_tools()[0]
    session = expert_session()
    hand = hand_written_tool(base, session)
    for i in range(200):  # warm both pools
        ours.invoke(tool_call(ours.name, i))
        hand.invoke(tool_call(hand.name, i))
    ratios = []
    for _ in range(3):  # three interleaved blocks, to see the spread
        ta, tb = interleaved(
            lambda: ours.invoke(tool_call(ours.name, 0)),
            lambda: hand.invoke(tool_call(hand.name, 0)),
            n,
        )
        m_ours, m_hand = statistics.median(ta), statistics.median(tb)
        ratios.append(m_ours / m_hand)
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    row(f"1. per call: compiled action vs expert @tool (shared Session, trust_env=False); blocks {spread}",
        f"{m_ours * 1e6:.0f} µs", f"{m_hand * 1e6:.0f} µs", statistics.median(ratios), "<= 0.90")  # fmt: skip
    # The same calls in CPU time of this process (all its threads): what a shared,
    # loaded machine's wall clock hides (the server runs in its own process).
    ta, tb = interleaved(
        lambda: ours.invoke(tool_call(ours.name, 0)),
        lambda: hand.invoke(tool_call(hand.name, 0)),
        n,
        clock=time.process_time,
    )
    c_ours, c_hand = statistics.median(ta), statistics.median(tb)
    row("1c. per call, CPU time of the calling process (same calls, interleaved)",
        f"{c_ours * 1e6:.0f} µs", f"{c_hand * 1e6:.0f} µs", c_ours / c_hand, "<= 0.90")  # fmt: skip
    tk.close()
    session.close()


# --------------------------------------------------------------------------- 1d. ainvoke


def async_hand_written_tool(base: str, client: Any) -> StructuredTool:
    """The expert's async tool: a coroutine on one shared `httpx.AsyncClient`."""

    @tool
    async def order_status(order_number: str) -> str:
        """Use this action when the visitor asks about the status of their order."""
        r = await client.get(
            f"{base}/orders/{order_number}", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        r.raise_for_status()
        return order_fields(r.json()["order"])

    return order_status


def bench_per_call_async(base: str, n: int) -> None:
    """Rows 1d and 1e: `ainvoke` in one running event loop, interleaved, vs the expert's
    async tool on a shared `httpx.AsyncClient` (trust_env=False)."""
    try:
        import httpx
    except ImportError:
        print("1d. skipped: httpx is not installed (pip install -e '.[bench]')")
        return
    tk = ApiActionsToolkit(actions=[action(base)], allowed_networks=["127.0.0.0/8"])
    ours = tk.get_tools()[0]

    async def measure() -> tuple[list[float], list[float], list[float], list[float]]:
        async with httpx.AsyncClient(trust_env=False) as client:
            hand = async_hand_written_tool(base, client)
            for i in range(200):  # warm both pools
                await ours.ainvoke(tool_call(ours.name, i))
                await hand.ainvoke(tool_call(hand.name, i))
            out: list[list[float]] = [[], [], [], []]
            for clock, (wa, wb) in ((time.perf_counter, (0, 1)), (time.process_time, (2, 3))):
                with frozen_heap():
                    for _ in range(n):
                        gc.collect()
                        t0 = clock()
                        await ours.ainvoke(tool_call(ours.name, 0))
                        t1 = clock()
                        gc.collect()
                        t2 = clock()
                        await hand.ainvoke(tool_call(hand.name, 0))
                        t3 = clock()
                        out[wa].append(t1 - t0)
                        out[wb].append(t3 - t2)
            return out[0], out[1], out[2], out[3]

    ta, tb, ca, cb = asyncio.run(measure())
    m_ours, m_hand = statistics.median(ta), statistics.median(tb)
    row("1d. ainvoke: compiled action vs expert async @tool (shared httpx.AsyncClient)",
        f"{m_ours * 1e6:.0f} µs", f"{m_hand * 1e6:.0f} µs", m_ours / m_hand, "<= 1.00")  # fmt: skip
    c_ours, c_hand = statistics.median(ca), statistics.median(cb)
    row("1e. ainvoke, CPU time of the calling process (same calls, interleaved)",
        f"{c_ours * 1e6:.0f} µs", f"{c_hand * 1e6:.0f} µs", c_ours / c_hand, "(reported)")  # fmt: skip
    tk.close()


# --------------------------------------------------------------------------- 1b. agent turn


def bench_agent_turn(base: str, n: int) -> None:
    """One visitor turn (model -> tool -> model) with the same offline model, prompt,
    checkpointer and an expert's tool, vs `create_api_actions_agent`."""
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver

    from langchain_apiactions import DEFAULT_SYSTEM_PROMPT, OfflineChatModel

    tk = ApiActionsToolkit(actions=[action(base)], allowed_networks=["127.0.0.0/8"])
    ours = create_api_actions_agent(OfflineChatModel(), tk, checkpointer=InMemorySaver())
    session = expert_session()
    plain = create_agent(
        OfflineChatModel(),
        [hand_written_tool(base, session)],
        system_prompt=DEFAULT_SYSTEM_PROMPT,
        checkpointer=InMemorySaver(),
    )
    from bench_binding import agent_turns  # benchmarks/ is on sys.path

    turn = agent_turns("What is the status of my order #12345?")

    for _ in range(20):
        turn(ours)()
        turn(plain)()
    ratios = []
    for _ in range(3):
        ta, tb = interleaved(turn(ours), turn(plain), n)
        m_ours, m_hand = statistics.median(ta), statistics.median(tb)
        ratios.append(m_ours / m_hand)
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    row(f"1b. one agent turn: create_api_actions_agent vs create_agent + expert tool; blocks {spread}",
        f"{m_ours * 1000:.2f} ms", f"{m_hand * 1000:.2f} ms", statistics.median(ratios), "<= 1.05 (never > 1.10)")  # fmt: skip
    tk.close()
    session.close()


# --------------------------------------------------------------------------- 3d. binding


def bench_binding_row(base: str, n: int) -> None:
    """Row 3d (`bench_binding.py`): the catalogue is the order action and 999 actions of
    the Kubernetes import."""
    from bench_binding import bench_binding, kubernetes_fillers  # benchmarks/ is on sys.path

    bench_binding(action(base), kubernetes_fillers(), n, interleaved, row)


# --------------------------------------------------------------------------- 2. parallel


class ParallelCallsModel(BaseChatModel):
    """Emits `calls` parallel tool calls, then a final answer."""

    calls: int = 8
    turn: int = 0

    @property
    def _llm_type(self) -> str:
        return "parallel-calls"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        if messages and messages[-1].type == "tool":
            msg = AIMessage(content="done")
        else:
            msg = AIMessage(
                content="", tool_calls=[tool_call("Slow", i) for i in range(self.calls)]
            )
        return ChatResult(generations=[ChatGeneration(message=msg)])


def bench_parallel(base: str) -> None:
    tk = ApiActionsToolkit(actions=[action(base, "slow", "Slow")], allowed_networks=["127.0.0.0/8"])
    slow = tk.get_tools()[0]
    slow.invoke(tool_call("Slow", 0))
    t0 = time.perf_counter()
    slow.invoke(tool_call("Slow", 0))
    one = time.perf_counter() - t0

    async def batch() -> float:
        t = time.perf_counter()
        results = await slow.abatch([tool_call("Slow", i) for i in range(8)])
        assert all(r.artifact["ok"] for r in results)
        return time.perf_counter() - t

    total = asyncio.run(batch())
    row("2a. 8 parallel calls (abatch), 200 ms endpoint",
        f"{total * 1000:.0f} ms", f"{one * 1000:.0f} ms", total / one, "<= 1.3")  # fmt: skip

    def agent_run(calls: int, sync: bool) -> float:
        agent = create_api_actions_agent(ParallelCallsModel(calls=calls), tk)
        payload = {"messages": [{"role": "user", "content": "go"}]}
        cfg = {"configurable": {"thread_id": f"t{calls}{sync}{time.perf_counter()}"}}
        t = time.perf_counter()
        if sync:
            agent.invoke(payload, cfg)
        else:
            asyncio.run(agent.ainvoke(payload, cfg))
        return time.perf_counter() - t

    agent_run(1, True)
    for sync in (True, False):
        single = agent_run(1, sync)
        eight = agent_run(8, sync)
        label = "invoke" if sync else "ainvoke"
        row(f"2b. 8 parallel tool calls via create_agent/ToolNode ({label})",
            f"{eight * 1000:.0f} ms", f"{single * 1000:.0f} ms", eight / single, "<= 1.3")  # fmt: skip
    tk.close()


# --------------------------------------------------------------------------- 3. compile


def bench_compile(n: int) -> None:
    specs = [action("https://api.example.com", name=f"Action_{i}") for i in range(n)]
    for i, spec in enumerate(specs):  # distinct paths, so no cache makes this look better
        for field in spec["response_fields"]:
            field["path"] = f"v{i}.{field['path']}"
    env = {"BENCH_KEY": KEY}

    def ours() -> Any:
        compile_path.cache_clear()  # every run compiles from scratch
        return ApiActionsToolkit(actions=specs, env=env).get_tools()

    def hand() -> list[StructuredTool]:
        tools = []
        for spec in specs:
            args = create_model(
                f"{spec['name']}_args",
                order_number=(str, Field(description="Order number")),
            )
            tools.append(
                StructuredTool.from_function(
                    func=lambda order_number: order_number,
                    name=spec["name"],
                    description=spec["when_to_use"],
                    args_schema=args,
                )
            )
        return tools

    ours()
    hand()
    ta, tb = interleaved(ours, hand, 5)
    m_ours, m_hand = statistics.median(ta), statistics.median(tb)
    row(f"3a. load + compile {n} actions vs {n} hand-built StructuredTools",
        f"{m_ours * 1000:.0f} ms", f"{m_hand * 1000:.0f} ms", m_ours / m_hand, "<= 2")  # fmt: skip

    def memory(build: Callable[[], Any]) -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del kept
        return (after - before) / n

    # The same actions as YAML text: parsing it is the only difference.
    import yaml

    text = yaml.safe_dump({"actions": specs}, sort_keys=False)

    def from_yaml() -> Any:
        return load_actions(text)

    def from_dicts() -> Any:
        return load_actions(specs)

    from_yaml()
    ratios = []
    for _ in range(3):
        ta, tb = interleaved(from_yaml, from_dicts, 3)
        ratios.append(statistics.median(ta) / statistics.median(tb))
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    row(f"3c. load {n} actions from YAML text vs the same as dicts; blocks {spread}",
        f"{statistics.median(ta) * 1000:.0f} ms", f"{statistics.median(tb) * 1000:.0f} ms", statistics.median(ratios), "<= 2")  # fmt: skip

    mem_ours, mem_hand = memory(ours), memory(hand)
    row("3b. memory per tool",
        f"{mem_ours / 1024:.1f} KiB", f"{mem_hand / 1024:.1f} KiB", mem_ours / mem_hand, "(reported)")  # fmt: skip


# --------------------------------------------------------------------------- 4. extraction


def bench_extraction(n: int) -> None:
    tk = ApiActionsToolkit(actions=[action("https://api.example.com")], env={"BENCH_KEY": KEY})
    pipeline = tk.get_tool(tk.actions[0].name).pipeline
    http = HttpResult(status=200, body=MEGA)

    def ours() -> Any:  # what the model gets: the fields, extracted and masked
        return pipeline.outcome(pipeline.interpret(http)).artifact["data"]

    def baseline() -> Any:
        return json.loads(MEGA)

    assert ours()["status"] == "Shipped"
    ta, tb = interleaved(ours, baseline, n)
    m_ours, m_hand = statistics.median(ta), statistics.median(tb)
    row(f"4. {len(MEGA) / 1e6:.1f} MB JSON, fields extracted vs json.loads alone",
        f"{m_ours * 1000:.2f} ms", f"{m_hand * 1000:.2f} ms", m_ours / m_hand, "<= 1.2")  # fmt: skip


# --------------------------------------------------------------------------- 5. context


def bench_context(base: str) -> None:
    tk = ApiActionsToolkit(actions=[action(base, "large")], allowed_networks=["127.0.0.0/8"])
    msg = tk.get_tools()[0].invoke(tool_call("Order_Status", 0))
    whole = requests.get(f"{base}/large/12345", timeout=10).text
    ours = len(msg.content)
    row(f"5. characters the model reads ({len(whole) / 1024:.0f} KB order)",
        f"{ours:,}", f"{len(whole):,}", f"-{(1 - ours / len(whole)) * 100:.1f}%", ">= 95% smaller")  # fmt: skip
    tk.close()


# --------------------------------------------------------------------------- 6. start-up


VALIDATE_FILE = """\
actions:
  - name: Check_Order_Status
    when_to_use: Use when the visitor asks about the status of their order or a shipment.
    method: GET
    url: https://api.example.com/orders/{order_number}
    inputs: [{name: order_number, required: true, description: The order number}]
    headers: {Authorization: "Bearer ${STORE_API_KEY}"}
    response_fields: [status, carrier, estimated_delivery]
"""


def _command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "apiactions")
    return (
        [script] if os.path.exists(script) else [sys.executable, "-m", "langchain_apiactions.cli"]
    )


def bench_startup(n: int) -> None:
    """Fresh processes: `apiactions --help` / `validate` vs importing what a file needs."""
    import tempfile

    # An installed package has its .pyc files: PYTHONDONTWRITEBYTECODE (set in some shells
    # and containers) would have every run compile our modules from source, while the
    # baseline's packages came with theirs. The warm-up below writes them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(argv: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "actions.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(VALIDATE_FILE)
        base = [sys.executable, "-c", "import requests, yaml, pydantic"]
        commands = {"--help": [*_command(), "--help"], "validate": [*_command(), "validate", path]}
        for argv in [base, *commands.values()]:  # warm the file cache and .pyc files
            run(argv)
        times: dict[str, list[float]] = {"base": [], **{k: [] for k in commands}}
        for _ in range(n):  # interleaved: each round runs all three once
            times["base"].append(run(base))
            for name, argv in commands.items():
                times[name].append(run(argv))
    m_base = statistics.median(times["base"])
    for name in commands:
        m = statistics.median(times[name])
        row(f"6. start-up: `apiactions {name}` vs `python -c \"import requests, yaml, pydantic\"`",
            f"{m * 1000:.0f} ms", f"{m_base * 1000:.0f} ms", m / m_base, "<= 1.5 (never > 2)")  # fmt: skip


def machine() -> str:
    """CPU model, cores, OS and Python: what the README's table names."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated: call,acall,peers,fastmcp,turn,binding,mcp,parallel,compile,extract,context,startup,import,stores,tracing",
    )
    ns = parser.parse_args()
    os.environ["BENCH_KEY"] = KEY
    print(f"machine: {machine()}")
    only = set(ns.only.split(",")) if ns.only else None

    def want(name: str) -> bool:
        return only is None or name in only

    if any(
        want(n) for n in ("call", "acall", "peers", "turn", "binding", "stores", "mcp", "tracing")
    ):
        fast = FastServer()
        if want("call"):
            bench_per_call(fast.url, 300 if ns.quick else 1500)
        if want("acall"):
            bench_per_call_async(fast.url, 300 if ns.quick else 1500)
        if want("peers"):
            from bench_peers import bench_peers  # benchmarks/ is on sys.path

            session = expert_session()
            expert = hand_written_tool(fast.url, session)
            payload = tool_call(expert.name, 0)
            bench_peers(fast.url, action(fast.url), KEY, lambda: expert.invoke(payload),
                        300 if ns.quick else 1500, row)  # fmt: skip
            session.close()
        if want("turn"):
            bench_agent_turn(fast.url, 30 if ns.quick else 150)
        if want("binding"):
            bench_binding_row(fast.url, 20 if ns.quick else 60)
        if want("stores"):
            from bench_stores import bench_stores  # benchmarks/ is on sys.path

            bench_stores(fast.url, 300 if ns.quick else 1500, interleaved, row)
        if want("tracing"):
            from bench_tracing import bench_tracing  # benchmarks/ is on sys.path

            bench_tracing(fast.url, action(fast.url), 300 if ns.quick else 1500, interleaved, row)
        if want("mcp"):
            from bench_mcp import bench_mcp_stdio  # benchmarks/ is on sys.path

            bench_mcp_stdio(action(fast.url), 200 if ns.quick else 1000, row)
        fast.close()
    server, base = start_server()
    if want("parallel"):
        bench_parallel(base)
    if want("compile"):
        bench_compile(1000)
    if want("extract"):
        bench_extraction(5 if ns.quick else 20)
    if want("context"):
        bench_context(base)
    if want("startup"):
        bench_startup(5 if ns.quick else 15)
    if want("import"):
        from bench_importers import bench_openapi_import  # benchmarks/ is on sys.path

        bench_openapi_import(1 if ns.quick else 5, interleaved, row)
    if want("fastmcp"):
        from bench_importers import bench_vs_fastmcp  # benchmarks/ is on sys.path

        bench_vs_fastmcp(3 if ns.quick else 7, interleaved, row)
    server.shutdown()
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump(
                [dict(zip(("what", "ours", "baseline", "ratio", "target"), r)) for r in ROWS],
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
