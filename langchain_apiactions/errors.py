"""The error hierarchy of `langchain_apiactions`.

```
ApiActionError                      root of everything this package raises
├── ActionConfigError (ValueError)  the action file is wrong (all problems at once)
│   └── MissingSecretError          a `${NAME}` secret is not set in the environment
├── ModelSpecError (ValueError)     a model spec (`offline`, `openai:<model>`) cannot be
│                                   turned into a chat model (unknown, or its extra is missing)
├── SessionConflictError (ValueError)  your `session=` is already guarded by another
│                                   toolkit's network policy
├── ImportSpecError (ValueError)    an OpenAPI document or cURL line cannot be imported
├── CassetteError (ValueError)      a cassette file cannot be read, or a record mode is
│                                   unknown (`cassette.CassetteError` too)
├── ServerSettingsError (ValueError)  an environment variable of the LangGraph graph
│                                   factory (`langgraph_server.make_graph`) is missing or wrong
├── MissingExtraError (ImportError)  a feature needs an extra that is not installed
│                                   (the message is the pip command)
├── XmlRefused (ValueError)         an XML body is malformed or unsafe (`bodies.parse_xml`;
│                                   a call returns it as data)
├── CaseError                       a model call of an evaluation failed for good (after
│                                   retries); `evaluate` records it on its case
└── ActionCallError                 one call could not be made as asked (`kind`: the
    │                               artifact's `error_kind`, an `ErrorKind`)
    ├── ArgumentError (ValueError)  a value from the model cannot be used
    │   │                           (`..` as a path segment, CR/LF in a header);
    │   │                           the model sees the message and can ask again
    │   ├── ArgumentsRefusedError   the arguments do not fit the action's inputs
    │   └── ToolArgumentError (ToolException)  the same, leaving through LangChain
    │                               (in `tool.py`: `ToolException` is `langchain_core`'s)
    ├── AddressRefusedError         the network policy refused the address
    ├── MissingContextError         a `{context.NAME}` value was not provided by the app
    ├── AlreadyRanError             a `once_per_session` action already ran in the session
    ├── CallLimitError              a `max_calls_per_session` budget is used up
    ├── RateLimitedError            the action's `rate_limit` is reached for now
    ├── NotConfirmedError           the user did not confirm the call (MCP elicitation)
    ├── SessionStoreError (ValueError)  the session store (SQLite, Redis) cannot be used
    ├── TokenError                  the OAuth2 token endpoint gave no usable token
    │                               (a call returns it as data)
    └── PageLinkRefused             a next page's link leaves the first request's origin
                                    (`pagination.next_request_url`; the pages stop there)
```

Failures of the API or the network (timeouts, 4xx/5xx, refused addresses) are not raised
into the agent: a tool returns them as data (`ok: false` and `error` in the artifact).
Neither is an `ArgumentError`; where one leaves through LangChain (`ApiActionTool.prepare`)
it is a `ToolArgumentError`, also a `langchain_core` `ToolException`. Every class here is
also importable from the module that raises it (`oauth2.TokenError`, `bodies.XmlRefused`,
`evaluation.calls.CaseError`, `pagination.PageLinkRefused`,
`langgraph_server.ServerSettingsError` and its old path
`server.ServerSettingsError`).

A few private exceptions (`_Stop`, `_BodyTooLarge` and `_DeadlineExceeded` in `network`,
`_DuplicateKeyError` and `_NotPlain` in `config`, `_UsageError` in `cli`) are control
flow inside one step and never leave it; a test keeps every other exception class in this
tree.

This module (like the whole file format: `config`, `templating`, `extract`) needs no
LangChain, so loading and validating an action file starts fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ActionCallError",
    "ActionConfigError",
    "AddressRefusedError",
    "AlreadyRanError",
    "ApiActionError",
    "ArgumentError",
    "ArgumentsRefusedError",
    "CallLimitError",
    "CaseError",
    "CassetteError",
    "ImportSpecError",
    "MissingContextError",
    "MissingExtraError",
    "MissingSecretError",
    "ModelSpecError",
    "NotConfirmedError",
    "PageLinkRefused",
    "RateLimitedError",
    "ServerSettingsError",
    "SessionConflictError",
    "SessionStoreError",
    "TokenError",
    "XmlRefused",
]


# Why a call did not succeed: the artifact's `error_kind` (None when it did). Code
# branches on this, never on the `error` text. Documented in the README ("The result").
ErrorKind = Literal[
    "invalid_argument",  # the model's arguments were refused; nothing sent
    "missing_context",  # the application did not provide a `{context.NAME}`; nothing sent
    "already_ran",  # `once_per_session`: it already ran in this session; nothing sent
    "limit_reached",  # a `max_calls_per_session` budget is used up; nothing sent
    "rate_limited",  # the action's `rate_limit` is reached; nothing sent, try again later
    "store_unavailable",  # the session store could not be used; nothing sent
    "not_confirmed",  # the user did not confirm the call (MCP); nothing sent
    "auth_failed",  # the OAuth2 token endpoint gave no token; nothing sent to the API
    "refused_address",  # the network policy refused the address; nothing sent there
    "unreachable",  # could not connect (refused, host not found); nothing sent
    "not_sent_timeout",  # the deadline passed before the request was sent
    "outcome_unknown",  # sent (or maybe sent) and no complete answer came
    "redirect_refused",  # a redirect was not followed (another origin, a bad Location)
    "http_status",  # the API answered with a status other than 2xx
    "bad_body",  # the API answered 2xx with a body that could not be used
    "too_large",  # the response body was larger than the byte cap
    "no_recording",  # a cassette in replay had no recording of the request; nothing sent
    "request_failed",  # anything else that ended the request
]


@dataclass(frozen=True)
class Problem:
    """One problem found while checking an action: the field and what is wrong with it.

    Every check (templates, auth, names, defaults) reports these; `check_actions` adds the
    source and the action when it writes them out (`line`).
    """

    field: str
    message: str
    warning: bool = False

    def line(self, source: str, action: str) -> str:
        """`actions.yaml: Check_Order.url: placeholder {x} is not a declared input`."""
        return f"{source}: {action}.{self.field}: {self.message}"


class ApiActionError(Exception):
    """Root of every error raised by `langchain_apiactions`: `except ApiActionError`
    catches anything this package raises, and nothing else."""


class ActionConfigError(ApiActionError, ValueError):
    """An action file (or dict/list/text) is invalid.

    `problems` holds one line per problem, each naming the source, the action and the
    field, e.g. `actions.yaml: Check_Order_Status.url: placeholder {order_no} is not a
    declared input`. Raised by `load_actions`, `ApiActionsToolkit(...)` and
    `create_api_actions_agent`, never during a call.

    Args:
        problems: One line per problem; the message lists them all.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        message = f"{head} in the action configuration:\n" + "\n".join(
            f"  - {p}" for p in self.problems
        )
        super().__init__(message)


class MissingSecretError(ActionConfigError):
    """A `${NAME}` secret used by an action is not set in the environment (or `env=`):
    raised when the toolkit is built, naming the action and the variable."""


class ModelSpecError(ApiActionError, ValueError):
    """A model spec names no model this package can load (or its extra is missing):
    `--model`, `APIACTIONS_MODEL`, or the embeddings of action selection."""


class ImportSpecError(ApiActionError, ValueError):
    """An OpenAPI document or a cURL line cannot be imported (the message says why)."""


class CassetteError(ApiActionError, ValueError):
    """A cassette file (`cassette=`) cannot be read, or a record mode is unknown."""


class ServerSettingsError(ApiActionError, ValueError):
    """An environment variable of the graph factory is missing or wrong."""


class MissingExtraError(ApiActionError, ImportError):
    """A feature needs an optional extra that is not installed; says what to install."""


class XmlRefused(ApiActionError, ValueError):
    """An XML body that is malformed or unsafe (the message says why, for the artifact)."""


class CaseError(ApiActionError):
    """A model call that failed for good (after retries): recorded on its case."""


class ActionCallError(ApiActionError):
    """One call of an action could not be made as asked. A tool never raises it into the
    agent: the call returns `ok: false` with the message as its `error`, and `kind` as
    its `error_kind`."""

    kind: ErrorKind = "request_failed"


class ArgumentError(ActionCallError, ValueError):
    """A value supplied by the model cannot be rendered into the request (`..` as a path
    segment, a line break in a header): the model reads the message and can ask again."""

    kind: ErrorKind = "invalid_argument"


class ArgumentsRefusedError(ArgumentError):
    """The model's arguments do not fit the action's inputs (a pydantic validation error).

    `problems` holds `(input, problem)` pairs said as a person would; `error` is the
    pydantic `ValidationError` they come from.
    """

    def __init__(self, problems: Sequence[tuple[str, str]], error: Any = None) -> None:
        self.problems = list(problems)
        self.error = error
        super().__init__("; ".join(f"{where}: {problem}" for where, problem in self.problems))


class AddressRefusedError(ActionCallError):
    """The network policy refused to connect to an address (loopback, private, metadata,
    ...): the call is `ok: false`, and the message names the option that opens it."""

    kind: ErrorKind = "refused_address"


class AlreadyRanError(ActionCallError):
    """A `once_per_session` action already ran in this session: nothing is sent."""

    kind: ErrorKind = "already_ran"

    def __init__(self, message: str = "it already ran in this session (once per session)") -> None:
        super().__init__(message)


class CallLimitError(ActionCallError):
    """A `max_calls_per_session` budget (the action's or the toolkit's) is used up in this
    session: nothing is sent, and calling again cannot help in this session."""

    kind: ErrorKind = "limit_reached"


class RateLimitedError(ActionCallError):
    """The action's `rate_limit` is reached (across sessions and workers): nothing is sent;
    the message says when to try again."""

    kind: ErrorKind = "rate_limited"


class NotConfirmedError(ActionCallError):
    """The user did not confirm the call (an MCP client's elicitation): nothing is sent."""

    kind: ErrorKind = "not_confirmed"

    def __init__(self) -> None:
        super().__init__("not confirmed by the user; nothing was sent")


class SessionConflictError(ApiActionError, ValueError):
    """A `requests.Session` is already guarded by another toolkit's network policy."""


class MissingContextError(ActionCallError):
    """A trusted-context value (`{context.NAME}`) the action needs was not provided by
    the application for this run: nothing is sent, and the call is `ok: false`.

    Args:
        names: The missing context names (without `context.`).
    """

    kind: ErrorKind = "missing_context"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = [f"context.{n}" for n in names]
        super().__init__(
            "missing trusted context " + ", ".join(self.names) + ": the application did not "
            "provide it for this run, so nothing was sent"
        )


class SessionStoreError(ActionCallError, ValueError):
    """The session store cannot be used (a bad URL, Redis not reachable, SQLite locked):
    a bad URL raises when the store is made; during a call, nothing is sent and the call
    is `ok: false` (once per session fails closed)."""

    kind: ErrorKind = "store_unavailable"


class TokenError(ActionCallError):
    """The token endpoint gave no usable token (`timeout`: the call's deadline passed).

    The message may quote the endpoint: the caller masks it with the toolkit's secrets.
    """

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.kind = "not_sent_timeout" if timeout else "auth_failed"


class PageLinkRefused(ActionCallError):
    """A next page's link is not followed: it leaves the first request's scheme, host or
    port, or could be read two ways. The pages stop there; the call keeps its items."""
