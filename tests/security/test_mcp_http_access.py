"""Issue 19, item 2: `apiactions mcp --transport http` against DNS rebinding and strangers.

The Host/Origin check was on only for `--host 127.0.0.1`, `localhost` or `::1`: with
`0.0.0.0`, `::` or `127.0.0.2` any web page could rebind its name to the server and run
every action with its secrets. Each test starts the real command, talks to it with raw
HTTP requests (forged `Host` and `Origin` headers) and with the MCP SDK's own client, and
checks what the API behind it received.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.apiserver import ApiServer, Reply
from tests.redisserver import free_port

TOKEN = "mcp-bearer-3f9a1c7e5b2d48a6"
ACCEPT = "application/json, text/event-stream"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


@pytest.fixture
def actions(tmp_path: Path, api: ApiServer) -> Path:
    api.route(
        "GET", "/echo", lambda rec: Reply(200, {"said": dict(rec.query_pairs).get("text", "")})
    )
    path = tmp_path / "actions.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        actions:
          - name: Echo
            when_to_use: Use this action to repeat what the visitor said.
            method: GET
            url: "{api.url}/echo?text={{text}}"
            inputs: [{{name: text, required: true}}]
        """),
        encoding="utf-8",
    )
    return path


class Server:
    """`apiactions mcp --transport http` in a subprocess, on a free port."""

    def __init__(self, actions: Path, tmp_path: Path, *args: str, env: Any = None) -> None:
        self.log = tmp_path / f"mcp-{time.monotonic_ns()}.log"
        self._err = self.log.open("w")
        exe = Path(sys.executable).parent / "apiactions"
        self.proc = subprocess.Popen(
            [str(exe), "mcp", str(actions), "--transport", "http", "--port", "0",
             "--allow-network", "127.0.0.0/8", "--log-level", "debug", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (found := re.search(r"MCP server on (http://\S+)", self.stderr)):
            assert self.proc.poll() is None, self.stderr
            assert time.monotonic() < deadline, self.stderr
            time.sleep(0.05)
        self.url = found.group(1)
        self.port = int(re.search(r":(\d+)/mcp$", self.url).group(1))  # type: ignore[union-attr]

    @property
    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)
        self._err.close()


@pytest.fixture
def start(actions: Path, tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def _start(*args: str, env: Any = None) -> Server:
        servers.append(Server(actions, tmp_path, *args, env=env))
        return servers[-1]

    yield _start
    for server in servers:
        server.stop()


def _post(
    dial: str, port: int, host: str, *, origin: str | None = None, auth: str | None = None
) -> httpx.Response:
    """POST to `dial:port` with `Host: host` (what a rebound page's browser sends)."""
    headers = {"Host": host, "Accept": ACCEPT, "Content-Type": "application/json"}
    if origin is not None:
        headers["Origin"] = origin
    if auth is not None:
        headers["Authorization"] = auth
    shown = f"[{dial}]" if ":" in dial else dial
    return httpx.post(f"http://{shown}:{port}/mcp", headers=headers, json=INITIALIZE, timeout=10)


async def _call_echo(url: str, text: str, headers: dict[str, str] | None = None) -> Any:
    async with (
        httpx.AsyncClient(headers=headers or {}, timeout=30) as client,
        streamable_http_client(url, http_client=client) as (r, w, _),
        ClientSession(r, w) as session,
    ):
        await session.initialize()
        return await session.call_tool("Echo", {"text": text})


@pytest.mark.parametrize(
    ("bind", "dial"),
    [("127.0.0.1", "127.0.0.1"), ("127.0.0.2", "127.0.0.2"), ("0.0.0.0", "127.0.0.1"),
     ("::1", "::1"), ("::", "::1")],
)  # fmt: skip
def test_a_forged_host_is_refused_on_every_bind_address(
    start: Any, bind: str, dial: str, api: ApiServer
) -> None:
    server = start("--host", bind)
    for forged in ("attacker.example", f"attacker.example:{server.port}", "rebind.test:80"):
        assert _post(dial, server.port, forged).status_code == 421, forged
    # A page on another origin, even with a Host the server accepts.
    shown = f"[{dial}]" if ":" in dial else dial
    good = f"{shown}:{server.port}"
    assert _post(dial, server.port, good, origin="http://attacker.example").status_code == 403
    # The real client, addressing the server as it listens, works.
    result = anyio.run(_call_echo, f"http://{good}/mcp", "hello")
    assert result.isError is False
    assert [dict(r.query_pairs)["text"] for r in api.requests] == ["hello"]


def test_a_wildcard_bind_without_allowed_host_warns(start: Any) -> None:
    server = start("--host", "0.0.0.0")
    assert "WARNING" in server.stderr
    assert "without --allowed-host" in server.stderr
    assert "--auth-token-env" in server.stderr


def test_allowed_host_names_are_accepted_and_nothing_else(start: Any) -> None:
    server = start("--host", "0.0.0.0", "--allowed-host", "mcp.example.com")
    assert "without --allowed-host" not in server.stderr
    port = server.port
    assert _post("127.0.0.1", port, "mcp.example.com").status_code == 200
    assert _post("127.0.0.1", port, f"mcp.example.com:{port}").status_code == 200
    assert _post("127.0.0.1", port, "mcp.example.com.evil.test").status_code == 421
    assert _post("127.0.0.1", port, "example.com").status_code == 421
    ok = _post("127.0.0.1", port, "mcp.example.com", origin="https://mcp.example.com")
    assert ok.status_code == 200


def test_a_bearer_token_is_required_and_masked(start: Any, api: ApiServer) -> None:
    server = start("--auth-token-env", "MCP_TOKEN", env={"MCP_TOKEN": TOKEN})
    host = f"127.0.0.1:{server.port}"
    assert _post("127.0.0.1", server.port, host).status_code == 401
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", ""):
        response = _post("127.0.0.1", server.port, host, auth=wrong)
        assert response.status_code == 401, wrong
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    assert _post("127.0.0.1", server.port, host, auth=f"Bearer {TOKEN}").status_code == 200
    assert _post("127.0.0.1", server.port, host, auth=f"bearer {TOKEN}").status_code == 200
    # The SDK's client with the token: the call goes through; a visitor who types the
    # token gets it back masked, like any secret of the toolkit.
    result = anyio.run(
        _call_echo, server.url, f"it is {TOKEN}", {"Authorization": f"Bearer {TOKEN}"}
    )
    assert result.isError is False
    assert dict(api.last.query_pairs)["text"] == f"it is {TOKEN}"
    assert TOKEN not in json.dumps(result.model_dump(mode="json"))
    assert "***" in result.content[0].text
    server.stop()
    assert TOKEN not in server.stderr  # debug logging was on


def test_a_missing_token_variable_is_an_error_naming_it(actions: Path) -> None:
    exe = Path(sys.executable).parent / "apiactions"
    env = {k: v for k, v in os.environ.items() if k != "MCP_TOKEN"}
    proc = subprocess.run(
        [str(exe), "mcp", str(actions), "--transport", "http", "--port", "0",
         "--auth-token-env", "MCP_TOKEN"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")
    assert "MCP_TOKEN" in proc.stderr


def test_the_library_takes_the_same_options(actions: Path, tmp_path: Path, api: ApiServer) -> None:
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(f"""\
        import sys
        import anyio
        from langchain_apiactions import ApiActionsToolkit
        from langchain_apiactions.mcp_server import run_http

        toolkit = ApiActionsToolkit.from_file({str(actions)!r}, allowed_networks=["127.0.0.0/8"])
        server = toolkit.to_mcp_server(allowed_hosts=["mcp.example.com"], auth_token_env="MCP_TOKEN")

        def ready(url):
            print(url, file=sys.stderr, flush=True)

        anyio.run(lambda: run_http(server, host="0.0.0.0", port=0, on_ready=ready))
        """),
        encoding="utf-8",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(script)], stderr=err, env={**os.environ, "MCP_TOKEN": TOKEN}
        )
        try:
            deadline = time.monotonic() + 30
            while not (found := re.search(r"http://\S+:(\d+)/mcp", log.read_text())):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            port = int(found.group(1))
            auth = f"Bearer {TOKEN}"
            assert _post("127.0.0.1", port, "mcp.example.com", auth=auth).status_code == 200
            assert _post("127.0.0.1", port, "mcp.example.com").status_code == 401
            assert _post("127.0.0.1", port, "attacker.example", auth=auth).status_code == 421
            result = anyio.run(
                _call_echo, f"http://127.0.0.1:{port}/mcp", "hi", {"Authorization": auth}
            )
            assert result.isError is False
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_allowed_host_values() -> None:
    from langchain_apiactions.mcp_server import allowed_host_headers

    port = free_port()  # any number: nothing listens or connects here
    assert allowed_host_headers("127.0.0.2", port) == [
        f"127.0.0.2:{port}", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}",
    ]  # fmt: skip
    assert allowed_host_headers("localhost.", 9) == [
        "localhost.:9", "127.0.0.1:9", "localhost:9", "[::1]:9",
    ]  # fmt: skip
    assert allowed_host_headers("10.1.2.3", 80, ["api.example.com", "b.example:8443", "::2"]) == [
        "10.1.2.3:80", "api.example.com", "api.example.com:*", "b.example:8443", "[::2]", "[::2]:*",
    ]  # fmt: skip
    assert allowed_host_headers("::", 5) == ["127.0.0.1:5", "localhost:5", "[::1]:5"]
