"""`ActionSelectionMiddleware`: bind only the actions that fit the conversation so far.

With a thousand actions, sending every tool's schema on every model call costs tokens
and accuracy. This middleware (usable in any `create_agent`) binds to each model call:

- the top `select` actions for the conversation's recent visitor messages
  (`ApiActionsToolkit.select_actions`),
- plus the `always` actions,
- plus every action that ran in this thread, was called, or whose inputs the agent is
  collecting (so the visitor's answer to "what is your order number?" still reaches it):
  the offline model names that action; for another model, an action bound to its last
  reply whose input the reply names (`order_number` for "your order number").

Tools are built only when first selected (`ApiActionsToolkit.get_tool`); a call of an
action that `create_agent` was not given is resolved here (`wrap_tool_call`). The names
bound are recorded on the run: in the model's reply
(`AIMessage.response_metadata["apiactions_selected"]`) and as a LangGraph custom stream
event (`stream_mode="custom"`: `{"api_actions_selected": [...]}`).

Needs the `agent` extra (`langchain`, `langgraph`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage

from langchain_apiactions.config import ApiAction
from langchain_apiactions.selection import lexical_tokens
from langchain_apiactions.toolkit import ApiActionsToolkit

__all__ = ["SELECTED_KEY", "SELECTION_EVENT", "ActionSelectionMiddleware", "selected_actions"]

SELECTED_KEY = "apiactions_selected"
SELECTION_EVENT = "api_actions_selected"


def selected_actions(message: AnyMessage) -> list[str] | None:
    """The action names bound to the model call that wrote `message`.

    Args:
        message: A message of the agent's state (a reply of the model).

    Returns:
        The names, or None when the message is not a reply that recorded them.
    """
    if not isinstance(message, AIMessage):
        return None
    names = message.response_metadata.get(SELECTED_KEY)
    return [str(n) for n in names] if isinstance(names, list) else None


def _in_use(messages: Sequence[AnyMessage], actions: Mapping[str, ApiAction]) -> list[str]:
    """Actions this thread already involves: called, answered, or collecting inputs."""
    found: list[str] = []
    for m in messages:
        if isinstance(m, ToolMessage) and m.name is not None and m.name in actions:
            found.append(m.name)
        elif isinstance(m, AIMessage):
            found += [c["name"] for c in m.tool_calls if c["name"] in actions]
    last = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if last is not None and not last.tool_calls:
        found += _collecting(last, actions)
    return found


def _collecting(question: AIMessage, actions: Mapping[str, ApiAction]) -> list[str]:
    """The actions whose input the model's last reply asks the visitor for.

    The offline model names it in its reply's metadata. For any other model: each action
    bound to that reply whose input (its name's words, e.g. "order number") the reply
    mentions.
    """
    from langchain_apiactions.offline_model import OfflineChatModel

    pending = OfflineChatModel.pending_action(question)
    if pending is not None and pending in actions:
        return [pending]
    asked = set(lexical_tokens(question.text))
    found: list[str] = []
    for name in selected_actions(question) or []:
        action = actions.get(name)
        if action is None or not asked:
            continue
        for inp in action.inputs:
            words = set(lexical_tokens(inp.name.replace("_", " ")))
            if words and words <= asked:
                found.append(name)
                break
    return found


def ActionSelectionMiddleware(
    toolkit: ApiActionsToolkit, select: int = 8, *, always: Sequence[str] = ()
) -> Any:
    """A middleware binding each model call only the actions that fit the conversation.

    Args:
        toolkit: The actions to choose among.
        select: How many actions selection adds per model call (besides `always`).
        always: Actions bound on every call whatever the conversation.

    Returns:
        An `AgentMiddleware` for `create_agent(..., middleware=[...])`; pass it the
        `always` tools (or none) as `tools`: the others are resolved when called.

    Raises:
        ValueError: `select` is negative or `always` names an unknown action.
    """
    from langchain.agents.middleware import AgentMiddleware

    by_name = {a.name: a for a in toolkit.actions}
    known = set(by_name)
    fixed = list(dict.fromkeys(always))
    unknown = [n for n in fixed if n not in known]
    if unknown or select < 0:
        problem = f"unknown action(s) in always: {', '.join(unknown)}" if unknown else ""
        msg = problem or f"select must be 0 or more (got {select})"
        raise ValueError(msg)

    def choose(messages: Sequence[AnyMessage]) -> list[str]:
        ranked = toolkit.select_actions(list(messages), k=select + len(fixed)) if select else []
        ranked = [n for n in ranked if n not in fixed][:select]
        return list(dict.fromkeys([*fixed, *ranked, *_in_use(messages, by_name)]))

    def bind(request: Any) -> tuple[list[str], Any]:
        names = choose(request.messages)
        others = [t for t in request.tools if isinstance(t, dict) or t.name not in known]
        tools = [*others, *(toolkit.get_tool(n) for n in names)]
        _announce(names)
        return names, request.override(tools=tools)

    def wrap_model_call(self: Any, request: Any, handler: Callable[[Any], Any]) -> Any:
        names, request = bind(request)
        return _recorded(handler(request), names)

    async def awrap_model_call(
        self: Any, request: Any, handler: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        names, request = bind(request)
        return _recorded(await handler(request), names)

    def resolve(request: Any) -> Any:
        name = request.tool_call["name"]
        if request.tool is None and name in known:
            return request.override(tool=toolkit.get_tool(name))
        return request

    def wrap_tool_call(self: Any, request: Any, handler: Callable[[Any], Any]) -> Any:
        return handler(resolve(request))

    async def awrap_tool_call(
        self: Any, request: Any, handler: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        return await handler(resolve(request))

    hooks: dict[str, Any] = {
        "__doc__": "Binds each model call the actions that fit the conversation so far.",
        "wrap_model_call": wrap_model_call,
        "awrap_model_call": awrap_model_call,
        "wrap_tool_call": wrap_tool_call,
        "awrap_tool_call": awrap_tool_call,
    }
    middleware_class = type("ActionSelectionMiddleware", (AgentMiddleware,), hooks)
    return middleware_class()


def _announce(names: list[str]) -> None:
    """The names as a LangGraph custom stream event (nothing outside a graph run)."""
    from langgraph.config import get_stream_writer

    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer({SELECTION_EVENT: list(names)})


def _recorded(response: Any, names: list[str]) -> Any:
    """The model's reply(ies) carrying the names they were given."""
    messages = response if isinstance(response, AIMessage) else getattr(response, "result", [])
    for m in [messages] if isinstance(messages, AIMessage) else messages:
        if isinstance(m, AIMessage):
            m.response_metadata[SELECTED_KEY] = list(names)
    return response
