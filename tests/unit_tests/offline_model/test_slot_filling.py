"""Issue 26: the offline model keeps every answer of a multi-input conversation.

What the model says to the visitor turn by turn, and the tool call it makes once every
required input is known, for a four-input reservation answered in any grouping and order.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_apiactions import ApiActionsToolkit, OfflineChatModel

THURSDAY = dt.date(2026, 11, 26)
RESERVE = {
    "name": "Reserve_Bike",
    "when_to_use": "Use this action when the visitor wants to reserve, rent or book a bike.",
    "method": "POST",
    "url": "https://bikes.example/reservations",
    "inputs": [
        {
            "name": "bike_type",
            "required": True,
            "description": "The bike type: city, mountain or electric",
        },
        {"name": "station", "required": True, "description": "The pick-up station"},
        {
            "name": "rental_date",
            "type": "date",
            "required": True,
            "description": "The day of the rental",
        },
        {"name": "email", "required": True, "description": "The visitor's email address"},
    ],
    "body": {"bike_type": "{bike_type}", "station": "{station}", "date": "{rental_date}"},
}
AVAILABILITY = {
    "name": "Check_Availability",
    "when_to_use": "Use this action when the visitor asks whether bikes are available "
    "at a station on a day.",
    "method": "GET",
    "url": "https://bikes.example/stations/{station}?date={rental_date}",
    "inputs": [
        {"name": "station", "required": True, "description": "The pick-up station"},
        {"name": "rental_date", "type": "date", "required": True, "description": "The day"},
    ],
}
QUESTIONS = {
    "bike_type": "Sure - could you tell me the bike type: city, mountain or electric?",
    "station": "Sure - could you tell me the pick-up station?",
    "rental_date": "Sure - could you tell me the day of the rental?",
    "email": "Sure - could you tell me your email address?",
}


@pytest.fixture(scope="module")
def bound() -> Any:
    toolkit = ApiActionsToolkit(actions=[AVAILABILITY, RESERVE])
    return OfflineChatModel(today=THURSDAY).bind_tools(toolkit.get_tools())


def converse(bound: Any, lines: list[str], *, keep_metadata: bool = True) -> list[AIMessage]:
    messages: list[BaseMessage] = []
    replies: list[AIMessage] = []
    for line in lines:
        messages.append(HumanMessage(line))
        reply = bound.invoke(messages)
        replies.append(reply)
        # An application that stores only the text of the conversation drops metadata.
        messages.append(reply if keep_metadata else AIMessage(content=reply.content))
    return replies


@pytest.mark.parametrize("keep_metadata", [True, False], ids=["metadata", "text only"])
def test_one_answer_per_turn_keeps_every_answer(bound: Any, keep_metadata: bool) -> None:
    lines = ["I want to reserve a bike", "city", "Riverside", "next Friday", "bob@example.com"]
    replies = converse(bound, lines, keep_metadata=keep_metadata)
    assert [r.content for r in replies[:-1]] == list(QUESTIONS.values())
    assert [(c["name"], c["args"]) for c in replies[-1].tool_calls] == [
        (
            "Reserve_Bike",
            {
                "bike_type": "city",
                "station": "Riverside",
                "rental_date": "2026-11-27",
                "email": "bob@example.com",
            },
        )
    ]


BOOKING = {
    "bike_type": "electric",
    "station": "Harbour",
    "rental_date": "2026-12-05",
    "email": "bob@example.com",
}


@pytest.mark.parametrize(
    ("answer", "given", "next_question"),
    [
        ("city, Riverside", {"bike_type": "city", "station": "Riverside"}, "rental_date"),
        (
            "It's a city bike. Riverside",
            {"bike_type": "city", "station": "Riverside"},
            "rental_date",
        ),
        (
            "A mountain bike from Riverside on Friday",
            {"bike_type": "mountain", "station": "Riverside", "rental_date": "2026-11-27"},
            "email",
        ),
        (
            "electric, bob@example.com",
            {"bike_type": "electric", "email": "bob@example.com"},
            "station",
        ),
        # Not one of the bike types: the station it names is kept, the type asked again.
        ("It's Riverside station", {"station": "Riverside"}, "bike_type"),
        ("Riverside", {"station": "Riverside"}, "bike_type"),
        ("yes", {}, "bike_type"),
    ],
)
def test_several_answers_in_one_message_fill_their_own_inputs(
    bound: Any, answer: str, given: dict[str, str], next_question: str
) -> None:
    """The next question is for what is still missing; the call carries every answer."""
    messages: list[BaseMessage] = [HumanMessage("I want to reserve a bike")]
    messages += [bound.invoke(messages), HumanMessage(answer)]
    reply = bound.invoke(messages)
    assert reply.content == QUESTIONS[next_question]
    for _ in range(4):  # then one answer per question, until it calls
        if reply.tool_calls:
            break
        asked = next(k for k, q in QUESTIONS.items() if q == reply.content)
        messages += [reply, HumanMessage(BOOKING[asked])]
        reply = bound.invoke(messages)
    assert reply.tool_calls[0]["args"] == {**BOOKING, **given}


def test_a_name_said_at_the_start_of_a_sentence_is_not_an_interjection(bound: Any) -> None:
    replies = converse(bound, ["Great, I want to reserve a city bike", "Harbour"])
    assert [r.content for r in replies] == [QUESTIONS["station"], QUESTIONS["rental_date"]]


def test_echoing_the_question_is_no_request_for_another_action(bound: Any) -> None:
    """'station' is in Check_Availability's description; the visitor is still booking."""
    lines = ["I want to reserve a mountain bike", "Riverside station please"]
    assert converse(bound, lines)[-1].content == QUESTIONS["rental_date"]
    lines += ["Actually, are bikes available at Central station on Friday?"]
    assert [(c["name"], c["args"]) for c in converse(bound, lines)[-1].tool_calls] == [
        ("Check_Availability", {"station": "Central", "rental_date": "2026-11-27"})
    ]


ANSWERS = st.fixed_dictionaries(
    {
        "bike_type": st.sampled_from(["city", "mountain", "electric"]),
        "station": st.sampled_from(["Riverside", "Central", "Harbour", "Old Town"]),
        "rental_date": st.dates(dt.date(2026, 11, 27), dt.date(2027, 12, 31)).map(str),
        "email": st.sampled_from(["bob@example.com", "ana.silva@bikes.example"]),
    }
)


@given(answers=ANSWERS, order=st.permutations(list(QUESTIONS)), cuts=st.sets(st.integers(1, 3)))
def test_any_grouping_and_order_of_answers_books_exactly_what_was_said(
    bound: Any, answers: dict[str, str], order: list[str], cuts: set[int]
) -> None:
    """The visitor gives the four values in any order, some together ("a, b"), whatever
    was asked: the model never asks for a value it was given, and calls with all four."""
    bounds = [0, *sorted(cuts), 4]
    spans = list(itertools.pairwise(bounds))
    groups = [", ".join(answers[k] for k in order[a:b]) for a, b in spans]
    messages: list[BaseMessage] = [HumanMessage("I want to reserve a bike")]
    told: set[str] = set()
    for group, (a, b) in [("", (0, 0)), *zip(groups, spans, strict=True)]:
        if group:
            messages.append(HumanMessage(group))
            told |= set(order[a:b])
        reply = bound.invoke(messages)
        messages.append(reply)
        if reply.tool_calls:
            break
        asked = next(k for k, q in QUESTIONS.items() if q == reply.content)
        assert asked not in told
    assert told == set(QUESTIONS)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("Reserve_Bike", answers)]
