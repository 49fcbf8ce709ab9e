"""Soaks: connections under deadlines (issue 9), and repeats across workers (issue 24).

**Deadlines.** Each round, 8 GETs get a 503 with `Retry-After: 1`, retry, and time out (the retry is
answered after 3 s, the deadline is 1.6 s) while 16 POSTs (answered after 1.5 s) share
the pool; urllib3 hands the GETs' first connections to POSTs while the GETs wait. Every
POST that reached the server must come back `ok: true`.

    .venv/bin/python benchmarks/soak.py [rounds]

Exits 1 if any POST that reached the server failed. Loopback only.

**Repeats.** Three worker processes share a session store (a SQLite file, then a real
redis-server) and place one order per session (`once_per_session`) at an API that
deduplicates by `Idempotency-Key` and, for a third of the sessions each, commits and
then answers 500, commits and then answers after the deadline (an unknown outcome), or
commits and answers 201. Whenever the model is told the call may be tried again, the
visitor asks again and the next try goes to another worker. Each session must end with
at most one order at the API and the visitor told the truth (done only if there is an
order, not done only if there is none; "not confirmed" is true either way). The same
run without `idempotency_key` is the baseline (today's duplicates).

    .venv/bin/python benchmarks/soak.py --repeats [sessions]

Exits 1 on any duplicate order or untrue answer with keys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from apiserver import ApiServer, Recorded, Reply
from redisserver import RedisServer

from langchain_apiactions import ApiActionsToolkit


def _invoke(tool: Any, args: dict[str, Any], session: str) -> Any:
    call = {"name": tool.name, "args": args, "id": "c", "type": "tool_call"}
    return tool.invoke(call, config={"configurable": {"session_id": session}}).artifact


def soak(rounds: int = 4, gets: int = 8, posts: int = 16) -> tuple[int, int, int]:
    """(POSTs sent, POSTs that reached the server, of those the ones that came back ok)."""
    ThreadingHTTPServer.request_queue_size = 128
    api = ApiServer().start()
    lock = threading.Lock()
    seen: set[str] = set()

    def flaky(rec: Recorded) -> Reply:
        with lock:
            first = rec.query not in seen
            seen.add(rec.query)
        if first:
            return Reply(503, {"message": "busy"}, headers={"Retry-After": "1"})
        return Reply(200, {"status": "late"}, delay=3)

    api.route("GET", "/flaky", flaky)
    api.route("POST", "/orders", Reply(201, {"status": "created"}, delay=1.5))
    actions = [
        {
            "name": "Check",
            "when_to_use": "Use when checking the status.",
            "method": "GET",
            "url": api.url + "/flaky?id={id}",
            "inputs": [{"name": "id", "required": True}],
            "timeout": 1.6,
        },
        {
            "name": "Order",
            "when_to_use": "Use when placing an order.",
            "method": "POST",
            "url": api.url + "/orders",
            "inputs": [{"name": "n", "type": "number", "required": True}],
            "body": {"n": "{n}"},
            "timeout": 8,
        },
    ]
    results: dict[int, Any] = {}
    with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
        get, post = tk.get_tools()

        def do_post(n: int) -> None:
            results[n] = _invoke(post, {"n": n}, f"p{n}")

        for r in range(rounds):
            getters = [
                threading.Thread(target=_invoke, args=(get, {"id": f"{r}-{i}"}, "g"))
                for i in range(gets)
            ]
            for t in getters:
                t.start()
            time.sleep(0.2)  # the 503s are read; their connections are back in the pool
            posters = [
                threading.Thread(target=do_post, args=(r * posts + i,)) for i in range(posts)
            ]
            for t in posters:
                t.start()
            for t in getters + posters:
                t.join()
    api.stop()
    reached = {rec.json["n"] for rec in api.requests if rec.method == "POST"}
    ok = sum(1 for n in reached if results[n]["ok"])
    return rounds * posts, len(reached), ok


# --------------------------------------------------------------------------- repeats

ORDER = """
actions:
  - name: Place_Order
    when_to_use: Use this when the visitor asks to place their order.
    method: POST
    url: {api}/orders
    inputs: [{{name: item, required: true}}]
    body: {{item: "{{item}}", session: "{{session_id}}"}}
    once_per_session: true
    idempotency_key: {keys}
    timeout: 1
"""


def repeats_worker(store_url: str, api: str, keys: str, sessions: list[str]) -> dict[str, Any]:
    """One worker process: one try of each session's order; what the visitor is told."""
    toolkit = ApiActionsToolkit(
        actions=ORDER.format(api=api, keys=keys),
        allowed_networks=["127.0.0.0/8"],
        session_store=store_url,
    )
    tool = toolkit.get_tool("Place_Order")

    def one(session: str) -> tuple[str, dict[str, Any]]:
        msg = tool.invoke(
            {
                "name": tool.name,
                "args": {"item": f"pizza-{session}"},
                "id": "c",
                "type": "tool_call",
            },
            config={"configurable": {"session_id": session}},
        )
        art = msg.artifact
        if art["ok"]:
            told = "done"
        elif art["skipped"]:
            told = "already done"  # "I already did that earlier in our conversation"
        elif "Calling again with the same arguments is safe" in msg.content:
            told = "retry"  # the model may call again; the visitor asks again
        else:
            told = "not done"  # "tell the visitor it could not be done right now"
        return session, {"told": told, "status": art["status_code"], "pid": os.getpid()}

    with ThreadPoolExecutor(8) as pool:
        results = dict(pool.map(one, sessions))
    toolkit.close()
    return results


def _keyed_api() -> tuple[ApiServer, Counter[str]]:
    api = ApiServer().start()
    lock = threading.Lock()
    seen: dict[str, dict[str, Any]] = {}
    orders: Counter[str] = Counter()

    def place(rec: Recorded) -> Reply:
        key = rec.headers.get("Idempotency-Key")
        session = rec.json["session"]
        with lock:
            if key is not None and key in seen:
                return Reply(200, seen[key])  # deduplicated: nothing committed again
            orders[session] += 1
            order = {"order_id": f"o-{sum(orders.values())}", "session": session}
            if key is not None:
                seen[key] = order
        fault = int(session.rsplit("-", 1)[1]) % 3
        if fault == 0:
            return Reply(500, {"message": "internal error"})  # committed, then 500
        if fault == 1:
            return Reply(201, order, delay=1.5)  # committed, answered after the deadline
        return Reply(201, order)

    api.route("POST", "/orders", place)
    return api, orders


def soak_repeats(store_url: str, keys: bool, sessions: int = 60) -> dict[str, int]:
    """Duplicates and untrue answers over `sessions` sessions and three workers."""
    api, orders = _keyed_api()
    names = [f"v-{i}" for i in range(sessions)]
    told: dict[str, str] = {}
    pending = list(names)
    here = str(Path(__file__).resolve())
    tries = 0
    for attempt in range(4):
        if not pending:
            break
        tries += len(pending)
        groups: list[list[str]] = [[], [], []]
        for i, name in enumerate(pending):  # a retry goes to another worker
            groups[(i + attempt) % 3].append(name)
        procs = [
            subprocess.Popen(
                [sys.executable, here, "--repeats-worker", store_url, api.url,
                 "true" if keys else "false", *group],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for group in groups
            if group
        ]  # fmt: skip
        answers: dict[str, dict[str, Any]] = {}
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(err)
            answers.update(json.loads(out.strip().splitlines()[-1]))
        pending = []
        for name, answer in answers.items():
            told[name] = answer["told"]
            # The visitor asks again when told it failed or may be tried again.
            if answer["told"] in ("retry", "not done"):
                pending.append(name)
    api.stop()
    duplicates = sum(n - 1 for n in orders.values() if n > 1)

    def true(name: str) -> bool:
        if told[name] in ("done", "already done"):
            return orders[name] == 1
        return told[name] != "not done" or orders[name] == 0

    untrue = sum(1 for name in names if not true(name))
    return {
        "sessions": sessions,
        "tries": tries,
        "orders": sum(orders.values()),
        "duplicates": duplicates,
        "untrue": untrue,
        "unconfirmed at the end": sum(1 for t in told.values() if t == "retry"),
    }


def main_repeats(sessions: int) -> int:
    tmp = tempfile.mkdtemp(prefix="apiactions-soak-")
    redis = RedisServer(Path(tmp)).start() if shutil.which("redis-server") else None
    bad = 0
    try:
        stores = [("SQLite", lambda n: f"sqlite:///{tmp}/{n}.db")]
        if redis is not None:
            stores.append(("Redis", lambda n: redis.url.rsplit("/", 1)[0] + f"/{n}"))
        for label, url in stores:
            for keys, db in ((False, 1), (True, 2)):
                result = soak_repeats(url(db), keys, sessions)
                name = "with idempotency_key" if keys else "without (baseline)"
                print(f"{label:<6} {name:<22} " + ", ".join(f"{k} {v}" for k, v in result.items()))
                if keys:
                    bad += result["duplicates"] + result["untrue"]
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--repeats-worker"]:
        store_url, api_url, keys, *group = sys.argv[2:]
        print(json.dumps(repeats_worker(store_url, api_url, keys, group)))
        sys.exit(0)
    if sys.argv[1:2] == ["--repeats"]:
        sys.exit(main_repeats(int(sys.argv[2]) if len(sys.argv) > 2 else 60))
    sent, reached, ok = soak(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    print(f"POSTs sent {sent}, reached the server {reached}, came back ok: true {ok}/{reached}")
    sys.exit(0 if ok == reached else 1)
