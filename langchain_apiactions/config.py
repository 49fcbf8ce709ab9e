"""The action file: pydantic models, loading (YAML/JSON/dict/list) and validation."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import ipaddress
import json
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictStr,
    ValidationError,
    field_validator,
)

from langchain_apiactions.auth import (
    AuthConfig,
    CompiledAuth,
    compile_auth,
    normalise_auth,
    numbers_as_text,
)
from langchain_apiactions.errors import ActionConfigError, Problem
from langchain_apiactions.extract import FieldPath, compile_path
from langchain_apiactions.templating import (
    SECRET_RE,
    BodyTemplate,
    FormTemplate,
    HeaderTemplate,
    Secret,
    UrlTemplate,
    context_in,
    is_context,
    secrets_in,
    tokenize,
)

__all__ = [
    "ActionInput",
    "ApiAction",
    "Button",
    "CloseChat",
    "ResponseField",
    "ValidationReport",
    "check_actions",
    "load_actions",
]

TEXT_SOURCE = "<actions>"
BUILTIN_PLACEHOLDERS = ("session_id", "today", "now")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# `examples:` per action (visitor messages indexed by action selection).
MAX_EXAMPLES = 50
_ACTION_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_INPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names the tool machinery or pydantic itself uses; an input cannot take them.
_RESERVED_INPUTS = {"config", "run_manager", "callbacks", "args", "kwargs", "self", "tool_call_id"}

# Labels of chatbot products' UIs (normalised: lower case, spaces and dashes ->
# underscores). The README lists every one of them (a test keeps it so).
_ACTION_ALIASES = {
    "action_name": "name",
    "trigger_description": "when_to_use",
    "when_to_trigger": "when_to_use",
    "trigger_response": "triggered_response",
    "response_message": "triggered_response",
    "http_method": "method",
    "request_method": "method",
    "endpoint_url": "url",
    "endpoint": "url",
    "api_url": "url",
    "request_url": "url",
    "collect_data_inputs": "inputs",
    "data_inputs": "inputs",
    "parameters": "inputs",
    "request_json_template": "body",
    "json_template": "body",
    "request_body": "body",
    "json_body": "body",
    "request_headers": "headers",
    "expected_response_fields": "response_fields",
    "response_mapping": "response_fields",
    "trigger_only_once_per_session": "once_per_session",
    "show_action_button_in_response": "button",
    "action_button": "button",
    "automatically_close_the_chat": "close_chat",
    "close_the_chat": "close_chat",
    "timeout_seconds": "timeout",
    "require_confirmation": "confirm",
    "ask_for_confirmation": "confirm",
}
_INPUT_ALIASES = {
    "input_name": "name",
    "parameter_name": "name",
    "param_name": "name",
    "variable_name": "name",
    "nome": "name",
    "data_type": "type",
    "input_type": "type",
    "parameter_type": "type",
    "value_type": "type",
    "input_description": "description",
    "parameter_description": "description",
    "default_value": "default",
    "array_flag": "array",
    "is_array": "array",
    "multiple_values": "array",
    "list": "array",
    "required_flag": "required",
    "is_required": "required",
    "mandatory": "required",
}
_FIELD_ALIASES = {
    "field_name": "name",
    "example_value": "example",
    "field_path": "path",
    "json_path": "path",
}
_BUTTON_ALIASES = {
    "button_label": "label",
    "button_text": "label",
    "text": "label",
    "button_url": "url",
    "button_link": "url",
    "link": "url",
}
_CLOSE_ALIASES = {"farewell_message": "farewell", "message": "farewell"}
_ALL_ALIASES = {
    **_ACTION_ALIASES,
    **_INPUT_ALIASES,
    **_FIELD_ALIASES,
    **_BUTTON_ALIASES,
    **_CLOSE_ALIASES,
}
# Portuguese UIs (the walkthrough's own table says `Sim`) answer yes/no in their language.
_YES_NO = {"sim": True, "não": False, "nao": False}
_BUTTON_BRACES = re.compile(r"(?<!\$)\{([^{}]*)\}")
_HEADER_KEYS = (("header_name", "name", "key"), ("header_value", "value"))


@functools.lru_cache(maxsize=1024)
def _norm_key(key: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip()).lower()


def _normalise(mapping: Any, aliases: Mapping[str, str]) -> Any:
    if not isinstance(mapping, Mapping):
        return mapping
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        k = _norm_key(key)
        out[aliases.get(k, k)] = value
    return out


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionInput(_Model):
    """A value the AI collects from the visitor ("Collect data inputs")."""

    name: str = Field(description="Placeholder name, `^[A-Za-z_][A-Za-z0-9_]*$`.")
    type: Literal["text", "number", "date"] = Field("text", description="text, number or date.")
    description: str = Field("", description="What the value is; the model reads it.")
    required: bool = Field(False, description="The AI must ask for it before calling.")
    array: bool = Field(False, description="A list of values.")
    default: Any = Field(None, description="Used when the visitor gave no value.")

    @field_validator("type", mode="before")
    @classmethod
    def _lower_type(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("required", "array", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> Any:
        return _YES_NO.get(v.strip().lower(), v) if isinstance(v, str) else v


class ResponseField(_Model):
    """A field to extract from the response ("Expected response fields")."""

    name: str = Field(description="Name shown to the model; also the path when `path` is unset.")
    path: str | None = Field(None, description="JMESPath or dotted path into the JSON body.")
    example: Any = Field(None, description="An example value (documentation only).")


class Button(_Model):
    """A button shown with the triggered response."""

    label: str = Field(description="Button text; may use placeholders.")
    url: str = Field(description="Link; placeholders from inputs and extracted fields.")


class CloseChat(_Model):
    """Close the chat after the action runs."""

    farewell: str | None = Field(None, description="Farewell message shown last.")


class ApiAction(_Model):
    """One API action, as declared in the action file."""

    name: str = Field(description="Tool name, `^[A-Za-z0-9_]{1,64}$`.")
    when_to_use: str = Field("", description="Trigger description; the tool description.")
    triggered_response: str = Field("", description="Message shown when the action fires.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(description="HTTP method.")
    url: str = Field(description="Endpoint URL with `{input}` placeholders and `${SECRET}`s.")
    inputs: tuple[ActionInput, ...] = Field((), description="Values to collect.")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    body: str | dict[str, Any] | list[Any] | None = Field(
        None, description="JSON text template, or a mapping/list with placeholders."
    )
    response_fields: tuple[ResponseField, ...] = Field((), description="Fields to extract.")
    once_per_session: bool = Field(False, description="Run at most once per chat session.")
    button: Button | None = Field(None, description="Action button.")
    close_chat: CloseChat | None = Field(None, description="Close the chat afterwards.")
    timeout: float = Field(10.0, gt=0, le=600, description="Total deadline in seconds.")
    confirm: bool = Field(False, description="Ask the visitor before calling (agent helper).")
    auth: AuthConfig | None = Field(
        None, description="Credentials: bearer, basic, api_key or oauth2_client_credentials."
    )
    body_format: Literal["json", "form"] = Field(
        "json", description="json, or form (application/x-www-form-urlencoded)."
    )
    examples: tuple[StrictStr, ...] = Field(
        (),
        description="Visitor messages this action is for; indexed by action selection.",
    )

    _source: str = PrivateAttr(default=TEXT_SOURCE)
    _compiled: CompiledTemplates | None = PrivateAttr(default=None)

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            return {"POSTAR": "POST"}.get(v, v)
        return v

    @field_validator("examples", mode="before")
    @classmethod
    def _examples(cls, v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, (list, tuple)):
            msg = "must be a list of visitor messages"
            raise ValueError(msg)
        if len(v) > MAX_EXAMPLES:
            msg = f"at most {MAX_EXAMPLES} examples (got {len(v)})"
            raise ValueError(msg)
        bad = [i for i, e in enumerate(v) if not isinstance(e, str)]
        if bad:
            msg = f"item {bad[0] + 1} is not text: each example is a visitor message"
            raise ValueError(msg)
        return v

    @field_validator("examples")
    @classmethod
    def _example_texts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        texts = tuple(" ".join(e.split()) for e in v)
        if any(not e for e in texts):
            msg = "an example must not be empty"
            raise ValueError(msg)
        return texts

    @field_validator("auth", mode="before")
    @classmethod
    def _auth(cls, v: Any) -> Any:
        return normalise_auth(v)

    @field_validator("body_format", mode="before")
    @classmethod
    def _lower_body_format(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("close_chat", mode="before")
    @classmethod
    def _close_chat(cls, v: Any) -> Any:
        if v is False or v is None:
            return None
        if v is True:
            return {}
        if isinstance(v, str):
            return {"farewell": v}
        return _normalise(v, _CLOSE_ALIASES)

    @field_validator("button", mode="before")
    @classmethod
    def _button(cls, v: Any) -> Any:
        if v is False:
            return None
        return _normalise(v, _BUTTON_ALIASES)

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, v: Any) -> Any:
        if isinstance(v, Mapping):  # {name: {type: ...}} shorthand
            v = [{"name": k, **(_normalise(s, _INPUT_ALIASES) or {})} for k, s in v.items()]
        if isinstance(v, list):
            return [_normalise(i, _INPUT_ALIASES) for i in v]
        return v

    @field_validator("response_fields", mode="before")
    @classmethod
    def _fields(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"name": i} if isinstance(i, str) else _normalise(i, _FIELD_ALIASES) for i in v]
        return v

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, list):  # [{header_name: ..., header_value: ...}]
            out: dict[str, Any] = {}
            for item in v:
                item = _normalise(item, {})
                if not isinstance(item, Mapping):
                    return v
                name = next((item[k] for k in _HEADER_KEYS[0] if k in item), None)
                value = next((item[k] for k in _HEADER_KEYS[1] if k in item), None)
                out[str(name)] = value
            return out
        if isinstance(v, Mapping):
            return numbers_as_text(v)
        return v

    @property
    def source(self) -> str:
        """The file this action came from, or `<actions>`."""
        return self._source

    @classmethod
    def from_source(cls, data: Mapping[str, Any], source: str) -> ApiAction:
        """Validate `data` as an action read from `source` (raises `ValidationError`)."""
        action = cls.model_validate(data)
        action._source = source
        return action

    def check(self) -> list[Problem]:
        """Compile every template (kept for the calls) and return the problems found.

        The action is usable when none of them is an error (a warning is not).
        """
        compiled, problems = _compile(self)
        if compiled is not None:
            self._compiled = compiled
        return problems

    @property
    def compiled(self) -> CompiledTemplates:
        """The parsed templates (compiled when the action was checked, or now)."""
        if self._compiled is None:
            errors = [p for p in self.check() if not p.warning]
            if errors or self._compiled is None:
                raise ActionConfigError(p.line(self._source, self.name) for p in errors)
        return self._compiled

    def context_names(self) -> list[str]:
        """Names of the trusted-context values (`{context.NAME}`, `${context.NAME}`) used."""
        return list(self.compiled.context)

    def secret_names(self) -> list[str]:
        """Names of the `${NAME}` secrets this action uses."""
        c = self.compiled
        return list(
            dict.fromkeys(
                secrets_in(c.url.all_parts())
                + secrets_in(c.headers.all_parts())
                + [n for n in (c.auth.secret_names() if c.auth else []) if not is_context(n)]
            )
        )


@dataclass(frozen=True)
class CompiledTemplates:
    """Everything parsed from an action once, at load time."""

    url: UrlTemplate
    headers: HeaderTemplate
    body: BodyTemplate | FormTemplate | None
    fields: tuple[FieldPath, ...]
    button_url: UrlTemplate | None
    button_label: tuple[Any, ...]
    auth: CompiledAuth | None = None
    # Trusted-context names used anywhere (url, headers, body, button, auth), in order.
    context: tuple[str, ...] = ()
    # Of those, the ones used as secrets (`${context.NAME}`), masked like secrets.
    secret_context: tuple[str, ...] = ()


@dataclass
class ValidationReport:
    """What `check_actions` found: the actions, errors and warnings."""

    source: str
    actions: list[ApiAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def _read(source: Any) -> tuple[Any, str, list[str]]:
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


# --------------------------------------------------------------------------- checks


_UNION_TAGS = frozenset({"str", "dict[str,any]", "list[any]"})
_AUTH_TAGS = frozenset({"bearer", "basic", "api_key", "oauth2_client_credentials"})


def _loc(loc: Sequence[Any], raw: Mapping[str, Any]) -> str:
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            entry = node[item]
            label = (
                next(
                    (
                        v
                        for k, v in entry.items()
                        if _ALL_ALIASES.get(_norm_key(k), _norm_key(k)) == "name"
                    ),
                    None,
                )
                if isinstance(entry, Mapping)
                else None
            )
            parts.append(str(label) if isinstance(label, str) and label else f"[{item}]")
            node = entry
        else:
            if item in _UNION_TAGS or (parts == ["auth"] and item in _AUTH_TAGS):
                continue  # pydantic names the union branch it tried; not a field
            parts.append(str(item))
            node = node.get(item) if isinstance(node, Mapping) else None
    return ".".join(parts).replace(".[", "[")


def _compile(action: ApiAction) -> tuple[CompiledTemplates | None, list[Problem]]:
    """Parse every template of `action`, in named steps, collecting every problem."""
    known = {i.name for i in action.inputs} | set(BUILTIN_PLACEHOLDERS)
    field_names = {rf.name for rf in action.response_fields}
    problems = _check_names(action)
    url, found = _compile_url(action, known)
    problems += found
    headers, found = HeaderTemplate.parse(action.headers, known)
    problems += found
    body, found = _compile_body(action, known)
    problems += found
    auth, found = _compile_auth(action, headers, url)
    problems += found
    fields, found = _compile_fields(action)
    problems += found
    button_url, button_label, found = _compile_button(action, known | field_names)
    problems += found + _check_description(action)
    parts: list[Any] = (url.all_parts() if url is not None else []) + headers.all_parts()
    parts += body.all_parts() if body is not None else []
    parts += (button_url.all_parts() if button_url is not None else []) + list(button_label)
    parts += [Secret(name) for name in (auth.secret_names() if auth is not None else [])]
    context, secret_context, found = _context_names(parts)
    problems += found
    if url is None or any(not p.warning for p in problems):
        return None, problems
    compiled = CompiledTemplates(
        url,
        headers,
        body,
        fields,
        button_url,
        button_label,
        auth,
        context=context,
        secret_context=secret_context,
    )
    return compiled, problems


def _check_names(action: ApiAction) -> list[Problem]:
    """The action's name, and each input's name and default."""
    problems: list[Problem] = []
    if not _ACTION_NAME_RE.match(action.name):
        problems.append(Problem("name", f"{action.name!r} must match ^[A-Za-z0-9_]{{1,64}}$"))
    seen: set[str] = set()
    for inp in action.inputs:
        where = f"inputs.{inp.name}"
        if not _INPUT_NAME_RE.match(inp.name):
            problems.append(Problem(where, "an input name must match ^[A-Za-z_][A-Za-z0-9_]*$"))
        elif inp.name in _RESERVED_INPUTS or inp.name.startswith("model_"):
            problems.append(Problem(where, f"{inp.name!r} is reserved; choose another name"))
        if inp.name in seen:
            problems.append(Problem(where, "duplicate input name"))
        seen.add(inp.name)
        if inp.default is not None:
            err = _check_default(inp)
            if err:
                problems.append(Problem(f"{where}.default", err))
    return problems


def _check_description(action: ApiAction) -> list[Problem]:
    if len(action.when_to_use.strip()) < 20:
        message = "missing or very short: the model decides when to call the action from it"
        return [Problem("when_to_use", message, warning=True)]
    return []


def _compile_url(action: ApiAction, known: set[str]) -> tuple[UrlTemplate | None, list[Problem]]:
    """The URL template; a path placeholder needs a value, plain http only on private hosts."""
    url, problems = UrlTemplate.parse(action.url, known)
    if url is None:
        return None, problems
    by_name = {i.name: i for i in action.inputs}
    for name in url.path_vars():
        declared = by_name.get(name)
        if declared is not None and not declared.required and declared.default is None:
            problems.append(
                Problem(
                    "url",
                    f"path placeholder {{{name}}} needs a required input or a default "
                    "(an empty path segment would change the URL)",
                )
            )
    host = urllib.parse.urlsplit(SECRET_RE.sub("x", action.url)).hostname or ""
    if action.url.lower().startswith("http://") and _is_public_host(host):
        problems.append(Problem("url", "plain http:// to a public host; use https://", True))
    return url, problems


def _compile_body(
    action: ApiAction, known: set[str]
) -> tuple[BodyTemplate | FormTemplate | None, list[Problem]]:
    if action.body is None or action.body == "":
        return None, []
    if action.method == "GET":
        return None, [Problem("body", "a GET request cannot have a body")]
    if action.body_format == "form":
        return FormTemplate.parse(action.body, known)
    return BodyTemplate.parse(action.body, known)


def _compile_auth(
    action: ApiAction, headers: HeaderTemplate, url: UrlTemplate | None
) -> tuple[CompiledAuth | None, list[Problem]]:
    if action.auth is None:
        return None, []
    return compile_auth(
        action.auth,
        header_names=headers.names(),
        query_keys={key for key, _, _ in url.query} if url is not None else set(),
    )


def _compile_fields(action: ApiAction) -> tuple[tuple[FieldPath, ...], list[Problem]]:
    problems: list[Problem] = []
    fields: list[FieldPath] = []
    seen: set[str] = set()
    for rf in action.response_fields:
        where = f"response_fields.{rf.name}"
        if rf.name in seen:
            problems.append(Problem(where, "duplicate response field name"))
        seen.add(rf.name)
        try:
            fields.append(compile_path(rf.name, rf.path))
        except ValueError as e:
            problems.append(Problem(where + (".path" if rf.path is not None else ""), str(e)))
    return tuple(fields), problems


def _compile_button(
    action: ApiAction, known: set[str]
) -> tuple[UrlTemplate | None, tuple[Any, ...], list[Problem]]:
    """The button's URL and label: no secrets, and every `{x}` something fills."""
    if action.button is None:
        return None, (), []
    texts = (("button.url", action.button.url), ("button.label", action.button.label))
    problems = [
        Problem(where, f"secret ${{{s}}} is not allowed in a button")
        for where, text in texts
        for s in SECRET_RE.findall(text)
    ]
    url, found = UrlTemplate.parse(action.button.url, known, field="button.url")
    # An unknown placeholder is reported below, for the URL and the label alike.
    problems += [p for p in found if "is not a declared input" not in p.message]
    label, _ = tokenize(action.button.label, known)
    # A button is shown to a visitor: a `{x}` that nothing fills would reach them as
    # written, so every brace pair must be an input, a response field, a built-in or
    # a `{context.NAME}` (filled by the application, or the call sends nothing).
    for where, text in texts:
        for name in dict.fromkeys(_BUTTON_BRACES.findall(text)):
            if name not in known and not is_context(name):
                problems.append(
                    Problem(
                        where,
                        f"placeholder {{{name}}} is not an input, a response field or a "
                        "built-in; nothing would fill it and the visitor would see it "
                        "as written",
                    )
                )
    return url, label, problems


def _context_names(parts: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...], list[Problem]]:
    """The `context.NAME`s used anywhere, and those used as secrets (`${context.NAME}`)."""
    context = tuple(dict.fromkeys(context_in(parts)))
    problems = [
        Problem(
            "context", f"{{context.{name}}}: a context name must match {_INPUT_NAME_RE.pattern}"
        )
        for name in context
        if not _INPUT_NAME_RE.match(name)
    ]
    secret_context = tuple(dict.fromkeys(context_in(p for p in parts if isinstance(p, Secret))))
    return context, secret_context, problems


def _check_default(inp: ActionInput) -> str | None:
    values = inp.default if inp.array else [inp.default]
    if inp.array and not isinstance(values, list):
        return "must be a list for an array input"
    for v in values:
        if inp.type == "number" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            try:
                float(str(v))
            except ValueError:
                return f"{v!r} is not a number"
        if inp.type == "date" and not isinstance(v, dt.date):
            try:
                dt.date.fromisoformat(str(v))
            except ValueError:
                return f"{v!r} is not an ISO date (YYYY-MM-DD)"
    return None


def _is_public_host(host: str) -> bool:
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return "." in host


_WORD_RE = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "at", "by", "with",
        "when", "use", "this", "action", "visitor", "asks", "about", "is", "are", "be", "it",
        "their", "they", "wants", "want", "also", "trigger", "if", "as", "from",
    }
)  # fmt: skip


def description_words(text: str) -> set[str]:
    """Content words of a description (for overlap checks)."""
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOPWORDS and len(w) > 2}


OVERLAP_WARNING = 0.5

# --------------------------------------------------------------------------- entry points


def _merge_defaults(defaults: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in action.items():
        if (
            key == "headers"
            and isinstance(value, Mapping)
            and isinstance(merged.get("headers"), Mapping)
        ):
            headers = {
                k: v
                for k, v in merged["headers"].items()
                if k.lower() not in {x.lower() for x in value}
            }
            headers.update(value)
            merged["headers"] = headers
        else:
            merged[key] = value
    return merged


_LEVELS: dict[str, type[BaseModel]] = {
    "inputs": ActionInput,
    "response_fields": ResponseField,
    "button": Button,
    "close_chat": CloseChat,
}


def _unknown_key(loc: Sequence[Any], raw: Any) -> tuple[str, str | None]:
    """An unknown key as the user wrote it at `loc`, and the closest key they may mean."""
    node: Any = raw
    model: type[BaseModel] | None = ApiAction
    for depth, item in enumerate(loc):
        if isinstance(item, int):
            node = node[item] if isinstance(node, (list, tuple)) and item < len(node) else None
            continue
        if depth > 0:
            model = _LEVELS.get(str(loc[0])) if depth <= 2 else None
        written = str(item)
        if isinstance(node, Mapping):
            for key in node:
                normal = _norm_key(key)
                if item in (normal, _ALL_ALIASES.get(normal)):
                    written = str(key)
                    node = node[key]
                    break
            else:
                node = None
        if depth == len(loc) - 1:
            if model is None:
                return written, None
            known = list(model.model_fields)
            known += [a for a, target in _ALL_ALIASES.items() if target in known]
            hint = difflib.get_close_matches(_norm_key(written), known, n=1, cutoff=0.6)
            return written, hint[0] if hint else None
    return str(loc[-1]) if loc else "", None


def _salvage(raw: Mapping[str, Any], error: ValidationError, source: str) -> ApiAction | None:
    """`raw` with its invalid parts reset to defaults (or neutral values), if it then loads."""
    data: dict[str, Any] = dict(raw)
    stand_ins = {"name": "action", "method": "POST", "url": "https://invalid.example/"}
    for _ in range(3):
        for err in error.errors():
            loc = err["loc"]
            key = loc[0] if loc else None
            if not isinstance(key, str):
                continue
            if key in ("inputs", "response_fields") and len(loc) >= 3 and isinstance(loc[1], int):
                items = [dict(i) if isinstance(i, Mapping) else i for i in data.get(key) or []]
                item = items[loc[1]] if loc[1] < len(items) else None
                if isinstance(item, dict) and isinstance(loc[2], str):
                    item.pop(loc[2], None)
                    data[key] = items
                    continue
            if key in stand_ins:
                data[key] = stand_ins[key]
            else:
                data.pop(key, None)
        try:
            return ApiAction.from_source(data, source)
        except ValidationError as e:
            error = e
    return None


def overlapping_pairs(
    actions: Sequence[ApiAction], threshold: float = OVERLAP_WARNING
) -> list[tuple[str, str, float]]:
    """Pairs of actions whose `when_to_use` overlap at least `threshold` (Jaccard)."""
    words = [(a.name, description_words(a.when_to_use)) for a in actions]
    pairs: list[tuple[str, str, float]] = []
    for i, (name_a, wa) in enumerate(words):
        if not wa:
            continue
        for name_b, wb in words[i + 1 :]:
            if wb:
                score = len(wa & wb) / len(wa | wb)
                if score >= threshold:
                    pairs.append((name_a, name_b, score))
    return pairs


def check_actions(source: Any, *, overlap: bool = True) -> ValidationReport:
    """Load and validate actions, collecting every error and warning (never raises).

    `overlap=False` skips the pairwise description comparison (quadratic in the number
    of actions; a warning only, so loading skips it).
    """
    data, name, errors = _read(source)
    report = ValidationReport(source=name, errors=list(errors))
    if errors:
        return report
    raw_actions, defaults = _top_level(data, name, report.errors)
    seen: dict[str, int] = {}
    examples: dict[str, str] = {}
    for index, raw in enumerate(raw_actions):
        before = len(report.actions)
        _check_action(raw, index, defaults, seen, report)
        own = isinstance(raw, Mapping) and "examples" in _normalise(raw, _ACTION_ALIASES)
        if own and len(report.actions) > before:
            _check_examples(report.actions[-1], report, examples)
    if overlap:
        report.warnings += _overlap_warnings(report.actions, name)
    return report


def _top_level(data: Any, name: str, errors: list[str]) -> tuple[Sequence[Any], Mapping[str, Any]]:
    """The raw actions and the defaults of a file (a list, one action, or a mapping)."""
    if not isinstance(data, Mapping):
        raw_actions: Any = data
        defaults: Any = {}
    elif "actions" not in (top := _normalise(data, {})) and ("name" in top or "action_name" in top):
        return [data], {}
    else:
        written_keys = {_norm_key(k): str(k) for k in data}
        for key in sorted(set(top) - {"actions", "defaults", "version"}):
            hint = difflib.get_close_matches(key, ["actions", "defaults"], n=1)
            errors.append(
                f"{name}: {written_keys.get(key, key)}: unknown top-level key "
                + (f"(did you mean {hint[0]!r}?)" if hint else "(expected actions, defaults)")
            )
        raw_actions = top.get("actions")
        defaults = _normalise(top.get("defaults") or {}, _ACTION_ALIASES)
        if not isinstance(defaults, Mapping):
            errors.append(f"{name}: defaults: must be a mapping")
            defaults = {}
    if raw_actions is None:
        errors.append(f"{name}: actions: no actions found")
        return [], defaults
    if not isinstance(raw_actions, (list, tuple)):
        errors.append(f"{name}: actions: must be a list of actions")
        return [], defaults
    return raw_actions, defaults


def _check_action(
    raw: Any,
    index: int,
    defaults: Mapping[str, Any],
    seen: dict[str, int],
    report: ValidationReport,
) -> None:
    """Validate and compile one raw action into `report` (errors, warnings, the action)."""
    name = report.source
    if not isinstance(raw, Mapping):
        report.errors.append(f"{name}: actions[{index}]: must be a mapping")
        return
    normal = _merge_defaults(defaults, _normalise(raw, _ACTION_ALIASES))
    normal.pop("action_type", None)
    raw_name = normal.get("name")
    label = raw_name if isinstance(raw_name, str) and raw_name else f"actions[{index}]"
    if label in seen:
        report.errors.append(
            f"{name}: {label}.name: duplicate action name (also action {seen[label] + 1})"
        )
    seen.setdefault(label, index)
    try:
        action = ApiAction.from_source(normal, name)
    except ValidationError as e:
        report.errors += _field_errors(e, normal, raw, f"{name}: {label}")
        # Check the rest of the action too, so that every problem is reported at once.
        salvaged = _salvage(normal, e, name)
        if salvaged is not None:
            report.errors += [p.line(name, label) for p in salvaged.check() if not p.warning]
        return
    problems = action.check()
    for p in problems:
        (report.warnings if p.warning else report.errors).append(p.line(name, action.name))
    if not any(not p.warning for p in problems):
        report.actions.append(action)


def _check_examples(action: ApiAction, report: ValidationReport, seen: dict[str, str]) -> None:
    """The examples of `action`, each written once in the whole file (case aside).

    An example stands for one action: the same visitor message under two actions would
    make selection pick either. Examples inherited from `defaults:` are not compared.
    """
    own: set[str] = set()
    for text in action.examples:
        key = text.casefold()
        where = f"{report.source}: {action.name}.examples"
        if key in own:
            report.errors.append(f"{where}: {text!r} is written twice")
        elif seen.setdefault(key, action.name) != action.name:
            report.errors.append(
                f"{where}: {text!r} is also an example of {seen[key]}; "
                "an example must stand for one action"
            )
        own.add(key)


def _field_errors(
    error: ValidationError, normal: Mapping[str, Any], raw: Any, prefix: str
) -> list[str]:
    """pydantic's errors for one action, in the file's words, each once."""
    lines: list[str] = []
    for err in error.errors():
        where = _loc(err["loc"], normal)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            written, close_key = _unknown_key(err["loc"], raw)
            parent = _loc(err["loc"][:-1], normal)
            where = f"{parent}.{written}" if parent else written
            msg = "unknown field" + (f" (did you mean {close_key!r}?)" if close_key else "")
        elif err["type"] == "missing":
            msg = "is required"
        elif where == "body":  # one message for the three shapes a body may take
            msg = "must be JSON text, a mapping or a list"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            where += ".type"
            msg = "must be one of " + ", ".join(sorted(_AUTH_TAGS))
        elif where == "auth" and err["type"] == "model_attributes_type":
            msg = "must be a mapping with a type (or null for none)"
        line = f"{prefix}.{where}: {msg}"
        if line not in lines:
            lines.append(line)
    return lines


def _overlap_warnings(actions: Sequence[ApiAction], name: str) -> list[str]:
    return [
        f"{name}: {a}/{b}.when_to_use: descriptions overlap "
        f"(similarity {score:.2f} >= {OVERLAP_WARNING}); a model may confuse them"
        for a, b, score in overlapping_pairs(actions)
    ]


def load_actions(source: Any) -> list[ApiAction]:
    """Load actions from a path, YAML/JSON text, a dict or a list.

    Raises:
        ActionConfigError: naming file, action and field of every problem at once.
    """
    if (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(a, ApiAction) for a in source)
    ):
        return list(source)
    report = check_actions(source, overlap=False)
    if report.errors:
        raise ActionConfigError(report.errors)
    return report.actions


def environment_secrets(
    actions: Sequence[ApiAction], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Resolve every `${NAME}` the actions use from `env` (default: `os.environ`).

    Raises:
        MissingSecretError: naming the action and variable of each missing secret.
    """
    from langchain_apiactions.errors import MissingSecretError

    env = os.environ if env is None else env
    values: dict[str, str] = {}
    missing: list[str] = []
    for action in actions:
        for secret in action.secret_names():
            if secret in env and env[secret] != "":
                values[secret] = env[secret]
            else:
                missing.append(
                    f"{action.source}: {action.name}: secret ${{{secret}}} "
                    "is not set in the environment"
                )
    if missing:
        raise MissingSecretError(missing)
    return values
