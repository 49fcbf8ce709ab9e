"""Soaks: connections under deadlines (issue 9), and repeats across workers (issue 24).

**Deadlines.** Each round, 8 GETs get a 503 with `Retry-After: 1`, retry, and time out (the retry is
answered after 3 s, the deadline is 1.6 s) while 16 POSTs (answered after 1.5 s) share
the pool; urllib3 hands the GETs' first connections to POSTs while the GETs wait. Every
POST that reached the server must come back `ok: true` (part of the run below).

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

**What must keep holding** (issue 19), `benchmarks/soak.py [--quick]`, which also runs the
deadline soak above:

- Once per session: three worker processes on SQLite and on Redis call the same sessions
  at once against a slow, a truncating and a failing API; one more worker is killed
  mid-run and a new one takes over. No session may have two POSTs the API kept, and no
  exception may leave a tool call.
- A SQLite store deleted under two workers (item 9): every later call refused, nothing
  sent. A store held by another process (item 10) and calls queued for a worker thread
  (item 11): no call outlives its deadline, and `elapsed_ms` is the caller's time.
- Deadlines under a trickling server and a short body: the caller waits at most a little
  past `timeout`.
- No thread, file descriptor or memory growth over many calls and toolkit lifecycles.

Exits 1 if any of these did not hold. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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


# --------------------------------------------------------------------------- issue 19

WORKER = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from langchain_apiactions import ApiActionsToolkit

store_url, api, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
toolkit = ApiActionsToolkit(
    actions=[{
        "name": "Welcome_Coupon",
        "when_to_use": "Use when the visitor asks for their one welcome coupon code.",
        "method": "POST", "url": api + "/coupon", "body": {"session": "{session_id}"},
        "once_per_session": True, "timeout": timeout,
    }],
    allowed_networks=["127.0.0.0/8"],
    session_store=store_url,
)
tool = toolkit.get_tool("Welcome_Coupon")
print("ready", flush=True)
escaped = 0

def one(session):
    global escaped
    try:
        art = tool.invoke(
            {"name": tool.name, "args": {}, "id": "c", "type": "tool_call"},
            config={"configurable": {"session_id": session}},
        ).artifact
        return "ok" if art["ok"] else ("skipped" if art["skipped"] else "error")
    except Exception:
        escaped += 1
        return "escaped"

for line in sys.stdin:
    with ThreadPoolExecutor(8) as pool:
        states = list(pool.map(one, line.split()))
    print(json.dumps({"states": states, "escaped": escaped}), flush=True)
toolkit.close()
"""


def _coupon_api() -> tuple[ApiServer, dict[str, list[int]]]:
    """A coupon API that is slow for a third of the sessions, answers with a lying
    `Content-Length` (the outcome is unknown: processed, never fully answered) for a
    third, and fails with 500 (nothing kept: the visitor may try again) for the rest."""
    api = ApiServer().start()
    posts: dict[str, list[int]] = {}
    lock = threading.Lock()

    def coupon(rec: Recorded) -> Reply:
        session = rec.json["session"]
        kind = sum(map(ord, session)) % 3
        status = 500 if kind == 2 else 200
        with lock:
            posts.setdefault(session, []).append(status)
        if kind == 0:
            return Reply(200, {"code": "WELCOME"}, delay=0.2)
        if kind == 1:
            return Reply(200, {"code": "WELCOME"}, headers={"Content-Length": "4096"})
        return Reply(500, {"message": "try again"})

    api.route("POST", "/coupon", coupon)
    return api, posts


class _Worker:
    def __init__(self, script: Path, store_url: str, api: str, timeout: float = 1.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), store_url, api, str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def send(self, sessions: list[str]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(" ".join(sessions) + "\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"states": [], "escaped": 0, "died": True}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.communicate(timeout=60)


def once_per_session(store_url: str, sessions: int, workdir: Path) -> dict[str, int]:
    """Three worker processes call the same sessions at once; then one is killed mid-run
    and a new one takes over. Counts POSTs the API kept (2xx or unknown outcome) more
    than once per session, and exceptions that left a tool call."""
    script = workdir / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    api, posts = _coupon_api()
    ids = [f"s{i}-{uuid.uuid4().hex[:6]}" for i in range(sessions)]
    workers = [_Worker(script, store_url, api.url) for _ in range(3)]
    for w in workers:
        w.send(ids)
    escaped = sum(w.result()["escaped"] for w in workers)
    # A worker killed mid-run (claims in flight), then a new worker on the same store.
    late = [f"k{i}-{uuid.uuid4().hex[:6]}" for i in range(max(8, sessions // 4))]
    victim = _Worker(script, store_url, api.url)
    victim.send(late)
    time.sleep(0.3)
    victim.proc.kill()
    victim.proc.wait()
    fresh = _Worker(script, store_url, api.url)
    fresh.send(late + ids)
    escaped += fresh.result()["escaped"]
    for w in [*workers, fresh]:
        w.stop()
    api.stop()
    kept_twice = sum(1 for statuses in posts.values() if sum(1 for s in statuses if s != 500) > 1)
    return {
        "calls": 3 * sessions + len(late) * 2 + sessions,
        "sessions": len(posts),
        "kept_twice": kept_twice,
        "escaped": escaped,
    }


def deadlines(calls: int) -> dict[str, float]:
    """Max time past the deadline, from the caller's side, against a trickling server
    (slowloris) and a body shorter than its `Content-Length`."""
    api = ApiServer().start()
    api.route("GET", "/slow", Reply(200, {"data": "x" * 400}, trickle=0.05))
    api.route("GET", "/short", Reply(200, {"data": "x"}, headers={"Content-Length": "999"}))
    actions = [
        {"name": f"A_{p}", "when_to_use": f"Use for the {p} check.", "method": "GET",
         "url": f"{api.url}/{p}", "timeout": 0.5}
        for p in ("slow", "short")
    ]  # fmt: skip
    worst = 0.0
    with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
        tools = tk.get_tools()

        def one(i: int) -> float:
            tool = tools[i % 2]
            start = time.monotonic()
            art = _invoke(tool, {}, f"d{i}")
            assert not art["ok"]
            return time.monotonic() - start - 0.5

        with ThreadPoolExecutor(16) as pool:
            worst = max(pool.map(one, range(calls)))
    api.stop()
    return {"calls": calls, "worst_overshoot_ms": round(worst * 1000, 1)}


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def growth(calls: int, lifecycles: int) -> dict[str, float]:
    """Threads, file descriptors and memory before and after `calls` calls on one toolkit
    and `lifecycles` toolkits opened, used and closed."""
    api = ApiServer().start()
    api.route("GET", "/ping", Reply(200, {"ok": True}))
    actions = [{"name": "Ping", "when_to_use": "Use to ping.", "method": "GET",
                "url": f"{api.url}/ping"}]  # fmt: skip

    def warm() -> None:
        with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
            for i in range(50):
                _invoke(tk.get_tools()[0], {}, f"w{i}")

    warm()
    gc.collect()
    before = (threading.active_count(), _fds(), _rss_mb())
    with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
        tool = tk.get_tools()[0]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _invoke(tool, {}, f"g{i % 100}"), range(calls)))
    for _ in range(lifecycles):
        with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
            _invoke(tk.get_tools()[0], {}, "life")
    gc.collect()
    time.sleep(0.5)
    after = (threading.active_count(), _fds(), _rss_mb())
    api.stop()
    return {
        "threads_added": after[0] - before[0],
        "fds_added": after[1] - before[1],
        "rss_added_mb": round(after[2] - before[2], 1),
    }


def deleted_store(sessions: int, workdir: Path) -> dict[str, int]:
    """Issue 19 item 9: the SQLite file deleted under two workers; nothing is sent twice."""
    script = workdir / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    api, posts = _coupon_api()
    db = workdir / f"deleted-{uuid.uuid4().hex[:6]}.db"
    url = f"sqlite:///{db}"
    ids = [f"d{i}" for i in range(sessions)]
    first, second = _Worker(script, url, api.url), _Worker(script, url, api.url)
    first.send(ids[: sessions // 2])
    second.send(ids[sessions // 2 :])
    first.result(), second.result()
    before = sum(len(v) for v in posts.values())
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{db}{suffix}").unlink()
    first.send(ids)
    second.send(ids)
    refused = sum(s == "error" for w in (first, second) for s in w.result()["states"])
    sent_after = sum(len(v) for v in posts.values()) - before
    for w in (first, second):
        w.stop()
    api.stop()
    return {"calls_after_delete": 2 * sessions, "refused": refused, "sent_after_delete": sent_after}


def locked_store(workdir: Path) -> dict[str, float]:
    """Issue 19 item 10: another process holds the SQLite store (`BEGIN EXCLUSIVE`); calls
    with `timeout: 1` must end within their deadline and send nothing."""
    api, posts = _coupon_api()
    db = workdir / f"locked-{uuid.uuid4().hex[:6]}.db"
    actions = [{"name": "Coupon", "when_to_use": "Use for the coupon.", "method": "POST",
                "url": f"{api.url}/coupon", "body": {"session": "{session_id}"},
                "once_per_session": True, "timeout": 1.0}]  # fmt: skip
    with ApiActionsToolkit(
        actions=actions, allowed_networks=["127.0.0.0/8"], session_store=f"sqlite:///{db}"
    ) as tk:
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import sqlite3, sys, time; db = sqlite3.connect(sys.argv[1], isolation_level=None);"
             " db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(8)",
             str(db)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        tool = tk.get_tools()[0]

        def one(i: int) -> float:
            start = time.monotonic()
            _invoke(tool, {}, f"l{i}")
            return time.monotonic() - start

        with ThreadPoolExecutor(8) as pool:
            worst = max(pool.map(one, range(16)))
    holder.kill()
    holder.communicate()
    api.stop()
    return {"calls": 16, "worst_s": round(worst, 2), "sent": sum(map(len, posts.values()))}


def queued(calls: int) -> dict[str, float]:
    """Issue 19 item 11: many concurrent `ainvoke` against a slow API on a small pool;
    from the caller's side no call may outlive its deadline, and `elapsed_ms` tells
    the caller's time."""
    api = ApiServer().start()
    api.route("POST", "/slow", Reply(200, {"ok": True}, delay=0.2))
    actions = [{"name": "Slow", "when_to_use": "Use for the slow one.", "method": "POST",
                "url": f"{api.url}/slow", "timeout": 1.0}]  # fmt: skip

    async def run() -> list[tuple[float, Any]]:
        with ApiActionsToolkit(
            actions=actions, allowed_networks=["127.0.0.0/8"], max_concurrency=16
        ) as tk:
            tool = tk.get_tools()[0]

            async def one(i: int) -> tuple[float, Any]:
                start = time.monotonic()
                message = await tool.ainvoke(
                    {"name": tool.name, "args": {}, "id": f"q{i}", "type": "tool_call"},
                    config={"configurable": {"session_id": f"q{i}"}},
                )
                return time.monotonic() - start, message.artifact

            return await asyncio.gather(*(one(i) for i in range(calls)))

    results = asyncio.run(run())
    api.stop()
    lag = max(
        (abs(art["request"]["elapsed_ms"] / 1000 - took) for took, art in results if art["ok"]),
        default=0.0,
    )
    return {
        "calls": calls,
        "worst_s": round(max(took for took, _ in results), 2),
        "ok": sum(1 for _, art in results if art["ok"]),
        "worst_elapsed_ms_lag_ms": round(lag * 1000, 1),
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    scale = 1 if quick else 5
    failures: list[str] = []
    sent, reached, ok = soak(2 if quick else 4)
    print(f"pool deadline: POSTs sent {sent}, reached the server {reached}, ok {ok}/{reached}")
    if ok != reached:
        failures.append("a POST that reached the server came back failed")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        redis = RedisServer(workdir).start()
        try:
            for label, url in (
                ("sqlite", f"sqlite:///{workdir / 'soak.db'}"),
                ("redis", redis.url),
            ):
                r = once_per_session(url, 40 * scale, workdir)
                print(f"once per session ({label}, 3 workers + a killed one): {r}")
                if r["kept_twice"] or r["escaped"]:
                    failures.append(f"{label}: a session kept two POSTs or an exception escaped")
        finally:
            redis.stop()
        r = deleted_store(20 * scale, workdir)
        print(f"store deleted under two workers: {r}")
        if r["sent_after_delete"] or r["refused"] != r["calls_after_delete"]:
            failures.append("a deleted store let a call through")
    with tempfile.TemporaryDirectory() as tmp:
        r = locked_store(Path(tmp))
    print(f"store held by another process (BEGIN EXCLUSIVE; timeout 1 s): {r}")
    if r["worst_s"] > 1.5 or r["sent"]:
        failures.append("a locked store held a call past its deadline or let it send")
    r = queued(100 * scale)
    print(f"concurrent ainvoke on a 16-thread pool (0.2 s API, timeout 1 s): {r}")
    if r["worst_s"] > 1.5 or r["worst_elapsed_ms_lag_ms"] > 250:
        failures.append("a queued call outlived its deadline or hid its wait")
    r = deadlines(40 * scale)
    print(f"deadlines (slowloris, short body; timeout 0.5 s): {r}")
    if r["worst_overshoot_ms"] > 250:
        failures.append("a deadline was overshot by more than 250 ms")
    r = growth(1000 * scale, 50 * scale)
    print(f"growth after {1000 * scale} calls and {50 * scale} toolkit lifecycles: {r}")
    if r["threads_added"] > 0 or r["fds_added"] > 2 or r["rss_added_mb"] > 30:
        failures.append("threads, file descriptors or memory grew")
    for line in failures:
        print("FAIL:", line)
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--repeats-worker"]:
        store_url, api_url, keys, *group = sys.argv[2:]
        print(json.dumps(repeats_worker(store_url, api_url, keys, group)))
        sys.exit(0)
    if sys.argv[1:2] == ["--repeats"]:
        sys.exit(main_repeats(int(sys.argv[2]) if len(sys.argv) > 2 else 60))
    sys.exit(main(sys.argv[1:]))
