"""A tool run without LangChain's callback machinery, when no callback handler would exist.

`BaseTool.run`/`arun` configure a callback manager, start a tool run (a run id, the
input as text, injected arguments filtered out) and end it on every call, even when no
handler exists to see any of it: about a tenth of a call to a fast API. `nobody_listens`
answers, from everything langchain-core's `CallbackManager.configure` reads to build the
run's handlers, whether that list would be empty:

- the callbacks passed in (`config["callbacks"]`: inheritable) and the tool's own
  (`tool.callbacks`: local), as handler lists or callback managers;
- `verbose` (the call's or the tool's) and `langchain_core.globals.set_debug`;
- LangSmith tracing: `tracing_v2_enabled()` (its context variable), LangSmith's
  tracing context (`tracing_context(enabled=...)`, `@traceable`'s run tree, its tags
  and metadata), its global switch and the environment (`LANGSMITH_TRACING`,
  `LANGCHAIN_TRACING_V2`), read by the same function LangChain reads them with;
- the context variables of configure hooks (`collect_runs()`,
  `get_usage_metadata_callback()`, any `register_configure_hook`) and their environment
  variables;
- `LANGCHAIN_TRACING`/`LANGCHAIN_HANDLER` (v1 tracing), for which LangChain raises.

When any of them may add a handler, the call takes LangChain's own path. Otherwise
`run_quietly`/`arun_quietly` run the body of `BaseTool.run`/`arun` without the callback
calls: the same `_to_args_and_kwargs`, the same child config in the context (what
`get_config()` and LangGraph's stream writer read inside the tool), the same
`response_format` check, `handle_validation_error`/`handle_tool_error` handling and
`ToolMessage` (LangChain's own `_format_output`). If this langchain-core lacks a name
used here, every call takes LangChain's path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackManager, Callbacks
from langchain_core.runnables import RunnableConfig, ensure_config
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tools import ToolException
from langchain_core.utils.env import env_var_is_set
from pydantic import ValidationError

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["arun_quietly", "nobody_listens", "run_quietly"]

try:  # langchain-core's own pieces, so the quiet path cannot drift from its path
    from langchain_core.globals import get_debug
    from langchain_core.tools.base import (
        _format_output,
        _handle_tool_error,
        _handle_validation_error,
    )
    from langchain_core.tracers.context import _configure_hooks, tracing_v2_callback_var
    from langsmith.run_helpers import get_tracing_context
    from langsmith.utils import tracing_is_enabled
    from pydantic.v1 import ValidationError as ValidationErrorV1

    AVAILABLE = True
except ImportError:  # pragma: no cover - another langchain-core: always its own path
    AVAILABLE = False


def _no_handlers(callbacks: Callbacks) -> bool:
    if callbacks is None:
        return True
    if isinstance(callbacks, BaseCallbackManager):
        return not callbacks.handlers and not callbacks.inheritable_handlers
    return not callbacks  # a list of handlers


def nobody_listens(tool: BaseTool, callbacks: Callbacks, verbose: bool | None) -> bool:
    """Whether `tool.run(..., callbacks=callbacks, verbose=verbose)` would configure no
    callback handler at all (see the module docstring for what is read)."""
    if not AVAILABLE or verbose or tool.verbose or get_debug():
        return False
    if not (_no_handlers(callbacks) and _no_handlers(tool.callbacks)):
        return False
    if tracing_v2_callback_var.get() is not None:
        return False
    context = get_tracing_context()
    if context["parent"] is not None or context["tags"] or context["metadata"]:
        return False
    if tracing_is_enabled(context):  # context, run tree, global switch, environment
        return False
    if env_var_is_set("LANGCHAIN_TRACING") or env_var_is_set("LANGCHAIN_HANDLER"):
        return False
    for var, _inheritable, handler_class, env_var in _configure_hooks:
        if var.get() is not None:
            return False
        if env_var is not None and handler_class is not None and env_var_is_set(env_var):
            return False
    return True


def _child_config(config: RunnableConfig | None) -> RunnableConfig:
    """What `BaseTool.run` puts in the context for the tool's body (`patch_config` with
    the run's child callbacks, which here would have no handler)."""
    child = ensure_config(config)
    child.pop("run_name", None)
    child.pop("run_id", None)
    return child


def _content_and_artifact(tool: BaseTool, response: Any) -> tuple[Any, Any]:
    if tool.response_format != "content_and_artifact":
        return response, None
    msg = (
        "Since response_format='content_and_artifact' "
        "a two-tuple of the message content and raw tool output is "
        f"expected. Instead, generated response is of type: "
        f"{type(response)}."
    )
    if not isinstance(response, tuple):
        raise ValueError(msg)
    try:
        content, artifact = response
    except ValueError:
        raise ValueError(msg) from None
    return content, artifact


def _handled(tool: BaseTool, error: Exception) -> Any:
    """The content of an error `tool` handles, or the error raised again."""
    if isinstance(error, (ValidationError, ValidationErrorV1)):
        if not tool.handle_validation_error:
            raise error
        return _handle_validation_error(error, flag=tool.handle_validation_error)
    assert isinstance(error, ToolException)
    if not tool.handle_tool_error:
        raise error
    return _handle_tool_error(error, flag=tool.handle_tool_error)


def run_quietly(
    tool: BaseTool,
    tool_input: str | dict[str, Any],
    config: RunnableConfig | None,
    tool_call_id: str | None,
) -> Any:
    """`BaseTool.run(tool_input, config=config, tool_call_id=tool_call_id)` without
    callbacks; `tool._run` takes `config`."""
    status = "success"
    token = var_child_runnable_config.set(_child_config(config))
    try:
        args, kwargs = tool._to_args_and_kwargs(tool_input, tool_call_id)
        response = tool._run(*args, **kwargs, config=config)
        content, artifact = _content_and_artifact(tool, response)
    except (ValidationError, ValidationErrorV1, ToolException) as e:
        content, artifact, status = _handled(tool, e), None, "error"
    finally:
        var_child_runnable_config.reset(token)
    return _format_output(content, artifact, tool_call_id, tool.name, status)


async def arun_quietly(
    tool: BaseTool,
    tool_input: str | dict[str, Any],
    config: RunnableConfig | None,
    tool_call_id: str | None,
) -> Any:
    """`BaseTool.arun(...)` without callbacks; `tool._arun` takes `config`."""
    status = "success"
    try:
        args, kwargs = tool._to_args_and_kwargs(tool_input, tool_call_id)
        token = var_child_runnable_config.set(_child_config(config))
        try:
            response = await tool._arun(*args, **kwargs, config=config)
        finally:
            var_child_runnable_config.reset(token)
        content, artifact = _content_and_artifact(tool, response)
    except (ValidationError, ValidationErrorV1, ToolException) as e:
        content, artifact, status = _handled(tool, e), None, "error"
    return _format_output(content, artifact, tool_call_id, tool.name, status)
