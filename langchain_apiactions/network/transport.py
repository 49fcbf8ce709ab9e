"""The guarded transport: a `requests` adapter whose every connection obeys the policy.

The adapter resolves the host itself (under the call's deadline), refuses any address the
`NetworkPolicy` does not allow before connecting, and connects to exactly the address it
checked (no second DNS lookup, so no DNS-rebinding window), on every attempt and redirect
hop. It retries idempotent methods only (`DeadlineRetry`, never past the deadline) and
never uses a proxy or `.netrc`. `INTERNALS` lists the urllib3/requests internals this
relies on; a toolkit refuses to start when one of them is missing.
"""

from __future__ import annotations

import concurrent.futures
import http.cookiejar
import ipaddress
import socket
import time
import weakref
from importlib import metadata
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import (
    ConnectionError as RequestsConnectionError,
)
from requests.exceptions import (
    ConnectTimeout,
    InvalidHeader,
    InvalidURL,
    ProxyError,
    ReadTimeout,
    RetryError,
    SSLError,
)
from typing_extensions import Self
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    LocationValueError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import InvalidHeader as Urllib3InvalidHeader
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.poolmanager import PoolManager
from urllib3.response import BaseHTTPResponse, HTTPResponse
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from langchain_apiactions.errors import AddressRefusedError, ApiActionError, SessionConflictError
from langchain_apiactions.network.policy import NetworkPolicy
from langchain_apiactions.network.threads import _CALL, _DeadlineExceeded, _Watch, release

__all__ = [
    "GuardedAdapter",
    "build_session",
    "default_retry",
    "missing_internals",
    "plain_session",
]

USER_AGENT = "langchain-apiactions/0.1"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


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
        if watch is not None and watch.attempts:  # traced: this attempt ended here
            watch.end_attempt(
                None if response is None else response.status,
                None if error is None else type(error).__name__,
            )
        if watch is not None and watch.expired:
            raise _DeadlineExceeded("the call's deadline passed; no further attempt")
        remaining = None if watch is None else watch.remaining()
        if response is not None and remaining is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            if wait is not None and wait >= remaining:
                # Give up now: the caller gets this very response (e.g. the 503).
                raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        self._wait(response)
        watch = _CALL.get()
        if watch is not None and watch.attempts:  # traced: the next attempt starts
            watch.begin_attempt()

    def _wait(self, response: Any) -> None:
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
            raise _DeadlineExceeded(msg)
        if wait <= 0:
            return
        if watch is None:
            time.sleep(wait)
        elif watch.sleep(wait):
            raise _DeadlineExceeded("the call ended while waiting to retry")


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

    def open(self, request: requests.PreparedRequest, timeout: float) -> BaseHTTPResponse:
        """`HTTPAdapter.send` without building a `requests.Response`: the same pool, the
        same guarded connections, `Retry` and timeouts, the same exceptions raised.

        The toolkit's own session sends through this (a `requests.Response` and its
        cookie extraction cost more than the request itself on a kept-alive connection);
        the body is read by the caller from the returned urllib3 response.
        """
        try:
            conn = self.get_connection_with_tls_context(request, True, proxies={}, cert=None)
        except LocationValueError as e:
            raise InvalidURL(e, request=request) from e
        self.cert_verify(conn, request.url or "", True, None)  # type: ignore[no-untyped-call]
        url = self.request_url(request, {})
        chunked = not (request.body is None or "Content-Length" in request.headers)
        pool: Any = conn
        try:
            response: BaseHTTPResponse = pool.urlopen(
                method=request.method or "GET",
                url=url,
                body=request.body,
                headers=request.headers,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=self.max_retries,
                timeout=Timeout(connect=timeout, read=timeout),
                chunked=chunked,
            )
        except Exception as e:
            mapped = _as_requests_error(e, request)
            if mapped is e:
                raise
            try:
                raise mapped from e
            finally:
                # No cycle through this frame: the answer it holds (e.g. one whose
                # Retry-After cannot be parsed) is closed by refcounting, as in requests.
                del mapped
        return response


def _as_requests_error(e: Exception, request: requests.PreparedRequest) -> Exception:
    """The exception `HTTPAdapter.send` raises for urllib3's `e` (the same mapping)."""
    if isinstance(e, (ProtocolError, OSError)):
        return RequestsConnectionError(e, request=request)
    if isinstance(e, MaxRetryError):
        if isinstance(e.reason, ConnectTimeoutError) and not isinstance(
            e.reason, NewConnectionError
        ):
            return ConnectTimeout(e, request=request)
        if isinstance(e.reason, ResponseError):
            return RetryError(e, request=request)
        if isinstance(e.reason, Urllib3ProxyError):
            return ProxyError(e, request=request)
        if isinstance(e.reason, Urllib3SSLError):
            return SSLError(e, request=request)
        return RequestsConnectionError(e, request=request)
    if isinstance(e, ClosedPoolError):
        return RequestsConnectionError(e, request=request)
    if isinstance(e, Urllib3ProxyError):
        return ProxyError(e)
    if isinstance(e, Urllib3SSLError):
        return SSLError(e, request=request)
    if isinstance(e, ReadTimeoutError):
        return ReadTimeout(e, request=request)
    if isinstance(e, Urllib3InvalidHeader):
        return InvalidHeader(e, request=request)
    return e  # re-raised as it is, as `HTTPAdapter.send` does


# The sessions `build_session` made itself: nobody else configured them, so a call may
# skip what `requests.Session` does for settings they do not have (see `plain_session`).
_OWN_SESSIONS: weakref.WeakSet[requests.Session] = weakref.WeakSet()


def plain_session(session: requests.Session) -> GuardedAdapter | None:
    """The guarded adapter of a session the toolkit built and nobody configured since
    (no auth, hooks, cookies, params, certificates or CA bundle of its own), else None.

    Such a session's calls are prepared and sent without `requests.Session`'s machinery
    (`send` then goes straight to the guarded urllib3 pool); any other session, e.g. a
    user's own `session=`, takes `requests`' whole path.
    """
    if session not in _OWN_SESSIONS:
        return None
    if (
        session.verify is not True
        or session.cert is not None
        or session.auth is not None
        or session.params
        or any(session.hooks.values())
        or len(session.cookies)
        or len(session.adapters) != 2
    ):
        return None
    adapter = session.adapters.get("http://")
    if not isinstance(adapter, GuardedAdapter) or session.adapters.get("https://") is not adapter:
        return None
    return adapter


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
    if session is None:
        _OWN_SESSIONS.add(s)
    return s
