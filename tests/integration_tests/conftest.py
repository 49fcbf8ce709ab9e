"""Fixtures the integration tests share: a real redis-server and session stores of each
kind (tests/stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redisserver import RedisServer
from tests.stores import StoreMaker


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A shared store's URL: a SQLite file, or a real redis-server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreMaker]:
    """Makes stores of one kind on one backend; they are closed after the test."""

    def redis_url() -> str:
        server: RedisServer = request.getfixturevalue("redis_server")
        return server.url

    maker = StoreMaker(request.param, tmp_path, redis_url)
    yield maker
    maker.close()


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OAuth2 client's id and secret in the environment, as `OAuthWorld`'s token
    endpoint expects them (`${CLIENT_ID}`, `${CLIENT_SECRET}` in its actions)."""
    from tests.integration_tests.test_oauth2_live import CLIENT_ID, CLIENT_SECRET

    monkeypatch.setenv("CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CLIENT_SECRET", CLIENT_SECRET)
