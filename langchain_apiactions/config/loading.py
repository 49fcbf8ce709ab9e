"""Loading an action file: `check_actions` (every error and warning, never raises),
`load_actions` (raises them all at once) and `environment_secrets`.

A file's pydantic errors are reworded in the file's own terms (the key as the user wrote
it, the action by name, a did-you-mean for an unknown field) and the rest of an invalid
action is still checked, so that every problem is reported at once.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from langchain_apiactions.config.aliases import ACTION_ALIASES, ALL_ALIASES, norm_key, normalise
from langchain_apiactions.config.checks import OVERLAP_WARNING, overlapping_pairs
from langchain_apiactions.config.mistakes import path_like_examples
from langchain_apiactions.config.models import (
    ActionInput,
    ApiAction,
    Button,
    CloseChat,
    ResponseField,
)
from langchain_apiactions.config.options import CacheOption, IdempotencyOption, Pagination
from langchain_apiactions.config.reading import read_source
from langchain_apiactions.errors import ActionConfigError

__all__ = [
    "ValidationReport",
    "check_actions",
    "environment_secrets",
    "load_actions",
    "unset_secrets",
]


@dataclass
class ValidationReport:
    """What `check_actions` found: the actions, errors and warnings."""

    source: str
    actions: list[ApiAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
                        if ALL_ALIASES.get(norm_key(k), norm_key(k)) == "name"
                    ),
                    None,
                )
                if isinstance(entry, Mapping)
                else None
            )
            parts.append(str(label) if isinstance(label, str) and label else f"[{item}]")
            node = entry
        elif isinstance(item, int) and isinstance(node, Mapping) and item < len(node):
            key = list(node)[item]  # the `{name: {...}}` shorthand of inputs
            parts.append(str(key))
            node = node[key]
        else:
            if item in _UNION_TAGS or (parts == ["auth"] and item in _AUTH_TAGS):
                continue  # pydantic names the union branch it tried; not a field
            parts.append(str(item))
            node = node.get(item) if isinstance(node, Mapping) else None
    return ".".join(parts).replace(".[", "[")


def _merge_defaults(defaults: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    method = action.get("method")
    if "cache" in merged and not (isinstance(method, str) and method.strip().upper() == "GET"):
        del merged["cache"]  # a default cache is for the GET actions only
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
    "idempotency_key": IdempotencyOption,
    "cache": CacheOption,
    "pagination": Pagination,
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
                normal = norm_key(key)
                if item in (normal, ALL_ALIASES.get(normal)):
                    written = str(key)
                    node = node[key]
                    break
            else:
                node = None
        if depth == len(loc) - 1:
            if model is None:
                return written, None
            known = list(model.model_fields)
            known += [a for a, target in ALL_ALIASES.items() if target in known]
            hint = difflib.get_close_matches(norm_key(written), known, n=1, cutoff=0.6)
            return written, hint[0] if hint else None
    return str(loc[-1]) if loc else "", None


def _cut_by_comma(loc: Sequence[Any], raw: Any) -> tuple[str, str] | None:
    """The field whose value an unquoted comma cut, and the key the rest became.

    `{description: The pick-up station, for example Riverside}` in YAML is a
    description `The pick-up station` and a key `for example Riverside` with no value.
    """
    node: Any = raw
    for item in loc[:-1]:
        if isinstance(item, int):
            items = list(node.values()) if isinstance(node, Mapping) else node
            node = items[item] if isinstance(items, list) and item < len(items) else None
        elif isinstance(node, Mapping):
            node = next(
                (v for k, v in node.items() if item in (norm_key(k), ALL_ALIASES.get(norm_key(k)))),
                None,
            )
        else:
            return None
    if not isinstance(node, Mapping) or not loc:
        return None
    keys = list(node)
    stray = next((k for k in keys if norm_key(k) == loc[-1]), None)
    if stray is None or node[stray] is not None or " " not in str(stray).strip():
        return None
    before = keys[keys.index(stray) - 1] if keys.index(stray) > 0 else None
    if before is None or not isinstance(node[before], str):
        return None
    return ALL_ALIASES.get(norm_key(before), norm_key(before)), str(stray)


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
                given = data.get(key) or []
                if isinstance(given, Mapping):  # the `{name: {...}}` shorthand
                    given = [
                        {"name": k, **(v if isinstance(v, Mapping) else {})}
                        for k, v in given.items()
                    ]
                items = [dict(i) if isinstance(i, Mapping) else i for i in given]
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


def check_actions(source: Any, *, overlap: bool = True) -> ValidationReport:
    """Load and validate actions, collecting every error and warning (never raises).

    Args:
        source: A path (`str` or `Path`) to a YAML or JSON file, YAML/JSON text, a dict
            (`{"actions": [...], "defaults": {...}}`) or a list of actions.
        overlap: Compare every pair of descriptions and warn when two overlap a lot;
            `False` skips it (quadratic in the number of actions; a warning only, so
            loading skips it).

    Returns:
        The report: `actions` (those that loaded), `errors` and `warnings`, each line
        naming the source, the action and the field.
    """
    data, name, errors = read_source(source)
    report = ValidationReport(source=name, errors=list(errors))
    if errors:
        return report
    raw_actions, defaults = _top_level(data, name, report.errors)
    seen: dict[str, int] = {}
    examples: dict[str, str] = {}
    for index, raw in enumerate(raw_actions):
        before = len(report.actions)
        _check_action(raw, index, defaults, seen, report)
        own = isinstance(raw, Mapping) and "examples" in normalise(raw, ACTION_ALIASES)
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
    elif "actions" not in (top := normalise(data, {})) and ("name" in top or "action_name" in top):
        return [data], {}
    else:
        written_keys = {norm_key(k): str(k) for k in data}
        for key in sorted(set(top) - {"actions", "defaults", "version"}):
            hint = difflib.get_close_matches(key, ["actions", "defaults"], n=1)
            errors.append(
                f"{name}: {written_keys.get(key, key)}: unknown top-level key "
                + (f"(did you mean {hint[0]!r}?)" if hint else "(expected actions, defaults)")
            )
        raw_actions = top.get("actions")
        defaults = normalise(top.get("defaults") or {}, ACTION_ALIASES)
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
    normal = _merge_defaults(defaults, normalise(raw, ACTION_ALIASES))
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
    problems = action.check() + path_like_examples(normal.get("response_fields"))
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
        if err["type"] == "extra_forbidden" and (cut := _cut_by_comma(err["loc"], raw)):
            parent = _loc(err["loc"][:-1], normal)
            where = f"{parent}.{cut[0]}" if parent else cut[0]
            msg = (
                "the value probably needs quotes: an unquoted comma inside {...} ended it "
                f'and made {cut[1]!r} a key of its own (write {cut[0]}: "...")'
            )
        elif err["type"] == "extra_forbidden":
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

    Args:
        source: A path (`str` or `Path`) to a YAML or JSON file, YAML/JSON text, a dict
            (`{"actions": [...], "defaults": {...}}`), a list of actions, or actions
            already loaded (returned as they are).

    Returns:
        The actions, in file order, `defaults:` merged in.

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


def unset_secrets(
    actions: Sequence[ApiAction], env: Mapping[str, str] | None = None
) -> list[tuple[str, str, str | None]]:
    """The `${NAME}` secrets not set in `env` (default: `os.environ`), for `validate`.

    Each is `(action, NAME, a set name it may be a misspelling of)`; only names are
    compared and returned, never a value.
    """
    env = os.environ if env is None else env
    set_names = [k for k, v in env.items() if v != ""]
    found: list[tuple[str, str, str | None]] = []
    for action in actions:
        for secret in action.secret_names():
            if env.get(secret, "") == "":
                close = difflib.get_close_matches(secret, set_names, n=1, cutoff=0.8)
                found.append((action.name, secret, close[0] if close else None))
    return found
