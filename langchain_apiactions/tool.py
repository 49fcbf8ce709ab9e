"""One action, one LangChain tool: args schema, request rendering and the call.

No `from __future__ import annotations` here: LangChain reads `_run`'s annotations on
every call (to find its config parameter), and string annotations would be evaluated
each time.
"""

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import math
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional

import requests
from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
    adispatch_custom_event,
    dispatch_custom_event,
)
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from langchain_apiactions.config import BUILTIN_PLACEHOLDERS, ApiAction
from langchain_apiactions.errors import ArgumentError, MissingContextError, SessionStoreError
from langchain_apiactions.network import CallThreads, HttpResult, NetworkPolicy, send
from langchain_apiactions.numbers import number_as_text
from langchain_apiactions.oauth2 import TokenCache, TokenError
from langchain_apiactions.redact import MASK, SecretMasker, is_weak_secret, masking_logs
from langchain_apiactions.result import (
    ActionArtifact,
    ArtifactButton,
    ArtifactRequest,
    interpret,
    render_content,
)
from langchain_apiactions.session_store import BaseSessionStore
from langchain_apiactions.templating import (
    CONTEXT_PREFIX,
    FormTemplate,
    Lit,
    Secret,
    text_value,
    vars_in,
)

__all__ = [
    "ApiActionTool",
    "PreparedRequest",
    "Runtime",
    "ToolArgumentError",
    "build_args_schema",
    "context_from",
    "describe_validation_error",
    "format_validation_error",
    "session_id_from",
    "validation_problems",
]

logger = logging.getLogger("langchain_apiactions")

EVENT_NAME = "api_action_triggered"
DEFAULT_SESSION = "default"

# A number keeps integers exact (an id above 2**53 keeps its digits); the model sees
# the JSON schema type `number`.
# NaN and infinities are refused: no request ever carries them (`/nan`, `NaN` in JSON).
Number = Annotated[
    int | Annotated[float, Field(allow_inf_nan=False)], WithJsonSchema({"type": "number"})
]


# The model sees JSON schema `type: string`; a number it sends anyway is accepted as its
# text (real models often send ids as numbers: 12345.0 -> "12345"; true/false refused).
Text = Annotated[str, BeforeValidator(number_as_text)]
_TYPES: dict[str, Any] = {"text": Text, "number": Number, "date": dt.date}


class ToolArgumentError(ArgumentError, ToolException):
    """An `ArgumentError` as it leaves through LangChain: also a `ToolException`, so a
    tool's `handle_tool_error` shows the message to the model."""


def build_args_schema(action: ApiAction) -> type[BaseModel]:
    """The pydantic model of the tool's arguments, generated from `inputs`."""
    fields: dict[str, Any] = {}
    for inp in action.inputs:
        base = _TYPES[inp.type]
        typ: Any = list[base] if inp.array else base  # type: ignore[valid-type]
        description = inp.description or inp.name.replace("_", " ")
        if inp.type == "date":
            description += " (a date, YYYY-MM-DD)"
        if inp.required:
            fields[inp.name] = (typ, Field(description=description))
        else:
            default = inp.default
            if inp.type == "date" and default is not None:
                default = (
                    [dt.date.fromisoformat(str(d)) for d in default]
                    if inp.array
                    else dt.date.fromisoformat(str(default))
                )
            fields[inp.name] = (Optional[typ], Field(default=default, description=description))  # noqa: UP045
    model: type[BaseModel] = create_model(
        f"{action.name}_args",
        __config__=ConfigDict(extra="ignore"),
        __doc__=action.when_to_use or action.name,
        **fields,
    )
    return model


_TYPE_WORDS = {
    "text": "should be text",
    "number": "should be a number",
    "date": "should be a date such as 2026-03-15",
}


def validation_problems(
    error: ValidationError, action: ApiAction | None = None
) -> list[tuple[str, str]]:
    """`(input, problem)` for each bad argument, said as a person would.

    Pydantic's own wording (`stars.int: Input should be a valid integer`, "Datetimes
    provided to dates should have zero time") is replaced by one phrase per input.
    """
    kinds = {i.name: i for i in action.inputs} if action is not None else {}
    found: dict[str, str] = {}
    for err in error.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else "arguments"
        index = next((x for x in loc[1:] if isinstance(x, int)), None)
        where = name if index is None else f"{name} (item {index + 1})"
        if where in found:
            continue  # a union reports each branch it tried; one phrase is enough
        kind = err.get("type", "")
        declared = kinds.get(name)
        got = err.get("input")
        if kind == "missing":
            problem = "is required"
        elif kind == "list_type":
            problem = "should be a list of values"
        elif kind == "finite_number":
            problem = "should be a finite number"
        elif declared is not None:
            problem = _TYPE_WORDS[declared.type]
        elif kind.startswith(("int_", "float_")):
            problem = _TYPE_WORDS["number"]
        elif kind.startswith(("date_", "datetime_")):
            problem = _TYPE_WORDS["date"]
        elif kind.startswith("string_"):
            problem = _TYPE_WORDS["text"]
        else:
            problem = str(err.get("msg", "is not valid")).rstrip(".")
            problem = problem[0].lower() + problem[1:] if problem else "is not valid"
        if kind != "missing" and got is not None:
            problem += f" (got {json.dumps(got, default=str, ensure_ascii=False)[:80]})"
        found[where] = problem
    return list(found.items())


def describe_validation_error(error: ValidationError, action: ApiAction | None = None) -> str:
    """Each bad argument and its problem in one line (`stars: should be a number ...`)."""
    return "; ".join(f"{where}: {problem}" for where, problem in validation_problems(error, action))


def format_validation_error(error: Any, action: ApiAction | None = None) -> str:
    """The message the model reads when its arguments were refused, so it can ask again."""
    return (
        "The arguments could not be used: "
        + describe_validation_error(error, action)
        + ". Ask the visitor for the missing or invalid values, then call again."
    )


def session_id_from(config: RunnableConfig | None) -> str:
    """`configurable.session_id`, else `configurable.thread_id`, else one default."""
    configurable = (config or {}).get("configurable") or {}
    for key in ("session_id", "thread_id"):
        value = configurable.get(key)
        if value is not None and value != "":
            return _storable(str(value))
    return DEFAULT_SESSION


def _storable(session_id: str) -> str:
    """`session_id`, or for one that is not valid UTF-8 text (a lone surrogate, valid in
    JSON) its code points spelled out: SQLite and Redis cannot hold it, and two such ids
    must still name two sessions."""
    try:
        session_id.encode("utf-8")
    except UnicodeEncodeError:
        return "U+" + "-".join(f"{ord(c):04X}" for c in session_id)
    return session_id


def context_from(config: RunnableConfig | None) -> Any:
    """The trusted context of a call: the LangGraph run's context, else
    `config["configurable"]["context"]` (None when neither is set).

    Inside a graph run the tool's config carries LangGraph's `Runtime` (what
    `langgraph.runtime.get_runtime()` reads); its `context` is what the application passed
    as `graph.invoke(input, config, context=...)`.
    """
    configurable = (config or {}).get("configurable") or {}
    try:
        from langgraph.runtime import Runtime as GraphRuntime
    except ImportError:  # langgraph is optional
        GraphRuntime = None  # type: ignore[assignment,misc]
    if GraphRuntime is not None:
        for value in configurable.values():
            if isinstance(value, GraphRuntime):
                if value.context is not None:
                    return value.context
                break
    return configurable.get("context")


def _context_value(context: Any, name: str) -> Any:
    if context is None:
        return None
    value = context.get(name) if isinstance(context, Mapping) else getattr(context, name, None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value


def resolve_context(action: ApiAction, context: Any) -> dict[str, Any]:
    """The `context.NAME` values `action` uses, from `context` (a mapping or an object).

    Raises:
        MissingContextError: naming each `context.NAME` that is absent or empty.
    """
    names = action.compiled.context
    if not names:
        return {}
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name in names:
        value = _context_value(context, name)
        if value is None or value == "":
            missing.append(name)
        else:
            values[CONTEXT_PREFIX + name] = value
    if missing:
        raise MissingContextError(missing)
    return values


@dataclass(repr=False)
class Runtime:
    """What the tools of one toolkit share: the HTTP session, policy, secrets, store."""

    http: requests.Session
    policy: NetworkPolicy
    secrets: Mapping[str, SecretStr]
    store: BaseSessionStore
    masker: SecretMasker = field(default_factory=SecretMasker)
    max_response_bytes: int = 1_000_000
    max_body_chars: int = 16_000
    max_value_chars: int = 2_000
    # The threads the calls use (deadline watchdog, name resolution, async I/O pool);
    # the toolkit's `close()` stops them.
    threads: CallThreads = field(default_factory=CallThreads)
    tokens: TokenCache = field(default_factory=TokenCache)

    def __repr__(self) -> str:
        names = ", ".join(f"{k}={MASK}" for k in self.secrets)
        return f"Runtime(policy={self.policy!r}, secrets=[{names}])"


@dataclass
class PreparedRequest:
    """A rendered request: what is sent, and how it is shown (secrets as `***`)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    display_url: str
    display_headers: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    # The body as shown when it carries context values (they show as `{context.NAME}`).
    shown_body: str | None = field(default=None, repr=False)
    # `${context.NAME}` values of this call: masked like secrets wherever text is shown.
    context_secrets: tuple[str, ...] = field(default=(), repr=False)
    # `{context.NAME}` values: kept out of the HTTP stack's logs.
    context_private: tuple[str, ...] = field(default=(), repr=False)
    # Masks this call's secrets (the toolkit's and its `${context.NAME}` values) wherever
    # text is shown, and its rendered URL and headers wherever they are quoted.
    masker: SecretMasker = field(default_factory=SecretMasker, repr=False)

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.display_url})"

    @property
    def display_body(self) -> str | None:
        if self.body is None:
            return None
        text = self.shown_body if self.shown_body is not None else self.body.decode("utf-8")
        return self.masker.mask(text)


def _rendered_pairs(
    url: str, display_url: str, headers: Mapping[str, str], display_headers: Mapping[str, str]
) -> dict[str, str]:
    """Texts as sent -> as shown, in the pieces the HTTP stack quotes (URL, target, host)."""
    pairs = {url: display_url}
    real, shown = urllib.parse.urlsplit(url), urllib.parse.urlsplit(display_url)
    target = real.path + (f"?{real.query}" if real.query else "")
    shown_target = shown.path + (f"?{shown.query}" if shown.query else "")
    pairs[target] = shown_target
    pairs[real.netloc] = shown.netloc
    pairs[real.netloc.lower()] = shown.netloc
    for name, value in headers.items():
        pairs[value] = display_headers.get(name, MASK)
    # A piece that is itself short (a header that is only the secret) is left out: it
    # would mask that text wherever it appears, which is what weak secrets must avoid.
    return {k: v for k, v in pairs.items() if k != v and not is_weak_secret(k)}


# Arguments longer than this are refused before any work is done with them (a
# 5-million-character value once took minutes to render and mask).
MAX_ARGUMENT_CHARS = 100_000
MAX_ARGUMENT_ITEMS = 1_000
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def check_argument(name: str, value: Any) -> None:
    """Refuse a value that could not be sent as text (lone surrogates) or is absurdly long.

    Raises:
        ArgumentError: naming the input and the problem.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) > MAX_ARGUMENT_ITEMS:
        msg = f"{name}: at most {MAX_ARGUMENT_ITEMS:,} values (got {len(items):,})"
        raise ArgumentError(msg)
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            msg = f"{name}: a number must be finite (got {item})"
            raise ArgumentError(msg)
        if not isinstance(item, str):
            continue
        if len(item) > MAX_ARGUMENT_CHARS:
            msg = f"{name}: at most {MAX_ARGUMENT_CHARS:,} characters (got {len(item):,})"
            raise ArgumentError(msg)
        if not item.isascii() and _SURROGATE_RE.search(item):
            msg = (
                f"{name}: the value contains an unpaired surrogate code point (\\ud800-"
                "\\udfff), which is not valid text; send plain Unicode text"
            )
            raise ArgumentError(msg)


_SHOWN = "apiactionsctx{}x"  # stands in for a context value in what is shown


def prepare_request(
    action: ApiAction,
    args: Mapping[str, Any],
    secrets: Mapping[str, SecretStr],
    session_id: str,
    context: Any = None,
    masker: SecretMasker | None = None,
) -> PreparedRequest:
    """Render URL, headers and body for `args` and the trusted `context`.

    What is shown (`display_url`, `display_headers`, `display_body`: the artifact, events,
    logs) never carries a context value: `{context.NAME}` shows as written and
    `${context.NAME}` as `***`.

    Raises:
        ArgumentError: a value from the model cannot be used.
        MissingContextError: a `context.NAME` the action needs is not in `context`.
    """
    trusted = resolve_context(action, context)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    values: dict[str, Any] = {
        "session_id": session_id,
        "today": now.date().isoformat(),
        "now": now.isoformat().replace("+00:00", "Z"),
    }
    declared = {i.name for i in action.inputs}
    for name in BUILTIN_PLACEHOLDERS:
        if name in declared:
            values.pop(name)
    for inp in action.inputs:
        values[inp.name] = args.get(inp.name, inp.default)
        check_argument(inp.name, values[inp.name])
    c = action.compiled
    shown = values
    if trusted:
        all_secrets: Mapping[str, Any] = {
            **secrets,
            **{k: text_value(v) for k, v in trusted.items()},
        }
        shown = {**values, **{k: _SHOWN.format(i) for i, k in enumerate(trusted)}}
        values = {**values, **trusted}
    else:
        all_secrets = secrets
    url = c.url.render(values, all_secrets)
    headers = c.headers.render(values, all_secrets)
    # Rendered a second time for display only where a secret or a context value differs.
    if trusted or c.url.has_secrets:
        display_url = _unshow(c.url.render(shown, None), trusted)
    else:
        display_url = url
    if trusted or c.headers.has_secrets:
        shown_headers = c.headers.render(shown, None)
        display_headers = {k: _unshow(v, trusted) for k, v in shown_headers.items()}
    else:
        display_headers = dict(headers)
    body: bytes | None = None
    display_body: str | None = None
    if c.body is not None:
        text = c.body.render(values)
        if isinstance(c.body, FormTemplate):
            content_type = "application/x-www-form-urlencoded"
        else:
            json.loads(text)  # the shape is guaranteed by the renderer; this is a last check
            content_type = "application/json"
        body = text.encode("utf-8")
        if trusted:
            display_body = _unshow(c.body.render(shown), trusted)
        if "content-type" not in c.headers.names():
            headers["Content-Type"] = content_type
            display_headers["Content-Type"] = content_type
    if c.auth is not None:
        url, display_url = c.auth.apply(all_secrets, url, display_url, headers, display_headers)
    context_secrets = tuple(text_value(trusted[CONTEXT_PREFIX + name]) for name in c.secret_context)
    # Basic from context: the encoded form on the wire is masked too.
    context_secrets += tuple(
        c.auth.derived_secrets(all_secrets) if c.auth is not None and trusted else ()
    )
    context_private = tuple(text_value(v) for v in trusted.values())
    call_masker = (masker if masker is not None else SecretMasker()).for_call(
        _rendered_pairs(url, display_url, headers, display_headers),
        context_secrets,
        context_private,
    )
    return PreparedRequest(
        action.method,
        url,
        headers,
        body,
        display_url,
        display_headers,
        values,
        shown_body=display_body,
        context_secrets=context_secrets,
        context_private=context_private,
        masker=call_masker,
    )


def _unshow(text: str, trusted: Mapping[str, Any]) -> str:
    """Put `{context.NAME}` back where a stand-in for a context value was rendered."""
    for i, key in enumerate(trusted):
        text = text.replace(_SHOWN.format(i), "{" + key + "}")
    return text


def _render_button(
    action: ApiAction, values: Mapping[str, Any], data: Any
) -> ArtifactButton | None:
    c = action.compiled
    if action.button is None or c.button_url is None:
        return None
    merged = dict(values)
    field_names = {f.name for f in c.fields}
    if isinstance(data, Mapping) and set(data) <= field_names:  # not an array body's items
        merged.update({k: v for k, v in data.items() if v is not None})
    used = vars_in(c.button_url.all_parts()) + vars_in(c.button_label)
    if any(merged.get(name) in (None, "", []) for name in used):
        return None
    try:
        url = c.button_url.render(merged, {})
    except ArgumentError:
        return None
    label = "".join(
        p.text if isinstance(p, Lit) else text_value(merged.get(p.name))
        for p in c.button_label
        if not isinstance(p, Secret)
    )
    return {"label": label, "url": url}


# Not a valid input name, so it cannot clash with one.
_REFUSED = "apiactions:refused-arguments"


def _write_stream(event: dict[str, Any]) -> None:
    """Inside a LangGraph run, also send the event to `stream_mode="custom"`."""
    try:
        from langgraph.config import get_stream_writer
    except ImportError:  # langgraph is optional
        return
    try:
        writer = get_stream_writer()
    except (RuntimeError, KeyError):  # not inside a graph run
        return
    writer({"event": EVENT_NAME, **event})


def _listening(
    run_manager: CallbackManagerForToolRun | AsyncCallbackManagerForToolRun | None,
) -> bool:
    """Whether any callback handler takes custom events (dispatching one costs ~100 µs).

    The handlers a custom event reaches are among the tool run's own, so none there that
    takes custom events means nobody would see it.
    """
    if run_manager is None:
        return False
    return any(not handler.ignore_custom_event for handler in run_manager.handlers)


class ApiActionTool(BaseTool):
    """A LangChain tool that calls one declared API action, server-side."""

    action: ApiAction = Field(exclude=True)
    runtime: Runtime = Field(exclude=True, repr=False)
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @classmethod
    def from_action(cls, action: ApiAction, runtime: Runtime) -> "ApiActionTool":
        return cls(
            name=action.name,
            description=action.when_to_use or f"Call the {action.name} API action.",
            args_schema=build_args_schema(action),
            action=action,
            runtime=runtime,
            handle_validation_error=lambda e: format_validation_error(e, action),
            metadata={"api_action": action.name, "method": action.method},
        )

    def __repr__(self) -> str:
        from langchain_apiactions.display import tool_repr

        return tool_repr(self.action, self.runtime.masker.mask)

    def _repr_html_(self) -> str:
        """Jupyter's view: request line, description, inputs, response fields, flags."""
        from langchain_apiactions.display import tool_html

        return tool_html(self.action, self.runtime.masker.mask)

    def _parse_input(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> str | dict[str, Any]:
        # Refused arguments still make a call's result (an artifact with `ok: false`),
        # so they are handed to `_run` instead of ending the call in LangChain's handler.
        try:
            return super()._parse_input(tool_input, tool_call_id)
        except ValidationError as e:
            return {_REFUSED: (e, tool_call_id)}

    # ------------------------------------------------------------------ phases
    def _begin(
        self, kwargs: Mapping[str, Any], config: RunnableConfig | None
    ) -> tuple[str, PreparedRequest | ActionArtifact]:
        """The rendered request, or the artifact of a call that sends nothing."""
        session_id = session_id_from(config)
        context = context_from(config) if self.action.compiled.context else None
        try:
            prepared = prepare_request(
                self.action,
                kwargs,
                self.runtime.secrets,
                session_id,
                context,
                masker=self.runtime.masker,
            )
        except ArgumentError as e:
            return session_id, self._outcome(error=f"invalid argument: {e}", fired=False)
        except MissingContextError as e:
            return session_id, self._outcome(error=str(e), fired=False)
        if not self.action.once_per_session:
            return session_id, prepared
        try:
            claimed = self.runtime.store.claim(session_id, self.action.name)
        except SessionStoreError as e:
            # Fail closed: without the store, a once-per-session call could run twice.
            return session_id, self._outcome(error=self.runtime.masker.mask(str(e)), fired=False)
        if not claimed:
            return (
                session_id,
                self._outcome(
                    error="it already ran in this session (once per session)",
                    skipped=True,
                    fired=False,
                ),
            )
        return session_id, prepared

    def _event(self, session_id: str, prepared: PreparedRequest) -> dict[str, Any]:
        return {
            "action": self.action.name,
            "triggered_response": self.action.triggered_response,
            "session_id": session_id,
            "request": {"method": prepared.method, "url": prepared.display_url},
        }

    def _execute(self, session_id: str, prepared: PreparedRequest) -> ActionArtifact:
        return self.execute(session_id, prepared)[0]

    def execute(
        self, session_id: str, prepared: PreparedRequest
    ) -> tuple[ActionArtifact, HttpResult]:
        """Send a prepared request and build the outcome (also returns the wire result)."""
        rt = self.runtime
        with masking_logs(prepared.masker):
            http = self._send(prepared)
        ok, data, missing, error = interpret(
            http,
            self.action.compiled.fields,
            max_body_chars=rt.max_body_chars,
            masker=prepared.masker,
        )
        if self.action.once_per_session:
            # Used up by a 2xx answer, or when the outcome is unknown (sent, no answer).
            answered_2xx = http.status is not None and 200 <= http.status < 300
            used = answered_2xx or (http.status is None and http.maybe_sent)
            try:
                rt.store.finish(session_id, self.action.name, used=used)
            except SessionStoreError as e:
                # The claim stays as made: the call counts as used until it expires.
                logger.warning("%s: could not record the call: %s", self.action.name, e)
        logger.info(
            "%s %s %s -> %s in %.1f ms%s",
            self.action.name,
            prepared.method,
            prepared.display_url,
            http.status,
            http.elapsed_ms,
            f" ({error})" if error else "",
        )
        outcome = self._outcome(
            ok=ok,
            http=http,
            data=data,
            missing=missing,
            error=error,
            button=_render_button(self.action, prepared.values, data) if ok else None,
            request={
                "method": prepared.method,
                "url": prepared.display_url,
                "elapsed_ms": http.elapsed_ms,
            },
        )
        return outcome, http

    def _send(self, prepared: PreparedRequest) -> HttpResult:
        """Send `prepared`, with an OAuth2 token when the action has one.

        The token request counts against the call's deadline (and its `elapsed_ms`). A
        401 to a token drops it, and the request is sent once more with a fresh one (a
        401 means it was not processed).
        """
        rt = self.runtime
        start = time.monotonic()
        deadline = start + self.action.timeout
        auth = self.action.compiled.auth
        if auth is None or not auth.is_oauth2:
            return send(
                rt.http,
                prepared.method,
                prepared.url,
                headers=prepared.headers,
                body=prepared.body,
                timeout=self.action.timeout,
                max_bytes=rt.max_response_bytes,
                threads=rt.threads,
            )
        token: str | None = None
        for attempt in range(2):
            try:
                token = rt.tokens.token(
                    rt.http, auth, rt.secrets, deadline=deadline, rejected=token, threads=rt.threads
                )
            except TokenError as e:
                http = HttpResult(error=str(e))
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                http = HttpResult(error=f"timeout: no answer within {self.action.timeout:g} s")
                break
            http = send(
                rt.http,
                prepared.method,
                prepared.url,
                headers={**prepared.headers, "Authorization": f"Bearer {token}"},
                body=prepared.body,
                timeout=remaining,
                max_bytes=rt.max_response_bytes,
                threads=rt.threads,
            )
            if http.status != 401 or attempt == 1:
                break
            logger.info("%s: the API refused the access token (401); fetching a new one", self.name)
        http.elapsed_ms = round((time.monotonic() - start) * 1000, 1)
        return http

    def prepare(
        self, args: Mapping[str, Any], session_id: str = DEFAULT_SESSION, context: Any = None
    ) -> PreparedRequest:
        """Render the request for `args` (and the trusted `context`) without sending it.

        Raises:
            ToolArgumentError: a value cannot be used (an `ArgumentError` that is also a
                LangChain `ToolException`, for tools of your own built on this one).
            MissingContextError: a `context.NAME` the action uses is not in `context`.
        """
        try:
            return prepare_request(
                self.action,
                args,
                self.runtime.secrets,
                session_id,
                context,
                masker=self.runtime.masker,
            )
        except ToolArgumentError:
            raise
        except ArgumentError as e:
            raise ToolArgumentError(str(e)) from e

    def _outcome(
        self,
        *,
        ok: bool = False,
        http: HttpResult | None = None,
        data: Any = None,
        missing: list[str] | None = None,
        error: str | None = None,
        skipped: bool = False,
        fired: bool = True,
        button: ArtifactButton | None = None,
        request: ArtifactRequest | None = None,
    ) -> ActionArtifact:
        # The chat closes only after a call that succeeded: a visitor whose cancellation
        # failed must not be told goodbye as if it worked.
        close = self.action.close_chat is not None and fired and ok
        return {
            "action": self.action.name,
            "ok": ok,
            "status_code": http.status if http is not None else None,
            "data": data,
            "missing_fields": missing or [],
            "error": error,
            "triggered_response": self.action.triggered_response or None,
            "button": button,
            "close_chat": close,
            "farewell": self.action.close_chat.farewell
            if close and self.action.close_chat
            else None,
            "skipped": skipped,
            "request": request,
        }

    def _refused(
        self, error: ValidationError, tool_call_id: str | None
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        """Arguments the schema refused: nothing is sent; the model is asked to ask again."""
        problem = describe_validation_error(error, self.action)
        outcome = self._outcome(error=f"invalid argument: {problem}", fired=False)
        content = self.runtime.masker.mask(format_validation_error(error, self.action))
        if tool_call_id is None:
            return content, outcome
        # A ready message keeps `status="error"`, as LangChain's own handler would set it.
        message = ToolMessage(
            content=content,
            artifact=outcome,
            tool_call_id=tool_call_id,
            name=self.name,
            status="error",
        )
        return message, outcome

    def _finish(
        self, outcome: ActionArtifact, masker: SecretMasker | None = None
    ) -> tuple[str, ActionArtifact]:
        rt = self.runtime
        content = render_content(
            outcome,
            has_fields=bool(self.action.compiled.fields),
            max_value_chars=rt.max_value_chars,
            max_body_chars=rt.max_body_chars,
        )
        return (masker if masker is not None else self.runtime.masker).mask(content), outcome

    # ------------------------------------------------------------------ BaseTool
    def _run(
        self,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        refused = kwargs.pop(_REFUSED, None)
        if refused is not None:
            return self._refused(*refused)
        session_id, prepared = self._begin(kwargs, config)
        if not isinstance(prepared, PreparedRequest):
            return self._finish(prepared)
        with masking_logs(prepared.masker):
            event = self._event(session_id, prepared)
            if _listening(run_manager):
                with contextlib.suppress(RuntimeError):  # invoked outside a run
                    dispatch_custom_event(EVENT_NAME, event)
            _write_stream(event)
            return self._finish(self._execute(session_id, prepared), prepared.masker)

    async def _arun(
        self,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        refused = kwargs.pop(_REFUSED, None)
        if refused is not None:
            return self._refused(*refused)
        session_id, prepared = self._begin(kwargs, config)
        if not isinstance(prepared, PreparedRequest):
            return self._finish(prepared)
        with masking_logs(prepared.masker):
            event = self._event(session_id, prepared)
            if _listening(run_manager):
                with contextlib.suppress(RuntimeError):
                    await adispatch_custom_event(EVENT_NAME, event)
            _write_stream(event)
            # Our own pool (not the loop's default one, sized 5 + CPUs): a model's parallel
            # tool calls must not queue behind each other.
            context = contextvars.copy_context()
            outcome = await asyncio.get_running_loop().run_in_executor(
                self.runtime.threads.io_pool(), context.run, self._execute, session_id, prepared
            )
            return self._finish(outcome, prepared.masker)
