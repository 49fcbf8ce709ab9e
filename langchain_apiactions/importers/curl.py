"""One cURL command, as API docs print it -> an action file with one action.

The command is split with `shlex` (POSIX shell quoting), after joining `\\`-newline
continuations. Credentials (an `Authorization` header, API-key-like headers, cookies,
`-u user:pass`, key-like query values) are never copied: they become `${ENV}` names,
taken from a `$VAR` in the command when it has one.
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.parse
from typing import Any

from langchain_apiactions.errors import ImportSpecError
from langchain_apiactions.importers._common import (
    CREDENTIAL_HEADER_RE as _CREDENTIAL_HEADER_RE,
)
from langchain_apiactions.importers._common import (
    CREDENTIAL_QUERY_RE as _CREDENTIAL_QUERY_RE,
)
from langchain_apiactions.importers._common import (
    NOT_CREDENTIAL_HEADERS as _NOT_CREDENTIAL_HEADERS,
)
from langchain_apiactions.importers._common import (
    ImportedAction,
    ImportResult,
    NameBook,
    action_name,
    input_name,
)
from langchain_apiactions.templating import PLACEHOLDER_RE, SECRET_RE

__all__ = ["import_curl"]

_WITH_VALUE = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "-d": "data",
    "--data": "data",
    "--data-ascii": "data",
    "--data-binary": "data",
    "--data-raw": "raw",
    "--data-urlencode": "urlencode",
    "--json": "json",
    "-u": "user",
    "--user": "user",
    "--url": "url",
    "-A": "agent",
    "--user-agent": "agent",
    "-e": "referer",
    "--referer": "referer",
    "-b": "cookie",
    "--cookie": "cookie",
    "-F": "form",
    "--form": "form",
    "--oauth2-bearer": "bearer",
}
# Options that take a value we do not use (so the value is not read as the URL).
_IGNORED_WITH_VALUE = {
    "-o", "--output", "-m", "--max-time", "--connect-timeout", "-w", "--write-out",
    "--retry", "--retry-delay", "--retry-max-time", "-x", "--proxy", "--cacert", "--cert",
    "--key", "--resolve", "-c", "--cookie-jar", "-r", "--range", "--limit-rate", "-T",
    "--upload-file", "--max-redirs", "-K", "--config", "--interface", "--http-version",
}  # fmt: skip
_GET_FLAGS = {"-G", "--get"}
_HEAD_FLAGS = {"-I", "--head"}
_ENV_RE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_ENV_IN_TEXT_RE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_PATH_VAR_RE = re.compile(
    r"^(?:\{([A-Za-z_][A-Za-z0-9_\-]*)\}|:([A-Za-z_][A-Za-z0-9_]*)|<([A-Za-z_][A-Za-z0-9_\-]*)>"
    r"|%3C([A-Za-z_][A-Za-z0-9_\-]*)%3E|\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?)$",
    re.IGNORECASE,
)
# GitHub-style docs write path values in capitals: /repos/OWNER/REPO/issues/ISSUE_NUMBER
_CAPS_SEGMENT_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _split(text: str) -> list[str]:
    lines = []
    for line in text.strip().splitlines():
        lines.append(re.sub(r"^\s*[$>]\s+", "", line))  # a shell prompt printed in the docs
    joined = re.sub(r"\\[ \t]*\r?\n", " ", "\n".join(lines))
    joined = re.sub(r"\^\r?\n", " ", joined)  # Windows cmd continuations
    try:
        tokens = shlex.split(joined, posix=True)
    except ValueError as e:
        msg = f"cURL command: cannot split it like a shell would ({e}); check the quotes"
        raise ImportSpecError(msg) from None
    if not tokens or not tokens[0].endswith("curl"):
        msg = "cURL command: it must start with `curl`"
        raise ImportSpecError(msg)
    return tokens[1:]


def _options(tokens: list[str]) -> tuple[list[tuple[str, str]], list[str], set[str]]:
    """(option kind, value) pairs in order, the positional URLs, the flags seen."""
    pairs: list[tuple[str, str]] = []
    urls: list[str] = []
    flags: set[str] = set()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("--") and "=" in tok and tok.split("=", 1)[0] in _WITH_VALUE:
            opt, value = tok.split("=", 1)
            pairs.append((_WITH_VALUE[opt], value))
            continue
        if tok in _WITH_VALUE or tok in _IGNORED_WITH_VALUE:
            if i >= len(tokens):
                msg = f"cURL command: {tok} needs a value"
                raise ImportSpecError(msg)
            if tok in _WITH_VALUE:
                pairs.append((_WITH_VALUE[tok], tokens[i]))
            i += 1
            continue
        if tok.startswith("-") and not tok.startswith("--") and len(tok) > 2:
            head = tok[:2]
            if head in _WITH_VALUE:  # -XPOST, -H'Accept: x'
                pairs.append((_WITH_VALUE[head], tok[2:]))
                continue
            flags.update(f"-{c}" for c in tok[1:])  # -sSL
            continue
        if tok.startswith("-") and tok != "-":
            flags.add(tok)
            continue
        urls.append(tok)
    return pairs, urls, flags


def _host_word(host: str) -> str:
    labels = [x for x in host.lower().split(".") if x]
    if len(labels) < 2 or re.match(r"^[0-9.]+$", host) or host in ("localhost",):
        return "API"
    word = labels[-2]
    if word in ("co", "com", "org", "net", "gov", "ac") and len(labels) >= 3:
        word = labels[-3]
    return word


class _Curl:
    def __init__(self, text: str) -> None:
        self.pairs, urls, self.flags = _split_and_parse(text)
        url = next((v for k, v in self.pairs if k == "url"), None) or (urls[0] if urls else None)
        if not url:
            msg = "cURL command: no URL found"
            raise ImportSpecError(msg)
        if len(urls) > 1:
            msg = f"cURL command: more than one URL ({', '.join(urls[:3])}); import one at a time"
            raise ImportSpecError(msg)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", url):
            url = "https://" + url
        self.url = urllib.parse.urlsplit(url)
        if self.url.scheme.lower() not in ("http", "https") or not self.url.hostname:
            msg = f"cURL command: {url!r} is not an http(s) URL"
            raise ImportSpecError(msg)
        self.book = NameBook(_host_word(self.url.hostname))
        self.taken: set[str] = set()
        self.inputs: list[dict[str, Any]] = []
        self.action = ImportedAction({}, "")
        self.secret_names: list[str] = []

    def secret(self, value: str, *parts: str) -> str:
        """`${NAME}`: the command's own `$VAR` when the value is one, else a made-up name."""
        m = _ENV_RE.match(value.strip())
        name = m.group(1) if m else self.book.secret(*parts)
        if name not in self.secret_names:
            self.secret_names.append(name)
        return "${" + name + "}"

    def build(self) -> ImportResult:
        a = self.action
        method = next((v for k, v in reversed(self.pairs) if k == "method"), None)
        data = [(k, v) for k, v in self.pairs if k in ("data", "raw", "urlencode", "json")]
        as_query = bool(self.flags & _GET_FLAGS)
        if self.flags & _HEAD_FLAGS:
            msg = "cURL command: HEAD (-I) is not an action method (GET, POST, PUT, PATCH, DELETE)"
            raise ImportSpecError(msg)
        method = (method or ("POST" if data and not as_query else "GET")).upper()
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            msg = f"cURL command: method {method} is not supported (GET, POST, PUT, PATCH, DELETE)"
            raise ImportSpecError(msg)
        a.origin = f"curl -X {method} {urllib.parse.urlunsplit(self.url._replace(query=''))}"
        # The command's own `$VARIABLE`s become `${VARIABLE}` secrets: no input may take
        # one of their names (`${a}` beside an input `a` reads as a mistake).
        for _, value in [*self.pairs, ("url", self.url.query)]:
            self.taken.update(m.group(1) for m in _ENV_IN_TEXT_RE.finditer(value))
        path = self._path()
        a.data["name"] = action_name(None, method, path.replace("{", "").replace("}", ""), set())
        a.data["when_to_use"] = f"Calls {method} {self.url.hostname}{self.url.path or '/'}."
        a.note(
            "when_to_use",
            "TODO: say when the model should use this action (it picks actions by this text), "
            "and rename the action to what it does.",
        )
        a.data["method"] = method
        query = self._query(urllib.parse.parse_qsl(self.url.query, keep_blank_values=True))
        headers, auth = self._headers()
        body: dict[str, Any] | None = None
        if data:
            if as_query or method == "GET":
                query += self._query(self._form_pairs(data))
            else:
                body = self._body(data, headers)
        origin = f"{self.url.scheme}://{self.url.netloc.rsplit('@', 1)[-1]}"
        a.data["url"] = origin + path + ("?" + "&".join(query) if query else "")
        if self.inputs:
            a.data["inputs"] = self.inputs
        if headers:
            a.data["headers"] = headers
        if auth:
            a.data["auth"] = auth
        if body:
            a.data.update(body)
        a.note(
            "response_fields",
            "No response fields: the whole body reaches the model. Call it once "
            "(`apiactions call`) and declare the response_fields the model needs.",
        )
        if any(k == "form" for k, _ in self.pairs):
            a.note("", "A multipart (-F) body is not imported: only JSON and form bodies are.")
        if method in _WRITE_METHODS:
            a.data["confirm"] = True
            a.note("confirm", f"{method} changes data: the agent asks the visitor before calling.")
        result = ImportResult(actions=[a])
        used = json.dumps([a.data.get(k) for k in ("url", "headers", "auth")])
        self.secret_names = [n for n in self.secret_names if "${" + n + "}" in used]
        result.secrets = list(self.secret_names)
        result.header = [
            "Imported by `apiactions import curl`. Curate before use: write the when_to_use,",
            "rename the action, turn values that never change back into literals, then",
            "`apiactions validate` this file.",
        ]
        if self.secret_names:
            result.header.append(
                "Credentials in the command were not copied. Set in the environment: "
                + ", ".join(self.secret_names)
            )
        return result

    # ---------------------------------------------------------------- URL
    def _path(self) -> str:
        segments = []
        for seg in (self.url.path or "").split("/")[1:]:
            m = _PATH_VAR_RE.match(seg)
            caps = len(seg) > 3 and _CAPS_SEGMENT_RE.match(seg) is not None
            if m or caps:
                raw = next(g for g in m.groups() if g) if m else seg
                name = input_name(raw.lower() if raw.isupper() else raw, self.taken)
                self.inputs.append(
                    {
                        "name": name,
                        "type": "text",
                        "description": f"The {raw} in the URL path.",
                        "required": True,
                    }
                )
                segments.append("{" + name + "}")
            else:
                segments.append(seg.replace("{", "%7B").replace("}", "%7D"))
        return "/" + "/".join(segments) if segments else ""

    def _query(self, pairs: list[tuple[str, str]]) -> list[str]:
        out = []
        for key, value in pairs:
            quoted = urllib.parse.quote(key, safe="-._~!$'()*+,;:@/")
            if _CREDENTIAL_QUERY_RE.match(key) or _ENV_RE.match(value.strip()):
                out.append(f"{quoted}={self.secret(value, key)}")
                continue
            name = input_name(key, self.taken)
            entry: dict[str, Any] = {"name": name, "type": _kind(value)}
            entry["description"] = f"The {key} query value."
            if value != "":
                entry["default"] = _typed(value)
            self.inputs.append(entry)
            out.append(f"{quoted}={{{name}}}")
        if pairs:
            self.action.note(
                "inputs", "Query values became inputs with the command's values as defaults."
            )
        return out

    # ---------------------------------------------------------------- headers
    def _headers(self) -> tuple[dict[str, str], dict[str, Any] | None]:
        headers: dict[str, str] = {}
        auth: dict[str, Any] | None = None
        for kind, value in self.pairs:
            if kind == "user":
                user, sep, password = value.partition(":")
                basic = self._basic(user, password if sep else None)
                auth = auth or basic  # an explicit Authorization header wins, as in curl
            elif kind == "bearer":
                auth = {"type": "bearer", "token": self.secret(value, "token")}
            elif kind == "cookie":
                headers["Cookie"] = self.secret(value, "cookie")
            elif kind == "agent":
                headers["User-Agent"] = value
            elif kind == "referer":
                headers["Referer"] = value
            elif kind == "header":
                name, sep, header_value = value.partition(":")
                name, header_value = name.strip(), header_value.strip()
                if not sep or not _HEADER_NAME_RE.match(name) or re.search("[\r\n\x00]", value):
                    self.action.note("headers", f"-H {value[:40]!r}: not a header; left out.")
                    continue
                found = self._credential_header(name, header_value, auth)
                if found is None:
                    headers[name] = self._literal_header(header_value)
                elif isinstance(found, dict):
                    auth = found if auth is None or auth["type"] == "basic" else auth
                else:
                    headers[name] = found
        if auth is not None or any("${" in v for v in headers.values()):
            self.action.note(
                "auth" if auth else "headers",
                "Credentials from the command were replaced by ${ENV} names: set them in the "
                "environment.",
            )
        return headers, auth

    def _basic(self, user: str, password: str | None) -> dict[str, Any]:
        if password == "":  # `-u sk_live_...:` (Stripe style): the key is the user name
            return {"type": "basic", "username": self.secret(user, "api_key")}
        return {
            "type": "basic",
            "username": self.secret(user, "username"),
            "password": self.secret(password or "", "password"),
        }

    def _credential_header(self, name: str, value: str, auth: dict[str, Any] | None) -> Any:
        lower = name.lower()
        if lower in _NOT_CREDENTIAL_HEADERS or not _CREDENTIAL_HEADER_RE.search(lower):
            return None
        if lower == "authorization":
            scheme, _, credentials = value.partition(" ")
            if scheme.lower() == "bearer" and credentials and auth is None:
                return {"type": "bearer", "token": self.secret(credentials, "token")}
            if scheme.lower() == "basic" and credentials and auth is None:
                return self._basic("", None)
            if credentials:
                return f"{scheme} {self.secret(credentials, 'token')}"
            return self.secret(value, "token")
        if auth is None and lower != "cookie":
            return {
                "type": "api_key",
                "in": "header",
                "name": name,
                "value": self.secret(value, name),
            }
        return self.secret(value, name)

    def _literal_header(self, value: str) -> str:
        # `$VAR` in a header value is a variable of the reader's shell: a secret here.
        def secret(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in self.secret_names:
                self.secret_names.append(name)
            return "${" + name + "}"

        return _escape_braces(_ENV_IN_TEXT_RE.sub(secret, value))

    # ---------------------------------------------------------------- body
    def _form_pairs(self, data: list[tuple[str, str]]) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for kind, value in data:
            if value.startswith("@") and kind != "raw":
                msg = f"cURL command: the body is read from a file ({value}); paste it instead"
                raise ImportSpecError(msg)
            if kind == "urlencode":
                key, sep, content = value.partition("=")
                pairs.append((key, content) if sep else ("", key))
            else:
                pairs += urllib.parse.parse_qsl(value, keep_blank_values=True)
        return pairs

    def _body(self, data: list[tuple[str, str]], headers: dict[str, str]) -> dict[str, Any] | None:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        text = "&".join(v for _, v in data)
        is_json = any(k == "json" for k, _ in data) or "json" in content_type.lower()
        if not is_json and "form-urlencoded" not in content_type.lower():
            is_json = text.lstrip().startswith(("{", "["))
        if is_json:
            if any(v.startswith("@") for _, v in data):
                msg = "cURL command: the body is read from a file (@...); paste its content instead"
                raise ImportSpecError(msg)
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as e:
                where = f"line {e.lineno}, column {e.colno}"
                msg = f"cURL command: the JSON body does not parse ({where}: {e.msg})"
                raise ImportSpecError(msg) from None
            body = self._json_template(parsed, [])
            self.action.note(
                "body",
                "Every value of the command's JSON body became a required input (its value is "
                "the example); write back as literals the values that never change.",
            )
            return {"body": body}
        pairs = self._form_pairs(data)
        if not pairs or any(k == "" for k, _ in pairs):
            self.action.note(
                "", "The request body is neither JSON nor key=value pairs: not imported."
            )
            return None
        body_map: dict[str, Any] = {}
        for key, value in pairs:
            if _CREDENTIAL_QUERY_RE.match(key):
                self.action.note(
                    "body",
                    f"{key}: a credential in the body was left out (secrets never go in a body).",
                )
                continue
            if key in body_map:
                continue
            if PLACEHOLDER_RE.search(key) or SECRET_RE.search(key):
                # A form field's name is sent as written: it cannot hold a placeholder.
                self.action.note(
                    "body", f"{key}: a field whose name looks like a placeholder was left out."
                )
                continue
            name = input_name(key, self.taken)
            self.inputs.append(_example_input(name, key, value))
            body_map[key] = "{" + name + "}"
        self.action.note(
            "body",
            "Every form value of the command became a required input (its value is the "
            "example); write back as literals the values that never change.",
        )
        return {"body_format": "form", "body": body_map}

    def _json_template(self, node: Any, path: list[str]) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if _CREDENTIAL_QUERY_RE.match(str(key)) and isinstance(value, str):
                    self.action.note(
                        "body",
                        f"{key}: a credential in the body was left out (never in a body).",
                    )
                    continue
                out[str(key)] = self._json_template(value, [*path, str(key)])
            return out
        if isinstance(node, list):
            if node and all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in node
            ):
                parents = [p for p in path[:-1] if not p.isdigit()]
                name = input_name(
                    path[-1] if path else "items", self.taken, prefix=parents[-1] if parents else ""
                )
                entry = _example_input(name, path[-1] if path else "items", node[0])
                entry["array"] = True
                entry["description"] = (
                    f"The {'.'.join(path) or 'body'} list, e.g. {json.dumps(node)[:60]}."
                )
                self.inputs.append(entry)
                return "{" + name + "}"
            return (
                [self._json_template(v, [*path, str(i)]) for i, v in enumerate(node)]
                if not node or isinstance(node[0], (dict, list))
                else node
            )
        if isinstance(node, (str, int, float)) and not isinstance(node, bool):
            key = path[-1] if path else "value"
            parents = [p for p in path[:-1] if not p.isdigit()]
            name = input_name(key, self.taken, prefix=parents[-1] if parents else "")
            self.inputs.append(_example_input(name, ".".join(path) or "body", node))
            return "{" + name + "}"
        return node  # true, false, null: kept as written


def _escape_braces(value: str) -> str:
    # A literal `{x}` in a header would read as a placeholder of an undeclared input.
    return re.sub(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}", r"\1", value)


def _kind(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    if (
        isinstance(value, str)
        and re.match(r"^-?\d+(\.\d+)?$", value)
        and len(value) < 16
        and not value.startswith("0")
    ):
        return "number"
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return "date"
    return "text"


def _typed(value: str) -> Any:
    kind = _kind(value)
    if kind == "number":
        return float(value) if "." in value else int(value)
    return value


def _example_input(name: str, label: str, value: Any) -> dict[str, Any]:
    shown = value if isinstance(value, str) else json.dumps(value)
    entry: dict[str, Any] = {"name": name, "type": _kind(value), "description": f"The {label}."}
    if shown != "":
        entry["description"] += f" Example: {shown[:60]}."
    entry["required"] = True
    return entry


def _split_and_parse(text: str) -> tuple[list[tuple[str, str]], list[str], set[str]]:
    if not isinstance(text, str):
        msg = "from_curl: expected the command as text"
        raise ImportSpecError(msg)
    return _options(_split(text))


def import_curl(text: str) -> ImportResult:
    """Import one cURL command (`-X`, `-H`, `-d`, `--data-raw`, `--json`, `-u`, ...).

    Raises:
        ImportSpecError: the command cannot be split, has no URL, or uses what an action
            cannot express (HEAD, a body read from a file).
    """
    try:
        result = _Curl(text).build()
    except RecursionError:
        msg = "cURL command: nested too deep to import (a body of thousands of levels)"
        raise ImportSpecError(msg) from None
    result.check_size("cURL command")
    return result
