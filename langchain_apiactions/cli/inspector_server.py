"""The request inspector's loopback server: prints (and can record) every request it gets.

`apiactions inspect` runs it; tests and notebooks start it to see exactly what an action sends.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import urllib.parse
from pathlib import Path
from typing import Any, TextIO

from langchain_apiactions.cli.local_server import JsonHandler, LoopbackServer

__all__ = ["RequestInspector"]

# `X-Key`, `X-API-Key`, `api_key`, `Ocp-Apim-Subscription-Key`... (not `keyword`).
_SENSITIVE = re.compile(
    r"(?:^|[-_.])key(?:$|[-_.])|apikey|subscription|authorization|auth|cookie|token|secret"
    r"|password|passwd|credential|signature|session",
    re.IGNORECASE,
)
# Query and form names that carry credentials without saying so (`?key=...`, `?sig=...`).
_SENSITIVE_PARAM = re.compile(r"^(key|sig|code|auth|pass|pwd|session|sid)$", re.IGNORECASE)


def _conceal(value: str) -> str:
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token", "digest"):
        return f"{scheme} {_conceal(rest)}"
    return f"{value[:4]}…({len(value)} chars)" if len(value) > 8 else "…"


class RequestInspector(LoopbackServer):
    """A loopback server that prints (and can record) every request, and answers JSON."""

    def __init__(
        self,
        *,
        port: int = 0,
        respond: Any = None,
        status: int = 200,
        record: str | Path | None = None,
        out: TextIO,
        show_secrets: bool = False,
    ) -> None:
        self.respond = {"ok": True} if respond is None else respond
        self.status = status
        self.record = Path(record) if record else None
        self.out = out
        self.show_secrets = show_secrets
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(JsonHandler):
            def _handle(self) -> None:
                outer._show(self.command, self.path, dict(self.headers.items()), self.read_body())
                self.send_json(outer.status, outer.respond)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        super().__init__(Handler, port)

    def _shown(self, key: str, value: str) -> str:
        """A query or form value as printed: concealed when its name looks like a credential."""
        if self.show_secrets or not (_SENSITIVE.search(key) or _SENSITIVE_PARAM.match(key)):
            return value
        return _conceal(value)

    def _show(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        path, _, query = target.partition("?")
        text = body.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "method": method,
            "path": urllib.parse.unquote(path),
            "raw_path": path,
            "query": urllib.parse.parse_qsl(query, keep_blank_values=True),
            "headers": headers,
            "body": text,
            "json": parsed,
        }
        shown = {
            k: (v if self.show_secrets or not _SENSITIVE.search(k) else _conceal(v))
            for k, v in headers.items()
        }
        shown_query = [(k, self._shown(k, v)) for k, v in entry["query"]]
        shown_target = target
        if shown_query != entry["query"]:  # a credential in the query: never print it
            shown_target = path + "?" + "&".join(f"{k}={v}" for k, v in shown_query)
        lines = [f"── {method} {shown_target}   ({entry['time']})"]
        for key, value in shown_query:
            lines.append(f"   query  {key} = {value!r}")
        for key, value in shown.items():
            lines.append(f"   header {key}: {value}")
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if parsed is None and ctype.startswith("application/x-www-form-urlencoded"):
            lines.append("   body (form):")
            for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
                lines.append(f"     {key} = {self._shown(key, value)!r}")
        elif parsed is not None:
            pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
            lines.append("   body (JSON):")
            lines += [f"     {line}" for line in pretty.splitlines()]
        elif text:
            lines.append(f"   body: {text[:2000]}")
        with self._lock:
            self.requests.append(entry)
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()
            if self.record is not None:
                with self.record.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")
