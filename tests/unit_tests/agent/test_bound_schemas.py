"""What the model is bound on each call of `create_api_actions_agent`: each tool's schema
computed once, the same text `convert_to_openai_tool` makes of the tool."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions import ApiActionsToolkit, create_api_actions_agent
from langchain_apiactions.importers import from_openapi, import_openapi

DATA = Path(__file__).parents[2] / "data" / "openapi"
BASE = "https://api.example.com"

TABLE = {
    "name": "Book_Table",
    "when_to_use": "Use when the visitor wants to book a table.",
    "method": "POST",
    "url": f"{BASE}/bookings",
    "inputs": [
        {"name": "day", "type": "date", "required": True, "description": "Day of the booking"},
        {"name": "guests", "type": "number", "required": True, "description": "Party size"},
        {"name": "names", "type": "text", "array": True, "description": "Guest names"},
        {"name": "seating", "default": "indoor", "description": "indoor or outdoor"},
        {"name": "first", "type": "date", "default": "2026-03-15"},
        {"name": "note"},
        {"name": "alt_days", "type": "date", "array": True, "default": ["2026-03-16"]},
    ],
    # inputs used deep inside the body
    "body": {"booking": {"day": "{day}", "party": {"size": "{guests}", "names": "{names}"}}},
}
PLAIN = {"name": "Ping", "method": "GET", "url": f"{BASE}/ping"}  # no inputs, no description


class Recording(BaseChatModel):
    """Binds as a provider does (`convert_to_openai_tool` of each tool) and records what
    it was given and the JSON text it made; answers without calling a tool."""

    given: list[list[Any]] = []
    texts: list[list[str]] = []

    @property
    def _llm_type(self) -> str:
        return "recording"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.given.append(list(tools))
        self.texts.append([_text(convert_to_openai_tool(t)) for t in tools])
        return self

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="Hello."))])


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False)


def _turn(agent: Any, thread: str = "t1", text: str = "hello") -> None:
    agent.invoke(
        {"messages": [{"role": "user", "content": text}]},
        {"configurable": {"thread_id": thread}},
    )


def _catalogues() -> dict[str, Any]:
    kubernetes = json.loads(gzip.decompress((DATA / "kubernetes-2.0.json.gz").read_bytes()))
    return {
        "hand-written": [TABLE, PLAIN],
        # enum values said in the description, optional inputs, query and path inputs
        "petstore": import_openapi(DATA / "petstore-3.1.yaml", base_url=BASE).mapping(),
        "twilio": import_openapi(DATA / "twilio-verify-v2-3.0.yaml", base_url=BASE).mapping(),
        "kubernetes": [
            a for a in from_openapi(kubernetes, base_url=BASE)["actions"] if not a.get("auth")
        ][:40],
    }


def _env(actions: Any) -> dict[str, str]:
    from langchain_apiactions import load_actions

    names = {s for a in load_actions(actions) for s in a.secret_names()}
    return {s: f"value-of-{s.lower()}-0123456789" for s in names}


def test_the_model_reads_byte_for_byte_what_langchain_makes_of_each_tool() -> None:
    for label, actions in _catalogues().items():
        env = _env(actions)
        model = Recording(given=[], texts=[])
        agent = create_api_actions_agent(model, ApiActionsToolkit(actions=actions, env=env))
        _turn(agent)
        _turn(agent, "t2")
        # A toolkit of its own: nothing computed for the agent's tools is reused here.
        fresh = ApiActionsToolkit(actions=actions, env=env).get_tools()
        expected = [_text(convert_to_openai_tool(t)) for t in fresh]
        assert model.texts == [expected, expected], label


def test_each_schema_is_computed_once_and_again_after_a_change() -> None:
    model = Recording(given=[], texts=[])
    toolkit = ApiActionsToolkit(actions=[TABLE, PLAIN])
    agent = create_api_actions_agent(model, toolkit)
    _turn(agent)
    _turn(agent, "t2")
    first, second = model.given
    assert all(isinstance(t, dict) for t in first)
    assert [a["function"] for a in first] == [b["function"] for b in second]
    assert all(a["function"] is b["function"] for a, b in zip(first, second, strict=True))

    table = toolkit.get_tool("Book_Table")
    table.description = "Use when the visitor wants a table for tonight."
    _turn(agent, "t3")
    assert json.loads(model.texts[-1][0])["function"]["description"] == table.description
    assert model.texts[-1][0] == _text(convert_to_openai_tool(table))
    assert model.texts[-1][1] == model.texts[0][1]


def test_selected_actions_are_bound_with_the_same_text() -> None:
    actions = _catalogues()["kubernetes"]
    env = _env(actions)
    model = Recording(given=[], texts=[])
    toolkit = ApiActionsToolkit(actions=actions, env=env)
    agent = create_api_actions_agent(model, toolkit, select=3)
    _turn(agent, text="list the pods in a namespace")
    _turn(agent, "t2", text="delete a config map")
    assert len(model.texts) == 2
    fresh = ApiActionsToolkit(actions=actions, env=env)
    for texts in model.texts:
        assert len(texts) == 3
        for text in texts:
            name = json.loads(text)["function"]["name"]
            assert text == _text(convert_to_openai_tool(fresh.get_tool(name)))


class StrictSchemas(AgentMiddleware):
    """Asks the provider for strict schemas (converted differently from the cached ones)."""

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        return handler(request.override(model_settings={"strict": True}))


def test_strict_schemas_are_left_to_the_provider() -> None:
    model = Recording(given=[], texts=[])
    toolkit = ApiActionsToolkit(actions=[TABLE])
    agent = create_api_actions_agent(model, toolkit, middleware=[StrictSchemas()])
    _turn(agent)
    [[given]] = model.given
    assert given is toolkit.get_tool("Book_Table")
