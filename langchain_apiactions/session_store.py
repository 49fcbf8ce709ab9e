"""Which `once_per_session` actions already ran in which session.

Three stores follow the same rules:

- `SessionStore`: in memory, one process (the default).
- `SqliteSessionStore`: a SQLite file (standard library), several processes on one machine.
- `RedisSessionStore`: a Redis server (extra `redis`), several machines.

The rules, in every store:

- `claim()` is atomic across threads, processes and machines: of several concurrent calls
  of one action in one session exactly one gets `True` and is sent.
- A claim is then kept (`finish(used=True)`: the API answered 2xx, or the outcome is
  unknown) or released (`used=False`: nothing was sent, or the API answered with an
  error status, so the visitor can try again). A release removes only the claim this
  store object made, never a claim another worker made since.
- A kept claim lasts `ttl` seconds after its session was last used (a claim, a refused
  claim or a finish in that session). After that the session is forgotten and its
  once-per-session actions may run again.
- A claim in flight is never evicted: it lasts at least `IN_FLIGHT_SECONDS` (longer than
  any call's deadline) even with a shorter `ttl`, and the in-memory cap never removes it.
- A worker that dies mid-call leaves its claim in place: the call counts as used (its
  outcome is unknown), until the claim expires.
- A claim made with an idempotency key may instead be *held* (`finish(hold=True)`: the
  outcome is unknown, or the API answered 5xx, 409, 425 or 429): it stays taken, and only
  a call with the same key (the same call, tried again) may claim it again.

The stores also keep what the repeat-safety options need, with the same atomicity:

- `secret()`: a random secret made once per store (kept in it), which keys the hashes of
  idempotency keys and cache entries; every worker on the store reads the same one.
- `take()`: per-session call counters (`max_calls_per_session`), all-or-nothing.
- `rate()`: sliding-window rate limits shared by every session and worker.
- `cache_get()` / `cache_put()`: cached answers with their own time to live, per session
  or shared.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets as _random
import sqlite3
import threading
import time
import urllib.parse
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_apiactions.errors import MissingExtraError, SessionStoreError

__all__ = [
    "IN_FLIGHT_SECONDS",
    "BaseSessionStore",
    "RedisSessionStore",
    "SessionStore",
    "SqliteSessionStore",
    "session_store_from_url",
]

logger = logging.getLogger("langchain_apiactions.session_store")

DEFAULT_TTL = 86_400.0
# A claim in flight outlives any call: an action's deadline is at most 600 s.
IN_FLIGHT_SECONDS = 1_800.0


class BaseSessionStore:
    """What a session store provides (subclass it for another backend)."""

    ttl: float = DEFAULT_TTL

    def claim(self, session_id: str, action: str, key: str | None = None) -> bool:
        """Reserve the one call of `action` in `session_id`; False if it is taken.

        With an idempotency `key`, a claim held for that same key (`finish(hold=True)`)
        is taken again: it is the same call, tried again.

        Args:
            session_id: The chat session.
            action: The action's name.
            key: The call's idempotency key, if the action has one.

        Returns:
            True when this caller holds the claim now (it may send); False when another
            call has it or the action already ran.

        Raises:
            SessionStoreError: the store cannot be reached (nothing should be sent).
        """
        raise NotImplementedError

    def claim_before(
        self, session_id: str, action: str, deadline: float, key: str | None = None
    ) -> bool:
        """`claim()`, waiting for the store at most until `deadline` (`time.monotonic()`).

        A store that can be busy (SQLite, locked by another process) waits only within
        the call's deadline; the default is `claim()` itself.

        Args:
            session_id: The chat session.
            action: The action's name.
            deadline: The call's deadline, on the `time.monotonic()` clock.
            key: The call's idempotency key, if the action has one.

        Returns:
            True when this caller holds the claim now (it may send); False when another
            call has it or the action already ran.

        Raises:
            SessionStoreError: the store cannot be reached, or stayed busy until the
                deadline (nothing should be sent).
        """
        return self.claim(session_id, action, key)

    def finish(self, session_id: str, action: str, *, used: bool, hold: bool = False) -> None:
        """Keep (`used=True`), hold for a retry with the same key (`hold=True`) or
        release the claim this store made with `claim()`.

        Args:
            session_id: The chat session.
            action: The action's name.
            used: The call counts (the API answered 2xx, or the outcome is unknown).
            hold: Keep it taken for a retry with the same idempotency key only.
        """
        raise NotImplementedError

    def secret(self) -> bytes:
        """This store's random secret (32 bytes): made once, the same for every worker.

        Returns:
            The secret, which keys the hashes of idempotency keys and cache entries.
        """
        raise NotImplementedError

    def take(self, session_id: str, counters: Sequence[tuple[str, int]]) -> str | None:
        """Count one call against each `(name, limit)` of `session_id`, all or none.

        Counters live as long as the session (`ttl` after its last use).

        Args:
            session_id: The chat session.
            counters: `(name, limit)` pairs, e.g. one per action and one per session.

        Returns:
            None when every counter was below its limit (each is now one higher), or the
            name of the first one already at its limit (nothing was counted).
        """
        raise NotImplementedError

    def give_back(self, session_id: str, names: Sequence[str]) -> None:
        """Undo one `take()` of each of `names` (a counted call that then sent nothing).

        Args:
            session_id: The chat session.
            names: The counters to lower by one.
        """
        raise NotImplementedError

    def rate(self, name: str, limit: int, window: float) -> float:
        """Record one call under `name` if fewer than `limit` were recorded in the last
        `window` seconds (across sessions and workers).

        Args:
            name: The rate limit's name.
            limit: Calls allowed per window.
            window: The window, in seconds.

        Returns:
            0.0 when the call was recorded; otherwise nothing is recorded and the result
            is the seconds until one more would be allowed.
        """
        raise NotImplementedError

    def cache_get(self, session_id: str | None, key: str) -> bytes | None:
        """The cached value of `key` (for `session_id`, or shared when None), if live.

        Args:
            session_id: The chat session, or None for the cache every session shares.
            key: The entry's key (a keyed hash of the request).

        Returns:
            The value, or None when there is none or it expired.
        """
        raise NotImplementedError

    def cache_put(self, session_id: str | None, key: str, value: bytes, ttl: float) -> None:
        """Cache `value` under `key` for `ttl` seconds (per session, or shared).

        Args:
            session_id: The chat session, or None for the cache every session shares.
            key: The entry's key (a keyed hash of the request).
            value: What to keep.
            ttl: Seconds it stays.
        """
        raise NotImplementedError

    def has_run(self, session_id: str, action: str) -> bool:
        """Whether `action` ran (or is running) in `session_id`.

        Args:
            session_id: The chat session.
            action: The action's name.

        Returns:
            True when it ran or is running (a held claim counts as taken).
        """
        raise NotImplementedError

    def reset(self, session_id: str | None = None) -> None:
        """Forget one session, or all of them.

        Args:
            session_id: The session to forget; None forgets every session.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (the store is not used afterwards)."""


def _check_ttl(ttl: float) -> float:
    if not ttl > 0:
        msg = f"ttl must be a positive number of seconds (got {ttl!r})"
        raise ValueError(msg)
    return float(ttl)


# --------------------------------------------------------------------------- memory


_RUN = "run"
_DONE = "done"
_HELD = "held:"  # followed by the idempotency key
MAX_CACHE_ENTRIES = 10_000
MAX_SESSION_CACHE_ENTRIES = 100


@dataclass
class _Session:
    # action -> "run" (in flight), "done" (kept) or "held:KEY" (held for a retry).
    actions: dict[str, str] = field(default_factory=dict)
    last_used: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)  # action -> key of its claim in flight
    counts: dict[str, int] = field(default_factory=dict)
    cache: dict[str, tuple[float, bytes]] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return _RUN in self.actions.values()


class SessionStore(BaseSessionStore):
    """In-memory record of once-per-session actions, for one process (thread-safe).

    Sessions idle for `ttl` seconds are forgotten. If more than `max_sessions` sessions
    are still within their `ttl`, the least recently used ones are forgotten too (the cap
    is a last resort against memory growth). A session with a claim in flight is never
    forgotten. Forgetting a session means its once-per-session actions may run again in
    it. For several processes use `SqliteSessionStore` or `RedisSessionStore`.

    Args:
        max_sessions: How many sessions at most are remembered.
        ttl: Seconds a session is remembered after its last use.
        clock: The time source (monotonic seconds; tests pass their own).
    """

    def __init__(
        self,
        max_sessions: int = 100_000,
        ttl: float = DEFAULT_TTL,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1:
            msg = f"max_sessions must be at least 1 (got {max_sessions!r})"
            raise ValueError(msg)
        self.ttl = _check_ttl(ttl)
        self._lock = threading.Lock()
        # Ordered by last use, oldest first.
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._max = max_sessions
        self._clock = clock
        self._secret = _random.token_bytes(32)
        self._rates: dict[str, deque[float]] = {}
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def _live(self, session_id: str, now: float) -> _Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if now - session.last_used >= self.ttl:
            if not session.running:
                del self._sessions[session_id]
                return None
            # Idle past its ttl with a call in flight: the kept claims go, that one stays.
            session.actions = {a: st for a, st in session.actions.items() if st == _RUN}
            session.counts.clear()
            session.cache.clear()
        return session

    def _touch(self, session_id: str, session: _Session, now: float) -> None:
        session.last_used = now
        self._sessions.move_to_end(session_id)

    def _evict(self, now: float) -> None:
        # Idle sessions past their ttl first (the oldest are at the front).
        while self._sessions:
            sid, oldest = next(iter(self._sessions.items()))
            if now - oldest.last_used < self.ttl or oldest.running:
                break
            del self._sessions[sid]
        if len(self._sessions) <= self._max:
            return
        # The cap, as a last resort: the least recently used sessions with no call in
        # flight. Sessions with a claim in flight stay, even above the cap.
        excess = len(self._sessions) - self._max
        victims: list[str] = []
        for sid, session in self._sessions.items():
            if len(victims) >= excess:
                break
            if not session.running:
                victims.append(sid)
        for sid in victims:
            del self._sessions[sid]

    def _session(self, session_id: str, now: float) -> _Session:
        session = self._live(session_id, now)
        if session is None:
            session = self._sessions[session_id] = _Session(last_used=now)
        self._touch(session_id, session, now)
        return session

    def claim(self, session_id: str, action: str, key: str | None = None) -> bool:
        with self._lock:
            now = self._clock()
            session = self._session(session_id, now)
            state = session.actions.get(action)
            if state is not None and not (key is not None and state == _HELD + key):
                return False
            session.actions[action] = _RUN
            if key is not None:
                session.keys[action] = key
            self._evict(now)
            return True

    def finish(self, session_id: str, action: str, *, used: bool, hold: bool = False) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.actions.get(action) != _RUN:
                return
            key = session.keys.pop(action, None)
            if used:
                session.actions[action] = _DONE
            elif hold and key is not None:
                session.actions[action] = _HELD + key
            else:
                del session.actions[action]
            self._touch(session_id, session, self._clock())

    def secret(self) -> bytes:
        return self._secret

    def take(self, session_id: str, counters: Sequence[tuple[str, int]]) -> str | None:
        with self._lock:
            session = self._session(session_id, self._clock())
            for name, limit in counters:
                if session.counts.get(name, 0) >= limit:
                    return name
            for name, _ in counters:
                session.counts[name] = session.counts.get(name, 0) + 1
            return None

    def give_back(self, session_id: str, names: Sequence[str]) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return
            for name in names:
                if session.counts.get(name, 0) > 0:
                    session.counts[name] -= 1

    def rate(self, name: str, limit: int, window: float) -> float:
        with self._lock:
            now = self._clock()
            times = self._rates.setdefault(name, deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                return max(times[0] + window - now, 0.001)
            times.append(now)
            return 0.0

    def cache_get(self, session_id: str | None, key: str) -> bytes | None:
        with self._lock:
            now = self._clock()
            if session_id is None:
                entry = self._cache.get(key)
            else:
                session = self._live(session_id, now)
                entry = session.cache.get(key) if session is not None else None
            if entry is None or entry[0] <= now:
                return None
            return entry[1]

    def cache_put(self, session_id: str | None, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            now = self._clock()
            entry = (now + ttl, value)
            if session_id is None:
                self._cache[key] = entry
                self._cache.move_to_end(key)
                while len(self._cache) > MAX_CACHE_ENTRIES:
                    self._cache.popitem(last=False)
                return
            cache = self._session(session_id, now).cache
            for old in [k for k, (expires, _) in cache.items() if expires <= now]:
                del cache[old]
            cache.pop(key, None)
            cache[key] = entry
            while len(cache) > MAX_SESSION_CACHE_ENTRIES:
                del cache[next(iter(cache))]

    def has_run(self, session_id: str, action: str) -> bool:
        with self._lock:
            session = self._live(session_id, self._clock())
            return session is not None and action in session.actions

    def reset(self, session_id: str | None = None) -> None:
        with self._lock:
            if session_id is None:
                self._sessions.clear()
                self._rates.clear()
                self._cache.clear()
            else:
                self._sessions.pop(session_id, None)


# --------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apiactions_claims (
    session_id TEXT NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    expires REAL NOT NULL,
    PRIMARY KEY (session_id, action)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS apiactions_sessions (
    session_id TEXT PRIMARY KEY,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS apiactions_sessions_expires ON apiactions_sessions (expires);
CREATE TABLE IF NOT EXISTS apiactions_meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS apiactions_counts (
    session_id TEXT NOT NULL,
    name TEXT NOT NULL,
    n INTEGER NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (session_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS apiactions_rates (
    name TEXT NOT NULL,
    at REAL NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (name, at, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS apiactions_cache (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""
# apiactions_claims.done: 0 in flight, 1 kept, 2 held for a retry (token = "key:" + KEY).
_SQL_HELD = 2


class _Tokens:
    """The tokens (and idempotency keys) of the claims this store object holds, to
    release only its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, str | None]] = {}

    def hold(self, session_id: str, action: str, token: str, key: str | None = None) -> None:
        with self._lock:
            self._tokens[session_id, action] = (token, key)

    def forget(self, session_id: str, action: str) -> tuple[str, str | None] | None:
        with self._lock:
            return self._tokens.pop((session_id, action), None)


def _scope(session_id: str | None) -> str:
    return "*" if session_id is None else "s:" + session_id


class SqliteSessionStore(BaseSessionStore):
    """Once-per-session records in a SQLite file, shared by the processes of one machine.

    A claim is one `BEGIN IMMEDIATE` transaction (an `INSERT OR IGNORE` of the claim), so
    of concurrent callers in any number of processes exactly one wins. The file uses WAL
    mode and a busy timeout. Expired sessions are deleted as new claims come in.

    Args:
        path: The database file (created if missing), or `":memory:"` for tests.
        ttl: Seconds a kept claim lasts after its session was last used.
        busy_timeout: Seconds a writer waits for another process's transaction.
        clock: The time source (seconds since the epoch; tests pass their own).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        ttl: float = DEFAULT_TTL,
        *,
        busy_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = _check_ttl(ttl)
        self.path = str(path)
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._local = threading.local()
        self._tokens = _Tokens()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._claims = 0
        self._identity: tuple[int, int] | None = None
        if self.path != ":memory:":
            self._create_file()
        self._puts = 0
        self._secret: bytes | None = None
        try:
            self._db().executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise SessionStoreError(f"session store {self.path}: {e}") from e
        if self.path != ":memory:":
            self._identity = self._file_identity()

    def _create_file(self) -> None:
        """Create the database file readable by its owner only (it holds raw session
        ids): SQLite gives its `-wal` and `-shm` files the database's mode. A new file
        means every once-per-session record starts empty, so it is never silent."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as e:
            raise SessionStoreError(f"session store {self.path}: {e.strerror or e}") from e
        os.close(fd)
        logger.warning(
            "session store %s: created a new, empty store file (mode 0600); "
            "once-per-session actions have not run in any session it knows",
            self.path,
        )

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def _check_file(self) -> None:
        """Fail closed when the file this store opened is gone or replaced: its records
        (which sessions already ran an action) live in the old file, and a new, empty
        one would let every session run its once-per-session actions again."""
        if self._identity is None:
            return
        now = self._file_identity()
        if now == self._identity:
            return
        what = "was deleted" if now is None else "was replaced by another file"
        msg = (
            f"session store {self.path}: the store file {what} while in use; "
            "once-per-session actions are refused until the store is opened again"
        )
        raise SessionStoreError(msg)

    def __repr__(self) -> str:
        return f"SqliteSessionStore({self.path!r}, ttl={self.ttl:g})"

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # `mode=rw`: a connection never creates the file (only `_create_file` does,
            # with mode 0600 and a warning); a deleted store stays deleted.
            target = (
                self.path
                if self.path == ":memory:"
                else "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=rw"
            )
            try:
                db = sqlite3.connect(
                    target,
                    timeout=self._busy_timeout,
                    isolation_level=None,  # transactions are explicit
                    check_same_thread=False,
                    uri=self.path != ":memory:",
                )
                db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                if self.path != ":memory:":
                    self._use_wal(db)
                db.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:
                raise SessionStoreError(f"session store {self.path}: {e}") from e
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    def _use_wal(self, db: sqlite3.Connection) -> None:
        """Put the file in WAL mode (it stays so: later connections only read it).

        Switching the journal mode, or opening a WAL file while another process sets up
        its shared memory, can answer "database is locked" at once, without the busy
        handler (four worker processes opening one new store hit it): those retry until
        the busy timeout."""
        give_up = time.monotonic() + self._busy_timeout
        pause = 0.001
        while True:
            try:
                mode = db.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e).lower() and "busy" not in str(e).lower():
                    raise
                if time.monotonic() + pause > give_up:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)

    @contextlib.contextmanager
    def _transaction(self, deadline: float | None = None) -> Iterator[sqlite3.Connection]:
        db = self._db()
        try:
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    raise SessionStoreError(self._busy_message())
                db.execute(f"PRAGMA busy_timeout = {max(1, int(wait * 1000))}")
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if deadline is not None and "locked" in str(e).lower():
                    raise SessionStoreError(self._busy_message()) from e
                raise
            finally:
                if deadline is not None:
                    db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            try:
                self._check_file()
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as e:
            raise SessionStoreError(f"session store {self.path}: {e}") from e

    def _busy_message(self) -> str:
        return (
            f"session store {self.path}: busy (another process holds the database) until "
            "the call's deadline; nothing was sent"
        )

    def _touch(self, db: sqlite3.Connection, session_id: str, now: float) -> None:
        expires = now + self.ttl
        db.execute(
            "INSERT INTO apiactions_sessions (session_id, expires) VALUES (?, ?) "
            "ON CONFLICT (session_id) DO UPDATE SET expires = excluded.expires",
            (session_id, expires),
        )
        db.execute(
            "UPDATE apiactions_claims SET expires = max(expires, ?) "
            "WHERE session_id = ? AND done >= 1",
            (expires, session_id),
        )
        db.execute(
            "UPDATE apiactions_counts SET expires = max(expires, ?) WHERE session_id = ?",
            (expires, session_id),
        )

    def claim(self, session_id: str, action: str, key: str | None = None) -> bool:
        return self._claim(session_id, action, key, None)

    def claim_before(
        self, session_id: str, action: str, deadline: float, key: str | None = None
    ) -> bool:
        # Another process holding the database (`BEGIN EXCLUSIVE`, a long write) once
        # made a 1 s call wait the whole busy timeout: the wait is the call's time.
        return self._claim(session_id, action, key, deadline)

    def _claim(self, session_id: str, action: str, key: str | None, deadline: float | None) -> bool:
        now = self._clock()
        token = uuid.uuid4().hex
        with self._transaction(deadline) as db:
            # A claim past its expiry is gone (a kept one after `ttl` idle, an
            # abandoned in-flight one after IN_FLIGHT_SECONDS).
            db.execute(
                "DELETE FROM apiactions_claims WHERE session_id = ? AND action = ? "
                "AND expires <= ?",
                (session_id, action, now),
            )
            cur = db.execute(
                "INSERT OR IGNORE INTO apiactions_claims "
                "(session_id, action, token, done, expires) VALUES (?, ?, ?, 0, ?)",
                (session_id, action, token, now + max(self.ttl, IN_FLIGHT_SECONDS)),
            )
            won = cur.rowcount == 1
            if not won and key is not None:  # held for this very call: try it again
                cur = db.execute(
                    "UPDATE apiactions_claims SET token = ?, done = 0, expires = ? "
                    "WHERE session_id = ? AND action = ? AND done = ? AND token = ?",
                    (
                        token,
                        now + max(self.ttl, IN_FLIGHT_SECONDS),
                        session_id,
                        action,
                        _SQL_HELD,
                        "key:" + key,
                    ),
                )
                won = cur.rowcount == 1
            self._touch(db, session_id, now)
            self._claims += 1
            if self._claims % 256 == 0:
                self._sweep(db, now)
        if won:
            self._tokens.hold(session_id, action, token, key)
        return won

    def _sweep(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM apiactions_claims WHERE expires <= ?", (now,))
        db.execute("DELETE FROM apiactions_sessions WHERE expires <= ?", (now,))
        db.execute("DELETE FROM apiactions_counts WHERE expires <= ?", (now,))
        db.execute("DELETE FROM apiactions_cache WHERE expires <= ?", (now,))

    def finish(self, session_id: str, action: str, *, used: bool, hold: bool = False) -> None:
        held = self._tokens.forget(session_id, action)
        if held is None:
            return
        token, key = held
        now = self._clock()
        with self._transaction() as db:
            if used or (hold and key is not None):
                db.execute(
                    "UPDATE apiactions_claims SET done = ?, token = ?, expires = ? "
                    "WHERE session_id = ? AND action = ? AND token = ? AND done = 0",
                    (
                        1 if used else _SQL_HELD,
                        token if used else "key:" + str(key),
                        now + self.ttl,
                        session_id,
                        action,
                        token,
                    ),
                )
            else:
                db.execute(
                    "DELETE FROM apiactions_claims WHERE session_id = ? AND action = ? "
                    "AND token = ?",
                    (session_id, action, token),
                )
            self._touch(db, session_id, now)

    def has_run(self, session_id: str, action: str) -> bool:
        self._check_file()
        try:
            row = (
                self._db()
                .execute(
                    "SELECT 1 FROM apiactions_claims WHERE session_id = ? AND action = ? "
                    "AND expires > ?",
                    (session_id, action, self._clock()),
                )
                .fetchone()
            )
        except sqlite3.Error as e:
            raise SessionStoreError(f"session store {self.path}: {e}") from e
        return row is not None

    def secret(self) -> bytes:
        if self._secret is None:
            with self._transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO apiactions_meta (name, value) VALUES ('secret', ?)",
                    (_random.token_bytes(32),),
                )
                row = db.execute(
                    "SELECT value FROM apiactions_meta WHERE name = 'secret'"
                ).fetchone()
            self._secret = bytes(row[0])
        return self._secret

    def take(self, session_id: str, counters: Sequence[tuple[str, int]]) -> str | None:
        now = self._clock()
        with self._transaction() as db:
            for name, limit in counters:
                row = db.execute(
                    "SELECT n FROM apiactions_counts WHERE session_id = ? AND name = ? "
                    "AND expires > ?",
                    (session_id, name, now),
                ).fetchone()
                if row is not None and row[0] >= limit:
                    return name
            for name, _ in counters:
                db.execute(
                    "INSERT INTO apiactions_counts (session_id, name, n, expires) "
                    "VALUES (?, ?, 1, ?) ON CONFLICT (session_id, name) DO UPDATE SET "
                    "n = CASE WHEN expires > ? THEN n + 1 ELSE 1 END, expires = excluded.expires",
                    (session_id, name, now + self.ttl, now),
                )
            self._touch(db, session_id, now)
        return None

    def give_back(self, session_id: str, names: Sequence[str]) -> None:
        with self._transaction() as db:
            for name in names:
                db.execute(
                    "UPDATE apiactions_counts SET n = max(n - 1, 0) "
                    "WHERE session_id = ? AND name = ?",
                    (session_id, name),
                )

    def rate(self, name: str, limit: int, window: float) -> float:
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "DELETE FROM apiactions_rates WHERE name = ? AND at <= ?", (name, now - window)
            )
            count, oldest = db.execute(
                "SELECT count(*), min(at) FROM apiactions_rates WHERE name = ?", (name,)
            ).fetchone()
            if count >= limit:
                return max(float(oldest) + window - now, 0.001)
            db.execute(
                "INSERT INTO apiactions_rates (name, at, id) VALUES (?, ?, ?)",
                (name, now, uuid.uuid4().hex),
            )
        return 0.0

    def cache_get(self, session_id: str | None, key: str) -> bytes | None:
        try:
            row = (
                self._db()
                .execute(
                    "SELECT value FROM apiactions_cache WHERE scope = ? AND key = ? "
                    "AND expires > ?",
                    (_scope(session_id), key, self._clock()),
                )
                .fetchone()
            )
        except sqlite3.Error as e:
            raise SessionStoreError(f"session store {self.path}: {e}") from e
        return None if row is None else bytes(row[0])

    def cache_put(self, session_id: str | None, key: str, value: bytes, ttl: float) -> None:
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO apiactions_cache (scope, key, value, expires) "
                "VALUES (?, ?, ?, ?)",
                (_scope(session_id), key, value, now + ttl),
            )
            self._puts += 1
            if self._puts % 256 == 0:
                db.execute("DELETE FROM apiactions_cache WHERE expires <= ?", (now,))

    def reset(self, session_id: str | None = None) -> None:
        with self._transaction() as db:
            if session_id is None:
                for table in ("claims", "sessions", "counts", "rates", "cache"):
                    db.execute(f"DELETE FROM apiactions_{table}")  # noqa: S608 (fixed names)
            else:
                db.execute("DELETE FROM apiactions_claims WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM apiactions_sessions WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM apiactions_counts WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM apiactions_cache WHERE scope = ?", (_scope(session_id),))

    def close(self) -> None:
        with self._all_lock:
            for db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._all.clear()
        self._local = threading.local()


# --------------------------------------------------------------------------- Redis

# KEYS[1] the claim, KEYS[2] the session's set of actions, KEYS[3] its call counters;
# ARGV: value, in-flight ms, ttl ms, action, claim key prefix of the session, and the
# idempotency key ("" for none): a claim held for that key is taken again. Returns 1
# when the claim was made.
_CLAIM = """
local won = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not won and ARGV[6] ~= '' and redis.call('GET', KEYS[1]) == 'held:' .. ARGV[6] then
  won = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], math.max(tonumber(ARGV[2]), tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[3], ARGV[3])
for _, a in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local k = ARGV[5] .. a
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, 4) ~= 'run:' then redis.call('PEXPIRE', k, ARGV[3]) end
end
if won then return 1 end
return 0
"""
# Keep (or hold): only the claim this worker made (or one that vanished) changes.
_KEEP = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or not v then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS[1] the session's counters (a hash); ARGV: ttl ms, then name, limit pairs.
# Returns "" when all were counted, else the name of the first one at its limit.
_TAKE = """
for i = 2, #ARGV, 2 do
  local n = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if n >= tonumber(ARGV[i + 1]) then return ARGV[i] end
end
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return ''
"""
# KEYS[1] the session's counters; ARGV: the names to count one down (never below 0).
_GIVE_BACK = """
for i = 1, #ARGV do
  if tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') > 0 then
    redis.call('HINCRBY', KEYS[1], ARGV[i], -1)
  end
end
return 0
"""
# KEYS[1] the window (a sorted set of call times, on the server's clock); ARGV: limit,
# window ms, a unique member. Returns 0 when recorded, else ms until one is allowed.
_RATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""
# Release: compare-and-delete, so another worker's claim is never removed.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSessionStore(BaseSessionStore):
    """Once-per-session records in Redis, shared by any number of machines.

    A claim is `SET key value NX PX` (inside a small script that also refreshes the
    session's kept claims); a release is a compare-and-delete script, so a worker only
    ever removes its own claim. Keys are `{prefix}{session}:{action}` with the session in
    a hash tag, so one session's keys live on one Redis Cluster slot.

    Args:
        url_or_client: A `redis://` / `rediss://` / `unix://` URL, or a `redis.Redis`.
        ttl: Seconds a kept claim lasts after its session was last used.
        prefix: Prepended to every key.
        socket_timeout: Seconds to wait for Redis on each command; past it the call is
            `ok: false` (`session store ... is not reachable`) and nothing is sent.
    """

    def __init__(
        self,
        url_or_client: Any,
        ttl: float = DEFAULT_TTL,
        prefix: str = "apiactions:",
        *,
        socket_timeout: float = 5.0,
    ) -> None:
        try:
            import redis
        except ImportError as e:
            msg = (
                "RedisSessionStore needs the redis extra: pip install 'langchain-apiactions[redis]'"
            )
            raise MissingExtraError(msg) from e
        self.ttl = _check_ttl(ttl)
        self.prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        if isinstance(url_or_client, str):
            self._where = _safe_url(url_or_client)
            self._client = redis.Redis.from_url(
                url_or_client,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
            )
            self._owns_client = True
        else:
            self._where = "redis"
            self._client = url_or_client
            self._owns_client = False
        self._claim = self._client.register_script(_CLAIM)
        self._keep = self._client.register_script(_KEEP)
        self._release = self._client.register_script(_RELEASE)
        self._take = self._client.register_script(_TAKE)
        self._rate = self._client.register_script(_RATE)
        self._give_back = self._client.register_script(_GIVE_BACK)
        self._tokens = _Tokens()
        self._secret: bytes | None = None

    def __repr__(self) -> str:
        return f"RedisSessionStore({self._where!r}, ttl={self.ttl:g}, prefix={self.prefix!r})"

    def _session_prefix(self, session_id: str) -> str:
        # `{...}` is a Redis Cluster hash tag; braces inside the id are escaped away
        # (`%` first, so `a}` and `a%7D` stay two sessions).
        tag = session_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        return f"{self.prefix}{{{tag}}}:"

    def _keys(self, session_id: str, action: str) -> tuple[str, str, str]:
        base = self._session_prefix(session_id)
        return base + "a:" + action, base + "s", base + "a:"

    def _fail(self, e: BaseException) -> SessionStoreError:
        return SessionStoreError(
            f"session store {self._where} is not reachable ({type(e).__name__}: {e})"
        )

    def claim(self, session_id: str, action: str, key: str | None = None) -> bool:
        claim_key, members, base = self._keys(session_id, action)
        token = uuid.uuid4().hex
        try:
            won = self._claim(
                keys=[claim_key, members, self._session_prefix(session_id) + "n"],
                args=[
                    "run:" + token,
                    int(max(self.ttl, IN_FLIGHT_SECONDS) * 1000),
                    int(self.ttl * 1000),
                    action,
                    base,
                    key or "",
                ],
            )
        except self._errors as e:
            raise self._fail(e) from None
        if won == 1:
            self._tokens.hold(session_id, action, token, key)
            return True
        return False

    def finish(self, session_id: str, action: str, *, used: bool, hold: bool = False) -> None:
        held = self._tokens.forget(session_id, action)
        if held is None:
            return
        token, key = held
        claim_key, _, _ = self._keys(session_id, action)
        ttl_ms = int(self.ttl * 1000)
        try:
            if used:
                self._keep(keys=[claim_key], args=["run:" + token, "done:" + token, ttl_ms])
            elif hold and key is not None:
                self._keep(keys=[claim_key], args=["run:" + token, "held:" + key, ttl_ms])
            else:
                self._release(keys=[claim_key], args=["run:" + token])
        except self._errors as e:
            raise self._fail(e) from None

    def secret(self) -> bytes:
        if self._secret is None:
            name = self.prefix + "secret"
            try:
                self._client.set(name, _random.token_bytes(32), nx=True)
                value = self._client.get(name)
            except self._errors as e:
                raise self._fail(e) from None
            if not isinstance(value, bytes) or len(value) < 16:
                msg = f"session store {self._where}: the key {name!r} does not hold a secret"
                raise SessionStoreError(msg)
            self._secret = value
        return self._secret

    def take(self, session_id: str, counters: Sequence[tuple[str, int]]) -> str | None:
        args: list[Any] = [int(self.ttl * 1000)]
        for name, limit in counters:
            args += [name, limit]
        try:
            full = self._take(keys=[self._session_prefix(session_id) + "n"], args=args)
        except self._errors as e:
            raise self._fail(e) from None
        text = full.decode() if isinstance(full, bytes) else str(full or "")
        return text or None

    def give_back(self, session_id: str, names: Sequence[str]) -> None:
        try:
            self._give_back(keys=[self._session_prefix(session_id) + "n"], args=list(names))
        except self._errors as e:
            raise self._fail(e) from None

    def rate(self, name: str, limit: int, window: float) -> float:
        tag = name.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        try:
            wait = self._rate(
                keys=[f"{self.prefix}r:{{{tag}}}"],
                args=[limit, max(int(window * 1000), 1), uuid.uuid4().hex],
            )
        except self._errors as e:
            raise self._fail(e) from None
        return int(wait) / 1000

    def _cache_key(self, session_id: str | None, key: str) -> str:
        if session_id is None:
            return f"{self.prefix}c:{key}"
        return self._session_prefix(session_id) + "c:" + key

    def cache_get(self, session_id: str | None, key: str) -> bytes | None:
        try:
            value = self._client.get(self._cache_key(session_id, key))
        except self._errors as e:
            raise self._fail(e) from None
        return value if isinstance(value, bytes) else None

    def cache_put(self, session_id: str | None, key: str, value: bytes, ttl: float) -> None:
        try:
            self._client.set(self._cache_key(session_id, key), value, px=max(int(ttl * 1000), 1))
        except self._errors as e:
            raise self._fail(e) from None

    def has_run(self, session_id: str, action: str) -> bool:
        key, _, _ = self._keys(session_id, action)
        try:
            return bool(self._client.exists(key))
        except self._errors as e:
            raise self._fail(e) from None

    def reset(self, session_id: str | None = None) -> None:
        pattern = (
            self.prefix + "*"
            if session_id is None
            else _glob_escape(self._session_prefix(session_id)) + "*"
        )
        secret = (self.prefix + "secret").encode()
        try:
            batch: list[Any] = []
            for key in self._client.scan_iter(match=pattern, count=500):
                if key == secret:  # every worker holds it: keys must not change under them
                    continue
                batch.append(key)
                if len(batch) >= 500:
                    self._client.delete(*batch)
                    batch.clear()
            if batch:
                self._client.delete(*batch)
        except self._errors as e:
            raise self._fail(e) from None

    def close(self) -> None:
        if self._owns_client:
            with contextlib.suppress(*self._errors):
                self._client.close()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _safe_url(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urllib.parse.urlunsplit(parts._replace(netloc=user + host))


# --------------------------------------------------------------------------- URLs


def session_store_from_url(url: str, *, ttl: float = DEFAULT_TTL) -> BaseSessionStore:
    """A store for `memory://`, `sqlite:///path/to/file.db` or `redis://host:6379/0`.

    `sqlite:///relative.db` is relative to the working folder; `sqlite:////abs/file.db`
    is absolute (as in SQLAlchemy). `rediss://` and `unix://` go to Redis too.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "memory":
        return SessionStore(ttl=ttl)
    if scheme == "sqlite":
        rest = url[len("sqlite:") :]
        if not rest.startswith("///") or len(rest) == 3:
            msg = f"session store {url!r}: expected sqlite:///path/to/file.db"
            raise SessionStoreError(msg)
        return SqliteSessionStore(rest[3:], ttl=ttl)
    if scheme in ("redis", "rediss", "unix"):
        return RedisSessionStore(url, ttl=ttl)
    msg = (
        f"session store {_safe_url(url)!r}: expected memory://, sqlite:///path/to/file.db "
        "or redis://host:6379/0"
    )
    raise SessionStoreError(msg)
