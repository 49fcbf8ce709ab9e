"""Eval: a 60-case run against a loopback model, with and without the response cache;
and the accuracy of both offline choosers on the project's example files.

    python benchmarks/bench_eval.py            # 5 interleaved rounds
    python benchmarks/bench_eval.py --quick    # 2 rounds

1. Wall time of `evaluate()` over 60 cases against an OpenAI-compatible server on
   loopback that answers every request after 20 ms (ChatOpenAI, 8 workers): a cold run
   (empty cache), a warm rerun (every response cached: nothing sent), and `cache=False`.
   Rounds are interleaved; the figures are medians; the ratio is cold / warm.
2. Accuracy (all cases, tune split, holdout split) of `offline` and `offline-semantic`
   on `examples/store_actions.yaml` + `store_cases.yaml` and `examples/dental_clinic.yaml`
   + `dental_cases.yaml`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_apiactions.evaluation import evaluate, load_cases  # noqa: E402

DELAY = 0.020
STORE = ROOT / "examples" / "store_actions.yaml"
ROUTES = [
    ("cancel", "Cancel_Order", "order_number"),
    ("newsletter", "Subscribe_Newsletter", "email"),
    ("offer", "Subscribe_Newsletter", "email"),
    ("discount", "Subscribe_Newsletter", "email"),
    ("damaged", "Create_Support_Ticket", "email"),
    ("wrong item", "Create_Support_Ticket", "email"),
    ("broke", "Create_Support_Ticket", "email"),
    ("complain", "Create_Support_Ticket", "email"),
    ("order", "Check_Order_Status", "order_number"),
    ("package", "Check_Order_Status", "order_number"),
    ("deliver", "Check_Order_Status", "order_number"),
    ("track", "Check_Order_Status", "order_number"),
    ("sell", "Search_Products", "product_query"),
    ("stock", "Search_Products", "product_query"),
    ("how much", "Search_Products", "product_query"),
    ("looking for", "Search_Products", "product_query"),
    ("got any", "Search_Products", "product_query"),
]


def answer(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A model that follows the system prompt: calls by topic, asks for a missing input."""
    users = [str(m.get("content") or "") for m in messages if m["role"] == "user"]
    first = users[0].lower()
    for word, name, needed in ROUTES:
        if word in first:
            said = " ".join(users)
            value: str | None = None
            if needed == "order_number":
                found = re.findall(r"\d{3,}", said)
                value = found[-1] if found else None
            elif needed == "email":
                found = re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", said)
                value = found[-1] if found else None
            else:
                value = first
            if value is None:
                return {
                    "role": "assistant",
                    "content": f"Sure - what is your {needed.replace('_', ' ')}?",
                }
            args = {needed: value}
            if name == "Create_Support_Ticket":
                args["issue_description"] = users[0]
            call = {"id": "call_1", "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)}}  # fmt: skip
            return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": "Sorry, I can only help with the shop."}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    sent = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(DELAY)
        message = answer(body["messages"])
        with Handler.lock:
            Handler.sent += 1
        data = json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "bench",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 600, "completion_tokens": 20, "total_tokens": 620},
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def sixty_cases() -> list[dict[str, Any]]:
    """The store cases, numbered so that each of the 60 is its own request."""
    base = load_cases(ROOT / "examples" / "store_cases.yaml")
    cases = []
    for i in range(60):
        c = base[i % len(base)]
        turns = [*c.turns[:-1], f"{c.turns[-1]} ({i})"]
        expect: Any = list(c.accepted) if c.also else c.expected
        cases.append(
            {"turns": turns, "expect": expect, **({"args": c.arguments} if c.arguments else {})}
        )
    return cases


def bench_cache(rounds: int) -> None:
    from langchain_openai import ChatOpenAI

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    model = ChatOpenAI(model="bench", base_url=url, api_key="bench-key", max_retries=0)
    cases = sixty_cases()
    times: dict[str, list[float]] = {"cold": [], "warm": [], "no cache": []}
    sent: dict[str, list[int]] = {k: [] for k in times}
    accuracy = 0.0
    evaluate(STORE, cases[:8], model, max_workers=8)  # warm up the client and the imports
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            for label, options in (
                ("cold", {"cache_dir": cache}),
                ("warm", {"cache_dir": cache}),
                ("no cache", {"cache_dir": cache, "cache": False}),
            ):
                before = Handler.sent
                start = time.perf_counter()
                result = evaluate(STORE, cases, model, max_workers=8, history=False, **options)
                times[label].append(time.perf_counter() - start)
                sent[label].append(Handler.sent - before)
                accuracy = result.accuracy
    server.shutdown()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"1. 60 cases, loopback model answering in {DELAY * 1000:.0f} ms, 8 workers "
          f"(median of {rounds} interleaved rounds; accuracy {accuracy:.1%})")  # fmt: skip
    for label in times:
        print(
            f"   {label:<9} {med[label]:7.3f} s   requests sent {statistics.median(sent[label]):.0f}"
        )
    print(f"   cold / warm: {med['cold'] / med['warm']:.1f}x;  no cache / warm: "
          f"{med['no cache'] / med['warm']:.1f}x")  # fmt: skip


def bench_offline_accuracy() -> None:
    from langchain_apiactions import OfflineChatModel
    from langchain_apiactions.semantic_model import SemanticOfflineChatModel

    print("2. Offline choosers on the example files (all / tune / holdout)")
    for actions, cases in (("store_actions.yaml", "store_cases.yaml"),
                           ("dental_clinic.yaml", "dental_cases.yaml")):  # fmt: skip
        for model in (OfflineChatModel(), SemanticOfflineChatModel()):
            r = evaluate(ROOT / "examples" / actions, ROOT / "examples" / cases, model)
            split = r.per_split
            print(f"   {actions:<20} {r.run.model:<17} {r.accuracy:6.1%} of {len(r.scored):>2}"
                  f"   tune {split['tune']['accuracy']:6.1%}   holdout {split['holdout']['accuracy']:6.1%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    ns = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    bench_cache(2 if ns.quick else 5)
    bench_offline_accuracy()


if __name__ == "__main__":
    main()
