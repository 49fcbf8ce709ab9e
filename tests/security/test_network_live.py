"""Refused addresses never get a connection: a real listener records every attempt."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_apiactions import ApiActionsToolkit
from tests.apiserver import ApiServer, ConnectionRecorder, Reply
from tests.helpers import call, make_toolkit

# Every way of writing "this machine" that Linux resolves to a loopback (or any-address)
# listener. Only loopback is ever dialled by these tests.
LOOPBACK_SPELLINGS = [
    "127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1",
    "0177.1", "017700000001", "127.000.000.001", "localhost", "LOCALHOST", "localhost.",
    "0.0.0.0", "0", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]",
    "[::]", "127.0.0.2", "127.255.255.254",
]  # fmt: skip


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    r = ConnectionRecorder("127.0.0.1")
    yield r
    r.close()


def _tool(url: str, **options: Any) -> Any:
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": "Probe",
                "when_to_use": "Use when the visitor asks to probe something in the store.",
                "method": "GET",
                "url": url,
            }
        ],
        **options,
    )
    return tk.get_tools()[0]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_spellings_are_refused_before_connecting(
    host: str, recorder: ConnectionRecorder
) -> None:
    tool = _tool(f"http://{host}:{recorder.port}/x")
    start = time.monotonic()
    art = call(tool, {}).artifact
    took = time.monotonic() - start
    assert art["ok"] is False
    assert art["status_code"] is None
    # Refused by the policy, or (for a spelling this machine does not resolve) not found:
    # either way nothing connects.
    assert art["error_kind"] in ("refused_address", "unreachable")
    assert art["error"].startswith(
        ("refused address", "could not connect: the host name could not be resolved")
    ), art["error"]
    assert took < 1.0  # fails fast, no waiting for a timeout
    time.sleep(0.05)
    assert recorder.accepted == 0


@pytest.mark.parametrize("host", ["169.254.169.254", "[fd00:ec2::254]", "[::ffff:169.254.169.254]"])
def test_cloud_metadata_is_refused_without_a_connection_attempt(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    art = call(_tool(f"http://{host}/latest/meta-data/"), {}).artifact
    assert art["error_kind"] == "refused_address"
    assert art["error"].startswith("refused address")
    assert attempts == []


def test_connects_to_the_checked_address_with_one_lookup(
    recorder: ConnectionRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DNS answer that changes between lookups (rebinding) cannot redirect the socket."""
    answers = [
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", recorder.port))],
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))],
    ]
    lookups: list[str] = []
    real = socket.getaddrinfo

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            lookups.append(host)
            return answers[min(len(lookups) - 1, 1)]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    tool = _tool(f"http://rebind.example:{recorder.port}/x", allowed_networks=["127.0.0.0/8"])
    art = call(tool, {}).artifact
    time.sleep(0.05)
    # The first attempt went to the address that was checked (the recorder hangs up on it);
    # the retry looked the name up again, got the metadata address, and was refused.
    assert recorder.accepted == 1
    assert lookups == ["rebind.example", "rebind.example"]
    assert art["error"].startswith("refused address: rebind.example resolves to 169.254.169.254")
    assert art["error_kind"] == "refused_address"


def test_a_host_resolving_to_loopback_is_refused(
    recorder: ConnectionRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "innocent.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    art = call(_tool(f"https://innocent.example:{recorder.port}/x"), {}).artifact
    assert "innocent.example resolves to 127.0.0.1 (loopback)" in art["error"]
    time.sleep(0.05)
    assert recorder.accepted == 0


def test_proxy_variables_are_ignored(
    api: ApiServer, recorder: ConnectionRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.route("GET", "/x", Reply(200, {"ok": 1}))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{recorder.port}")
    monkeypatch.setenv("NO_PROXY", "")
    art = call(_tool(f"{api.url}/x", allowed_networks=["127.0.0.0/8"]), {}).artifact
    assert art["ok"] is True
    assert len(api.requests) == 1
    assert recorder.accepted == 0


def test_netrc_is_ignored(api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("GET", "/x", Reply(200, {"ok": 1}))
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login user password netrc-pass-77\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    call(_tool(f"{api.url}/x", allowed_networks=["127.0.0.0/8"]), {})
    assert "Authorization" not in api.last.headers


def test_allowed_hosts_opens_exactly_one_host(api: ApiServer) -> None:
    api.route("GET", "/x", Reply(200, {"ok": 1}))
    ok = call(_tool(f"{api.url}/x", allowed_hosts=["127.0.0.1"]), {}).artifact
    refused = call(
        _tool(f"http://localhost:{api.port}/x", allowed_hosts=["127.0.0.1"]), {}
    ).artifact
    assert ok["ok"] is True
    assert refused["error_kind"] == "refused_address"
    assert refused["error"].startswith("refused address")
    assert len(api.requests) == 1


def test_cross_origin_307_resends_nothing(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "xkey-5521")
    other = ApiServer().start()
    try:
        other.route("*", "/steal", Reply(200, {"ok": 1}))
        for status in (301, 302, 303, 307, 308):
            api.route(
                "POST",
                f"/r{status}",
                Reply(status, None, headers={"Location": f"{other.url}/steal"}),
            )
        tk = make_toolkit(f"""
- name: Post
  when_to_use: Use when the visitor sends a message to the store team.
  method: POST
  url: {api.url}/r{{status}}
  inputs: [{{name: status, required: true}}]
  headers: {{X-API-Key: "${{API_KEY}}", Authorization: "Bearer ${{API_KEY}}"}}
  body: {{secret_payload: "{{status}}"}}
""")
        for status in ("301", "302", "303", "307", "308"):
            art = call(tk.get_tools()[0], {"status": status}).artifact
            assert art["ok"] is False
            assert art["status_code"] == int(status)
            assert "another origin" in art["error"]
        assert other.requests == []
        assert other.connections == 0
    finally:
        other.stop()


def test_redirect_loops_end(api: ApiServer) -> None:
    api.route("GET", "/loop", Reply(302, None, headers={"Location": "/loop"}))
    art = call(_tool(f"{api.url}/loop", allowed_networks=["127.0.0.0/8"]), {}).artifact
    assert art["error"] == "too many redirects (more than 5)"
    assert len(api.requests) == 6


def test_cookies_set_by_an_api_never_reach_another_call(api: ApiServer) -> None:
    """One pooled session serves every visitor: it must not carry cookies between them."""
    api.route(
        "GET",
        "/login",
        Reply(200, {"ok": 1}, headers={"Set-Cookie": "sid=visitor-a-session; Path=/"}),
    )
    api.route("GET", "/x", Reply(200, {"ok": 1}))
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": name,
                "when_to_use": "Use when the visitor asks to probe something in the store.",
                "method": "GET",
                "url": f"{api.url}/{path}",
            }
            for name, path in (("Login", "login"), ("Probe", "x"))
        ],
        allowed_networks=["127.0.0.0/8"],
    )
    login, probe = tk.get_tools()
    call(login, {}, session="visitor-a")
    call(probe, {}, session="visitor-b")
    call(login, {}, session="visitor-a")
    assert [r.headers.get("Cookie") for r in api.requests] == [None, None, None]
    assert len(tk.runtime.http.cookies) == 0


def test_your_own_session_gets_the_guard_on_every_prefix(recorder: ConnectionRecorder) -> None:
    import requests

    own = requests.Session()
    own.mount(f"http://127.0.0.1:{recorder.port}/", requests.adapters.HTTPAdapter())
    tool = _tool(f"http://127.0.0.1:{recorder.port}/x", session=own)
    art = call(tool, {}).artifact
    assert art["error_kind"] == "refused_address"
    assert art["error"].startswith("refused address")
    time.sleep(0.05)
    assert recorder.accepted == 0
    assert own.trust_env is False
