"""Link headers, cursors and page numbers, next links judged like redirects, and how pages'
items add up: property tests (the links come from the API, untrusted)."""

from __future__ import annotations

import string
import urllib.parse

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions.config.options import Pagination
from langchain_apiactions.pagination import (
    PageLinkRefused,
    Pages,
    items_of,
    link_header_next,
    next_request_url,
    next_target,
    with_query_param,
)

# --------------------------------------------------------------------------- links

query_text = st.text(alphabet=string.ascii_letters + string.digits + "=&%,+-._~[]", max_size=30)


@given(query_text, st.text(max_size=30))
def test_a_query_parameter_is_set_once_and_the_rest_kept(query: str, value: str) -> None:
    url = "https://api.example.com/items" + (f"?{query}" if query else "")
    out = with_query_param(url, "cursor", value)
    parts = urllib.parse.urlsplit(out)
    assert parts.netloc == "api.example.com" and parts.path == "/items"
    pairs = parts.query.split("&")
    assert pairs[-1] == "cursor=" + urllib.parse.quote(value, safe="")
    assert urllib.parse.parse_qs(parts.query, keep_blank_values=True)["cursor"] == [value]
    kept = [
        p for p in query.split("&") if p and urllib.parse.unquote_plus(p.split("=")[0]) != "cursor"
    ]
    assert pairs[:-1] == kept


link_text = st.text(
    alphabet=string.ascii_letters + string.digits + ":/@?#%.\\[]-_ \t\n\x00", max_size=40
)


@given(st.one_of(link_text, st.builds(lambda p: "https://api.example.com" + p, link_text)))
def test_a_next_link_never_leaves_the_first_origin(link: str) -> None:
    first = "https://api.example.com/items?page=1"
    try:
        target = next_request_url(first, first, link)
    except PageLinkRefused:
        return
    # As requests will send it: the same scheme, host and port.
    prepared = requests.Request("GET", target).prepare()
    parts = urllib.parse.urlsplit(prepared.url or "")
    assert (parts.scheme, parts.hostname, parts.port or 443) == ("https", "api.example.com", 443)
    assert parts.username is None and parts.password is None


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/items?page=2",
        "//evil.example/items",
        "http://api.example.com/items?page=2",
        "https://api.example.com:8443/items",
        "https://user:pw@api.example.com/items",
        "https://api.example.com\\@evil.example/",
        "https://api.example.com/\r\nX: 1",
    ],
)
def test_next_links_elsewhere_are_refused(link: str) -> None:
    first = "https://api.example.com/items"
    with pytest.raises(PageLinkRefused):
        next_request_url(first, first, link)


def test_relative_next_links_join_the_current_page() -> None:
    first = "https://api.example.com/v1/items?page=1"
    assert next_request_url(first, first, "?page=2") == "https://api.example.com/v1/items?page=2"
    assert next_request_url(first, first, "/v1/items?page=3") == (
        "https://api.example.com/v1/items?page=3"
    )


def test_link_header_rel_next() -> None:
    headers = {
        "link": '<https://api.example.com/items?page=1>; rel="prev first", '
        '<https://api.example.com/items?page=3>; rel="next", '
        '<https://api.example.com/items?page=9>; rel="last"'
    }
    assert link_header_next(headers) == "https://api.example.com/items?page=3"
    assert link_header_next({"Link": '<https://x/>; rel="last"'}) is None
    assert link_header_next({}) is None


def test_next_targets_of_each_style() -> None:
    url = "https://api.example.com/items?q=a%2Cb"
    body = {"data": [1, 2], "meta": {"next": "c/2=", "link": "/items?page=2"}}
    cursor = Pagination.model_validate({"cursor": {"param": "cursor", "path": "meta.next"}})
    assert next_target(cursor, body, {}, url, 0) == url + "&cursor=c%2F2%3D"
    assert next_target(cursor, {"meta": {"next": None}}, {}, url, 0) is None
    page = Pagination.model_validate({"page": {"param": "p", "start": 1}})
    assert next_target(page, body, {}, url, 0) == url + "&p=2"
    assert next_target(page, body, {}, url + "&p=2", 1) == url + "&p=3"
    link = Pagination.model_validate({"next_url": "meta.link"})
    assert next_target(link, body, {}, url, 0) == "/items?page=2"
    assert items_of(body, "data") == [1, 2]
    assert items_of([3], None) == [3]
    assert items_of(body, "meta") is None


# --------------------------------------------------------------------------- items


@given(st.lists(st.lists(st.integers(), max_size=40), min_size=1, max_size=5), st.integers(1, 60))
def test_pages_add_up(pages: list[list[int]], max_items: int) -> None:
    collected = Pages(max_items)
    for page in pages:
        collected.add(page)
    everything = [i for page in pages for i in page]
    assert collected.items == everything[:max_items]
    assert collected.received == len(everything)
    note = collected.note()
    if len(everything) > max_items:
        assert note == f"[truncated: {max_items} of at least {len(everything)} items]"
    else:
        assert note is None


def test_more_pages_not_fetched_are_said() -> None:
    collected = Pages(50)
    for _ in range(3):
        collected.add(list(range(10)))
    collected.more = True
    assert collected.note() == "[truncated: 30 items from 3 pages; the API has more pages]"
    assert collected.summary()["truncated"] is True
