"""OfflineChatModel: which action it picks and which values it pulls, on a table of utterances."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langchain_apiactions import ApiActionsToolkit, OfflineChatModel
from langchain_apiactions.cli.demo import store_actions_text


@pytest.fixture(scope="module")
def bound() -> Any:
    toolkit = ApiActionsToolkit(
        actions=store_actions_text(), env={"STORE_API_KEY": "sk-offline-test"}
    )
    extra = ApiActionsToolkit(
        actions=[
            {
                "name": "Book_Table",
                "when_to_use": "Use when the visitor wants to book or reserve a table.",
                "method": "POST",
                "url": "https://r.example/book",
                "inputs": [
                    {
                        "name": "day",
                        "type": "date",
                        "required": True,
                        "description": "Day of the booking",
                    },
                    {
                        "name": "guests",
                        "type": "number",
                        "required": True,
                        "description": "Party size",
                    },
                    {"name": "name", "description": "Name for the reservation"},
                ],
                "body": {"day": "{day}"},
            }
        ]
    )
    return OfflineChatModel(today=dt.date(2026, 11, 26)).bind_tools(
        toolkit.get_tools() + extra.get_tools()
    )


CASES = [
    ("Where is my order #12345?", "Check_Order_Status", {"order_number": "12345"}),
    (
        "Can you track my shipment? The tracking number is 1Z999AA101",
        "Check_Order_Status",
        {"order_number": "1Z999AA101"},
    ),
    ("Do you sell rain jackets?", "Search_Products", {"product_query": "rain jackets"}),
    ('Do you have "trail shoes" in stock?', "Search_Products", {"product_query": "trail shoes"}),
    (
        "I want to subscribe to the newsletter, my email is bo@x.io",
        "Subscribe_Newsletter",
        {"email": "bo@x.io"},
    ),
    ("Please cancel order #777", "Cancel_Order", {"order_number": "777"}),
    (
        "The item arrived broken, I need a refund. Email: c@d.org",
        "Create_Support_Ticket",
        {
            "email": "c@d.org",
            "issue_description": "The item arrived broken, I need a refund. Email: c@d.org",
        },
    ),
    ("Book a table for 4 on March 15th", "Book_Table", {"day": "2026-03-15", "guests": 4}),
    (
        "Reserve a table on 2026-12-24 for 2 people",
        "Book_Table",
        {"day": "2026-12-24", "guests": 2},
    ),
    (
        'Reserve a table tomorrow for 3, name "Ana"',
        "Book_Table",
        {"day": "2026-11-27", "guests": 3, "name": "Ana"},
    ),
]


@pytest.mark.parametrize(("utterance", "action", "args"), CASES)
def test_choice_and_arguments(
    bound: Any, utterance: str, action: str, args: dict[str, Any]
) -> None:
    reply = bound.invoke([HumanMessage(utterance)])
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [(action, args)]


@pytest.mark.parametrize("utterance", ["What's the weather like?", "Tell me a joke", "hello"])
def test_below_threshold_answers_without_a_tool(bound: Any, utterance: str) -> None:
    reply = bound.invoke([HumanMessage(utterance)])
    assert reply.tool_calls == []
    assert "I can help with" in reply.content


def test_asks_for_a_missing_input_then_uses_the_answer(bound: Any) -> None:
    first = bound.invoke([HumanMessage("Where is my order?")])
    assert first.tool_calls == []
    assert first.content == "Sure - could you tell me your order number or tracking number?"
    second = bound.invoke([HumanMessage("Where is my order?"), first, HumanMessage("It's #4521")])
    assert second.tool_calls[0]["name"] == "Check_Order_Status"
    assert second.tool_calls[0]["args"] == {"order_number": "4521"}


def test_never_invents_a_required_value(bound: Any) -> None:
    reply = bound.invoke([HumanMessage("Please subscribe me to the newsletter")])
    assert reply.tool_calls == []
    assert "email" in reply.content


def test_an_email_question_is_answered_only_by_an_email(bound: Any) -> None:
    """A sentence without an address is not the visitor's email (the demo sent one as such)."""
    ask = HumanMessage("Also sign me up for the newsletter")
    first = bound.invoke([ask])
    assert first.content == "Sure - could you tell me your email address?"
    again = bound.invoke([ask, first, HumanMessage("Sign me up for the newsletter again please")])
    assert again.tool_calls == []
    assert again.content == "Sure - could you tell me your email address?"
    answer = bound.invoke([ask, first, HumanMessage("It's ana@example.com")])
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("Subscribe_Newsletter", {"email": "ana@example.com"})
    ]


def test_relays_results(bound: Any) -> None:
    call = bound.invoke([HumanMessage("Where is my order #12345?")])
    art = {
        "action": "Check_Order_Status",
        "ok": True,
        "data": {"status": "Shipped", "carrier": None},
        "missing_fields": ["carrier"],
        "triggered_response": "Let me look.",
        "error": None,
        "button": {"label": "Track", "url": "https://t/1"},
        "farewell": None,
        "skipped": False,
    }
    tool_msg = ToolMessage(content="...", artifact=art, tool_call_id=call.tool_calls[0]["id"])
    reply = bound.invoke([HumanMessage("Where is my order #12345?"), call, tool_msg])
    assert isinstance(reply, AIMessage) and reply.tool_calls == []
    assert (
        reply.content
        == "Let me look. Here is what I found - status: Shipped. I don't have carrier. [Track](https://t/1)"
    )
    failed = dict(art, ok=False, error="HTTP 404 Not Found: Order not found", button=None)
    reply = bound.invoke(
        [HumanMessage("x"), call, ToolMessage(content="", artifact=failed, tool_call_id="c")]
    )
    assert "couldn't get that done right now (HTTP 404 Not Found: Order not found)" in reply.content
