"""A chat model that answers from a script, for the agent tests: what it was offered and
shown is what they check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool


class ScriptedModel(BaseChatModel):
    """Answers with scripted messages and records the tools it was offered each call
    (`offered`, by name) and the messages it was shown (`seen`)."""

    script: list[AIMessage]
    offered: list[list[str]]
    seen: list[list[BaseMessage]]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        # As a provider does: `convert_to_openai_tool` takes tools and ready tool dicts.
        self.offered.append([convert_to_openai_tool(t)["function"]["name"] for t in tools])
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.script.pop(0))])


def scripted(*messages: AIMessage) -> ScriptedModel:
    """A model that answers with `messages`, in order."""
    return ScriptedModel(script=list(messages), offered=[], seen=[])


def tool_call(name: str, args: dict[str, Any], i: int = 1) -> AIMessage:
    """The model's message calling `name` with `args` (call id `call_<i>`)."""
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{i}", "type": "tool_call"}],
    )
