"""Behaviour options and the tool contract: once per session, button, close chat, events."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage

from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit


def _once(api: ApiServer, **extra: str) -> Any:
    lines = "".join(f"\n  {k}: {v}" for k, v in extra.items())
    return make_toolkit(f"""
- name: Subscribe_Newsletter
  when_to_use: Use when the visitor wants to subscribe to the newsletter with their email.
  triggered_response: Subscribing you now.
  method: POST
  url: {api.url}/newsletter
  inputs: [{{name: email, required: true}}]
  body: {{email: "{{email}}", session: "{{session_id}}"}}
  once_per_session: true{lines}
""")


def test_once_per_session_second_call_sends_nothing(api: ApiServer) -> None:
    api.route("POST", "/newsletter", Reply(200, {"subscribed": True}))
    tool = _once(api).get_tools()[0]
    first = call(tool, {"email": "a@b.co"}, session="v1")
    second = call(tool, {"email": "a@b.co"}, session="v1")
    other = call(tool, {"email": "a@b.co"}, session="v2")
    assert first.artifact["ok"] and not first.artifact["skipped"]
    assert api.requests[0].json == {"email": "a@b.co", "session": "v1"}
    assert second.artifact["skipped"] is True and second.artifact["ok"] is False
    assert "already ran" in second.artifact["error"]
    assert "Do not call it again" in second.content
    assert other.artifact["ok"]
    assert len(api.requests) == 2


def test_once_per_session_eight_concurrent_calls_send_once(api: ApiServer) -> None:
    api.route("POST", "/newsletter", Reply(200, {"subscribed": True}, delay=0.2))
    tool = _once(api).get_tools()[0]
    barrier = threading.Barrier(8)

    def go(_: int) -> dict[str, Any]:
        barrier.wait()
        return call(tool, {"email": "a@b.co"}, session="same").artifact

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(go, range(8)))
    assert len(api.requests) == 1
    assert sum(not r["skipped"] for r in results) == 1
    assert sum(r["skipped"] for r in results) == 7


def test_once_per_session_error_status_does_not_use_it_up(api: ApiServer) -> None:
    api.route(
        "POST",
        "/newsletter",
        [Reply(500, {"message": "db down"}), Reply(200, {"subscribed": True})],
    )
    tool = _once(api).get_tools()[0]
    assert (
        call(tool, {"email": "a@b.co"}).artifact["error"]
        == "HTTP 500 Internal Server Error: db down"
    )
    assert call(tool, {"email": "a@b.co"}).artifact["ok"] is True
    assert call(tool, {"email": "a@b.co"}).artifact["skipped"] is True
    assert len(api.requests) == 2


def test_once_per_session_timeout_after_sending_uses_it_up(api: ApiServer) -> None:
    # The API holds its answer until the test is done, so the deadline always passes
    # after the request arrived; 2 s leaves room for a slow first connection on a
    # loaded machine (with 0.3 s, CI's deadline sometimes passed before sending).
    release = threading.Event()

    def held(_rec: object) -> Reply:
        release.wait(30)
        return Reply(200, {"subscribed": True})

    api.route("POST", "/newsletter", held)
    tool = _once(api, timeout="2").get_tools()[0]
    try:
        assert call(tool, {"email": "a@b.co"}).artifact["error_kind"] == "outcome_unknown"
        assert call(tool, {"email": "a@b.co"}).artifact["skipped"] is True
        assert len(api.requests) == 1
    finally:
        release.set()


def test_button_is_filled_from_inputs_and_fields(api: ApiServer) -> None:
    api.route("GET", "/orders/77", Reply(200, {"status": "Shipped", "tracking_number": "1Z 9/9"}))
    tk = make_toolkit(f"""
- name: Track
  when_to_use: Use when the visitor wants to track the package of an order.
  method: GET
  url: {api.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true}}]
  response_fields: [status, tracking_number]
  button: {{label: "Track order {{order_number}}", url: "https://track.example.com/{{tracking_number}}?o={{order_number}}"}}
""")
    msg = call(tk.get_tools()[0], {"order_number": "77"})
    assert msg.artifact["button"] == {
        "label": "Track order 77",
        "url": "https://track.example.com/1Z%209%2F9?o=77",
    }
    assert "https://track.example.com/1Z%209%2F9?o=77" in msg.content


def test_button_is_absent_when_a_field_is_missing(api: ApiServer) -> None:
    api.route("GET", "/orders/77", Reply(200, {"status": "Processing"}))
    tk = make_toolkit(f"""
- name: Track
  when_to_use: Use when the visitor wants to track the package of an order.
  method: GET
  url: {api.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true}}]
  response_fields: [status, tracking_number]
  button: {{label: Track, url: "https://track.example.com/{{tracking_number}}"}}
""")
    assert call(tk.get_tools()[0], {"order_number": "77"}).artifact["button"] is None


def test_close_chat_with_farewell(api: ApiServer) -> None:
    api.route("POST", "/orders/5/cancel", Reply(200, {"cancelled": True}))
    tk = make_toolkit(f"""
- name: Cancel_Order
  when_to_use: Use when the visitor asks to cancel an order they placed.
  method: POST
  url: {api.url}/orders/{{order_number}}/cancel
  inputs: [{{name: order_number, type: number, required: true}}]
  close_chat: {{farewell: "Your order is cancelled. Goodbye!"}}
""")
    art = call(tk.get_tools()[0], {"order_number": 5}).artifact
    assert art["close_chat"] is True and art["farewell"] == "Your order is cancelled. Goodbye!"
    assert api.last.body == b""


class _Events(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any, float]] = []
        self.tool_outputs: list[Any] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data, time.monotonic()))

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.tool_outputs.append(output)


def test_triggered_event_is_emitted_before_the_api_answers(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K", "secret-in-url-42")
    api.route("GET", "/slow", Reply(200, {"status": "ok"}, delay=0.3))
    tk = make_toolkit(f"""
- name: Slow
  when_to_use: Use when the visitor asks for the slow thing in the store.
  triggered_response: Checking now...
  method: GET
  url: {api.url}/slow?key=${{K}}
  response_fields: [status]
""")
    handler = _Events()
    start = time.monotonic()
    msg = tk.get_tools()[0].invoke(
        {"name": "Slow", "args": {}, "id": "c1", "type": "tool_call"},
        config={"callbacks": [handler], "configurable": {"thread_id": "t-9"}},
    )
    end = time.monotonic()
    assert isinstance(msg, ToolMessage) and msg.artifact["ok"]
    [(name, data, at)] = handler.events
    assert name == "api_action_triggered"
    assert data == {
        "action": "Slow",
        "triggered_response": "Checking now...",
        "session_id": "t-9",
        "request": {"method": "GET", "url": f"{api.url}/slow?key=***"},
    }
    assert start <= at and end - at >= 0.25  # emitted before the 0.3 s API answer
    assert "secret-in-url-42" not in repr(handler.tool_outputs)


async def test_ainvoke_does_not_block_the_event_loop(api: ApiServer) -> None:
    api.route("GET", "/slow", Reply(200, {"status": "ok"}, delay=0.3))
    tk = make_toolkit(f"""
- name: Slow
  when_to_use: Use when the visitor asks for the slow thing in the store.
  method: GET
  url: {api.url}/slow
  response_fields: [status]
""")
    tool = tk.get_tools()[0]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    handler = _Events()
    start = time.monotonic()
    msgs = await asyncio.gather(
        *[
            tool.ainvoke(
                {"name": "Slow", "args": {}, "id": f"c{i}", "type": "tool_call"},
                config={"callbacks": [handler]},
            )
            for i in range(4)
        ]
    )
    elapsed = time.monotonic() - start
    task.cancel()
    assert all(m.artifact["ok"] for m in msgs)
    assert ticks > 10  # the loop kept running while the calls waited
    assert elapsed < 0.9  # the four calls overlapped
    assert [e[0] for e in handler.events] == ["api_action_triggered"] * 4


def test_session_id_resolution(api: ApiServer) -> None:
    api.route("POST", "/newsletter", Reply(200, {"subscribed": True}))
    tool = _once(api).get_tools()[0]
    tool.invoke({"email": "x@y.z"}, config={"configurable": {"session_id": "S", "thread_id": "T"}})
    tool.invoke({"email": "x@y.z"}, config={"configurable": {"thread_id": "T"}})
    tool.invoke({"email": "x@y.z"})
    assert [r.json["session"] for r in api.requests] == ["S", "T", "default"]


def test_bad_arguments_come_back_to_the_model(api: ApiServer) -> None:
    tk = make_toolkit(f"""
- name: Book
  when_to_use: Use when the visitor wants to book a table at the restaurant.
  method: POST
  url: {api.url}/book/{{room}}
  inputs:
    - {{name: room, required: true}}
    - {{name: day, type: date, required: true, description: Booking day}}
    - {{name: guests, type: number}}
    - {{name: note}}
  headers: {{X-Note: "{{note}}"}}
  body: {{day: "{{day}}", guests: "{{guests}}"}}
""")
    tool = tk.get_tools()[0]
    msg = call(tool, {"room": "A", "day": "next tuesday", "guests": "many"})
    assert msg.status == "error"
    assert "day" in msg.content and "guests" in msg.content
    assert "Ask the visitor" in msg.content
    dotdot = call(tool, {"room": "..", "day": "2026-05-01"})
    assert dotdot.artifact["ok"] is False and "path segment" in dotdot.artifact["error"]
    crlf = call(tool, {"room": "A", "day": "2026-05-01", "note": "hi\r\nX-Admin: 1"})
    assert crlf.artifact["ok"] is False and "line breaks" in crlf.artifact["error"]
    assert api.requests == []
    ok = call(tool, {"room": "A/B", "day": "2026-05-01", "guests": 12345678901234567890})
    assert ok.artifact["status_code"] == 404  # no such route; the request itself was right
    assert api.last.path == "/book/A%2FB"
    assert api.last.body == b'{"day": "2026-05-01", "guests": 12345678901234567890}'
