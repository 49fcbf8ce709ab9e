"""`ApiActionsToolkit`: compile a set of actions into LangChain tools sharing one session."""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr
from typing_extensions import Self

from langchain_apiactions.call import ToolkitResources
from langchain_apiactions.cassette import Cassette, RecordMode
from langchain_apiactions.config import ApiAction, environment_secrets, load_actions
from langchain_apiactions.network import CallThreads, NetworkPolicy, build_session
from langchain_apiactions.oauth2 import TokenCache
from langchain_apiactions.redact import (
    MIN_SECRET_CHARS,
    LogGuard,
    SecretMasker,
    ShortSecretWarning,
)
from langchain_apiactions.selection import Ranker
from langchain_apiactions.session_store import (
    BaseSessionStore,
    SessionStore,
    session_store_from_url,
)
from langchain_apiactions.tool import ApiActionTool

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server

    from langchain_apiactions.selection import ActionSelector

__all__ = ["ApiActionsToolkit"]


class ApiActionsToolkit(BaseToolkit):
    """Compiles API actions into tools; one pooled, guarded HTTP session for all of them.

    Example:
        ```python
        toolkit = ApiActionsToolkit.from_file("actions.yaml")
        tools = toolkit.get_tools()
        ```

        Every action is validated when the toolkit is made, but its tool (args model,
        renderers) is built when it is first asked for: `get_tool(name)`, a selection
        in the agent, or `get_tools()` (which builds them all). A catalogue of a
        thousand actions costs little until its tools are used.

        `close()` (or `with ApiActionsToolkit(...) as toolkit:`) stops the threads and
        closes the connections it started.
    """

    actions: list[ApiAction] = Field(description="The actions (or a path, text, dict or list).")
    allow_private_networks: bool = Field(
        False, description="Allow every address (loopback, private...)."
    )
    allowed_networks: list[str] = Field(default_factory=list, description="CIDRs to allow.")
    allowed_hosts: list[str] = Field(default_factory=list, description="Host names to allow.")
    max_response_bytes: int = Field(1_000_000, gt=0, description="Response body cap (bytes).")
    max_body_chars: int = Field(16_000, gt=0, description="Whole-body cap shown to the model.")
    max_concurrency: int = Field(
        64,
        gt=0,
        description="Async calls (`ainvoke`) that run at once; more wait for a free worker "
        "thread, and that wait counts against each call's deadline.",
    )
    max_value_chars: int = Field(
        2_000, gt=0, description="Cap per extracted value shown to the model."
    )
    session: requests.Session | None = Field(
        None, exclude=True, repr=False, description="Your own requests.Session."
    )
    session_store: BaseSessionStore = Field(
        default_factory=SessionStore,
        exclude=True,
        repr=False,
        description="Where once-per-session calls are recorded: a store, or a URL "
        "(`sqlite:///file.db`, `redis://host:6379/0`, `memory://`).",
    )
    max_calls_per_session: int | None = Field(
        None,
        ge=1,
        description="At most this many API calls of all the actions together per session "
        "(counted in the session store).",
    )
    env: Mapping[str, str] | None = Field(
        None, exclude=True, repr=False, description="Where secrets come from (default os.environ)."
    )
    embeddings: Embeddings | None = Field(
        None,
        exclude=True,
        repr=False,
        description="A LangChain `Embeddings` for `select_actions` (default: the `select` "
        "extra's offline model when installed, else words alone).",
    )
    select_ranker: Ranker = Field(
        "auto", description="How `select_actions` ranks: auto, lexical, semantic or hybrid."
    )
    select_cache: str | Path | None = Field(
        None, description="A SQLite file keeping the actions' vectors between processes."
    )

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cassette: str | Path | None = Field(
        None,
        description="Record and replay the API's answers in this YAML file (see record_mode).",
    )
    record_mode: RecordMode = Field(
        "once",
        description="once (record if the file is missing, else replay), none (replay only), "
        "new_episodes (replay, record the rest) or all (record again).",
    )
    cassette_match_headers: list[str] = Field(
        default_factory=list,
        description="Header names a recorded request must match too (besides method, URL, body).",
    )
    _tools: dict[str, ApiActionTool] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, ApiAction] = PrivateAttr(default_factory=dict)
    _build_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _selector: ActionSelector | None = PrivateAttr(default=None)
    _owns_store: bool = PrivateAttr(default=False)

    _runtime: ToolkitResources | None = PrivateAttr(default=None)
    _log_guard: LogGuard | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        # Loaded here, not in a validator, so that a bad file raises `ActionConfigError`
        # itself rather than a pydantic `ValidationError` wrapping it.
        if "actions" in data:
            data["actions"] = load_actions(data["actions"])
        owns_store = isinstance(data.get("session_store"), str)
        if owns_store:  # a URL: the store made here is closed with the toolkit
            data["session_store"] = session_store_from_url(data["session_store"])
        super().__init__(**data)
        self._owns_store = owns_store
        self._compile()

    def _compile(self) -> None:
        secrets = environment_secrets(self.actions, os.environ if self.env is None else self.env)
        derived = [
            value
            for action in self.actions
            if action.compiled.auth is not None
            for value in action.compiled.auth.derived_secrets(secrets)
        ]
        masker = SecretMasker(secrets, derived=derived)
        _warn_weak_secrets(masker, secrets)
        policy = NetworkPolicy.build(
            self.allow_private_networks, self.allowed_networks, self.allowed_hosts
        )
        self._runtime = ToolkitResources(
            http=build_session(policy, self.session),
            policy=policy,
            secrets={name: SecretStr(value) for name, value in secrets.items()},
            store=self.session_store,
            masker=masker,
            tokens=TokenCache(masker),
            max_response_bytes=self.max_response_bytes,
            max_body_chars=self.max_body_chars,
            max_value_chars=self.max_value_chars,
            max_calls_per_session=self.max_calls_per_session,
            threads=CallThreads(io_threads=self.max_concurrency),
            cassette=None
            if self.cassette is None
            else Cassette(
                Path(self.cassette),
                self.record_mode,
                tuple(self.cassette_match_headers),
                secrets=secrets,
            ),
        )
        self._by_name = {a.name: a for a in self.actions}
        # The HTTP stack's loggers mask this toolkit's secrets (and each call's context
        # values) while it is in use: until `close()`, or until the runtime its tools
        # share is garbage collected.
        if secrets or any(action.compiled.context for action in self.actions):
            self._log_guard = LogGuard(masker)
            self._log_guard.install()
            weakref.finalize(self._runtime, self._log_guard.remove)

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ApiActionsToolkit:
        """Load `path` (YAML or JSON) and compile it.

        Args:
            path: The action file.
            **options: The toolkit's options (`allowed_hosts=`, `session_store=`, ...).

        Returns:
            The toolkit.

        Raises:
            ActionConfigError: The file does not load (every problem, listed).
            MissingSecretError: A `${NAME}` secret the file uses is not set.
        """
        return cls(actions=load_actions(Path(path)), **options)

    def __repr__(self) -> str:
        from langchain_apiactions.display import toolkit_repr

        return toolkit_repr(self.actions)

    def _repr_html_(self) -> str:
        """Jupyter's view: a table of the actions (name, method, host, inputs, flags)."""
        from langchain_apiactions.display import toolkit_html

        return toolkit_html(self.actions, self.runtime.masker.mask)

    def get_tools(self) -> list[BaseTool]:
        """One tool per action, in file order (each built now if it was not yet).

        Returns:
            The tools (`ApiActionTool`s), for `create_agent` or any LangChain agent.
        """
        return [self.get_tool(a.name) for a in self.actions]

    @property
    def built_tools(self) -> list[str]:
        """The names of the actions whose tool has been built so far."""
        return list(self._tools)

    @property
    def runtime(self) -> ToolkitResources:
        """What the tools share (HTTP session, policy, secrets, session store)."""
        assert self._runtime is not None
        return self._runtime

    def get_tool(self, name: str) -> ApiActionTool:
        """The tool of the action called `name` (built on first use, then kept).

        Args:
            name: The action's name.

        Returns:
            Its tool.

        Raises:
            KeyError: no action has that name.
        """
        tool = self._tools.get(name)
        if tool is not None:
            return tool
        action = self._by_name.get(name)
        if action is None:
            msg = f"no action named {name!r}"
            raise KeyError(msg)
        with self._build_lock:
            tool = self._tools.get(name)
            if tool is None:
                tool = self._tools[name] = ApiActionTool.from_action(action, self.runtime)
        return tool

    def select_actions(self, text: str | Sequence[Any], k: int = 8) -> list[str]:
        """The names of the `k` actions that best fit `text`, best first.

        `text` is a visitor message, or a conversation (strings or LangChain messages;
        its last three visitor messages count, the latest most). Offline: words
        (BM25) fused with the vectors of `embeddings` (by default the `select` extra's
        packaged model); words alone without it. Each action is indexed by its name,
        `when_to_use`, inputs and `examples:`. The index is built on the first call.

        Args:
            text: The visitor's message, or the conversation so far.
            k: How many names at most.

        Returns:
            Action names, best first.
        """
        return self.selector.select(text, k)

    @property
    def selector(self) -> ActionSelector:
        """The action index behind `select_actions` (built on first use)."""
        if self._selector is None:
            from langchain_apiactions.selection import ActionSelector

            with self._build_lock:
                if self._selector is None:
                    self._selector = ActionSelector(
                        self.actions,
                        embeddings=self.embeddings,
                        ranker=self.select_ranker,
                        cache=self.select_cache,
                    )
        return self._selector

    def to_mcp_server(self, **options: Any) -> Server[Any, Any]:
        """These actions as an MCP server (the `mcp` SDK's low-level `Server`).

        Needs the `mcp` extra.

        Args:
            **options: `name` (the server's name), `context` (trusted `{context.NAME}`
                values), `instructions`, and for `run_http`: `allowed_hosts` (more
                `Host` names clients may use) and `auth_token_env` (the variable holding
                the bearer token clients must send); see `mcp_server.create_mcp_server`.

        Returns:
            The server, for `mcp_server.run_stdio`, `run_http` or your own transport.
        """
        from langchain_apiactions.mcp_server import create_mcp_server

        return create_mcp_server(self, **options)

    def close(self) -> None:
        """Stop everything the toolkit started: calls still in flight end (as timeouts),
        the deadline watchdog, resolver and async worker threads stop, the pooled HTTP
        connections close, OAuth2 access tokens are forgotten, and the log filters that
        mask its secrets are removed. A later call starts them again.
        """
        if self._runtime is not None:
            self._runtime.threads.close()
            self._runtime.http.close()
            self._runtime.tokens.clear()  # OAuth2 access tokens: fetched again if needed
        if self._log_guard is not None:
            self._log_guard.remove()
        if self._owns_store:
            self.session_store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _warn_weak_secrets(masker: SecretMasker, secrets: Mapping[str, str]) -> None:
    for name in masker.weak_names:
        value = secrets[name]
        why = (
            f"only {len(value)} character{'s' if len(value) != 1 else ''} long"
            if len(value) < MIN_SECRET_CHARS
            else "a common word"
        )
        message = (
            f"secret ${{{name}}} is {why}: it is masked only where it is sent (the request "
            "URL and headers as shown, and errors or logs quoting them), not wherever the "
            "same text appears in responses. Use a real credential, or accept that its "
            "value may show in API answers."
        )
        warnings.warn(message, ShortSecretWarning, stacklevel=4)
