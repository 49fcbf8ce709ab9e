"""Secret masking: the one place that knows which values must never be shown.

Every secret value resolved from the environment is registered here. `mask()` replaces
each registered value (and its percent-encoded and base64-free forms as sent in URLs)
with `***`. A logging filter applies the same masking to the loggers of the HTTP stack,
which write whole URLs (query strings included) at DEBUG level.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
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


def mask(text: str) -> str:
    """Return `text` with every registered secret replaced by `***`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_data(value: Any) -> Any:
    """Mask secrets in every string of a JSON-like structure."""
    if not _secrets:
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
        if _secrets:
            try:
                message = record.getMessage()
            except Exception:  # a broken record is the logger's problem, not ours
                return True
            record.msg = mask(message)
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
