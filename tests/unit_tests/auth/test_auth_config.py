"""The `auth:` block and `body_format: form`: validation messages and rendering."""

from __future__ import annotations

import base64
import datetime as dt
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_apiactions import ActionConfigError, ApiActionsToolkit, load_actions
from langchain_apiactions.auth import ApiKeyAuth, OAuth2ClientCredentials
from langchain_apiactions.config import check_actions
from langchain_apiactions.templating import FormTemplate

WHEN = "Use this action when the visitor asks about the status of an order."


def one(extra: str, *, method: str = "GET", url: str = "https://api.example.com/orders") -> str:
    return f"""
- name: Act
  when_to_use: {WHEN}
  method: {method}
  url: {url}
{extra}
"""


def errors_of(text: str) -> list[str]:
    return check_actions(text).errors


def test_each_auth_type_loads() -> None:
    actions = load_actions(f"""
defaults:
  auth: {{type: bearer, token: "${{API_TOKEN}}"}}
actions:
  - {{name: A, when_to_use: {WHEN}, method: GET, url: "https://a.example/x"}}
  - name: B
    when_to_use: {WHEN}
    method: GET
    url: https://a.example/x
    auth: {{type: Basic, username: "${{U}}", password: "${{P}}"}}
  - name: C
    when_to_use: {WHEN}
    method: GET
    url: https://a.example/x
    auth: {{type: api_key, in: Query, name: api_key, value: "${{K}}"}}
  - name: D
    when_to_use: {WHEN}
    method: GET
    url: https://a.example/x
    auth:
      type: oauth2_client_credentials
      token_url: https://auth.example.com/oauth/token
      client_id: "${{CID}}"
      client_secret: "${{CSECRET}}"
      scope: [orders.read, orders.write]
      audience: https://api.example.com
      token_params: {{resource: orders, version: 2}}
      client_auth: form
  - {{name: E, when_to_use: {WHEN}, method: GET, url: "https://a.example/x", auth: null}}
""")
    a, b, c, d, e = actions
    assert a.auth is not None and a.auth.type == "bearer"
    assert a.secret_names() == ["API_TOKEN"]
    assert b.secret_names() == ["U", "P"]
    assert isinstance(c.auth, ApiKeyAuth) and c.auth.in_ == "query"
    assert isinstance(d.auth, OAuth2ClientCredentials)
    assert d.auth.scope == "orders.read orders.write"
    assert d.auth.token_params == {"resource": "orders", "version": "2"}
    assert d.secret_names() == ["CID", "CSECRET"]
    assert e.auth is None and e.secret_names() == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '  auth: {type: bearer, token: "abc123"}',
            'Act.auth.token: must be a secret reference such as "${API_TOKEN}"',
        ),
        (
            '  auth: {type: basic, username: "${U}", password: "hunter2"}',
            "Act.auth.password: must be a secret reference",
        ),
        (
            '  auth: {type: bearer, token: "Bearer ${T}"}',
            "Act.auth.token: must be a secret reference",
        ),
        ("  auth: {type: magic}", "Act.auth.type: must be one of api_key, basic, bearer"),
        ("  auth: {token: x}", "Act.auth.type: must be one of"),
        ("  auth: bearer", "Act.auth: must be a mapping with a type"),
        (
            '  auth: {type: bearer, token: "${T}", scheme: Token}',
            "Act.auth.scheme: unknown field",
        ),
        ('  auth: {type: bearer, tokn: "${T}"}', "Act.auth.token: is required"),
        (
            '  auth: {type: api_key, in: body, name: k, value: "${K}"}',
            "Act.auth.in: Input should be 'header', 'query' or 'cookie'",
        ),
        (
            '  auth: {type: api_key, in: header, name: "X Key", value: "${K}"}',
            "Act.auth.name: 'X Key' is not a valid header name",
        ),
        (
            '  auth: {type: api_key, in: header, name: Host, value: "${K}"}',
            "Act.auth.name: Host cannot carry an API key",
        ),
        (
            '  auth: {type: api_key, in: query, name: "a&b", value: "${K}"}',
            "Act.auth.name: 'a&b' is not a valid query parameter name",
        ),
        (
            '  headers: {authorization: "Bearer ${T}"}\n  auth: {type: bearer, token: "${T}"}',
            "Act.auth: headers.Authorization is also set",
        ),
        (
            '  headers: {X-Key: "${K}"}\n  auth: {type: api_key, name: x-key, value: "${K}"}',
            "Act.auth.name: headers.x-key is also set",
        ),
        (
            "  auth: {type: oauth2, token_url: 'https://a.example/t/{x}', "
            "client_id: '${I}', client_secret: '${S}'}",
            "Act.auth.token_url: the token URL is written as is",
        ),
        (
            "  auth: {type: oauth2, token_url: 'ftp://a.example/t', "
            "client_id: '${I}', client_secret: '${S}'}",
            "Act.auth.token_url: 'ftp://a.example/t' is not an absolute http(s) URL",
        ),
        (
            "  auth: {type: oauth2, token_url: 'https://a.example/t', client_id: '${I}', "
            "client_secret: '${S}', token_params: {client_secret: x}}",
            "Act.auth.token_params.client_secret: set by the grant itself",
        ),
        (
            "  auth: {type: oauth2, token_url: 'https://a.example/t', client_id: '${I}', "
            "client_secret: '${S}', scope: '{visitor_scope}'}",
            "Act.auth.scope: placeholders and secrets are not allowed here",
        ),
        (
            "  auth: {type: oauth2, token_url: 'https://a.example/t', client_id: '${I}', "
            "client_secret: '${S}', client_auth: header}",
            "Act.auth.client_auth: Input should be 'basic' or 'form'",
        ),
    ],
)
def test_auth_errors_name_file_action_and_field(extra: str, expected: str) -> None:
    errors = errors_of(one(extra))
    assert any(e.startswith(f"<actions>: {expected}") for e in errors), errors


def test_api_key_query_conflicts_with_url_query() -> None:
    errors = errors_of(
        one(
            '  auth: {type: api_key, in: query, name: key, value: "${K}"}',
            url="https://api.example.com/o?key=1",
        )
    )
    assert errors == ["<actions>: Act.auth.name: the url already has a 'key' query parameter"]


def test_auth_errors_come_with_the_other_problems_at_once(tmp_path: object) -> None:
    with pytest.raises(ActionConfigError) as e:
        load_actions(
            one(
                '  auth: {type: bearer, token: "abc"}\n  inputs: [{name: q}]',
                url="https://api.example.com/{nope}",
            )
        )
    text = str(e.value)
    assert "Act.auth.token: must be a secret reference" in text
    assert "Act.url: placeholder {nope} is not a declared input" in text


def test_plain_http_token_url_is_a_warning() -> None:
    report = check_actions(
        one(
            "  auth: {type: oauth2, token_url: 'http://auth.example.com/t', "
            "client_id: '${I}', client_secret: '${S}'}"
        )
    )
    assert report.errors == []
    assert report.warnings == [
        "<actions>: Act.auth.token_url: plain http:// sends the client secret in clear text; "
        "use https://"
    ]


def test_missing_auth_secret_names_action_and_variable() -> None:
    with pytest.raises(ActionConfigError, match=r"Act: secret \$\{NOT_SET_TOKEN\} is not set"):
        ApiActionsToolkit(actions=one('  auth: {type: bearer, token: "${NOT_SET_TOKEN}"}'), env={})


def prepared(extra: str, env: dict[str, str], **kw: str) -> object:
    tk = ApiActionsToolkit(actions=one(extra, **kw), env=env)
    return tk.get_tool("Act").prepare({})


# Short values keep the expected renderings readable; short secrets are tested elsewhere.
@pytest.mark.filterwarnings("ignore::langchain_apiactions.ShortSecretWarning")
def test_auth_is_put_on_the_request_and_shown_masked() -> None:
    p: object = prepared('  auth: {type: bearer, token: "${T}"}', {"T": "tok-live-1a2b3c4d"})
    assert p.headers["Authorization"] == "Bearer tok-live-1a2b3c4d"  # type: ignore[attr-defined]
    assert p.display_headers["Authorization"] == "Bearer ***"  # type: ignore[attr-defined]

    p = prepared(
        '  auth: {type: basic, username: "${U}", password: "${P}"}',
        {"U": "ünï-user-4f3e", "P": "p:w-9f8e7d6c"},
    )
    assert (
        p.headers["Authorization"]
        == "Basic "
        + base64.b64encode(  # type: ignore[attr-defined]
            "ünï-user-4f3e:p:w-9f8e7d6c".encode()
        ).decode()
    )
    assert p.display_headers["Authorization"] == "Basic ***"  # type: ignore[attr-defined]

    p = prepared(
        '  auth: {type: api_key, in: query, name: api_key, value: "${K}"}',
        {"K": "a&b=c-key-7d6e5f"},
        url="https://api.example.com/o?x=1#frag",
    )
    assert p.url == "https://api.example.com/o?x=1&api_key=a%26b%3Dc-key-7d6e5f#frag"  # type: ignore[attr-defined]
    assert p.display_url == "https://api.example.com/o?x=1&api_key=***#frag"  # type: ignore[attr-defined]

    p = prepared(
        '  headers: {Cookie: "lang=en"}\n  auth: {type: api_key, in: cookie, name: sid, value: "${K}"}',
        {"K": "s3-cookie-9a8b7c"},
    )
    assert p.headers["Cookie"] == "lang=en; sid=s3-cookie-9a8b7c"  # type: ignore[attr-defined]
    assert p.display_headers["Cookie"] == "lang=en; sid=***"  # type: ignore[attr-defined]

    p = prepared(
        "  auth: {type: oauth2, token_url: 'https://a.example/t', client_id: '${I}', "
        "client_secret: '${S}'}",
        {"I": "client-id-5e4d3c", "S": "client-sec-3c2b1a"},
    )
    assert "Authorization" not in p.headers  # type: ignore[attr-defined]  # set when sent
    assert p.display_headers["Authorization"] == "Bearer ***"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- form bodies


def test_form_body_renders_text_and_repeated_keys() -> None:
    actions = load_actions(
        one(
            """  body_format: form
  inputs: [{name: q}, {name: tags, array: true}, {name: n, type: number}, {name: day, type: date},
           {name: gone}]
  body:
    query: "{q}"
    note: "hi {q}, {tags}"
    tag: "{tags}"
    fixed: [a, "{n}", 3, true]
    when: "{day}"
    optional: "{gone}"
    literal: 2026-01-02""",
            method="POST",
        )
    )
    body = actions[0].compiled.body
    assert isinstance(body, FormTemplate)
    text = body.render(
        {"q": "a&b=c", "tags": ["x", "y z"], "n": 2.0, "day": dt.date(2026, 3, 15), "gone": None}
    )
    assert text == (
        "query=a%26b%3Dc&note=hi+a%26b%3Dc%2C+x%2C+y+z&tag=x&tag=y+z&fixed=a&fixed=2&fixed=3"
        "&fixed=true&when=2026-03-15&literal=2026-01-02"
    )


def test_form_body_content_type_and_header_override() -> None:
    p: object = prepared(
        "  body_format: form\n  body: {a: '1'}", {}, method="POST", url="https://a.example/x"
    )
    assert p.body == b"a=1"  # type: ignore[attr-defined]
    assert p.headers["Content-Type"] == "application/x-www-form-urlencoded"  # type: ignore[attr-defined]
    p = prepared(
        "  body_format: form\n  headers: {Content-Type: application/x-www-form-urlencoded; "
        "charset=utf-8}\n  body: {a: '1'}",
        {},
        method="POST",
    )
    assert p.headers == {  # type: ignore[attr-defined]
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  body_format: form\n  body: '{\"a\": 1}'",
            "Act.body: body_format form needs a YAML mapping",
        ),
        ("  body_format: form\n  body: [a, b]", "Act.body: body_format form needs a YAML mapping"),
        ("  body_format: form\n  body: {a: {b: 1}}", "Act.body.a: a form value is text, a number"),
        (
            "  body_format: form\n  inputs: [{name: k}]\n  body: {'{k}': 1}",
            "Act.body.{k}: a placeholder cannot name a form field",
        ),
        ("  body_format: form\n  body: {a: '${S}'}", "Act.body.a: secret ${S} is not allowed"),
        ("  body_format: xml\n  body: {a: 1}", "Act.body_format: Input should be 'json' or 'form'"),
    ],
)
def test_form_body_errors(extra: str, expected: str) -> None:
    errors = errors_of(one(extra, method="POST"))
    assert any(e.startswith(f"<actions>: {expected}") for e in errors), errors


nasty = st.lists(
    st.one_of(
        st.sampled_from([*"&=+%#?;, \r\n\t\x00{}[]\"'", "%26", "a=b", "&x=1", "{b}", "${S}"]),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300)
@given(a=nasty, b=st.lists(nasty, max_size=4), n=st.integers() | st.floats(allow_nan=False))
def test_property_form_value_cannot_add_a_field(a: str, b: list[str], n: float) -> None:
    body, problems = FormTemplate.parse(
        {"a": "{a}", "b": "{b}", "mix": "x {a} y", "n": "{n}", "fixed": ["1", "{a}"]},
        ["a", "b", "n"],
    )
    assert body is not None and problems == []
    text = body.render({"a": a, "b": b, "n": n})
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    keys = [k for k, _ in pairs]
    assert keys == ["a"] + ["b"] * len(b) + ["mix", "n", "fixed", "fixed"]
    assert pairs[0][1] == a
    assert [v for k, v in pairs if k == "b"] == b
    assert dict(pairs)["mix"] == f"x {a} y"
    assert pairs[-1] == ("fixed", a)


def test_a_credential_written_in_the_file_is_never_echoed_by_the_error() -> None:
    for extra in (
        '  auth: {type: bearer, token: "sk-live-written-here"}',
        '  auth: {type: api_key, in: querystring, name: k, value: "sk-live-written-here"}',
        '  auth: {type: basic, username: "${U}", pasword: "sk-live-written-here"}',
        '  auth: {type: oauth2, token_url: "https://a.example/t", client_id: "${I}", '
        'client_secret: "sk-live-written-here"}',
    ):
        errors = errors_of(one(extra))
        assert errors and not any("sk-live-written-here" in e for e in errors), errors
