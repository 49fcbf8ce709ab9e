"""Rendering: exact encodings, and properties over arbitrary untrusted text."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_apiactions import ArgumentError
from langchain_apiactions.templating import BodyTemplate, HeaderTemplate, UrlTemplate

# Text an attacker might send: control characters, unicode line separators, % sequences,
# braces, quotes, slashes, dots.
nasty = st.lists(
    st.one_of(
        st.sampled_from(
            [*"/?#&=%{}\"'\\.:@;+ ,\r\n\t\x00\u2028\u2029\ufeff", "%2F", "..", "{b}", "${S}"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
).map("".join)


def url(template: str, *names: str) -> UrlTemplate:
    t, problems = UrlTemplate.parse(template, names)
    assert t is not None and not [p for p in problems if not p.warning], problems
    return t


def test_path_segment_encoding_is_total() -> None:
    t = url("https://api.example.com/v1/orders/{id}/items", "id")
    assert (
        t.render({"id": "a/b?c#d%20e f"}, {})
        == "https://api.example.com/v1/orders/a%2Fb%3Fc%23d%2520e%20f/items"
    )
    for bad in (".", ".."):
        with pytest.raises(ArgumentError, match="path segment"):
            t.render({"id": bad}, {})
    with pytest.raises(ArgumentError, match="empty"):
        t.render({"id": ""}, {})
    assert t.render({"id": "..."}, {}).endswith("/orders/.../items")


def test_query_encoding_optional_pairs_and_arrays() -> None:
    t = url("https://x.example/s?q={q}&tag={tags}&page={page}&fixed=1&flag", "q", "tags", "page")
    assert t.render({"q": "a&b=c+d", "tags": ["red", "x,y"], "page": None}, {}) == (
        "https://x.example/s?q=a%26b%3Dc%2Bd&tag=red,x%2Cy&fixed=1&flag"
    )
    assert (
        t.render({"q": None, "tags": [], "page": 2.0}, {})
        == "https://x.example/s?page=2&fixed=1&flag"
    )


def test_secrets_render_masked_for_display() -> None:
    t = url("https://x.example/s?key=${KEY}&q={q}", "q")
    assert t.render({"q": "1"}, {"KEY": "a b&c"}) == "https://x.example/s?key=a%20b%26c&q=1"
    assert t.render({"q": "1"}, None) == "https://x.example/s?key=***&q=1"


def test_single_pass_substitution() -> None:
    t = url("https://x.example/{a}/{b}", "a", "b")
    assert t.render({"a": "{b}", "b": "x"}, {}) == "https://x.example/%7Bb%7D/x"
    body, _ = BodyTemplate.parse('{"a": "{a}", "b": "{b}"}', ["a", "b"])
    assert body is not None
    assert json.loads(body.render({"a": "{b}", "b": "x"})) == {"a": "{b}", "b": "x"}


def test_json_text_template_in_string_and_bare() -> None:
    body, problems = BodyTemplate.parse(
        '{"name": "Hi {name}!", "qty": {qty}, "tags": {tags}, "when": {day}, "list": "{tags}", "none": {missing}}',
        ["name", "qty", "tags", "day", "missing"],
    )
    assert body is not None and problems == []
    out = json.loads(
        body.render(
            {
                "name": 'Ana "A"',
                "qty": 3.0,
                "tags": ["a", "b"],
                "day": dt.date(2026, 3, 15),
                "missing": None,
            }
        )
    )
    assert out == {
        "name": 'Hi Ana "A"!',
        "qty": 3,
        "tags": ["a", "b"],
        "when": "2026-03-15",
        "list": "a, b",
        "none": None,
    }
    assert body.render(
        {"name": None, "qty": 12345678901234567890, "tags": [], "day": None, "missing": None}
    ) == (
        '{"name": "Hi !", "qty": 12345678901234567890, "tags": [], "when": null, "list": "", "none": null}'
    )


def test_yaml_structure_typed_leaves() -> None:
    body, problems = BodyTemplate.parse(
        {
            "order": {
                "qty": "{qty}",
                "note": "x {qty} y",
                "ids": ["{ids}", "static"],
                "n": 1,
                "on": True,
            }
        },
        ["qty", "ids"],
    )
    assert body is not None and problems == []
    assert json.loads(body.render({"qty": 2.0, "ids": [1, 2]})) == {
        "order": {"qty": 2, "note": "x 2 y", "ids": [[1, 2], "static"], "n": 1, "on": True}
    }


def test_header_crlf_is_refused() -> None:
    h, problems = HeaderTemplate.parse(
        {"X-Name": "n={name}", "Authorization": "Bearer ${T}"}, ["name"]
    )
    assert problems == []
    assert h.render({"name": "ab"}, {"T": "tok"}) == {
        "X-Name": "n=ab",
        "Authorization": "Bearer tok",
    }
    assert h.render({"name": "ab"}, None)["Authorization"] == "Bearer ***"
    for bad in ("a\r\nX-Admin: 1", "a\nb", "a\x00"):
        with pytest.raises(ArgumentError, match="line breaks"):
            h.render({"name": bad}, {"T": "tok"})


@settings(max_examples=300)
@given(value=nasty)
def test_property_path_value_stays_one_segment(value: str) -> None:
    t = url("https://api.example.com:8443/v1/{id}/items?x=1", "id")
    try:
        rendered = t.render({"id": value}, {})
    except ArgumentError:
        assert value in ("", ".", "..")
        return
    parts = urllib.parse.urlsplit(rendered)
    assert (parts.scheme, parts.hostname, parts.port) == ("https", "api.example.com", 8443)
    segments = parts.path.split("/")
    assert segments[:2] == ["", "v1"] and segments[3:] == ["items"] and len(segments) == 4
    assert urllib.parse.unquote(segments[2]) == value
    assert parts.query == "x=1" and parts.fragment == ""


@settings(max_examples=300)
@given(value=nasty, other=nasty)
def test_property_query_value_cannot_add_keys(value: str, other: str) -> None:
    t = url("https://api.example.com/s?q={q}&o={o}&k=${K}", "q", "o")
    rendered = t.render({"q": value, "o": other}, {"K": "sec"})
    parts = urllib.parse.urlsplit(rendered)
    assert parts.hostname == "api.example.com" and parts.path == "/s" and parts.fragment == ""
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    assert [k for k, _ in pairs] == ["q", "o", "k"]
    assert pairs[0][1] == value and pairs[1][1] == other and pairs[2][1] == "sec"


@settings(max_examples=300)
@given(
    value=nasty, number=st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
)
def test_property_json_body_shape_is_fixed(value: str, number: float) -> None:
    body, _ = BodyTemplate.parse('{"a": "{v}", "b": {v}, "c": {"d": ["x {v} y", {n}]}}', ["v", "n"])
    assert body is not None
    out = json.loads(body.render({"v": value, "n": number}))
    assert set(out) == {"a", "b", "c"} and set(out["c"]) == {"d"} and len(out["c"]["d"]) == 2
    assert out["a"] == value and out["b"] == value and out["c"]["d"][0] == f"x {value} y"
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**63:
        assert out["c"]["d"][1] == int(number)
    else:
        assert out["c"]["d"][1] == number


@settings(max_examples=200)
@given(value=nasty)
def test_property_header_value_is_exact_or_refused(value: str) -> None:
    h, _ = HeaderTemplate.parse({"X-V": "{v}"}, ["v"])
    try:
        out = h.render({"v": value}, {})
    except ArgumentError:
        assert any(c in value for c in "\r\n\x00") or any(ord(c) > 255 for c in value)
        return
    assert out == {"X-V": value}


@settings(max_examples=300)
@given(
    body=st.recursive(
        st.none() | st.integers() | st.text(max_size=3),
        lambda kids: (
            st.lists(kids, max_size=3)
            | st.dictionaries(st.sampled_from(["a", "b-c", "d e", "ä"]), kids, max_size=3)
        ),
        max_leaves=12,
    ),
    path=st.lists(st.sampled_from(["a", "b-c", "d e", "ä"]), min_size=1, max_size=3).map(".".join),
)
def test_property_plain_paths_match_quoted_jmespath(body: object, path: str) -> None:
    """A plain dotted name reads exactly what the quoted JMESPath expression reads."""
    import jmespath

    from langchain_apiactions.extract import compile_path

    quoted = ".".join(json.dumps(s) for s in path.split("."))
    field = compile_path("f", path)
    assert field.plain
    assert field.search(body) == jmespath.search(quoted, body)
