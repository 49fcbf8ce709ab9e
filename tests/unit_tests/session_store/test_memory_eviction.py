"""The in-memory SessionStore: eviction by idle age, the cap as a last resort, and never a
claim in flight (issue 9 regressions)."""

from __future__ import annotations

from langchain_apiactions import SessionStore


def test_cap_evicts_the_least_recently_used_session_not_the_first_claimer() -> None:
    store = SessionStore(max_sessions=2)
    assert store.claim("A", "Coupon")  # A's call is slow
    assert store.claim("B", "Coupon")
    store.finish("B", "Coupon", used=True)
    store.finish("A", "Coupon", used=True)  # A was used last
    assert store.claim("C", "Coupon")  # the cap is reached: B (idle longest) goes
    assert store.has_run("A", "Coupon")
    assert not store.claim("A", "Coupon")  # A's action does not fire again


def test_idle_sessions_expire_after_ttl_before_the_cap_evicts_anyone() -> None:
    now = [1000.0]
    store = SessionStore(max_sessions=2, ttl=60, clock=lambda: now[0])
    assert store.claim("A", "Coupon")
    store.finish("A", "Coupon", used=True)
    now[0] += 30
    assert store.claim("B", "Coupon")
    store.finish("B", "Coupon", used=True)
    now[0] += 40  # A idle 70 s (expired), B idle 40 s
    assert store.claim("C", "Coupon")
    assert store.has_run("B", "Coupon")
    assert not store.has_run("A", "Coupon")
    now[0] += 25  # B idle 65 s: expired, its kept claim is gone
    assert not store.has_run("B", "Coupon")
    assert store.claim("B", "Coupon")


def test_a_use_keeps_the_session_alive() -> None:
    now = [0.0]
    store = SessionStore(ttl=60, clock=lambda: now[0])
    assert store.claim("A", "Coupon")
    store.finish("A", "Coupon", used=True)
    for _ in range(5):
        now[0] += 50
        assert not store.claim("A", "Coupon")  # a refused claim is a use of the session
    assert store.has_run("A", "Coupon")


def test_a_claim_in_flight_is_never_evicted_by_the_cap() -> None:
    now = [0.0]
    store = SessionStore(max_sessions=1, ttl=1, clock=lambda: now[0])
    assert store.claim("A", "Coupon")  # in flight
    now[0] += 100  # far past the ttl, and over the cap below
    assert store.claim("B", "Coupon")
    assert not store.claim("A", "Coupon")  # still held: a second call is refused
    store.finish("A", "Coupon", used=True)
    assert store.has_run("A", "Coupon")
