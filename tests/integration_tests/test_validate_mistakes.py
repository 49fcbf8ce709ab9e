"""Issue 26: mistakes a new user makes that `apiactions validate` used to pass silently,
and load errors in the file's words instead of pydantic's.

Each test reads what the user reads: `validate`'s lines and exit code, or the message of
the `ActionConfigError` that loading raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_apiactions import ActionConfigError, load_actions
from tests.clirun import run_cli_streams

HEAD = """
actions:
  - name: Check_Availability
    when_to_use: >
      Use this action when the visitor asks whether bikes are available at a station
      on a day.
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bikes.yaml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- {{name}} and ${name}
@pytest.mark.parametrize(
    ("where", "snippet"),
    [
        ("url", "    url: https://api.bikes.example/stations/{{station}}/availability\n"),
        (
            "url",
            "    url: https://api.bikes.example/availability?station={{station}}\n",
        ),
        (
            "headers.X-Station",
            "    url: https://api.bikes.example/availability\n"
            '    headers: {X-Station: "{{station}}"}\n',
        ),
        (
            "body.station",
            "    url: https://api.bikes.example/availability\n"
            "    method: POST\n"
            "    body_format: form\n"
            '    body: {station: "{{station}}"}\n',
        ),
    ],
    ids=["path", "query", "header", "form"],
)
def test_mustache_braces_are_an_error_outside_a_json_body(
    tmp_path: Path, where: str, snippet: str
) -> None:
    method = "" if "method:" in snippet else "    method: GET\n"
    path = write(tmp_path, HEAD + method + snippet + "    inputs: [station]\n")
    code, _, err = run_cli_streams("validate", str(path))
    assert code == 1
    assert (
        f"error: {path}: Check_Availability.{where}: {{{{station}}}} has double braces "
        "(Mustache style), which would send the value inside literal braces "
        "({value}): write {station}"
    ) in err.splitlines()


@pytest.mark.parametrize(
    ("rest", "exit_code", "line", "in_out"),
    [
        pytest.param(
            # JSON may hold literal braces on purpose, so this one only warns.
            "    method: POST\n"
            "    url: https://api.bikes.example/reservations\n"
            "    inputs: [station]\n"
            """    body: '{"station": "{{station}}"}'\n""",
            0,
            "warning: {path}: Check_Availability.body: {{station}} has double braces "
            "(Mustache style), which would send the value inside literal braces "
            "({value}): write {station} unless the braces are meant to be sent",
            ["1 action(s) OK, 1 warning(s)"],
            id="mustache-braces-in-a-json-body-are-a-warning",
        ),
        pytest.param(
            "    method: GET\n"
            "    url: https://api.bikes.example/availability?date=${rental_date}\n"
            "    inputs: [{name: rental_date, type: date, required: true}]\n",
            1,
            "error: {path}: Check_Availability.url: ${rental_date} reads a secret from the "
            "environment, but rental_date is an input: write {rental_date}",
            [],
            id="a-secret-named-like-an-input-is-an-error-suggesting-the-placeholder",
        ),
        pytest.param(
            "    method: GET\n"
            "    url: https://api.bikes.example/availability\n"
            "    response_fields: {status: order.status}\n",
            0,
            "warning: {path}: Check_Availability.response_fields.status: 'order.status' is "
            "read as an example value, and it looks like a path: write "
            "{status: {path: order.status}} to extract it from there",
            [],
            id="a-path-written-as-an-example-is-a-warning",
        ),
    ],
)
def test_validate_names_the_mistake(
    tmp_path: Path, rest: str, exit_code: int, line: str, in_out: list[str]
) -> None:
    """One line on stderr, in the file's words (`{path}`: the file)."""
    path = write(tmp_path, HEAD + rest)
    code, out, err = run_cli_streams("validate", str(path))
    assert code == exit_code, err
    assert line.replace("{path}", str(path), 1) in err.splitlines()
    for text in in_out:
        assert text in out


# ---------------------------------------------------------------- secrets the file needs
SECRETS = (
    HEAD
    + """    method: GET
    url: https://api.bikes.example/availability?key=${BIKE_PUBLIC_KY}
    headers: {Authorization: "Bearer ${BIKE_API_TOKEN}"}
"""
)


def test_validate_lists_the_secrets_and_warns_about_unset_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIKE_PUBLIC_KEY", "pk-never-shown-1")
    monkeypatch.setenv("BIKE_API_TOKEN", "tok-never-shown-2")
    path = write(tmp_path, SECRETS)
    code, out, err = run_cli_streams("validate", str(path))
    assert code == 0
    assert "secrets: BIKE_API_TOKEN (set), BIKE_PUBLIC_KY (NOT SET)" in out.splitlines()
    assert (
        f"warning: {path}: Check_Availability: secret ${{BIKE_PUBLIC_KY}} is not set in "
        "the environment (did you mean BIKE_PUBLIC_KEY?)"
    ) in err.splitlines()
    assert "pk-never-shown-1" not in out + err and "tok-never-shown-2" not in out + err

    code, out, err = run_cli_streams("validate", "--strict", str(path))
    assert code == 1
    assert (
        f"error: {path}: Check_Availability: secret ${{BIKE_PUBLIC_KY}} is not set in "
        "the environment (did you mean BIKE_PUBLIC_KEY?)"
    ) in err.splitlines()

    monkeypatch.setenv("BIKE_PUBLIC_KY", "pk-2")
    code, out, err = run_cli_streams("validate", "--strict", str(path))
    assert code == 0, err
    assert "secrets: BIKE_API_TOKEN (set), BIKE_PUBLIC_KY (set)" in out.splitlines()


# ---------------------------------------------------------------- load errors, in words
def test_bare_input_names_are_required_text_inputs() -> None:
    (action,) = load_actions(
        HEAD
        + "    method: GET\n"
        + "    url: https://api.bikes.example/stations/{station}?date={rental_date}\n"
        + "    inputs: [station, rental_date]\n"
    )
    assert [(i.name, i.type, i.required) for i in action.inputs] == [
        ("station", "text", True),
        ("rental_date", "text", True),
    ]


def test_response_fields_as_a_mapping_of_names_to_examples() -> None:
    """The walkthrough's table is Field Name -> Example Value: the mapping form says that."""
    (action,) = load_actions(
        HEAD
        + "    method: GET\n"
        + "    url: https://api.bikes.example/availability\n"
        + "    response_fields: {date: date, available: 4, price: {path: price.eur}}\n"
    )
    assert [(f.name, f.path, f.example) for f in action.response_fields] == [
        ("date", None, "date"),
        ("available", None, 4),
        ("price", "price.eur", None),
    ]


def load_error(text: str) -> list[str]:
    with pytest.raises(ActionConfigError) as info:
        load_actions(text)
    return [line.removeprefix("  - ") for line in str(info.value).splitlines()[1:]]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(
            HEAD.replace("  - name: Check_Availability", "  - Action Name: Check Availability")
            + "    method: GET\n    url: https://api.bikes.example/availability\n",
            "<actions>: Check Availability.name: 'Check Availability' is not a valid action "
            "name (letters, digits and _ only, at most 64): use 'Check_Availability'",
            id="an-action-name-with-spaces-suggests-one-with-underscores",
        ),
        pytest.param(
            HEAD
            + "    method: GET\n"
            + "    url: https://api.bikes.example/stations/{station}\n"
            + "    inputs:\n"
            + "      station: {required: true, description: The pick-up station, for example"
            + " Riverside or Central}\n",
            "<actions>: Check_Availability.inputs.station.description: the value probably "
            "needs quotes: an unquoted comma inside {...} ended it and made 'for example "
            'Riverside or Central\' a key of its own (write description: "...")',
            id="an-unquoted-comma-in-a-flow-mapping-says-the-value-needs-quotes",
        ),
    ],
)
def test_a_load_error_in_the_files_words(text: str, line: str) -> None:
    assert load_error(text) == [line]
