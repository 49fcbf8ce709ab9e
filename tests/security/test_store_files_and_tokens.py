"""Issue 19, items 7, 8 and 9: SQLite store files, a store deleted under its workers, and
OAuth2 access tokens that could not be sent as they are.

Real SQLite files, real worker processes and a real loopback API and token endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_apiactions.errors import SessionStoreError
from langchain_apiactions.session_store import SqliteSessionStore
from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import call, make_toolkit

# --------------------------------------------------------------------------- item 7


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_file_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which made them -rw-r--r--
    try:
        store = SqliteSessionStore(tmp_path / "sub" / "sessions.db")
        assert store.claim("visitor-1", "Welcome_Coupon")
        store.finish("visitor-1", "Welcome_Coupon", used=True)
        files = sorted(tmp_path.joinpath("sub").iterdir())
        assert [f.name for f in files] == ["sessions.db", "sessions.db-shm", "sessions.db-wal"]
        assert {f.name: _mode(f) for f in files} == dict.fromkeys((f.name for f in files), 0o600)
        store.close()
    finally:
        os.umask(old)


def test_creating_a_store_file_logs_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sessions.db"
    with caplog.at_level(logging.WARNING, logger="langchain_apiactions"):
        SqliteSessionStore(path).close()
        SqliteSessionStore(path).close()  # an existing file: nothing to say
    created = [r for r in caplog.records if "created a new, empty store file" in r.getMessage()]
    assert len(created) == 1
    assert created[0].levelno == logging.WARNING
    assert str(path) in created[0].getMessage()


# --------------------------------------------------------------------------- item 9

WORKER = """
import json, logging, sys
from langchain_apiactions import ApiActionsToolkit

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

store_url, api = sys.argv[1], sys.argv[2]
toolkit = ApiActionsToolkit(
    actions='''
actions:
  - name: Welcome_Coupon
    when_to_use: Use when the visitor asks for their one welcome coupon code.
    method: POST
    url: ''' + api + '''/coupon
    body: {session: "{session_id}"}
    once_per_session: true
''',
    allowed_networks=["127.0.0.0/8"],
    session_store=store_url,
)
tool = toolkit.get_tool("Welcome_Coupon")
print("ready", flush=True)
for line in sys.stdin:  # one line of session ids per round
    out = {}
    for session in line.split():
        art = tool.invoke(
            {"name": tool.name, "args": {}, "id": "c", "type": "tool_call"},
            config={"configurable": {"session_id": session}},
        ).artifact
        out[session] = "ok" if art["ok"] else ("skipped" if art["skipped"] else art["error"])
    print(json.dumps(out), flush=True)
toolkit.close()
"""


class Worker:
    def __init__(self, script: Path, store_url: str, api: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), store_url, api],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def run(self, sessions: list[str]) -> dict[str, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(" ".join(sessions) + "\n")
        self.proc.stdin.flush()
        result: dict[str, str] = json.loads(self.proc.stdout.readline())
        return result

    def stop(self) -> str:
        _, err = self.proc.communicate(timeout=30)  # closes stdin: the worker ends
        return err


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Any]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    started: list[Worker] = []

    def start(store_url: str, api: str) -> Worker:
        started.append(Worker(script, store_url, api))
        return started[-1]

    yield start
    for worker in started:
        if worker.proc.returncode is None:
            worker.stop()


def test_a_deleted_store_fails_closed_and_a_new_one_is_never_silent(
    tmp_path: Path, api: ApiServer, workers: Any
) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME10"}))
    db = tmp_path / "C.db"
    url = f"sqlite:///{db}"
    first, second = workers(url, api.url), workers(url, api.url)
    sessions = [f"visitor-{i}" for i in range(20)]
    assert set(first.run(sessions[:10]).values()) == {"ok"}
    assert set(second.run(sessions[10:]).values()) == {"ok"}
    assert len(api.requests) == 20
    # The issue: `rm C.db C.db-wal C.db-shm` under two running workers.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink()
    for worker in (first, second):
        answers = worker.run(sessions)
        for answer in answers.values():
            assert answer.startswith(f"session store {db}: the store file was deleted"), answer
    assert len(api.requests) == 20  # nothing sent: not one session got a second POST
    # A new worker on the same URL makes a new, empty file: it says so.
    third = workers(url, api.url)
    third.run(sessions[:1])
    err = third.stop()
    assert f"session store {db}: created a new, empty store file" in err
    assert f"WARNING langchain_apiactions.session_store: session store {db}: created" in err
    # The old workers still refuse: the file there is not the one they opened.
    answers = first.run(sessions[1:3])
    assert all("the store file was replaced by another file" in a for a in answers.values())
    assert len(api.requests) == 21


def test_a_replaced_store_file_fails_closed(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SqliteSessionStore(db)
    assert store.claim("v", "a")
    store.finish("v", "a", used=True)
    other = SqliteSessionStore(tmp_path / "other.db")
    other.close()
    os.replace(tmp_path / "other.db", db)
    with pytest.raises(SessionStoreError, match="replaced by another file"):
        store.claim("v", "a")
    with pytest.raises(SessionStoreError, match="replaced by another file"):
        store.has_run("v", "a")
    store.close()


# --------------------------------------------------------------------------- item 8

ACTIONS = """
actions:
  - name: Check_Order
    when_to_use: Use this action when the visitor asks about the status of their order.
    method: GET
    url: {api}/orders
    auth: {{type: oauth2_client_credentials, token_url: "{api}/oauth/token",
            client_id: "${{CLIENT_ID}}", client_secret: "${{CLIENT_SECRET}}"}}
"""


@pytest.mark.parametrize(
    "token",
    ["abc def", "abc\r\nX-Injected: 1", "tok\x00en", "tok\ten", "ab=cd", "tök", "a\x85b", ""],
)
def test_an_access_token_outside_b64token_is_refused_and_nothing_is_sent(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("CLIENT_ID", "client-1")
    monkeypatch.setenv("CLIENT_SECRET", "client-secret-0123456789")
    api.route("POST", "/oauth/token", Reply(200, {"access_token": token, "token_type": "Bearer"}))
    api.route("GET", "/orders", Reply(200, {"status": "Shipped"}))
    toolkit = make_toolkit(ACTIONS.format(api=api.url))
    try:
        message = call(toolkit.get_tool("Check_Order"), {})
    finally:
        toolkit.close()
    artifact = message.artifact
    assert artifact["ok"] is False
    assert [r.path for r in api.requests] == ["/oauth/token"]  # never the API
    if token:
        assert f"the access_token from {api.url}/oauth/token holds characters" in artifact["error"]
        assert token not in json.dumps(artifact) and token not in str(message.content)


def test_a_b64token_access_token_is_sent(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENT_ID", "client-1")
    monkeypatch.setenv("CLIENT_SECRET", "client-secret-0123456789")
    token = "Ab9-._~+/xyz=="
    api.route("POST", "/oauth/token", Reply(200, {"access_token": token, "token_type": "Bearer"}))
    seen: list[str] = []

    def orders(rec: Recorded) -> Reply:
        seen.append(rec.headers["Authorization"])
        return Reply(200, {"status": "Shipped"})

    api.route("GET", "/orders", orders)
    toolkit = make_toolkit(ACTIONS.format(api=api.url))
    try:
        assert call(toolkit.get_tool("Check_Order"), {}).artifact["ok"] is True
    finally:
        toolkit.close()
    assert seen == [f"Bearer {token}"]
