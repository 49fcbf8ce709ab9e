"""Property tests of the redirect check (no network): a `Location` is either followed to
the very origin of the first request, as both URL parsers read it, or refused with a
plain message that quotes nothing unsafe."""

from __future__ import annotations

import string
import urllib.parse

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from langchain_apiactions.network import NetworkPolicy, build_session
from langchain_apiactions.network.sending import _redirect_request, _Stop, _Wire

FIRST = "http://api.example.com:8080/orders?id=1"

# Pieces that URL parsers disagree on, mixed with arbitrary text.
PIECES = st.sampled_from(
    [
        "http://", "https://", "//", "\\", "/", "@", ":", "8080", "80", "api.example.com",
        "API.EXAMPLE.COM", "evil.example", "127.0.0.1", "[::1]", "%2f", "%5c", "%40", "?",
        "#", "\t", "\r", "\n", "\x00", "\x7f", "\x85", " ", "user:pw", ".", "..", "</api_data>",
        "xn--", "\u3002", "\uff0e", "\u2044", ";",
    ]
)  # fmt: skip
LOCATIONS = st.one_of(
    st.lists(PIECES, min_size=1, max_size=8).map("".join),
    st.lists(st.one_of(PIECES, st.text(max_size=6)), min_size=1, max_size=6).map("".join),
)
# `*` for a masked secret.
SAFE_ERROR = set(string.ascii_letters + string.digits + " .,:;/()-[]_*")


@pytest.fixture(scope="module", params=["toolkit's own session", "a user's session"])
def wire(request: pytest.FixtureRequest) -> _Wire:
    """Both ways a hop is prepared: the toolkit's own session (straight to the guarded
    pool) and a user's `session=` (through `requests.Session`)."""
    given = None if request.param == "toolkit's own session" else requests.Session()
    return _Wire(build_session(NetworkPolicy(), given))


def _origin_by_urllib(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}[scheme]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(location=LOCATIONS, status=st.sampled_from([301, 302, 303, 307, 308]))
def test_a_redirect_is_followed_only_to_the_same_origin_as_both_parsers_read_it(
    wire: _Wire, location: str, status: int
) -> None:
    first = wire.prepare("POST", FIRST, {"X-API-Key": "k"}, b'{"a": 1}')
    try:
        nxt = _redirect_request(wire, first, status, location, first.url or "")
    except _Stop as stop:
        error = stop.error
    else:
        error = None
    if error is not None:
        assert error.startswith(f"HTTP {status} redirect")
        assert set(error) <= SAFE_ERROR, error
        return
    url = nxt.url or ""
    sent = parse_url(url)
    assert (sent.scheme, sent.host, sent.port) == ("http", "api.example.com", 8080)
    assert _origin_by_urllib(url) == ("http", "api.example.com", 8080)
    assert sent.auth is None


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://evil.example:1\\@api.example.com:8080/", "contains a backslash"),
        ("/a\tb", "contains a control character"),
        ("http://u:p@api.example.com:8080/", "contains a user name or password"),
        ("http://api.example.com:8081/", "another origin (http://api.example.com:8081)"),
        ("https://api.example.com:8080/", "another origin (https://api.example.com:8080)"),
        ("http://[::1/", "is not a valid URL"),
    ],
)
def test_each_refusal_says_why(wire: _Wire, location: str, reason: str) -> None:
    first = wire.prepare("GET", FIRST, {}, None)
    with pytest.raises(_Stop) as stop:
        _redirect_request(wire, first, 302, location, first.url or "")
    assert reason in stop.value.error
