"""The args schema the model sees, generated from `inputs`."""

from __future__ import annotations

import datetime as dt

from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions import ApiActionsToolkit

ACTION = {
    "name": "Book_Table",
    "when_to_use": "Use when the visitor wants to book a table; ask for the day and party size.",
    "method": "POST",
    "url": "https://api.example.com/bookings",
    "inputs": [
        {"name": "day", "type": "date", "required": True, "description": "Day of the booking"},
        {"name": "guests", "type": "number", "required": True, "description": "Party size"},
        {"name": "names", "type": "text", "array": True, "description": "Guest names"},
        {
            "name": "seating",
            "type": "text",
            "default": "indoor",
            "description": "indoor or outdoor",
        },
        {"name": "note", "description": "Anything else"},
        {"name": "alt_days", "type": "date", "array": True},
    ],
    "body": {"day": "{day}", "guests": "{guests}"},
}


def _tool():  # type: ignore[no-untyped-def]
    return ApiActionsToolkit(actions=[ACTION]).get_tools()[0]


def test_tool_name_description_and_schema() -> None:
    tool = _tool()
    assert tool.name == "Book_Table"
    assert tool.description == ACTION["when_to_use"]
    schema = convert_to_openai_tool(tool)["function"]
    assert schema["name"] == "Book_Table"
    assert schema["description"] == ACTION["when_to_use"]
    params = schema["parameters"]
    assert sorted(params["required"]) == ["day", "guests"]
    props = params["properties"]
    assert props["day"] == {
        "description": "Day of the booking (a date, YYYY-MM-DD)",
        "format": "date",
        "type": "string",
    }
    assert props["guests"] == {"description": "Party size", "type": "number"}
    assert props["names"]["anyOf"][0] == {"items": {"type": "string"}, "type": "array"}
    assert props["seating"]["default"] == "indoor"
    assert props["note"]["description"] == "Anything else"
    assert {"type": "string", "format": "date"}.items() <= props["alt_days"]["anyOf"][0][
        "items"
    ].items()


def test_arguments_are_parsed_and_integers_kept_exact() -> None:
    tool = _tool()
    model = tool.pipeline.args_schema  # the model reads args_schema, this validates
    parsed = model.model_validate({"day": "2026-03-15", "guests": "12345678901234567890"})
    assert parsed.day == dt.date(2026, 3, 15)  # type: ignore[attr-defined]
    assert parsed.guests == 12345678901234567890  # type: ignore[attr-defined]
    assert model.model_validate({"day": "2026-03-15", "guests": 2.5}).guests == 2.5  # type: ignore[attr-defined]


def test_openai_strict_schema_is_accepted() -> None:
    fn = convert_to_openai_tool(_tool(), strict=True)["function"]
    assert fn["strict"] is True
    params = fn["parameters"]
    assert params["additionalProperties"] is False
    assert sorted(params["required"]) == sorted(params["properties"])
