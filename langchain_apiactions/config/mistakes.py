"""Mistakes a new user makes that would otherwise load and fail later, or send wrong values.

`{{name}}` (Mustache braces, common in chatbot products) sends the value inside literal
braces; `${name}` where `name` is an input reads a secret that does not exist. Both are
found here, in the action's raw templates, and named with the spelling to use instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from langchain_apiactions.errors import Problem

if TYPE_CHECKING:  # the checks receive a validated action: for the type checker only
    from langchain_apiactions.config.models import ApiAction

__all__ = ["brace_mistakes", "path_like_examples"]

_MUSTACHE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_SECRET = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PATH_LIKE = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+$")


def brace_mistakes(action: ApiAction) -> list[Problem]:
    """`{{name}}` anywhere (an error; a warning in a JSON body) and `${input}`."""
    inputs = {i.name for i in action.inputs}
    problems: list[Problem] = []
    json_body = action.body_format == "json"
    for where, text in _templates(action):
        in_json = json_body and where.split(".")[0] == "body"
        for m in _MUSTACHE.finditer(text):
            name = m[1]
            message = (
                f"{{{{{name}}}}} has double braces (Mustache style), which would send the "
                f"value inside literal braces ({{value}}): write {{{name}}}"
            )
            if in_json:
                message += " unless the braces are meant to be sent"
            problems.append(Problem(where, message, warning=in_json))
        for m in _SECRET.finditer(text):
            if m[1] in inputs:
                problems.append(
                    Problem(
                        where,
                        f"${{{m[1]}}} reads a secret from the environment, but {m[1]} is "
                        f"an input: write {{{m[1]}}}",
                    )
                )
    return problems


def path_like_examples(raw: Any) -> list[Problem]:
    """A `response_fields: {name: a.b}` mapping whose value looks like a path, not an example."""
    if not isinstance(raw, Mapping):
        return []
    problems: list[Problem] = []
    for name, value in raw.items():
        if isinstance(value, str) and _PATH_LIKE.match(value):
            problems.append(
                Problem(
                    f"response_fields.{name}",
                    f"{value!r} is read as an example value, and it looks like a path: "
                    f"write {{{name}: {{path: {value}}}}} to extract it from there",
                    warning=True,
                )
            )
    return problems


def _templates(action: ApiAction) -> Iterator[tuple[str, str]]:
    """Every raw template string of `action`, with the field it is in."""
    yield "url", action.url
    for key, value in action.headers.items():
        yield f"headers.{key}", str(value)
    yield from _leaves("body", action.body)
    if action.button is not None:
        yield "button.url", action.button.url
        yield "button.label", action.button.label


def _leaves(where: str, node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(f"{where}.{key}", value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(f"{where}[{i}]", value)
