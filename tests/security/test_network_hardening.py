"""Issue 9 (network half) and issue 10 (lifecycle): each test failed on the code before
its fix. Only loopback is dialled: the "other host" is a second loopback server."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import psutil
import pytest

from langchain_apiactions import ApiActionsToolkit, network
from langchain_apiactions.errors import ApiActionError, SessionConflictError
from langchain_apiactions.network import missing_internals
from langchain_apiactions.redact import GUARDED_LOGGERS, SecretMaskingFilter
from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import call, make_toolkit

KEY = "xkey-4471-secret-value"


@pytest.fixture
def other() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


# ----------------------------------------------------------------- redirect differential


def _post_toolkit(api: ApiServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("API_KEY", KEY)
    return make_toolkit(f"""
- name: Send_Message
  when_to_use: Use when the visitor sends a message to the store team.
  method: POST
  url: {api.url}/messages
  inputs: [{{name: text, required: true}}]
  headers: {{X-API-Key: "${{API_KEY}}", Authorization: "Bearer ${{API_KEY}}"}}
  body: {{text: "{{text}}", private_note: "body-only-for-the-api"}}
""")


def _redirect_targets(api: ApiServer, other: ApiServer) -> list[str]:
    a, b = api.port, other.port
    return [
        # urllib.parse sees 127.0.0.1:a (same origin), urllib3 connects to 127.0.0.1:b.
        f"http://127.0.0.1:{b}\\@127.0.0.1:{a}/landing",
        f"http://127.0.0.1:{b}\\\\@127.0.0.1:{a}/landing",
        f"http://127.0.0.1:{b}/\\@127.0.0.1:{a}/landing",
        # User info: requests would replace the Authorization header with it.
        f"http://user:pw@127.0.0.1:{a}/landing",
        f"http://127.0.0.1:{b}@127.0.0.1:{a}/landing",
        # Control characters that one parser strips and another keeps.
        f"http://127.0.0.1:{b}\t/landing",
        f"http://127.0.0.1:{a}/land\x7fing",
        # Plain changes of host, port or scheme.
        f"http://localhost:{a}/landing",
        f"http://127.0.0.1:{b}/landing",
        f"https://127.0.0.1:{a}/landing",
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_location_read_differently_by_two_parsers_reaches_no_other_server(
    api: ApiServer, other: ApiServer, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    other.route("*", "*", Reply(200, {"stolen": True}))
    api.route("*", "/landing", Reply(200, {"landed": True}))
    tool = _post_toolkit(api, monkeypatch).get_tools()[0]
    for location in _redirect_targets(api, other):
        api.requests.clear()
        api.route("POST", "/messages", Reply(status, None, headers={"Location": location}))
        art = call(tool, {"text": "hello"}).artifact
        assert art["ok"] is False, location
        assert art["status_code"] == status
        assert "redirect" in art["error"] and "was not followed" in art["error"]
        # The error names no secret and does not quote the raw header.
        assert KEY not in art["error"] and "\\" not in art["error"]
        assert "pw" not in art["error"] and "\t" not in art["error"]
        # The API received the one request, the other server nothing at all.
        assert [r.path for r in api.requests] == ["/messages"], location
    assert other.requests == []
    assert other.connections == 0


def test_a_same_origin_redirect_still_keeps_headers_and_307_body(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.route("POST", "/messages", Reply(307, None, headers={"Location": f"{api.url}/landing?x=1"}))
    api.route("POST", "/landing", Reply(200, {"landed": True}))
    art = call(_post_toolkit(api, monkeypatch).get_tools()[0], {"text": "hi"}).artifact
    assert art["ok"] is True
    assert [r.path for r in api.requests] == ["/messages", "/landing"]
    assert api.last.headers["X-API-Key"] == KEY
    assert api.last.json == {"text": "hi", "private_note": "body-only-for-the-api"}


# ----------------------------------------------------------------- one deadline, one call


def test_a_deadline_ends_only_its_own_calls_connection(api: ApiServer) -> None:
    """The soak scenario: a GET gets 503 + Retry-After, retries and times out while 16
    POSTs share the pool. urllib3 hands the GET's first connection to a POST while the
    GET sleeps; the GET's deadline must not end that POST."""
    get_started = threading.Event()

    def flaky(rec: Recorded) -> Reply:
        if not get_started.is_set():
            get_started.set()
            return Reply(503, {"message": "busy"}, headers={"Retry-After": "1"})
        return Reply(200, {"status": "late"}, delay=4)

    api.route("GET", "/flaky", flaky)
    api.route("POST", "/orders", Reply(201, {"status": "created"}, delay=2.5))
    tk = make_toolkit(f"""
- name: Check_Status
  when_to_use: Use when the visitor asks about the status of the store.
  method: GET
  url: {api.url}/flaky
  timeout: 2.5
- name: Place_Order
  when_to_use: Use when the visitor wants to place an order in the store.
  method: POST
  url: {api.url}/orders
  inputs: [{{name: n, type: number, required: true}}]
  body: {{n: "{{n}}"}}
  timeout: 8
""")
    get_tool, post_tool = tk.get_tools()
    results: dict[int, dict] = {}

    def post(n: int) -> None:
        results[n] = call(post_tool, {"n": n}, session=f"v{n}").artifact

    getter = threading.Thread(target=lambda: results.__setitem__(-1, call(get_tool, {}).artifact))
    getter.start()
    assert get_started.wait(2)
    time.sleep(0.2)  # the 503 is read and its connection is back in the pool
    posters = [threading.Thread(target=post, args=(n,)) for n in range(16)]
    for t in posters:
        t.start()
    for t in [getter, *posters]:
        t.join(15)
    tk.close()
    assert results[-1]["ok"] is False and results[-1]["error_kind"] == "outcome_unknown"
    reached = {r.json["n"] for r in api.requests if r.method == "POST"}
    assert len(reached) == 16
    failed = {n: results[n]["error"] for n in reached if not results[n]["ok"]}
    assert failed == {}, f"{len(failed)} of {len(reached)} POSTs failed: {failed}"


# ----------------------------------------------------------------- name resolution


def test_the_deadline_covers_name_resolution(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resolver that takes 3 s cannot make a 1 s call take 3 s. (The slow resolver is
    simulated in-process: it is not the thing under test.)"""
    api.route("GET", "/x", Reply(200, {"status": "ok"}))
    real = socket.getaddrinfo

    def slow(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "slow-dns.example":
            time.sleep(3)
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    tk = make_toolkit(f"""
- name: Probe
  when_to_use: Use when the visitor asks to probe something in the store.
  method: GET
  url: http://slow-dns.example:{api.port}/x
  timeout: 1
""")
    start = time.monotonic()
    art = call(tk.get_tools()[0], {}).artifact
    elapsed = time.monotonic() - start
    tk.close()
    assert art["ok"] is False and art["error_kind"] == "not_sent_timeout", art
    assert elapsed < 1.8, f"a 1 s call took {elapsed:.2f} s"
    assert api.requests == []


def test_a_call_that_timed_out_resolving_sent_nothing_and_is_not_used_up(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A once-per-session action is used up only when its request may have been sent."""
    api.route("POST", "/tickets", Reply(201, {"id": "T-1"}))
    real = socket.getaddrinfo
    delay = [3.0]

    def slow(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "slow-dns.example":
            time.sleep(delay[0])
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    with make_toolkit(f"""
- name: Open_Ticket
  when_to_use: Use when the visitor wants to open a support ticket with the store.
  method: POST
  url: http://slow-dns.example:{api.port}/tickets
  once_per_session: true
  timeout: 1
""") as tk:
        tool = tk.get_tools()[0]
        first = call(tool, {}).artifact
        assert first["ok"] is False and first["error_kind"] == "not_sent_timeout"
        delay[0] = 0.0
        second = call(tool, {}).artifact
    assert second["ok"] is True, second
    assert [r.path for r in api.requests] == ["/tickets"]


def test_a_fast_name_still_resolves_through_the_guard(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    lookups: list[str] = []

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "store.example":
            lookups.append(threading.current_thread().name)
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    api.route("GET", "/x", Reply(200, {"status": "ok"}))
    url = f"http://store.example:{api.port}/x"
    with make_toolkit(f"""
- name: Probe
  when_to_use: Use when the visitor asks to probe something in the store.
  method: GET
  url: {url}
""") as tk:
        assert call(tk.get_tools()[0], {}).artifact["ok"] is True
    strict = ApiActionsToolkit(
        actions=[
            {
                "name": "Probe",
                "when_to_use": "Use when probing the store.",
                "method": "GET",
                "url": url,
            }
        ]
    )
    art = call(strict.get_tools()[0], {}).artifact
    strict.close()
    assert "store.example resolves to 127.0.0.1 (loopback)" in art["error"]
    assert len(api.requests) == 1
    assert all(name.startswith("apiactions-dns") for name in lookups), lookups


# ----------------------------------------------------------------- one session, two policies


def test_a_session_shared_by_a_strict_and_a_permissive_toolkit(api: ApiServer) -> None:
    import requests

    api.route("GET", "/x", Reply(200, {"status": "ok"}))
    actions = [
        {
            "name": "Probe",
            "when_to_use": "Use when probing the store.",
            "method": "GET",
            "url": api.url + "/x",
        }
    ]
    shared = requests.Session()
    strict = ApiActionsToolkit(actions=actions, session=shared)
    with pytest.raises(SessionConflictError, match="another network policy"):
        ApiActionsToolkit(actions=actions, session=shared, allowed_networks=["127.0.0.0/8"])
    art = call(strict.get_tools()[0], {}).artifact
    assert art["error_kind"] == "refused_address"
    assert art["error"].startswith("refused address")
    assert api.requests == []
    # The other way round: the permissive toolkit's pooled connection to loopback is
    # never handed to a strict toolkit.
    other = requests.Session()
    permissive = ApiActionsToolkit(actions=actions, session=other, allowed_networks=["127.0.0.0/8"])
    assert call(permissive.get_tools()[0], {}).artifact["ok"] is True
    with pytest.raises(SessionConflictError):
        ApiActionsToolkit(actions=actions, session=other)
    # Equal policies may share one session (and its pool).
    twin = ApiActionsToolkit(actions=actions, session=other, allowed_networks=["127.0.0.0/8"])
    assert call(twin.get_tools()[0], {}).artifact["ok"] is True
    assert len(api.requests) == 2
    for tk in (strict, permissive, twin):
        tk.close()


# ----------------------------------------------------------------- urllib3 internals


def test_the_urllib3_internals_the_guard_relies_on_are_there() -> None:
    missing = missing_internals()
    assert missing == [], (
        "langchain_apiactions.network overrides or reads urllib3/requests internals that "
        f"this installed version no longer has: {missing}. The network guard would be "
        "bypassed silently; adapt langchain_apiactions/network/transport.py before allowing this version."
    )


def test_a_changed_internal_stops_the_toolkit_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from urllib3.connectionpool import HTTPConnectionPool

    monkeypatch.delattr(HTTPConnectionPool, "_put_conn")
    assert missing_internals() == ["urllib3.connectionpool.HTTPConnectionPool._put_conn"]
    monkeypatch.setattr(network.transport, "_CHECKED", [])
    with pytest.raises(ApiActionError, match=r"cannot guard connections.*_put_conn"):
        ApiActionsToolkit(
            actions=[
                {
                    "name": "Probe",
                    "when_to_use": "Use when probing.",
                    "method": "GET",
                    "url": "https://example.com/",
                }
            ]
        )


def test_requests_and_urllib3_are_bounded_below_their_next_major() -> None:
    requires = {
        r.split(">", 1)[0].split("<", 1)[0].strip(): r
        for r in metadata.requires("langchain-apiactions") or []
    }
    assert "<3" in requires["requests"]
    assert "<3" in requires["urllib3"]


# ----------------------------------------------------------------- lifecycle


def _masking_filters() -> list[tuple[str, SecretMaskingFilter]]:
    return [
        (name, f)
        for name in GUARDED_LOGGERS
        for f in logging.getLogger(name).filters
        if isinstance(f, SecretMaskingFilter)
    ]


def _connections_to(port: int) -> list[Any]:
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


def test_close_stops_every_thread_and_socket_the_toolkit_started(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "store.example" else host, *a, **k),
    )
    monkeypatch.setenv("API_KEY", KEY)
    api.route("GET", "/x", Reply(200, {"status": "ok"}))
    api.route("GET", "/slow", Reply(200, {"status": "late"}, delay=3))
    before = set(threading.enumerate())
    filters_before = _masking_filters()
    with make_toolkit(f"""
- name: Probe
  when_to_use: Use when the visitor asks to probe something in the store.
  method: GET
  url: http://store.example:{api.port}/x
  headers: {{X-API-Key: "${{API_KEY}}"}}
- name: Slow
  when_to_use: Use when the visitor asks for the slow report of the store.
  method: GET
  url: {api.url}/slow
""") as tk:
        probe, slow = tk.get_tools()
        assert len(_masking_filters()) == len(filters_before) + len(GUARDED_LOGGERS)
        assert call(probe, {}).artifact["ok"] is True  # watchdog + resolver threads
        message = asyncio.run(
            probe.ainvoke({"name": "Probe", "args": {}, "id": "c2", "type": "tool_call"})
        )
        assert message.artifact["ok"] is True  # the async I/O pool
        assert _connections_to(api.port), "the calls should have pooled a connection"
        started = set(threading.enumerate()) - before
        assert started, "the calls should have started threads"
        # A call still in flight when the toolkit closes ends at once, as a timeout.
        in_flight: list[Any] = []
        caller = threading.Thread(target=lambda: in_flight.append(call(slow, {}).artifact))
        caller.start()
        time.sleep(0.3)
        closing = time.monotonic()
    caller.join(5)
    assert time.monotonic() - closing < 1.0
    assert in_flight[0]["ok"] is False and in_flight[0]["error_kind"] == "outcome_unknown"
    assert tk.runtime.threads.alive() == []
    assert _masking_filters() == filters_before  # the log filters masking its secret
    left = [
        t.name
        for t in set(threading.enumerate()) - before
        if t.is_alive() and "process_request" not in t.name  # the test server's own
    ]
    assert left == []
    assert _connections_to(api.port) == []


def test_a_toolkit_nobody_closes_leaves_no_thread_once_collected(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(network.threads._Watchdog, "IDLE_EXIT", 0.2)
    api.route("GET", "/x", Reply(200, {"status": "ok"}))
    before = set(threading.enumerate())
    tk = make_toolkit(f"""
- name: Probe
  when_to_use: Use when the visitor asks to probe something in the store.
  method: GET
  url: {api.url}/x
""")
    tool = tk.get_tools()[0]
    message = asyncio.run(
        tool.ainvoke({"name": "Probe", "args": {}, "id": "c", "type": "tool_call"})
    )
    assert message.artifact["ok"] is True
    assert set(threading.enumerate()) - before
    del tk, tool, message
    deadline = time.monotonic() + 5
    left: list[str] = ["?"]
    while left and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.1)
        left = [
            t.name for t in set(threading.enumerate()) - before if t.name.startswith("apiactions")
        ]
    assert left == []
