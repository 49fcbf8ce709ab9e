"""Secret masking: each toolkit's own secrets, and the log filters that apply them.

There is no process-wide registry. A toolkit builds one `SecretMasker` from the secrets
it resolved; only its tools use it, so one toolkit's secrets never mask another's data.

- A secret of at least `MIN_SECRET_CHARS` characters that is not a common word is masked
  as a substring everywhere (content, artifact, errors, logs), in every form the HTTP
  stack produces: as written, percent-encoded, lower case (host names) and IDNA.
- A *weak* secret (shorter, or a common word such as `test`) is masked only where it is
  sent: in the request as shown (URL, headers), and where that rendered URL or header
  value is quoted (errors, log lines). Masking `1` everywhere would turn every `1` of a
  response into `***`; the toolkit warns at load time (`ShortSecretWarning`).

`LogGuard` installs a logging filter on the loggers of the HTTP stack (urllib3 writes
whole URLs, query strings included, at DEBUG) while a toolkit is alive, and removes it
on `close()`. Filters are not inherited by child loggers, so each one gets its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "MASK",
    "MIN_SECRET_CHARS",
    "LogGuard",
    "SecretMasker",
    "ShortSecretWarning",
    "is_weak_secret",
]

MASK = "***"
# A secret shorter than this is "weak": masked only where it is sent.
MIN_SECRET_CHARS = 4
# Words that appear in ordinary text: masking them everywhere would garble responses.
COMMON_WORDS = frozenset(
    {
        "admin",
        "changeme",
        "default",
        "false",
        "guest",
        "key",
        "none",
        "null",
        "pass",
        "password",
        "root",
        "secret",
        "test",
        "token",
        "true",
        "user",
        "undefined",
    }
)

# Loggers that may print URLs or headers.
GUARDED_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "langchain_apiactions",
)


class ShortSecretWarning(UserWarning):
    """A secret is too short (under 4 characters) or too common to mask everywhere.

    Such a secret is masked only where it is sent (the request URL and headers as shown,
    and errors or log lines quoting them), so that text such as `1` stays readable in
    responses. The warning names the variable, never the value.
    """


def is_weak_secret(value: str) -> bool:
    """True for a secret too short or too common to mask wherever its text appears."""
    return len(value) < MIN_SECRET_CHARS or value.strip().lower() in COMMON_WORDS


def _idna_forms(value: str) -> set[str]:
    forms: set[str] = set()
    with contextlib.suppress(UnicodeError, ValueError):
        forms.add(value.encode("idna").decode("ascii"))
    try:
        import idna  # installed with requests, which uses it for non-ASCII hosts
    except ImportError:  # pragma: no cover - requests depends on it
        return forms
    with contextlib.suppress(idna.IDNAError, UnicodeError, ValueError):
        forms.add(idna.encode(value, uts46=True).decode("ascii"))
    return forms


def secret_forms(value: str) -> set[str]:
    """Every form in which the HTTP stack may write `value`."""
    bases = {value, value.lower()} | _idna_forms(value)
    forms: set[str] = set()
    for base in bases:
        forms |= {
            base,
            urllib.parse.quote(base, safe=""),
            urllib.parse.quote(base),
            urllib.parse.quote_plus(base),
            json.dumps(base)[1:-1],
            json.dumps(base, ensure_ascii=False)[1:-1],
        }
    forms |= {f.lower() for f in forms}
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


def _alternation(keys: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first: a secret containing another, or a URL containing a secret, is
    # replaced whole.
    ordered = sorted(set(keys), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


class _Forms:
    """The masked forms of one toolkit's strong secrets; grows when a token is learned."""

    def __init__(self, forms: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self.forms = frozenset(forms)
        self.pattern = _alternation(self.forms)

    def add(self, forms: set[str]) -> None:
        with self._lock:
            if forms <= self.forms:
                return
            self.forms = self.forms | forms
            self.pattern = _alternation(self.forms)


class SecretMasker:
    """Masks one toolkit's secrets; safe to share between threads.

    Args:
        secrets: variable name -> value.
        derived: values computed from secrets and sent on the wire (Basic's base64).

    `learn()` adds a value found at run time (an OAuth2 access token) for this toolkit
    only; `for_call()` gives a call's masker, which also knows the call's rendered
    URL and headers.
    """

    def __init__(
        self, secrets: Mapping[str, str] | None = None, *, derived: Iterable[str] = ()
    ) -> None:
        self._secrets = dict(secrets or {})
        self.weak_names = tuple(
            sorted(name for name, value in self._secrets.items() if is_weak_secret(value))
        )
        forms: set[str] = set()
        for value in self._secrets.values():
            if value and not is_weak_secret(value):
                forms |= secret_forms(value)
        # Values sent on the wire but not written (Basic's base64): each once, however
        # many actions send it (an import's 1,000 actions share one).
        for value in dict.fromkeys(derived):
            if len(value) >= MIN_SECRET_CHARS:
                forms |= secret_forms(value)
        self._core = _Forms(forms)
        self._rendered: dict[str, str] = {}
        self._rendered_pattern: re.Pattern[str] | None = None
        self._call_pattern: re.Pattern[str] | None = None
        self._log_pattern: re.Pattern[str] | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to mask."""
        return (
            self._core.pattern is None
            and self._rendered_pattern is None
            and self._call_pattern is None
            and self._log_pattern is None
        )

    def __repr__(self) -> str:
        return f"SecretMasker({len(self._secrets)} secrets)"

    def learn(self, value: str) -> None:
        """Mask `value` too from now on (a token this toolkit fetched), in every form."""
        if len(value) >= MIN_SECRET_CHARS:
            self._core.add(secret_forms(value))

    def for_call(
        self,
        rendered: Mapping[str, str],
        secrets: Iterable[str] = (),
        private: Iterable[str] = (),
    ) -> SecretMasker:
        """The masker of one call: this toolkit's secrets, and the call's own.

        Args:
            rendered: texts as sent -> as shown (the call's URL and header values),
                replaced wherever they are quoted: this is what protects weak secrets.
            secrets: values that are secrets for this call only (`${context.NAME}`),
                masked like the toolkit's own, never kept after the call.
            private: trusted values that are not secrets (`{context.NAME}`), kept out
                of log lines only.
        """
        secret_forms_: set[str] = set()
        for value in secrets:
            if value and not is_weak_secret(value):
                secret_forms_ |= secret_forms(value)
        private_forms: set[str] = set()
        for value in private:
            if len(value) >= MIN_SECRET_CHARS:  # "1" would mask "HTTP/1.1"
                private_forms |= secret_forms(value)
        weak_call = any(value and is_weak_secret(value) for value in secrets)
        if not (self.weak_names or weak_call) and not secret_forms_ and not private_forms:
            return self
        clone = object.__new__(SecretMasker)
        clone._secrets = self._secrets
        clone.weak_names = self.weak_names
        clone._core = self._core  # shared: a token learned later is masked here too
        clone._rendered = (
            {k: v for k, v in rendered.items() if k and k != v}
            if self.weak_names or weak_call
            else {}
        )
        clone._rendered_pattern = _alternation(clone._rendered)
        clone._call_pattern = _alternation(secret_forms_)
        clone._log_pattern = _alternation(private_forms)
        return clone

    def _shown(self, match: re.Match[str]) -> str:
        return self._rendered[match.group(0)]

    def mask(self, text: str) -> str:
        """`text` with every secret (and rendered request text) masked."""
        if self._rendered_pattern is not None:
            # First the rendered request as a whole (it may hold weak and strong secrets),
            # then each strong secret wherever it is.
            text = self._rendered_pattern.sub(self._shown, text)
        if self._call_pattern is not None:
            text = self._call_pattern.sub(MASK, text)
        pattern = self._core.pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)

    def mask_log(self, text: str) -> str:
        """`text` masked for a log line: also the call's private (trusted) values."""
        text = self.mask(text)
        if self._log_pattern is not None:
            text = self._log_pattern.sub(MASK, text)
        return text

    def mask_scalar(self, value: Any) -> Any:
        """A JSON scalar masked: a number whose digits hold a secret becomes `***`."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = json.dumps(value)
            if self.mask(text) != text:
                return MASK
        return value

    def mask_data(self, value: Any) -> Any:
        """Mask secrets in every string and number of a JSON-like structure (no recursion)."""
        if self.empty:
            return value
        return map_json(value, self.mask_scalar, self.mask)


def map_json(value: Any, leaf: Any, key: Any) -> Any:
    """A copy of a JSON-like structure with `leaf` applied to scalars and `key` to keys.

    Walks with an explicit stack, so depth never hits Python's recursion limit.
    """
    if not isinstance(value, (dict, list)):
        return leaf(value)
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        src, dst = stack.pop()
        items = src.items() if isinstance(src, dict) else enumerate(src)
        for k, v in items:
            if isinstance(v, dict):
                new: Any = {}
                stack.append((v, new))
            elif isinstance(v, list):
                new = []
                stack.append((v, new))
            else:
                new = leaf(v)
            if isinstance(dst, dict):
                dst[key(k) if isinstance(k, str) else k] = new
            else:
                dst.append(new)
    return root


# --------------------------------------------------------------------------- logs

# The masker of the call in progress (set around each call), so that a log line quoting
# the rendered URL of a weak secret is masked too.
_CALL_MASKER: contextvars.ContextVar[SecretMasker | None] = contextvars.ContextVar(
    "apiactions_call_masker", default=None
)


@contextlib.contextmanager
def masking_logs(masker: SecretMasker) -> Iterator[None]:
    """Within this block, log lines of this context are masked with `masker`."""
    token = _CALL_MASKER.set(masker)
    try:
        yield
    finally:
        _CALL_MASKER.reset(token)


class SecretMaskingFilter(logging.Filter):
    """Rewrites a log record's message with one toolkit's secrets masked."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        call = _CALL_MASKER.get()
        if self.masker.empty and call is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logger's problem, not ours
            return True
        masked = self.masker.mask(message)
        if call is not None and call is not self.masker:
            masked = call.mask_log(masked)
        record.msg = masked
        record.args = ()
        return True


class LogGuard:
    """Installs a `SecretMaskingFilter` on the HTTP stack's loggers until `remove()`."""

    def __init__(self, masker: SecretMasker) -> None:
        self.filter = SecretMaskingFilter(masker)
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        with self._lock:
            if self._installed:
                return
            for name in GUARDED_LOGGERS:
                logging.getLogger(name).addFilter(self.filter)
            self._installed = True

    def remove(self) -> None:
        with self._lock:
            if not self._installed:
                return
            for name in GUARDED_LOGGERS:
                logging.getLogger(name).removeFilter(self.filter)
            self._installed = False

    @property
    def installed(self) -> bool:
        return self._installed
