"""Record and replay: the API's answers kept in a readable YAML file (a cassette).

A toolkit with `cassette=PATH` hands each HTTP attempt of a call (`CallPipeline.
_send_handling_redirects`) to its `Cassette`, which either answers it from the file
(nothing sent, no connection opened) or sends it and writes the answer down. Everything
else of the call (extraction, masking, once-per-session, the result text) runs as for a
live call, on the recorded `HttpResult`.

Modes (`record_mode`):

- `once`: record when the file is missing; replay only when it exists.
- `none`: replay only; a request with no recording ends in `ok: false`,
  `error_kind: no_recording`, naming the cassette, and nothing is sent.
- `new_episodes`: replay what is recorded, send and record the rest.
- `all`: send everything and record it again (the file is rewritten).

Requests match on method, URL and body as rendered (and the headers named in
`match_headers`). What is written never holds a secret: each of the toolkit's secrets and
each private context value is written as its `${NAME}` / `${context.NAME}` placeholder
(in every form the masker knows: URL-quoted, JSON-escaped, ...), and whatever form is left
goes through the call's masker (`***`). On replay the placeholders in the answer are put
back to the current values, so the outcome step masks them exactly as it did live.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from langchain_apiactions.errors import CassetteError
from langchain_apiactions.network import HttpResult
from langchain_apiactions.redact import is_weak_secret, secret_forms
from langchain_apiactions.request import RenderedRequest
from langchain_apiactions.templating import CONTEXT_PREFIX

__all__ = ["RECORD_MODES", "Cassette", "CassetteError", "RecordMode", "Recordings"]

RecordMode = Literal["once", "none", "new_episodes", "all"]
RECORD_MODES: tuple[str, ...] = get_args(RecordMode)

_HEADER = "# apiactions cassette: recorded API answers; secrets are written as ${NAME}\n"


@dataclass(frozen=True)
class _Names:
    """Placeholder substitution for one call: `${NAME}` <-> value (every form)."""

    values: Mapping[str, str]  # placeholder -> value

    def hide(self, text: str) -> str:
        forms: list[tuple[str, str]] = []
        for placeholder, value in self.values.items():
            forms.extend((form, placeholder) for form in secret_forms(value))
        for form, placeholder in sorted(forms, key=lambda p: -len(p[0])):
            text = text.replace(form, placeholder)
        return text

    def restore(self, text: str) -> str:
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text


class Cassette:
    """One cassette file and its record mode (shared by the tools of one toolkit).

    Args:
        path: The YAML file.
        mode: `once`, `none`, `new_episodes` or `all`.
        match_headers: Header names a request must match too.
        secrets: The toolkit's secrets (name -> value), written as `${NAME}`.

    Raises:
        CassetteError: The mode is unknown or the file cannot be read.
    """

    def __init__(
        self,
        path: str | Path,
        mode: RecordMode = "once",
        match_headers: tuple[str, ...] = (),
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self._file = Recordings(path, mode, "interactions", _HEADER)
        self.path = self._file.path
        self.mode: RecordMode = mode
        self.match_headers = tuple(h.lower() for h in match_headers)
        self.secrets: Mapping[str, str] = dict(secrets or {})

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    # ------------------------------------------------------------------ the one hook
    def exchange(
        self,
        attempt: RenderedRequest,
        live: Callable[[], HttpResult],
        *,
        token: bool = False,
    ) -> HttpResult:
        """The answer to `attempt` (one HTTP attempt of a call, as rendered and
        authenticated): replayed from the file, or `live()` sent and recorded.

        `token=True` for an OAuth2 token request: the tokens in its answer are written as
        `${oauth2.access_token}` (...) and replayed as stand-ins (`apiactions-replayed-
        access_token`), so a replay needs no token endpoint and no token is ever written.
        In `new_episodes` a token request is sent (a new episode needs a real token) and
        its recording replaced.
        """
        request = attempt
        names = self._names(request)
        key = self._key(attempt, names, request)
        replaying = self._file.replaying and not (token and self.mode == "new_episodes")
        if replaying:
            found = self._file.find(lambda entry: entry.get("request") == key)
            if found is not None:
                if token:
                    names = _Names({**names.values, **_STAND_INS})
                return _result(found["response"], names)
            if not self._file.recording:
                return HttpResult(
                    error=(
                        f"no recording of {key['method']} {key['url']} in the cassette "
                        f"{self.path} (record mode {self.mode})"
                    ),
                    error_kind="no_recording",
                )
        result = live()
        if token:
            names = _Names({**names.values, **_tokens_in(result)})
        entry = {"request": key, "response": _written(result, names, request, token=token)}
        # One recording per token request: the newest replaces it.
        self._file.record(entry, replace=token)
        return result

    # ------------------------------------------------------------------ helpers
    def _names(self, request: RenderedRequest) -> _Names:
        values: dict[str, str] = {}
        for name, value in self.secrets.items():
            if value and not is_weak_secret(value):
                values["${" + name + "}"] = value
        for name, value in request.values.items():
            if name.startswith(CONTEXT_PREFIX) and request.masker is not None:
                text = str(value)
                # Only the private ones (the call's masker masks them everywhere).
                if text and not is_weak_secret(text) and request.masker.mask(text) != text:
                    values["${" + name + "}"] = text
        return _Names(values)

    def _key(
        self, attempt: RenderedRequest, names: _Names, request: RenderedRequest
    ) -> dict[str, Any]:
        def clean(text: str) -> str:
            text = names.hide(text)
            return request.masker.mask(text) if request.masker is not None else text

        key: dict[str, Any] = {"method": attempt.method, "url": clean(attempt.url)}
        if attempt.body is not None:
            key["body"] = clean(attempt.body.decode("utf-8", "replace"))
        headers = {
            k.lower(): clean(v)
            for k, v in attempt.headers.items()
            if k.lower() in self.match_headers
        }
        if headers:
            key["headers"] = dict(sorted(headers.items()))
        return key


class Recordings:
    """A cassette file's recorded entries (each a mapping with a `request`), as both the
    API cassette (`Cassette`, list `interactions`) and eval's model cassette (list
    `answers`) keep them: what the record mode allows, the entries read once when the
    object is made, each found entry played once (then the last one answers again), and
    the file written again after each new recording (atomically, in `order` if given).

    Args:
        path: The YAML file.
        mode: `once`, `none`, `new_episodes` or `all`.
        key: The name of the file's list of entries.
        header: The comment line(s) the file starts with.
        kind: Said when the file has no such list (`" (not an eval cassette?)"`).
        order: A sort key for the entries as written (a rerun then diffs cleanly).

    Raises:
        CassetteError: The mode is unknown or the file cannot be read.
    """

    def __init__(
        self,
        path: str | Path,
        mode: RecordMode,
        key: str,
        header: str,
        *,
        kind: str = "",
        order: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        if mode not in RECORD_MODES:
            msg = f"unknown record mode {mode!r}: one of {', '.join(RECORD_MODES)}"
            raise CassetteError(msg)
        self.path = Path(path)
        self.key = key
        self._header = header
        self._order = order
        self.entries: list[dict[str, Any]] = []
        self._played: set[int] = set()  # indexes of the entries played or recorded
        self._lock = threading.Lock()
        exists = self.path.exists()
        if exists and mode != "all":
            self.entries = _load(self.path, key, kind)
        # `once` records only a cassette that did not exist when it was opened.
        self.recording = mode in ("all", "new_episodes") or (mode == "once" and not exists)
        self.replaying = mode != "all"

    def find(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The first entry `matches` accepts that has not been played yet (now played),
        else the last one it accepts (every recording of it played), else None."""
        last = None
        with self._lock:
            for i, entry in enumerate(self.entries):
                if not matches(entry):
                    continue
                if i not in self._played:
                    self._played.add(i)
                    return entry
                last = entry
        return last

    def record(self, entry: dict[str, Any], *, replace: bool = False) -> None:
        """Keep `entry` (played) and write the file; `replace`: in place of the first
        entry with the same `request`, if any."""
        with self._lock:
            same = [i for i, e in enumerate(self.entries) if e.get("request") == entry["request"]]
            if replace and same:
                self.entries[same[0]] = entry
                self._played.add(same[0])
            else:
                self.entries.append(entry)
                self._played.add(len(self.entries) - 1)
            self._save()

    def _save(self) -> None:
        entries = self.entries if self._order is None else sorted(self.entries, key=self._order)
        text = self._header + yaml.safe_dump(
            {"version": 1, self.key: entries}, sort_keys=False, allow_unicode=True, width=100
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cassette-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.path)


# The fields of a token endpoint's answer that are credentials (RFC 6749 5.1, OIDC).
_TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
_STAND_INS = {"${oauth2." + f + "}": f"apiactions-replayed-{f}" for f in _TOKEN_FIELDS}


def _tokens_in(result: HttpResult) -> dict[str, str]:
    """`${oauth2.access_token}` -> the token, for each credential in a token answer."""
    try:
        parsed = json.loads(result.body)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(parsed, Mapping):
        return {}
    return {
        "${oauth2." + f + "}": parsed[f]
        for f in _TOKEN_FIELDS
        if isinstance(parsed.get(f), str) and parsed[f]
    }


def _load(path: Path, key: str, kind: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        msg = f"cassette {path} cannot be read: {e}"
        raise CassetteError(msg) from None
    entries = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        msg = f"cassette {path} has no '{key}' list{kind}"
        raise CassetteError(msg)
    return [dict(e) for e in entries if isinstance(e, Mapping)]


def _written(
    result: HttpResult, names: _Names, request: RenderedRequest, *, token: bool = False
) -> dict[str, Any]:
    def clean(text: str) -> str:
        text = names.hide(text)
        return request.masker.mask(text) if request.masker is not None else text

    out: dict[str, Any] = {}
    if result.status is not None:
        out["status"] = result.status
    if result.headers:
        # Content-Length is left out: a replayed JSON body is written anew.
        out["headers"] = {
            k: clean(v) for k, v in result.headers.items() if k.lower() != "content-length"
        }
    if result.body:
        try:
            text = result.body.decode("utf-8")
        except UnicodeDecodeError:
            out["body_base64"] = base64.b64encode(result.body).decode("ascii")
        else:
            text = clean(text)
            try:
                out["json"] = json.loads(text)
            except ValueError:
                out["body"] = text
            else:
                if token and isinstance(out["json"], dict):  # however short a token is
                    for f in _TOKEN_FIELDS:
                        if isinstance(out["json"].get(f), str):
                            out["json"][f] = "${oauth2." + f + "}"
    if result.error is not None:
        out["error"] = clean(result.error)
        out["error_kind"] = result.error_kind
    if result.maybe_sent:
        out["maybe_sent"] = True
    if result.final_url:
        out["final_url"] = clean(result.final_url)
    out["elapsed_ms"] = result.elapsed_ms
    return out


def _result(response: Mapping[str, Any], names: _Names) -> HttpResult:
    if "json" in response:
        body = json.dumps(response["json"], ensure_ascii=False).encode("utf-8")
    elif "body_base64" in response:
        body = base64.b64decode(response["body_base64"])
    else:
        body = str(response.get("body", "")).encode("utf-8")
    body = names.restore(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    headers = {str(k): names.restore(str(v)) for k, v in (response.get("headers") or {}).items()}
    return HttpResult(
        status=response.get("status"),
        headers=headers,
        body=body,
        elapsed_ms=float(response.get("elapsed_ms") or 0.0),
        error=response.get("error"),
        error_kind=response.get("error_kind"),
        maybe_sent=bool(response.get("maybe_sent")),
        final_url=names.restore(str(response.get("final_url") or "")),
        replayed=True,
    )
