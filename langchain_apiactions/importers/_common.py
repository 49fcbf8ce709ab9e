"""What both importers share: the imported file, legal names, secret names and the YAML."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["ImportResult", "ImportedAction", "NameBook", "action_name", "input_name"]

_RESERVED_INPUTS = {"config", "run_manager", "callbacks", "args", "kwargs", "self", "tool_call_id"}
BUILTINS = ("session_id", "today", "now")
MAX_NAME = 64
# Header and query names that carry credentials: never an input, always a `${SECRET}`.
CREDENTIAL_HEADER_RE = re.compile(
    r"(^authorization$|^proxy-authorization$|^cookie$|api[-_]?key|apikey|token|secret|"
    r"password|passwd|signature|^x-auth|session|^private-key$|access[-_]?key)",
    re.IGNORECASE,
)
NOT_CREDENTIAL_HEADERS = {"idempotency-key", "x-idempotency-key"}
CREDENTIAL_QUERY_RE = re.compile(
    r"^(api[-_]?key|apikey|key|token|access[-_]?token|auth|secret|client[-_]?secret|"
    r"password|signature|sig|appid|app[-_]?key)$",
    re.IGNORECASE,
)


def is_credential(name: str, where: str) -> bool:
    """A header or query parameter that carries a credential (by its name)."""
    lower = name.lower()
    if where == "header":
        return (
            lower not in NOT_CREDENTIAL_HEADERS and CREDENTIAL_HEADER_RE.search(lower) is not None
        )
    return CREDENTIAL_QUERY_RE.match(name) is not None


_TOP_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")
_KEY_ORDER = (
    "name",
    "when_to_use",
    "method",
    "url",
    "inputs",
    "headers",
    "auth",
    "body_format",
    "body",
    "response_fields",
    "confirm",
)


@dataclass
class ImportedAction:
    """One imported action: its mapping, where it came from, and notes for a person.

    `notes` maps an action key (`"url"`, `"inputs"`, ...) or `""` (the action itself) to
    the comments written above it in the YAML.
    """

    data: dict[str, Any]
    origin: str
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, key: str, text: str) -> None:
        notes = self.notes.setdefault(key, [])
        if text not in notes:
            notes.append(text)


@dataclass
class ImportResult:
    """An imported action file: `mapping()` is the file, `to_yaml()` the commented YAML."""

    actions: list[ImportedAction]
    defaults: dict[str, Any] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def mapping(self) -> dict[str, Any]:
        """The action file as a mapping: `{"actions": [...]}` (and `defaults` when shared)."""
        out: dict[str, Any] = {}
        if self.defaults:
            out["defaults"] = self.defaults
        out["actions"] = [_ordered(a.data) for a in self.actions]
        return out

    def to_yaml(self) -> str:
        """The action file as YAML, with comments for what needs a person's attention."""
        fast = len(self.actions) > FAST_YAML_FROM
        lines = _comment(self.header, "")
        if lines:
            lines.append("")
        if self.defaults:
            lines.append(_dump({"defaults": self.defaults}, fast).rstrip("\n"))
            lines.append("")
        lines.append("actions:")
        for action in self.actions:
            lines.append("")
            lines += _comment([*action.notes.get("", []), action.origin], "  ")
            # One dump per action; each top-level key's comments go above its line.
            first = True
            for line in _dump(_ordered(action.data), fast).rstrip("\n").splitlines():
                key = _TOP_KEY_RE.match(line)
                if key is not None:
                    lines += _comment(action.notes.get(key.group(1), []), "  " if first else "    ")
                lines.append(("  - " if first else "    ") + line)
                first = False
        return "\n".join(lines) + "\n"


def _ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    keys = [k for k in _KEY_ORDER if k in data] + [k for k in data if k not in _KEY_ORDER]
    return {k: data[k] for k in keys}


# What a YAML comment may hold: printable characters (PyYAML's reader), on one line.
_NOT_PRINTABLE_RE = re.compile(
    "[^\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]"
)


def _comment(notes: Iterable[str], indent: str) -> list[str]:
    out: list[str] = []
    for raw in notes:
        note = _NOT_PRINTABLE_RE.sub(" ", raw)
        for line in textwrap.wrap(note, width=96 - len(indent), break_on_hyphens=False) or [""]:
            out.append(f"{indent}# {line}".rstrip())
    return out


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as `|` blocks, never aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


class _FastDumper(yaml.CSafeDumper if hasattr(yaml, "CSafeDumper") else yaml.SafeDumper):  # type: ignore[misc]
    """libyaml's emitter (about 6x faster; lists not indented under their key)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_FastDumper.add_representer(str, _str_representer)
FAST_YAML_FROM = 50  # actions; above this, speed matters more than list indentation


def _dump(data: Any, fast: bool = False) -> str:
    return yaml.dump(
        data,
        Dumper=_FastDumper if fast else _Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=96,
    )


# --------------------------------------------------------------------------- names


def _legal(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", text)).strip("_")


def action_name(preferred: str | None, method: str, path: str, taken: set[str]) -> str:
    """A legal, unique action name (`[A-Za-z0-9_]`, at most 64): the id, else method + path."""
    base = _legal(preferred or "")
    if not base:
        base = _legal(f"{method.lower()}_{path}") or method.lower()
        if base == method.lower():
            base += "_root"
    base = base[:MAX_NAME]
    name = base
    n = 2
    while name.lower() in taken:
        suffix = f"_{n}"
        name = base[: MAX_NAME - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def input_name(raw: str, taken: set[str], *, prefix: str = "") -> str:
    """A legal, unique input name (`^[A-Za-z_][A-Za-z0-9_]*$`, not reserved)."""
    base = _legal(raw) or "value"
    if prefix:
        base = f"{_legal(prefix)}_{base}".strip("_")
    if base[0].isdigit():
        base = f"n{base}"
    if base in _RESERVED_INPUTS or base.startswith("model_") or base in BUILTINS:
        base = f"arg_{base}"
    name = base
    n = 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name)
    return name


class NameBook:
    """Secret (`${ENV}`) names for one imported file: readable, upper case, unique."""

    def __init__(self, prefix: str) -> None:
        self.prefix = env_word(prefix) or "API"
        self.names: list[str] = []

    def secret(self, *parts: str) -> str:
        words = [env_word(p) for p in parts if env_word(p)]
        if not (words and (words[0] + "_").startswith(self.prefix + "_")):
            words.insert(0, self.prefix)  # API + API_KEY is API_KEY, not API_API_KEY
        name = "_".join(words)
        name = re.sub(r"_+", "_", name)
        if name not in self.names:
            self.names.append(name)
        return name


def env_word(text: str) -> str:
    """`accountSid authToken` -> `ACCOUNT_SID_AUTH_TOKEN`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    word = re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper()
    if word and word[0].isdigit():
        word = f"N{word}"
    return word


_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def clean_text(text: Any, limit: int = 0) -> str:
    """HTML tags dropped (Stripe's descriptions are HTML), whitespace collapsed; cut at
    `limit` characters on a word boundary (0: no cut)."""
    if not isinstance(text, str):
        return ""
    out = re.sub(r"\s+", " ", _HTML_TAG_RE.sub("", text)).strip()
    if limit and len(out) > limit:
        cut = out[:limit].rsplit(" ", 1)[0].rstrip(",;:")
        out = cut + "…"
    return out
