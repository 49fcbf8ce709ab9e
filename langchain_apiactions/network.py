"""Sending requests: the guarded session, the network policy, retries and the deadline.

Every request of a toolkit goes through one `requests.Session` whose adapter:

* resolves the host itself and refuses, before connecting, any address that the
  `NetworkPolicy` does not allow, then connects to exactly the address it checked (no
  second DNS lookup, so no DNS-rebinding window), on every attempt and redirect hop;
* retries idempotent methods only (urllib3's `Retry`), never past the call's deadline;
* never uses a proxy or `.netrc` (`trust_env = False`): a proxy would connect on our
  behalf to addresses the policy cannot see.

`send()` follows redirects itself, only within the same origin, and reads the body in
small chunks up to a byte cap; a watchdog shuts the sockets of a call down at its
deadline, so a server that trickles bytes cannot hold a call past it.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import http.cookiejar
import ipaddress
import itertools
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from langchain_apiactions.errors import AddressRefusedError
from langchain_apiactions.redact import mask

__all__ = ["HttpResult", "NetworkPolicy", "build_session", "send"]

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


# --------------------------------------------------------------------------- deadline

_CALL: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "apiactions_call", default=None
)


class DeadlineExceededError(Exception):
    """The call's total deadline passed (internal; becomes `error: timeout`)."""


@dataclass(eq=False)
class _Watch:
    deadline: float
    sockets: list[socket.socket] = field(default_factory=list)
    expired: bool = False
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self.lock:
            self.sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that shuts down the sockets of calls past their deadline."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float) -> _Watch:
        w = _Watch(deadline)
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._ids), w))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="apiactions-deadline", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is w:
                self._cv.notify()
        return w

    def _loop(self) -> None:
        with self._cv:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cv.wait(timeout=60)
                    continue
                deadline = self._heap[0][0]
                now = time.monotonic()
                if deadline <= now:
                    _, _, w = heapq.heappop(self._heap)
                    w.expire()
                else:
                    self._cv.wait(timeout=deadline - now)


_WATCHDOG = _Watchdog()


def _remaining() -> float | None:
    w = _CALL.get()
    return None if w is None else w.deadline - time.monotonic()


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
        remaining = _remaining()
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
        remaining = _remaining()
        if remaining is not None and wait >= remaining:
            if response is not None and response.headers.get("Retry-After"):
                msg = f"the API asked to retry after {wait:g} s, past the call's deadline"
            else:
                msg = "the call's deadline passed before a retry"
            raise DeadlineExceededError(msg)
        if wait > 0:
            time.sleep(wait)


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


def _guarded_connect(
    policy: NetworkPolicy,
    host: str,
    port: int,
    timeout: Any,
    source_address: Any,
    socket_options: Any,
) -> socket.socket:
    """Resolve `host`, drop refused addresses, connect to the first allowed one."""
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
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
                sock.settimeout(timeout)
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
            watch.add(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = _CALL.get()
        sock = getattr(self, "sock", None)
        if watch is not None and sock is not None:
            watch.add(sock)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class GuardedHTTPConnection(_GuardedMixin, HTTPConnection):
    """An HTTP connection that applies the network policy when it connects."""


class GuardedHTTPSConnection(_GuardedMixin, HTTPSConnection):
    """An HTTPS connection that applies the network policy when it connects."""


class GuardedAdapter(HTTPAdapter):
    """A `requests` adapter whose every connection goes through the network policy."""

    __attrs__ = [*HTTPAdapter.__attrs__, "policy"]  # noqa: RUF012 (requests' pickling hook)

    def __init__(self, policy: NetworkPolicy, *, pool_maxsize: int = 32) -> None:
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
                "PolicyHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
            ),
            "https": type(
                "PolicyHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        msg = "proxies are not used: a proxy would connect where the network policy cannot check"
        raise AddressRefusedError(msg)


def build_session(
    policy: NetworkPolicy, session: requests.Session | None = None
) -> requests.Session:
    """Return `session` (or a new one) with the guarded adapter mounted and no env trust."""
    s = session if session is not None else requests.Session()
    s.trust_env = False
    s.proxies = {}
    # One session serves every visitor: a cookie an API sets for one visitor's call
    # must never ride along on another's. Nothing is stored, nothing is sent.
    s.cookies.clear()
    s.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = GuardedAdapter(policy)
    # Adapters mounted on a more specific prefix would win over ours: remove them all.
    for old in s.adapters.values():
        old.close()
    s.adapters.clear()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
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


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _redirect_method(method: str, status: int) -> str:
    # As `requests` (and browsers) do: 303 -> GET; 301/302 turn POST into GET.
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
) -> HttpResult:
    """Send one request under a total deadline; never raises for API/network failures."""
    start = time.monotonic()
    deadline = start + timeout
    watch = _WATCHDOG.watch(deadline)
    token = _CALL.set(watch)
    result = HttpResult(final_url=url)
    headers = dict(headers)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError("deadline passed")
            result.maybe_sent = True
            resp = session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=(remaining, remaining),
                allow_redirects=False,
                stream=True,
            )
            result.status = resp.status_code
            result.final_url = url
            location = resp.headers.get("Location")
            if resp.is_redirect and location:
                target = urllib.parse.urljoin(url, location)
                resp.close()
                if _origin(target) != _origin(url):
                    scheme, host, port = _origin(target)
                    result.error = (
                        f"HTTP {resp.status_code} redirect to another origin "
                        f"({scheme}://{host}:{port}) was not followed"
                    )
                    return result
                new_method = _redirect_method(method, resp.status_code)
                if new_method != method and new_method == "GET":
                    body = None
                    headers = {
                        k: v
                        for k, v in headers.items()
                        if k.lower() not in ("content-type", "content-length")
                    }
                method, url = new_method, target
                continue
            result.headers = dict(resp.headers)
            result.body = _read_capped(resp, deadline, max_bytes)
            return result
        result.error = f"too many redirects (more than {MAX_REDIRECTS})"
        return result
    except _BodyTooLarge:
        result.error = f"response body larger than the {max_bytes:,}-byte cap"
        result.body = b""
        return result
    except AddressRefusedError as e:
        result.maybe_sent = False
        result.status = None
        result.error = str(e)
        return result
    except DeadlineExceededError as e:
        result.error = f"timeout: no complete answer within {timeout:g} s ({e})"
        return result
    except requests.exceptions.ConnectTimeout:
        result.maybe_sent = False
        result.error = f"timeout: could not connect within {timeout:g} s"
        return result
    except Exception as e:  # never raise into the agent: the call fails as data
        if time.monotonic() >= deadline or watch.expired:
            result.error = f"timeout: no complete answer within {timeout:g} s"
            return result
        if isinstance(e, requests.exceptions.ConnectionError) and _is_connect_failure(e):
            result.maybe_sent = False
            result.error = f"could not connect: {_short(e)}"
        else:
            result.error = f"request failed: {_short(e)}"
        return result
    finally:
        with watch.lock:
            watch.done = True
        _CALL.reset(token)
        result.elapsed_ms = round((time.monotonic() - start) * 1000, 1)


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
    return mask(text)[:300]


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
