"""Loading and validating action files: every problem at once, each naming its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from langchain_apiactions import (
    ActionConfigError,
    ApiActionsToolkit,
    MissingSecretError,
    load_actions,
)
from langchain_apiactions.config import check_actions

MINIMAL = {
    "name": "Check_Order_Status",
    "when_to_use": "Use when the visitor asks about the status of their order.",
    "method": "get",
    "url": "https://api.example.com/orders/{order_number}",
    "inputs": [{"name": "order_number", "type": "Text", "required": True}],
}


def test_loads_yaml_json_path_dict_list(tmp_path: Path) -> None:
    yaml_path = tmp_path / "a.yaml"
    yaml_path.write_text("actions:\n  - " + json.dumps(MINIMAL))
    json_path = tmp_path / "a.json"
    json_path.write_text(json.dumps({"actions": [MINIMAL]}))
    for source in (
        yaml_path,
        str(json_path),
        json.dumps([MINIMAL]),
        {"actions": [MINIMAL]},
        [MINIMAL],
        MINIMAL,
    ):
        [action] = load_actions(source)
        assert action.name == "Check_Order_Status"
        assert action.method == "GET"
        assert action.inputs[0].type == "text"
    assert load_actions(yaml_path)[0].source == str(yaml_path)
    assert load_actions([MINIMAL])[0].source == "<actions>"


def test_walkthrough_ui_labels_are_aliases() -> None:
    [action] = load_actions(
        {
            "Action Name": "Create_Support_Ticket",
            "When to use": "Use when the visitor wants to open a support ticket with the team.",
            "Triggered response": "Creating your ticket.",
            "HTTP Method": "POSTAR",
            "Endpoint URL": "https://x.zendesk.com/api/v2/tickets",
            "Collect data inputs": [
                {
                    "Name": "email",
                    "Type": "Text",
                    "Description": "Email",
                    "Default Value": None,
                    "Array": False,
                    "Required": True,
                }
            ],
            "Request JSON template": '{"email": "{email}"}',
            "Request headers": [
                {"Header Name": "Content-Type", "Header Value": "application/json"}
            ],
            "Expected response fields": [{"Field Name": "ticket.id", "Example Value": "35436"}],
            "Trigger only once per session": True,
            "Show action button in response": {
                "Button Label": "Open",
                "Button URL": "https://x.zendesk.com",
            },
            "Automatically close the chat": {"Farewell message": "Bye"},
            "action_type": "Call API Request",
        }
    )
    assert action.method == "POST"
    assert action.headers == {"Content-Type": "application/json"}
    assert action.response_fields[0].name == "ticket.id"
    assert action.once_per_session and action.button is not None and action.close_chat is not None
    assert action.close_chat.farewell == "Bye"


def test_defaults_merge_headers_key_by_key() -> None:
    actions = load_actions(
        {
            "defaults": {"timeout": 3, "headers": {"Accept": "application/json", "X-Team": "a"}},
            "actions": [
                dict(MINIMAL, headers={"x-team": "b"}),
                dict(MINIMAL, name="Other", timeout=7),
            ],
        }
    )
    assert actions[0].timeout == 3 and actions[1].timeout == 7
    assert actions[0].headers == {"Accept": "application/json", "x-team": "b"}
    assert actions[1].headers == {"Accept": "application/json", "X-Team": "a"}


def test_every_problem_is_reported_at_once_with_file_action_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("""
actions:
  - name: Check_Order_Status
    when_to_use: Use when the visitor asks about the status of their order.
    method: GET
    url: https://api.example.com/orders/{order_no}
    inputs: [{name: order_number, required: true}]
    body: '{"a": 1}'
  - name: Bad Name!
    method: FETCH
    url: https://{tenant}.example.com/x?{key}=1
  - name: Post_It
    method: POST
    url: https://api.example.com/{maybe}/x
    inputs: [{name: maybe}, {name: n, type: number, default: abc}, {name: t, type: colour}]
    headers: {"X-Bad": "a\\r\\nb", "Bad Header": "x"}
    body: |
      {"a": "{maybe}",
       "b": ${TOKEN}
       "c" 3}
    response_fields: [{name: f, path: "a[?"}]
  - name: Post_It
    method: POST
    url: ftp://example.com/x
""")
    with pytest.raises(ActionConfigError) as info:
        load_actions(path)
    problems = info.value.problems
    text = str(info.value)
    p = str(path)
    expected = [
        f"{p}: Check_Order_Status.url: placeholder {{order_no}} is not a declared input",
        f"{p}: Check_Order_Status.body: a GET request cannot have a body",
        f"{p}: Bad Name!.method:",
        f"{p}: Post_It.url: path placeholder {{maybe}} needs a required input or a default",
        f"{p}: Post_It.inputs.n.default: 'abc' is not a number",
        f"{p}: Post_It.inputs.t.type:",
        f"{p}: Post_It.url: scheme 'ftp' is not http or https",
        f"{p}: Post_It.name: duplicate action name",
    ]
    for line in expected:
        assert any(pr.startswith(line) for pr in problems), (line, problems)
    assert isinstance(info.value, ValueError)
    assert text.count("\n  - ") == len(problems)


def test_each_template_error_is_named() -> None:
    report = check_actions("""
- name: A
  when_to_use: Use when the visitor asks about the status of their order.
  method: POST
  url: https://api.example.com/{x}/y
  inputs: [{name: x, required: true}, {name: k}]
  headers: {"X-Bad": "a\\nb", "Bad Header": "x"}
  body: |
    {"a": "{x}",
     "b": 1
     "c" 3}
  response_fields: [{name: f, path: "a[?"}]
  button: {label: Go, url: "https://t.example.com/${TOKEN}"}
- name: B
  when_to_use: Use when the visitor asks about the status of their order.
  method: POST
  url: https://{host}.example.com:{port}/x?{key}=1
  inputs: [{name: host}, {name: port}, {name: key}]
  body: {"{key}": 1, text: "${TOKEN}"}
""")
    errors = "\n".join(report.errors)
    assert "A.headers.X-Bad: a header value cannot contain CR, LF or NUL" in errors
    assert "A.headers.Bad Header: 'Bad Header' is not a valid header name" in errors
    assert "A.body: not valid JSON at line 3, column 2: Expecting ',' delimiter" in errors
    assert "A.response_fields.f.path: 'a[?' is not a valid JMESPath expression" in errors
    assert "A.button.url: secret ${TOKEN} is not allowed in a button" in errors
    assert "B.url: a placeholder cannot set the URL host or port" in errors
    assert "B.url: query key '{key}': a placeholder cannot name a query key" in errors
    assert "B.body.{key}: a placeholder cannot name a key" in errors
    assert "B.body.text: secret ${TOKEN} is not allowed in the body" in errors


def test_json_body_line_and_column_point_into_the_template() -> None:
    report = check_actions(
        {**MINIMAL, "method": "POST", "body": '{\n  "qty": {order_number},\n  "x": [1, 2,]\n}'}
    )
    assert report.errors == [
        "<actions>: Check_Order_Status.body: not valid JSON at line 3, column 14: Expecting value"
    ]


def test_warnings() -> None:
    report = check_actions(
        [
            {
                **MINIMAL,
                "when_to_use": "orders",
                "url": "http://api.example.com/o/{order_number}",
                "method": "POST",
                "body": '{"q": "{order_number}", "g": "{ order {status} }"}',
            },
            {
                **MINIMAL,
                "name": "B",
                "when_to_use": "Use when the visitor asks about the status of their order now.",
            },
            {
                **MINIMAL,
                "name": "C",
                "when_to_use": "Use when the visitor asks about the status of their order today.",
            },
        ]
    )
    assert report.errors == []
    w = "\n".join(report.warnings)
    assert "Check_Order_Status.when_to_use: missing or very short" in w
    assert "Check_Order_Status.url: plain http:// to a public host" in w
    assert "{status} looks like a placeholder but is not an input" in w
    assert "B/C.when_to_use: descriptions overlap" in w


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text("actions:\n  - name: [unclosed\n")
    with pytest.raises(ActionConfigError, match=r"x.yml: not valid YAML at line 3, column 1"):
        load_actions(path)
    with pytest.raises(ActionConfigError, match="file not found"):
        load_actions(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("actions:\n  - name: [unclosed\n", 3, 1),
        ("actions:\n  - name: A\n    url: x\n   method: GET\n", 4, 4),
        ("actions:\n  - {name: A, url: [1, 2}\n", 2, 25),
        ("a: 1\n\tb: 2\n", 2, 1),
    ],
)
def test_yaml_errors_keep_line_and_column_with_libyaml(text: str, line: int, column: int) -> None:
    from langchain_apiactions import config

    assert yaml.__with_libyaml__  # the fast loader is there, and it is the one used
    assert issubclass(config.YAML_LOADER, yaml.CSafeLoader)
    with pytest.raises(ActionConfigError) as caught:
        load_actions(text)
    # The place and the words of PyYAML's own loader, with libyaml or without.
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        yaml.load(text, Loader=yaml.SafeLoader)
    assert str(caught.value).endswith(
        f"not valid YAML at line {line}, column {column}: {pure.value.problem}"
    )


def test_missing_secret_names_action_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    action = {**MINIMAL, "headers": {"Authorization": "Bearer ${NOPE_KEY}"}}
    with pytest.raises(
        MissingSecretError, match=r"<actions>: Check_Order_Status: secret \$\{NOPE_KEY\} is not set"
    ):
        ApiActionsToolkit(actions=[action])
    tk = ApiActionsToolkit(actions=[action], env={"NOPE_KEY": "tok-Zq81"})
    for shown in (
        repr(tk),
        repr(tk.runtime),
        repr(tk.get_tools()[0]),
        tk.model_dump_json(),
        str(tk.get_tools()[0].__dict__),
    ):
        assert "tok-Zq81" not in shown
    assert "NOPE_KEY=***" in repr(tk.runtime)


def test_reserved_and_invalid_input_names() -> None:
    report = check_actions(
        {
            **MINIMAL,
            "inputs": [
                {"name": "order_number", "required": True},
                {"name": "config"},
                {"name": "9lives"},
                {"name": "model_x"},
            ],
        }
    )
    errors = "\n".join(report.errors)
    assert "inputs.config: 'config' is reserved" in errors
    assert (
        "inputs.9lives: '9lives' is not a valid input name (letters, digits and _, not "
        "starting with a digit): use '_9lives'"
    ) in errors
    assert "inputs.model_x: 'model_x' is reserved" in errors


def test_type_errors_read_plainly() -> None:
    report = check_actions(
        [{"name": "A", "method": "POST", "url": "https://a.example/x", "body": 5, "timeout": -1}]
    )
    assert report.errors == [
        "<actions>: A.body: must be JSON text, a mapping or a list",
        "<actions>: A.timeout: Input should be greater than 0",
    ]


def test_a_date_input_whose_default_yaml_reads_as_a_date_and_time_is_refused() -> None:
    # YAML reads 2026-01-02T03:04:00 as a datetime; the tool could not be built from it.
    with pytest.raises(ActionConfigError) as info:
        load_actions("""
- name: Book
  when_to_use: Use this action when the visitor wants to book a visit.
  method: POST
  url: https://api.example.com/bookings
  inputs: [{name: day, type: date, default: 2026-01-02T03:04:00}]
""")
    assert info.value.problems == [
        "<actions>: Book.inputs.day.default: 2026-01-02T03:04:00 is a date and time; "
        "write the date only (YYYY-MM-DD)"
    ]
