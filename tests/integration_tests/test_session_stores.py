"""Session stores that outlive a process: SQLite files and a real redis-server.

Several processes at once on the same sessions send exactly one request per session
(counted at the loopback API server), a restarted process sends none again, a dead
worker leaves its call used, and a store that is down sends nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from langchain_apiactions import (
    ApiActionsToolkit,
    RedisSessionStore,
    SessionStore,
    SessionStoreError,
    SqliteSessionStore,
)
from langchain_apiactions.session_store import session_store_from_url
from tests.apiserver import ApiServer, Reply
from tests.helpers import make_toolkit
from tests.processes import run_together
from tests.redisserver import RedisServer, free_port
from tests.stores import StoreMaker

WORKER = str(Path(__file__).parent.parent / "store_worker.py")


def _coupon_api(api: ApiServer, delay: float = 0.05) -> ApiServer:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME"}, delay=delay))
    return api


def _coupon_actions(api: ApiServer) -> str:
    """The once-per-session coupon action of `_coupon_api`, as an action file."""
    return f"""
actions:
  - name: Welcome_Coupon
    when_to_use: Use when the visitor asks for their one welcome coupon code.
    method: POST
    url: {api.url}/coupon
    body: {{session: "{{session_id}}"}}
    once_per_session: true
"""


def _coupon_toolkit(api: ApiServer, session_store: object) -> ApiActionsToolkit:
    return make_toolkit(_coupon_actions(api), session_store=session_store)


def _workers(store_url: str, api: ApiServer, groups: list[list[str]]) -> list[dict[str, str]]:
    outs = run_together([[WORKER, store_url, api.url, *sessions] for sessions in groups])
    return [json.loads(out.strip().splitlines()[-1]) for out in outs]


def _sent(api: ApiServer) -> Counter[str]:
    return Counter(r.json["session"] for r in api.requests)


# --------------------------------------------------------------------------- the rules


def test_claim_is_atomic_across_threads(make_store: StoreMaker) -> None:
    stores = [make_store() for _ in range(4)]  # four workers on one backend
    won: list[bool] = []
    barrier = threading.Barrier(32)

    def go(i: int) -> None:
        barrier.wait()
        won.append(stores[i % 4].claim("s1", "Coupon"))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if make_store.kind == "memory":
        assert won.count(True) == 1  # one shared in-memory store per process
    else:
        assert won.count(True) == 1


def test_keep_release_and_has_run(make_store: StoreMaker) -> None:
    store = make_store()
    assert not store.has_run("s1", "A")
    assert store.claim("s1", "A")
    assert store.has_run("s1", "A")  # in flight counts
    store.finish("s1", "A", used=False)  # released: the visitor may try again
    assert not store.has_run("s1", "A")
    assert store.claim("s1", "A")
    store.finish("s1", "A", used=True)
    assert not store.claim("s1", "A")
    assert store.claim("s2", "A")  # another session is its own
    assert store.claim("s1", "B")  # another action too
    store.reset("s1")
    assert not store.has_run("s1", "A")
    assert store.has_run("s2", "A")
    store.reset()
    assert not store.has_run("s2", "A")


def test_kept_claim_expires_after_ttl_idle_but_a_claim_in_flight_does_not(
    make_store: StoreMaker,
) -> None:
    store = make_store(ttl=0.6)
    assert store.claim("s1", "Kept")
    store.finish("s1", "Kept", used=True)
    assert store.claim("s1", "Flying")  # never finished
    time.sleep(0.35)
    assert not store.claim("s1", "Kept")  # a use of the session: it lives on
    time.sleep(0.35)
    assert store.has_run("s1", "Kept")  # 0.7 s after the claim, 0.35 s after the last use
    time.sleep(0.75)
    assert not store.has_run("s1", "Kept")  # idle for longer than ttl: forgotten
    assert store.claim("s1", "Kept")
    assert store.has_run("s1", "Flying")  # a claim in flight outlives ttl
    assert not store.claim("s1", "Flying")


def test_release_removes_only_its_own_claim(store_url: str) -> None:
    # Two workers on one shared store (SQLite or Redis; an in-memory store has no other
    # worker that could hold the claim).
    first, second = session_store_from_url(store_url), session_store_from_url(store_url)
    assert first.claim("s1", "A")
    first.reset("s1")  # the claim vanished (an operator, or an expiry)
    assert second.claim("s1", "A")  # another worker claims and is sending
    first.finish("s1", "A", used=False)  # the first worker's late release
    assert second.has_run("s1", "A")
    assert not first.claim("s1", "A")
    first.finish("s1", "A", used=True)  # nor does a late keep take it over
    second.finish("s1", "A", used=False)
    assert not second.has_run("s1", "A")
    first.close()
    second.close()


# --------------------------------------------------------------------------- processes


def test_processes_sharing_a_store_send_one_request_per_session(
    store_url: str, api: ApiServer
) -> None:
    _coupon_api(api)
    sessions = [f"visitor-{i}" for i in range(24)]
    # Four processes, each over every session (in a different order), all at once.
    groups = [sessions[i:] + sessions[:i] for i in (0, 6, 12, 18)]
    results = _workers(store_url, api, groups)
    sent = _sent(api)
    assert sent == Counter(dict.fromkeys(sessions, 1))
    for session in sessions:
        outcomes = sorted(r[session] for r in results)
        assert outcomes == ["ok", "skipped", "skipped", "skipped"]
    # A restarted process (a deploy, a crash) sends none of them again.
    again = _workers(store_url, api, [sessions])
    assert _sent(api) == sent
    assert set(again[0].values()) == {"skipped"}


def test_a_worker_that_dies_mid_call_leaves_the_call_used(store_url: str, api: ApiServer) -> None:
    _coupon_api(api, delay=3)
    proc = subprocess.run(
        [sys.executable, WORKER, "--die-mid-call", store_url, api.url, "s-dead"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.strip() == "claimed"
    assert _sent(api) == Counter({"s-dead": 1})
    again = _workers(store_url, api, [["s-dead"]])
    assert again == [{"s-dead": "skipped"}]
    assert _sent(api) == Counter({"s-dead": 1})


def test_redis_down_sends_nothing_and_says_why(api: ApiServer) -> None:
    _coupon_api(api)
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    toolkit = _coupon_toolkit(api, url)
    msg = toolkit.get_tool("Welcome_Coupon").invoke(
        {"name": "Welcome_Coupon", "args": {}, "id": "c", "type": "tool_call"},
        config={"configurable": {"session_id": "s1"}},
    )
    assert api.requests == []
    assert msg.artifact["ok"] is False
    assert msg.artifact["status_code"] is None
    assert msg.artifact["error_kind"] == "store_unavailable"
    assert msg.artifact["error"].startswith(f"session store {url} is not reachable")
    assert "No data is available" in msg.content
    toolkit.close()


def test_redis_password_never_shown(api: ApiServer) -> None:
    url = f"redis://:hunter2-redis-pass@127.0.0.1:{free_port()}/0"
    store = RedisSessionStore(url)
    with pytest.raises(SessionStoreError) as info:
        store.claim("s1", "A")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(store)
    assert ":***@127.0.0.1" in str(info.value)


def test_urls_make_stores(tmp_path: Path, redis_server: RedisServer) -> None:
    db = tmp_path / "dir" / "s.db"
    sqlite_store = session_store_from_url(f"sqlite:///{db}")
    assert isinstance(sqlite_store, SqliteSessionStore)
    assert db.exists()
    redis_store = session_store_from_url(redis_server.url)
    assert isinstance(redis_store, RedisSessionStore)
    assert isinstance(session_store_from_url("memory://"), SessionStore)
    with pytest.raises(ValueError, match=r"expected memory://, sqlite:///"):
        session_store_from_url("postgres://u:secret@h/db")
    with pytest.raises(ValueError, match="expected sqlite:///path"):
        session_store_from_url("sqlite://relative.db")
    toolkit = ApiActionsToolkit(
        actions=[], session_store=redis_server.url
    )  # a URL is accepted by the toolkit
    assert isinstance(toolkit.session_store, RedisSessionStore)
    toolkit.close()
    sqlite_store.close()
    redis_store.close()


def test_sqlite_wal_and_busy_timeout(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    db = store._db()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    store.close()


def test_cli_call_with_a_session_store_sends_once_across_runs(
    store_url: str, api: ApiServer, tmp_path: Path
) -> None:
    _coupon_api(api)
    path = tmp_path / "coupon.yaml"
    path.write_text(_coupon_actions(api))
    argv = [
        sys.executable,
        "-m",
        "langchain_apiactions.cli",
        "call",
        str(path),
        "Welcome_Coupon",
        "--session",
        "v1",
        "--session-store",
        store_url,
        "--allow-private-networks",
    ]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    second = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "skipped: Welcome_Coupon already ran in session 'v1'" in second.stderr
    assert _sent(api) == Counter({"v1": 1})


HOSTILE_SESSIONS = [
    "a}",
    "a%7D",
    "a%257D",
    "{a}",
    "%7Ba%7D",
    "a}:a:A",
    "a*",
    "a[x]",
    "a' OR '1'='1",
    "a\\",
    "a",
]


def test_session_ids_that_look_alike_stay_separate(
    make_store: StoreMaker,
) -> None:
    # A session id a visitor can influence never reads, claims or resets another's.
    store = make_store()
    for sid in HOSTILE_SESSIONS:
        assert not store.has_run(sid, "A"), sid
        assert store.claim(sid, "A"), sid
        store.finish(sid, "A", used=True)
    store.reset("a}")
    assert not store.has_run("a}", "A")
    assert all(store.has_run(sid, "A") for sid in HOSTILE_SESSIONS if sid != "a}")


# The in-memory store, over the wire (its unit tests: unit_tests/session_store).


def test_small_cap_never_sends_two_concurrent_calls_in_one_session(api: ApiServer) -> None:
    _coupon_api(api, delay=0.5)
    toolkit = _coupon_toolkit(api, SessionStore(max_sessions=1))
    tool = toolkit.get_tool("Welcome_Coupon")
    results: dict[str, object] = {}

    def run(key: str, session: str) -> None:
        results[key] = tool.invoke({}, config={"configurable": {"session_id": session}})

    first = threading.Thread(target=run, args=("a1", "A"))
    first.start()
    time.sleep(0.15)  # A's call is in flight
    run("b", "B")  # a second session pushes the store over its cap
    run("a2", "A")  # A again, while its first call is still running
    first.join()
    sent = [r.json["session"] for r in api.requests]
    assert sorted(sent) == ["A", "B"]  # exactly one request for A
    assert "already" in str(results["a2"])
