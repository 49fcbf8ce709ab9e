"""Issue 11: the offline model finishes an ordinary conversation over an unseen action file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_apiactions import ApiActionsToolkit, OfflineChatModel, evaluate

ROOT = Path(__file__).resolve().parents[3]
DENTAL = ROOT / "examples" / "dental_clinic.yaml"
THURSDAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def bound() -> Any:
    toolkit = ApiActionsToolkit.from_file(DENTAL, env={"CLINIC_API_KEY": "clinic-test-key-5150"})
    return OfflineChatModel(today=THURSDAY).bind_tools(toolkit.get_tools())


def talk(bound: Any, *lines: str) -> AIMessage:
    messages: list[BaseMessage] = []
    reply: Any = None
    for line in lines:
        messages.append(HumanMessage(line))
        reply = bound.invoke(messages)
        messages.append(reply)
    assert isinstance(reply, AIMessage)
    return reply


@pytest.mark.parametrize(
    "answer", ["Maria Lopez", "maria lopez", "It's Maria Lopez.", "Sure, Maria Lopez"]
)
def test_the_answer_to_a_question_fills_a_text_input(bound: Any, answer: str) -> None:
    asked = talk(bound, "Can I book an appointment for tomorrow?")
    assert asked.tool_calls == []
    assert asked.content == "Sure - could you tell me the patient's full name?"
    reply = talk(bound, "Can I book an appointment for tomorrow?", answer)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        (
            "Book_Appointment",
            {
                "patient_name": answer.removeprefix("It's ").removeprefix("Sure, ").rstrip("."),
                "appointment_date": "2026-11-27",
            },
        )
    ]


def test_a_plain_branch_name_answers_the_question(bound: Any) -> None:
    reply = talk(bound, "What are your opening hours?", "Riverside")
    assert reply.tool_calls[0]["args"] == {"branch": "Riverside"}


def test_capitalised_names_and_places_in_a_request_fill_text_inputs(bound: Any) -> None:
    reply = talk(bound, "When are you open at the Riverside branch?")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("Opening_Hours", {"branch": "Riverside"})
    ]
    reply = talk(bound, "Book a cleaning tomorrow for John Smith at the Hillcrest branch")
    assert reply.tool_calls[0]["args"] == {
        "patient_name": "John Smith",
        "appointment_date": "2026-11-27",
        "branch": "Hillcrest",
    }


def test_an_optional_input_is_never_filled_by_a_guess(bound: Any) -> None:
    reply = talk(bound, "Book me in on Friday, I'm Ana Silva")
    assert reply.tool_calls[0]["args"] == {
        "patient_name": "Ana Silva",
        "appointment_date": "2026-11-27",
    }


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("next Tuesday", "2026-12-01"),
        ("on Friday", "2026-11-27"),
        ("this Saturday", "2026-11-28"),
        ("Thursday", "2026-12-03"),  # today is Thursday: the next one
        ("tomorrow", "2026-11-27"),
        ("the day after tomorrow", "2026-11-28"),
        ("today", "2026-11-26"),
        ("in 3 days", "2026-11-29"),
        ("next week", "2026-12-03"),
        ("on 2026-12-24", "2026-12-24"),
        ("March 12th", "2026-03-12"),
    ],
)
def test_relative_dates_a_visitor_uses_parse(bound: Any, said: str, day: str) -> None:
    reply = talk(bound, f"I'd like to book an appointment {said}, my name is Maria Lopez")
    assert reply.tool_calls[0]["args"]["appointment_date"] == day


# Ordinary utterances for an action file the model was never tuned on.
DENTAL_CASES: list[dict[str, Any]] = [
    {
        "utterance": "I'd like to book an appointment for next Tuesday, my name is Maria Lopez",
        "expect": "Book_Appointment",
        "args": {"patient_name": "Maria Lopez", "appointment_date": "2026-12-01"},
    },
    {
        "turns": ["Can I book a check-up on Friday?", "Maria Lopez"],
        "expect": "Book_Appointment",
        "args": {"patient_name": "Maria Lopez", "appointment_date": "2026-11-27"},
    },
    {
        "utterance": "Book a cleaning tomorrow for John Smith at the Riverside branch",
        "expect": "Book_Appointment",
        "args": {
            "patient_name": "John Smith",
            "appointment_date": "2026-11-27",
            "branch": "Riverside",
        },
    },
    {
        "turns": ["I want to see the dentist on 12 March", "ana silva"],
        "expect": "Book_Appointment",
        "args": {"patient_name": "ana silva", "appointment_date": "2026-03-12"},
    },
    {
        "utterance": "When are you open at the Riverside branch?",
        "expect": "Opening_Hours",
        "args": {"branch": "Riverside"},
    },
    {
        "utterance": "What time does the Downtown clinic close?",
        "expect": "Opening_Hours",
        "args": {"branch": "Downtown"},
    },
    {
        "turns": ["What are your opening hours?", "Hillcrest"],
        "expect": "Opening_Hours",
        "args": {"branch": "Hillcrest"},
    },
    {
        "utterance": "Please cancel my appointment, the reference is SC-1042",
        "expect": "Cancel_Appointment",
        "args": {"booking_reference": "SC-1042"},
    },
    {
        "turns": ["I need to cancel my booking", "It's SC-7731"],
        "expect": "Cancel_Appointment",
        "args": {"booking_reference": "SC-7731"},
    },
    {
        "utterance": "Do you accept Delta Dental insurance?",
        "expect": "Check_Insurance",
        "args": {"provider": "Delta Dental"},
    },
    {
        "utterance": "Is my insurance with Cigna accepted at the clinic?",
        "expect": "Check_Insurance",
        "args": {"provider": "Cigna"},
    },
    {"utterance": "Tell me a joke", "expect": "none"},
]


def test_eval_over_an_unseen_action_file_reaches_80_percent_argument_accuracy() -> None:
    result = evaluate(DENTAL, DENTAL_CASES, OfflineChatModel(today=THURSDAY))
    assert len(result.cases) == 12
    assert result.argument_accuracy is not None and result.argument_accuracy >= 0.8
    assert result.accuracy >= 0.8
    # Honest about what a lexical model misses: "dentist" shares no word with "dental".
    wrong = [c.utterance for c in result.cases if c.arguments_ok is False]
    assert wrong == ["I want to see the dentist on 12 March / ana silva"]
