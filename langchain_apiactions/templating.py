"""Rendering requests from templates: URL, JSON body and headers.

Every template is parsed once, at load time, into literal parts, input placeholders
(`{name}`) and secrets (`${NAME}`). Rendering is a single pass over those parts, so a
value that contains `{other}` stays literal, and each value is encoded for the place it
lands in (a path segment, a query value, a JSON string, a JSON value, a header), so no
value from the conversation can change the URL's scheme, host, port, path structure or
query keys, add a header, or change the shape of the JSON body.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Union

from pydantic import SecretStr

from langchain_apiactions.errors import ArgumentError, Problem
from langchain_apiactions.numbers import number_text
from langchain_apiactions.redact import MASK

__all__ = [
    "BodyTemplate",
    "FormTemplate",
    "HeaderTemplate",
    "Rendered",
    "RenderedHeaders",
    "UrlTemplate",
    "json_value",
    "text_value",
]

# A placeholder names an input, a built-in, or (in a button) a response field, whose
# name may have dots and dashes (`{confirmation.code}`, `{estimated-delivery}`).
# `{context.NAME}` and `${context.NAME}` are trusted values from the application (the
# run's context), never from the model; they parse as a `Var` / `Secret` whose name
# starts with `context.`.
CONTEXT_PREFIX = "context."
_VAR_NAME = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*"
_REF_NAME = r"(?:context\.)?[A-Za-z_][A-Za-z0-9_]*"
PLACEHOLDER_RE = re.compile(r"\{(" + _VAR_NAME + r")\}")
SECRET_RE = re.compile(r"\$\{(" + _REF_NAME + r")\}")
_TOKEN_RE = re.compile(r"\$\{(?P<secret>" + _REF_NAME + r")\}|\{(?P<var>" + _VAR_NAME + r")\}")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FORBIDDEN_HEADER_CHARS = ("\r", "\n", "\x00")
# Headers that route or frame the request: written out in the file, never templated.
FIXED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class Lit:
    """Literal text, kept as written."""

    text: str


@dataclass(frozen=True)
class Var:
    """An input placeholder `{name}`; `in_string` matters only in JSON text bodies."""

    name: str
    in_string: bool = True


@dataclass(frozen=True)
class Secret:
    """A secret `${NAME}` from the environment."""

    name: str


Part = Union[Lit, Var, Secret]  # noqa: UP007 (a runtime alias on Python 3.10)
Values = Mapping[str, Any]
SecretValues = Mapping[str, Union[str, SecretStr]]  # noqa: UP007


def text_value(value: Any, *, sep: str = ", ") -> str:
    """The text form of an input or field value (integral numbers without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return sep.join(text_value(v) for v in value)
    if isinstance(value, (dict,)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def json_value(value: Any) -> Any:
    """The JSON form of a value (dates as ISO text, integral floats as integers)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def tokenize(text: str, known: Iterable[str]) -> tuple[tuple[Part, ...], list[str]]:
    """Split `text` into parts; returns the parts and the unknown `{x}` names seen.

    An unknown `{x}` stays literal (GraphQL braces, say); the caller decides whether
    that is an error (URL, headers) or a warning (body).
    """
    known_set = set(known)
    parts: list[Part] = []
    unknown: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        name = m.group("var")
        if name is not None and name not in known_set and not is_context(name):
            unknown.append(name)
            continue
        if m.start() > pos:
            parts.append(Lit(text[pos : m.start()]))
        if name is not None:
            parts.append(Var(name))
        else:
            parts.append(Secret(m.group("secret")))
        pos = m.end()
    if pos < len(text):
        parts.append(Lit(text[pos:]))
    return _merge_literals(parts), unknown


def _merge_literals(parts: Sequence[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for p in parts:
        if isinstance(p, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + p.text)
        else:
            merged.append(p)
    return tuple(merged)


def is_context(name: str) -> bool:
    """True for a trusted-context name (`context.NAME`)."""
    return name.startswith(CONTEXT_PREFIX)


def secrets_in(parts: Iterable[Part]) -> list[str]:
    """Names of the `${NAME}` secrets from the environment (not `${context.NAME}`)."""
    return [p.name for p in parts if isinstance(p, Secret) and not is_context(p.name)]


def context_in(parts: Iterable[Part]) -> list[str]:
    """Names (without `context.`) of the trusted-context values the parts use."""
    return [
        p.name[len(CONTEXT_PREFIX) :]
        for p in parts
        if isinstance(p, (Var, Secret)) and is_context(p.name)
    ]


def vars_in(parts: Iterable[Part]) -> list[str]:
    return [p.name for p in parts if isinstance(p, Var)]


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class Rendered(NamedTuple):
    """One rendered text in its two forms, made in one pass over the template's parts.

    `sent` goes on the wire. `shown` is what the artifact, events, logs and the CLI show:
    a secret (`${NAME}`, `${context.NAME}`) as `***`, a trusted value `{context.NAME}` as
    written, everything else as sent.
    """

    sent: str
    shown: str


class RenderedHeaders(NamedTuple):
    """Header values as sent and as shown (same names, same order)."""

    sent: dict[str, str]
    shown: dict[str, str]


def _shown_var(name: str) -> str:
    return "{" + name + "}"


def is_private(parts: Iterable[Part]) -> bool:
    """Whether the shown form of `parts` differs from the sent one (a secret or context)."""
    return any(isinstance(p, Secret) or (isinstance(p, Var) and is_context(p.name)) for p in parts)


def _render_parts(
    parts: Sequence[Part],
    values: Values,
    secrets: SecretValues | None,
    encode_var: Callable[[Any], str],
    encode_secret: Callable[[str], str],
) -> Rendered:
    sent: list[str] = []
    shown: list[str] = []
    for p in parts:
        if isinstance(p, Lit):
            sent.append(p.text)
            shown.append(p.text)
        elif isinstance(p, Var):
            text = encode_var(values.get(p.name))
            sent.append(text)
            shown.append(_shown_var(p.name) if is_context(p.name) else text)
        else:
            sent.append(MASK if secrets is None else encode_secret(_reveal(secrets[p.name])))
            shown.append(MASK)
    return Rendered("".join(sent), "".join(shown))


# --------------------------------------------------------------------------- URL


def _quote_all(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _encode_path_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_quote_all(text_value(v)) for v in value)
    return _quote_all(text_value(value))


_encode_query_value = _encode_path_value


@dataclass(frozen=True)
class UrlTemplate:
    """A URL split into origin, path segments, query pairs and fragment."""

    origin: tuple[Part, ...]
    segments: tuple[tuple[Part, ...], ...]
    query: tuple[tuple[str, str, tuple[Part, ...]], ...]
    fragment: str
    source: str

    @classmethod
    def parse(
        cls, url: str, known: Iterable[str], *, field: str = "url"
    ) -> tuple[UrlTemplate | None, list[Problem]]:
        problems: list[Problem] = []
        known = set(known)
        m = re.match(
            r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<netloc>[^/?#]*)(?P<rest>.*)$", url
        )
        if m is None:
            problems.append(Problem(field, f"{url!r} is not an absolute http(s) URL"))
            return None, problems
        scheme = m.group("scheme")
        netloc = m.group("netloc")
        if PLACEHOLDER_RE.search(scheme) or SECRET_RE.search(scheme):
            problems.append(Problem(field, "a placeholder cannot set the URL scheme"))
        elif scheme.lower() not in ("http", "https"):
            problems.append(Problem(field, f"scheme {scheme!r} is not http or https"))
        host_part = SECRET_RE.sub("", netloc)
        if PLACEHOLDER_RE.search(host_part):
            problems.append(
                Problem(
                    field,
                    "a placeholder cannot set the URL host or port "
                    "(inputs from the conversation never choose where a request goes)",
                )
            )
        if not netloc:
            problems.append(Problem(field, "the URL has no host"))
        rest = m.group("rest")
        fragment = ""
        if "#" in rest:
            rest, fragment = rest.split("#", 1)
        query_text = ""
        if "?" in rest:
            rest, query_text = rest.split("?", 1)
        path = rest

        origin, _ = tokenize(f"{scheme}://{netloc}", ())
        segments: list[tuple[Part, ...]] = []
        unknown: list[str] = []
        for seg in path.split("/")[1:] if path.startswith("/") else ([path] if path else []):
            parts, unk = tokenize(seg, known)
            unknown += unk
            segments.append(parts)
        query: list[tuple[str, str, tuple[Part, ...]]] = []
        if query_text:
            for pair in query_text.split("&"):
                key, sep, value = pair.partition("=")
                if PLACEHOLDER_RE.search(key) or SECRET_RE.search(key):
                    problems.append(
                        Problem(field, f"query key {key!r}: a placeholder cannot name a query key")
                    )
                    continue
                parts, unk = tokenize(value, known)
                unknown += unk
                query.append((key, sep, parts))
        for name in unknown:
            problems.append(Problem(field, f"placeholder {{{name}}} is not a declared input"))
        return cls(origin, tuple(segments), tuple(query), fragment, url), problems

    @functools.cached_property
    def has_secrets(self) -> bool:
        """Whether a `${...}` appears: if not, the shown form is the sent one."""
        return any(isinstance(p, Secret) for p in self.all_parts())

    def all_parts(self) -> list[Part]:
        parts: list[Part] = list(self.origin)
        for seg in self.segments:
            parts += seg
        for _, _, value in self.query:
            parts += value
        return parts

    def path_vars(self) -> list[str]:
        return [name for seg in self.segments for name in vars_in(seg)]

    def render(self, values: Values, secrets: SecretValues | None) -> str:
        """The URL as sent; `secrets=None`: as shown (secrets as `***`)."""
        pair = self.render_pair(values, secrets)
        return pair.shown if secrets is None else pair.sent

    def render_pair(self, values: Values, secrets: SecretValues | None) -> Rendered:
        """The URL as sent and as shown, in one pass (`secrets=None`: both masked).

        Raises:
            ArgumentError: a value cannot be a path segment (`.`, `..`, empty).
        """
        sent, shown = _render_parts(self.origin, values, secrets, _quote_all, lambda s: s)
        for seg in self.segments:
            part = _render_parts(seg, values, secrets, _encode_path_value, _quote_all)
            if any(isinstance(p, Var) for p in seg):
                for name in vars_in(seg):
                    if text_value(values.get(name)) in (".", ".."):
                        msg = (
                            f"{name}: the value {text_value(values.get(name))!r} cannot be "
                            "used as a URL path segment"
                        )
                        raise ArgumentError(msg)
                if part.sent in ("", ".", ".."):
                    names = ", ".join(vars_in(seg))
                    msg = f"{names}: an empty value cannot be used in the URL path; ask for it"
                    raise ArgumentError(msg)
            sent += "/" + part.sent
            shown += "/" + part.shown
        sent_pairs: list[str] = []
        shown_pairs: list[str] = []
        for key, sep, parts in self.query:
            if any(_is_missing(values.get(n)) for n in vars_in(parts)):
                continue  # an optional input that was not given: drop the whole pair
            value = _render_parts(parts, values, secrets, _encode_query_value, _quote_all)
            sent_pairs.append(key + sep + value.sent)
            shown_pairs.append(key + sep + value.shown)
        if sent_pairs:
            sent += "?" + "&".join(sent_pairs)
            shown += "?" + "&".join(shown_pairs)
        if self.fragment:
            sent += "#" + self.fragment
            shown += "#" + self.fragment
        return Rendered(sent, shown)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (list, tuple)) and not value)


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class HeaderTemplate:
    """Header name -> value template."""

    headers: tuple[tuple[str, tuple[Part, ...]], ...]

    @classmethod
    def parse(
        cls, headers: Mapping[str, str], known: Iterable[str]
    ) -> tuple[HeaderTemplate, list[Problem]]:
        problems: list[Problem] = []
        items: list[tuple[str, tuple[Part, ...]]] = []
        for name, value in headers.items():
            field = f"headers.{name}"
            if not _HEADER_NAME_RE.match(name):
                problems.append(Problem(field, f"{name!r} is not a valid header name"))
                continue
            if any(c in value for c in _FORBIDDEN_HEADER_CHARS):
                problems.append(Problem(field, "a header value cannot contain CR, LF or NUL"))
                continue
            parts, unknown = tokenize(value, known)
            for u in unknown:
                problems.append(Problem(field, f"placeholder {{{u}}} is not a declared input"))
            if name.lower() in FIXED_HEADERS and (unknown or vars_in(parts)):
                # These decide where the request goes and how its body is framed: a value
                # from the conversation must never choose them.
                problems.append(
                    Problem(field, f"the {name} header cannot contain a placeholder; write it out")
                )
                continue
            items.append((name, parts))
        return cls(tuple(items)), problems

    @functools.cached_property
    def has_secrets(self) -> bool:
        """Whether a `${...}` appears: if not, the shown form is the sent one."""
        return any(isinstance(p, Secret) for p in self.all_parts())

    def all_parts(self) -> list[Part]:
        return [p for _, parts in self.headers for p in parts]

    def names(self) -> set[str]:
        return {name.lower() for name, _ in self.headers}

    def render(self, values: Values, secrets: SecretValues | None) -> dict[str, str]:
        """The header values as sent; `secrets=None`: as shown (secrets as `***`)."""
        pair = self.render_pair(values, secrets)
        return pair.shown if secrets is None else pair.sent

    def render_pair(self, values: Values, secrets: SecretValues | None) -> RenderedHeaders:
        """The header values as sent and as shown, in one pass.

        Raises:
            ArgumentError: a value would add a line or is not Latin-1.
        """
        sent: dict[str, str] = {}
        shown: dict[str, str] = {}
        for name, parts in self.headers:
            value = _render_parts(parts, values, secrets, text_value, lambda s: s)
            culprits = ", ".join(vars_in(parts)) or name
            if any(c in value.sent for c in _FORBIDDEN_HEADER_CHARS):
                msg = f"{culprits}: a value for the {name} header cannot contain line breaks"
                raise ArgumentError(msg)
            if not value.sent.isascii() and any(ord(c) > 255 for c in value.sent):
                # HTTP/1.1 header values are Latin-1 on the wire; anything else would be
                # sent altered (or fail), so it is refused rather than mangled.
                msg = f"{culprits}: a value for the {name} header can only use Latin-1 characters"
                raise ArgumentError(msg)
            sent[name] = value.sent
            shown[name] = value.shown
        return RenderedHeaders(sent, shown)


# --------------------------------------------------------------------------- body

_MARK = "@@apiactions-placeholder-{}@@"


@dataclass(frozen=True)
class BodyTemplate:
    """A JSON body: JSON text with placeholders, or a YAML/JSON structure."""

    text_parts: tuple[Part, ...] | None = None
    structure: Any = None

    @classmethod
    def parse(cls, body: Any, known: Iterable[str]) -> tuple[BodyTemplate | None, list[Problem]]:
        known = set(known)
        if body is None:
            return None, []
        if isinstance(body, str):
            return cls._parse_text(body, known)
        if isinstance(body, (dict, list)):
            return cls._parse_structure(body, known)
        return None, [Problem("body", "must be JSON text, a mapping or a list")]

    # JSON text ---------------------------------------------------------------
    @classmethod
    def _parse_text(cls, text: str, known: set[str]) -> tuple[BodyTemplate | None, list[Problem]]:
        """JSON text with placeholders: split it, then check its syntax and its keys."""
        parts, problems = _split_json_text(text, known)
        syntax = _json_syntax_problem(parts)
        if syntax is not None:
            return None, [*problems, syntax]
        problems += _placeholder_key_problems(parts)
        if any(not p.warning for p in problems):
            return None, problems
        return cls(text_parts=_merge_literals(parts)), problems

    # structure --------------------------------------------------------------
    @classmethod
    def _parse_structure(
        cls, body: Any, known: set[str]
    ) -> tuple[BodyTemplate | None, list[Problem]]:
        problems: list[Problem] = []

        def walk(node: Any, where: str) -> Any:
            if isinstance(node, dict):
                out = {}
                for k, v in node.items():
                    key = str(k)
                    if _TOKEN_RE.search(key):
                        problems.append(
                            Problem(f"body.{where}{key}", "a placeholder cannot name a key")
                        )
                    out[key] = walk(v, f"{where}{key}.")
                return out
            if isinstance(node, list):
                return [walk(v, f"{where}{i}.") for i, v in enumerate(node)]
            if isinstance(node, str):
                for s in SECRET_RE.findall(node):
                    problems.append(
                        Problem(
                            f"body.{where.rstrip('.')}",
                            f"secret ${{{s}}} is not allowed in the body",
                        )
                    )
                parts, unknown = tokenize(node, known)
                for u in unknown:
                    problems.append(
                        Problem(
                            f"body.{where.rstrip('.')}",
                            f"{{{u}}} looks like a placeholder but is not an input; "
                            "it is sent as written",
                            warning=True,
                        )
                    )
                if any(isinstance(p, Var) for p in parts):
                    return _Leaf(parts)
                return node
            if node is None or isinstance(node, (bool, int, float)):
                return node
            if isinstance(node, (dt.date, dt.datetime)):  # YAML reads bare dates as dates
                return node.isoformat()
            problems.append(Problem(f"body.{where.rstrip('.')}", f"unsupported value {node!r}"))
            return None

        structure = walk(body, "")
        if any(not p.warning for p in problems):
            return None, problems
        return cls(structure=structure), problems

    def all_parts(self) -> list[Part]:
        """Every placeholder part of the body (literal text of a structure left out)."""
        if self.text_parts is not None:
            return list(self.text_parts)
        found: list[Part] = []
        stack = [self.structure]
        while stack:
            node = stack.pop()
            if isinstance(node, _Leaf):
                found += node.parts
            elif isinstance(node, dict):
                stack += list(node.values())
            elif isinstance(node, list):
                stack += node
        return found

    @functools.cached_property
    def is_private(self) -> bool:
        """Whether a `{context.NAME}` appears: if not, the shown body is the sent one."""
        return is_private(self.all_parts())

    def render(self, values: Values) -> str:
        """Render the body as JSON text."""
        return self.render_pair(values).sent

    def render_pair(self, values: Values) -> Rendered:
        """The JSON text as sent and as shown (`{context.NAME}` as written), in one pass."""
        if self.text_parts is not None:
            sent: list[str] = []
            shown: list[str] = []
            for p in self.text_parts:
                if isinstance(p, Lit):
                    sent.append(p.text)
                    shown.append(p.text)
                elif isinstance(p, Var):
                    value = values.get(p.name)
                    if p.in_string:
                        text = json.dumps(text_value(value))[1:-1]
                        hidden = _shown_var(p.name)
                    else:
                        text = json.dumps(json_value(value), allow_nan=False)
                        hidden = json.dumps(_shown_var(p.name))
                    sent.append(text)
                    shown.append(hidden if is_context(p.name) else text)
            return Rendered("".join(sent), "".join(shown))
        if not self.is_private:
            text = json.dumps(_render_structure(self.structure, values), allow_nan=False)
            return Rendered(text, text)
        sent_tree, shown_tree = _render_structure_pair(self.structure, values)
        return Rendered(
            json.dumps(sent_tree, allow_nan=False), json.dumps(shown_tree, allow_nan=False)
        )


def _split_json_text(text: str, known: set[str]) -> tuple[list[Part], list[Problem]]:
    """Literal text and placeholders, each placeholder marked as inside a JSON string or not.

    A `${SECRET}` is an error here (secrets go in url or headers); an unknown `{x}` stays
    literal text with a warning (GraphQL braces, say).
    """
    problems: list[Problem] = []
    parts: list[Part] = []
    unknown: list[str] = []
    in_string = escape = False
    pos = i = 0
    while i < len(text):
        c = text[i]
        if in_string and escape:
            escape = False
        elif in_string and c == "\\":
            escape = True
        elif c == '"':
            in_string = not in_string
        elif (c == "{" or text.startswith("${", i)) and (m := _TOKEN_RE.match(text, i)):
            secret, var = m.group("secret"), m.group("var")
            if secret is not None:
                message = f"secret ${{{secret}}} is not allowed in the body"
                problems.append(Problem("body", message + " (secrets go in url or headers)"))
            elif var in known or is_context(var):
                if i > pos:
                    parts.append(Lit(text[pos:i]))
                parts.append(Var(var, in_string=in_string))
                pos = i = m.end()
                continue
            else:
                unknown.append(var)
        i += 1
    if pos < len(text):
        parts.append(Lit(text[pos:]))
    problems += [
        Problem(
            "body",
            f"{{{u}}} looks like a placeholder but is not an input; it is sent as written",
            warning=True,
        )
        for u in dict.fromkeys(unknown)
    ]
    return parts, problems


def _json_syntax_problem(parts: Sequence[Part]) -> Problem | None:
    """The JSON syntax error, if any; same-length stand-ins keep line and column true."""
    probe = "".join(
        p.text
        if isinstance(p, Lit)
        else ("x" * (len(p.name) + 2) if p.in_string else "1" + " " * (len(p.name) + 1))
        for p in parts
        if not isinstance(p, Secret)
    )
    try:
        json.loads(probe)
    except json.JSONDecodeError as e:
        return Problem("body", f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
    return None


def _placeholder_key_problems(parts: Sequence[Part]) -> list[Problem]:
    """Placeholders may fill values, never object keys (the body's shape is fixed)."""
    marked = "".join(
        p.text
        if isinstance(p, Lit)
        else (_MARK.format(i) if p.in_string else json.dumps(_MARK.format(i)))
        for i, p in enumerate(parts)
        if not isinstance(p, Secret)
    )
    problems: list[Problem] = []
    _check_keys(json.loads(marked), problems)
    return problems


@dataclass(frozen=True)
class _Leaf:
    parts: tuple[Part, ...]


def _render_structure(node: Any, values: Values) -> Any:
    if isinstance(node, _Leaf):
        if len(node.parts) == 1 and isinstance(node.parts[0], Var):
            return json_value(values.get(node.parts[0].name))
        return "".join(
            p.text if isinstance(p, Lit) else text_value(values.get(p.name))
            for p in node.parts
            if not isinstance(p, Secret)
        )
    if isinstance(node, dict):
        return {k: _render_structure(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_structure(v, values) for v in node]
    return node


def _render_structure_pair(node: Any, values: Values) -> tuple[Any, Any]:
    """The structure as sent and as shown (`{context.NAME}` as written), in one walk."""
    if isinstance(node, _Leaf):
        if len(node.parts) == 1 and isinstance(node.parts[0], Var):
            name = node.parts[0].name
            sent = json_value(values.get(name))
            return sent, (_shown_var(name) if is_context(name) else sent)
        pair = _render_parts(node.parts, values, {}, text_value, lambda s: s)
        return pair.sent, pair.shown
    if isinstance(node, dict):
        sent_map: dict[str, Any] = {}
        shown_map: dict[str, Any] = {}
        for k, v in node.items():
            sent_map[k], shown_map[k] = _render_structure_pair(v, values)
        return sent_map, shown_map
    if isinstance(node, list):
        pairs = [_render_structure_pair(v, values) for v in node]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return node, node


def _check_keys(node: Any, problems: list[Problem]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if "@@apiactions-placeholder-" in k:
                problems.append(Problem("body", "a placeholder cannot name an object key"))
            _check_keys(v, problems)
    elif isinstance(node, list):
        for v in node:
            _check_keys(v, problems)


# --------------------------------------------------------------------------- form body


@dataclass(frozen=True)
class FormTemplate:
    """An `application/x-www-form-urlencoded` body from a flat YAML mapping.

    Keys are fixed by the author. Each value is a literal, a text template, or a list of
    them; a value is rendered as text and percent-encoded whole (`&`, `=`, `+` too), so no
    value can add a field. A list, or a placeholder whose value is an array, becomes
    repeated keys (`tag=a&tag=b`); a leaf that is exactly one placeholder whose value is
    missing drops its key (as an optional query pair does).
    """

    items: tuple[tuple[str, tuple[Any, ...]], ...]

    @classmethod
    def parse(cls, body: Any, known: Iterable[str]) -> tuple[FormTemplate | None, list[Problem]]:
        known = set(known)
        problems: list[Problem] = []
        if not isinstance(body, Mapping):
            problems.append(
                Problem("body", "body_format form needs a YAML mapping of field: value")
            )
            return None, problems
        items: list[tuple[str, tuple[Any, ...]]] = []
        for k, v in body.items():
            key = str(k)
            where = f"body.{key}"
            if _TOKEN_RE.search(key):
                problems.append(Problem(where, "a placeholder cannot name a form field"))
                continue
            leaves = v if isinstance(v, list) else [v]
            parsed: list[Any] = []
            for leaf in leaves:
                if isinstance(leaf, str):
                    for s in SECRET_RE.findall(leaf):
                        problems.append(
                            Problem(where, f"secret ${{{s}}} is not allowed in the body")
                        )
                    parts, unknown = tokenize(leaf, known)
                    for u in unknown:
                        problems.append(
                            Problem(
                                where,
                                f"{{{u}}} looks like a placeholder but is not an input; "
                                "it is sent as written",
                                warning=True,
                            )
                        )
                    parsed.append(_Leaf(parts) if any(isinstance(p, Var) for p in parts) else leaf)
                elif leaf is None or isinstance(leaf, (bool, int, float)):
                    parsed.append(leaf)
                elif isinstance(leaf, (dt.date, dt.datetime)):
                    parsed.append(leaf.isoformat())
                else:
                    problems.append(
                        Problem(
                            where,
                            "a form value is text, a number or a list of them "
                            "(form bodies are flat: no nested mappings)",
                        )
                    )
            items.append((key, tuple(parsed)))
        if any(not p.warning for p in problems):
            return None, problems
        return cls(tuple(items)), problems

    def all_parts(self) -> list[Part]:
        """Every placeholder part of the form's values."""
        return [
            p
            for _, leaves in self.items
            for leaf in leaves
            if isinstance(leaf, _Leaf)
            for p in leaf.parts
        ]

    @functools.cached_property
    def is_private(self) -> bool:
        """Whether a `{context.NAME}` appears: if not, the shown body is the sent one."""
        return is_private(self.all_parts())

    def pairs(self, values: Values) -> list[tuple[str, str]]:
        """The (key, text) pairs, in template order."""
        return [(key, sent) for key, sent, _ in self._pairs(values)]

    def _pairs(self, values: Values) -> list[tuple[str, str, str]]:
        """(key, text as sent, value as shown and already form-encoded) per pair."""
        out: list[tuple[str, str, str]] = []
        quote = urllib.parse.quote_plus
        for key, leaves in self.items:
            for leaf in leaves:
                if isinstance(leaf, _Leaf):
                    if len(leaf.parts) == 1 and isinstance(leaf.parts[0], Var):
                        name = leaf.parts[0].name
                        value = values.get(name)
                        if _is_missing(value):
                            continue
                        if is_context(name):
                            out.append((key, text_value(value), _shown_var(name)))
                            continue
                        items = value if isinstance(value, (list, tuple)) else [value]
                        out += [(key, t, quote(t)) for t in map(text_value, items)]
                        continue
                    sent: list[str] = []
                    shown: list[str] = []
                    for p in leaf.parts:
                        if isinstance(p, Secret):
                            continue  # refused at load time; never in a body
                        if isinstance(p, Lit):
                            sent.append(p.text)
                            shown.append(quote(p.text))
                            continue
                        text = text_value(values.get(p.name))
                        sent.append(text)
                        # A trusted value shows as written, readable; the rest as encoded.
                        shown.append(_shown_var(p.name) if is_context(p.name) else quote(text))
                    out.append((key, "".join(sent), "".join(shown)))
                elif leaf is not None:
                    text = text_value(leaf)
                    out.append((key, text, quote(text)))
        return out

    def render(self, values: Values) -> str:
        """Render the body as `application/x-www-form-urlencoded` text."""
        return urllib.parse.urlencode(self.pairs(values))

    def render_pair(self, values: Values) -> Rendered:
        """The form text as sent and as shown (`{context.NAME}` as written), in one pass."""
        if not self.is_private:
            text = self.render(values)
            return Rendered(text, text)
        quote = urllib.parse.quote_plus
        triples = self._pairs(values)
        return Rendered(
            "&".join(f"{quote(k)}={quote(sent)}" for k, sent, _ in triples),
            "&".join(f"{quote(k)}={shown}" for k, _, shown in triples),
        )
