"""Idempotency keys, budgets, rate limits, caching and pagination against a real loopback
API that records what it receives (and, for keys, deduplicates like Stripe does)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.apiserver import ApiServer, Recorded, Reply
from tests.docs_snippets import snippet
from tests.helpers import call, make_toolkit

WHEN = "Use this when the visitor asks to place an order for an item."


class KeyedApi:
    """Commits a POST, then (the first time) answers 500; a repeated key is answered
    with the stored result and commits nothing (how Stripe-like APIs deduplicate)."""

    def __init__(self, api: ApiServer, fail_first: bool = True) -> None:
        self.api = api
        self.lock = threading.Lock()
        self.seen: dict[str, dict[str, Any]] = {}
        self.committed: list[dict[str, Any]] = []
        self.fail_first = fail_first
        api.route("POST", "/orders", self.handle)

    def handle(self, rec: Recorded) -> Reply:
        key = rec.headers.get("Idempotency-Key")
        with self.lock:
            if key is not None and key in self.seen:
                return Reply(200, self.seen[key])
            order = {"order_id": f"o-{len(self.committed) + 1}", **rec.json}
            self.committed.append(order)
            if key is not None:
                self.seen[key] = order
        return Reply(500, {"message": "internal error"}) if self.fail_first else Reply(201, order)


def _orders(api: ApiServer, once: bool = True, extra: str = "") -> str:
    return f"""
actions:
  - name: Place_Order
    when_to_use: {WHEN}
    method: POST
    url: {api.url}/orders
    inputs: [{{name: item, required: true}}, {{name: qty, type: number}}]
    body: {{item: "{{item}}", qty: "{{qty}}"}}
    idempotency_key: true
    once_per_session: {str(once).lower()}
{extra}
"""


def test_a_retry_after_500_sends_the_same_key_and_the_api_does_it_once(api: ApiServer) -> None:
    keyed = KeyedApi(api)
    with make_toolkit(_orders(api)) as tk:
        tool = tk.get_tool("Place_Order")
        first = call(tool, {"item": "pizza", "qty": 2}, session="v1")
        assert first.artifact["ok"] is False and first.artifact["status_code"] == 500
        key = first.artifact["idempotency_key"]
        assert api.requests[0].headers["Idempotency-Key"] == key
        assert uuid.UUID(key).version == 8
        assert "pizza" not in key and "v1" not in key
        assert "Calling again with the same arguments is safe" in first.content
        assert "No data is available" not in first.content
        # The model calls again with the same arguments (qty 2.0 is the same call).
        second = call(tool, {"item": "pizza", "qty": 2.0}, session="v1")
        assert second.artifact["ok"] is True
        assert second.artifact["data"] == {"order_id": "o-1", "item": "pizza", "qty": 2}
        assert api.requests[1].headers["Idempotency-Key"] == key
        assert len(keyed.committed) == 1
        # Confirmed: once per session, nothing more is sent.
        third = call(tool, {"item": "pizza", "qty": 2}, session="v1")
        assert third.artifact["skipped"] is True
        assert len(api.requests) == 2
        # Another session is another call: another key.
        other = call(tool, {"item": "pizza", "qty": 2}, session="v2")
        assert other.artifact["idempotency_key"] != key


def test_a_held_call_is_not_replaced_by_one_with_other_arguments(api: ApiServer) -> None:
    KeyedApi(api)
    with make_toolkit(_orders(api)) as tk:
        tool = tk.get_tool("Place_Order")
        assert call(tool, {"item": "pizza"}, session="v1").artifact["status_code"] == 500
        other = call(tool, {"item": "salad"}, session="v1")
        assert other.artifact["skipped"] is True
        assert "not confirmed yet" in other.artifact["error"]
        assert len(api.requests) == 1


def test_a_refusal_releases_the_claim_and_without_a_key_todays_rules_stay(
    api: ApiServer,
) -> None:
    api.route("POST", "/orders", [Reply(422, {"message": "no such item"}), Reply(201, {"id": 1})])
    with make_toolkit(_orders(api)) as tk:
        tool = tk.get_tool("Place_Order")
        assert call(tool, {"item": "pizzza"}, session="v1").artifact["status_code"] == 422
        assert call(tool, {"item": "pizza"}, session="v1").artifact["ok"] is True
    api.routes.clear()
    api.requests.clear()
    api.route("POST", "/orders", Reply(500, {"message": "down"}))
    text = _orders(api).replace("idempotency_key: true", "idempotency_key: false")
    with make_toolkit(text) as tk:
        failed = call(tk.get_tool("Place_Order"), {"item": "pizza"}, session="v1")
        assert "idempotency_key" not in failed.artifact
        assert "Idempotency-Key" not in api.requests[0].headers
        assert "No data is available" in failed.content


def test_urllib3_retries_and_other_workers_send_the_same_key(
    api: ApiServer, tmp_path: Path
) -> None:
    api.route(
        "PUT",
        "/orders/7",
        [Reply(503, {"message": "busy"}, headers={"Retry-After": "0"}), Reply(200, {"ok": 1})],
    )
    text = f"""
actions:
  - name: Update_Order
    when_to_use: {WHEN}
    method: PUT
    url: {api.url}/orders/7
    inputs: [{{name: note, required: true}}]
    body: {{note: "{{note}}", by: "{{context.user}}"}}
    idempotency_key: {{header: X-Request-Id}}
"""
    db = tmp_path / "s.db"
    config = {"configurable": {"session_id": "v1", "context": {"user": "u-1"}}}
    args = {"name": "Update_Order", "args": {"note": "ring twice"}, "id": "c", "type": "tool_call"}
    with make_toolkit(text, session_store=f"sqlite:///{db}") as one:
        msg = one.get_tool("Update_Order").invoke(args, config=config)
    assert msg.artifact["ok"] is True
    first, retry = api.requests
    assert first.headers["X-Request-Id"] == retry.headers["X-Request-Id"]
    assert "Idempotency-Key" not in first.headers
    # Another worker on the same store: the same call has the same key.
    with make_toolkit(text, session_store=f"sqlite:///{db}") as two:
        again = two.get_tool("Update_Order").invoke(args, config=config)
        assert again.artifact["idempotency_key"] == msg.artifact["idempotency_key"]
        changed = {"configurable": {"session_id": "v1", "context": {"user": "u-2"}}}
        other_user = two.get_tool("Update_Order").invoke(args, config=changed)
        assert other_user.artifact["idempotency_key"] != msg.artifact["idempotency_key"]
    # Another store has another secret: its keys are its own.
    with make_toolkit(text, session_store=f"sqlite:///{tmp_path / 'other.db'}") as three:
        elsewhere = three.get_tool("Update_Order").invoke(args, config=config)
        assert elsewhere.artifact["idempotency_key"] != msg.artifact["idempotency_key"]


# --------------------------------------------------------------------------- budgets


def _lookup(api: ApiServer, extra: str, name: str = "Find_Item") -> str:
    return f"""
  - name: {name}
    when_to_use: Use this when the visitor asks whether an item is in stock.
    method: GET
    url: {api.url}/items?q={{q}}
    inputs: [{{name: q, required: true}}]
{extra}
"""


def test_max_calls_per_session_per_action(api: ApiServer) -> None:
    api.route("GET", "/items", Reply(200, {"stock": 3}))
    text = "actions:" + _lookup(api, "    max_calls_per_session: 2")
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Find_Item")
        assert [call(tool, {"q": q}).artifact["ok"] for q in ("a", "b")] == [True, True]
        third = call(tool, {"q": "c"})
        assert third.artifact["skipped"] is True and third.artifact["request"] is None
        assert third.artifact["error"] == (
            "the limit of 2 calls per session was reached; nothing was sent"
        )
        assert "Do not call it again in this conversation" in third.content
        assert call(tool, {"q": "d"}, session="s2").artifact["ok"] is True
    assert [r.query for r in api.requests] == ["q=a", "q=b", "q=d"]


def test_a_toolkit_wide_budget_bounds_all_actions_together(api: ApiServer) -> None:
    api.route("GET", "/items", Reply(200, {"stock": 3}))
    text = "actions:" + _lookup(api, "") + _lookup(api, "", "Find_Other")
    with make_toolkit(text, max_calls_per_session=3) as tk:
        a, b = tk.get_tools()
        results = [call(t, {"q": str(i)}) for i, t in enumerate([a, b, a, b])]
        assert [r.artifact["ok"] for r in results] == [True, True, True, False]
        assert results[3].artifact["error"] == (
            "the limit of 3 API calls per session was reached; nothing was sent"
        )
    assert len(api.requests) == 3


def test_a_rate_limit_is_shared_by_toolkits_on_one_store(api: ApiServer, tmp_path: Path) -> None:
    api.route("GET", "/items", Reply(200, {"stock": 3}))
    text = "actions:" + _lookup(api, "    rate_limit: 2/minute")
    url = f"sqlite:///{tmp_path / 'rate.db'}"
    with make_toolkit(text, session_store=url) as one, make_toolkit(text, session_store=url) as two:
        assert call(one.get_tool("Find_Item"), {"q": "a"}, "s1").artifact["ok"] is True
        assert call(two.get_tool("Find_Item"), {"q": "b"}, "s2").artifact["ok"] is True
        over = call(one.get_tool("Find_Item"), {"q": "c"}, "s3")
        assert over.artifact["ok"] is False and over.artifact["skipped"] is False
        error = over.artifact["error"]
        assert error.startswith("rate limit of 2/minute reached; nothing was sent; try again in ")
        assert 55 <= int(error.rsplit(" ", 2)[1]) <= 60
    assert len(api.requests) == 2


def test_a_rate_limit_refusal_does_not_use_the_budget(api: ApiServer) -> None:
    api.route("GET", "/items", Reply(200, {"stock": 3}))
    text = "actions:" + _lookup(api, "    rate_limit: 1/second\n    max_calls_per_session: 2")
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Find_Item")
        assert call(tool, {"q": "a"}).artifact["ok"] is True
        assert call(tool, {"q": "b"}).artifact["error"].startswith("rate limit of 1/second")
        time.sleep(1.05)
        assert call(tool, {"q": "c"}).artifact["ok"] is True  # the refusal was not counted
        assert call(tool, {"q": "d"}).artifact["skipped"] is True
    assert len(api.requests) == 2


# --------------------------------------------------------------------------- cache


def test_an_identical_get_is_answered_from_the_cache(api: ApiServer) -> None:
    api.route("GET", "/items", Reply(200, {"stock": 3, "name": "pizza"}))
    text = "actions:" + _lookup(api, "    cache: {ttl: 0.5}\n    response_fields: [stock]")
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Find_Item")
        first = call(tool, {"q": "pizza"})
        again = call(tool, {"q": "pizza"})
        assert "cached" not in first.artifact
        assert again.artifact["cached"] is True and again.artifact["request"] is None
        assert again.artifact["data"] == first.artifact["data"] == {"stock": 3}
        assert "Answered from the cache" in again.content
        assert '<api_data>{"stock": 3}</api_data>' in again.content
        assert len(api.requests) == 1
        call(tool, {"q": "salad"})  # another request
        call(tool, {"q": "pizza"}, session="s2")  # another session (scope: session)
        assert len(api.requests) == 3
        time.sleep(0.6)
        assert "cached" not in call(tool, {"q": "pizza"}).artifact  # the ttl ran out
        assert len(api.requests) == 4


def test_a_shared_cache_serves_every_session_but_never_an_error(api: ApiServer) -> None:
    api.route("GET", "/items", [Reply(503, {"message": "busy"}), Reply(200, {"stock": 1})])
    text = "actions:" + _lookup(api, "    cache: {ttl: 60, scope: shared}").replace(
        "url:", "timeout: 5\n    url:"
    )
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Find_Item")
        assert call(tool, {"q": "x"}, "s1").artifact["ok"] is True  # 503 retried, then 200
        assert call(tool, {"q": "x"}, "s2").artifact["cached"] is True
    api.routes.clear()
    api.requests.clear()
    api.route("GET", "/items", Reply(404, {"message": "none"}))
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Find_Item")
        assert call(tool, {"q": "x"}).artifact["status_code"] == 404
        assert call(tool, {"q": "x"}).artifact["status_code"] == 404
    assert len(api.requests) == 2


# --------------------------------------------------------------------------- pages


def _paged(api: ApiServer, pagination: str, extra: str = "") -> str:
    return f"""
actions:
  - name: List_Orders
    when_to_use: Use this when the visitor asks for the list of their orders.
    method: GET
    url: {api.url}/orders?status={{status}}
    inputs: [{{name: status, required: true}}]
    pagination: {pagination}
{extra}
"""


def _items(start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": i, "total": i * 10} for i in range(start, start + count)]


def test_lone_surrogates_in_pages_are_replaced(api: ApiServer) -> None:
    # The pages are joined into one body before it is read: a lone surrogate (valid JSON
    # `"\\ud800"`) must reach the model as U+FFFD, like any other body's, not crash the call.
    def page(rec: Recorded) -> Reply:
        n = int(dict(rec.query_pairs).get("page", "1"))
        link = f'<{api.url}/orders?status=open&page=2>; rel="next"' if n == 1 else ""
        body = f'[{{"id": "a\\ud800 {n}", "\\udfff": "caf\u00e9"}}]'.encode()
        return Reply(200, body, headers={"Link": link})

    api.route("GET", "/orders", page)
    with make_toolkit(_paged(api, "{link_header: true}")) as tk:
        msg = call(tk.get_tool("List_Orders"), {"status": "open"})
    assert msg.artifact["ok"] is True, msg.artifact
    assert msg.artifact["data"] == [
        {"id": "a\ufffd 1", "\ufffd": "caf\u00e9"},
        {"id": "a\ufffd 2", "\ufffd": "caf\u00e9"},
    ]
    msg.content.encode("utf-8")  # the next model call can send it


def test_link_header_pages_are_added_up_and_truncated(api: ApiServer) -> None:
    def page(rec: Recorded) -> Reply:
        n = int(dict(rec.query_pairs).get("page", "1"))
        link = f'<{api.url}/orders?status=open&page={n + 1}>; rel="next"' if n < 3 else ""
        return Reply(200, _items((n - 1) * 60, 60 if n < 3 else 23), headers={"Link": link})

    api.route("GET", "/orders", page)
    text = _paged(api, "{link_header: true}", "    response_fields: [id]")
    with make_toolkit(text) as tk:
        msg = call(tk.get_tool("List_Orders"), {"status": "open"})
    art = msg.artifact
    assert [r.query for r in api.requests] == ["status=open"]  # 60 items: 50 is enough
    assert art["ok"] is True
    assert art["data"]["count"] == 50 and art["data"]["items"][49] == {"id": 49}
    assert art["pagination"]["note"] == "[truncated: 50 of at least 60 items]"
    assert "[truncated: 50 of at least 60 items]" in msg.content
    text = _paged(api, "{link_header: true, max_items: 200}", "    response_fields: [id]")
    api.requests.clear()
    with make_toolkit(text) as tk:
        art = call(tk.get_tool("List_Orders"), {"status": "open"}).artifact
    assert [r.query for r in api.requests] == [
        "status=open",
        "status=open&page=2",
        "status=open&page=3",
    ]
    assert art["data"]["count"] == 143
    assert art["pagination"] == {
        "pages": 3,
        "items": 143,
        "at_least": 143,
        "truncated": False,
        "stopped": None,
        "note": None,
    }


def test_cursor_and_page_numbers(api: ApiServer) -> None:
    def cursor(rec: Recorded) -> Reply:
        at = int(dict(rec.query_pairs).get("after", "0"))
        more = at + 10 < 25
        return Reply(
            200,
            {"data": _items(at, 10 if more else 5), "meta": {"next": at + 10 if more else None}},
        )

    api.route("GET", "/orders", cursor)
    text = _paged(api, "{cursor: {param: after, path: meta.next}, items: data, max_pages: 5}")
    with make_toolkit(text) as tk:
        art = call(tk.get_tool("List_Orders"), {"status": "open"}).artifact
    assert [r.query for r in api.requests] == [
        "status=open",
        "status=open&after=10",
        "status=open&after=20",
    ]
    assert [o["id"] for o in art["data"]] == list(range(25))
    api.routes.clear()
    api.requests.clear()

    def numbered(rec: Recorded) -> Reply:
        n = int(dict(rec.query_pairs).get("p", "0"))
        return Reply(200, {"results": _items(n * 4, 4) if n < 2 else []})

    api.route("GET", "/orders", numbered)
    text = _paged(api, "{page: {param: p, start: 0}, items: results, max_pages: 2}")
    with make_toolkit(text) as tk:
        msg = call(tk.get_tool("List_Orders"), {"status": "open"})
    assert [r.query for r in api.requests] == ["status=open", "status=open&p=1"]
    assert len(msg.artifact["data"]) == 8
    assert "[truncated: 8 items from 2 pages; the API has more pages]" in msg.content


def test_a_next_link_to_another_origin_is_not_followed(api: ApiServer) -> None:
    other = ApiServer().start()
    other.route("GET", "/orders", Reply(200, {"data": [{"id": "stolen"}]}))
    try:
        api.route(
            "GET",
            "/orders",
            Reply(200, {"data": [{"id": 1}], "next": f"{other.url}/orders?status=open"}),
        )
        text = _paged(api, "{next_url: next, items: data}", "    headers: {X-Api-Key: k-123456789}")
        with make_toolkit(text) as tk:
            art = call(tk.get_tool("List_Orders"), {"status": "open"}).artifact
        assert other.requests == []
        assert art["ok"] is True and art["data"] == [{"id": 1}]
        assert art["pagination"]["stopped"] == (
            "the next page's link goes to another origin; it was not followed"
        )
    finally:
        other.stop()


def test_pages_stay_within_the_one_deadline(api: ApiServer) -> None:
    def slow(rec: Recorded) -> Reply:
        n = int(dict(rec.query_pairs).get("page", "1"))
        return Reply(
            200, {"data": _items(n, 1), "next": f"/orders?status=open&page={n + 1}"}, delay=0.4
        )

    api.route("GET", "/orders", slow)
    text = _paged(api, "{next_url: next, items: data, max_pages: 10}", "    timeout: 1")
    with make_toolkit(text) as tk:
        start = time.monotonic()
        art = call(tk.get_tool("List_Orders"), {"status": "open"}).artifact
        took = time.monotonic() - start
    assert took < 1.5
    assert art["ok"] is True and 1 <= len(art["data"]) <= 2
    assert art["pagination"]["truncated"] is True
    assert art["pagination"]["stopped"] is not None


# --------------------------------------------------------------------------- the docs


def test_the_docs_examples_run_against_a_loopback_api(api: ApiServer) -> None:
    """docs/sending.md's idempotency and pagination examples, as written, at loopback."""
    KeyedApi(api)
    api.routes[("POST", "/refunds")] = api.routes.pop(("POST", "/orders"))
    text = snippet("repeats-idempotency").text.replace("https://api.shop.example", api.url)
    with make_toolkit(text) as tk:
        tool = tk.get_tool("Refund_Order")
        failed = call(tool, {"order_number": "12345"}, session="v1")
        assert failed.artifact["status_code"] == 500
        done = call(tool, {"order_number": "12345"}, session="v1")
        assert done.artifact["ok"] is True
    assert [r.headers["Idempotency-Key"] for r in api.requests] == [
        failed.artifact["idempotency_key"]
    ] * 2

    def orders(rec: Recorded) -> Reply:
        after = int(dict(rec.query_pairs).get("cursor", "0"))
        rows = [
            {"id": i, "status": "shipped", "total": i, "secret": "x"}
            for i in range(after, after + 20)
        ]
        return Reply(200, {"data": rows, "meta": {"next_cursor": after + 20}})

    api.route("GET", "/orders", orders)
    text = snippet("repeats-pages").text.replace("https://api.shop.example", api.url)
    with make_toolkit(text) as tk:
        msg = tk.get_tool("List_Orders").invoke(
            {"name": "List_Orders", "args": {}, "id": "c", "type": "tool_call"},
            config={"configurable": {"session_id": "v1", "context": {"customer_id": "C-7"}}},
        )
    assert [r.query for r in api.requests[2:]] == [
        "customer=C-7",
        "customer=C-7&cursor=20",
        "customer=C-7&cursor=40",
    ]
    assert msg.artifact["data"]["count"] == 50
    assert msg.artifact["data"]["items"][0] == {"id": 0, "status": "shipped", "total": 0}
    assert "[truncated: 50 of at least 60 items]" in msg.content


def test_an_action_with_a_key_is_idempotent_over_mcp(api: ApiServer) -> None:
    from langchain_apiactions.mcp_server import tool_annotations

    with make_toolkit(_orders(api)) as tk:
        assert tool_annotations(tk.get_tool("Place_Order")).idempotentHint is True
    text = _orders(api).replace("idempotency_key: true", "idempotency_key: false")
    with make_toolkit(text) as tk:
        assert tool_annotations(tk.get_tool("Place_Order")).idempotentHint is False
