"""Keys derived from a call: the idempotency key it sends, and the key of its cached answer.

Both are keyed hashes (HMAC-SHA256) with the session store's random secret, so they are
the same for every attempt of the same call, in every worker sharing the store, and
reveal nothing of what went into them (the visitor's arguments, trusted context values,
credentials).

- The idempotency key covers the session, the action, the value of every declared input
  (defaults filled in) and the trusted context values the action uses. The built-ins
  `{now}` and `{today}` are not part of it: a retry a second later is the same call.
- The cache key covers the rendered request as sent: method, URL and headers (secrets
  included, so two credentials never share an answer).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["cache_key", "canonical_call", "canonical_value", "idempotency_key"]

_IDEMPOTENCY = b"apiactions idempotency-key v1\x00"
_CACHE = b"apiactions cache-key v1\x00"


def canonical_value(value: Any) -> Any:
    """`value` in one spelling: an integral float as an int, a date as ISO text, lists
    item by item (so `12` and `12.0`, `date(2026, 3, 1)` and `"2026-03-01"` are one call)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    return str(value)


def canonical_call(
    session_id: str, action: str, args: Mapping[str, Any], context: Mapping[str, Any]
) -> bytes:
    """The bytes that identify one call (the input of the keyed hash)."""
    document = {
        "session": session_id,
        "action": action,
        "inputs": {k: canonical_value(v) for k, v in args.items()},
        "context": {k: canonical_value(v) for k, v in context.items()},
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", errors="surrogatepass")


def idempotency_key(
    secret: bytes,
    session_id: str,
    action: str,
    args: Mapping[str, Any],
    context: Mapping[str, Any],
) -> str:
    """The key one call sends: a UUID (RFC 9562 version 8, the custom kind) made from the
    keyed hash, so APIs that expect a UUID take it."""
    digest = hmac.new(
        secret, _IDEMPOTENCY + canonical_call(session_id, action, args, context), hashlib.sha256
    ).digest()
    raw = bytearray(digest[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122/9562 variant
    return str(uuid.UUID(bytes=bytes(raw)))


def cache_key(
    secret: bytes, method: str, url: str, headers: Sequence[tuple[str, str]] | Mapping[str, str]
) -> str:
    """The key of a rendered request's cached answer (hex, 64 characters)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    document = [method.upper(), url, sorted((k.lower(), v) for k, v in pairs)]
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    payload = _CACHE + text.encode("utf-8", errors="surrogatepass")
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()
