"""OpenAPI 3.0/3.1 and Swagger 2.0 documents -> an action file, one action per operation.

`$ref`s are resolved with `referencing` (the JSON-reference library of python-jsonschema);
this module decides only which references to follow: local ones, each at most once on
the way down (a schema that contains itself is cut there).
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from langchain_apiactions.errors import ImportSpecError
from langchain_apiactions.importers._common import (
    ImportedAction,
    ImportResult,
    NameBook,
    action_name,
    clean_text,
    expanded_size,
    input_name,
    is_credential,
)

__all__ = ["import_openapi"]

METHODS = ("get", "put", "post", "patch", "delete")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_RESPONSE_FIELDS = 10
MAX_BODY_INPUTS = 40
MAX_BODY_DEPTH = 4
MANY_ACTIONS = 20
# What one import may expand (a small hostile document must not take minutes or memory).
MAX_SCHEMA_VISITS = 200_000  # schema nodes flattened; Kubernetes' 1,065 operations: ~35,000
MAX_DOCUMENT_VALUES = 2_000_000  # values once YAML aliases are expanded; Kubernetes: ~84,000
_SCALARS = ("string", "integer", "number", "boolean")
_URI = "urn:apiactions:openapi-document"
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_PLAIN_SEGMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_JMESPATH_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SKIPPED_HEADERS = {"accept", "content-type", "authorization", "content-length", "host"}
_SKIP = object()

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _SpecLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as OpenAPI means it: `yes`/`no`/`on` stay text, dates stay text."""


_SpecLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# --------------------------------------------------------------------------- reading


def _load(spec: Any) -> tuple[dict[str, Any], str]:
    """The document as a dict, and a name for messages."""
    if isinstance(spec, Mapping):
        _check_expansion(spec, "<openapi>")
        return dict(spec), "<openapi>"
    if _is_path(spec):
        name = str(spec)
        try:
            text = Path(spec).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            msg = f"{name}: file not found"
            raise ImportSpecError(msg) from None
        except (OSError, UnicodeDecodeError) as e:
            msg = f"{name}: cannot read the file ({e})"
            raise ImportSpecError(msg) from None
        return _parse(text, name), name
    if isinstance(spec, str):
        return _parse(spec, "<openapi>"), "<openapi>"
    msg = "from_openapi: expected a path, YAML/JSON text or a mapping"
    raise ImportSpecError(msg)


def _is_path(spec: Any) -> bool:
    return isinstance(spec, Path) or (
        isinstance(spec, str)
        and "\n" not in spec
        and not spec.lstrip().startswith("{")
        and (spec.lower().endswith((".yaml", ".yml", ".json")) or Path(spec).is_file())
    )


def _check_expansion(doc: Any, name: str) -> None:
    """YAML aliases share one value many times: 772 bytes of `&a`/`*a` once expanded to
    1.4 GB as the importer copied `const` values out. JSON has no sharing."""
    size = expanded_size(doc)
    if size > MAX_DOCUMENT_VALUES:
        what = "refers to itself" if size == sys.maxsize else f"expands to {size:,} values"
        msg = (
            f"{name}: the document {what} through YAML aliases (`*name`); at most "
            f"{MAX_DOCUMENT_VALUES:,} values are imported"
        )
        raise ImportSpecError(msg)


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        if text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_SpecLoader)  # noqa: S506 (a safe loader subclass)
    except json.JSONDecodeError as e:
        msg = f"{name}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        raise ImportSpecError(msg) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        msg = f"{name}: not valid YAML{where}: {getattr(e, 'problem', None) or e}"
        raise ImportSpecError(msg) from None
    if not isinstance(data, dict):
        msg = f"{name}: an OpenAPI document is a mapping (with `openapi:` or `swagger:`)"
        raise ImportSpecError(msg)
    if not text.lstrip().startswith("{"):
        _check_expansion(data, name)
    return data


def _version(doc: Mapping[str, Any], name: str) -> tuple[int, str]:
    if str(doc.get("swagger", "")).startswith("2"):
        return 2, f"Swagger {doc['swagger']}"
    version = str(doc.get("openapi", ""))
    if version.startswith("3."):
        return 3, f"OpenAPI {version}"
    msg = (
        f"{name}: not an OpenAPI 3.x or Swagger 2.0 document "
        "(no `openapi: 3.x` or `swagger: '2.0'` at the top)"
    )
    raise ImportSpecError(msg)


# --------------------------------------------------------------------------- references


class _Document:
    """The document with its references resolved on demand (and remembered)."""

    def __init__(self, doc: dict[str, Any], name: str, warnings: list[str]) -> None:
        try:
            from referencing import Registry, Resource
        except ModuleNotFoundError as e:  # pragma: no cover - the `import` extra is missing
            msg = "importing OpenAPI needs: pip install 'langchain-apiactions[import]'"
            raise ImportSpecError(msg) from e

        self.doc = doc
        self.name = name
        self.warnings = warnings
        resource: Resource[Any] = Resource.opaque(doc)
        self._resolver = Registry().with_resource(_URI, resource).resolver(base_uri=_URI)
        self._cache: dict[str, Any] = {}
        self.visits = 0
        # Flat schemas by reference: for any way there, and by (reference, way there).
        self._shared: dict[str, tuple[dict[str, Any], frozenset[str]]] = {}
        self._by_way: dict[
            tuple[str, frozenset[str]], tuple[dict[str, Any], frozenset[str]] | None
        ] = {}
        self._frames: list[tuple[frozenset[str], list[bool]]] = []

    def lookup(self, ref: str) -> Any:
        if ref in self._cache:
            return self._cache[ref]
        from referencing.exceptions import Unresolvable

        target: Any = None
        if not ref.startswith("#"):
            self._warn(f"$ref {ref!r} points outside the document; not followed")
        else:
            try:
                target = self._resolver.lookup(ref).contents
            except Unresolvable:
                self._warn(f"$ref {ref!r} points nowhere in the document; left out")
        self._cache[ref] = target
        return target

    def _warn(self, text: str) -> None:
        line = f"{self.name}: {text}"
        if line not in self.warnings:
            self.warnings.append(line)

    def deref(self, node: Any, seen: frozenset[str] = frozenset()) -> tuple[Any, frozenset[str]]:
        """Follow a chain of `$ref`s; None where it loops or points nowhere."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                self._cut(ref)
                return None, seen
            seen = seen | {ref}
            target = self.lookup(ref)
            if not isinstance(target, Mapping):
                return None, seen
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if siblings else target
        return node, seen

    def schema(
        self, node: Any, seen: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], frozenset[str]] | None:
        """A schema with `$ref`s followed, `allOf` merged, one branch of `oneOf`/`anyOf`.

        Returns the flat schema and the references on the way to it (children of a schema
        that mention one of those again are cut), or None (a cycle, or nothing there).

        Each reference is flattened once: `allOf` chains of shared `$ref`s once took
        minutes (every branch re-resolved). The result of a reference is kept for any
        later caller when it did not depend on the caller's way there (no cycle through
        it was cut), else for callers with the same way there; what a hostile document
        can still make the importer visit is capped at `MAX_SCHEMA_VISITS`.
        """
        self._step(1)
        ref = node.get("$ref") if isinstance(node, Mapping) and len(node) == 1 else None
        if not isinstance(ref, str) or ref in seen:
            return self._flatten(node, seen)
        shared = self._shared.get(ref)
        if shared is not None and not (shared[1] & seen):
            return shared[0], seen | shared[1]
        key = (ref, seen)
        if key in self._by_way:
            return self._by_way[key]
        self._frames.append((seen, [False]))
        try:
            result = self._flatten(node, seen)
        finally:
            _, dirty = self._frames.pop()
        self._by_way[key] = result
        if result is not None and not dirty[0]:
            self._shared[ref] = (result[0], result[1] - seen)
        return result

    def _step(self, work: int) -> None:
        """Count the work of flattening (a node visited, the keys an `allOf` merges)."""
        self.visits += work
        if self.visits > MAX_SCHEMA_VISITS:
            msg = (
                f"{self.name}: the document's schemas expand past {MAX_SCHEMA_VISITS:,} "
                "steps (`$ref`/`allOf` chains that multiply); not imported (if the document "
                "is simply large, import fewer operations with --operations)"
            )
            raise ImportSpecError(msg)

    def _cut(self, ref: str) -> None:
        """A cycle cut at `ref`: results of the frames whose way there holds it depend on
        that way (frames further in have larger ways, so they come first)."""
        for way, dirty in reversed(self._frames):
            if ref not in way:
                break
            dirty[0] = True

    def _flatten(
        self, node: Any, seen: frozenset[str]
    ) -> tuple[dict[str, Any], frozenset[str]] | None:
        node, seen = self.deref(node, seen)
        if not isinstance(node, Mapping):
            return None
        out: dict[str, Any] = dict(node)
        if isinstance(out.get("allOf"), list):
            branches = out.pop("allOf")
            merged: dict[str, Any] = {}
            props: dict[str, Any] = {}
            required: list[Any] = []
            seen_all = seen
            for branch in branches:
                resolved = self.schema(branch, seen)
                if resolved is None:
                    continue
                sub, sub_seen = resolved
                seen_all |= sub_seen
                props.update(sub.get("properties") or {})
                required += sub.get("required") or []
                self._step(len(sub) + len(sub.get("properties") or {}))
                for key, value in sub.items():
                    if key not in ("properties", "required"):
                        merged.setdefault(key, value)
            props.update(out.pop("properties", None) or {})
            required += out.pop("required", None) or []
            out = {**merged, **out}
            if props:
                out["properties"] = props
                out.setdefault("type", "object")
            if required:
                out["required"] = list(dict.fromkeys(required))
            seen = seen_all
        for key in ("oneOf", "anyOf"):
            branches = out.get(key)
            if isinstance(branches, list) and not out.get("properties"):
                for branch in branches:
                    resolved = self.schema(branch, seen)
                    if resolved is None:
                        continue
                    sub, sub_seen = resolved
                    if _type_of(sub) == "null" or sub.get("enum") == [""]:
                        continue
                    rest = {k: v for k, v in out.items() if k not in ("oneOf", "anyOf")}
                    out = {**sub, **rest, "x-apiactions-choice": True}
                    seen = sub_seen
                    break
        out["type"] = _type_of(out)
        return out, seen


def _type_of(schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if isinstance(t, str):
        return t
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        first = enum[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, (int, float)):
            return "number"
        return "string"
    if "const" in schema:
        return "string" if isinstance(schema["const"], str) else None
    return None


# --------------------------------------------------------------------------- inputs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _input(
    name: str,
    schema: Mapping[str, Any],
    doc: _Document,
    *,
    required: bool,
    description: Any = None,
    example: Any = None,
) -> dict[str, Any]:
    """An input for a value of `schema` (type, description with enum values, default)."""
    t = schema.get("type")
    item = schema
    array = False
    if t == "array":
        array = True
        resolved = doc.schema(schema.get("items"))
        item = resolved[0] if resolved else {}
        t = item.get("type")
    fmt = item.get("format")
    kind = "number" if t in ("integer", "number") else "text"
    if t == "string" and fmt == "date":
        kind = "date"
    text = clean_text(description, 300) or clean_text(
        schema.get("description") or item.get("description") or schema.get("title"), 300
    )
    extra: list[str] = []
    enum = item.get("enum")
    if isinstance(enum, list) and enum:
        values = ", ".join(_text(v) for v in enum[:20] if v is not None)
        extra.append(f"One of: {values}{', …' if len(enum) > 20 else ''}.")
    elif t == "boolean":
        extra.append("true or false.")
    if fmt == "date-time":
        extra.append("An ISO 8601 date-time.")
    if array:
        extra.append("A list.")
    if example is None:
        example = schema.get("example", item.get("example"))
    if isinstance(example, (str, int, float)) and not isinstance(example, bool) and not enum:
        shown = _text(example)
        if 0 < len(shown) <= 60:
            extra.append(f"Example: {shown}.")
    default = _default(schema.get("default"), kind, array)
    if required and default is not None:
        extra.append(f"Default: {_text(default) if not array else ', '.join(map(_text, default))}.")
    entry: dict[str, Any] = {"name": name, "type": kind}
    if text and extra and not text.endswith((".", "!", "?", "…", ":")):
        text += "."
    description_text = " ".join([text, *extra]).strip()
    if description_text:
        entry["description"] = description_text
    if required:
        entry["required"] = True
    if array:
        entry["array"] = True
    if default is not None and not required:
        entry["default"] = default
    return entry


def _default(value: Any, kind: str, array: bool) -> Any:
    if value is None:
        return None
    if array:
        if not isinstance(value, list):
            return None
        items = [_default(v, kind, False) for v in value]
        return items if all(i is not None for i in items) else None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                return float(str(value)) if "." in str(value) else int(str(value))
            except ValueError:
                return None
        return value
    if isinstance(value, (list, dict)):
        return None
    text = _text(value)
    if kind == "date" and not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return None
    return text


# --------------------------------------------------------------------------- one operation


class _Operation:
    """Builds one action from one operation."""

    def __init__(
        self,
        importer: _Importer,
        method: str,
        path: str,
        path_item: Mapping[str, Any],
        op: Mapping[str, Any],
    ) -> None:
        self.imp = importer
        self.doc = importer.document
        self.method = method.upper()
        self.path = path
        self.path_item = path_item
        self.op = op
        self.taken: set[str] = set()
        self.inputs: list[dict[str, Any]] = []
        self.action = ImportedAction({}, f"{self.method} {path}")

    def build(self, names: set[str]) -> ImportedAction:
        op = self.op
        a = self.action
        op_id = op.get("operationId")
        if isinstance(op_id, str) and op_id:
            a.origin += f" (operationId {op_id})"
        name = action_name(op_id if isinstance(op_id, str) else None, self.method, self.path, names)
        a.data["name"] = name
        if isinstance(op_id, str) and op_id and name != op_id:
            a.note("name", f"operationId {op_id!r} made a legal, unique tool name.")
        self._when_to_use()
        a.data["method"] = self.method
        url, headers = self._parameters()
        body = self._body()
        a.data["url"] = url
        if self.inputs:
            a.data["inputs"] = self.inputs
        self._security(headers)
        if headers:
            a.data["headers"] = headers
        if body is not None:
            a.data.update(body)
        self._response_fields()
        if self.method in WRITE_METHODS or op.get("x-openai-isConsequential") is True:
            a.data["confirm"] = True
            why = (
                "x-openai-isConsequential"
                if self.method not in WRITE_METHODS
                else f"{self.method} changes data"
            )
            a.note("confirm", f"{why}: the agent asks the visitor before calling.")
        if op.get("deprecated") is True:
            a.note("", "DEPRECATED in the API document.")
        return a

    # ---------------------------------------------------------------- description
    def _when_to_use(self) -> None:
        summary = clean_text(self.op.get("summary"))
        description = clean_text(self.op.get("description"), 1000)
        if summary and description and description.lower().startswith(summary.lower()):
            summary = ""
        parts = [
            p if p.endswith((".", "!", "?", "…")) else p + "." for p in (summary, description) if p
        ]
        text = " ".join(parts)
        if not text:
            text = f"Calls {self.method} {self.path}."
            self.action.note(
                "when_to_use",
                "TODO: no summary or description in the document: say when the model should "
                "use this action (it picks actions by this text).",
            )
            self.imp.warnings.append(
                f"{self.imp.name}: {self.method} {self.path}: no summary or description; "
                "write a when_to_use"
            )
        self.action.data["when_to_use"] = text

    # ---------------------------------------------------------------- parameters
    def _params(self) -> list[dict[str, Any]]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in list(self.path_item.get("parameters") or []) + list(
            self.op.get("parameters") or []
        ):
            p, _ = self.doc.deref(raw)
            if (
                isinstance(p, Mapping)
                and isinstance(p.get("name"), str)
                and isinstance(p.get("in"), str)
            ):
                merged[(p["in"], p["name"])] = dict(p)
        return list(merged.values())

    def _param_schema(self, p: Mapping[str, Any]) -> dict[str, Any]:
        if self.imp.version == 2:
            resolved = self.doc.schema(
                {k: v for k, v in p.items() if k not in ("name", "in", "required", "description")}
            )
        else:
            node = p.get("schema")
            content = p.get("content")
            if node is None and isinstance(content, Mapping) and content:
                first = next(iter(content.values()))
                node = first.get("schema") if isinstance(first, Mapping) else None
            resolved = self.doc.schema(node)
        return resolved[0] if resolved else {}

    def _parameters(self) -> tuple[str, dict[str, str]]:
        params = self._params()
        by_in: dict[str, list[dict[str, Any]]] = {}
        for p in params:
            by_in.setdefault(p["in"], []).append(p)
        # path
        declared = {p["name"]: p for p in by_in.get("path", [])}
        path_names: dict[str, str] = {}

        def path_var(m: re.Match[str]) -> str:
            raw = m.group(1)
            if raw not in path_names:
                name = input_name(raw, self.taken)
                path_names[raw] = name
                p = declared.get(raw, {})
                self.inputs.append(
                    _input(
                        name,
                        self._param_schema(p),
                        self.doc,
                        required=True,
                        description=p.get("description"),
                        example=p.get("example"),
                    )
                )
            return "{" + path_names[raw] + "}"

        # Literal text is percent-encoded, so nothing in a document's path reads as a
        # placeholder, a `${SECRET}`, a query or a fragment.
        pieces = re.split(r"(\{[^{}/]+\})", self.path)
        path = "".join(
            path_var(m) if (m := re.fullmatch(r"\{([^{}/]+)\}", piece)) else _quote_path(piece)
            for piece in pieces
        )
        if not path.startswith("/"):  # `@evil.example/x` joined bare would change the host
            path = "/" + path
        url = self.imp.base_url(self.path_item, self.op) + path
        # query (a credential is the auth block's or a `${SECRET}`, never an input)
        by_auth = self._auth_parameters()
        pairs: list[str] = []
        for p in by_in.get("query", []):
            if ("query", p["name"].lower()) in by_auth:
                continue
            if is_credential(p["name"], "query"):
                pairs.append(f"{_quote_key(p['name'])}={self._credential(p['name'], 'url')}")
                continue
            pairs += self._query_pairs(p)
        if pairs:
            url += ("&" if "?" in url else "?") + "&".join(pairs)
        # headers
        headers: dict[str, str] = {}
        for p in by_in.get("header", []):
            header = p["name"]
            if header.lower() in _SKIPPED_HEADERS or not _HEADER_NAME_RE.match(header):
                continue
            if header.lower() == "idempotency-key":
                # The library sends one key for every attempt of the same call.
                self.action.data["idempotency_key"] = True
                self.action.note(
                    "idempotency_key",
                    f"The API documents the {header} header: one key is sent for every "
                    "attempt of the same call (not an input).",
                )
                continue
            if ("header", header.lower()) in by_auth:
                continue
            if is_credential(header, "header"):
                headers[header] = self._credential(header, "headers")
                continue
            schema = self._param_schema(p)
            if not p.get("required") and schema.get("default") is None:
                self.action.note(
                    "headers",
                    f"Optional header {header} left out (an empty value would be sent); add it "
                    "with an input if the visitor should set it.",
                )
                continue
            name = input_name(header, self.taken)
            self.inputs.append(
                _input(
                    name,
                    schema,
                    self.doc,
                    required=bool(p.get("required")),
                    description=p.get("description"),
                    example=p.get("example"),
                )
            )
            headers[header] = "{" + name + "}"
        for p in by_in.get("cookie", []):
            self.action.note(
                "url", f"Cookie parameter {p['name']} left out (cookies are not imported)."
            )
        return url, headers

    def _query_pairs(self, p: Mapping[str, Any]) -> list[str]:
        schema = self._param_schema(p)
        required = bool(p.get("required"))
        if schema.get("type") == "object" and isinstance(schema.get("properties"), Mapping):
            deep = p.get("style") == "deepObject"
            pairs = []
            for prop, sub in list(schema["properties"].items())[:10]:
                resolved = self.doc.schema(sub)
                if resolved is None or resolved[0].get("type") not in (*_SCALARS, None):
                    continue
                key = f"{p['name']}[{prop}]" if deep else str(prop)
                name = input_name(str(prop), self.taken, prefix=p["name"] if deep else "")
                self.inputs.append(_input(name, resolved[0], self.doc, required=False))
                pairs.append(f"{_quote_key(key)}={{{name}}}")
            return pairs
        if schema.get("type") == "object":
            self.action.note("url", f"Query parameter {p['name']} (a free-form object) left out.")
            return []
        name = input_name(p["name"], self.taken)
        entry = _input(
            name,
            schema,
            self.doc,
            required=required,
            description=p.get("description"),
            example=p.get("example"),
        )
        self.inputs.append(entry)
        if entry.get("array"):
            repeated = (
                p.get("collectionFormat") == "multi"
                if self.imp.version == 2
                else p.get("explode", p.get("style", "form") == "form") is True
                and p.get("style", "form") == "form"
            )
            if repeated:
                self.action.note(
                    "inputs",
                    f"{name}: the API document sends a list as repeated `{p['name']}=` keys; "
                    "actions send it comma-separated. Check that the API accepts that.",
                )
        return [f"{_quote_key(p['name'])}={{{name}}}"]

    # ---------------------------------------------------------------- body
    def _body(self) -> dict[str, Any] | None:
        if self.method == "GET":
            return None
        media, schema_node, encoding, _required = self._body_source()
        if media is None:
            return None
        resolved = self.doc.schema(schema_node)
        if resolved is None:
            self.action.note("body", f"The {media} request body has no usable schema; add a body.")
            return None
        schema, seen = resolved
        form = media == "form"
        builder = _BodyBuilder(self, form=form, encoding=encoding)
        body = builder.build(schema, seen)
        if body is None:
            return None
        out: dict[str, Any] = {}
        if form:
            out["body_format"] = "form"
        out["body"] = body
        optional = builder.optional
        note = "One placeholder per property of the request schema."
        if optional:
            sent = "left out" if form else "sent as null"
            note += (
                f" Optional values the visitor does not give are {sent}: delete the ones "
                "you do not need."
            )
        self.action.note("body", note)
        for text in builder.notes:
            self.action.note("body", text)
        return out

    def _body_source(self) -> tuple[str | None, Any, Mapping[str, Any], bool]:
        """(`json` | `form` | None, the schema node, form encodings, required)."""
        if self.imp.version == 2:
            params = self._params()
            consumes = self.op.get("consumes") or self.imp.document.doc.get("consumes") or []
            body = next((p for p in params if p["in"] == "body"), None)
            if body is not None:
                return "json", body.get("schema"), {}, bool(body.get("required"))
            fields = [p for p in params if p["in"] == "formData"]
            if not fields:
                return None, None, {}, False
            if any(p.get("type") == "file" for p in fields) or (
                consumes and not any("x-www-form-urlencoded" in c for c in consumes)
            ):
                self.action.note("body", "A multipart (file upload) body is not imported.")
                return None, None, {}, False
            schema = {
                "type": "object",
                "properties": {
                    p["name"]: {k: v for k, v in p.items() if k not in ("name", "in", "required")}
                    for p in fields
                },
                "required": [p["name"] for p in fields if p.get("required")],
            }
            return "form", schema, {}, True
        rb, _ = self.doc.deref(self.op.get("requestBody"))
        if not isinstance(rb, Mapping):
            return None, None, {}, False
        content = rb.get("content") or {}
        if not isinstance(content, Mapping):
            return None, None, {}, False
        for mime, media in content.items():
            base = str(mime).split(";")[0].strip().lower()
            if base == "application/json" or base.endswith("+json") or base == "*/*":
                return "json", _media_schema(media), {}, bool(rb.get("required"))
        for mime, media in content.items():
            if str(mime).split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
                encoding = media.get("encoding") if isinstance(media, Mapping) else None
                return "form", _media_schema(media), encoding or {}, bool(rb.get("required"))
        kinds = ", ".join(str(m) for m in content)
        if kinds:
            self.action.note(
                "body", f"Request body ({kinds}) not imported: only JSON and form bodies are."
            )
        return None, None, {}, False

    # ---------------------------------------------------------------- response
    def _response_fields(self) -> None:
        responses = self.op.get("responses") or {}
        if not isinstance(responses, Mapping):
            return
        codes = sorted(
            (str(c) for c in responses if str(c).startswith("2")), key=lambda c: (c != "200", c)
        )
        for code in codes:
            resp, _ = self.doc.deref(
                responses.get(code, responses.get(int(code) if code.isdigit() else code))
            )
            if not isinstance(resp, Mapping):
                continue
            node = resp.get("schema") if self.imp.version == 2 else None
            if self.imp.version == 3:
                content = resp.get("content") or {}
                for mime, media in content.items() if isinstance(content, Mapping) else []:
                    base = str(mime).split(";")[0].strip().lower()
                    if base == "application/json" or base.endswith("+json") or base == "*/*":
                        node = _media_schema(media)
                        break
            resolved = self.doc.schema(node)
            if resolved is None:
                continue
            fields = _scalar_fields(self.doc, *resolved)
            if fields:
                self.action.data["response_fields"] = fields
                self.action.note(
                    "response_fields",
                    f"Guessed from the {code} response schema (scalar properties, at most "
                    f"{MAX_RESPONSE_FIELDS}): keep only what the model needs to answer.",
                )
                return
        self.action.note(
            "response_fields",
            "No JSON response schema: the whole body reaches the model. Call it once "
            "(`apiactions call`) and declare response_fields.",
        )

    # ---------------------------------------------------------------- security
    def _credential(self, name: str, key: str) -> str:
        secret = self.imp.book.secret(name)
        self.action.note(
            key, f"{name} carries a credential: the secret ${{{secret}}}, not an input."
        )
        return "${" + secret + "}"

    def _requirement(self) -> Mapping[str, Any] | None:
        """The first security requirement of the operation whose schemes all exist."""
        requirements = (
            self.op["security"] if "security" in self.op else self.imp.document.doc.get("security")
        )
        if not isinstance(requirements, list):
            return None
        for req in requirements:
            if isinstance(req, Mapping) and req and all(n in self.imp.schemes for n in req):
                return req
        return None

    def _auth_parameters(self) -> set[tuple[str, str]]:
        """(in, lower-case name) of the API keys the operation's security sends."""
        chosen = self._requirement() or {}
        out = set()
        for name in chosen:
            scheme = self.imp.schemes[name]
            if _scheme_kind(scheme) == "api_key":
                out.add(
                    (str(scheme.get("in", "header")).lower(), str(scheme.get("name", "")).lower())
                )
        return out

    def _security(self, headers: dict[str, str]) -> None:
        chosen = self._requirement()
        if chosen is None:
            return
        first = True
        for scheme_name, scopes in chosen.items():
            auth = self.imp.auth_for(scheme_name, scopes if isinstance(scopes, list) else [])
            if auth is None:
                self.action.note(
                    "auth",
                    f"Security scheme {scheme_name} is not supported; add its credentials by hand.",
                )
                continue
            if first:
                self.action.data["auth"] = auth
                first = False
            elif auth.get("type") == "api_key" and auth.get("in") == "header":
                headers[str(auth["name"])] = str(auth["value"])
            else:
                self.action.note(
                    "auth",
                    f"Also required by the API: security scheme {scheme_name}; add it by hand.",
                )


class _BodyBuilder:
    """A body template from a request schema: one placeholder per leaf property."""

    def __init__(self, operation: _Operation, *, form: bool, encoding: Mapping[str, Any]) -> None:
        self.op = operation
        self.form = form
        self.encoding = encoding
        self.notes: list[str] = []
        self.optional = False
        self.count = 0
        self.dropped: list[str] = []

    def build(self, schema: dict[str, Any], seen: frozenset[str]) -> Any:
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping):
            what = schema.get("type") or "untyped"
            self.op.action.note(
                "body",
                f"The request body is {what}, not an object with properties: write it by hand.",
            )
            return None
        body = self._object(schema, seen, [], True, 0)
        if self.dropped:
            self.notes.append(
                f"Left out (more than {MAX_BODY_INPUTS} values): "
                + ", ".join(self.dropped[:20])
                + ("…" if len(self.dropped) > 20 else "")
            )
        return body

    def _object(
        self,
        schema: Mapping[str, Any],
        seen: frozenset[str],
        path: list[str],
        required: bool,
        depth: int,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        needed = set(map(str, schema.get("required") or []))
        for key, node in (schema.get("properties") or {}).items():
            key = str(key)
            where = ".".join([*path, key])
            if not key or "{" in key or "}" in key:
                self.notes.append(
                    f"{where!r}: a property name an action file cannot hold; left out."
                )
                continue
            resolved = self.op.doc.schema(node, seen)
            if resolved is None:
                self.notes.append(f"{where}: a schema that contains itself; cut here.")
                continue
            sub, sub_seen = resolved
            if sub.get("readOnly") is True:
                continue
            is_required = required and key in needed
            value = self._value(key, sub, sub_seen, [*path, key], is_required, depth + 1)
            if value is _SKIP:
                continue
            if self.form and isinstance(value, dict):
                deep = (
                    isinstance(self.encoding.get(path[0] if path else key), Mapping)
                    and self.encoding[path[0] if path else key].get("style") == "deepObject"
                )
                for sub_key, sub_value in value.items():
                    out[f"{key}[{sub_key}]" if deep or sub_key in out else sub_key] = sub_value
                continue
            out[key] = value
        return out

    def _value(
        self,
        key: str,
        schema: dict[str, Any],
        seen: frozenset[str],
        path: list[str],
        required: bool,
        depth: int,
    ) -> Any:
        where = ".".join(path)
        t = schema.get("type")
        if "const" in schema:
            const = schema["const"]
            if isinstance(const, str) and ("{" in const or "}" in const):
                self.notes.append(f"{where}: a fixed value with braces; left out.")
                return _SKIP
            return const
        if t == "object":
            if not isinstance(schema.get("properties"), Mapping) or not schema["properties"]:
                self.notes.append(f"{where}: a free-form object; left out.")
                return _SKIP
            if depth > MAX_BODY_DEPTH:
                self.notes.append(f"{where}: nested too deep; left out.")
                return _SKIP
            nested = self._object(schema, seen, path, required, depth)
            return nested if nested else _SKIP
        if t == "array":
            items = self.op.doc.schema(schema.get("items"), seen)
            item_type = items[0].get("type") if items else None
            if items and item_type == "object":
                if self.form or not required:
                    self.notes.append(f"{where}: a list of objects; left out (add items by hand).")
                    return _SKIP
                self.notes.append(f"{where}: a list of objects; the template sends one item.")
                inner = self._object(items[0], items[1], path, True, depth)
                return [inner] if inner else _SKIP
            if item_type not in (*_SCALARS, None) or item_type == "array":
                self.notes.append(f"{where}: a list of lists; left out.")
                return _SKIP
        if t == "boolean" and not self.form:
            default = schema.get("default")
            if isinstance(default, bool):
                self.notes.append(
                    f"{where}: a boolean, kept at its default {str(default).lower()}."
                )
                return default
            if not required:
                self.notes.append(
                    f"{where}: an optional boolean; left out (inputs are text, number or date)."
                )
                return _SKIP
            self.notes.append(
                f"{where}: a boolean, sent as the text true/false; check the API accepts it."
            )
        if self.count >= MAX_BODY_INPUTS:
            self.dropped.append(where)
            return _SKIP
        self.count += 1
        if len(path) > 1:  # a nested leaf is named after its parent: category_name
            name = input_name(key, self.op.taken, prefix=path[-2])
        elif key in self.op.taken:
            name = input_name(key, self.op.taken, prefix="body")
        else:
            name = input_name(key, self.op.taken)
        entry = _input(name, schema, self.op.doc, required=required)
        if not required:
            self.optional = True
        self.op.inputs.append(entry)
        return "{" + name + "}"


def _media_schema(media: Any) -> Any:
    return media.get("schema") if isinstance(media, Mapping) else None


def _quote_key(key: str) -> str:
    return urllib.parse.quote(key, safe="-._~!'()*+,;:@/")


def _quote_path(text: str) -> str:
    return urllib.parse.quote(text, safe="/-._~!&'()*+,;=:@%")


def _path_expr(parts: Sequence[str]) -> str:
    # All plain: a plain dotted name (`estimated-delivery` included). Otherwise the path
    # is JMESPath, where only identifiers stand unquoted (`_-` must be quoted too).
    if all(_PLAIN_SEGMENT_RE.match(p) for p in parts):
        return ".".join(parts)
    return ".".join(p if _JMESPATH_IDENTIFIER_RE.match(p) else json.dumps(p) for p in parts)


def _scalar_fields(
    doc: _Document, schema: dict[str, Any], seen: frozenset[str]
) -> list[dict[str, Any]]:
    if schema.get("type") == "array":
        items = doc.schema(schema.get("items"), seen)
        if items is None:
            return []
        schema, seen = items
    if schema.get("type") != "object":
        return []
    fields: list[dict[str, Any]] = []
    names: set[str] = set()
    queue: list[tuple[list[str], dict[str, Any], frozenset[str]]] = [([], schema, seen)]
    while queue and len(fields) < MAX_RESPONSE_FIELDS:
        path, node, node_seen = queue.pop(0)
        for key, sub in (node.get("properties") or {}).items():
            resolved = doc.schema(sub, node_seen)
            if resolved is None or resolved[0].get("writeOnly") is True:
                continue
            sub_schema, sub_seen = resolved
            if not str(key):
                continue
            parts = [*path, str(key)]
            if sub_schema.get("type") in _SCALARS:
                name = (
                    str(key)
                    if str(key) not in names and _PLAIN_SEGMENT_RE.match(str(key))
                    else "_".join(parts)
                )
                name = re.sub(r"[^A-Za-z0-9_\-]", "_", name)
                while name in names:
                    name += "_"
                names.add(name)
                field: dict[str, Any] = {"name": name}
                expr = _path_expr(parts)
                if expr != name:
                    field["path"] = expr
                example = sub_schema.get("example")
                if isinstance(example, (str, int, float, bool)) and len(str(example)) <= 60:
                    field["example"] = example
                fields.append(field)
                if len(fields) >= MAX_RESPONSE_FIELDS:
                    break
            elif sub_schema.get("type") == "object" and len(path) < 2:
                queue.append((parts, sub_schema, sub_seen))
    return fields


# --------------------------------------------------------------------------- the document


class _Importer:
    def __init__(self, doc: dict[str, Any], name: str, base_url: str | None) -> None:
        self.name = name
        self.version, self.label = _version(doc, name)
        self.warnings: list[str] = []
        self.document = _Document(doc, name, self.warnings)
        self._base_url = base_url.rstrip("/") if base_url else None
        info: Mapping[str, Any] = doc["info"] if isinstance(doc.get("info"), Mapping) else {}
        self.title = clean_text(info.get("title")) or "API"
        self.api_version = clean_text(info.get("version"))
        words = re.findall(r"[A-Za-z0-9]+", self.title)
        self.book = NameBook(
            "_".join(w for w in words[:3] if w.lower() not in ("api", "the")) or "API"
        )
        raw_schemes = (
            doc.get("securityDefinitions")
            if self.version == 2
            else (doc.get("components") or {}).get("securitySchemes")
        )
        self.schemes: dict[str, dict[str, Any]] = {}
        for key, value in (raw_schemes or {}).items() if isinstance(raw_schemes, Mapping) else []:
            resolved, _ = self.document.deref(value)
            if isinstance(resolved, Mapping):
                self.schemes[str(key)] = dict(resolved)
        self._auth_cache: dict[tuple[str, tuple[str, ...]], dict[str, Any] | None] = {}
        self._server_cache: dict[int, str] = {}

    def operations(self) -> list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
        paths = self.document.doc.get("paths") or {}
        out = []
        for path, raw_item in paths.items() if isinstance(paths, Mapping) else []:
            item, _ = self.document.deref(raw_item)
            if not isinstance(item, Mapping):
                continue
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, Mapping):
                    out.append((method.upper(), str(path), item, op))
        return out

    def base_url(self, path_item: Mapping[str, Any], op: Mapping[str, Any]) -> str:
        if self._base_url:
            return self._base_url
        if self.version == 2:
            key = 0
            if key not in self._server_cache:
                doc = self.document.doc
                schemes = [str(s).lower() for s in doc.get("schemes") or []]
                scheme = "https" if "https" in schemes or not schemes else schemes[0]
                host = doc.get("host")
                if not host:
                    msg = (
                        f"{self.name}: the document names no host; pass the API's address "
                        "with --base-url (base_url=), e.g. --base-url https://api.example.com"
                        f"{str(doc.get('basePath') or '').rstrip('/')}"
                    )
                    raise ImportSpecError(msg)
                self._server_cache[key] = (
                    f"{scheme}://{host}{str(doc.get('basePath') or '').rstrip('/')}"
                )
            return self._server_cache[key]
        servers = (
            op.get("servers")
            or path_item.get("servers")
            or self.document.doc.get("servers")
            or [{"url": "/"}]
        )
        server = (
            servers[0]
            if isinstance(servers, list) and servers and isinstance(servers[0], Mapping)
            else {"url": "/"}
        )
        key = id(server)
        if key not in self._server_cache:
            url = str(server.get("url") or "/")
            variables = server.get("variables") or {}

            def fill(m: re.Match[str]) -> str:
                spec = variables.get(m.group(1)) if isinstance(variables, Mapping) else None
                if isinstance(spec, Mapping):
                    if spec.get("default") is not None:
                        return str(spec["default"])
                    enum = spec.get("enum")
                    if isinstance(enum, list) and enum:
                        return str(enum[0])
                var = m.group(1)
                msg = f"{self.name}: server URL {url!r}: {{{var}}} has no default; pass --base-url"
                raise ImportSpecError(msg)

            filled = re.sub(r"\{([^{}]+)\}", fill, url).rstrip("/")
            if re.search(r"[${}\s]", filled):
                msg = f"{self.name}: server URL {url!r} is not a plain URL; pass --base-url"
                raise ImportSpecError(msg)
            if not re.match(r"^https?://[^/]", filled, re.IGNORECASE):
                msg = (
                    f"{self.name}: the server URL {url!r} is relative (or missing); pass the "
                    f"API's address with --base-url (base_url=), e.g. --base-url https://api.example.com{filled}"
                )
                raise ImportSpecError(msg)
            self._server_cache[key] = filled
        return self._server_cache[key]

    def auth_for(self, scheme_name: str, scopes: Sequence[str]) -> dict[str, Any] | None:
        key = (scheme_name, tuple(str(s) for s in scopes))
        if key not in self._auth_cache:
            self._auth_cache[key] = self._make_auth(scheme_name, self.schemes[scheme_name], scopes)
        return self._auth_cache[key]

    def _secret(self, scheme_name: str, kind: str, what: str) -> str:
        same_kind = [n for n, s in self.schemes.items() if _scheme_kind(s) == kind]
        parts = [scheme_name, what] if len(same_kind) > 1 else [what]
        return "${" + self.book.secret(*parts) + "}"

    def _make_auth(
        self, scheme_name: str, scheme: Mapping[str, Any], scopes: Sequence[str]
    ) -> dict[str, Any] | None:
        kind = _scheme_kind(scheme)
        if kind == "basic":
            return {
                "type": "basic",
                "username": self._secret(scheme_name, kind, "username"),
                "password": self._secret(scheme_name, kind, "password"),
            }
        if kind == "bearer":
            return {"type": "bearer", "token": self._secret(scheme_name, kind, "token")}
        if kind == "api_key":
            where = str(scheme.get("in", "header")).lower()
            name = str(scheme.get("name") or "X-API-Key")
            if where == "header" and name.lower() == "authorization":
                return {"type": "bearer", "token": self._secret(scheme_name, kind, "token")}
            return {
                "type": "api_key",
                "in": where,
                "name": name,
                "value": self._secret(scheme_name, kind, "api_key"),
            }
        if kind == "oauth2":
            flows = _oauth_flows(scheme, self.version)
            if "clientCredentials" in flows:
                flow = flows["clientCredentials"]
                auth: dict[str, Any] = {
                    "type": "oauth2_client_credentials",
                    "token_url": str(flow.get("tokenUrl") or ""),
                    "client_id": self._secret(scheme_name, kind, "client_id"),
                    "client_secret": self._secret(scheme_name, kind, "client_secret"),
                }
                if scopes:
                    auth["scope"] = " ".join(str(s) for s in scopes)
                if not auth["token_url"].lower().startswith(("http://", "https://")):
                    return None
                return auth
            return {"type": "bearer", "token": self._secret(scheme_name, kind, "access_token")}
        if kind == "openid":
            return {"type": "bearer", "token": self._secret(scheme_name, kind, "access_token")}
        return None


def _scheme_kind(scheme: Mapping[str, Any]) -> str:
    t = str(scheme.get("type", "")).lower()
    if t == "basic" or (t == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
        return "basic"
    if t == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return "bearer"
    if t == "apikey":
        return "api_key"
    if t == "oauth2":
        return "oauth2"
    if t == "openidconnect":
        return "openid"
    return t or "unknown"


def _oauth_flows(scheme: Mapping[str, Any], version: int) -> dict[str, Mapping[str, Any]]:
    if version == 2:
        flow = str(scheme.get("flow", ""))
        name = {"application": "clientCredentials", "accessCode": "authorizationCode"}.get(
            flow, flow
        )
        return {name: scheme}
    flows = scheme.get("flows") or {}
    return (
        {str(k): v for k, v in flows.items() if isinstance(v, Mapping)}
        if isinstance(flows, Mapping)
        else {}
    )


def _select(
    ops: list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]],
    wanted: str | Iterable[str] | None,
    name: str,
) -> list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    if wanted is None:
        return ops
    items = [
        w.strip() for w in (wanted.split(",") if isinstance(wanted, str) else wanted) if w.strip()
    ]
    by_id = {
        str(op.get("operationId")): i
        for i, (_, _, _, op) in enumerate(ops)
        if op.get("operationId")
    }
    by_route = {f"{m} {p}": i for i, (m, p, _, _) in enumerate(ops)}
    chosen: list[int] = []
    unknown: list[str] = []
    for item in items:
        method, _, path = item.partition(" ")
        route = f"{method.upper()} {path.strip()}" if path else None
        index = by_id.get(item, by_route.get(route) if route else None)
        if index is None:
            unknown.append(item)
        elif index not in chosen:
            chosen.append(index)
    if unknown:
        known = list(by_id) + list(by_route)
        hints = []
        for item in unknown:
            close = difflib.get_close_matches(item, known, n=3)
            hints.append(f"{item!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        msg = (
            f"{name}: no operation " + "; ".join(hints) + " (use an operationId or 'METHOD /path')"
        )
        raise ImportSpecError(msg)
    if not chosen:
        msg = f"{name}: --operations named no operation"
        raise ImportSpecError(msg)
    return [ops[i] for i in sorted(chosen)]


def import_openapi(
    spec: Any,
    operations: str | Iterable[str] | None = None,
    base_url: str | None = None,
) -> ImportResult:
    """Import an OpenAPI 3.0/3.1 or Swagger 2.0 document (path, YAML/JSON text or mapping).

    Args:
        spec: the document.
        operations: operationIds or `"METHOD /path"` entries (a list, or comma-separated).
        base_url: the API's address, replacing the document's servers (or host/basePath).

    Raises:
        ImportSpecError: the document cannot be read, names no server, or `operations`
            names an operation it does not have.
    """
    if base_url is not None and not re.match(r"^https?://[^/]", base_url, re.IGNORECASE):
        msg = f"base URL {base_url!r} is not an absolute http(s) URL"
        raise ImportSpecError(msg)
    try:
        result, name = _import(spec, operations, base_url)
    except RecursionError:
        # json's decoder, PyYAML's emitter and deep `==` recurse: a document nested
        # hundreds of thousands of levels ends here, as any bad document does.
        where = spec if isinstance(spec, (str, Path)) and _is_path(spec) else "<openapi>"
        msg = f"{where}: nested too deep to import (thousands of levels)"
        raise ImportSpecError(msg) from None
    result.check_size(name)
    return result


def _import(
    spec: Any, operations: str | Iterable[str] | None, base_url: str | None
) -> tuple[ImportResult, str]:
    doc, name = _load(spec)
    imp = _Importer(doc, name, base_url)
    ops = _select(imp.operations(), operations, name)
    if not ops:
        msg = f"{name}: the document has no operations (paths) to import"
        raise ImportSpecError(msg)
    taken: set[str] = set()
    actions = [_Operation(imp, m, p, item, op).build(taken) for m, p, item, op in ops]
    result = ImportResult(actions=actions, warnings=imp.warnings)
    auths = [a.data.get("auth") for a in actions]
    if auths and auths[0] is not None and all(x == auths[0] for x in auths):
        result.defaults["auth"] = auths[0]
        for a in actions:
            a.data.pop("auth")
            a.notes.pop("auth", None)
    result.secrets = list(imp.book.names)
    head = f"Imported from {name}: {imp.title}"
    if imp.api_version:
        head += f" {imp.api_version}"
    result.header = [
        f"{head} ({imp.label}), {len(actions)} action(s), by `apiactions import openapi`.",
        "Curate before use: each when_to_use is what the model picks actions by; delete the",
        "inputs and response fields you do not need; then `apiactions validate` this file and",
        "measure the choices with `apiactions eval FILE CASES`.",
    ]
    if result.secrets:
        result.header.append("Secrets to set in the environment: " + ", ".join(result.secrets))
    if operations is None and len(actions) > MANY_ACTIONS:
        warning = (
            f"{name}: {len(actions)} actions: a model chooses badly among many tools; import "
            "only the ones your assistant needs (--operations ID,ID or 'METHOD /path') and "
            "measure the choices with `apiactions eval`"
        )
        result.warnings.append(warning)
        result.header.append(
            f"WARNING: {len(actions)} actions. A model chooses badly among many tools: keep the "
            "few your assistant needs (--operations) and check with `apiactions eval`."
        )
    return result, name
