"""Issue 11, done when: the dental-clinic conversation, through the agent and `apiactions chat`.

A visitor books with their name given as a plain answer, then cancels a booking the API
does not know (404): the chat must not say goodbye, must not close, and must go on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langchain_apiactions import OfflineChatModel, create_api_actions_agent, last_turn_actions
from tests.apiserver import ApiServer, Reply
from tests.clirun import apiactions_process

DENTAL = Path(__file__).resolve().parents[2] / "examples" / "dental_clinic.yaml"
ORIGIN = "https://api.smileclinic.example"
THURSDAY = dt.date(2026, 11, 26)


def next_tuesday(today: dt.date) -> str:
    return (today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)).isoformat()


@pytest.fixture
def clinic(api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLINIC_API_KEY", "clinic-key-8841")
    api.route("POST", "/appointments", Reply(201, {"confirmation": {"code": "SC-1042"}}))
    api.route("DELETE", "/appointments/SC-9999", Reply(404, {"message": "No appointment SC-9999"}))
    api.route("GET", "/branches/Riverside/hours", Reply(200, {"opens": "08:00", "closes": "18:00"}))
    path = tmp_path / "dental_clinic.yaml"
    path.write_text(DENTAL.read_text().replace(ORIGIN, api.url))
    return path


def test_dental_conversation_through_the_agent(clinic: Path, api: ApiServer) -> None:
    agent = create_api_actions_agent(
        OfflineChatModel(today=THURSDAY), str(clinic), allowed_networks=["127.0.0.0/8"]
    )
    config: Any = {"configurable": {"thread_id": "visitor-7"}}

    def say(text: str) -> dict[str, Any]:
        return agent.invoke({"messages": [{"role": "user", "content": text}]}, config)

    state = say("Hi, I'd like to book a check-up for next Tuesday")
    assert state["messages"][-1].content == "Sure - could you tell me the patient's full name?"
    assert api.requests == []

    state = say("Maria Lopez")  # a plain answer fills the text input
    assert api.last.method == "POST"
    assert api.last.json == {"patient": "Maria Lopez", "date": "2026-12-01", "branch": "Downtown"}
    (booked,) = last_turn_actions(state)
    assert booked["ok"] is True
    assert booked["button"] == {
        "label": "Manage my booking",
        "url": "https://smileclinic.example/booking/SC-1042",
    }
    assert state["messages"][-1].content == (
        "Let me book that appointment for you. Here is what I found - code: SC-1042. "
        "[Manage my booking](https://smileclinic.example/booking/SC-1042)"
    )

    state = say("Please cancel my appointment, the reference is SC-9999")
    assert (api.last.method, api.last.path) == ("DELETE", "/appointments/SC-9999")
    (cancel,) = last_turn_actions(state)
    assert cancel["ok"] is False and cancel["status_code"] == 404
    assert cancel["close_chat"] is False and cancel["farewell"] is None
    last = state["messages"][-1]
    assert isinstance(last, AIMessage) and "apiactions" not in last.response_metadata
    # The visitor is told it could not be done, and is not told goodbye.
    assert last.content == (
        "I'm cancelling that appointment for you. Unfortunately I couldn't get that done "
        "right now (HTTP 404 Not Found: No appointment SC-9999)."
    )
    assert "bye" not in last.content.lower()

    # The run went on: the chat is still open for the next question.
    state = say("When are you open at the Riverside branch?")
    assert api.last.path == "/branches/Riverside/hours"
    assert state["messages"][-1].content == "Here is what I found - opens: 08:00, closes: 18:00."
    assert len(api.requests) == 3


def test_dental_conversation_in_apiactions_chat(clinic: Path, api: ApiServer) -> None:
    lines = [
        "Hi, I'd like to book a check-up for next Tuesday",
        "Maria Lopez",
        "Please cancel my appointment, the reference is SC-9999",
        "When are you open at the Riverside branch?",
        "",
    ]
    today = dt.date.today()
    proc = apiactions_process(
        "chat", str(clinic), "--allow-network", "127.0.0.0/8",
        stdin="\n".join(lines) + "\n", env={"CLINIC_API_KEY": "clinic-key-8841"}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Bot: Sure - could you tell me the patient's full name?" in out
    booking = api.requests[0]
    assert booking.json["patient"] == "Maria Lopez"
    assert booking.json["date"] in {next_tuesday(today), next_tuesday(dt.date.today())}
    assert "[button] Manage my booking -> https://smileclinic.example/booking/SC-1042" in out
    assert "✗ HTTP 404 Not Found: No appointment SC-9999" in out
    assert (
        "Bot: I'm cancelling that appointment for you. Unfortunately I couldn't get that "
        "done right now (HTTP 404 Not Found: No appointment SC-9999)." in out
    )
    assert "Thanks for contacting Smile Clinic, bye!" not in out
    assert "chat closed" not in out
    # ... and the chat went on to the next question.
    assert "Bot: Here is what I found - opens: 08:00, closes: 18:00." in out
    assert [r.method for r in api.requests] == ["POST", "DELETE", "GET"]
    assert "clinic-key-8841" not in out + proc.stderr
