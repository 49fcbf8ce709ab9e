"""What both importers share: the imported file, legal names, secret names and the YAML."""

from __future__ import annotations

import json
import re
import sys
import textwrap
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from langchain_apiactions.errors import ImportSpecError

__all__ = ["ImportResult", "ImportedAction", "NameBook", "action_name", "input_name"]

_RESERVED_INPUTS = {"config", "run_manager", "callbacks", "args", "kwargs", "self", "tool_call_id"}
BUILTINS = ("session_id", "today", "now")
MAX_NAME = 64
# The largest imported action (values in it: keys, list items, text) and file: Kubernetes'
# largest action holds ~300 values, its 1,065 actions ~91,000 in all.
MAX_ACTION_VALUES = 20_000
MAX_FILE_VALUES = 1_000_000
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

    def secret_hosts(self) -> dict[str, list[str]]:
        """Each secret (`${NAME}`) the file uses, and the hosts its value would be sent to:
        the action's host, or the token endpoint's for OAuth2 client credentials."""
        out: dict[str, list[str]] = {}

        def add(text: Any, url: Any) -> None:
            host = _host(url)
            for name in _SECRET_REF_RE.findall(json.dumps(text)):
                hosts = out.setdefault(name, [])
                if host and host not in hosts:
                    hosts.append(host)

        for action in self.actions:
            url = action.data.get("url")
            add([url, action.data.get("headers")], url)
            auth = action.data.get("auth", self.defaults.get("auth"))
            if isinstance(auth, Mapping) and auth.get("type") == "oauth2_client_credentials":
                add(auth, auth.get("token_url"))
            elif auth is not None:
                add(auth, url)
        return out

    def secrets_already_set(self, environ: Mapping[str, str]) -> list[str]:
        """Warnings for secret names the document chose that are already set in `environ`:
        the file would send that value (an `OPENAI_API_KEY`, say) to the document's host."""
        warnings = []
        for name, hosts in self.secret_hosts().items():
            if name in environ:
                where = ", ".join(hosts) or "the API"
                warnings.append(
                    f"${{{name}}} is already set in this environment: the imported file "
                    f"sends its value to {where}. The document chose that name; rename the "
                    "secret unless that host should get it"
                )
        return warnings

    def check_size(self, source: str) -> None:
        """Refuse a result larger than an action file should ever be (`MAX_ACTION_VALUES`
        per action, `MAX_FILE_VALUES` in all), naming the operation."""
        total = 0
        for action in self.actions:
            size = expanded_size(action.data)
            if size > MAX_ACTION_VALUES:
                origin = one_line(action.origin)
                msg = (
                    f"{origin}: the imported action would hold {size:,} values (at most "
                    f"{MAX_ACTION_VALUES:,}); not imported"
                )
                raise ImportSpecError(msg)
            total += size
        total += expanded_size(self.defaults)
        if total > MAX_FILE_VALUES:
            msg = (
                f"{one_line(source)}: the imported file would hold {total:,} values (at most "
                f"{MAX_FILE_VALUES:,}); import fewer operations (--operations)"
            )
            raise ImportSpecError(msg)

    def to_yaml(self) -> str:
        """The action file as YAML, with comments for what needs a person's attention.

        The text is read back before it is returned and must be exactly `mapping()`: text
        from the document (in a comment or a value) can never add or change a key.

        Raises:
            ImportSpecError: the YAML would not read back as the mapping, naming the
                operation (or cURL command) it came from.
        """
        try:
            text, starts = self._render()
            self._check_reads_back(text, starts)
        except RecursionError:  # PyYAML's emitter recurses (a value thousands of levels deep)
            msg = "the imported file is nested too deep to write (thousands of levels)"
            raise ImportSpecError(msg) from None
        return text

    def _check_reads_back(self, text: str, starts: list[int]) -> None:
        from langchain_apiactions.config.reading import load_yaml

        expected = self.mapping()
        try:
            parsed = load_yaml(text)  # YAML_LOADER's reading, duplicate keys refused
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = _first_line(str(getattr(e, "problem", None) or e))
            line = mark.line if mark is not None else -1
            index = sum(1 for start in starts if start <= line) - 1
            origin = one_line(self.actions[index].origin) + ": " if index >= 0 else ""
            msg = f"{origin}the imported YAML does not read back ({problem}); nothing written"
            raise ImportSpecError(msg) from None
        if parsed == expected:  # the usual case, at C speed (NaN is checked below)
            return
        if not isinstance(parsed, dict) or set(parsed) != set(expected):
            msg = "the imported YAML does not read back as the action file; nothing written"
            raise ImportSpecError(msg)
        if not same_data(parsed.get("defaults"), expected.get("defaults")):
            msg = "the imported YAML does not read back as written (defaults); nothing written"
            raise ImportSpecError(msg)
        actions = parsed.get("actions")
        if not isinstance(actions, list) or len(actions) != len(self.actions):
            msg = "the imported YAML does not read back as the action file; nothing written"
            raise ImportSpecError(msg)
        for action, got, want in zip(self.actions, actions, expected["actions"], strict=True):
            if not same_data(got, want):
                origin = one_line(action.origin)
                msg = (
                    f"{origin}: the imported YAML does not read back as written (text from "
                    "the document would change the action); nothing written"
                )
                raise ImportSpecError(msg)

    def _render(self) -> tuple[str, list[int]]:
        """The YAML text, and the line (from 0) where each action starts."""
        fast = len(self.actions) > FAST_YAML_FROM
        lines = _comment(self.header, "")
        if lines:
            lines.append("")
        if self.defaults:
            lines += _dump({"defaults": self.defaults}, fast).rstrip("\n").split("\n")
            lines.append("")
        lines.append("actions:")
        starts: list[int] = []
        for action in self.actions:
            lines.append("")
            starts.append(len(lines))
            lines += _comment([*action.notes.get("", []), action.origin], "  ")
            # One dump per action; each top-level key's comments go above its line.
            first = True
            for line in _dump(_ordered(action.data), fast).rstrip("\n").split("\n"):
                key = _TOP_KEY_RE.match(line)
                if key is not None:
                    lines += _comment(action.notes.get(key.group(1), []), "  " if first else "    ")
                lines.append(("  - " if first else "    ") + line)
                first = False
        return "\n".join(lines) + "\n", starts


_SECRET_REF_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _host(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    return f"{host}:{port}" if host and port else host


def _ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    keys = [k for k in _KEY_ORDER if k in data] + [k for k in data if k not in _KEY_ORDER]
    return {k: data[k] for k in keys}


# What text from a document may carry into a YAML comment: characters YAML reads as
# printable, on one line. YAML (PyYAML and libyaml) breaks lines at \r, \n, U+0085 (NEL),
# U+2028 and U+2029; after a break, the rest of a "comment" would be live YAML. A BOM
# and anything outside YAML's printable set are dropped too.
_NOT_ONE_LINE_RE = re.compile(
    "[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def one_line(text: str) -> str:
    """`text` with every line break YAML honours (and every character it would refuse)
    made a space: safe in a YAML comment or a one-line message."""
    return _NOT_ONE_LINE_RE.sub(" ", text)


def _first_line(text: str) -> str:
    return one_line(text.strip().splitlines()[0] if text.strip() else text)[:200]


def same_data(a: Any, b: Any) -> bool:
    """`a == b` for parsed YAML (NaN equals NaN), walked with a stack (no recursion)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, dict) and isinstance(y, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float) and isinstance(y, float) and x != x and y != y:
            continue
        elif type(x) is not type(y) or x != y:
            return False
    return True


def expanded_size(root: Any) -> int:
    """How many values `root` holds once every shared container is written out in full
    (YAML aliases are shared containers): linear in the distinct containers, no recursion.
    A container that holds itself (`&a [*a]`) is endless: `sys.maxsize`."""
    size = _tree_size(root)
    return _shared_size(root) if size is None else size


def _tree_size(root: Any) -> int | None:
    """`expanded_size` of a tree (no container reached twice, as anything `json.loads`
    makes): containers plus scalars, in one pass. None as soon as a container is reached
    a second time (shared or holding itself): `_shared_size` then counts it."""
    if not isinstance(root, (dict, list)):
        return 1
    seen = {id(root)}
    stack: list[Any] = [root]
    total = 0
    while stack:
        node = stack.pop()
        values = node.values() if isinstance(node, dict) else node
        total += 1 + len(values)  # the node, and each value in it once
        for v in values:
            kind = type(v)
            if kind in _SCALAR_TYPES or not isinstance(v, (dict, list)):
                continue
            if id(v) in seen:
                return None
            seen.add(id(v))
            stack.append(v)
            total -= 1  # a container counts itself when it is taken from the stack
    return total


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _shared_size(root: Any) -> int:
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if not isinstance(node, (dict, list)) or (id(node) in sizes and not children_done):
            continue
        values = node.values() if isinstance(node, dict) else node
        if children_done:
            open_ids.discard(id(node))
            sizes[id(node)] = min(
                sys.maxsize,
                1 + sum(sizes.get(id(v), 1) if isinstance(v, (dict, list)) else 1 for v in values),
            )
            continue
        if id(node) in open_ids:
            return sys.maxsize
        open_ids.add(id(node))
        stack.append((node, True))
        stack.extend((v, False) for v in values if isinstance(v, (dict, list)))
    return sizes.get(id(root), 1)


def _comment(notes: Iterable[str], indent: str) -> list[str]:
    out: list[str] = []
    for raw in notes:
        note = one_line(raw)
        for line in textwrap.wrap(note, width=96 - len(indent), break_on_hyphens=False) or [""]:
            out.append(f"{indent}# {line}".rstrip())
    return out


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as `|` blocks, never aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


# A `|` block keeps its text only if its lines break at `\n` alone: YAML reads U+0085 in
# a block as `\n`, and a block cannot hold the characters YAML would escape.
_NOT_IN_BLOCK_RE = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Text with a line break or a character YAML would refuse is written double-quoted,
    # where every one of them is an escape (`\N`, `\L`, `\r`, ...): left to itself,
    # PyYAML's emitter writes U+0085 raw inside single quotes, and it reads back changed.
    style = None
    if _NOT_ONE_LINE_RE.search(data):
        style = "|" if "\n" in data and not _NOT_IN_BLOCK_RE.search(data) else '"'
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
