"""Session stores: claim+finish per call, and the per-call cost of a once-per-session action.

Baselines are what a user would write by hand for the same guarantee: a dict under a lock
(one process), one `INSERT OR IGNORE` in autocommit mode (SQLite, WAL) and one `SET NX PX`
then a `SET` (Redis). Interleaved, medians.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from langchain_apiactions import (
    ApiActionsToolkit,
    RedisSessionStore,
    SessionStore,
    SqliteSessionStore,
)
from langchain_apiactions.session_store import BaseSessionStore

Row = Callable[[str, str, str, "float | str", str], None]
Interleaved = Callable[[Callable[[], Any], Callable[[], Any], int], tuple[list[float], list[float]]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: str) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    proc.kill()
    return None


class DictBaseline:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], bool] = {}

    def claim_finish(self, session: str) -> None:
        with self.lock:
            if (session, "A") in self.seen:
                return
            self.seen[session, "A"] = False
        with self.lock:
            self.seen[session, "A"] = True


class SqliteBaseline:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS c (s TEXT, a TEXT, done INT, PRIMARY KEY (s, a))"
        )

    def claim_finish(self, session: str) -> None:
        cur = self.db.execute("INSERT OR IGNORE INTO c VALUES (?, 'A', 0)", (session,))
        if cur.rowcount == 1:
            self.db.execute("UPDATE c SET done = 1 WHERE s = ? AND a = 'A'", (session,))


class RedisBaseline:
    def __init__(self, url: str) -> None:
        import redis

        self.r = redis.Redis.from_url(url)

    def claim_finish(self, session: str) -> None:
        if self.r.set(f"b:{session}:A", "run", nx=True, px=86_400_000):
            self.r.set(f"b:{session}:A", "done", px=86_400_000)


def _store_claim_finish(store: BaseSessionStore) -> Callable[[str], None]:
    def go(session: str) -> None:
        if store.claim(session, "A"):
            store.finish(session, "A", used=True)

    return go


def bench_stores(base: str, n: int, interleaved: Interleaved, row: Row) -> None:
    tmp = tempfile.mkdtemp(prefix="apiactions-bench-")
    redis = start_redis(tmp)
    try:
        pairs: list[tuple[str, BaseSessionStore, Any]] = [
            ("in memory", SessionStore(), DictBaseline()),
            ("SQLite", SqliteSessionStore(os.path.join(tmp, "s.db")), SqliteBaseline(os.path.join(tmp, "b.db"))),
        ]  # fmt: skip
        if redis is not None:
            pairs.append(("Redis", RedisSessionStore(redis[1]), RedisBaseline(redis[1])))
        else:
            print("(redis-server not installed: Redis rows skipped)")
        for name, store, baseline in pairs:
            ours = _store_claim_finish(store)
            ta, tb = interleaved(
                lambda o=ours: o(uuid.uuid4().hex),  # type: ignore[misc]
                lambda b=baseline: b.claim_finish(uuid.uuid4().hex),  # type: ignore[misc]
                n,
            )
            m_ours, m_base = statistics.median(ta), statistics.median(tb)
            row(f"8. claim+finish, {name} store vs hand-written ({_baseline_name(name)})",
                f"{m_ours * 1e6:.0f} µs", f"{m_base * 1e6:.0f} µs", m_ours / m_base,
                "same guarantee, <= 2x the minimal code")  # fmt: skip
        _bench_once_per_session(base, n, interleaved, row, [(nm, st) for nm, st, _ in pairs])
        for _, store, _ in pairs:
            store.close()
    finally:
        if redis is not None:
            redis[0].terminate()
            redis[0].wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _baseline_name(name: str) -> str:
    return {
        "in memory": "dict + lock",
        "SQLite": "INSERT OR IGNORE, WAL",
        "Redis": "SET NX PX + SET",
    }[name]


def _bench_once_per_session(
    base: str,
    n: int,
    interleaved: Interleaved,
    row: Row,
    stores: list[tuple[str, BaseSessionStore]],
) -> None:
    action = {
        "name": "Coupon",
        "when_to_use": "Use when the visitor asks for their one welcome coupon code.",
        "method": "GET",
        "url": f"{base}/orders/{{order_number}}",
        "inputs": [{"name": "order_number", "required": True}],
        "once_per_session": True,
    }
    toolkits = {
        name: ApiActionsToolkit(actions=[action], allowed_networks=["127.0.0.0/8"], session_store=store)
        for name, store in stores
    }  # fmt: skip
    tools = {name: tk.get_tools()[0] for name, tk in toolkits.items()}

    def call(name: str) -> None:
        tools[name].invoke(
            {"name": "Coupon", "args": {"order_number": "12345"}, "id": "c", "type": "tool_call"},
            config={"configurable": {"session_id": uuid.uuid4().hex}},
        )

    for name in tools:
        for _ in range(50):
            call(name)
    memory = stores[0][0]
    for name in list(tools)[1:]:
        ta, tb = interleaved(lambda nm=name: call(nm), lambda: call(memory), n)  # type: ignore[misc]
        m_ours, m_mem = statistics.median(ta), statistics.median(tb)
        row(f"8. once-per-session call (new session each), {name} store vs in-memory store",
            f"{m_ours * 1e6:.0f} µs", f"{m_mem * 1e6:.0f} µs", m_ours / m_mem,
            f"overhead {(m_ours - m_mem) * 1e6:+.0f} µs a call")  # fmt: skip
    for tk in toolkits.values():
        tk.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through benchmarks/run.py --only stores")
