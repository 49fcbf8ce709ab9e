"""Reading an action source (a path, YAML/JSON text, a dict or a list) into plain data.

Never raises: a file that cannot be read or parsed comes back as error lines naming the
file, and where in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["TEXT_SOURCE", "YAML_LOADER", "read_source"]

TEXT_SOURCE = "<actions>"


def read_source(source: Any) -> tuple[Any, str, list[str]]:
    """Return (data, source name, errors)."""
    if isinstance(source, Path) or (
        isinstance(source, str)
        and "\n" not in source
        and source.strip().lower().endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(source)
        name = str(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, name, [f"{name}: file not found"]
        except (OSError, UnicodeDecodeError) as e:
            return None, name, [f"{name}: cannot read the file ({e})"]
        return _parse_text(text, name)
    if isinstance(source, str):
        return _parse_text(source, TEXT_SOURCE)
    if isinstance(source, (Mapping, list, tuple)):
        return source, TEXT_SOURCE, []
    return None, TEXT_SOURCE, [f"{TEXT_SOURCE}: expected a path, YAML/JSON text, a dict or a list"]


class _UniqueKeys:
    """Duplicate keys are an error: PyYAML keeps the last one silently, so a second `url:`
    (say, from text an importer wrote) would win without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` keys may be overridden, as YAML intends
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the constructor words that error
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep)  # type: ignore[misc,no-any-return]


class _SafeLoader(_UniqueKeys, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, duplicate keys refused."""


# libyaml's loader when PyYAML was built with it: ~9x faster than the pure-Python one,
# with the same safe constructor.
YAML_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    type("_CSafeLoader", (_UniqueKeys, yaml.CSafeLoader), {})
    if hasattr(yaml, "CSafeLoader")
    else _SafeLoader
)


class _DuplicateKeyError(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKeyError
    return out


def _parse_text(text: str, name: str) -> tuple[Any, str, list[str]]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs), name, []
        except _DuplicateKeyError:
            pass  # the YAML reader below names the key and its line
        except json.JSONDecodeError as e:
            if name.endswith(".json"):
                return (
                    None,
                    name,
                    [f"{name}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"],
                )
    try:
        return yaml.load(text, Loader=YAML_LOADER), name, []  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        pass
    # A broken file: the pure-Python loader words the problem better and points at it
    # the same way on every machine (with libyaml or without).
    try:
        return yaml.load(text, Loader=_SafeLoader), name, []  # noqa: S506 (a safe loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        return None, name, [f"{name}: not valid YAML{where}: {problem}"]
