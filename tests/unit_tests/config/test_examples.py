"""`examples:`: visitor messages per action, checked at load and shown by `validate`."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_apiactions import ActionConfigError, load_actions
from langchain_apiactions.config import MAX_EXAMPLES, check_actions
from tests.clirun import run_cli_streams


def _action(name: str, **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "method": "GET",
        "url": f"https://api.example.com/{name.lower()}",
        "when_to_use": f"Use this action for {name.replace('_', ' ').lower()} questions.",
        **extra,
    }


def test_examples_load_as_written_with_spaces_tidied() -> None:
    [action] = load_actions(
        [_action("Track_Order", examples=["Where is my order?", "  where's   my parcel "])]
    )
    assert action.examples == ("Where is my order?", "where's my parcel")


def test_an_action_without_examples_has_none() -> None:
    [action] = load_actions([_action("Track_Order")])
    assert action.examples == ()


def test_defaults_examples_go_to_every_action_and_are_not_duplicates() -> None:
    actions = load_actions(
        {
            "defaults": {"examples": ["I need help"]},
            "actions": [_action("A"), _action("B", examples=["refund please"])],
        }
    )
    assert [a.examples for a in actions] == [("I need help",), ("refund please",)]


@pytest.mark.parametrize(
    ("examples", "problem"),
    [
        (["hello", 3], "A.examples: item 2 is not text: each example is a visitor message"),
        ("where is my order", "A.examples: must be a list of visitor messages"),
        ([""], "A.examples: an example must not be empty"),
        (
            [f"message {i}" for i in range(MAX_EXAMPLES + 1)],
            f"A.examples: at most {MAX_EXAMPLES} examples (got {MAX_EXAMPLES + 1})",
        ),
    ],
)
def test_bad_examples_are_load_errors(examples: object, problem: str) -> None:
    report = check_actions([_action("A", examples=examples)])
    assert report.errors == [f"<actions>: {problem}"]


def test_the_same_example_under_two_actions_is_an_error_naming_both() -> None:
    with pytest.raises(ActionConfigError) as caught:
        load_actions(
            [
                _action("Track_Order", examples=["Where is my order?"]),
                _action("Cancel_Order", examples=["where is my ORDER?", "cancel it"]),
            ]
        )
    assert str(caught.value).splitlines()[1:] == [
        "  - <actions>: Cancel_Order.examples: 'where is my ORDER?' is also an example of "
        "Track_Order; an example must stand for one action"
    ]


def test_an_example_written_twice_in_one_action_is_an_error() -> None:
    report = check_actions([_action("A", examples=["refund", "Refund"])])
    assert report.errors == ["<actions>: A.examples: 'Refund' is written twice"]


def test_fifty_examples_are_fine() -> None:
    [action] = load_actions([_action("A", examples=[f"m {i}" for i in range(MAX_EXAMPLES)])])
    assert len(action.examples) == MAX_EXAMPLES


def test_validate_shows_the_examples(tmp_path: Path) -> None:
    path = tmp_path / "actions.yaml"
    path.write_text(
        """
actions:
  - name: Track_Order
    when_to_use: Use this action when the visitor asks where their order is.
    method: GET
    url: https://api.example.com/orders
    examples: ["Where is my order?", "Has my parcel shipped?"]
  - name: Opening_Hours
    when_to_use: Use this action when the visitor asks when the shop is open.
    method: GET
    url: https://api.example.com/hours
""",
        encoding="utf-8",
    )
    code, out, _ = run_cli_streams("validate", str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [
        "examples: 2 for 1 of 2 action(s) (indexed by action selection)",
        "  Track_Order: 'Where is my order?'; 'Has my parcel shipped?'",
    ]
    # The most similar description pairs (one pair here), then the verdict.
    assert lines[2].startswith("most similar descriptions (by ")
    assert lines[3].startswith("  ") and " / " in lines[3]
    assert lines[4:] == [f"{path}: 2 action(s) OK, 0 warning(s)"]


def test_the_openapi_importer_writes_no_examples() -> None:
    from langchain_apiactions.importers import from_openapi

    spec = {
        "openapi": "3.0.0",
        "info": {"title": "Shop", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "Get an order",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "example": "A-1"}
                    ],
                }
            }
        },
    }
    [action] = from_openapi(spec)["actions"]
    assert "examples" not in action
    assert load_actions([action])[0].examples == ()
