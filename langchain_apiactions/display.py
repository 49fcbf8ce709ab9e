"""How a toolkit, a tool and an artifact show in a notebook: a short `repr` and HTML.

Jupyter calls `_repr_html_`; the REPL and logs get `__repr__`. Both show the action file
as written (`${NAME}` references, never a secret's value) and pass every text through
the toolkit's own masker first, so a secret that ended up in a description, a default
or an artifact is `***` here as everywhere else. Every value is HTML-escaped (an API's
text cannot add markup), and a button is a link only for an `http(s)` URL.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_apiactions.config import ApiAction

# An `ActionArtifact` (result.py renders artifacts through this module, so it is not
# imported here).
Artifact = Mapping[str, Any]

__all__ = [
    "ActionRow",
    "action_row",
    "artifact_html",
    "artifact_repr",
    "tool_html",
    "tool_repr",
    "toolkit_html",
    "toolkit_repr",
]

Mask = Callable[[str], str]
MAX_VALUE_CHARS = 300  # each value shown; the rest is counted, not shown
_STYLE = (
    "<style>.apiactions table{border-collapse:collapse;margin:4px 0}"
    ".apiactions th,.apiactions td{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left;vertical-align:top}.apiactions .ok{color:#17823b}"
    ".apiactions .failed{color:#b42318}.apiactions .muted{color:#667085}</style>"
)


def _unmasked(text: str) -> str:
    return text


@dataclass(frozen=True)
class ActionRow:
    """One action as the toolkit's table shows it."""

    name: str
    method: str
    host: str
    inputs: str
    flags: str


def _host(url: str) -> str:
    try:
        return urllib.parse.urlsplit(url).netloc or url
    except ValueError:
        return url


def _inputs(action: ApiAction) -> str:
    shown = []
    for item in action.inputs:
        kind = "" if item.type == "text" else f" ({item.type})"
        shown.append(f"{item.name}{'[]' if item.array else ''}{kind}{'*' if item.required else ''}")
    return ", ".join(shown)


def _flags(action: ApiAction) -> str:
    flags = []
    if action.once_per_session:
        flags.append("once per session")
    if action.confirm:
        flags.append("confirm")
    if action.close_chat is not None:
        flags.append("close chat")
    if action.button is not None:
        flags.append("button")
    if action.auth is not None:
        flags.append(f"auth: {action.auth.type}")
    if action.body_format == "form":
        flags.append("form body")
    if action.compiled.context:
        flags.append("context: " + ", ".join(sorted(action.compiled.context)))
    return ", ".join(flags)


def action_row(action: ApiAction) -> ActionRow:
    """The name, method, host, inputs (`*` required, `[]` a list) and flags of an action."""
    return ActionRow(
        name=action.name,
        method=action.method,
        host=_host(action.url),
        inputs=_inputs(action),
        flags=_flags(action),
    )


def _cut(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def _cell(text: str, mask: Mask) -> str:
    return escape(_cut(mask(text)))


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], mask: Mask) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(c, mask)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def toolkit_repr(actions: Sequence[ApiAction]) -> str:
    names = ", ".join(a.name for a in actions[:5]) + (", ..." if len(actions) > 5 else "")
    return f"ApiActionsToolkit({len(actions)} action{'s' if len(actions) != 1 else ''}: {names})"


def toolkit_html(actions: Sequence[ApiAction], mask: Mask = _unmasked) -> str:
    """A table of the actions: name, method, host, inputs, flags."""
    rows = [(r.name, r.method, r.host, r.inputs, r.flags) for r in (action_row(a) for a in actions)]
    caption = f"ApiActionsToolkit: {len(actions)} action{'s' if len(actions) != 1 else ''}"
    table = _table(("name", "method", "host", "inputs", "flags"), rows, mask)
    return f'{_STYLE}<div class="apiactions"><b>{escape(caption)}</b>{table}</div>'


def tool_repr(action: ApiAction, mask: Mask = _unmasked) -> str:
    return mask(f"ApiActionTool({action.name}: {action.method} {action.url})")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def tool_html(action: ApiAction, mask: Mask = _unmasked) -> str:
    """The tool's name, request line, description, inputs, response fields and flags."""
    parts = [
        f"<b>{_cell(action.name, mask)}</b> <code>{_cell(action.method, mask)} "
        f"{_cell(action.url, mask)}</code>",
        f"<p>{_cell(action.when_to_use, mask)}</p>" if action.when_to_use else "",
    ]
    if action.inputs:
        rows = [
            (
                i.name,
                i.type + ("[]" if i.array else ""),
                "yes" if i.required else "no",
                i.description,
                "" if i.default is None else _text(i.default),
            )
            for i in action.inputs
        ]
        parts.append(_table(("input", "type", "required", "description", "default"), rows, mask))
    if action.response_fields:
        fields = [(f.name, f.path or f.name) for f in action.response_fields]
        parts.append(_table(("response field", "path"), fields, mask))
    flags = _flags(action)
    if flags:
        parts.append(f'<p class="muted">{_cell(flags, mask)}</p>')
    return f'{_STYLE}<div class="apiactions">{"".join(parts)}</div>'


def _status(art: Artifact) -> tuple[str, str]:
    if art["skipped"]:
        return "muted", "↷ skipped"
    code = "no answer" if art["status_code"] is None else f"HTTP {art['status_code']}"
    return ("ok", f"✓ ok, {code}") if art["ok"] else ("failed", f"✗ failed, {code}")


def artifact_repr(art: Artifact, mask: Mask = _unmasked) -> str:
    _, status = _status(art)
    return mask(f"ArtifactView({art['action']}: {status})")


def _link(url: str, label: str, mask: Mask) -> str:
    shown = mask(url)
    scheme = urllib.parse.urlsplit(shown).scheme.lower() if shown else ""
    text = _cell(label, mask)
    if scheme in ("http", "https"):
        return f'<a href="{escape(shown, quote=True)}" target="_blank" rel="noopener">{text}</a>'
    return f"{text} ({_cell(url, mask)})"


def artifact_html(art: Artifact, mask: Mask = _unmasked) -> str:
    """Status, request line, error, data, missing fields, button and close chat."""
    css, status = _status(art)
    parts = [f'<b>{_cell(art["action"], mask)}</b> <span class="{css}">{escape(status)}</span>']
    sent = art["request"]
    if sent is not None:
        parts.append(
            f"<br><code>{_cell(sent['method'], mask)} {_cell(sent['url'], mask)}</code>"
            f' <span class="muted">{sent["elapsed_ms"]:.1f} ms</span>'
        )
    if art["error"]:
        parts.append(f'<p class="failed">{_cell(art["error"], mask)}</p>')
    data = art["data"]
    if isinstance(data, dict) and data:
        parts.append(_table(("field", "value"), [(k, _text(v)) for k, v in data.items()], mask))
    elif data is not None and data != {}:
        parts.append(f"<pre>{_cell(_text(data), mask)}</pre>")
    if art["missing_fields"]:
        parts.append(f"<p>missing: {_cell(', '.join(art['missing_fields']), mask)}</p>")
    button = art["button"]
    if button:
        parts.append(f"<p>button: {_link(button['url'], button['label'], mask)}</p>")
    if art["close_chat"]:
        farewell = art["farewell"] or "(no farewell)"
        parts.append(f"<p>close chat: {_cell(farewell, mask)}</p>")
    return f'{_STYLE}<div class="apiactions">{"".join(parts)}</div>'
