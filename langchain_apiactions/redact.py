"""Secret masking: the one place that knows which values must never be shown.

Every secret value resolved from the environment is registered here. `mask()` replaces
each registered value (and its percent-encoded and base64-free forms as sent in URLs)
with `***`. A logging filter applies the same masking to the loggers of the HTTP stack,
which write whole URLs (query strings included) at DEBUG level.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

MASK = "***"

# Loggers that may print URLs or headers. Filters are not inherited by child loggers,
# so each one gets its own.
_GUARDED_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "langchain_apiactions",
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
# Secrets of the call running in this context (`${context.NAME}` values): masked like
# registered ones while the call runs, and never kept after it.
_call_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "apiactions_call_secrets", default=()
)
# Trusted values of the call that are not secrets (`{context.NAME}`): kept out of the
# HTTP stack's logs (urllib3 logs the request line), left alone in API data.
_call_private: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "apiactions_call_private", default=()
)
_MIN_PRIVATE = 4  # shorter values would mask unrelated text ("1" in "HTTP/1.1")


def _forms(value: str) -> set[str]:
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    return {f for f in forms if f}


def register_secret(value: str) -> None:
    """Remember `value` (and its URL-encoded forms) so that `mask()` hides it."""
    global _secrets
    if not value:
        return
    with _lock:
        known = set(_secrets) | _forms(value)
        # Longest first, so that a secret containing another is masked whole.
        _secrets = tuple(sorted(known, key=len, reverse=True))
    _install_log_filter()


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=len, reverse=True))


@contextlib.contextmanager
def call_secrets(values: Iterable[str], private: Iterable[str] = ()) -> Iterator[None]:
    """Mask `values` too (and their URL-encoded forms) in this context, until the exit.

    `private` values are masked in the guarded loggers' records only.
    """
    forms: set[str] = set(_call_secrets.get())
    for value in values:
        if value:
            forms |= _forms(value)
    hidden: set[str] = set(_call_private.get())
    for value in private:
        if len(value) >= _MIN_PRIVATE:
            hidden |= _forms(value)
    token = _call_secrets.set(_longest_first(forms))
    private_token = _call_private.set(_longest_first(hidden))
    if forms or hidden:
        _install_log_filter()
    try:
        yield
    finally:
        _call_private.reset(private_token)
        _call_secrets.reset(token)


def mask(text: str) -> str:
    """Return `text` with every registered secret replaced by `***`."""
    extra = _call_secrets.get()
    for secret in sorted(extra + _secrets, key=len, reverse=True) if extra else _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_data(value: Any) -> Any:
    """Mask secrets in every string of a JSON-like structure."""
    if not _secrets and not _call_secrets.get():
        return value
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(str(k)): mask_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    return value


class SecretMaskingFilter(logging.Filter):
    """Rewrites a log record's message with every registered secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        private = _call_private.get()
        if _secrets or _call_secrets.get() or private:
            try:
                message = record.getMessage()
            except Exception:  # a broken record is the logger's problem, not ours
                return True
            message = mask(message)
            for value in private:
                message = message.replace(value, MASK)
            record.msg = message
            record.args = ()
        return True


_filter = SecretMaskingFilter()
_installed = False


def _install_log_filter() -> None:
    global _installed
    if _installed:
        return
    for name in _GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
    _installed = True
