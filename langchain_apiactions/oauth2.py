"""OAuth2 client credentials: fetching, sharing and refreshing access tokens.

A toolkit owns one `TokenCache`. A token is kept per token endpoint, client id, scopes,
audience and extra parameters, and shared by every action and thread of the toolkit:
when many calls need a token at once, exactly one request goes to the token endpoint
and the others wait for its answer (each within its own call's deadline). A token is
refreshed shortly before `expires_in` runs out, and on demand after the API answered
401 to it (`rejected=`). The token request goes through the toolkit's guarded session
(the network policy applies) and counts against the call's deadline.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests
from pydantic import SecretStr

import langchain_apiactions.tracing as tracing
from langchain_apiactions.auth import CompiledAuth, OAuth2ClientCredentials
from langchain_apiactions.errors import TokenError
from langchain_apiactions.network import CallThreads, HttpResult, send
from langchain_apiactions.redact import SecretMasker
from langchain_apiactions.request import RenderedRequest
from langchain_apiactions.result import status_text

if TYPE_CHECKING:
    from langchain_apiactions.cassette import Cassette

__all__ = ["TokenCache", "TokenError", "refresh_margin"]

# Refresh this long before a token expires (at most half its lifetime).
REFRESH_MARGIN = 30.0
MAX_TOKEN_RESPONSE = 64 * 1024


def refresh_margin(expires_in: float) -> float:
    """How long before expiry a token of `expires_in` seconds is refreshed."""
    return min(REFRESH_MARGIN, expires_in / 2)


@dataclass(eq=False)
class _Entry:
    token: str | None = None
    refresh_at: float | None = None  # monotonic; None = until the API rejects it
    expires_at: float | None = None
    inflight: Future[str] | None = None
    fetches: int = 0


class TokenCache:
    """Access tokens of one toolkit, shared by its actions and threads."""

    def __init__(self, masker: SecretMasker | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], _Entry] = {}
        # The toolkit's masker learns every token fetched, so no answer or error shows it.
        self.masker = masker if masker is not None else SecretMasker()

    def __repr__(self) -> str:
        return f"TokenCache({len(self._entries)} token endpoint(s))"

    @property
    def fetches(self) -> int:
        """How many token requests this cache has made (all endpoints)."""
        with self._lock:
            return sum(e.fetches for e in self._entries.values())

    def clear(self) -> None:
        """Forget every token (the next call fetches a new one)."""
        with self._lock:
            self._entries.clear()

    def token(
        self,
        session: requests.Session,
        auth: CompiledAuth,
        secrets: Mapping[str, str | SecretStr],
        *,
        deadline: float,
        rejected: str | None = None,
        threads: CallThreads | None = None,
        cassette: Cassette | None = None,
    ) -> str:
        """A valid access token for `auth`, fetched only when needed.

        `rejected` is a token the API just answered 401 to: it is dropped (unless another
        thread already replaced it) and a new one fetched. With a `cassette` the token
        request is recorded and replayed like the API's (see `Cassette.exchange`).

        Raises:
            TokenError: the endpoint failed, refused, or the deadline passed.
        """
        cfg = auth.config
        assert isinstance(cfg, OAuth2ClientCredentials)
        client_id = auth.value("client_id", secrets)
        key = (
            cfg.token_url,
            client_id,
            cfg.scope_key,
            cfg.audience or "",
            json.dumps(sorted(cfg.token_params.items())),
        )
        after_401 = rejected is not None
        while True:
            with self._lock:
                entry = self._entries.setdefault(key, _Entry())
                if rejected is not None and entry.token == rejected:
                    entry.token = entry.refresh_at = entry.expires_at = None
                rejected = None
                now = time.monotonic()
                if entry.token is not None:
                    if entry.refresh_at is None or now < entry.refresh_at:
                        return entry.token
                    if entry.inflight is not None and (
                        entry.expires_at is None or now < entry.expires_at
                    ):
                        return entry.token  # still valid while another call refreshes it
                future = entry.inflight
                owner = future is None
                if future is None:
                    future = entry.inflight = Future()
                    entry.fetches += 1
            if owner:
                # On the call's span: this call fetched the token (others waited for it).
                tracing.event("apiactions.oauth2.token", {"apiactions.oauth2.rejected": after_401})
                return self._fetch_into(
                    entry, future, session, cfg, auth, secrets, deadline, threads, cassette
                )
            try:
                return future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                msg = "timeout: no access token from the token endpoint within the deadline"
                raise TokenError(msg, timeout=True) from None
            except TokenError as e:
                # The fetching call ran out of its own time; ours may still have some.
                if e.timeout and deadline - time.monotonic() > 0.05:
                    continue
                raise

    def _fetch_into(
        self,
        entry: _Entry,
        future: Future[str],
        session: requests.Session,
        cfg: OAuth2ClientCredentials,
        auth: CompiledAuth,
        secrets: Mapping[str, str | SecretStr],
        deadline: float,
        threads: CallThreads | None,
        cassette: Cassette | None = None,
    ) -> str:
        try:
            token, expires_in = fetch_token(
                session,
                cfg,
                auth.value("client_id", secrets),
                auth.value("client_secret", secrets),
                deadline=deadline,
                threads=threads,
                masker=self.masker,
                cassette=cassette,
            )
        except BaseException as e:
            error = e if isinstance(e, TokenError) else TokenError(f"token request failed: {e}")
            with self._lock:
                entry.inflight = None
            future.set_exception(error)
            if error is e:
                raise
            raise error from None
        self.masker.learn(token)
        now = time.monotonic()
        with self._lock:
            entry.token = token
            entry.expires_at = None if expires_in is None else now + expires_in
            entry.refresh_at = (
                None if expires_in is None else now + expires_in - refresh_margin(expires_in)
            )
            entry.inflight = None
        future.set_result(token)
        return token


def fetch_token(
    session: requests.Session,
    cfg: OAuth2ClientCredentials,
    client_id: str,
    client_secret: str,
    *,
    deadline: float,
    threads: CallThreads | None = None,
    masker: SecretMasker | None = None,
    cassette: Cassette | None = None,
) -> tuple[str, float | None]:
    """One client-credentials token request; returns `(access_token, expires_in)`.

    With a `cassette` it is replayed from there or sent and recorded (the client secret
    and the tokens of the answer written as placeholders). Inside a recorded span it is a
    CLIENT span per attempt, like the API's requests.

    Raises:
        TokenError: with the endpoint's own error (`invalid_client`...); the caller
            masks it with the toolkit's secrets.
    """
    form: list[tuple[str, str]] = [("grant_type", "client_credentials")]
    if cfg.scope:
        form.append(("scope", cfg.scope))
    if cfg.audience:
        form.append(("audience", cfg.audience))
    form += list(cfg.token_params.items())
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if cfg.client_auth == "basic":
        # RFC 6749 2.3.1: both are form-encoded before they are joined and base64-encoded.
        pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
        basic = base64.b64encode(pair.encode()).decode("ascii")
        if masker is not None:
            masker.learn(basic)
        headers["Authorization"] = f"Basic {basic}"
    else:
        form += [("client_id", client_id), ("client_secret", client_secret)]
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        msg = "timeout: the call's deadline passed before the token request"
        raise TokenError(msg, timeout=True)
    body = urllib.parse.urlencode(form).encode("ascii")
    traced = tracing.recording()

    def live() -> HttpResult:
        return send(
            session,
            "POST",
            cfg.token_url,
            headers=headers,
            body=body,
            timeout=remaining,
            max_bytes=MAX_TOKEN_RESPONSE,
            threads=threads,
            trace=traced,
        )

    start_ns = time.time_ns() if traced else 0
    if cassette is None:
        http = live()
    else:
        shown = masker if masker is not None else SecretMasker()
        request = RenderedRequest(
            "POST", cfg.token_url, headers, body, cfg.token_url, {}, masker=shown
        )
        http = cassette.exchange(request, live, token=True)
    if traced:
        mask = masker.mask if masker is not None else str
        tracing.http_spans("POST", cfg.token_url, http, mask, 0, start_ns)
    if http.error is not None:
        timeout = http.error_kind in ("not_sent_timeout", "outcome_unknown")
        raise TokenError(f"token request failed: {http.error}", timeout=timeout)
    try:
        parsed = json.loads(http.body) if http.body.strip() else None
    except (ValueError, RecursionError):
        parsed = None
    status = http.status or 0
    if not 200 <= status < 300:
        raise TokenError(
            f"token request failed: {status_text(status)}{_oauth_error(parsed, http.body)}"
        )
    if not isinstance(parsed, Mapping):
        raise TokenError("token request failed: the token endpoint's answer is not JSON")
    token = parsed.get("access_token")
    if not isinstance(token, str) or not token:
        raise TokenError(
            "token request failed: no access_token in the answer" + _oauth_error(parsed, b"")
        )
    if not _B64TOKEN_RE.fullmatch(token):
        # Sent verbatim in `Authorization: Bearer ...`: a space, a control character or
        # a line break there would change the header (or add one). Never quoted.
        raise TokenError(
            f"token request failed: the access_token from {cfg.token_url} holds characters "
            "a bearer token cannot (RFC 6750 b64token: letters, digits, -._~+/ and a "
            "trailing =); not sent"
        )
    token_type = parsed.get("token_type")
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        raise TokenError(f"token request failed: unsupported token_type {token_type[:40]!r}")
    expires_in: float | None = None
    raw = parsed.get("expires_in")
    if raw is not None and not isinstance(raw, bool):
        try:
            expires_in = float(raw)
        except (TypeError, ValueError):
            expires_in = None
        if expires_in is not None and not 0 < expires_in < 10**9:
            expires_in = None if expires_in > 0 else 0.0
    return token, expires_in


# RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _oauth_error(parsed: object, raw: bytes) -> str:
    """`: invalid_client (description)` from an RFC 6749 error answer, or a short text."""
    if isinstance(parsed, Mapping):
        code = parsed.get("error")
        desc = parsed.get("error_description") or parsed.get("message")
        text = " ".join(
            str(x)[:200] for x in (code, f"({desc})" if desc else None) if x and str(x).strip()
        )
        return f": {text}" if text else ""
    text = " ".join(raw.decode("utf-8", errors="replace").split())[:200]
    return f": {text}" if text else ""
