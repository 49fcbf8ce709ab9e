"""Sending requests: the guarded session, the network policy, retries and the deadline.

Every request of a toolkit goes through one `requests.Session` whose adapter:

* resolves the host itself (under the call's deadline) and refuses, before connecting,
  any address that the `NetworkPolicy` does not allow, then connects to exactly the
  address it checked (no second DNS lookup, so no DNS-rebinding window), on every
  attempt and redirect hop;
* retries idempotent methods only (urllib3's `Retry`), never past the call's deadline;
* never uses a proxy or `.netrc` (`trust_env = False`): a proxy would connect on our
  behalf to addresses the policy cannot see.

`send()` is a few named steps: `_send_handling_redirects` follows redirects only within
the origin of the first request (judged on the prepared URL by urllib3's own parser),
`_send_single_request` sends one hop, `_read_capped` reads the body in small chunks up
to a byte cap and `_record_failure` turns whatever ended the call into data. A watchdog
shuts the socket the call holds at its deadline (and only that one), so a server that
trickles bytes cannot hold a call past it. The threads (watchdog, resolver, async pool)
belong to the toolkit's `CallThreads` and stop at `close()`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import heapq
import http.cookiejar
import ipaddress
import itertools
import re
import socket
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from typing_extensions import Self
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.poolmanager import PoolManager
from urllib3.response import BaseHTTPResponse, HTTPResponse
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from langchain_apiactions.errors import AddressRefusedError, ApiActionError, SessionConflictError

__all__ = ["CallThreads", "HttpResult", "NetworkPolicy", "build_session", "send"]

USER_AGENT = "langchain-apiactions/0.1"
MAX_REDIRECTS = 5
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")

# --------------------------------------------------------------------------- policy


def address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` is not a global unicast address, or None when it is one.

    IPv6 forms that wrap an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the
    address they wrap; `ipaddress` alone calls some of them global.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = address_kind(ip.ipv4_mapped)
            return f"IPv4-mapped {inner}" if inner else None
        if ip in _NAT64:
            inner = address_kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            return f"NAT64-wrapped {inner}" if inner else None
        if ip in _NAT64_LOCAL:
            return "local-use NAT64"
        if ip.sixtofour is not None:
            inner = address_kind(ip.sixtofour)
            return f"6to4-wrapped {inner}" if inner else None
        if ip.teredo is not None:
            return "Teredo tunnel"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local / cloud metadata"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared address space"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "not global unicast"
    return None


@dataclass(frozen=True)
class NetworkPolicy:
    """Which addresses a toolkit may connect to.

    By default only global unicast addresses. `allow_private_networks` opens all of
    them; `allowed_networks` (CIDRs) and `allowed_hosts` (exact host names) open
    precisely.
    """

    allow_private_networks: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        allow_private_networks: bool = False,
        allowed_networks: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
    ) -> NetworkPolicy:
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        except ValueError as e:
            msg = f"allowed_networks: {e}"
            raise ValueError(msg) from None
        hosts = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts)
        return cls(allow_private_networks, networks, hosts)

    def refusal(self, host: str, ip_text: str) -> str | None:
        """The reason to refuse connecting to `ip_text` for `host`, or None."""
        if self.allow_private_networks:
            return None
        if host.lower().rstrip(".").strip("[]") in self.allowed_hosts:
            return None
        try:
            ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
        except ValueError:
            return f"{ip_text!r} is not an IP address"
        candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(
            c in net
            for c in candidates
            for net in self.allowed_networks
            if c.version == net.version
        ):
            return None
        kind = address_kind(ip)
        if kind is None:
            return None
        return (
            f"refused address: {host} resolves to {ip} ({kind}); the network policy allows "
            "only public addresses (see allowed_hosts / allowed_networks)"
        )


# --------------------------------------------------------------------------- threads


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


# --------------------------------------------------------------------------- deadline

_CALL: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "apiactions_call", default=None
)
_OWNER = "_apiactions_owner"  # the _Watch of the call that holds a connection right now


class DeadlineExceededError(Exception):
    """The call's total deadline passed (internal; becomes `error: timeout`)."""


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

    def watch(self, deadline: float) -> _Watch:
        w = _Watch(deadline, self._threads)
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._ids), w))
            if self.thread is None or not self.thread.is_alive():
                self._stop = threading.Event()
                self.thread = threading.Thread(
                    target=self._loop, args=(self._stop,), name="apiactions-deadline", daemon=True
                )
                self.thread.start()
            elif self._heap[0][2] is w:
                self._cv.notify()
        return w

    def _loop(self, stop: threading.Event) -> None:
        with self._cv:
            while not stop.is_set():
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
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
                    self._cv.wait(timeout=deadline - now)

    def finish(self, w: _Watch) -> None:
        """The call of `w` is over; wake the thread if it was waiting for `w`."""
        w.finish()
        with self._cv:
            if self._heap and self._heap[0][2] is w:
                self._cv.notify()

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


class DeadlineRetry(Retry):
    """urllib3's `Retry`, never waiting past the current call's deadline."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        watch = _CALL.get()
        if watch is not None and watch.expired:
            raise DeadlineExceededError("the call's deadline passed; no further attempt")
        remaining = None if watch is None else watch.remaining()
        if response is not None and remaining is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            if wait is not None and wait >= remaining:
                # Give up now: the caller gets this very response (e.g. the 503).
                raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        wait = 0.0
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response) or 0.0
        if not wait:
            wait = self.get_backoff_time()
        watch = _CALL.get()
        if watch is not None and wait >= watch.remaining():
            if response is not None and response.headers.get("Retry-After"):
                msg = f"the API asked to retry after {wait:g} s, past the call's deadline"
            else:
                msg = "the call's deadline passed before a retry"
            raise DeadlineExceededError(msg)
        if wait <= 0:
            return
        if watch is None:
            time.sleep(wait)
        elif watch.sleep(wait):
            raise DeadlineExceededError("the call ended while waiting to retry")


def default_retry() -> Retry:
    """At most 3 attempts; statuses and read errors retried for idempotent methods only."""
    return DeadlineRetry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        redirect=0,
        allowed_methods=IDEMPOTENT,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.25,
        backoff_max=2.0,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )


# --------------------------------------------------------------------------- connections


def _resolve(host: str, port: int, watch: _Watch | None) -> list[Any]:
    """`getaddrinfo`, under the call's deadline.

    An IP literal is answered at once; a name is looked up by a worker thread while the
    call waits at most until its deadline (the C resolver cannot be interrupted, so it
    cannot run on the call's own thread).
    """
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        numeric = False
    else:
        numeric = True
    if numeric or watch is None:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    future = watch.threads.resolver().submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    while True:
        remaining = watch.remaining()
        if remaining <= 0 or watch.expired:
            future.cancel()
            msg = f"the name {host} was not resolved within the call's deadline"
            raise TimeoutError(msg)
        try:
            return future.result(timeout=min(remaining, 0.1))
        except concurrent.futures.TimeoutError:
            continue


def _guarded_connect(
    policy: NetworkPolicy,
    host: str,
    port: int,
    timeout: Any,
    source_address: Any,
    socket_options: Any,
) -> socket.socket:
    """Resolve `host`, drop refused addresses, connect to the first allowed one."""
    watch = _CALL.get()
    if watch is not None and watch.expired:
        msg = "the call's deadline passed before connecting"
        raise TimeoutError(msg)
    infos = _resolve(host, port, watch)
    refusals: list[str] = []
    error: OSError | None = None
    for family, socktype, proto, _, sockaddr in infos:
        reason = policy.refusal(host, str(sockaddr[0]))
        if reason is not None:
            refusals.append(reason)
            continue
        sock = socket.socket(family, socktype, proto)
        try:
            for opt in socket_options or ():
                sock.setsockopt(*opt)
            if isinstance(timeout, (int, float)):
                sock.settimeout(
                    timeout if watch is None else max(0.001, min(timeout, watch.remaining()))
                )
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as e:
            error = e
            sock.close()
            continue
        return sock
    if error is not None:
        raise error
    if refusals:
        raise AddressRefusedError(refusals[0])
    raise OSError(f"getaddrinfo returned no address for {host}")


class _GuardedMixin:
    policy: NetworkPolicy = NetworkPolicy()

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        try:
            sock = _guarded_connect(
                self.policy,
                conn._dns_host,
                conn.port,
                conn.timeout,
                conn.source_address,
                conn.socket_options,
            )
        except socket.gaierror as e:
            raise NameResolutionError(conn.host, conn, e) from e
        except TimeoutError as e:
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out") from e
        except OSError as e:
            raise NewConnectionError(conn, f"Failed to establish a new connection: {e}") from e
        watch = _CALL.get()
        if watch is not None:
            watch.hold(self, sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = _CALL.get()
        if watch is None:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        watch.hold(self, getattr(self, "sock", None))
        try:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        finally:
            if getattr(self, "sock", None) is not None:  # connected: bytes may have left
                watch.sent = True


class GuardedHTTPConnection(_GuardedMixin, HTTPConnection):
    """An HTTP connection that applies the network policy when it connects."""


class GuardedHTTPSConnection(_GuardedMixin, HTTPSConnection):
    """An HTTPS connection that applies the network policy when it connects."""


class _ReleasingMixin:
    def _put_conn(self, conn: Any) -> None:
        # Back in the pool: no call's deadline may end it any more. A connection whose
        # call ran out of time may have been shut down mid-use: never reuse it.
        if conn is not None and release(conn):
            conn.close()
        super()._put_conn(conn)  # type: ignore[misc]


# The urllib3 and requests internals this module relies on. If one of them changes, the
# guard could be bypassed silently (an override that is never called), so a toolkit
# refuses to start and the test suite says which one.
INTERNALS: tuple[tuple[type, str], ...] = (
    (HTTPConnection, "_new_conn"),
    (HTTPConnection, "_dns_host"),
    (HTTPConnection, "request"),
    (HTTPConnection, "sock"),
    (HTTPConnection, "port"),
    (HTTPConnection, "timeout"),
    (HTTPConnection, "source_address"),
    (HTTPConnection, "socket_options"),
    (HTTPConnectionPool, "ConnectionCls"),
    (HTTPConnectionPool, "_put_conn"),
    (PoolManager, "pool_classes_by_scheme"),
    (HTTPAdapter, "init_poolmanager"),
    (HTTPAdapter, "proxy_manager_for"),
    (Retry, "increment"),
    (Retry, "sleep"),
    (Retry, "get_retry_after"),
    (Retry, "get_backoff_time"),
    (HTTPResponse, "read1"),
    (HTTPResponse, "release_conn"),
)


def missing_internals() -> list[str]:
    """The internals in `INTERNALS` that the installed urllib3/requests do not have."""
    probe = HTTPConnection("localhost", 80)
    pool = HTTPConnectionPool("localhost", 80)
    manager = PoolManager()
    instances: dict[type, Any] = {HTTPConnection: probe, HTTPConnectionPool: pool}
    instances[PoolManager] = manager
    missing = []
    for owner, name in INTERNALS:
        target = instances.get(owner, owner)
        if not hasattr(target, name):
            missing.append(f"{owner.__module__}.{owner.__qualname__}.{name}")
    pool.close()
    manager.clear()
    return missing


_CHECKED: list[bool] = []


def _check_internals() -> None:
    if _CHECKED:
        return
    missing = missing_internals()
    if missing:
        msg = (
            "langchain_apiactions cannot guard connections with this urllib3/requests "
            f"(urllib3 {metadata.version('urllib3')}, requests {requests.__version__}): missing "
            + ", ".join(missing)
            + ". Install the versions pyproject.toml allows."
        )
        raise ApiActionError(msg)
    _CHECKED.append(True)


class GuardedAdapter(HTTPAdapter):
    """A `requests` adapter whose every connection goes through the network policy."""

    __attrs__ = [*HTTPAdapter.__attrs__, "policy"]  # noqa: RUF012 (requests' pickling hook)

    def __init__(self, policy: NetworkPolicy, *, pool_maxsize: int = 32) -> None:
        _check_internals()
        self.policy = policy
        super().__init__(
            pool_connections=16, pool_maxsize=pool_maxsize, max_retries=default_retry()
        )

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        policy = self.policy
        http_conn = type("PolicyHTTPConnection", (GuardedHTTPConnection,), {"policy": policy})
        https_conn = type("PolicyHTTPSConnection", (GuardedHTTPSConnection,), {"policy": policy})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type(
                "PolicyHTTPConnectionPool",
                (_ReleasingMixin, HTTPConnectionPool),
                {"ConnectionCls": http_conn},
            ),
            "https": type(
                "PolicyHTTPSConnectionPool",
                (_ReleasingMixin, HTTPSConnectionPool),
                {"ConnectionCls": https_conn},
            ),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        msg = "proxies are not used: a proxy would connect where the network policy cannot check"
        raise AddressRefusedError(msg)


def build_session(
    policy: NetworkPolicy, session: requests.Session | None = None
) -> requests.Session:
    """Return `session` (or a new one) with the guarded adapter mounted and no env trust.

    A session already guarded by a different policy (another toolkit's) is refused:
    its pooled connections were checked against that policy, and a connection taken
    from the pool is not checked again. Toolkits with equal policies may share one.
    """
    s = session if session is not None else requests.Session()
    guards = {a.policy for a in s.adapters.values() if isinstance(a, GuardedAdapter)}
    if guards - {policy}:
        msg = (
            "session: this requests.Session is already used by a toolkit with another "
            "network policy; a pooled connection is not checked again, so a toolkit "
            "cannot share it. Give each toolkit its own session (or the same "
            "allow_private_networks / allowed_networks / allowed_hosts)."
        )
        raise SessionConflictError(msg)
    s.trust_env = False
    s.proxies = {}
    # One session serves every visitor: a cookie an API sets for one visitor's call
    # must never ride along on another's. Nothing is stored, nothing is sent.
    s.cookies.clear()
    s.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    s.headers["User-Agent"] = USER_AGENT
    mounted = [s.adapters.get("http://"), s.adapters.get("https://")]
    if guards and len(s.adapters) == 2 and all(isinstance(a, GuardedAdapter) for a in mounted):
        return s  # already guarded by this very policy (another toolkit's, equal)
    adapter = GuardedAdapter(policy)
    # Adapters mounted on a more specific prefix would win over ours: remove them all.
    for old in s.adapters.values():
        old.close()
    s.adapters.clear()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


# --------------------------------------------------------------------------- sending


@dataclass
class HttpResult:
    """What happened to one call on the wire."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    # True when the request may have reached the server (timeouts after sending).
    maybe_sent: bool = False
    final_url: str = ""


class _Stop(Exception):
    """Ends a call with `error` (a plain message built from trusted parts only)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
    threads: CallThreads | None = None,
) -> HttpResult:
    """Send one request under a total deadline; never raises for API/network failures.

    `threads` are the toolkit's (watchdog, resolver); without them the call starts its
    own and stops them before returning.
    """
    own = threads is None
    call_threads = CallThreads() if threads is None else threads
    start = time.monotonic()
    watch = call_threads.watchdog.watch(start + timeout)
    token = _CALL.set(watch)
    result = HttpResult(final_url=url)
    try:
        request = _prepare(session, method, url, dict(headers), body)
        resp = _send_handling_redirects(session, request, watch, result)
        result.headers = dict(resp.headers)
        result.body = _read_capped(resp, watch.deadline, max_bytes)
    except Exception as e:  # never raise into the agent: the call fails as data
        _record_failure(result, e, watch, timeout, max_bytes)
    finally:
        call_threads.watchdog.finish(watch)
        _CALL.reset(token)
        if own:
            call_threads.close()
        result.elapsed_ms = round((time.monotonic() - start) * 1000, 1)
    return result


def _prepare(
    session: requests.Session,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
) -> requests.PreparedRequest:
    return session.prepare_request(requests.Request(method, url, headers=headers, data=body))


def _send_handling_redirects(
    session: requests.Session,
    request: requests.PreparedRequest,
    watch: _Watch,
    result: HttpResult,
) -> requests.Response:
    """Send `request`, following redirects within its origin; the final response."""
    first_url = request.url or ""
    for _ in range(MAX_REDIRECTS + 1):
        resp = _send_single_request(session, request, watch, result)
        location = resp.headers.get("Location")
        if not (resp.is_redirect and location):
            return resp
        resp.close()
        request = _redirect_request(session, request, resp.status_code, location, first_url)
    raise _Stop(f"too many redirects (more than {MAX_REDIRECTS})")


def _send_single_request(
    session: requests.Session,
    request: requests.PreparedRequest,
    watch: _Watch,
    result: HttpResult,
) -> requests.Response:
    """One attempt-with-retries of one hop, within what is left of the deadline."""
    remaining = watch.remaining()
    if remaining <= 0:
        raise DeadlineExceededError("deadline passed")
    result.maybe_sent = True
    result.final_url = request.url or ""
    resp = session.send(request, timeout=(remaining, remaining), allow_redirects=False, stream=True)
    result.status = resp.status_code
    return resp


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port as urllib3 reads them: the parser that will connect."""
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.host or "").lower(), port


def _location_flaw(location: str) -> str | None:
    """Why a `Location` value is refused before it is parsed at all, or None."""
    if "\\" in location:
        return "a backslash"
    if any(unicodedata.category(c) == "Cc" for c in location):
        return "a control character"
    try:
        netloc = urllib.parse.urlsplit(location).netloc
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None  # refused below as not a valid URL
    if "@" in netloc:
        return "a user name or password"
    return None


_SHOWABLE_HOST = re.compile(r"[a-z0-9.\-\[\]:]{1,255}")


def _show_origin(origin: tuple[str, str, int | None]) -> str:
    scheme, host, port = origin
    if scheme in ("http", "https") and _SHOWABLE_HOST.fullmatch(host):
        return f"{scheme}://{host}:{port}"  # masked with the toolkit's secrets by the caller
    return "an origin that cannot be shown"


def _redirect_request(
    session: requests.Session,
    previous: requests.PreparedRequest,
    status: int,
    location: str,
    first_url: str,
) -> requests.PreparedRequest:
    """The next hop's request, prepared exactly as it will be sent, or `_Stop`.

    The origin is judged on the prepared URL through urllib3's parser (the one that
    connects), so two parsers that read a `Location` differently cannot disagree.
    """
    refused = f"HTTP {status} redirect was not followed"
    flaw = _location_flaw(location)
    if flaw is not None:
        raise _Stop(f"{refused}: its Location header contains {flaw}")
    method = _redirect_method(previous.method or "GET", status)
    body = previous.body
    dropped = {"content-length"}
    if method != previous.method:  # turned into a GET: no body, nothing describing one
        body = None
        dropped.add("content-type")
    headers = {k: v for k, v in previous.headers.items() if k.lower() not in dropped}
    try:
        target = urllib.parse.urljoin(previous.url or "", location)
        request = _prepare(session, method, target, headers, body)  # type: ignore[arg-type]
        after = _origin(request.url or "")
        userinfo = parse_url(request.url or "").auth
    except Exception:  # an unparseable URL (InvalidURL, LocationParseError, ...)
        raise _Stop(f"{refused}: its Location header is not a valid URL") from None
    if userinfo is not None:
        raise _Stop(f"{refused}: its Location header contains a user name or password")
    if after != _origin(first_url):
        raise _Stop(
            f"HTTP {status} redirect to another origin ({_show_origin(after)}) was not followed"
        )
    return request


def _redirect_method(method: str, status: int) -> str:
    # As `requests` (and browsers) do: 303 -> GET; 301/302 turn POST into GET.
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def _record_failure(
    result: HttpResult, e: Exception, watch: _Watch, timeout: float, max_bytes: int
) -> None:
    """Turn what ended a call into `result.error` (and what is known about sending)."""
    if isinstance(e, _Stop):
        result.error = e.error
    elif isinstance(e, _BodyTooLarge):
        result.error = f"response body larger than the {max_bytes:,}-byte cap"
        result.body = b""
    elif isinstance(e, AddressRefusedError):
        result.maybe_sent = watch.sent
        result.status = None
        result.error = str(e)
    elif isinstance(e, DeadlineExceededError):
        result.maybe_sent = watch.sent
        result.error = f"timeout: no complete answer within {timeout:g} s ({e})"
    elif isinstance(e, requests.exceptions.ConnectTimeout):
        result.maybe_sent = watch.sent
        result.error = f"timeout: could not connect within {timeout:g} s"
    elif watch.expired or watch.remaining() <= 0:
        result.maybe_sent = watch.sent
        result.error = f"timeout: no complete answer within {timeout:g} s"
    elif isinstance(e, requests.exceptions.ConnectionError) and _is_connect_failure(e):
        result.maybe_sent = watch.sent
        result.error = f"could not connect: {_short(e)}"
    else:
        result.error = f"request failed: {_short(e)}"


def _is_connect_failure(e: Exception) -> bool:
    seen: set[int] = set()
    node: BaseException | None = e
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, (NewConnectionError, NameResolutionError)):
            return True
        reason = getattr(node, "reason", None)
        if isinstance(reason, BaseException):
            node = reason
            continue
        args = getattr(node, "args", ())
        node = next((a for a in args if isinstance(a, BaseException)), None) or node.__context__
    return False


def _short(e: Exception) -> str:
    text = str(e)
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "the host name could not be resolved"
    if "Connection refused" in text:
        return "connection refused"
    # Not cut here: the caller masks the whole text first, then cuts it.
    return text


class _BodyTooLarge(Exception):
    pass


def _read_capped(resp: requests.Response, deadline: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    raw = resp.raw
    try:
        while True:
            if time.monotonic() >= deadline:
                raise DeadlineExceededError("the body did not arrive in time")
            chunk = raw.read1(65536, decode_content=True)
            if not chunk:
                if time.monotonic() >= deadline:
                    raise DeadlineExceededError("the body did not arrive in time")
                break
            total += len(chunk)
            if total > max_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
    except BaseException:
        resp.close()
        raise
    resp.raw.release_conn()
    return b"".join(chunks)
