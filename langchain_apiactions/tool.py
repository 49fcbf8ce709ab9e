"""One action, one LangChain tool: a `StructuredTool` whose calls run the call pipeline.

The tool adds only what LangChain needs: the run's session and trusted context from its
config, the `api_action_triggered` event, and the `ToolMessage` of a refused call. Every
step of a call (parse, render, claim, send, settle, interpret, outcome) is
`langchain_apiactions.call.CallPipeline`'s, shared with `apiactions call` and the MCP
server.

No `from __future__ import annotations` here: LangChain reads `_run`'s annotations on
every call (to find its config parameter), and string annotations would be evaluated
each time.
"""

import contextlib
import inspect
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
    Callbacks,
    adispatch_custom_event,
    dispatch_custom_event,
)
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig, ensure_config
from langchain_core.tools import StructuredTool, ToolException
from pydantic import ConfigDict, Field

from langchain_apiactions.arguments import (
    build_args_schema,
    describe_validation_error,
    format_validation_error,
    tool_description,
    validation_problems,
)
from langchain_apiactions.call import (
    DEFAULT_SESSION,
    Arguments,
    CallInput,
    CallOutcome,
    CallPipeline,
    ToolkitResources,
)
from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import ArgumentError
from langchain_apiactions.quiet import arun_quietly, nobody_listens, run_quietly
from langchain_apiactions.request import RenderedRequest
from langchain_apiactions.result import ActionArtifact

__all__ = [
    "ApiActionTool",
    "RenderedRequest",
    "ToolArgumentError",
    "ToolkitResources",
    "build_args_schema",
    "context_from",
    "describe_validation_error",
    "format_validation_error",
    "session_id_from",
    "validation_problems",
]

EVENT_NAME = "api_action_triggered"


class ToolArgumentError(ArgumentError, ToolException):
    """An `ArgumentError` as it leaves through LangChain: also a `ToolException`, so a
    tool's `handle_tool_error` shows the message to the model."""


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


def _call_input(
    pipeline: CallPipeline,
    arguments: Mapping[str, Any] | str,
    config: RunnableConfig | None,
    tool_call_id: str | None = None,
) -> CallInput:
    context = context_from(config) if pipeline.compiled.context else None
    return CallInput(arguments, session_id_from(config), context, tool_call_id=tool_call_id)


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


def _event(action: ApiAction, request: RenderedRequest, session_id: str) -> dict[str, Any]:
    return {
        "action": action.name,
        "triggered_response": action.triggered_response,
        "session_id": session_id,
        "request": {"method": request.method, "url": request.display_url},
    }


class _ToolFunctions:
    """`tool.func` and `tool.coroutine`: one call with these arguments, in the session and
    context of the run they are called in (bound methods, so that LangGraph's `ToolNode`
    can read their annotations)."""

    def __init__(self, pipeline: CallPipeline) -> None:
        self.pipeline = pipeline

    def __repr__(self) -> str:
        return f"{self.pipeline.action.name} call"

    def run(self, **arguments: Any) -> tuple[str, ActionArtifact]:
        outcome = self.pipeline.run(_call_input(self.pipeline, arguments, ensure_config()))
        return outcome.content, outcome.artifact

    async def arun(self, **arguments: Any) -> tuple[str, ActionArtifact]:
        call = _call_input(self.pipeline, arguments, ensure_config())
        outcome = await self.pipeline.arun(call)
        return outcome.content, outcome.artifact


# What the model-facing schema of a tool is made from.
_SCHEMA_INPUTS = frozenset({"name", "description", "args_schema"})


class ApiActionTool(StructuredTool):
    """A LangChain tool that calls one declared API action, server-side.

    A `StructuredTool`: `func(**arguments)` and `coroutine(**arguments)` run the call and
    return `(content, artifact)`, in the session and trusted context of the run they are
    called in; `invoke`/`ainvoke` return a `ToolMessage` whose artifact is an
    `ActionArtifact`. Every step of the call is `pipeline`'s (`CallPipeline`), the same
    steps `apiactions call` and the MCP server run.

    Attributes:
        action: The action this tool calls.
        runtime: What the toolkit's tools share (HTTP session, policy, secrets, store).
        pipeline: The call's steps: parse, render, claim, send, settle, interpret, outcome.
    """

    action: ApiAction = Field(exclude=True)
    runtime: ToolkitResources = Field(exclude=True, repr=False)
    pipeline: CallPipeline = Field(exclude=True, repr=False)
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    model_config = ConfigDict(arbitrary_types_allowed=True)
    # How many times any tool's `name`, `description` or `args_schema` was reassigned:
    # what was computed from them (the agent's bound schemas) is made again when it moves.
    schema_edits: ClassVar[int] = 0

    @classmethod
    def from_action(cls, action: ApiAction, runtime: ToolkitResources) -> "ApiActionTool":
        """The tool of `action` (the toolkit builds them; build your own for a subclass).

        Args:
            action: A loaded action (`load_actions`).
            runtime: The toolkit's shared resources (`toolkit.runtime`).

        Returns:
            The tool.
        """
        pipeline = CallPipeline(action, runtime)
        functions = _ToolFunctions(pipeline)
        return cls(
            name=action.name,
            description=tool_description(action),
            args_schema=pipeline.json_schema,
            func=functions.run,
            coroutine=functions.arun,
            action=action,
            runtime=runtime,
            pipeline=pipeline,
            metadata={"api_action": action.name, "method": action.method},
        )

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _SCHEMA_INPUTS:
            ApiActionTool.schema_edits += 1

    def __repr__(self) -> str:
        from langchain_apiactions.display import tool_repr

        return tool_repr(self.action, self.runtime.masker.mask)

    def _repr_html_(self) -> str:
        """Jupyter's view: request line, description, inputs, response fields, flags."""
        from langchain_apiactions.display import tool_html

        return tool_html(self.action, self.runtime.masker.mask)

    def prepare(
        self, args: Mapping[str, Any], session_id: str = DEFAULT_SESSION, context: Any = None
    ) -> RenderedRequest:
        """Render the request for `args` (and the trusted `context`) without sending it.

        Args:
            args: The tool's arguments, as a model would send them.
            session_id: The chat session (`{session_id}` in templates).
            context: The run's trusted context (a dict or an object with attributes),
                for `{context.NAME}` and `${context.NAME}`.

        Returns:
            The request as it would be sent (`method`, `url`, `headers`, `body`) and as it
            is shown (`display_url`, `display_headers`: secrets `***`).

        Raises:
            ToolArgumentError: a value cannot be used (an `ArgumentError` that is also a
                LangChain `ToolException`, for tools of your own built on this one).
            MissingContextError: a `context.NAME` the action uses is not in `context`.
        """
        try:
            return self.pipeline.render(Arguments(dict(args)), session_id, context)
        except ToolArgumentError:
            raise
        except ArgumentError as e:
            raise ToolArgumentError(str(e)) from e

    # ------------------------------------------------------------------ BaseTool
    def run(
        self,
        tool_input: str | dict[str, Any],
        verbose: bool | None = None,
        start_color: str | None = "green",
        color: str | None = "green",
        callbacks: Callbacks = None,
        *,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_name: str | None = None,
        run_id: uuid.UUID | None = None,
        config: RunnableConfig | None = None,
        tool_call_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """`BaseTool.run`: the call, as LangChain runs a tool.

        When no callback handler would see the run (none passed, none on the tool, no
        tracing, not verbose: `quiet.nobody_listens`), the same result is returned
        without LangChain's callback machinery.

        Args:
            tool_input: The arguments (a dict, or a string for the first input).
            verbose: Log the run (a callback handler: LangChain's path).
            start_color: The color of the start of a verbose run.
            color: The color of the end of a verbose run.
            callbacks: Callback handlers (or a callback manager) for this run.
            tags: Tags for the callback handlers.
            metadata: Metadata for the callback handlers.
            run_name: The run's name, for the callback handlers.
            run_id: The run's id, for the callback handlers.
            config: The run's config (session and trusted context in `configurable`).
            tool_call_id: The model's tool call id: the result is then a `ToolMessage`.
            **kwargs: Passed to the callback handlers (LangChain's path).

        Returns:
            A `ToolMessage` for a tool call (content, `ActionArtifact`, status), else
            the content the model reads.
        """
        if not kwargs and self._quiet_class() and nobody_listens(self, callbacks, verbose):
            return run_quietly(self, tool_input, config, tool_call_id)
        return super().run(
            tool_input,
            verbose,
            start_color,
            color,
            callbacks,
            tags=tags,
            metadata=metadata,
            run_name=run_name,
            run_id=run_id,
            config=config,
            tool_call_id=tool_call_id,
            **kwargs,
        )

    async def arun(
        self,
        tool_input: str | dict[str, Any],
        verbose: bool | None = None,
        start_color: str | None = "green",
        color: str | None = "green",
        callbacks: Callbacks = None,
        *,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_name: str | None = None,
        run_id: uuid.UUID | None = None,
        config: RunnableConfig | None = None,
        tool_call_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """`BaseTool.arun`: `run` for an event loop (the network part on the toolkit's
        I/O threads), without the callback machinery when nobody listens.

        Args:
            tool_input: The arguments (a dict, or a string for the first input).
            verbose: Log the run (a callback handler: LangChain's path).
            start_color: The color of the start of a verbose run.
            color: The color of the end of a verbose run.
            callbacks: Callback handlers (or a callback manager) for this run.
            tags: Tags for the callback handlers.
            metadata: Metadata for the callback handlers.
            run_name: The run's name, for the callback handlers.
            run_id: The run's id, for the callback handlers.
            config: The run's config (session and trusted context in `configurable`).
            tool_call_id: The model's tool call id: the result is then a `ToolMessage`.
            **kwargs: Passed to the callback handlers (LangChain's path).

        Returns:
            A `ToolMessage` for a tool call (content, `ActionArtifact`, status), else
            the content the model reads.
        """
        if not kwargs and self._quiet_class() and nobody_listens(self, callbacks, verbose):
            return await arun_quietly(self, tool_input, config, tool_call_id)
        return await super().arun(
            tool_input,
            verbose,
            start_color,
            color,
            callbacks,
            tags=tags,
            metadata=metadata,
            run_name=run_name,
            run_id=run_id,
            config=config,
            tool_call_id=tool_call_id,
            **kwargs,
        )

    def _quiet_class(self) -> bool:
        """A subclass that changes how `_run`/`_arun` are called takes LangChain's path
        (the quiet one calls them as this class declares them)."""
        cls = type(self)
        return (
            cls._run is ApiActionTool._run
            and cls._arun is ApiActionTool._arun
            and cls._to_args_and_kwargs is ApiActionTool._to_args_and_kwargs
        )

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # The arguments reach the pipeline as the model sent them: its parse step
        # validates them, and refused arguments still make an artifact (LangChain's own
        # validation would end the call in its handler, without one).
        return (tool_input, tool_call_id), {}

    def _result(
        self, outcome: CallOutcome, tool_call_id: str | None
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        if outcome.status == "success" or tool_call_id is None:
            return outcome.content, outcome.artifact
        # A ready message keeps its status, as LangChain's own handler would set it.
        message = ToolMessage(
            content=outcome.content,
            artifact=outcome.artifact,
            tool_call_id=tool_call_id,
            name=self.name,
            status=outcome.status,
        )
        return message, outcome.artifact

    # LangChain calls `_run(*args, **kwargs)` with what `_to_args_and_kwargs` returned,
    # plus `config` and `run_manager`.
    def _run(  # type: ignore[override]
        self,
        tool_input: str | dict[str, Any],
        tool_call_id: str | None,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        def announce(request: RenderedRequest, session_id: str) -> None:
            event = _event(self.action, request, session_id)
            if _listening(run_manager):
                with contextlib.suppress(RuntimeError):  # invoked outside a run
                    dispatch_custom_event(EVENT_NAME, event)
            _write_stream(event)

        call = _call_input(self.pipeline, tool_input, config, tool_call_id)
        return self._result(self.pipeline.run(call, announce), tool_call_id)

    async def _arun(  # type: ignore[override]
        self,
        tool_input: str | dict[str, Any],
        tool_call_id: str | None,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> tuple[str | ToolMessage, ActionArtifact]:
        async def announce(request: RenderedRequest, session_id: str) -> None:
            event = _event(self.action, request, session_id)
            if _listening(run_manager):
                with contextlib.suppress(RuntimeError):
                    await adispatch_custom_event(EVENT_NAME, event)
            _write_stream(event)

        call = _call_input(self.pipeline, tool_input, config, tool_call_id)
        return self._result(await self.pipeline.arun(call, announce), tool_call_id)


# LangChain looks up `_run`'s signature and type hints on every call (for its
# `run_manager` and `config` parameters): ~90 µs a call. Both are computed once here; the
# runtime annotations keep only what LangChain looks for (mypy reads the ones above).
for _method in (ApiActionTool._run, ApiActionTool._arun):
    _method.__signature__ = inspect.signature(_method)  # type: ignore[union-attr]
    _method.__annotations__ = {"config": RunnableConfig}
del _method
