"""Arbitrary untrusted text, sent for real: the API receives exactly the value, nothing more."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit

hostile = st.lists(
    st.one_of(
        st.sampled_from(
            [*"/?#&=%{}\"'\\.:@;+ ,\r\n\t\x00\x7f\u2028\u2029\ufeff\u0085", "%2F", "%00", "..",
             "{b}", "${SECRET_KEY}", "</api_data>", '", "admin": true, "x": "', "\r\nX-Admin: 1"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=25,
).map("".join)  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    s = ApiServer().start()
    s.route("*", "*", Reply(200, {"ok": True}))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tool(server: ApiServer) -> Iterator[Any]:
    tk = make_toolkit(
        f"""
- name: Send
  when_to_use: Use when the visitor sends a message to the store team.
  method: POST
  url: {server.url}/v1/{{a}}/items?q={{b}}&fixed=1&key=${{SECRET_KEY}}
  inputs: [{{name: a, required: true}}, {{name: b, required: true}}, {{name: h}}]
  headers: {{X-Note: "note {{h}}"}}
  body: '{{"a": "{{a}}", "b": {{b}}, "nested": {{"h": "x {{h}} y", "list": [{{a}}]}}}}'
""",
        env={"SECRET_KEY": "fixed-secret"},
    )
    yield tk.get_tools()[0]
    tk.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=hostile, b=hostile, h=hostile)
def test_request_structure_never_changes(
    server: ApiServer, tool: Any, a: str, b: str, h: str
) -> None:
    before = len(server.requests)
    art = call(tool, {"a": a, "b": b, "h": h}).artifact
    refused_path = a in ("", ".", "..")
    refused_header = any(c in h for c in "\r\n\x00") or any(ord(c) > 255 for c in h)
    if refused_path or refused_header:
        assert art["ok"] is False and art["error_kind"] == "invalid_argument"
        assert art["error"].startswith("invalid argument")
        assert len(server.requests) == before  # nothing was sent
        return
    assert art["ok"] is True, art
    rec = server.requests[-1]
    segments = rec.path.split("/")
    assert segments[:2] == ["", "v1"] and segments[3:] == ["items"]
    assert urllib.parse.unquote(segments[2]) == a
    pairs = urllib.parse.parse_qsl(rec.query, keep_blank_values=True)
    assert pairs == [("q", b), ("fixed", "1"), ("key", "fixed-secret")]
    assert rec.headers["X-Note"] == f"note {h}"
    assert "X-Admin" not in rec.headers
    assert json.loads(rec.body) == {"a": a, "b": b, "nested": {"h": f"x {h} y", "list": [a]}}
