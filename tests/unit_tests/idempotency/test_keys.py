"""Idempotency and cache keys, and rate limits as written: property tests (the inputs are
the model's arguments, untrusted)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions.config.options import parse_rate_limit
from langchain_apiactions.idempotency import cache_key, idempotency_key

SECRET = b"s" * 32
values = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=5), max_size=3),
)
args = st.dictionaries(st.sampled_from(["order", "email", "qty", "note"]), values, max_size=4)


@given(args, args, st.text(max_size=10))
def test_idempotency_key_is_the_call_and_nothing_else(a: dict, b: dict, session: str) -> None:
    key = idempotency_key(SECRET, session, "Order", a, {})
    assert key == idempotency_key(SECRET, session, "Order", dict(reversed(a.items())), {})
    parsed = uuid.UUID(key)
    assert parsed.version == 8 and str(parsed) == key
    if a != b and key == idempotency_key(SECRET, session, "Order", b, {}):
        # Only spellings of one value may share a key (12 and 12.0).
        assert {k: _same(v) for k, v in a.items()} == {k: _same(v) for k, v in b.items()}
    assert key != idempotency_key(SECRET, session + "x", "Order", a, {})
    assert key != idempotency_key(SECRET, session, "Refund", a, {})
    assert key != idempotency_key(SECRET, session, "Order", a, {"context.user": "u1"})
    assert key != idempotency_key(b"t" * 32, session, "Order", a, {})


def _same(v: object) -> object:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def test_idempotency_key_spellings_of_one_value() -> None:
    one = idempotency_key(SECRET, "s", "A", {"qty": 12, "day": dt.date(2026, 3, 1)}, {})
    assert one == idempotency_key(SECRET, "s", "A", {"qty": 12.0, "day": "2026-03-01"}, {})
    assert one != idempotency_key(SECRET, "s", "A", {"qty": 12.5, "day": "2026-03-01"}, {})


def test_cache_key_covers_the_request_as_sent() -> None:
    base = cache_key(SECRET, "GET", "https://a.example/x?q=1", {"Authorization": "Bearer t1"})
    assert base == cache_key(
        SECRET, "get", "https://a.example/x?q=1", [("authorization", "Bearer t1")]
    )
    assert base != cache_key(
        SECRET, "GET", "https://a.example/x?q=2", {"Authorization": "Bearer t1"}
    )
    assert base != cache_key(
        SECRET, "GET", "https://a.example/x?q=1", {"Authorization": "Bearer t2"}
    )
    assert "t1" not in base and len(base) == 64


@pytest.mark.parametrize(
    ("text", "calls", "seconds"),
    [("30/minute", 30, 60), ("5 per second", 5, 1), ("100/hour", 100, 3600), ("2/s", 2, 1)],
)
def test_rate_limits_read_as_written(text: str, calls: int, seconds: float) -> None:
    assert parse_rate_limit(text)["calls"] == calls
    assert parse_rate_limit(text)["seconds"] == seconds


@pytest.mark.parametrize("text", ["0/minute", "30/fortnight", "thirty/minute", "30", 30])
def test_rate_limits_refused(text: object) -> None:
    with pytest.raises(ValueError, match="N/second"):
        parse_rate_limit(text)
