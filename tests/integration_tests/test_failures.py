"""API and network failures end in a clean `ok: false` result, never an exception."""

from __future__ import annotations

import gzip
import time
from http import HTTPStatus

import pytest

from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit


def _toolkit(
    api: ApiServer, method: str = "GET", fields: str = "[status]", timeout: float = 10, **opts
):  # type: ignore[no-untyped-def]
    body = '\n  body: \'{"q": "{q}"}\'' if method in ("POST", "PATCH", "PUT") else ""
    return make_toolkit(
        f"""
- name: Lookup
  when_to_use: Use when the visitor asks to look something up in the store system.
  triggered_response: One moment, checking.
  method: {method}
  url: {api.url}/thing/{{q}}
  inputs: [{{name: q, required: true}}]
  timeout: {timeout}
  response_fields: {fields}{body}
""",
        **opts,
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {"message": "order_number must be digits"},
            "HTTP 400 Bad Request: order_number must be digits",
        ),
        (401, {"error": {"message": "Invalid API key"}}, "HTTP 401 Unauthorized: Invalid API key"),
        (404, {"detail": "Order not found"}, "HTTP 404 Not Found: Order not found"),
        (
            500,
            "<!DOCTYPE html><html><body><h1>Internal error</h1></body></html>",
            "HTTP 500 Internal Server Error: an HTML error page",
        ),
        (
            422,
            {"errors": [{"message": "email is invalid"}]},
            f"HTTP 422 {HTTPStatus(422).phrase}: email is invalid",
        ),
    ],
)
def test_error_statuses_relay_the_api_message(
    api: ApiServer, status: int, body: object, expected: str
) -> None:
    api.route("GET", "/thing/1", Reply(status, body))
    msg = call(_toolkit(api).get_tools()[0], {"q": "1"})
    art = msg.artifact
    assert art["ok"] is False
    assert art["status_code"] == status
    assert art["error"] == expected
    assert art["data"] is None
    assert "No data is available" in msg.content
    assert "One moment, checking." in msg.content  # the visitor still gets the triggered response


def test_non_json_body_with_fields_is_not_ok(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(200, "status=shipped"))
    art = call(_toolkit(api).get_tools()[0], {"q": "1"}).artifact
    assert art["ok"] is False and "not JSON" in art["error"]


def test_non_json_body_without_fields_is_text(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(200, "plain text answer"))
    art = call(_toolkit(api, fields="[]").get_tools()[0], {"q": "1"}).artifact
    assert art["ok"] is True and art["data"] == "plain text answer"


def test_whole_body_fallback_is_capped_with_marker(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(200, {"items": ["x" * 100] * 400}))
    msg = call(_toolkit(api, fields="[]", max_body_chars=1000).get_tools()[0], {"q": "1"})
    assert msg.artifact["ok"] and msg.artifact["data"] == {"items": ["x" * 100] * 400}
    assert "[truncated: " in msg.content
    assert len(msg.content) < 1800


def test_invalid_utf8_and_deep_nesting_and_huge_numbers(api: ApiServer) -> None:
    tool = _toolkit(api).get_tools()[0]
    api.route("GET", "/thing/1", Reply(200, b'\xff\xfe{"status": 1}'))
    api.route("GET", "/thing/2", Reply(200, b"[" * 100_000 + b"]" * 100_000))
    api.route("GET", "/thing/3", Reply(200, b'{"status": ' + b"9" * 5000 + b"}"))
    for q in ("1", "2", "3"):
        art = call(tool, {"q": q}).artifact
        assert art["ok"] is False and "not JSON" in art["error"], art


def test_204_no_body(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(204, None))
    art = call(_toolkit(api).get_tools()[0], {"q": "1"}).artifact
    assert art["ok"] is True and art["status_code"] == 204
    assert art["missing_fields"] == ["status"]


def test_timeout_ends_in_time(api: ApiServer) -> None:
    # 1.5 s, not less: under a loaded CI machine a shorter deadline can pass before the
    # request is even sent, which is a different (correct) outcome, not_sent_timeout.
    api.route("GET", "/thing/1", Reply(200, {"status": "late"}, delay=4))
    tool = _toolkit(api, timeout=1.5).get_tools()[0]
    start = time.monotonic()
    art = call(tool, {"q": "1"}).artifact
    elapsed = time.monotonic() - start
    assert art["ok"] is False and art["error_kind"] == "outcome_unknown"
    assert art["error"].startswith("timeout: no complete answer within 1.5 s")
    assert art["status_code"] is None
    assert elapsed < 3.0


def test_trickling_server_cannot_hold_the_call(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(200, {"status": "x" * 200}, trickle=0.05))
    tool = _toolkit(api, timeout=1).get_tools()[0]
    start = time.monotonic()
    art = call(tool, {"q": "1"}).artifact
    assert time.monotonic() - start < 2.0
    assert art["ok"] is False and art["error_kind"] == "outcome_unknown"


def test_size_cap_also_holds_for_gzip(api: ApiServer) -> None:
    bomb = gzip.compress(b'{"status": "' + b"a" * 5_000_000 + b'"}')
    api.route(
        "GET",
        "/thing/1",
        Reply(200, bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}),
    )
    api.route("GET", "/thing/2", Reply(200, {"status": "b" * 2_000_000}))
    tool = _toolkit(api).get_tools()[0]
    for q in ("1", "2"):
        art = call(tool, {"q": q}).artifact
        assert art["ok"] is False and "cap" in art["error"], art
    assert len(bomb) < 100_000


def test_get_is_retried_on_503(api: ApiServer) -> None:
    api.route(
        "GET",
        "/thing/1",
        [Reply(503, {"message": "busy"}), Reply(502), Reply(200, {"status": "ok"})],
    )
    art = call(_toolkit(api).get_tools()[0], {"q": "1"}).artifact
    assert art["ok"] is True and art["data"] == {"status": "ok"}
    assert len(api.requests) == 3


def test_retries_stop_after_three_attempts(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(503, {"message": "down"}))
    art = call(_toolkit(api).get_tools()[0], {"q": "1"}).artifact
    assert len(api.requests) == 3
    assert art["error"] == "HTTP 503 Service Unavailable: down"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_are_never_retried(api: ApiServer, method: str) -> None:
    api.route(method, "/thing/1", [Reply(503, {"message": "busy"}), Reply(200, {"status": "ok"})])
    art = call(_toolkit(api, method=method).get_tools()[0], {"q": "1"}).artifact
    assert len(api.requests) == 1
    assert art["ok"] is False and art["status_code"] == 503


def test_retry_after_past_the_deadline_is_not_waited_for(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(503, {"message": "later"}, headers={"Retry-After": "99999"}))
    start = time.monotonic()
    art = call(_toolkit(api, timeout=2).get_tools()[0], {"q": "1"}).artifact
    assert time.monotonic() - start < 1.5
    assert art["ok"] is False and art["status_code"] == 503
    assert art["error"] == "HTTP 503 Service Unavailable: later"
    assert len(api.requests) == 1


def test_same_origin_redirect_is_followed(api: ApiServer) -> None:
    api.route("GET", "/thing/1", Reply(302, None, headers={"Location": "/thing/v2/1"}))
    api.route("GET", "/thing/v2/1", Reply(200, {"status": "moved"}))
    art = call(_toolkit(api).get_tools()[0], {"q": "1"}).artifact
    assert art["ok"] and art["data"] == {"status": "moved"}
    assert [r.path for r in api.requests] == ["/thing/1", "/thing/v2/1"]


def test_303_after_post_becomes_get_without_body(api: ApiServer) -> None:
    api.route("POST", "/thing/1", Reply(303, None, headers={"Location": "/result"}))
    api.route("GET", "/result", Reply(200, {"status": "done"}))
    art = call(_toolkit(api, method="POST").get_tools()[0], {"q": "1"}).artifact
    assert art["ok"]
    assert api.last.method == "GET" and api.last.body == b""
    assert "Content-Type" not in api.last.headers


def test_cross_origin_redirect_is_refused(api: ApiServer) -> None:
    other = ApiServer().start()
    try:
        other.route("POST", "/steal", Reply(200, {"status": "stolen"}))
        api.route("POST", "/thing/1", Reply(307, None, headers={"Location": f"{other.url}/steal"}))
        art = call(_toolkit(api, method="POST").get_tools()[0], {"q": "1"}).artifact
        assert art["ok"] is False and art["status_code"] == 307
        assert f"http://127.0.0.1:{other.port}" in art["error"]
        assert other.requests == []
    finally:
        other.stop()


def test_connection_refused_is_clean() -> None:
    tk = make_toolkit("""
- name: Down
  when_to_use: Use when the visitor asks about the thing that is down today.
  method: POST
  url: http://127.0.0.1:9/x
""")
    art = call(tk.get_tools()[0], {}).artifact
    assert art["ok"] is False and art["status_code"] is None
    assert "could not connect" in art["error"]
