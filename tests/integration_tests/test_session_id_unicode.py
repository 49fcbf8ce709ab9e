"""A session id that is not valid UTF-8 text (a lone surrogate from a JSON `thread_id`)
still names its own session in every store, and never crashes a call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_apiactions import RedisSessionStore, SessionStore, SqliteSessionStore
from langchain_apiactions.session_store import BaseSessionStore
from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit
from tests.redisserver import RedisServer

ACTION = """
actions:
  - name: Coupon
    when_to_use: Give the visitor a welcome coupon.
    method: POST
    url: {url}/coupon
    body: '{{"n": 1}}'
    once_per_session: true
"""


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseSessionStore]:
    made: BaseSessionStore
    server: RedisServer | None = None
    if request.param == "memory":
        made = SessionStore()
    elif request.param == "sqlite":
        made = SqliteSessionStore(tmp_path / "s.db")
    else:
        server = RedisServer(tmp_path).start()
        made = RedisSessionStore(server.url)
    yield made
    made.close()
    if server is not None:
        server.stop()


def test_a_lone_surrogate_session_id_is_its_own_session(
    store: BaseSessionStore, api: ApiServer
) -> None:
    api.route("POST", "/coupon", Reply(200, {"code": "WELCOME"}))
    toolkit = make_toolkit(ACTION.format(url=api.url), session_store=store)
    try:
        tool = toolkit.get_tools()[0]
        first = call(tool, {}, session="\ud800")
        again = call(tool, {}, session="\ud800")
        other = call(tool, {}, session="\ud801")
    finally:
        toolkit.close()
    assert first.artifact["ok"] is True
    assert again.artifact["skipped"] is True
    assert other.artifact["ok"] is True
    assert len(api.requests) == 2
