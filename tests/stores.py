"""Session stores of each kind for the tests that run the same rules on all of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langchain_apiactions import (
    BaseSessionStore,
    RedisSessionStore,
    SessionStore,
    SqliteSessionStore,
)
from langchain_apiactions.session_store import DEFAULT_TTL


class StoreMaker:
    """`make()` opens a session store of one kind (`kind`: memory, sqlite or redis) on
    one backend: every SQLite store is the same file, every Redis store the same server,
    and in memory one store object is what workers share (one process). A store with
    another `ttl` in memory is one of its own. `close()` closes every store made."""

    def __init__(self, kind: str, tmp_path: Path, redis_url: Callable[[], str]) -> None:
        self.kind = kind
        self._path = tmp_path / "s.db"
        self._redis_url = redis_url  # called only for the redis kind (starts the server)
        self._shared = SessionStore()
        self._made: list[BaseSessionStore] = []

    def __call__(self, ttl: float = DEFAULT_TTL) -> BaseSessionStore:
        store: BaseSessionStore
        if self.kind == "memory":
            store = self._shared if ttl == DEFAULT_TTL else SessionStore(ttl=ttl)
        elif self.kind == "sqlite":
            store = SqliteSessionStore(self._path, ttl=ttl)
        else:
            store = RedisSessionStore(self._redis_url(), ttl=ttl)
        self._made.append(store)
        return store

    def close(self) -> None:
        for store in self._made:
            store.close()
