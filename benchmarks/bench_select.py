"""Large catalogues: action selection recall, agent turn cost, toolkit build and memory.

    python benchmarks/bench_select.py            # everything (a few minutes)
    python benchmarks/bench_select.py --quick    # fewer repetitions
    python benchmarks/bench_select.py --only recall,turn,build

1. Recall@1/5/10 of `select_actions` on MetaTool's 199 tools (995 held-out queries;
   `benchmarks/data/metatool/`, MIT licence, cited there), each ranker, with and without
   3 `examples:` per tool.
2. One agent turn (offline model, model -> tool -> model) with 1,000 actions and
   `select=8` vs the same turn with 10 actions bound whole, interleaved medians; and the
   tool-schema characters sent per model call vs binding all 1,000.
3. Building the toolkit of the Kubernetes import (1,065 actions) vs `load_actions` of the
   same file, interleaved medians; memory per declared action (no tool built) and per
   built tool.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from langchain_core.utils.function_calling import convert_to_openai_tool

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from run import KEY, FastServer, action, interleaved, machine, row  # noqa: E402

from langchain_apiactions import (  # noqa: E402
    ApiActionsToolkit,
    OfflineChatModel,
    create_api_actions_agent,
    load_actions,
)
from langchain_apiactions.agent_selection import selected_actions  # noqa: E402
from langchain_apiactions.importers import from_openapi  # noqa: E402

DATA = HERE / "data" / "metatool" / "metatool_subset.json"
KUBERNETES = HERE.parent / "tests" / "data" / "openapi" / "kubernetes-2.0.json.gz"


def _name(tool: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", tool)


def metatool_actions(with_examples: bool) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    actions = [
        {
            "name": _name(t["name"]),
            "when_to_use": t["description"],
            "method": "GET",
            "url": "https://api.example.com/tools",
            **({"examples": t["examples"]} if with_examples else {}),
        }
        for t in data["tools"]
    ]
    return actions, [(q["query"], _name(q["tool"])) for q in data["queries"]]


# --------------------------------------------------------------------------- 1. recall


def bench_recall() -> None:
    for with_examples in (False, True):
        actions, queries = metatool_actions(with_examples)
        for ranker in ("lexical", "semantic", "hybrid"):
            with ApiActionsToolkit(actions=actions, select_ranker=ranker) as toolkit:
                toolkit.select_actions("warm up")
                hits = {1: 0, 5: 0, 10: 0}
                start = time.perf_counter()
                for text, expected in queries:
                    top = toolkit.select_actions(text, k=10)
                    for k in hits:
                        hits[k] += expected in top[:k]
                per_query = (time.perf_counter() - start) / len(queries)
            recall = {k: v / len(queries) for k, v in hits.items()}
            default = " (the default)" if ranker == "hybrid" else ""
            label = "3 examples per tool" if with_examples else "no examples"
            row(
                f"S1. Recall@10, {ranker}{default}, MetaTool 199 tools, {label}",
                f"{recall[10]:.3f}",
                f"@5 {recall[5]:.3f} @1 {recall[1]:.3f}",
                f"{per_query * 1000:.2f} ms/q",
                ">= 0.85 with examples (default)",
            )


# --------------------------------------------------------------------------- 2. agent turn


def kubernetes_actions(base_url: str = "https://k8s.example.com") -> list[dict[str, Any]]:
    spec = json.loads(gzip.decompress(KUBERNETES.read_bytes()))
    actions: list[dict[str, Any]] = from_openapi(spec, base_url=base_url)["actions"]
    return actions


def _schema_chars(toolkit: ApiActionsToolkit, names: list[str]) -> int:
    return sum(
        len(json.dumps(convert_to_openai_tool(toolkit.get_tool(n)), ensure_ascii=False))
        for n in names
    )


def bench_turn(base: str, n: int) -> None:
    order = action(base)
    fillers = [a for a in kubernetes_actions() if not a.get("auth")]
    small = ApiActionsToolkit(actions=[order, *fillers[:9]], allowed_networks=["127.0.0.0/8"])
    large = ApiActionsToolkit(actions=[order, *fillers[:999]], allowed_networks=["127.0.0.0/8"])
    assert len(large.actions) == 1000
    whole = create_api_actions_agent(OfflineChatModel(), small)
    selecting = create_api_actions_agent(OfflineChatModel(), large, select=8)
    payload = {"messages": [{"role": "user", "content": "What is the status of my order #12345?"}]}
    counter = iter(range(10**9))
    bound: list[list[str]] = []

    def turn(agent: Any, record: bool = False) -> Callable[[], Any]:
        def run() -> Any:
            out = agent.invoke(payload, {"configurable": {"thread_id": f"t{next(counter)}"}})
            assert out["messages"][2].type == "tool", out["messages"]
            assert out["messages"][2].name == order["name"]
            if record:
                bound.extend(
                    names for m in out["messages"] if (names := selected_actions(m)) is not None
                )
            return out

        return run

    turn(selecting, record=True)()
    for _ in range(20):
        turn(whole)()
        turn(selecting)()
    ratios = []
    for _ in range(3):
        ta, tb = interleaved(turn(selecting), turn(whole), n)
        m_sel, m_whole = statistics.median(ta), statistics.median(tb)
        ratios.append(m_sel / m_whole)
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    row(
        f"S2. agent turn: 1,000 actions select=8 vs 10 actions; blocks {spread}",
        f"{m_sel * 1000:.2f} ms",
        f"{m_whole * 1000:.2f} ms",
        statistics.median(ratios),
        "<= 1.2",
    )
    built = len(large.built_tools)  # before measuring every schema builds them all
    per_call = [_schema_chars(large, names) for names in bound]
    everything = _schema_chars(large, [a.name for a in large.actions])
    mean = statistics.mean(per_call)
    row(
        f"S3. tool-schema characters per model call ({len(per_call)} calls, {len(bound[0])} tools)",
        f"{mean:,.0f} chars",
        f"{everything:,} chars (all 1,000)",
        f"{mean / everything:.2%}",
        "<= 5%",
    )
    row(
        "S3b. tools built after the turns (of 1,000 declared)",
        f"{built}",
        "1000",
        f"{built / 1000:.1%}",
        "grows with use",
    )
    small.close()
    large.close()


# --------------------------------------------------------------------------- 3. build, memory


def bench_build(n: int) -> None:
    actions = kubernetes_actions()
    path = Path(tempfile.mkdtemp()) / "kubernetes.yaml"
    path.write_text(yaml.safe_dump({"actions": actions}, sort_keys=False), encoding="utf-8")
    loaded = load_actions(path)
    env = {s: f"bench-{s.lower()}-value-0123456789" for a in loaded for s in a.secret_names()}
    count = len(loaded)

    def build() -> None:
        ApiActionsToolkit.from_file(path, env=env).close()

    ta, tb = interleaved(build, lambda: load_actions(path), n)
    m_build, m_load = statistics.median(ta), statistics.median(tb)
    row(
        f"S4. toolkit of the Kubernetes import ({count} actions) vs load_actions",
        f"{m_build * 1000:.0f} ms",
        f"{m_load * 1000:.0f} ms",
        m_build / m_load,
        "<= 1.5",
    )

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    toolkit = ApiActionsToolkit.from_file(path, env=env)
    declared = tracemalloc.get_traced_memory()[0] - before
    middle = tracemalloc.get_traced_memory()[0]
    toolkit.get_tools()
    built = tracemalloc.get_traced_memory()[0] - middle
    tracemalloc.stop()
    toolkit.close()
    row(
        "S5. memory per declared action, no tool built (validated, templates compiled)",
        f"{declared / count:,.0f} B",
        f"+{built / count:,.0f} B/tool built",
        f"{declared / (declared + built):.2f}",
        "reported",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated: recall,turn,build")
    ns = parser.parse_args()
    os.environ["BENCH_KEY"] = KEY
    logging.getLogger("langchain_apiactions").setLevel(logging.WARNING)  # one line per call
    only = set(ns.only.split(",")) if ns.only else {"recall", "turn", "build"}
    print(f"machine: {machine()}")
    if "recall" in only:
        bench_recall()
    if "turn" in only:
        fast = FastServer()
        try:
            bench_turn(fast.url, 30 if ns.quick else 150)
        finally:
            fast.close()
    if "build" in only:
        bench_build(3 if ns.quick else 7)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
