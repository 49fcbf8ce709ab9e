"""The JSON schema a model reads (`args_json_schema`, the tool's `args_schema`) is the one
pydantic makes of the validating model (`build_args_schema`), without building it."""

from __future__ import annotations

import json
import keyword
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions import ApiActionsToolkit, load_actions
from langchain_apiactions.arguments import (
    args_json_schema,
    build_args_schema,
    field_names,
    tool_description,
)

_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_TEXT = st.text(max_size=30)
_DAY = st.dates().map(lambda d: d.isoformat())
_NUMBER = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))


@st.composite
def _input(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "number", "date"]))
    array = draw(st.booleans())
    spec: dict[str, Any] = {"name": name, "type": kind, "array": array}
    if draw(st.booleans()):
        spec["description"] = draw(_TEXT)
    if draw(st.booleans()):
        spec["required"] = True
    elif draw(st.booleans()):
        one = {"text": _TEXT, "number": _NUMBER, "date": _DAY}[kind]
        spec["default"] = draw(st.lists(one, max_size=3) if array else one)
    return spec


@st.composite
def _action(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(_NAME, max_size=6, unique_by=str.lower))
    names = [n for n in names if n.lower() not in ("session_id", "context", "env")]
    spec: dict[str, Any] = {
        "name": draw(_NAME),
        "method": "POST",
        "url": "https://api.example.com/x",
        "inputs": [draw(_input(n)) for n in names],
    }
    if draw(st.booleans()):
        spec["when_to_use"] = draw(_TEXT)
    return spec


def _pydantic_tool(action: Any) -> StructuredTool:
    """The tool as it was built before: the pydantic model as its `args_schema`."""
    return StructuredTool(  # as from_action built it (from_function strips the text)
        func=lambda **_: None,
        name=action.name,
        description=tool_description(action),
        args_schema=build_args_schema(action),
    )


def _body(schema: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in schema.items() if k not in ("description", "title")})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_action())
def test_the_schema_is_pydantics_own_key_for_key(spec: dict[str, Any]) -> None:
    [action] = load_actions([spec])
    tool = ApiActionsToolkit(actions=[action]).get_tools()[0]
    got = tool.tool_call_schema
    assert isinstance(got, dict) and tool.args_schema == args_json_schema(action)
    # The validating model's own JSON schema, in the same key order, property names
    # included (an input pydantic cannot take as a field name is an alias there).
    assert _body(got) == _body(build_args_schema(action).model_json_schema())
    assert got["title"] == action.name and got["description"] == tool.description
    plain = all(k == v and not keyword.iskeyword(k) for k, v in field_names(action).items())
    if plain:
        # What a provider sends the model is what it was with the pydantic model as
        # `args_schema`, to the character. (LangChain's copy of a pydantic model left out
        # an input named like a Python keyword, `or`: the model never saw it; it does now.)
        old = _pydantic_tool(action)
        assert json.dumps(convert_to_openai_tool(tool)) == json.dumps(convert_to_openai_tool(old))


def test_the_validating_model_is_built_on_the_first_call_only() -> None:
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": "Lookup",
                "method": "GET",
                "url": "https://api.example.com/orders/{n}",
                "inputs": [{"name": "n", "required": True}],
            }
        ]
    )
    tool = tk.get_tools()[0]
    assert "args_schema" not in vars(tool.pipeline)  # not built with the tool
    convert_to_openai_tool(tool)
    assert "args_schema" not in vars(tool.pipeline)  # nor by binding it to a model
    assert tool.pipeline.parse({"n": 5}).values == {"n": "5"}
    assert "args_schema" in vars(tool.pipeline)


def test_inputs_named_like_pydantic_internals_are_sent_under_their_own_names() -> None:
    # json-server's `_page`, and names of BaseModel's own: the toolkit used to fail with
    # pydantic's "Fields must not use names with leading underscores".
    tk = ApiActionsToolkit(
        actions=[
            {
                "name": "List",
                "method": "GET",
                "url": "https://api.example.com/orders?_page={_page}&format={json}",
                "inputs": [
                    {"name": "_page", "type": "number", "required": True},
                    {"name": "json", "required": True},
                    {"name": "copy", "default": "x"},
                    {"name": "input_1"},
                ],
            }
        ]
    )
    tool = tk.get_tools()[0]
    schema = tool.tool_call_schema
    assert isinstance(schema, dict)
    assert list(schema["properties"]) == ["_page", "json", "copy", "input_1"]
    assert schema["required"] == ["_page", "json"]
    args = tool.pipeline.parse({"_page": 2, "json": "csv", "input_1": "y"})
    assert dict(args.values) == {"_page": 2, "json": "csv", "input_1": "y"}
    request = tool.prepare(args.values)
    assert request.url == "https://api.example.com/orders?_page=2&format=csv"
    refused = tool.invoke({"json": "csv"})
    assert refused.startswith("The arguments could not be used: _page: is required")


def test_an_input_named_like_a_python_keyword_is_offered_to_the_model() -> None:
    tool = ApiActionsToolkit(
        actions=[
            {
                "name": "Search",
                "method": "GET",
                "url": "https://api.example.com/search?from={from}",
                "inputs": [{"name": "from", "required": True}],
            }
        ]
    ).get_tools()[0]
    parameters = convert_to_openai_tool(tool)["function"]["parameters"]
    assert list(parameters["properties"]) == ["from"] and parameters["required"] == ["from"]
    assert tool.prepare({"from": "2026"}).url == "https://api.example.com/search?from=2026"
