"""The checks of one action: every template compiled once, each problem named by field.

`compile_action` parses the URL, headers, body, auth, response fields and button of a
validated `ApiAction` in named steps and returns the `CompiledTemplates` the calls use,
with every `Problem` found. `overlapping_pairs` compares the descriptions of a file's
actions (a model may confuse two that overlap).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_apiactions.auth import (
    CompiledAuth,
    compile_auth,
)
from langchain_apiactions.config.mistakes import brace_mistakes
from langchain_apiactions.config.options import call_option_problems
from langchain_apiactions.errors import Problem
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
    tokenize,
)

if TYPE_CHECKING:  # the models call these checks: for the type checker only
    from langchain_apiactions.config.models import ActionInput, ApiAction


__all__ = [
    "BUILTIN_PLACEHOLDERS",
    "OVERLAP_WARNING",
    "CompiledTemplates",
    "compile_action",
    "description_words",
    "overlapping_pairs",
]

BUILTIN_PLACEHOLDERS = ("session_id", "today", "now")
_ACTION_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_INPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names the tool machinery or pydantic itself uses; an input cannot take them.
_RESERVED_INPUTS = {"config", "run_manager", "callbacks", "args", "kwargs", "self", "tool_call_id"}
_BUTTON_BRACES = re.compile(r"(?<!\$)\{([^{}]*)\}")


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


def compile_action(action: ApiAction) -> tuple[CompiledTemplates | None, list[Problem]]:
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
    problems = _with_brace_mistakes(problems, brace_mistakes(action))
    parts: list[Any] = (url.all_parts() if url is not None else []) + headers.all_parts()
    parts += body.all_parts() if body is not None else []
    parts += (button_url.all_parts() if button_url is not None else []) + list(button_label)
    parts += [Secret(name) for name in (auth.secret_names() if auth is not None else [])]
    context, secret_context, found = _context_names(parts)
    problems += found
    problems += call_option_problems(
        method=action.method,
        headers=list(action.headers),
        query_keys={key for key, _, _ in url.query} if url is not None else set(),
        context=context,
        idempotency=action.idempotency_key,
        cache=action.cache,
        pagination=action.pagination,
    )
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


def _with_brace_mistakes(problems: list[Problem], mistakes: list[Problem]) -> list[Problem]:
    """`problems` and `mistakes`; a mistake's message replaces a vaguer one on its field
    (`${station}` in a body: the input it means, not only that secrets stay out)."""
    meant = {(m.field.split(".")[0], m.message.split(" ", 1)[0]) for m in mistakes}
    kept = [
        p
        for p in problems
        if not (
            p.message.startswith("secret ${")
            and (p.field.split(".")[0], p.message.split(" ")[1]) in meant
        )
    ]
    return kept + mistakes


def _check_names(action: ApiAction) -> list[Problem]:
    """The action's name, and each input's name and default."""
    problems: list[Problem] = []
    if not _ACTION_NAME_RE.match(action.name):
        fixed = re.sub(r"[^A-Za-z0-9_]+", "_", action.name.strip()).strip("_")[:64]
        use = f": use {fixed!r}" if fixed else ""
        message = (
            f"{action.name!r} is not a valid action name (letters, digits and _ only, "
            f"at most 64){use}"
        )
        problems.append(Problem("name", message))
    seen: set[str] = set()
    for inp in action.inputs:
        where = f"inputs.{inp.name}"
        if not _INPUT_NAME_RE.match(inp.name):
            fixed = re.sub(r"[^A-Za-z0-9_]+", "_", inp.name.strip()).strip("_")
            fixed = "_" + fixed if fixed[:1].isdigit() else fixed
            use = f": use {fixed!r}" if fixed else ""
            message = (
                f"{inp.name!r} is not a valid input name (letters, digits and _, "
                f"not starting with a digit){use}"
            )
            problems.append(Problem(where, message))
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
        if inp.type == "date" and isinstance(v, dt.datetime):  # YAML reads 2026-01-02T03:04
            return f"{v.isoformat()} is a date and time; write the date only (YYYY-MM-DD)"
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
