"""Issue 11: button placeholders, unknown keys as written, the UI labels for every field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from langchain_apiactions import ActionConfigError, load_actions
from langchain_apiactions.config import check_actions
from langchain_apiactions.config.aliases import (
    ACTION_ALIASES,
    BUTTON_ALIASES,
    CLOSE_ALIASES,
    FIELD_ALIASES,
    INPUT_ALIASES,
)

ROOT = Path(__file__).resolve().parents[3]


def _errors(text: str) -> list[str]:
    return check_actions(text).errors


def test_button_placeholder_naming_a_dotted_response_field_is_accepted() -> None:
    report = check_actions("""
- name: Book
  when_to_use: Use when the visitor wants to book an appointment at the clinic.
  method: POST
  url: https://api.example.com/appointments
  response_fields: [confirmation.code]
  button: {label: "Booking {confirmation.code}", url: "https://x.example/booking/{confirmation.code}"}
""")
    assert report.errors == [] and report.warnings == []


@pytest.mark.parametrize(
    ("button", "where", "name"),
    [
        (
            '{label: Go, url: "https://x.example/b/{confirmation.code}"}',
            "button.url",
            "confirmation.code",
        ),
        ('{label: "Ref {ref}", url: "https://x.example/"}', "button.label", "ref"),
        ('{label: Go, url: "https://x.example/?ref={ booking }"}', "button.url", " booking "),
        ('{label: "Go {}", url: "https://x.example/"}', "button.label", ""),
    ],
)
def test_a_button_placeholder_nothing_can_fill_is_an_error(
    button: str, where: str, name: str
) -> None:
    errors = _errors(f"""
- name: Book
  when_to_use: Use when the visitor wants to book an appointment at the clinic.
  method: POST
  url: https://api.example.com/appointments
  response_fields: [code]
  button: {button}
""")
    assert errors == [
        f"<actions>: Book.{where}: placeholder {{{name}}} is not an input, a response field "
        "or a built-in; nothing would fill it and the visitor would see it as written"
    ]


def test_dotted_placeholder_in_a_body_that_is_not_an_input_is_a_warning() -> None:
    report = check_actions("""
- name: Book
  when_to_use: Use when the visitor wants to book an appointment at the clinic.
  method: POST
  url: https://api.example.com/appointments
  inputs: [{name: patient}]
  body: '{"patient": "{patient}", "code": "{confirmation.code}"}'
""")
    assert report.errors == []
    assert report.warnings == [
        "<actions>: Book.body: {confirmation.code} looks like a placeholder but is not an "
        "input; it is sent as written"
    ]


def test_unknown_keys_are_shown_as_written_with_the_closest_known_key() -> None:
    errors = _errors("""
Actions:
  - Action Name: Book
    When to use: Use when the visitor wants to book an appointment at the clinic.
    HTTP Method: POST
    Endpoint URL: https://x.example/a
    Collect data inputs:
      - {Input Name: patient, Data Typ: Text}
    Show action button in response: {Button Label: Go, Buton URL: "https://x.example/"}
    Trigger only once per sesion: true
Defualts: {}
""")
    assert errors == [
        "<actions>: Defualts: unknown top-level key (did you mean 'defaults'?)",
        "<actions>: Book.inputs.patient.Data Typ: unknown field (did you mean 'data_type'?)",
        "<actions>: Book.button.url: is required",
        "<actions>: Book.button.Buton URL: unknown field (did you mean 'button_url'?)",
        "<actions>: Book.Trigger only once per sesion: unknown field "
        "(did you mean 'trigger_only_once_per_session'?)",
    ]


def test_the_walkthrough_and_common_ui_labels_load_for_inputs() -> None:
    (action,) = load_actions("""
- Action Name: Book
  When to use: Use when the visitor wants to book an appointment at the clinic.
  HTTP Method: POSTAR
  Endpoint URL: https://x.example/a
  Collect data inputs:
    - {Input Name: patient, Data Type: Text, Description: Full name, Required: Sim}
    - {Parameter Name: day, Input Type: Date, Is Required: true}
    - {Nome: tags, Type: Text, Is Array: yes, Default Value: [a]}
    - {Variable Name: n, Value Type: Number, Mandatory: Não, Array Flag: false}
  Request Body: '{"p": "{patient}"}'
  Expected response fields: [{Field Name: code, JSON Path: data.code, Example Value: X}]
  Show action button in response: {Button Text: Go, Button Link: "https://x.example/{code}"}
  Automatically close the chat: {Farewell message: Bye}
  Require Confirmation: true
  Timeout Seconds: 5
""")
    patient, day, tags, n = action.inputs
    assert (patient.name, patient.type, patient.description, patient.required) == (
        "patient",
        "text",
        "Full name",
        True,
    )
    assert (day.name, day.type, day.required) == ("day", "date", True)
    assert (tags.name, tags.array, tags.default) == ("tags", True, ["a"])
    assert (n.name, n.type, n.required, n.array) == ("n", "number", False, False)
    assert action.response_fields[0].path == "data.code"
    assert action.button is not None and action.button.label == "Go"
    assert action.close_chat is not None and action.close_chat.farewell == "Bye"
    assert action.confirm is True and action.timeout == 5 and action.method == "POST"


def _label_table() -> dict[tuple[str, str], set[str]]:
    """docs/action-file.md's UI-label table: {(part, field): labels, as keys}."""
    page = (ROOT / "docs" / "action-file.md").read_text()
    table = page.split("<!-- ui-labels: start -->", 1)[1].split("<!-- ui-labels: end -->")[0]
    rows: dict[tuple[str, str], set[str]] = {}
    for line in table.strip().splitlines()[2:]:
        part, field, labels = (cell.strip() for cell in line.strip("|").split("|"))
        rows[(part, field.strip("`"))] = {
            re.sub(r"[\s\-]+", "_", label.strip()).lower()
            for label in re.findall(r"`([^`]+)`", labels)
        }
    return rows


def test_the_docs_table_documents_every_accepted_label_under_its_field() -> None:
    rows = _label_table()
    parts = {
        "action": ACTION_ALIASES,
        "input": INPUT_ALIASES,
        "response field": FIELD_ALIASES,
        "button": BUTTON_ALIASES,
        "close chat": CLOSE_ALIASES,
    }
    for part, aliases in parts.items():
        for label, field in aliases.items():
            assert label in rows.get((part, field), set()), f"{part} {field}: {label} missing"
    for (part, field), labels in rows.items():
        accepted = {k for k, v in parts[part].items() if v == field} | {field}
        # values and sub-keys the table also names: POSTAR, Header Name/Value, Sim/Não
        extra = labels - accepted - {"postar", "header_name", "header_value", "sim", "não"}
        assert not extra, f"{part} {field}: documented but not accepted: {extra}"


def test_the_dental_clinic_example_written_in_ui_labels_is_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = check_actions(str(ROOT / "examples" / "dental_clinic.yaml"))
    assert report.errors == [] and report.warnings == []
    book = report.actions[0]
    assert [i.name for i in book.inputs] == ["patient_name", "appointment_date", "branch"]


def test_unknown_label_error_is_raised_by_load_actions() -> None:
    with pytest.raises(
        ActionConfigError,
        match=r"Book\.Endpont URL: unknown field \(did you mean 'endpoint_url'\?\)",
    ):
        load_actions("- {name: Book, method: GET, url: 'https://x.example/', Endpont URL: x}")
