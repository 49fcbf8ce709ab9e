"""Pagination: where the next page is, and how the pages' items add up.

Pure functions (no network): the call sends each next request itself, within its one
deadline, after `next_request_url` judged the link like a redirect (same scheme, host
and port as the first request, no user name or password, nothing a parser could read
two ways), so a page can never send the request, or its headers, anywhere else.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.utils import parse_header_links
from urllib3.util import parse_url

from langchain_apiactions.config.options import Pagination
from langchain_apiactions.errors import PageLinkRefused
from langchain_apiactions.extract import compile_path
from langchain_apiactions.templating import text_value

__all__ = [
    "PageLinkRefused",
    "Pages",
    "items_of",
    "link_header_next",
    "next_request_url",
    "next_target",
    "with_query_param",
]

_MAX_LINK_CHARS = 8_192


def link_header_next(headers: Mapping[str, str]) -> str | None:
    """The RFC 8288 `rel="next"` target of the `Link` header(s), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "link"), None)
    if not value or len(value) > _MAX_LINK_CHARS:
        return None
    for link in parse_header_links(value):
        rels = str(link.get("rel", "")).lower().split()
        if "next" in rels and link.get("url"):
            return str(link["url"])
    return None


def value_at(body: Any, path: str) -> Any:
    """The value at `path` (a dotted name or JMESPath) in a parsed body."""
    return compile_path(path).search(body)


def items_of(body: Any, path: str | None) -> list[Any] | None:
    """The list of items of one page (the body itself without a path), or None."""
    found = body if path is None else value_at(body, path)
    return found if isinstance(found, list) else None


def with_query_param(url: str, param: str, value: str) -> str:
    """`url` with the query parameter `param` set to `value` (percent-encoded as one
    value), every other part of the query kept exactly as written."""
    base, hash_mark, fragment = url.partition("#")
    path, question, query = base.partition("?")
    kept = [
        pair
        for pair in (query.split("&") if question else [])
        if pair and urllib.parse.unquote_plus(pair.split("=", 1)[0]) != param
    ]
    kept.append(f"{urllib.parse.quote(param, safe='')}={urllib.parse.quote(value, safe='')}")
    return path + "?" + "&".join(kept) + (hash_mark + fragment if hash_mark else "")


def next_target(
    pagination: Pagination, body: Any, headers: Mapping[str, str], url: str, page_index: int
) -> str | None:
    """Where the page after page `page_index` (0 for the first) is, not yet judged; None
    when the API says there is no more."""
    style = pagination.style
    if style == "link_header":
        return link_header_next(headers)
    if style == "next_url":
        assert pagination.next_url is not None
        link = value_at(body, pagination.next_url)
        return link if isinstance(link, str) and link.strip() else None
    if style == "cursor":
        assert pagination.cursor is not None
        cursor = value_at(body, pagination.cursor.path)
        if cursor is None or cursor == "" or isinstance(cursor, (bool, dict, list)):
            return None
        return with_query_param(url, pagination.cursor.param, text_value(cursor))
    assert pagination.page is not None
    number = pagination.page.start + page_index + 1
    return with_query_param(url, pagination.page.param, str(number))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.host or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def next_request_url(first_url: str, current_url: str, link: str) -> str:
    """The next page's URL (relative links joined to the current page's), judged like a
    redirect: it must keep the first request's scheme, host and port.

    Raises:
        PageLinkRefused: the link goes elsewhere, or could be read two ways.
    """
    if len(link) > _MAX_LINK_CHARS:
        raise PageLinkRefused("the next page's link is too long")
    if "\\" in link or any(unicodedata.category(c) == "Cc" for c in link):
        raise PageLinkRefused("the next page's link contains a backslash or a control character")
    try:
        target = urllib.parse.urljoin(current_url, link.strip())
        parsed = parse_url(target)
    except ValueError:
        raise PageLinkRefused("the next page's link is not a valid URL") from None
    if parsed.auth is not None or "@" in (urllib.parse.urlsplit(target).netloc or ""):
        raise PageLinkRefused("the next page's link contains a user name or password")
    if _origin(target) != _origin(first_url):
        raise PageLinkRefused("the next page's link goes to another origin; it was not followed")
    return target


_SPACES = re.compile(r"\s+")


@dataclass
class Pages:
    """The items of the pages fetched so far, at most `max_items` of them kept."""

    max_items: int
    items: list[Any] = field(default_factory=list)
    received: int = 0  # items the pages held, kept or not
    pages: int = 0
    more: bool = False  # a next page existed but was not fetched
    stopped: str | None = None  # why the pages stopped early (a refused link, an error)

    def add(self, page_items: list[Any]) -> None:
        self.pages += 1
        self.received += len(page_items)
        room = self.max_items - len(self.items)
        if room > 0:
            self.items.extend(page_items[:room])

    @property
    def full(self) -> bool:
        return len(self.items) >= self.max_items

    @property
    def truncated(self) -> bool:
        return self.received > len(self.items) or self.more

    def note(self) -> str | None:
        """`[truncated: 50 of at least 143 items]` when items were left, else None."""
        kept = len(self.items)
        if self.received > kept:
            return f"[truncated: {kept} of at least {self.received} items]"
        if self.more:
            pages = f"{self.pages} page{'s' if self.pages != 1 else ''}"
            return f"[truncated: {kept} items from {pages}; the API has more pages]"
        return None

    def summary(self) -> dict[str, Any]:
        """What the artifact says about the pages."""
        return {
            "pages": self.pages,
            "items": len(self.items),
            "at_least": self.received,
            "truncated": self.truncated,
            "stopped": _SPACES.sub(" ", self.stopped) if self.stopped else None,
        }
