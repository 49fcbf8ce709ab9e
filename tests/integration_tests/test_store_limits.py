"""What the repeat-safety options keep in the session stores: the per-store secret,
per-session call counters, shared rate-limit windows, cached answers and claims held for
a retry with the same idempotency key. The same rules in memory, in SQLite files and in a
real redis-server, and across processes for the shared stores."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from langchain_apiactions import SessionStore, SqliteSessionStore
from tests.processes import run_together
from tests.stores import StoreMaker

WORKER = str(Path(__file__).parent.parent / "limits_worker.py")


def _run(args: list[str]) -> object:
    proc = subprocess.run(
        [sys.executable, WORKER, *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _all_at_once(argv: list[list[str]]) -> list[object]:
    outs = run_together([[WORKER, *args] for args in argv])
    return [json.loads(out.strip().splitlines()[-1]) for out in outs]


# --------------------------------------------------------------------------- secret


def test_the_secret_is_made_once_and_shared_by_every_worker(
    make_store: StoreMaker,
) -> None:
    first, second = make_store(), make_store()
    assert len(first.secret()) == 32
    assert first.secret() == second.secret()
    first.reset()  # forgetting every session keeps the secret (keys must not change)
    assert make_store().secret() == second.secret()


def test_processes_read_one_secret_and_another_store_has_its_own(
    store_url: str, tmp_path: Path
) -> None:
    digests = _all_at_once([[store_url, "secret"] for _ in range(3)])
    assert len(set(digests)) == 1  # type: ignore[arg-type]
    other = _run([f"sqlite:///{tmp_path / 'other.db'}", "secret"])
    assert other != digests[0]
    assert SessionStore().secret() != SessionStore().secret()


# --------------------------------------------------------------------------- counters


def test_counters_are_all_or_nothing_and_per_session(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    both = [("s1:A", 2), ("*", 3)]
    assert store.take("s1", both) is None
    assert store.take("s1", both) is None
    assert store.take("s1", both) == "s1:A"  # A is used up: nothing counted
    assert store.take("s1", [("s1:B", 5), ("*", 3)]) is None  # so "*" still had room
    assert store.take("s1", [("s1:B", 5), ("*", 3)]) == "*"
    assert store.take("s2", both) is None  # another session counts on its own
    store.give_back("s3", ["s1:A", "*"])  # a session never counted: nothing to undo
    assert store.take("s3", both) is None
    store.give_back("s2", ["s1:A", "*"])  # a counted call that then sent nothing
    assert store.take("s2", both) is None
    assert store.take("s2", both) is None
    assert store.take("s2", both) == "s1:A"
    store.reset("s1")
    assert store.take("s1", both) is None


def test_counters_hold_across_processes(store_url: str) -> None:
    # Four processes, four threads each, 10 tries each, one session with a limit of 7.
    granted = _all_at_once([[store_url, "take", "v1", "7", "10"] for _ in range(4)])
    assert sum(granted) == 7  # type: ignore[arg-type]


def test_counters_are_forgotten_with_the_session(tmp_path: Path) -> None:
    now = [1000.0]
    store = SqliteSessionStore(tmp_path / "t.db", ttl=60, clock=lambda: now[0])
    assert store.take("s1", [("A", 1)]) is None
    assert store.take("s1", [("A", 1)]) == "A"
    now[0] += 61
    assert store.take("s1", [("A", 1)]) is None
    store.close()
    memory = SessionStore(ttl=60, clock=lambda: now[0])
    assert memory.take("s1", [("A", 1)]) is None
    now[0] += 61
    assert memory.take("s1", [("A", 1)]) is None


# --------------------------------------------------------------------------- rate


def test_rate_limit_window_says_when_to_try_again(
    make_store: StoreMaker,
) -> None:
    store = make_store()
    assert [store.rate("Search", 3, 0.6) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = store.rate("Search", 3, 0.6)
    assert 0 < wait <= 0.6
    assert store.rate("Other", 3, 0.6) == 0.0  # another name has its own window
    time.sleep(wait + 0.05)
    assert store.rate("Search", 3, 0.6) == 0.0  # the oldest left the window


def test_rate_limit_is_shared_by_processes(store_url: str) -> None:
    granted = _all_at_once([[store_url, "rate", "Search", "9", "60", "8"] for _ in range(3)])
    assert sum(granted) == 9  # type: ignore[arg-type]


def test_rate_limit_is_atomic_across_threads(make_store: StoreMaker) -> None:
    stores = [make_store() for _ in range(4)]
    results: list[float] = []
    barrier = threading.Barrier(24)

    def go(i: int) -> None:
        barrier.wait()
        results.append(stores[i % 4].rate("Busy", 5, 30))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(0.0) == 5


# --------------------------------------------------------------------------- cache


def test_cache_entries_live_for_their_ttl_in_their_scope(
    make_store: StoreMaker,
) -> None:
    store, other = make_store(), make_store()
    store.cache_put("s1", "k", b"session answer", 0.5)
    store.cache_put(None, "k", b"shared answer", 0.5)
    assert other.cache_get("s1", "k") == b"session answer"
    assert other.cache_get(None, "k") == b"shared answer"
    assert other.cache_get("s2", "k") is None  # a session's cache is its own
    store.reset("s1")
    assert other.cache_get("s1", "k") is None
    assert other.cache_get(None, "k") == b"shared answer"
    time.sleep(0.6)
    assert other.cache_get(None, "k") is None


# --------------------------------------------------------------------------- held claims


def test_a_held_claim_is_taken_again_only_with_the_same_key(
    make_store: StoreMaker,
) -> None:
    first, second = make_store(), make_store()
    assert first.claim("s1", "Order", key="k1")
    assert not second.claim("s1", "Order", key="k1")  # in flight: one at a time
    first.finish("s1", "Order", used=False, hold=True)  # 500, or no answer
    assert first.has_run("s1", "Order")
    assert not second.claim("s1", "Order")  # no key: not this call
    assert not second.claim("s1", "Order", key="k2")  # other arguments: not this call
    assert second.claim("s1", "Order", key="k1")  # the same call, tried again
    second.finish("s1", "Order", used=True)
    assert not first.claim("s1", "Order", key="k1")  # done: nothing more
    assert first.claim("s1", "Refund", key="r1")
    first.finish("s1", "Refund", used=False)  # refused by the API: released
    assert second.claim("s1", "Refund", key="r2")
    second.finish("s1", "Refund", used=False, hold=True)
    first.reset("s1")
    assert first.claim("s1", "Refund")


# --------------------------------------------------------------------------- runs


def test_separate_cli_runs_share_the_cache_and_the_budget(store_url: str, tmp_path: Path) -> None:
    """`apiactions call`, one process per run, on one SQLite file or Redis server: the
    second run is answered from the cache, the third (other arguments) is over the
    session's budget; the loopback API sees one request."""
    from tests.apiserver import ApiServer, Reply

    api = ApiServer().start()
    try:
        api.route("GET", "/stock", Reply(200, {"sku": "A-1", "left": 4}))
        path = tmp_path / "stock.yaml"
        path.write_text(
            f"""
actions:
  - name: Check_Stock
    when_to_use: Use this when the visitor asks whether an item is in stock.
    method: GET
    url: {api.url}/stock?sku={{sku}}
    inputs: [{{name: sku, required: true}}]
    cache: {{ttl: 60}}
    max_calls_per_session: 1
"""
        )

        def run(sku: str) -> subprocess.CompletedProcess[str]:
            argv = [sys.executable, "-m", "langchain_apiactions.cli", "call", str(path),
                    "Check_Stock", "--arg", f"sku={sku}", "--session", "v1",
                    "--session-store", store_url, "--allow-private-networks", "--json"]  # fmt: skip
            return subprocess.run(argv, capture_output=True, text=True, timeout=60)

        first, second, third = run("A-1"), run("A-1"), run("B-2")
        assert first.returncode == 0, first.stdout + first.stderr
        assert second.returncode == 0, second.stdout + second.stderr
        cached = json.loads(second.stdout[second.stdout.index("{") :])
        assert cached["cached"] is True and cached["data"] == {"sku": "A-1", "left": 4}
        assert "< answered from the cache (nothing sent)" in second.stdout + second.stderr
        assert third.returncode == 1
        assert third.stderr.endswith(
            "skipped: Check_Stock: the limit of 1 calls per session was reached; nothing was sent\n"
        )
        assert [r.query for r in api.requests] == ["sku=A-1"]
    finally:
        api.stop()
