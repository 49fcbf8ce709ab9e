"""The options that make calls safe to repeat and bounded: their models and load checks.

Each may be set per action or in `defaults:`:

```yaml
idempotency_key: true                 # or {header: X-Request-Id}
max_calls_per_session: 5              # the 6th call in a session sends nothing
rate_limit: 30/minute                 # N/second | N/minute | N/hour, shared via the store
cache: {ttl: 60}                      # or {ttl: 60, scope: shared}; GET only
pagination:                           # one of next_url | link_header | cursor | page
  cursor: {param: cursor, path: meta.next_cursor}
  items: data
  max_pages: 3                        # default 3
  max_items: 50                       # default 50
```

This module (like the rest of the file format) needs no LangChain and no network.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from langchain_apiactions.errors import Problem
from langchain_apiactions.extract import compile_path

__all__ = [
    "CacheOption",
    "CursorPaging",
    "IdempotencyOption",
    "PagePaging",
    "Pagination",
    "RateLimit",
    "call_option_problems",
    "parse_rate_limit",
]

DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key"
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_PARAM_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
# Headers the HTTP stack or the request itself owns.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type", "authorization"}
)
_UNITS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip
_RATE_RE = re.compile(r"^\s*(\d{1,7})\s*(?:/|per)\s*([A-Za-z]+)\s*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdempotencyOption(_Model):
    """`idempotency_key: true | {header: NAME}`: one key for every attempt of one call."""

    header: str = Field(
        DEFAULT_IDEMPOTENCY_HEADER, description="The request header that carries the key."
    )

    @field_validator("header")
    @classmethod
    def _header(cls, v: str) -> str:
        if not _HEADER_NAME_RE.match(v):
            msg = f"{v!r} is not a valid header name"
            raise ValueError(msg)
        if v.lower() in _RESERVED_HEADERS:
            msg = f"{v} cannot carry the key (the request itself sets it)"
            raise ValueError(msg)
        return v


class CacheOption(_Model):
    """`cache: {ttl, scope}`: identical GET calls answered from the store for `ttl` s."""

    ttl: float = Field(gt=0, le=7 * 86_400, description="Seconds an answer is reused.")
    scope: Literal["session", "shared"] = Field(
        "session", description="session: per visitor; shared: across sessions."
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v


class CursorPaging(_Model):
    """`cursor: {param, path}`: the next page is the query `param` set to the body's `path`."""

    param: str = Field(description="The query parameter that carries the cursor.")
    path: str = Field(description="Where the next cursor is in the body (null: no more).")


class PagePaging(_Model):
    """`page: {param, start}`: pages numbered from `start` in the query `param`."""

    param: str = Field("page", description="The query parameter of the page number.")
    start: int = Field(1, ge=0, description="The number of the first page.")


class Pagination(_Model):
    """`pagination:` how to fetch more pages of a list, within the call's one deadline."""

    next_url: str | None = Field(None, description="Path to the next page's link in the body.")
    link_header: bool = Field(False, description='Follow the `Link: <...>; rel="next"` header.')
    cursor: CursorPaging | None = Field(None, description="A cursor in a query parameter.")
    page: PagePaging | None = Field(None, description="A page number in a query parameter.")
    items: str | None = Field(None, description="Path to the list in the body (default: body).")
    max_pages: int = Field(3, ge=1, le=20, description="At most this many requests.")
    max_items: int = Field(50, ge=1, le=1000, description="At most this many items kept.")

    @model_validator(mode="after")
    def _one_style(self) -> Pagination:
        styles = [
            name
            for name, on in (
                ("next_url", self.next_url is not None),
                ("link_header", self.link_header),
                ("cursor", self.cursor is not None),
                ("page", self.page is not None),
            )
            if on
        ]
        if len(styles) != 1:
            msg = "needs exactly one of next_url, link_header, cursor or page" + (
                f" (got {', '.join(styles)})" if styles else ""
            )
            raise ValueError(msg)
        return self

    @property
    def style(self) -> Literal["next_url", "link_header", "cursor", "page"]:
        if self.next_url is not None:
            return "next_url"
        if self.link_header:
            return "link_header"
        return "cursor" if self.cursor is not None else "page"


class RateLimit(_Model):
    """`rate_limit: "30/minute"`, parsed: at most `calls` per `seconds`."""

    calls: int = Field(ge=1)
    seconds: float = Field(gt=0)
    text: str

    def __str__(self) -> str:
        return self.text


def parse_rate_limit(value: Any) -> Any:
    """`"30/minute"` (also `30 per minute`, `5/s`, `100/hour`) as a `RateLimit` mapping;
    anything else is left for validation to refuse."""
    if isinstance(value, RateLimit) or value is None:
        return value
    if not isinstance(value, str):
        msg = 'must be text such as "30/minute" (N/second, N/minute or N/hour)'
        raise ValueError(msg)
    match = _RATE_RE.match(value)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or int(match.group(1)) < 1:
        msg = f'{value!r}: expected "N/second", "N/minute" or "N/hour" with N at least 1'
        raise ValueError(msg)
    calls = int(match.group(1))
    name = {1.0: "second", 60.0: "minute", 3600.0: "hour"}[unit]
    return {"calls": calls, "seconds": unit, "text": f"{calls}/{name}"}


def idempotency_value(value: Any) -> Any:
    """`true` -> the default header, `false`/null -> none, a mapping as written."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


def call_option_problems(
    *,
    method: str,
    headers: list[str],
    query_keys: set[str],
    context: tuple[str, ...],
    idempotency: IdempotencyOption | None,
    cache: CacheOption | None,
    pagination: Pagination | None,
) -> list[Problem]:
    """What the options cannot do for this action (errors found at load time)."""
    problems: list[Problem] = []
    if idempotency is not None and idempotency.header.lower() in {h.lower() for h in headers}:
        problems.append(
            Problem(
                "idempotency_key",
                f"the header {idempotency.header} is also in headers; the key is sent "
                "there by idempotency_key (remove one)",
            )
        )
    if cache is not None:
        if method not in ("GET", "HEAD"):
            problems.append(
                Problem("cache", f"only GET calls are cached (this action is {method})")
            )
        if cache.scope == "shared" and context:
            names = ", ".join(f"context.{n}" for n in context)
            problems.append(
                Problem(
                    "cache.scope",
                    f"shared: the request carries trusted context ({names}): one "
                    "visitor's answer could reach another; use scope: session",
                )
            )
    if pagination is not None:
        for where, path in (
            ("pagination.next_url", pagination.next_url),
            ("pagination.items", pagination.items),
            ("pagination.cursor.path", pagination.cursor.path if pagination.cursor else None),
        ):
            if path is not None:
                try:
                    compile_path(path)
                except ValueError as e:
                    problems.append(Problem(where, str(e)))
        for where, param in (
            ("pagination.cursor.param", pagination.cursor.param if pagination.cursor else None),
            ("pagination.page.param", pagination.page.param if pagination.page else None),
        ):
            if param is None:
                continue
            if not _PARAM_RE.match(param):
                problems.append(Problem(where, f"{param!r} is not a plain query parameter name"))
            elif param in query_keys:
                problems.append(
                    Problem(
                        where,
                        f"{param} is also in the url's query; pagination sets it (remove it "
                        "from the url)",
                    )
                )
    return problems
