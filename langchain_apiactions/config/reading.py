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

__all__ = ["TEXT_SOURCE", "YAML_LOADER", "load_yaml", "read_source"]

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


class _NotPlain(Exception):
    """What the lean reader leaves to `YAML_LOADER`: a tag, an anchor or alias, a merge key,
    a complex or duplicate key, a second document, a syntax error, deep nesting."""


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _lean_load(text: str) -> Any:
    """`yaml.load(text, Loader=YAML_LOADER)` for the plain YAML action files are made of.

    libyaml's parser gives the events; the values are built straight from them, plain
    scalars resolved by YAML_LOADER's own resolver and constructors (so `yes`, `010`, `~`,
    dates mean what they mean to PyYAML), each distinct plain scalar once. No node tree is
    kept, so the garbage collector has ~100k fewer objects to walk while a file loads
    (walking them cost more than building the values). Anything else raises `_NotPlain`,
    and the loader itself reads the text (for its value or its error and line number).
    """
    from yaml import _yaml, events

    loader = YAML_LOADER
    if (
        loader.yaml_implicit_resolvers is not yaml.resolver.Resolver.yaml_implicit_resolvers
        or loader.yaml_path_resolvers
        or loader.yaml_constructors is not yaml.constructor.SafeConstructor.yaml_constructors
    ):
        raise _NotPlain  # someone changed how the loader reads: let it read
    resolvers = loader.yaml_implicit_resolvers
    constructors = loader.yaml_constructors
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    plain: dict[str, Any] = {}  # plain scalar text -> its value (all immutable)
    scalar_event = events.ScalarEvent
    mapping_start, mapping_end = events.MappingStartEvent, events.MappingEndEvent
    sequence_start, sequence_end = events.SequenceStartEvent, events.SequenceEndEvent
    alias = events.AliasEvent

    def resolve(value: str) -> Any:
        tag = resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        if tag == _STR_TAG:
            out: Any = value
        else:
            construct = constructors.get(tag)
            if construct is None or tag == _MERGE_TAG:
                raise _NotPlain
            out = construct(constructor, yaml.ScalarNode(tag, value))
        plain[value] = out
        return out

    parser = _yaml.CParser(text)
    get = parser.get_event

    def build(event: Any) -> Any:
        kind = type(event)
        if kind is alias or event.tag is not None or event.anchor is not None:
            raise _NotPlain
        if kind is scalar_event:
            value: str = event.value
            if event.implicit[0] and (not value or value[0] in resolvers):
                return plain[value] if value in plain else resolve(value)
            return value
        if kind is mapping_start:
            mapping: dict[Any, Any] = {}
            while (key_event := get()).__class__ is not mapping_end:
                if key_event.__class__ is not scalar_event:
                    raise _NotPlain
                key = build(key_event)
                if key in mapping:
                    raise _NotPlain  # the loader words the duplicate key, with its line
                mapping[key] = build(get())
            return mapping
        if kind is sequence_start:
            items: list[Any] = []
            add = items.append
            while (item := get()).__class__ is not sequence_end:
                add(build(item))
            return items
        raise _NotPlain

    try:
        get()  # the stream's start
        first = get()
        if type(first) is events.StreamEndEvent:
            return None
        data = build(get())
        get()  # the document's end
        if type(get()) is not events.StreamEndEvent:
            raise _NotPlain  # a second document: the loader's error
    except (yaml.YAMLError, RecursionError):
        raise _NotPlain from None
    return data


def load_yaml(text: str) -> Any:
    """`text` read as `yaml.load(text, Loader=YAML_LOADER)` reads it, duplicate keys
    refused; the lean reader first when libyaml is there (about 5x faster)."""
    if YAML_LOADER is not _SafeLoader:
        try:
            return _lean_load(text)
        except _NotPlain:
            pass
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)


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
        return load_yaml(text), name, []
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
