"""Render once: each template makes its (sent, shown) pair in one pass.

Properties over untrusted text: the shown form never depends on a secret or a trusted
context value (so it cannot reveal one), and the sent form is what the template sends.
"""

from __future__ import annotations

import json
import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions.errors import ArgumentError
from langchain_apiactions.templating import (
    BodyTemplate,
    FormTemplate,
    HeaderTemplate,
    UrlTemplate,
)

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=20
)

URL, _ = UrlTemplate.parse(
    "https://api.example.com/s/{context.shop}/o/{a}?key=${KEY}&q={a}&u=${context.tok}", ["a"]
)
HEADERS, _ = HeaderTemplate.parse(
    {"X-Shop": "{context.shop}", "X-Q": "q={a}", "Authorization": "Bearer ${context.tok}"}, ["a"]
)
JSON_TEXT, _ = BodyTemplate.parse('{"a": "{a}", "shop": "{context.shop}", "n": {context.n}}', ["a"])
STRUCTURE, _ = BodyTemplate.parse(
    {"a": "{a}", "shop": "x-{context.shop}", "n": "{context.n}"}, ["a"]
)
FORM, _ = FormTemplate.parse(
    {"a": "{a}", "shop": "{context.shop}", "both": "{a}/{context.shop}"}, ["a"]
)


def values(a: str, shop: str, n: int = 1) -> dict[str, object]:
    return {"a": a, "context.shop": shop, "context.n": n}


@given(a=text, shop=text, shop2=text, key=text, key2=text)
def test_the_shown_url_never_depends_on_a_secret_or_context(
    a: str, shop: str, shop2: str, key: str, key2: str
) -> None:
    assert URL is not None
    try:
        one = URL.render_pair(values(a, shop), {"KEY": key, "context.tok": "t1"})
        two = URL.render_pair(values(a, shop2), {"KEY": key2, "context.tok": "t2"})
    except ArgumentError:
        return  # an empty or dot segment: refused for every form alike
    assert one.shown == two.shown
    assert one.shown == (
        "https://api.example.com/s/{context.shop}/o/"
        + urllib.parse.quote(a, safe="")
        + "?key=***&q="
        + urllib.parse.quote(a, safe="")
        + "&u=***"
    )
    assert one.sent == URL.render(values(a, shop), {"KEY": key, "context.tok": "t1"})
    path = urllib.parse.urlsplit(one.sent).path.split("/")
    assert [urllib.parse.unquote(p) for p in path[1:]] == ["s", shop, "o", a]


@given(a=header_text, shop=header_text, shop2=header_text)
def test_the_shown_headers_never_depend_on_a_secret_or_context(
    a: str, shop: str, shop2: str
) -> None:
    assert HEADERS is not None
    one = HEADERS.render_pair(values(a, shop), {"context.tok": "secret-1"})
    two = HEADERS.render_pair(values(a, shop2), {"context.tok": "secret-2"})
    assert (
        one.shown
        == two.shown
        == {
            "X-Shop": "{context.shop}",
            "X-Q": f"q={a}",
            "Authorization": "Bearer ***",
        }
    )
    assert one.sent == {"X-Shop": shop, "X-Q": f"q={a}", "Authorization": "Bearer secret-1"}


@given(a=text, shop=text, shop2=text, n=st.integers())
def test_the_shown_bodies_never_depend_on_context(a: str, shop: str, shop2: str, n: int) -> None:
    for body in (JSON_TEXT, STRUCTURE):
        assert body is not None
        one = body.render_pair(values(a, shop, n))
        two = body.render_pair(values(a, shop2, n + 1))
        assert one.shown == two.shown
        assert one.sent == body.render(values(a, shop, n))
        sent, shown = json.loads(one.sent), json.loads(one.shown)
        assert sent["a"] == shown["a"] == a
        assert shop in sent["shop"] and "{context.shop}" in shown["shop"]
        assert str(sent["n"]) == str(n) and shown["n"] == "{context.n}"
    assert FORM is not None
    one, two = FORM.render_pair(values(a, shop)), FORM.render_pair(values(a, shop2))
    assert one.shown == two.shown
    assert one.sent == FORM.render(values(a, shop))
    assert urllib.parse.parse_qsl(one.sent, keep_blank_values=True) == [
        ("a", a),
        ("shop", shop),
        ("both", f"{a}/{shop}"),
    ]
    quoted = urllib.parse.quote_plus(a)
    assert one.shown == f"a={quoted}&shop={{context.shop}}&both={quoted}%2F{{context.shop}}"
