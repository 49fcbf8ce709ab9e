"""Sending one request: redirects within the origin, capped reads, failures as data.

`send()` is a few named steps: `_send_handling_redirects` follows redirects only within
the origin of the first request (judged on the prepared URL by urllib3's own parser),
`_send_single_request` sends one hop, `_read_capped` reads the body in small chunks up
to a byte cap and `_record_failure` turns whatever ended the call into data.
"""

from __future__ import annotations

import re
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
from requests.models import REDIRECT_STATI
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    NameResolutionError,
    NewConnectionError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util import parse_url

from langchain_apiactions.errors import AddressRefusedError, ErrorKind
from langchain_apiactions.network.threads import (
    _CALL,
    Attempt,
    CallThreads,
    _DeadlineExceeded,
    _Watch,
)
from langchain_apiactions.network.transport import plain_session

__all__ = ["Attempt", "HttpResult", "send"]

MAX_REDIRECTS = 5


@dataclass
class HttpResult:
    """What happened to one call on the wire."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    # Why the request failed (set with `error`): code branches on this, not the text.
    error_kind: ErrorKind | None = None
    # True when the request may have reached the server (timeouts after sending).
    maybe_sent: bool = False
    final_url: str = ""
    # Each attempt on the wire (retries and redirect hops included), when traced.
    attempts: list[Attempt] = field(default_factory=list)
    # Answered from a cassette: nothing was sent.
    replayed: bool = False


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
    shown_timeout: float | None = None,
    trace: bool = False,
) -> HttpResult:
    """Send one request under a total deadline; never raises for API/network failures.

    `threads` are the toolkit's (watchdog, resolver); without them the call starts its
    own and stops them before returning. `shown_timeout` is the timeout messages name
    when `timeout` is what is left of a longer one (default: `timeout`). A session the
    toolkit built itself sends straight through its guarded urllib3 pool (`_Wire`); any
    other goes through `requests.Session.send`. Both use the same guarded connections,
    `Retry`, timeouts, redirect checks and capped reads. With `trace`, each attempt's
    times and answer are kept in `HttpResult.attempts` (one span each).
    """
    own = threads is None
    call_threads = CallThreads() if threads is None else threads
    start = time.monotonic()
    watch = call_threads.watchdog.watch(start + timeout)
    token = _CALL.set(watch)
    result = HttpResult(final_url=url)
    if trace:
        watch.attempts = result.attempts
    wire = _Wire(session)
    try:
        request = wire.prepare(method, url, dict(headers), body)
        resp = _send_handling_redirects(wire, request, watch, result)
        result.headers = dict(resp.headers)
        result.body = _read_capped(resp, watch.deadline, max_bytes)
    except Exception as e:  # never raise into the agent: the call fails as data
        shown = timeout if shown_timeout is None else shown_timeout
        _record_failure(result, e, watch, shown, max_bytes)
    finally:
        if trace and result.attempts:
            last = result.attempts[-1]  # its body is read (or it failed) by now
            last.end_ns = time.time_ns()
            if last.status is None and last.error is None:
                last.status, last.error = result.status, result.error_kind
        call_threads.watchdog.finish(watch)
        _CALL.reset(token)
        if own:
            call_threads.close()
        result.elapsed_ms = round((time.monotonic() - start) * 1000, 1)
    return result


class _Answer:
    """One hop's answer: status, headers and the urllib3 response the body is read from."""

    __slots__ = ("close", "headers", "raw", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        raw: BaseHTTPResponse,
        close: Callable[[], None],
    ) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw
        self.close = close

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECT_STATI and "location" in self.headers


class _Wire:
    """How one call's hops are prepared and sent on `session`.

    On a session the toolkit built (`plain_session`) a request is prepared by
    `requests.PreparedRequest`'s own steps (method, URL, the session's headers merged as
    `Session.prepare_request` merges them, body, auth from the URL) and sent by the
    guarded adapter's `open`; nothing else of `requests.Session` applies to such a
    session (no cookies are kept or sent, no hooks, no auth, no environment). Any other
    session is prepared and sent by `requests` itself.
    """

    __slots__ = ("adapter", "session")

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.adapter = plain_session(session)

    def prepare(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> requests.PreparedRequest:
        session = self.session
        if self.adapter is None:
            return session.prepare_request(
                requests.Request(method, url, headers=dict(headers), data=body)
            )
        p = requests.PreparedRequest()
        p.prepare_method(method)
        p.prepare_url(url, None)
        p.prepare_headers(_merged_headers(headers, session.headers))
        p.prepare_body(body, None, None)
        if "@" in (p.url or ""):  # else `get_auth_from_url` finds no user, nothing to do
            p.prepare_auth(None, url)
        return p

    def send(self, request: requests.PreparedRequest, remaining: float) -> _Answer:
        adapter = self.adapter
        if adapter is None:
            resp = self.session.send(
                request, timeout=(remaining, remaining), allow_redirects=False, stream=True
            )
            return _Answer(resp.status_code, resp.headers, resp.raw, resp.close)
        self.session.get_adapter(request.url or "")  # InvalidSchema for a non-HTTP URL
        raw = adapter.open(request, remaining)
        return _Answer(raw.status, raw.headers, raw, lambda: _close(raw))


def _merged_headers(
    headers: Mapping[str, str], defaults: Mapping[str, str | bytes | None]
) -> CaseInsensitiveDict[str | bytes]:
    """What `requests.sessions.merge_setting(headers, defaults, CaseInsensitiveDict)`
    returns for two mappings (the session's, then the request's; a None removes one),
    without its generic conversions (~50 µs a call)."""
    merged: CaseInsensitiveDict[str | bytes | None] = CaseInsensitiveDict(defaults)
    merged.update(headers)
    for name in [k for k, v in merged.items() if v is None]:
        del merged[name]
    return merged  # type: ignore[return-value]


def _close(raw: BaseHTTPResponse) -> None:
    """What `requests.Response.close` does."""
    raw.close()
    raw.release_conn()


def _send_handling_redirects(
    wire: _Wire,
    request: requests.PreparedRequest,
    watch: _Watch,
    result: HttpResult,
) -> _Answer:
    """Send `request`, following redirects within its origin; the final response."""
    first_url = request.url or ""
    for _ in range(MAX_REDIRECTS + 1):
        resp = _send_single_request(wire, request, watch, result)
        location = resp.headers.get("Location")
        if not (resp.is_redirect and location):
            return resp
        resp.close()
        request = _redirect_request(wire, request, resp.status, location, first_url)
    raise _Stop(f"too many redirects (more than {MAX_REDIRECTS})")


def _send_single_request(
    wire: _Wire,
    request: requests.PreparedRequest,
    watch: _Watch,
    result: HttpResult,
) -> _Answer:
    """One attempt-with-retries of one hop, within what is left of the deadline."""
    remaining = watch.remaining()
    if remaining <= 0:
        raise _DeadlineExceeded("deadline passed")
    result.maybe_sent = True
    result.final_url = request.url or ""
    if watch.attempts is not None:
        watch.begin_attempt(request.url or "")
    resp = wire.send(request, remaining)
    result.status = resp.status
    if watch.attempts:
        watch.end_attempt(resp.status, None)
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
    wire: _Wire,
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
        request = wire.prepare(method, target, headers, body)  # type: ignore[arg-type]
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
    """Turn what ended a call into `result.error` and `error_kind` (and what is known
    about sending)."""
    if isinstance(e, _Stop):
        result.error, result.error_kind = e.error, "redirect_refused"
    elif isinstance(e, _BodyTooLarge):
        result.error = f"response body larger than the {max_bytes:,}-byte cap"
        result.error_kind = "too_large"
        result.body = b""
    elif isinstance(e, AddressRefusedError):
        result.maybe_sent = watch.sent
        result.status = None
        result.error, result.error_kind = str(e), "refused_address"
    elif isinstance(e, _DeadlineExceeded):
        result.maybe_sent = watch.sent
        result.error = f"timeout: no complete answer within {timeout:g} s ({e})"
        result.error_kind = _timeout_kind(result)
    elif isinstance(e, requests.exceptions.ConnectTimeout):
        result.maybe_sent = watch.sent
        result.error = f"timeout: could not connect within {timeout:g} s"
        result.error_kind = _timeout_kind(result)
    elif watch.expired or watch.remaining() <= 0:
        result.maybe_sent = watch.sent
        result.error = f"timeout: no complete answer within {timeout:g} s"
        result.error_kind = _timeout_kind(result)
    elif isinstance(e, requests.exceptions.ConnectionError) and _is_connect_failure(e):
        result.maybe_sent = watch.sent
        result.error = f"could not connect: {_short(e)}"
        result.error_kind = "outcome_unknown" if result.maybe_sent else "unreachable"
    else:
        result.error = f"request failed: {_short(e)}"
        unknown = result.maybe_sent and result.status is None
        result.error_kind = "outcome_unknown" if unknown else "request_failed"


def _timeout_kind(result: HttpResult) -> ErrorKind:
    """A timeout before anything was sent, or one whose outcome nobody knows."""
    return "outcome_unknown" if result.maybe_sent else "not_sent_timeout"


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


def _read_capped(resp: _Answer, deadline: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    raw = resp.raw
    try:
        while True:
            if time.monotonic() >= deadline:
                raise _DeadlineExceeded("the body did not arrive in time")
            chunk = raw.read1(65536, decode_content=True)
            if not chunk:
                if time.monotonic() >= deadline:
                    raise _DeadlineExceeded("the body did not arrive in time")
                break
            total += len(chunk)
            if total > max_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
    except BaseException:
        resp.close()
        raise
    raw.release_conn()
    return b"".join(chunks)
