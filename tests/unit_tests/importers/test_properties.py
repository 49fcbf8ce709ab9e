"""Property tests: whatever names and text a document or a cURL line carries, the imported
file validates, round-trips through YAML, and carries no secret reference it did not make."""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_apiactions.config import check_actions
from langchain_apiactions.importers import import_curl, import_openapi

# Text with the characters that mean something to the action file or to YAML.
nasty = st.text(
    alphabet=st.sampled_from(list("ab_Z9 -.{}$/:?#&=%[]\"'\\\n\t\x00é中|>*!@~")), max_size=12
)
scalar_schema = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": "number", "default": "nan"},
        {"type": "boolean"},
        {"type": "string", "format": "date", "default": "not a date"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "string", "enum": ["{x}", "${HOME}", "a b"]},
        {"type": "string", "const": "${HOME}"},
        {"type": "object", "properties": {"{in}": {"type": "string"}}},
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    params = [
        {
            "name": draw(nasty),
            "in": draw(st.sampled_from(["query", "header", "path", "cookie"])),
            "required": draw(st.booleans()),
            "description": draw(nasty),
            "schema": draw(scalar_schema),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    props = {draw(nasty): draw(scalar_schema) for _ in range(draw(st.integers(0, 4)))}
    media = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded"]))
    segment = draw(nasty)
    op = {
        "operationId": draw(nasty),
        "summary": draw(nasty),
        "parameters": params,
        "requestBody": {"content": {media: {"schema": {"type": "object", "properties": props}}}},
        "responses": {
            "200": {
                "description": "ok",
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": props}}
                },
            }
        },
    }
    method = draw(st.sampled_from(["get", "post", "put", "patch", "delete"]))
    return {
        "openapi": "3.1.0",
        "info": {"title": draw(nasty), "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": {f"/x/{segment}/{{{draw(nasty)}}}": {method: op}},
    }


def _secrets(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_document_imports_to_a_file_that_validates(doc: dict[str, Any]) -> None:
    result = import_openapi(doc)
    text = result.to_yaml()
    report = check_actions(text)
    assert report.errors == [], text
    assert yaml.safe_load(text) == result.mapping()
    # no `${NAME}` reaches a template unless the importer made it (a secret to set)
    for action in result.mapping()["actions"]:
        templates = yaml.safe_dump({k: action.get(k) for k in ("url", "headers", "body")})
        assert _secrets(templates) <= set(result.secrets)


@settings(max_examples=300, deadline=None)
@given(
    header=nasty,
    value=nasty,
    key=nasty,
    data=nasty,
    segment=nasty,
    token=st.text(alphabet="abcdefXYZ0123456789_-", min_size=8, max_size=20),
)
def test_any_curl_line_imports_without_copying_credentials(
    header: str, value: str, key: str, data: str, segment: str, token: str
) -> None:
    url = "https://api.example.com/v1/" + segment.replace(" ", "%20")
    line = shlex.join(
        [
            "curl", url,
            "-H", f"Authorization: Bearer {token}",
            "-H", f"X-Api-Key: {token}",
            "-H", f"{header or 'X'}: {value}",
            "-d", f"{key}={data}",
            "-u", f"user:{token}",
        ]
    )  # fmt: skip
    try:
        result = import_curl(line)
    except ValueError:
        return  # a line the importer refuses, with a message (asserted elsewhere)
    text = result.to_yaml()
    assert check_actions(text).errors == [], text
    assert token not in text
    assert yaml.safe_load(text) == result.mapping()
