"""The threads a toolkit's calls use, and each call's deadline.

`CallThreads` owns the deadline watchdog, the name-resolution workers and the pool that
runs async calls' blocking HTTP work; `close()` stops them all. A call registers a
`_Watch` (its deadline and the connections it holds right now) with the watchdog, which
shuts exactly those sockets when the deadline passes.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Attempt", "CallThreads", "release"]


class CallThreads:
    """The threads a toolkit's calls use; `close()` stops every one of them.

    * the deadline watchdog (one thread, started with the first call);
    * name resolution workers, so that a slow `getaddrinfo` cannot hold a call past its
      deadline (started with the first lookup of a host name);
    * the pool that runs async calls' blocking HTTP work (started with the first async
      call; a model's parallel tool calls must not queue behind each other).

    Nothing here is process-wide: each toolkit owns its own `CallThreads`. After
    `close()` a new call starts them again.
    """

    def __init__(self, io_threads: int = 64, dns_threads: int = 8) -> None:
        self.io_threads = io_threads
        self.dns_threads = dns_threads
        self.watchdog = _Watchdog(self)
        self._lock = threading.Lock()
        self._io: ThreadPoolExecutor | None = None
        self._dns: ThreadPoolExecutor | None = None
        self._workers: list[threading.Thread] = []

    def _pool(self, size: int, prefix: str) -> ThreadPoolExecutor:
        # The workers must not hold `self` (which holds the pool): an unclosed toolkit's
        # pool is then collected with it, and its idle workers end.
        lock, workers = self._lock, self._workers

        def record() -> None:
            with lock:
                workers.append(threading.current_thread())

        return ThreadPoolExecutor(max_workers=size, thread_name_prefix=prefix, initializer=record)

    def io_pool(self) -> ThreadPoolExecutor:
        """The pool that runs async calls' blocking HTTP work."""
        with self._lock:
            if self._io is None:
                self._io = self._pool(self.io_threads, "apiactions-io")
            return self._io

    def resolver(self) -> ThreadPoolExecutor:
        """The pool that runs `getaddrinfo` under the call's deadline."""
        with self._lock:
            if self._dns is None:
                self._dns = self._pool(self.dns_threads, "apiactions-dns")
            return self._dns

    def close(self, wait: float = 2.0) -> None:
        """End calls in flight (as timeouts), stop the watchdog and every worker thread.

        Waits up to `wait` seconds for the workers; a lookup stuck inside the operating
        system's resolver cannot be interrupted and ends on its own (its answer unused).
        """
        self.watchdog.close()
        with self._lock:
            pools = [p for p in (self._io, self._dns) if p is not None]
            self._io = self._dns = None
            workers = list(self._workers)
            self._workers.clear()
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        until = time.monotonic() + wait
        for thread in workers:
            thread.join(max(0.0, until - time.monotonic()))

    def alive(self) -> list[threading.Thread]:
        """The threads started by these calls that still run."""
        with self._lock:
            threads = list(self._workers)
        thread = self.watchdog.thread
        if thread is not None:
            threads.append(thread)
        return [t for t in threads if t.is_alive()]


@dataclass
class Attempt:
    """One HTTP attempt of a request, for its span: a retry urllib3 makes and a redirect
    hop are attempts of their own (recorded only when `send(trace=True)`)."""

    url: str  # as sent: the caller masks it before it is shown
    start_ns: int  # `time.time_ns()`, as OpenTelemetry timestamps are
    end_ns: int = 0
    status: int | None = None
    error: str | None = None  # an exception's type or an `error_kind`


_CALL: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "apiactions_call", default=None
)
_OWNER = "_apiactions_owner"  # the _Watch of the call that holds a connection right now


class _DeadlineExceeded(Exception):
    """The call's total deadline passed.

    Internal control flow: raised by the retry, the reads and the resolver, it never
    leaves `send()`, which records it as `error: timeout ...` in the `HttpResult`.
    """


@dataclass(eq=False)
class _Watch:
    """One call's deadline and the connections it holds right now.

    urllib3 hands a connection back to the pool as soon as a response is released, also
    the first attempt of a call that is still retrying, and another call may take it.
    So a connection is held only between the call taking it (`hold`, when it connects or
    sends) and the pool getting it back (`release`), and the deadline shuts only the
    sockets of connections held at that moment.
    """

    deadline: float
    threads: CallThreads
    held: dict[Any, socket.socket | None] = field(default_factory=dict)
    expired: bool = False
    done: bool = False
    # True once a request of the call was written to a connected socket (in part or
    # whole): the server may have it.
    sent: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Made by a retry's sleep (most calls never sleep), set at expiry.
    woken: threading.Event | None = None
    # The call's attempts (`sending.Attempt`), kept only when it is traced.
    attempts: list[Attempt] | None = None

    def begin_attempt(self, url: str | None = None) -> None:
        """An attempt starts now (a retry: of the same URL as the last one)."""
        attempts = self.attempts
        if attempts is None:
            return
        if attempts and not attempts[-1].end_ns:
            attempts[-1].end_ns = time.time_ns()
        if url is None:
            if not attempts:
                return
            url = attempts[-1].url
        attempts.append(Attempt(url, time.time_ns()))

    def end_attempt(self, status: int | None, error: str | None) -> None:
        """The current attempt got `status` (or failed with `error`), now."""
        if self.attempts:
            last = self.attempts[-1]
            last.end_ns = time.time_ns()
            last.status, last.error = status, error

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def hold(self, conn: Any, sock: socket.socket | None) -> None:
        if _owner_of(conn) is not self:
            release(conn)
        with self.lock:
            if self.done:
                return
            setattr(conn, _OWNER, self)
            if sock is not None or conn not in self.held:
                self.held[conn] = sock
            if self.expired:
                _shutdown(sock or getattr(conn, "sock", None))

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            if self.woken is not None:
                self.woken.set()
            for conn, sock in self.held.items():
                if _owner_of(conn) is self:
                    _shutdown(sock or getattr(conn, "sock", None))

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the call expires meanwhile (then True)."""
        with self.lock:
            if self.expired:
                return True
            if self.woken is None:
                self.woken = threading.Event()
            woken = self.woken
        return woken.wait(seconds)

    def finish(self) -> None:
        with self.lock:
            self.done = True
            for conn in self.held:
                if _owner_of(conn) is self:
                    setattr(conn, _OWNER, None)
            self.held.clear()


def _owner_of(conn: Any) -> _Watch | None:
    owner = getattr(conn, _OWNER, None)
    return owner if isinstance(owner, _Watch) else None


def release(conn: Any) -> bool:
    """The pool got `conn` back: no deadline may touch it now. True if its call expired."""
    owner = _owner_of(conn)
    if owner is None:
        return False
    with owner.lock:
        if _owner_of(conn) is not owner:
            return False
        setattr(conn, _OWNER, None)
        owner.held.pop(conn, None)
        return owner.expired


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        # The plain socket's shutdown, also for a TLS socket (whose own method would
        # drop its TLS state under a thread that may still be reading).
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread per toolkit that ends the calls past their deadline."""

    IDLE_EXIT = 10.0  # seconds without a call before the thread ends

    def __init__(self, threads: CallThreads) -> None:
        self._threads = threads
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._ids = itertools.count()
        self.thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        # The deadline the thread sleeps until (infinity while it waits for a first
        # call): only a sooner one needs to wake it.
        self._waiting_until = float("inf")

    def watch(self, deadline: float) -> _Watch:
        w = _Watch(deadline, self._threads)
        with self._cv:
            heap = self._heap
            while heap and heap[0][2].done:  # finished calls, dropped without a wake-up
                heapq.heappop(heap)
            heapq.heappush(heap, (deadline, next(self._ids), w))
            if self.thread is None or not self.thread.is_alive():
                self._stop = threading.Event()
                self.thread = threading.Thread(
                    target=self._loop, args=(self._stop,), name="apiactions-deadline", daemon=True
                )
                self.thread.start()
            elif deadline < self._waiting_until:
                self._cv.notify()
        return w

    def _loop(self, stop: threading.Event) -> None:
        with self._cv:
            while not stop.is_set():
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._waiting_until = float("inf")
                    if not self._cv.wait(timeout=self.IDLE_EXIT) and not self._heap:
                        # Idle: end, so a toolkit nobody closed holds no thread (the
                        # next call starts one again).
                        if self.thread is threading.current_thread():
                            self.thread = self._stop = None
                        return
                    continue
                deadline = self._heap[0][0]
                now = time.monotonic()
                if deadline <= now:
                    _, _, w = heapq.heappop(self._heap)
                    w.expire()
                else:
                    # At most IDLE_EXIT at a time: finished calls do not wake the
                    # thread, so it looks again now and then (and ends once idle).
                    wait = min(deadline - now, self.IDLE_EXIT)
                    self._waiting_until = now + wait
                    self._cv.wait(timeout=wait)

    def finish(self, w: _Watch) -> None:
        """The call of `w` is over.

        The thread is not woken (a wake-up per call costs more than the call's own
        work on a kept-alive connection): it drops finished calls when it next wakes,
        at the deadline it sleeps until, and `watch` drops them too.
        """
        w.finish()

    def close(self) -> None:
        """End every call still watched and stop the thread."""
        with self._cv:
            pending = [w for _, _, w in self._heap]
            self._heap.clear()
            thread, stop = self.thread, self._stop
            self.thread = self._stop = None
            if stop is not None:
                stop.set()
            self._cv.notify_all()
        for w in pending:
            w.expire()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
