"""The agent helper: middleware behaviours, confirmation, streaming, against a real API."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import Command

from langchain_apiactions import OfflineChatModel, create_api_actions_agent, last_turn_actions
from tests.apiserver import ApiServer, Reply
from tests.scripted import ScriptedModel, scripted, tool_call


@pytest.fixture
def actions(api: ApiServer) -> list[dict[str, Any]]:
    api.route("POST", "/newsletter", Reply(200, {"subscribed": True}))
    api.route("POST", "/orders/5/cancel", Reply(200, {"refund": "full"}))
    api.route("GET", "/orders/5", Reply(200, {"status": "Shipped"}, delay=0.2))
    return [
        {
            "name": "Subscribe",
            "when_to_use": "Use when the visitor wants the newsletter.",
            "method": "POST",
            "url": f"{api.url}/newsletter",
            "inputs": [{"name": "email", "required": True}],
            "body": {"email": "{email}"},
            "once_per_session": True,
            "triggered_response": "Signing you up.",
        },
        {
            "name": "Cancel",
            "when_to_use": "Use when the visitor wants to cancel an order.",
            "method": "POST",
            "url": f"{api.url}/orders/{{n}}/cancel",
            "inputs": [{"name": "n", "type": "number", "required": True}],
            "confirm": True,
            "close_chat": {"farewell": "Goodbye!"},
            "triggered_response": "Cancelling.",
        },
        {
            "name": "Status",
            "when_to_use": "Use when the visitor asks about an order status.",
            "method": "GET",
            "url": f"{api.url}/orders/{{n}}",
            "inputs": [{"name": "n", "required": True}],
            "response_fields": ["status"],
            "triggered_response": "Looking it up.",
            "button": {"label": "Track", "url": "https://t.example/{n}"},
        },
    ]


def _agent(m: ScriptedModel, actions: list[dict[str, Any]]) -> Any:
    return create_api_actions_agent(m, actions, allowed_networks=["127.0.0.0/8"])


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_once_per_session_action_is_hidden_after_it_ran(
    api: ApiServer, actions: list[dict[str, Any]]
) -> None:
    m = scripted(
        tool_call("Subscribe", {"email": "a@b.co"}),
        AIMessage(content="Done."),
        AIMessage(content="Again?"),
        AIMessage(content="Other thread"),
    )
    agent = _agent(m, actions)
    agent.invoke(user("Sign me up: a@b.co"), {"configurable": {"thread_id": "t1"}})
    agent.invoke(user("Sign me up again"), {"configurable": {"thread_id": "t1"}})
    agent.invoke(user("Sign me up"), {"configurable": {"thread_id": "t2"}})
    assert m.offered[0] == ["Subscribe", "Cancel", "Status"]
    assert m.offered[1] == ["Cancel", "Status"]  # after the call, in the same thread
    assert m.offered[2] == ["Cancel", "Status"]
    assert m.offered[3] == ["Subscribe", "Cancel", "Status"]  # another visitor still has it
    assert len(api.requests) == 1


def test_confirm_approve_runs_then_chat_closes_with_farewell(
    api: ApiServer, actions: list[dict[str, Any]]
) -> None:
    m = scripted(tool_call("Cancel", {"n": 5}))
    agent = _agent(m, actions)
    cfg = {"configurable": {"thread_id": "t"}}
    paused = agent.invoke(user("Cancel order 5"), cfg)
    [interrupt] = paused["__interrupt__"]
    assert interrupt.value["action_requests"][0]["name"] == "Cancel"
    assert interrupt.value["action_requests"][0]["args"] == {"n": 5}
    assert api.requests == []
    final = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), cfg)
    assert api.last.path == "/orders/5/cancel"
    last = final["messages"][-1]
    assert isinstance(last, AIMessage)
    assert last.content == "Cancelling. Goodbye!"
    assert last.response_metadata["apiactions"] == {"close_chat": True, "farewell": "Goodbye!"}
    assert len(m.seen) == 1  # the run ended without asking the model again
    [art] = last_turn_actions(final)
    assert art["close_chat"] is True and art["farewell"] == "Goodbye!"


def test_after_close_chat_the_thread_still_takes_messages(
    api: ApiServer, actions: list[dict[str, Any]]
) -> None:
    """docs/agent.md: the agent ends the run; keeping the chat closed is the app's job."""
    m = scripted(
        tool_call("Cancel", {"n": 5}), tool_call("Status", {"n": "5"}, 2), AIMessage("It shipped.")
    )
    agent = _agent(m, actions)
    cfg = {"configurable": {"thread_id": "t"}}
    agent.invoke(user("Cancel order 5"), cfg)
    closed = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), cfg)
    assert closed["messages"][-1].response_metadata["apiactions"]["close_chat"] is True
    later = agent.invoke(user("Where is order 5?"), cfg)
    assert [(r.method, r.path) for r in api.requests] == [
        ("POST", "/orders/5/cancel"),
        ("GET", "/orders/5"),
    ]
    assert later["messages"][-1].content == "It shipped."


def test_confirm_reject_tells_the_model(api: ApiServer, actions: list[dict[str, Any]]) -> None:
    m = scripted(tool_call("Cancel", {"n": 5}), AIMessage(content="Okay, I won't cancel it."))
    agent = _agent(m, actions)
    cfg = {"configurable": {"thread_id": "t"}}
    agent.invoke(user("Cancel order 5"), cfg)
    final = agent.invoke(
        Command(resume={"decisions": [{"type": "reject", "message": "The visitor declined."}]}), cfg
    )
    assert api.requests == []
    tool_msgs = [x for x in m.seen[1] if isinstance(x, ToolMessage)]
    assert tool_msgs and "The visitor declined." in str(tool_msgs[-1].content)
    assert final["messages"][-1].content == "Okay, I won't cancel it."


def test_stream_shows_triggered_response_before_the_api_answers(
    api: ApiServer, actions: list[dict[str, Any]]
) -> None:
    m = scripted(tool_call("Status", {"n": "5"}), AIMessage(content="It shipped."))
    agent = _agent(m, actions)
    order: list[str] = []
    for mode, data in agent.stream(
        user("Status of 5?"),
        {"configurable": {"thread_id": "t"}},
        stream_mode=["messages", "custom"],
    ):
        if mode == "custom":
            order.append(f"event:{data['triggered_response']}")
        elif isinstance(data[0], ToolMessage):
            order.append("tool_result")
    assert order == ["event:Looking it up.", "tool_result"]


def test_last_turn_actions_exposes_buttons(api: ApiServer, actions: list[dict[str, Any]]) -> None:
    m = scripted(tool_call("Status", {"n": "5"}), AIMessage(content="It shipped."))
    final = _agent(m, actions).invoke(user("Status of 5?"), {"configurable": {"thread_id": "t"}})
    [art] = last_turn_actions(final)
    assert art["button"] == {"label": "Track", "url": "https://t.example/5"}
    assert "relay its triggered response" in str(m.seen[0][0].content)  # the default system prompt


def test_the_agent_installs_only_the_hooks_the_actions_need() -> None:
    from langchain.agents.middleware import AgentMiddleware

    from langchain_apiactions.agent import ApiActionsMiddleware
    from langchain_apiactions.toolkit import ApiActionsToolkit

    base = {
        "name": "A",
        "when_to_use": "Use when the visitor asks about the status of their order.",
        "method": "GET",
        "url": "https://api.example.com/o",
    }

    def hooks(**extra: Any) -> set[str]:
        toolkit = ApiActionsToolkit(actions=[dict(base, **extra)])
        middleware = ApiActionsMiddleware(toolkit)
        toolkit.close()
        names = ("before_model", "abefore_model", "wrap_model_call", "awrap_model_call")
        return {n for n in names if getattr(type(middleware), n) is not getattr(AgentMiddleware, n)}

    assert hooks() == set()
    assert hooks(once_per_session=True) == {"wrap_model_call", "awrap_model_call"}
    assert hooks(close_chat=True) == {"before_model", "abefore_model"}
    # A plain file's agent has the same steps as `create_agent` itself.
    agent = create_api_actions_agent(OfflineChatModel(), [base])
    assert sorted(agent.nodes) == ["__start__", "model", "tools"]
    agent.apiactions_toolkit.close()


def test_inputs_named_runtime_or_state_reach_the_api_as_the_model_sent_them(
    api: ApiServer,
) -> None:
    # LangGraph's ToolNode injects its ToolRuntime into a tool argument named `runtime`
    # when the tool's args_schema is a pydantic model declaring one: the visitor's value
    # was replaced and refused ("runtime: should be text (got "ToolRuntime(...")").
    api.route("GET", "/movies", Reply(200, {"count": 3}))
    spec = {
        "name": "Find_Movies",
        "when_to_use": "Use this action when the visitor asks for movies of some length.",
        "method": "GET",
        "url": f"{api.url}/movies?runtime={{runtime}}&state={{state}}",
        "inputs": [{"name": "runtime", "required": True}, {"name": "state", "required": True}],
        "response_fields": ["count"],
    }
    m = scripted(tool_call("Find_Movies", {"runtime": "120", "state": "CA"}), AIMessage("3."))
    final = _agent(m, [spec]).invoke(
        user("Movies of 2 hours?"), {"configurable": {"thread_id": "t"}}
    )
    assert api.last.query == "runtime=120&state=CA"
    assert final["messages"][-1].content == "3."
