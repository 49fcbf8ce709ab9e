"""Response extraction: JMESPath field paths, array bodies, bounding and suggestions."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

__all__ = [
    "MAX_DEPTH",
    "FieldPath",
    "clean_json",
    "compile_path",
    "extract_fields",
    "suggest_paths",
    "truncate_text",
]

# A segment of a "plain dotted name": anything JMESPath would read as an operator is out.
# `@name` (an XML attribute, see bodies.py) is plain too; a lone `@` stays JMESPath.
_PLAIN_SEGMENT = re.compile(r"^(?:@(?=[A-Za-z_]))?[^.\[\]{}()|*@&!=<>'\"`,:?\\]+$")
MAX_ITEMS = 10
# Deeper parts of a response are cut: recursive walkers (JMESPath, LangGraph's msgpack
# checkpointer at ~260 levels, Python's recursion limit at ~1000) fail on them, and no
# real answer a model should read is nested this deep.
MAX_DEPTH = 64
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class FieldPath:
    """One expected response field, compiled."""

    name: str
    path: str
    expression: Any  # jmespath.parser.ParsedResult, or None for a plain dotted name
    segments: tuple[str, ...] = ()

    @property
    def plain(self) -> bool:
        """A plain dotted name (walked directly), not a JMESPath expression."""
        return self.expression is None

    def search(self, body: Any) -> Any:
        if self.expression is not None:
            return self.expression.search(body)
        # A plain dotted name is the JMESPath `"a"."b"."c"`: each quoted field of an
        # object, null as soon as a step is not an object. Walked directly, it skips
        # parsing thousands of such paths at load time.
        node = body
        for segment in self.segments:
            if not isinstance(node, dict):
                return None
            node = node.get(segment)
        return node


@functools.lru_cache(maxsize=4096)
def compile_path(name: str, path: str | None = None) -> FieldPath:
    """Compile a field path; a plain dotted name has its segments quoted as needed.

    Raises:
        ValueError: when the path is neither a plain dotted name nor valid JMESPath.
    """
    text = path if path is not None else name
    segments = text.split(".")
    if text and all(_PLAIN_SEGMENT.match(s) and s.strip() == s for s in segments):
        return FieldPath(name=name, path=text, expression=None, segments=tuple(segments))
    try:
        compiled = jmespath.compile(text)
    except JMESPathError as e:
        msg = f"{text!r} is not a valid JMESPath expression ({str(e).splitlines()[0]})"
        raise ValueError(msg) from None
    return FieldPath(name=name, path=text, expression=compiled)


def extract_fields(
    body: Any, fields: list[FieldPath], *, max_items: int | None = None
) -> tuple[Any, list[str]]:
    """Return `(data, missing_fields)` for a parsed JSON body.

    A JSON array body with only plain dotted paths is read element by element:
    `{"items": [...at most 10 (or max_items)], "count": N}`. A field is missing when its
    value is null (in every element, for an array body).
    """
    if isinstance(body, list) and fields and all(f.plain for f in fields):
        items = [
            {f.name: f.search(el) if isinstance(el, dict) else None for f in fields}
            for el in body[: max_items or MAX_ITEMS]
        ]
        missing = [f.name for f in fields if all(item[f.name] is None for item in items)]
        return {"items": items, "count": len(body)}, missing
    data = {f.name: f.search(body) for f in fields}
    missing = [name for name, value in data.items() if value is None]
    return data, missing


def _clean_text(text: str) -> str:
    # A lone surrogate (valid JSON `"\\ud800"`) cannot be encoded as UTF-8: the next
    # model call would crash on it.
    if text.isascii():
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def clean_json(value: Any, *, max_depth: int = MAX_DEPTH) -> tuple[Any, bool]:
    """A parsed JSON value made safe to hand on: returns `(value, was_cut)`.

    Containers nested deeper than `max_depth` are replaced by a short text saying so,
    and lone surrogates in strings and keys become U+FFFD. Walks with an explicit stack,
    so a deep body never hits Python's recursion limit.
    """
    cut = False

    def leaf(node: Any) -> Any:
        return _clean_text(node) if isinstance(node, str) else node

    if not isinstance(value, (dict, list)):
        return leaf(value), cut
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    marker = f"[cut: nested deeper than {max_depth} levels]"
    while stack:
        src, dst, depth = stack.pop()
        items = src.items() if isinstance(src, dict) else enumerate(src)
        for k, v in items:
            if isinstance(v, (dict, list)):
                if depth >= max_depth:
                    new: Any = marker
                    cut = True
                else:
                    new = {} if isinstance(v, dict) else []
                    stack.append((v, new, depth + 1))
            else:
                new = leaf(v)
            if isinstance(dst, dict):
                dst[_clean_text(k) if isinstance(k, str) else k] = new
            else:
                dst.append(new)
    return root, cut


def truncate_text(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters with a visible marker saying how much was cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"{text[:limit]}… [truncated: {cut} more characters]"


def suggest_paths(body: Any, field: str, *, limit: int = 5) -> list[str]:
    """Paths in `body` whose last key matches the last segment of `field` (any case)."""
    target = field.split(".")[-1].strip('"').lower()
    found: list[str] = []

    def walk(node: Any, prefix: str, depth: int) -> None:
        if len(found) >= limit or depth > 50:
            return
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                if str(key).lower() == target:
                    found.append(path)
                walk(value, path, depth + 1)
        elif isinstance(node, list) and node:
            walk(node[0], f"{prefix}[0]", depth + 1)

    walk(body, "", 0)
    return found
