"""The repeat-safety options in the action file: how they load, defaults, and what is
refused at load time (with the action and the field named)."""

from __future__ import annotations

import pytest

from langchain_apiactions import ActionConfigError, load_actions

WHEN = "Use this when the visitor asks about their orders and items."


def _one(extra: str, method: str = "GET", url: str = "https://api.example.com/items") -> str:
    return f"""
actions:
  - name: A
    when_to_use: {WHEN}
    method: {method}
    url: {url}
{extra}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ActionConfigError) as info:
        load_actions(text)
    return info.value.problems


def test_every_option_loads_per_action_and_from_defaults() -> None:
    a, b = load_actions(
        f"""
defaults:
  idempotency_key: true
  max_calls_per_session: 4
  rate_limit: 30/minute
  cache: {{ttl: 60}}
actions:
  - name: Items
    when_to_use: {WHEN}
    method: GET
    url: https://api.example.com/items
    pagination: {{link_header: true, max_items: 20}}
  - name: Order
    when_to_use: {WHEN}
    method: POST
    url: https://api.example.com/orders
    idempotency_key: {{header: X-Request-Id}}
    rate_limit: 2/second
"""
    )
    assert a.idempotency_key is not None and a.idempotency_key.header == "Idempotency-Key"
    assert (a.max_calls_per_session, str(a.rate_limit)) == (4, "30/minute")
    assert a.cache is not None and (a.cache.ttl, a.cache.scope) == (60, "session")
    assert a.pagination is not None and a.pagination.style == "link_header"
    assert (a.pagination.max_pages, a.pagination.max_items) == (3, 20)
    # A default cache is for the GET actions only; the action's own values win.
    assert b.cache is None
    assert b.idempotency_key is not None and b.idempotency_key.header == "X-Request-Id"
    assert b.rate_limit is not None and (b.rate_limit.calls, b.rate_limit.seconds) == (2, 1)


def test_idempotency_key_false_means_none() -> None:
    (a,) = load_actions(_one("    idempotency_key: false", "POST"))
    assert a.idempotency_key is None


def test_cache_only_on_get() -> None:
    assert _problems(_one("    cache: {ttl: 60}", "POST")) == [
        "<actions>: A.cache: only GET calls are cached (this action is POST)"
    ]


def test_shared_cache_refused_with_context_values() -> None:
    problems = _problems(
        _one(
            "    cache: {ttl: 60, scope: shared}\n"
            "    auth: {type: bearer, token: '${context.user_token}'}",
        )
    )
    assert problems == [
        "<actions>: A.cache.scope: shared: the request carries trusted context "
        "(context.user_token): one visitor's answer could reach another; use scope: session"
    ]
    (ok,) = load_actions(
        _one("    cache: {ttl: 60, scope: session}", url="https://a.example/x?u={context.user}")
    )
    assert ok.cache is not None


def test_idempotency_header_is_not_also_written() -> None:
    problems = _problems(
        _one("    idempotency_key: true\n    headers: {idempotency-key: abc}", "POST")
    )
    assert problems == [
        "<actions>: A.idempotency_key: the header Idempotency-Key is also in headers; the "
        "key is sent there by idempotency_key (remove one)"
    ]
    assert (
        "A.idempotency_key.header: Host cannot carry the key"
        in _problems(_one("    idempotency_key: {header: Host}", "POST"))[0]
    )


def test_pagination_needs_one_style_and_valid_paths() -> None:
    assert _problems(_one("    pagination: {items: data}")) == [
        "<actions>: A.pagination: needs exactly one of next_url, link_header, cursor or page"
    ]
    assert _problems(_one("    pagination: {next_url: next, page: {param: p}}")) == [
        "<actions>: A.pagination: needs exactly one of next_url, link_header, cursor or page "
        "(got next_url, page)"
    ]
    problems = _problems(
        _one(
            "    pagination: {page: {param: page}, items: 'a[?'}",
            url="https://api.example.com/items?page=1",
        )
    )
    assert problems[0].startswith("<actions>: A.pagination.items: 'a[?' is not a valid JMESPath")
    assert problems[1] == (
        "<actions>: A.pagination.page.param: page is also in the url's query; pagination "
        "sets it (remove it from the url)"
    )


def test_budgets_and_rates_refused_as_written() -> None:
    problems = _problems(_one("    max_calls_per_session: 0\n    rate_limit: 3/fortnight"))
    assert problems == [
        "<actions>: A.max_calls_per_session: Input should be greater than or equal to 1",
        '<actions>: A.rate_limit: \'3/fortnight\': expected "N/second", "N/minute" or '
        '"N/hour" with N at least 1',
    ]
    assert "<actions>: A.cache.tll: unknown field (did you mean 'ttl'?)" in _problems(
        _one("    cache: {tll: 3}")
    )
