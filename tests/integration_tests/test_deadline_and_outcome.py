"""Issue 19, items 10-13: the deadline covers the whole call, an unknown outcome says so,
and a failed call is a `ToolMessage` with `status="error"`.

Real SQLite files locked by another process, real loopback servers (slow, truncating,
resetting), many concurrent `ainvoke`, and an agent run.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from langchain_apiactions import ApiActionsToolkit, OfflineChatModel, create_api_actions_agent
from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import call, make_toolkit


def _coupon(url: str, timeout: float, *, once: bool = True) -> str:
    return f"""
actions:
  - name: Welcome_Coupon
    when_to_use: Use when the visitor asks for their one welcome coupon code.
    method: POST
    url: {url}/coupon
    body: {{session: "{{session_id}}"}}
    once_per_session: {"true" if once else "false"}
    timeout: {timeout}
"""


HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


@pytest.fixture
def lock_store() -> Iterator[Any]:
    holders: list[subprocess.Popen[str]] = []

    def hold(path: Path, seconds: float) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        holders.append(proc)

    yield hold
    for proc in holders:
        proc.kill()
        proc.communicate()


# --------------------------------------------------------------------------- item 10


def _call_while_locked(
    api: ApiServer, timeout: float, lock_store: Any, db: Path, seconds: float
) -> tuple[ToolMessage, float]:
    """One Welcome_Coupon call (`timeout`) while another process holds the store `db`
    locked for `seconds`: the ToolMessage and how long the call took."""
    toolkit = make_toolkit(_coupon(api.url, timeout), session_store=f"sqlite:///{db}")
    try:
        lock_store(db, seconds)
        start = time.monotonic()
        message = call(toolkit.get_tool("Welcome_Coupon"), {})
        took = time.monotonic() - start
    finally:
        toolkit.close()
    return message, took


def test_a_store_locked_by_another_process_counts_against_the_deadline(
    tmp_path: Path, api: ApiServer, lock_store: Any
) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}))
    db = tmp_path / "sessions.db"
    # BEGIN EXCLUSIVE for 6 s (the issue: 12 s; calls took 9 s)
    message, took = _call_while_locked(api, 1.0, lock_store, db, 6.0)
    artifact = message.artifact
    assert took < 1.6, took
    assert artifact["ok"] is False
    assert artifact["error_kind"] == "store_unavailable"
    assert f"session store {db}" in artifact["error"]
    assert "busy" in artifact["error"]
    assert "nothing was sent" in artifact["error"]
    assert api.requests == []


def test_time_waiting_for_the_store_is_part_of_the_deadline_and_of_elapsed_ms(
    tmp_path: Path, api: ApiServer, lock_store: Any
) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}, delay=0.4))
    db = tmp_path / "sessions.db"
    message, took = _call_while_locked(api, 2.0, lock_store, db, 0.8)
    artifact = message.artifact
    assert artifact["ok"] is True, artifact["error"]
    # The store wait (~0.8 s) and the answer (0.4 s) are both in the call's time.
    assert artifact["request"]["elapsed_ms"] >= 1100
    assert abs(artifact["request"]["elapsed_ms"] / 1000 - took) < 0.3


async def test_an_async_call_waits_for_a_locked_store_off_the_event_loop(
    tmp_path: Path, api: ApiServer, lock_store: Any
) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}))
    db = tmp_path / "sessions.db"
    toolkit = make_toolkit(_coupon(api.url, 1.0), session_store=f"sqlite:///{db}")
    tool = toolkit.get_tool("Welcome_Coupon")
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    try:
        lock_store(db, 4.0)
        beat = asyncio.create_task(ticker())
        start = time.monotonic()
        message = await tool.ainvoke(
            {"name": tool.name, "args": {}, "id": "c1", "type": "tool_call"},
            config={"configurable": {"session_id": "v1"}},
        )
        took = time.monotonic() - start
        beat.cancel()
    finally:
        toolkit.close()
    assert message.artifact["error_kind"] == "store_unavailable"
    assert took < 1.6
    assert api.requests == []
    # The loop kept running while the call waited for the store.
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.5


# --------------------------------------------------------------------------- item 11


async def test_time_queued_for_a_pool_thread_counts_against_the_deadline(api: ApiServer) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}, delay=0.2))
    toolkit = make_toolkit(_coupon(api.url, 1.0, once=False), max_concurrency=4)
    tool = toolkit.get_tool("Welcome_Coupon")

    async def one(i: int) -> tuple[float, Any]:
        start = time.monotonic()
        message = await tool.ainvoke(
            {"name": tool.name, "args": {}, "id": f"c{i}", "type": "tool_call"},
            config={"configurable": {"session_id": f"v{i}"}},
        )
        return time.monotonic() - start, message

    try:
        results = await asyncio.gather(*(one(i) for i in range(60)))
    finally:
        toolkit.close()
    # The issue: 500 calls, 244 took over 1 s from the caller's side, `ok: true` with
    # `elapsed_ms` at most 247. Now no call outlives its deadline by more than a little.
    assert max(took for took, _ in results) < 1.4
    artifacts = [m.artifact for _, m in results]
    ok = [a for a in artifacts if a["ok"]]
    unsent = [a for a in artifacts if a["error_kind"] == "not_sent_timeout"]
    queued = [a for a in unsent if "waiting for a free worker thread" in a["error"]]
    assert ok and queued
    kinds = {a["error_kind"] for a in artifacts if not a["ok"]}
    assert kinds <= {"not_sent_timeout", "outcome_unknown"}, kinds
    for took, message in results:
        artifact = message.artifact
        if artifact["ok"]:  # the time it waited for a thread is in elapsed_ms
            assert abs(artifact["request"]["elapsed_ms"] / 1000 - took) < 0.25
    for artifact in queued:
        assert "nothing was sent" in artifact["error"]
        assert artifact["request"] is None
    # Nothing that timed out before it was sent (queued, or too late to start) reached
    # the API; a call whose outcome is unknown may or may not have.
    assert len(ok) <= len(api.requests) <= len(results) - len(unsent)


def test_max_concurrency_is_a_toolkit_option_64_by_default() -> None:
    actions = _coupon("https://api.example.com", 1.0, once=False)
    assert ApiActionsToolkit(actions=actions).max_concurrency == 64
    assert ApiActionsToolkit(actions=actions, max_concurrency=8).max_concurrency == 8
    with pytest.raises(ValueError, match="max_concurrency"):
        ApiActionsToolkit(actions=actions, max_concurrency=0)


# --------------------------------------------------------------------------- item 12


def _truncating(rec: Recorded) -> Reply:
    # Processed, then the answer never completes (`Content-Length` promises more).
    return Reply(200, {"code": "WELCOME10"}, headers={"Content-Length": "4096"})


def _resetting(rec: Recorded) -> Reply:
    raise ConnectionResetError  # processed; the connection closes without an answer


@pytest.mark.parametrize("handler", [_truncating, _resetting], ids=["timeout", "reset"])
def test_an_unknown_outcome_says_so_and_not_to_repeat_it(api: ApiServer, handler: Any) -> None:
    api.route("POST", "/coupon", handler)
    toolkit = make_toolkit(_coupon(api.url, 0.8))
    tool = toolkit.get_tool("Welcome_Coupon")
    try:
        first = call(tool, {}, session="visitor-1")
        second = call(tool, {}, session="visitor-1")
    finally:
        toolkit.close()
    assert len(api.requests) == 1  # it reached the API once, and only once
    artifact = first.artifact
    assert artifact["ok"] is False
    assert artifact["error_kind"] == "outcome_unknown"
    text = str(first.content)
    assert "unknown" in text
    assert "may have gone through" in text
    assert "do not call it again" in text.lower()
    assert "failed." not in text  # not told it failed (the API had processed it)
    assert first.status == "error"
    # The next try says it already ran, which now agrees with what the model was told.
    assert second.artifact["skipped"] is True


# --------------------------------------------------------------------------- item 13

LOOKUP = """
actions:
  - name: Check_Order_Status
    when_to_use: Use when the visitor asks about the status of their order.
    method: GET
    url: {url}/orders/{{order_number}}
    inputs: [{{name: order_number, required: true}}]
  - name: Account_Balance
    when_to_use: Use when the signed-in visitor asks for their account balance.
    method: GET
    url: {url}/balance/{{context.user_id}}
  - name: Welcome_Coupon
    when_to_use: Use when the visitor asks for their one welcome coupon code.
    method: POST
    url: {url}/coupon
    once_per_session: true
"""


def test_status_is_error_whenever_ok_is_false_except_skipped(api: ApiServer) -> None:
    api.route("GET", "/orders/1", Reply(200, {"status": "Shipped"}))
    api.route("GET", "/orders/404", Reply(404, {"message": "no such order"}))
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}))
    toolkit = make_toolkit(LOOKUP.format(url=api.url))
    try:
        found = call(toolkit.get_tool("Check_Order_Status"), {"order_number": "1"})
        missing = call(toolkit.get_tool("Check_Order_Status"), {"order_number": "404"})
        no_context = call(toolkit.get_tool("Account_Balance"), {})
        coupon = call(toolkit.get_tool("Welcome_Coupon"), {}, session="v")
        again = call(toolkit.get_tool("Welcome_Coupon"), {}, session="v")
    finally:
        toolkit.close()
    assert (found.artifact["ok"], found.status) == (True, "success")
    assert (missing.artifact["ok"], missing.status) == (False, "error")
    assert (no_context.artifact["error_kind"], no_context.status) == ("missing_context", "error")
    assert (coupon.artifact["ok"], coupon.status) == (True, "success")
    assert (again.artifact["skipped"], again.status) == (True, "success")


def test_an_agent_runs_tool_message_carries_the_error_status(api: ApiServer) -> None:
    api.route("GET", "/orders/404", Reply(404, {"message": "no such order"}))
    toolkit = make_toolkit(LOOKUP.format(url=api.url))
    try:
        agent = create_api_actions_agent(OfflineChatModel(), toolkit)
        state = agent.invoke(
            {"messages": [("user", "Where is my order 404?")]},
            config={"configurable": {"thread_id": "t1", "session_id": "s1"}},
        )
    finally:
        toolkit.close()
    tool_messages = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [(m.name, m.status) for m in tool_messages] == [("Check_Order_Status", "error")]
    assert [(r.method, r.path) for r in api.requests] == [("GET", "/orders/404")]
