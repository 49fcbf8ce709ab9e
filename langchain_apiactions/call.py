"""The call pipeline: one call of one action, from the model's arguments to the outcome.

`CallPipeline` (one per action, built by the toolkit) is the only code that makes a call;
`ApiActionTool._run`/`_arun` and `func`/`coroutine`, `apiactions call` and the MCP server
all go through it and call no step of their own. Each step is a method with typed input
and output (frozen dataclasses), read top to bottom like httpx's `Client.send` ->
`_send_handling_auth` -> `_send_handling_redirects` -> `_send_single_request`:

    parse     arguments as sent (dict)     -> Arguments       schema validation
    render    Arguments, session, context  -> RenderedRequest sent + shown, one pass
    claim     session id                   -> Claim           once_per_session
    send      RenderedRequest              -> HttpResult      auth flow, then network.send
                                                              (retries, redirects, capped
                                                              reads) under one deadline
    settle    Claim, HttpResult            -> None            claim used or released
    interpret HttpResult                   -> Interpretation  ok/data or why (error_kind)
    outcome   Interpretation, request      -> CallOutcome     the artifact and the text the
                                                              model reads; the ONE step
                                                              that masks (then cuts)

A step that cannot go on raises an `ActionCallError` whose `kind` is the artifact's
`error_kind` (`ArgumentsRefusedError`, `ArgumentError`, `MissingContextError`,
`AlreadyRanError`, `SessionStoreError`); `run()` turns it into the outcome with
`stopped()`, the one place a call that sent nothing gets its artifact. `send` never
raises: the network's failures come back as data (`HttpResult.error_kind`). `run` =
`prepare` (parse + render) + `complete` (claim, announce, send, settle, interpret,
outcome); `arun` does the same with the network part on the toolkit's I/O threads.

Where a new feature plugs in (one place each):
- Something decided before anything is sent (a budget, a rate limit, a cache lookup, a
  cassette replay): in `complete`/`arun` after `claim`, before `send`; refuse by raising
  an `ActionCallError` subclass with its own `kind` (add the word to `ErrorKind` in
  errors.py and to the README's table), answer by returning `outcome(...)`.
- Something added to the request (an idempotency key): in `render`, on both forms
  (`RenderedRequest.with_header`), so the shown request and the masker see it.
- Something around each HTTP attempt (tracing spans, recording a cassette, pages of a
  paginated answer): `send` / `_send_handling_redirects`, under the call's one deadline.
- When a claim counts as used: `settle`.
- What the artifact carries (`cached`, the idempotency key): `outcome`, the one step
  that masks, so a new text is masked with the rest.
- An outcome the tool should mark `status="error"`: `CallOutcome.status`, set in
  `stopped` (and `outcome`).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Collection, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import requests
from pydantic import BaseModel, SecretStr, ValidationError

import langchain_apiactions.tracing as tracing
from langchain_apiactions.arguments import (
    args_json_schema,
    build_args_schema,
    check_argument,
    field_names,
    refusal_message,
    validation_problems,
)
from langchain_apiactions.cassette import Cassette
from langchain_apiactions.config import BUILTIN_PLACEHOLDERS, ApiAction, CompiledTemplates
from langchain_apiactions.errors import (
    ActionCallError,
    AlreadyRanError,
    ArgumentError,
    ArgumentsRefusedError,
    MissingContextError,
    SessionStoreError,
    TokenError,
)
from langchain_apiactions.extract import truncate_text
from langchain_apiactions.network import CallThreads, HttpResult, NetworkPolicy, send
from langchain_apiactions.oauth2 import TokenCache
from langchain_apiactions.redact import MASK, SecretMasker, is_weak_secret, masking_logs
from langchain_apiactions.repeats import CacheSlot, CallRepeats
from langchain_apiactions.request import RenderedRequest
from langchain_apiactions.result import (
    ActionArtifact,
    ArtifactButton,
    ArtifactPages,
    Interpretation,
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
    "DEFAULT_SESSION",
    "Arguments",
    "CallInput",
    "CallOutcome",
    "CallPipeline",
    "Claim",
    "ToolkitResources",
    "resolve_context",
]

logger = logging.getLogger("langchain_apiactions")

DEFAULT_SESSION = "default"


@dataclass(repr=False)
class ToolkitResources:
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
    # A toolkit-wide budget: at most this many calls of all its actions per session.
    max_calls_per_session: int | None = None
    # Record and replay (`cassette=`): each HTTP attempt is answered or recorded there.
    cassette: Cassette | None = None

    def __repr__(self) -> str:
        names = ", ".join(f"{k}={MASK}" for k in self.secrets)
        return f"ToolkitResources(policy={self.policy!r}, secrets=[{names}])"


# --------------------------------------------------------------------------- step types


@dataclass(frozen=True)
class CallInput:
    """One call as it is asked: the arguments as the model sent them, and the run's
    session and trusted context (never chosen by the model)."""

    arguments: Mapping[str, Any] | str
    session_id: str = DEFAULT_SESSION
    context: Any = None
    # When the tool was called (`time.monotonic()`): the call's deadline starts here, so
    # the time it waits for the session store or for a free worker thread counts.
    started: float = field(default_factory=time.monotonic)
    tool_call_id: str | None = None  # LangChain's, on the `execute_tool` span


@dataclass(frozen=True)
class Arguments:
    """The parse step's output: the arguments the model gave, validated (only those it
    gave: an input left out takes its declared default when the request is rendered)."""

    values: Mapping[str, Any]


@dataclass(frozen=True)
class Claim:
    """The claim step's output: the session, and whether a once-per-session claim is held
    (the settle step then records it as used or releases it)."""

    session_id: str
    held: bool = False
    key: str | None = None  # the idempotency key the claim was made with


@dataclass(frozen=True)
class CallOutcome:
    """The outcome step's output: what the model reads and the artifact.

    `request` and `response` are what was rendered and what came back (None for a call
    that stopped before it); `status` is the `ToolMessage` status.
    """

    content: str
    artifact: ActionArtifact
    request: RenderedRequest | None = None
    response: HttpResult | None = None
    status: Literal["success", "error"] = "success"


# Called after the claim, right before the request goes out (the tool dispatches its
# `api_action_triggered` event here).
Announce = Callable[[RenderedRequest, str], None]
AsyncAnnounce = Callable[[RenderedRequest, str], Awaitable[None]]


# --------------------------------------------------------------------------- context


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
    return _resolve_names(action.compiled.context, context)


def _resolve_names(names: Collection[str], context: Any) -> dict[str, Any]:
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


def _rendered_pairs(request: RenderedRequest) -> dict[str, str]:
    """Texts as sent -> as shown, in the pieces the HTTP stack quotes (URL, target, host)."""
    url, display_url = request.url, request.display_url
    pairs = {url: display_url}
    real, shown = urllib.parse.urlsplit(url), urllib.parse.urlsplit(display_url)
    target = real.path + (f"?{real.query}" if real.query else "")
    shown_target = shown.path + (f"?{shown.query}" if shown.query else "")
    pairs[target] = shown_target
    pairs[real.netloc] = shown.netloc
    pairs[real.netloc.lower()] = shown.netloc
    for name, value in request.headers.items():
        pairs[value] = request.display_headers.get(name, MASK)
    # A piece that is itself short (a header that is only the secret) is left out: it
    # would mask that text wherever it appears, which is what weak secrets must avoid.
    return {k: v for k, v in pairs.items() if k != v and not is_weak_secret(k)}


# --------------------------------------------------------------------------- pipeline


class CallPipeline:
    """The steps of one action's calls, shared by the tool, `apiactions call` and MCP."""

    def __init__(self, action: ApiAction, resources: ToolkitResources) -> None:
        self.action = action
        self.resources = resources
        self._names = tuple(i.name for i in action.inputs)  # in the file's order
        # The repeat-safety options (keys, cache, budgets, rate limit, pages).
        self.repeats = CallRepeats(action, resources.store, resources.max_calls_per_session)

    def __repr__(self) -> str:
        return f"CallPipeline({self.action.name})"

    @functools.cached_property
    def json_schema(self) -> dict[str, Any]:
        """The arguments' JSON schema, the one the model reads (the tool's `args_schema`)."""
        return args_json_schema(self.action)

    @functools.cached_property
    def args_schema(self) -> type[BaseModel]:
        """The pydantic model that validates the arguments, built on the first `parse`
        (a model class per action is most of a tool's memory; many are never called)."""
        return build_args_schema(self.action)

    @functools.cached_property
    def _attributes(self) -> dict[str, str]:
        """Each input's attribute on `args_schema` (read with it, on the first `parse`)."""
        return field_names(self.action)

    @functools.cached_property
    def compiled(self) -> CompiledTemplates:
        """The action's parsed templates (read once: `ApiAction.compiled` is a pydantic
        private attribute, ~1 µs a read, and a call reads it several times)."""
        return self.action.compiled

    # ------------------------------------------------------------------ steps
    def parse(self, arguments: Mapping[str, Any] | str) -> Arguments:
        """Validate the model's arguments against the action's inputs.

        Raises:
            ArgumentsRefusedError: an argument is missing or has the wrong type.
        """
        if isinstance(arguments, str):  # a bare string fills the first input
            arguments = {self._names[0]: arguments} if self._names else {}
        try:
            model = self.args_schema.model_validate(arguments)
        except ValidationError as e:
            raise ArgumentsRefusedError(validation_problems(e, self.action), e) from None
        attributes = self._attributes
        return Arguments({k: getattr(model, attributes[k]) for k in arguments if k in attributes})

    def render(
        self, arguments: Arguments, session_id: str = DEFAULT_SESSION, context: Any = None
    ) -> RenderedRequest:
        """Render URL, headers and body, each as sent and as shown in one pass, and put a
        credential known now (bearer, basic, API key) on both.

        What is shown never carries a context value: `{context.NAME}` shows as written
        and `${context.NAME}` as `***`.

        Raises:
            ArgumentError: a value from the model cannot be used.
            MissingContextError: a `context.NAME` the action needs is not in `context`.
        """
        action = self.action
        c = self.compiled
        trusted = _resolve_names(c.context, context)
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
        given = arguments.values
        for inp in action.inputs:
            values[inp.name] = given.get(inp.name, inp.default)
            check_argument(inp.name, values[inp.name])
        secrets: Mapping[str, Any] = self.resources.secrets
        if trusted:
            secrets = {**secrets, **{k: text_value(v) for k, v in trusted.items()}}
            values.update(trusted)
        url = c.url.render_pair(values, secrets)
        headers = c.headers.render_pair(values, secrets)
        body: bytes | None = None
        shown_body: str | None = None
        if c.body is not None:
            text = c.body.render_pair(values)
            if isinstance(c.body, FormTemplate):
                content_type = "application/x-www-form-urlencoded"
            else:
                json.loads(text.sent)  # the renderer guarantees the shape; a last check
                content_type = "application/json"
            body, shown_body = text.sent.encode("utf-8"), text.shown
            if "content-type" not in c.headers.names():
                headers.sent["Content-Type"] = content_type
                headers.shown["Content-Type"] = content_type
        request = RenderedRequest(
            action.method,
            url.sent,
            headers.sent,
            body,
            url.shown,
            headers.shown,
            display_body_text=shown_body,
            values=values,
        )
        if c.auth is not None:
            request = c.auth.credential(secrets).apply(request)
        call_secrets = tuple(text_value(trusted[CONTEXT_PREFIX + n]) for n in c.secret_context)
        if c.auth is not None and trusted:  # Basic from context: its base64 is masked too
            call_secrets += tuple(c.auth.derived_secrets(secrets))
        key = self.repeats.key_for(session_id, values) if self.repeats.active else None
        if key is not None and action.idempotency_key is not None:
            header = action.idempotency_key.header
            request = replace(
                request.with_header(header, key, key),
                idempotency_key=key,
                idempotency_header=header,
            )
        masker = self.resources.masker.for_call(
            _rendered_pairs(request), call_secrets, tuple(text_value(v) for v in trusted.values())
        )
        return replace(request, masker=masker)

    def claim(
        self, session_id: str, key: str | None = None, deadline: float | None = None
    ) -> Claim:
        """Take the once-per-session claim, if the action has one (with the idempotency
        `key`, a claim held for a retry of this same call is taken again), waiting for a
        busy store (SQLite held by another process) only until the call's `deadline`.

        Raises:
            AlreadyRanError: it already ran in this session (or, with a key, an earlier
                call with other arguments is not confirmed yet).
            SessionStoreError: the store cannot be used, or stayed busy until the
                deadline (fail closed: nothing is sent).
        """
        if not self.action.once_per_session:
            return Claim(session_id)
        if deadline is None:
            deadline = time.monotonic() + self.action.timeout
        store = self.resources.store
        if not store.claim_before(session_id, self.action.name, deadline, key):
            if key is not None:
                raise AlreadyRanError(
                    "it already ran in this session (once per session), or an earlier "
                    "call with other arguments is not confirmed yet"
                )
            raise AlreadyRanError
        return Claim(session_id, held=True, key=key)

    def gate(
        self, request: RenderedRequest, session_id: str, deadline: float | None = None
    ) -> tuple[CacheSlot | None, Any]:
        """Before anything is sent: the cache, the budgets and the rate limit, then the
        claim. Returns the cache slot and the `Claim`, or the cached answer's outcome.

        Raises:
            CallLimitError, RateLimitedError: over a budget or the rate limit.
            AlreadyRanError, SessionStoreError: as `claim`.
        """
        reps = self.repeats
        slot = None
        if reps.active:
            slot = reps.cache_slot(session_id, request.method, request.url, request.headers)
            answer = reps.cached(slot)
            if answer is not None:
                return slot, self.from_cache(answer, request)
            reps.admit(session_id)
        try:
            return slot, self.claim(session_id, request.idempotency_key, deadline)
        except ActionCallError:
            reps.give_back(session_id)  # counted, but nothing is sent
            raise

    def from_cache(self, answer: Mapping[str, Any], request: RenderedRequest) -> CallOutcome:
        """The outcome of a call answered from the cache (nothing sent)."""
        found = Interpretation(
            True,
            answer.get("status_code"),
            data=answer.get("data"),
            missing_fields=tuple(answer.get("missing_fields") or ()),
        )
        return self.outcome(found, request, None, cached=True, pages=answer.get("pagination"))

    def send(self, request: RenderedRequest, started: float | None = None) -> HttpResult:
        """Send `request` under the action's one deadline; never raises.

        Like httpx's `Client.send`: the auth flow (`CompiledAuth.auth_flow`: an OAuth2
        token, one retry after a 401) around `network.send` (redirects within the origin,
        retries of idempotent methods, capped reads). The token request counts against
        the deadline and the call's `elapsed_ms`. The deadline runs from `started`
        (when the tool was called; default: now): what the call already waited for
        (the session store, a free worker thread) counts, and is in `elapsed_ms`.
        """
        with masking_logs(request.masker):
            return self._send_handling_auth(request, started=started)

    def settle(self, claim: Claim, response: HttpResult) -> None:
        """Record a held claim as used (a 2xx answer, or an unknown outcome) or release it.

        With an idempotency key: used only by a 2xx answer, released by a 4xx other than
        409/425/429 (the API refused it), else held for a retry of the same call.
        """
        if not claim.held:
            return
        kind = CallRepeats.claim_outcome(response.status, response.maybe_sent, claim.key)
        try:
            self.resources.store.finish(
                claim.session_id, self.action.name, used=kind == "used", hold=kind == "hold"
            )
        except SessionStoreError as e:
            # The claim stays as made: the call counts as used until it expires.
            logger.warning("%s: could not record the call: %s", self.action.name, e)

    def interpret(self, response: HttpResult, max_items: int | None = None) -> Interpretation:
        """What the answer means: the data and missing fields, or why not (`error_kind`)."""
        return interpret(response, self.compiled.fields, max_items)

    def outcome(
        self,
        found: Interpretation,
        request: RenderedRequest | None = None,
        response: HttpResult | None = None,
        *,
        cached: bool = False,
        pages: ArtifactPages | None = None,
    ) -> CallOutcome:
        """The artifact and the text the model reads: the one step that masks.

        Every text is masked (the toolkit's secrets, the call's `${context.NAME}` values
        and its rendered URL and headers) before anything is cut.
        """
        rt = self.resources
        masker = request.masker if request is not None else rt.masker
        data = found.data
        if found.data_is_text:
            data = truncate_text(masker.mask(str(data)), rt.max_body_chars)
        elif data is not None:
            data = masker.mask_data(data)
        ok = found.ok
        button = None
        if ok and request is not None:
            button = _render_button(self.action, request.values, data, masker)
        close = self.action.close_chat is not None and ok
        artifact: ActionArtifact = {
            "action": self.action.name,
            "ok": ok,
            "status_code": found.status_code,
            "data": data,
            "missing_fields": list(found.missing_fields),
            "error": found.error.masked(masker) if found.error is not None else None,
            "error_kind": found.error_kind,
            "triggered_response": self.action.triggered_response or None,
            "button": button,
            "close_chat": close,
            "farewell": self.action.close_chat.farewell
            if close and self.action.close_chat
            else None,
            "skipped": found.error_kind in ("already_ran", "limit_reached"),
            "request": None
            if request is None or response is None
            else {
                "method": request.method,
                "url": masker.mask(request.display_url),
                "elapsed_ms": response.elapsed_ms,
            },
        }
        if cached:
            artifact["cached"] = True
        if request is not None and request.idempotency_key is not None and response is not None:
            artifact["idempotency_key"] = request.idempotency_key
        if pages is not None:
            artifact["pagination"] = pages
        content = render_content(
            artifact,
            has_fields=bool(self.compiled.fields),
            max_value_chars=rt.max_value_chars,
            max_body_chars=rt.max_body_chars,
        )
        # `status="error"` whenever the call did not succeed (a UI or LangSmith filtering
        # on it sees every failure), except a skip (it already ran, a budget): nothing
        # went wrong.
        status: Literal["success", "error"] = "success" if ok or artifact["skipped"] else "error"
        return CallOutcome(masker.mask(content), artifact, request, response, status)

    # ------------------------------------------------------------------ compositions
    def stopped(
        self, error: ActionCallError, request: RenderedRequest | None = None
    ) -> CallOutcome:
        """The outcome of a call that stopped before anything was sent."""
        reason = f"invalid argument: {error}" if isinstance(error, ArgumentError) else str(error)
        outcome = self.outcome(Interpretation.failed(error.kind, reason), request)
        if not isinstance(error, ArgumentsRefusedError):
            return outcome
        # Refused by the schema: the model reads what to ask the visitor for.
        masker = request.masker if request is not None else self.resources.masker
        content = masker.mask(refusal_message(error.problems))
        return replace(outcome, content=content, status="error")

    def prepare(self, call: CallInput) -> RenderedRequest:
        """Parse and render: the request `call` would send (nothing is sent).

        Raises:
            ArgumentError: the arguments are refused (`ArgumentsRefusedError` by the
                schema) or a value cannot be rendered.
            MissingContextError: a `context.NAME` the action uses is not in the context.
        """
        return self.render(self.parse(call.arguments), call.session_id, call.context)

    def complete(
        self,
        request: RenderedRequest,
        session_id: str,
        announce: Announce | None = None,
        started: float | None = None,
    ) -> CallOutcome:
        """Gate (cache, budgets, rate limit, claim), send, settle, interpret and build the
        outcome of a rendered request, under the deadline that runs from `started` (when
        the tool was called; default: now)."""
        started = time.monotonic() if started is None else started
        try:
            slot, claim = self.gate(request, session_id, started + self.action.timeout)
        except ActionCallError as e:
            return self.stopped(e, request)
        if isinstance(claim, CallOutcome):
            return claim
        with masking_logs(request.masker):
            if announce is not None:
                announce(request, session_id)
            return self._deliver(claim, request, slot, started)

    def run(self, call: CallInput, announce: Announce | None = None) -> CallOutcome:
        """The whole call: parse -> render -> claim -> send -> settle -> interpret -> outcome
        (inside its `execute_tool` span, with the extra `otel`)."""
        with tracing.tool_span(self.action.name, call.tool_call_id) as span:
            outcome = self._run(call, announce)
            tracing.end_tool_span(span, outcome)
            return outcome

    def _run(self, call: CallInput, announce: Announce | None = None) -> CallOutcome:
        try:
            request = self.prepare(call)
        except ActionCallError as e:
            return self.stopped(e)
        return self.complete(request, call.session_id, announce, call.started)

    async def arun(self, call: CallInput, announce: AsyncAnnounce | None = None) -> CallOutcome:
        """`run` for an event loop: the network part runs on the toolkit's I/O threads."""
        with tracing.tool_span(self.action.name, call.tool_call_id) as span:
            outcome = await self._arun(call, announce)
            tracing.end_tool_span(span, outcome)
            return outcome

    async def _arun(self, call: CallInput, announce: AsyncAnnounce | None = None) -> CallOutcome:
        try:
            request = self.prepare(call)
        except ActionCallError as e:
            return self.stopped(e)
        # Our own pool (not the loop's default one, sized 5 + CPUs): a model's parallel
        # tool calls must not queue behind each other. Time queued for a thread (more
        # calls than `max_concurrency`) is the call's time.
        loop = asyncio.get_running_loop()
        pool = self.resources.threads.io_pool()
        deadline = call.started + self.action.timeout
        try:
            if self.action.once_per_session or self.repeats.active:
                # The store can block (SQLite held by another process): not on the loop.
                slot, claim = await loop.run_in_executor(
                    pool,
                    contextvars.copy_context().run,
                    self.gate,
                    request,
                    call.session_id,
                    deadline,
                )
            else:
                slot, claim = None, Claim(call.session_id)
        except ActionCallError as e:
            return self.stopped(e, request)
        if isinstance(claim, CallOutcome):
            return claim
        with masking_logs(request.masker):
            if announce is not None:
                await announce(request, call.session_id)
            context = contextvars.copy_context()
            return await loop.run_in_executor(
                pool, context.run, self._deliver, claim, request, slot, call.started
            )

    def _deliver(
        self,
        claim: Claim,
        request: RenderedRequest,
        slot: CacheSlot | None = None,
        started: float | None = None,
    ) -> CallOutcome:
        started = time.monotonic() if started is None else started
        deadline = started + self.action.timeout
        if time.monotonic() >= deadline:
            # Its deadline passed while it waited (for a free worker thread): unsent.
            unsent = HttpResult(
                error=f"timeout: the call's {self.action.timeout:g} s passed while it was "
                "waiting for a free worker thread (the toolkit's max_concurrency); nothing "
                "was sent",
                error_kind="not_sent_timeout",
            )
            self.settle(claim, unsent)
            logger.info("%s: %s", self.action.name, unsent.error)
            return self.outcome(self.interpret(unsent), request)
        response = self.send(request, started)
        pages: ArtifactPages | None = None
        if self.action.pagination is not None:
            with masking_logs(request.masker):
                response, pages = self.repeats.fetch_pages(
                    response,
                    request.url,
                    deadline,
                    lambda url, remaining: self._send_page(request, url, remaining),
                )
        self.settle(claim, response)
        found = self.interpret(response, pages["items"] or None if pages is not None else None)
        outcome = self.outcome(found, request, response, pages=pages)
        if slot is not None and outcome.artifact["ok"]:
            self.repeats.remember(
                slot,
                {
                    "status_code": outcome.artifact["status_code"],
                    "data": outcome.artifact["data"],
                    "missing_fields": outcome.artifact["missing_fields"],
                    "pagination": pages,
                },
            )
        error = outcome.artifact["error"]
        logger.info(
            "%s %s %s -> %s in %.1f ms%s",
            self.action.name,
            request.method,
            request.display_url,
            response.status,
            response.elapsed_ms,
            f" ({error})" if error else "",
        )
        return outcome

    # ------------------------------------------------------------------ sending
    def _send_page(self, request: RenderedRequest, url: str, remaining: float) -> HttpResult:
        """One further page: a GET of the link (`next_url`, `link_header`), or the same
        request with its query parameter set (`cursor`, `page`); never with the
        idempotency header (a page is not the call's side effect)."""
        pagination = self.action.pagination
        assert pagination is not None
        follow_link = pagination.style in ("next_url", "link_header")
        dropped = {(request.idempotency_header or "").lower()}
        if follow_link:
            dropped.add("content-type")
        page = replace(
            request,
            method="GET" if follow_link else request.method,
            url=url,
            headers={k: v for k, v in request.headers.items() if k.lower() not in dropped},
            body=None if follow_link else request.body,
        )
        tracing.event(
            "apiactions.pagination.page", {"apiactions.pagination.style": pagination.style}
        )
        return self._send_handling_auth(page, remaining)

    def _send_handling_auth(
        self, request: RenderedRequest, timeout: float | None = None, started: float | None = None
    ) -> HttpResult:
        rt = self.resources
        auth = self.compiled.auth
        timeout = self.action.timeout if timeout is None else timeout
        start = time.monotonic() if started is None else started
        deadline = start + timeout
        waited = time.monotonic() - start > 0.001  # for the store or a worker thread
        fetched: list[str] = []  # the OAuth2 tokens this call waited for
        resends = 0  # attempts of this request before these (a 401 sends it again)
        if auth is None:
            flow = _as_is(request)
        else:

            def tokens(rejected: str | None) -> str:
                token = rt.tokens.token(
                    rt.http,
                    auth,
                    rt.secrets,
                    deadline=deadline,
                    rejected=rejected,
                    threads=rt.threads,
                    cassette=rt.cassette,
                )
                fetched.append(token)
                return token

            flow = auth.auth_flow(request, rt.secrets, tokens)
        try:
            sending = next(flow)
            while True:
                # The whole timeout for a first attempt that waited for nothing (so a
                # timeout says `10 s`, not `9.99997 s`); what is left of it after that.
                remaining = timeout if not (fetched or waited) else deadline - time.monotonic()
                if remaining <= 0:
                    response = HttpResult(
                        error=f"timeout: no answer within {timeout:g} s",
                        error_kind="not_sent_timeout",
                    )
                    break
                response = self._send_handling_redirects(sending, remaining, timeout, resends)
                resends += max(1, len(response.attempts))
                try:
                    sending = flow.send(response.status)
                except StopIteration:
                    break
                logger.info(
                    "%s: the API refused the access token (401); fetching a new one",
                    self.action.name,
                )
        except TokenError as e:  # nothing was sent to the API
            response = HttpResult(error=str(e), error_kind=e.kind)
        # The token request counts against the call's time too.
        response.elapsed_ms = round((time.monotonic() - start) * 1000, 1)
        return response

    def _send_handling_redirects(
        self,
        request: RenderedRequest,
        timeout: float,
        shown_timeout: float | None = None,
        resends: int = 0,
    ) -> HttpResult:
        """One authenticated request through `network.send`: address checks, redirects
        within the origin, retries of idempotent methods and capped reads, within
        `timeout` (what is left of the action's `shown_timeout`, named in messages)."""
        rt = self.resources
        traced = tracing.recording()  # inside a recorded `execute_tool` span

        def live() -> HttpResult:
            return send(
                rt.http,
                request.method,
                request.url,
                headers=request.headers,
                body=request.body,
                timeout=timeout,
                max_bytes=rt.max_response_bytes,
                threads=rt.threads,
                shown_timeout=shown_timeout,
                trace=traced,
            )

        if not traced:
            return live() if rt.cassette is None else rt.cassette.exchange(request, live)
        start_ns = time.time_ns()
        # With a cassette: replayed (nothing sent), or sent and recorded.
        result = live() if rt.cassette is None else rt.cassette.exchange(request, live)
        masker = request.masker if request.masker is not None else rt.masker
        tracing.http_spans(request.method, request.url, result, masker.mask, resends, start_ns)
        return result


def _as_is(request: RenderedRequest) -> Generator[RenderedRequest, int | None, None]:
    """The auth flow of an action without `auth`: the request as rendered."""
    yield request


def _render_button(
    action: ApiAction, values: Mapping[str, Any], data: Any, masker: SecretMasker
) -> ArtifactButton | None:
    if action.button is None:
        return None
    c = action.compiled
    if c.button_url is None:
        return None
    merged = dict(values)
    field_names = {f.name for f in c.fields}
    if isinstance(data, Mapping) and set(data) <= field_names:  # not an array body's items
        merged.update({k: v for k, v in data.items() if v is not None})
    used = vars_in(c.button_url.all_parts()) + vars_in(c.button_label)
    if any(merged.get(name) in (None, "", []) for name in used):
        return None
    try:
        url = c.button_url.render_pair(merged, {}).sent
    except ArgumentError:
        return None
    label = "".join(
        p.text if isinstance(p, Lit) else text_value(merged.get(p.name))
        for p in c.button_label
        if not isinstance(p, Secret)
    )
    return {"label": masker.mask(label), "url": masker.mask(url)}
