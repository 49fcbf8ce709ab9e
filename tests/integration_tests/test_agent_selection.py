"""`select=` / `ActionSelectionMiddleware`: each model call gets only the actions that fit."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langchain_apiactions import (
    ActionSelectionMiddleware,
    ApiActionsToolkit,
    OfflineChatModel,
    create_api_actions_agent,
)
from langchain_apiactions.agent_selection import SELECTION_EVENT, selected_actions
from tests.apiserver import ApiServer, Reply
from tests.scripted import scripted, tool_call

TOPICS = (
    "weather forecast", "cinema tickets", "flight delays", "gym membership", "pizza delivery",
    "parking permits", "library books", "car rental", "hotel rooms", "concert dates",
    "museum hours", "train timetables", "dentist records", "pet grooming", "bike repairs",
    "tax forms", "insurance claims", "school meals", "garden supplies", "phone plans",
)  # fmt: skip


def catalogue(api: ApiServer, fillers: int = 200) -> list[dict[str, Any]]:
    api.route("GET", "/orders/12345", Reply(200, {"status": "Shipped"}))
    api.route("POST", "/newsletter", Reply(200, {"subscribed": True}))
    actions: list[dict[str, Any]] = [
        {
            "name": "Check_Order_Status",
            "when_to_use": "Use when the visitor asks about the status of their order.",
            "method": "GET",
            "url": f"{api.url}/orders/{{order_number}}",
            "inputs": [
                {"name": "order_number", "required": True, "description": "The order number"}
            ],
            "response_fields": ["status"],
            "examples": ["Where is my parcel?"],
        },
        {
            "name": "Subscribe_Newsletter",
            "when_to_use": "Use when the visitor wants to join the newsletter.",
            "method": "POST",
            "url": f"{api.url}/newsletter",
            "inputs": [{"name": "email", "required": True, "description": "Email address"}],
            "body": {"email": "{email}"},
        },
    ]
    for i in range(fillers):
        topic = TOPICS[i % len(TOPICS)]
        actions.append(
            {
                "name": f"{topic.title().replace(' ', '_')}_{i}",
                "when_to_use": f"Use when the visitor asks about {topic} (desk {i}).",
                "method": "GET",
                "url": f"{api.url}/x/{i}",
            }
        )
    return actions


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_offline_agent_with_two_hundred_actions_asks_then_calls_the_right_one(
    api: ApiServer,
) -> None:
    toolkit = ApiActionsToolkit(actions=catalogue(api), allowed_networks=["127.0.0.0/8"])
    agent = create_api_actions_agent(OfflineChatModel(), toolkit, select=4)
    first = agent.invoke(user("Where is my order? I'd like the status"), cfg("v1"))
    question = first["messages"][-1]
    assert question.content == "Sure - could you tell me the order number?"
    chosen = selected_actions(question)
    assert chosen is not None and len(chosen) == 4
    assert chosen[0] == "Check_Order_Status"
    # The visitor's answer alone ("12345") still reaches the action being collected.
    final = agent.invoke(user("12345"), cfg("v1"))
    assert api.last.path == "/orders/12345"
    assert "Shipped" in final["messages"][-1].content
    # Only the tools ever selected were built, not the 202 declared.
    assert "Check_Order_Status" in toolkit.built_tools
    assert len(toolkit.built_tools) <= 8
    toolkit.close()


def test_each_call_binds_the_top_k_plus_always_plus_what_ran(api: ApiServer) -> None:
    m = scripted(
        tool_call("Subscribe_Newsletter", {"email": "ana@example.com"}),
        AIMessage(content="You're subscribed."),
        AIMessage(content="The forecast desk can help."),
    )
    agent = create_api_actions_agent(
        m,
        catalogue(api),
        select=3,
        always=["Check_Order_Status"],
        allowed_networks=["127.0.0.0/8"],
    )
    agent.invoke(user("Please add me to the newsletter: ana@example.com"), cfg("v2"))
    assert api.last.json == {"email": "ana@example.com"}
    first, second = m.offered
    assert first[0] == "Check_Order_Status" and "Subscribe_Newsletter" in first
    assert len(first) == 4  # always + 3 selected
    assert "Subscribe_Newsletter" in second  # it was called in this thread
    events: list[Any] = []
    for mode, data in agent.stream(
        user("what's the weather forecast"), cfg("v2"), stream_mode=["custom", "values"]
    ):
        if mode == "custom" and SELECTION_EVENT in data:
            events.append(data[SELECTION_EVENT])
    [names] = events
    assert names == m.offered[2]
    assert names[0] == "Check_Order_Status"
    assert "Subscribe_Newsletter" in names  # ran earlier in this thread
    assert any(n.startswith("Weather_Forecast_") for n in names)
    assert len(names) == 5


def test_the_middleware_works_in_any_create_agent(api: ApiServer) -> None:
    from langchain.agents import create_agent

    toolkit = ApiActionsToolkit(actions=catalogue(api, 50), allowed_networks=["127.0.0.0/8"])
    agent = create_agent(
        OfflineChatModel(), tools=[], middleware=[ActionSelectionMiddleware(toolkit, 2)]
    )
    state = agent.invoke(
        {"messages": [HumanMessage("Please join the newsletter: ana@example.com")]}
    )
    assert api.last.json == {"email": "ana@example.com"}
    assert selected_actions(state["messages"][1])[0] == "Subscribe_Newsletter"
    toolkit.close()


def test_bad_settings_are_refused(api: ApiServer) -> None:
    toolkit = ApiActionsToolkit(actions=catalogue(api, 5))
    with pytest.raises(ValueError, match="unknown action\\(s\\) in always: Nope"):
        ActionSelectionMiddleware(toolkit, 3, always=["Nope"])
    with pytest.raises(ValueError, match="select must be 0 or more"):
        ActionSelectionMiddleware(toolkit, -1)
    with pytest.raises(TypeError, match="always= needs select="):
        create_api_actions_agent(OfflineChatModel(), toolkit, always=["Check_Order_Status"])
    toolkit.close()


def test_a_real_models_question_keeps_the_action_whose_input_it_asks_for(
    api: ApiServer,
) -> None:
    m = scripted(
        AIMessage(content="Sure - what is your email address?"),
        tool_call("Subscribe_Newsletter", {"email": "ana@example.com"}, 9),
        AIMessage(content="Done."),
    )
    agent = create_api_actions_agent(m, catalogue(api), select=1, allowed_networks=["127.0.0.0/8"])
    agent.invoke(user("I'd like the newsletter"), cfg("v3"))
    assert m.offered[0] == ["Subscribe_Newsletter"]
    # The answer talks about cinema tickets: selection's top 1 moves there, and the
    # action whose input the model asked for ("email") is still bound.
    agent.invoke(user("cinema tickets fan here, cinema tickets: ana@example.com"), cfg("v3"))
    assert m.offered[1][0].startswith("Cinema_Tickets_")
    assert m.offered[1][1:] == ["Subscribe_Newsletter"]
    assert api.last.json == {"email": "ana@example.com"}


def test_the_question_rule_reads_the_inputs_of_what_was_bound(api: ApiServer) -> None:
    from langchain_apiactions.agent_selection import SELECTED_KEY, _collecting

    actions = {a.name: a for a in ApiActionsToolkit(actions=catalogue(api, 3)).actions}
    asked = AIMessage(
        content="Could you give me your order number, please?",
        response_metadata={SELECTED_KEY: ["Check_Order_Status", "Subscribe_Newsletter"]},
    )
    assert _collecting(asked, actions) == ["Check_Order_Status"]
    chat = AIMessage(
        content="Happy to help with orders!",
        response_metadata={SELECTED_KEY: ["Check_Order_Status"]},
    )
    assert _collecting(chat, actions) == []  # "order" alone is not "order number"


def test_confirmation_and_once_per_session_still_apply_to_selected_actions(
    api: ApiServer,
) -> None:
    from langgraph.types import Command

    actions = catalogue(api, 40)
    actions[1] = {**actions[1], "once_per_session": True, "confirm": True}
    m = scripted(
        tool_call("Subscribe_Newsletter", {"email": "ana@example.com"}, 5),
        AIMessage(content="You're in."),
        AIMessage(content="You are already subscribed."),
    )
    agent = create_api_actions_agent(m, actions, select=2, allowed_networks=["127.0.0.0/8"])
    paused = agent.invoke(user("Sign me up for the newsletter: ana@example.com"), cfg("v5"))
    [interrupt] = paused["__interrupt__"]
    assert interrupt.value["action_requests"][0]["name"] == "Subscribe_Newsletter"
    assert api.requests == []
    agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), cfg("v5"))
    assert api.last.json == {"email": "ana@example.com"}
    agent.invoke(user("Sign me up for the newsletter again"), cfg("v5"))
    # Selected, and ran in this thread, but once per session: hidden from the model.
    assert "Subscribe_Newsletter" in m.offered[0]
    assert "Subscribe_Newsletter" not in m.offered[-1]
    assert len(api.requests) == 1
