"""The arguments of an action: the pydantic model the model fills, the checks on the values
it sends, and the words a refusal is said in.

Needs pydantic, not LangChain.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from typing import Annotated, Any, Optional

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import ArgumentError
from langchain_apiactions.numbers import number_as_text

__all__ = [
    "MAX_ARGUMENT_CHARS",
    "MAX_ARGUMENT_ITEMS",
    "args_json_schema",
    "build_args_schema",
    "check_argument",
    "describe_validation_error",
    "field_names",
    "format_validation_error",
    "refusal_message",
    "tool_description",
    "validation_problems",
]

# A number keeps integers exact (an id above 2**53 keeps its digits); the model sees
# the JSON schema type `number`.
# NaN and infinities are refused: no request ever carries them (`/nan`, `NaN` in JSON).
Number = Annotated[
    int | Annotated[float, Field(allow_inf_nan=False)], WithJsonSchema({"type": "number"})
]


# The model sees JSON schema `type: string`; a number it sends anyway is accepted as its
# text (real models often send ids as numbers: 12345.0 -> "12345"; true/false refused).
Text = Annotated[str, BeforeValidator(number_as_text)]
_TYPES: dict[str, Any] = {"text": Text, "number": Number, "date": dt.date}


def field_names(action: ApiAction) -> dict[str, str]:
    """Each input's attribute on the `build_args_schema` model: its own name, unless
    pydantic cannot take that name as a field (a leading underscore, as in json-server's
    `_page`, or a name of BaseModel's own such as `json` or `model_config`): then
    `input_N`, with the input's name as the field's alias (what the model sends and reads).
    """
    names = {i.name for i in action.inputs}
    out: dict[str, str] = {}
    for n, inp in enumerate(action.inputs, 1):
        name = inp.name
        if name.startswith(("_", "model_")) or hasattr(BaseModel, name):
            name = f"input_{n}"
            while name in names:
                name += "_"
        out[inp.name] = name
    return out


def build_args_schema(action: ApiAction) -> type[BaseModel]:
    """The pydantic model of the tool's arguments, generated from `inputs` (its
    attributes: `field_names`)."""
    fields: dict[str, Any] = {}
    attributes = field_names(action)
    for inp in action.inputs:
        base = _TYPES[inp.type]
        typ: Any = list[base] if inp.array else base  # type: ignore[valid-type]
        alias = inp.name if attributes[inp.name] != inp.name else None
        description = _input_description(inp)
        if inp.required:
            field = Field(description=description, alias=alias)
            fields[attributes[inp.name]] = (typ, field)
        else:
            field = Field(default=_default(inp), description=description, alias=alias)
            fields[attributes[inp.name]] = (Optional[typ], field)  # noqa: UP045
    model: type[BaseModel] = create_model(
        f"{action.name}_args",
        __config__=ConfigDict(extra="ignore"),
        __doc__=tool_description(action),
        **fields,
    )
    return model


_JSON_TYPES: dict[str, dict[str, str]] = {
    "text": {"type": "string"},
    "number": {"type": "number"},
    "date": {"format": "date", "type": "string"},
}


def tool_description(action: ApiAction) -> str:
    """What the model reads about when to call the action: its `when_to_use`, or a
    sentence naming the action when that is empty (or only white space)."""
    if action.when_to_use and action.when_to_use.strip():
        return action.when_to_use
    return f"Call the {action.name} API action."


def _default(inp: Any) -> Any:
    """An optional input's default as the model holds it (a date input's as dates)."""
    if inp.type != "date" or inp.default is None:
        return inp.default
    if inp.array:
        return [dt.date.fromisoformat(str(d)) for d in inp.default]
    return dt.date.fromisoformat(str(inp.default))


def _input_description(inp: Any) -> str:
    description: str = inp.description or inp.name.replace("_", " ")
    return description + " (a date, YYYY-MM-DD)" if inp.type == "date" else description


def args_json_schema(action: ApiAction) -> dict[str, Any]:
    """The JSON schema of the tool's arguments, as a model reads it: pydantic's own
    `build_args_schema(action).model_json_schema()`, key for key and in its order, with
    the action's name as title and the tool's description as written (pydantic would
    tidy it as a docstring). Made without building that pydantic model (a class per
    action costs ~8 KiB and ~0.7 ms; the tool builds it when it first validates).

    `tests/unit_tests/arguments/test_json_schema.py` checks it against pydantic's own
    output for generated actions, key order included.
    """
    from pydantic_core import to_jsonable_python

    properties: dict[str, Any] = {}
    required: list[str] = []
    for inp in action.inputs:
        typ: dict[str, Any] = dict(_JSON_TYPES[inp.type])
        if inp.array:
            typ = {"items": typ, "type": "array"}
        title = inp.name.title().replace("_", " ").strip()
        # Keys in pydantic's order (sorted; `properties` in the file's order).
        if inp.required:
            properties[inp.name] = dict(
                sorted({"description": _input_description(inp), **typ, "title": title}.items())
            )
            required.append(inp.name)
            continue
        properties[inp.name] = {
            "anyOf": [typ, {"type": "null"}],
            # As pydantic shows the default it made (a date as ISO text).
            "default": to_jsonable_python(_default(inp)),
            "description": _input_description(inp),
            "title": title,
        }
    schema: dict[str, Any] = {"description": tool_description(action)}
    schema["properties"] = properties
    if required:
        schema["required"] = required
    schema.update(title=action.name, type="object")
    return schema


_TYPE_WORDS = {
    "text": "should be text",
    "number": "should be a number",
    "date": "should be a date such as 2026-03-15",
}


def validation_problems(
    error: ValidationError, action: ApiAction | None = None
) -> list[tuple[str, str]]:
    """`(input, problem)` for each bad argument, said as a person would.

    Pydantic's own wording (`stars.int: Input should be a valid integer`, "Datetimes
    provided to dates should have zero time") is replaced by one phrase per input.
    """
    kinds = {i.name: i for i in action.inputs} if action is not None else {}
    found: dict[str, str] = {}
    for err in error.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else "arguments"
        index = next((x for x in loc[1:] if isinstance(x, int)), None)
        where = name if index is None else f"{name} (item {index + 1})"
        if where in found:
            continue  # a union reports each branch it tried; one phrase is enough
        kind = err.get("type", "")
        declared = kinds.get(name)
        got = err.get("input")
        if kind == "missing":
            problem = "is required"
        elif kind == "list_type":
            problem = "should be a list of values"
        elif kind == "finite_number":
            problem = "should be a finite number"
        elif declared is not None:
            problem = _TYPE_WORDS[declared.type]
        elif kind.startswith(("int_", "float_")):
            problem = _TYPE_WORDS["number"]
        elif kind.startswith(("date_", "datetime_")):
            problem = _TYPE_WORDS["date"]
        elif kind.startswith("string_"):
            problem = _TYPE_WORDS["text"]
        else:
            problem = str(err.get("msg", "is not valid")).rstrip(".")
            problem = problem[0].lower() + problem[1:] if problem else "is not valid"
        if kind != "missing" and got is not None:
            problem += f" (got {json.dumps(got, default=str, ensure_ascii=False)[:80]})"
        found[where] = problem
    return list(found.items())


def describe_validation_error(error: ValidationError, action: ApiAction | None = None) -> str:
    """Each bad argument and its problem in one line (`stars: should be a number ...`)."""
    return "; ".join(f"{where}: {problem}" for where, problem in validation_problems(error, action))


def format_validation_error(error: Any, action: ApiAction | None = None) -> str:
    """The message the model reads when its arguments were refused, so it can ask again."""
    return refusal_message(validation_problems(error, action))


def refusal_message(problems: Sequence[tuple[str, str]]) -> str:
    """The message the model reads for refused arguments (`(input, problem)` pairs)."""
    return (
        "The arguments could not be used: "
        + "; ".join(f"{where}: {problem}" for where, problem in problems)
        + ". Ask the visitor for the missing or invalid values, then call again."
    )


# Arguments longer than this are refused before any work is done with them (a
# 5-million-character value once took minutes to render and mask).
MAX_ARGUMENT_CHARS = 100_000
MAX_ARGUMENT_ITEMS = 1_000
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def check_argument(name: str, value: Any) -> None:
    """Refuse a value that could not be sent as text (lone surrogates) or is absurdly long.

    Raises:
        ArgumentError: naming the input and the problem.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) > MAX_ARGUMENT_ITEMS:
        msg = f"{name}: at most {MAX_ARGUMENT_ITEMS:,} values (got {len(items):,})"
        raise ArgumentError(msg)
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            msg = f"{name}: a number must be finite (got {item})"
            raise ArgumentError(msg)
        if not isinstance(item, str):
            continue
        if len(item) > MAX_ARGUMENT_CHARS:
            msg = f"{name}: at most {MAX_ARGUMENT_CHARS:,} characters (got {len(item):,})"
            raise ArgumentError(msg)
        if not item.isascii() and _SURROGATE_RE.search(item):
            msg = (
                f"{name}: the value contains an unpaired surrogate code point (\\ud800-"
                "\\udfff), which is not valid text; send plain Unicode text"
            )
            raise ArgumentError(msg)
