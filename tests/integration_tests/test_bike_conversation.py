"""Issue 26: the offline model finishes 2-, 3- and 4-input conversations.

A bike-rental visitor answers one input per turn, several at once, or an input that was
not asked; every answer given stays, only what is still missing is asked, and the API
receives exactly the request the answers describe: through the agent helper and through
`apiactions chat` on stdin.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from langchain_apiactions import OfflineChatModel, create_api_actions_agent
from tests.apiserver import ApiServer, Recorded, Reply
from tests.clirun import apiactions_process

THURSDAY = dt.date(2026, 11, 26)  # "Friday" is 2026-11-27, "tomorrow" too

BIKES = """
actions:
  - name: Check_Availability
    when_to_use: >
      Use this action when the visitor asks whether bikes are available at a station
      on a day.
    triggered_response: Let me check what is available.
    method: GET
    url: {origin}/stations/{{station}}/availability?date={{rental_date}}
    inputs:
      - {{name: station, type: text, required: true,
         description: "The pick-up station, for example Riverside or Central"}}
      - {{name: rental_date, type: date, required: true, description: The day of the rental}}
    response_fields:
      - {{name: available, example: 4}}

  - name: Extend_Rental
    when_to_use: Use this action when the visitor wants to extend or prolong a rental.
    triggered_response: Let me extend your rental.
    method: POST
    url: {origin}/reservations/{{reservation_code}}/extension
    inputs:
      - {{name: reservation_code, type: text, required: true,
         description: "The reservation code, such as BK-2231"}}
      - {{name: return_date, type: date, required: true, description: The new return day}}
      - {{name: return_station, type: text, required: true,
         description: The station where the bike goes back}}
    body: {{until: "{{return_date}}", station: "{{return_station}}"}}
    response_fields:
      - {{name: return_date, example: "2026-12-03"}}

  - name: Reserve_Bike
    when_to_use: Use this action when the visitor wants to reserve, rent or book a bike.
    triggered_response: Let me reserve that bike for you.
    method: POST
    url: {origin}/reservations
    inputs:
      - {{name: bike_type, type: text, required: true,
         description: "The bike type: city, mountain or electric"}}
      - {{name: station, type: text, required: true, description: The pick-up station}}
      - {{name: rental_date, type: date, required: true, description: The day of the rental}}
      - {{name: email, type: text, required: true, description: The visitor's email address}}
    body: {{bike_type: "{{bike_type}}", station: "{{station}}", date: "{{rental_date}}",
            email: "{{email}}"}}
    response_fields:
      - {{name: reservation.code, example: BK-2231}}
"""

ASK_TYPE = "Sure - could you tell me the bike type: city, mountain or electric?"
ASK_STATION = "Sure - could you tell me the pick-up station?"
ASK_STATION_EXAMPLES = (
    "Sure - could you tell me the pick-up station, for example Riverside or Central?"
)
ASK_DAY = "Sure - could you tell me the day of the rental?"
ASK_EMAIL = "Sure - could you tell me your email address?"
ASK_CODE = "Sure - could you tell me the reservation code, such as BK-2231?"
ASK_RETURN_DAY = "Sure - could you tell me the new return day?"
ASK_RETURN_STATION = "Sure - could you tell me the station where the bike goes back?"
RESERVED = "Let me reserve that bike for you. Here is what I found - code: BK-2231."


@pytest.fixture
def bikes(api: ApiServer, tmp_path: Path) -> Path:
    api.route("POST", "/reservations", Reply(201, {"reservation": {"code": "BK-2231"}}))
    api.route("POST", "/reservations/BK-2231/extension", Reply(200, {"return_date": "2026-12-03"}))
    for station in ("Riverside", "Central"):
        api.route("GET", f"/stations/{station}/availability", Reply(200, {"available": 4}))
    path = tmp_path / "bikes.yaml"
    path.write_text(BIKES.format(origin=api.url))
    return path


def reservation(bike_type: str, station: str, day: str) -> dict[str, str]:
    return {"bike_type": bike_type, "station": station, "date": day, "email": "bob@example.com"}


def sent(request: Recorded) -> tuple[str, str, str, Any]:
    return (request.method, request.path, request.query, request.json if request.body else None)


# (what the visitor says, what the bot answers: a question, or None when it calls)
CONVERSATIONS: dict[str, tuple[list[tuple[str, str | None]], tuple[str, str, str, Any]]] = {
    "2 inputs, one per turn": (
        [("Are bikes available?", ASK_STATION_EXAMPLES), ("Riverside", ASK_DAY), ("Friday", None)],
        ("GET", "/stations/Riverside/availability", "date=2026-11-27", None),
    ),
    "2 inputs at once": (
        [("Are bikes available?", ASK_STATION_EXAMPLES), ("Central on Friday", None)],
        ("GET", "/stations/Central/availability", "date=2026-11-27", None),
    ),
    "3 inputs, one per turn": (
        [
            ("I'd like to extend my rental", ASK_CODE),
            ("It's BK-2231", ASK_RETURN_DAY),
            ("December 3rd", ASK_RETURN_STATION),
            ("Harbour", None),
        ],
        (
            "POST",
            "/reservations/BK-2231/extension",
            "",
            {"until": "2026-12-03", "station": "Harbour"},
        ),
    ),
    "3 inputs at once": (
        [
            ("I'd like to extend my rental", ASK_CODE),
            ("BK-2231, until 2026-12-03, back at Harbour", None),
        ],
        (
            "POST",
            "/reservations/BK-2231/extension",
            "",
            {"until": "2026-12-03", "station": "Harbour"},
        ),
    ),
    # The conversation: the bot asked for the bike type again after "Riverside".
    "4 inputs, one per turn": (
        [
            ("I want to reserve a bike", ASK_TYPE),
            ("city", ASK_STATION),
            ("Riverside", ASK_DAY),
            ("next Friday", ASK_EMAIL),
            ("bob@example.com", None),
        ],
        ("POST", "/reservations", "", reservation("city", "Riverside", "2026-11-27")),
    ),
    "4 inputs, two at a time": (
        [
            ("I want to reserve a bike", ASK_TYPE),
            ("city, Riverside", ASK_DAY),
            ("next Friday, bob@example.com", None),
        ],
        ("POST", "/reservations", "", reservation("city", "Riverside", "2026-11-27")),
    ),
    "4 inputs, three in one sentence": (
        [
            ("I want to reserve a bike", ASK_TYPE),
            ("A mountain bike from Riverside on Friday", ASK_EMAIL),
            ("my email is bob@example.com", None),
        ],
        ("POST", "/reservations", "", reservation("mountain", "Riverside", "2026-11-27")),
    ),
    "4 inputs in the request": (
        [("Reserve an electric bike at Central for tomorrow, I'm bob@example.com", None)],
        ("POST", "/reservations", "", reservation("electric", "Central", "2026-11-27")),
    ),
    # Answering the station when asked for the bike type: kept, and the type asked again.
    "4 inputs, an answer to another question": (
        [
            ("I want to reserve a bike", ASK_TYPE),
            ("It's Riverside station", ASK_TYPE),
            ("electric please", ASK_DAY),
            ("2026-12-05", ASK_EMAIL),
            ("bob@example.com", None),
        ],
        ("POST", "/reservations", "", reservation("electric", "Riverside", "2026-12-05")),
    ),
}


@pytest.mark.parametrize("story", list(CONVERSATIONS))
def test_a_conversation_through_the_agent_sends_what_the_visitor_said(
    story: str, bikes: Path, api: ApiServer
) -> None:
    turns, request = CONVERSATIONS[story]
    agent = create_api_actions_agent(
        OfflineChatModel(today=THURSDAY), str(bikes), allowed_networks=["127.0.0.0/8"]
    )
    config: Any = {"configurable": {"thread_id": "visitor-1"}}
    for said, question in turns:
        state = agent.invoke({"messages": [{"role": "user", "content": said}]}, config)
        reply = state["messages"][-1].content
        if question is not None:
            assert (said, reply) == (said, question)
            assert api.requests == []
    assert [sent(r) for r in api.requests] == [request]


def test_a_booking_after_another_action_starts_from_what_it_is_told(
    bikes: Path, api: ApiServer
) -> None:
    """Answers given for an action that ran are not reused for the next one."""
    agent = create_api_actions_agent(
        OfflineChatModel(today=THURSDAY), str(bikes), allowed_networks=["127.0.0.0/8"]
    )
    config: Any = {"configurable": {"thread_id": "visitor-2"}}

    def say(text: str) -> str:
        state = agent.invoke({"messages": [{"role": "user", "content": text}]}, config)
        return str(state["messages"][-1].content)

    assert say("Are bikes available at Riverside?") == ASK_DAY
    assert say("tomorrow") == "Let me check what is available. Here is what I found - available: 4."
    assert say("Great, I want to reserve a city bike") == ASK_STATION
    assert say("Central") == ASK_DAY
    assert say("2026-11-28") == ASK_EMAIL
    assert say("bob@example.com") == RESERVED
    assert [sent(r) for r in api.requests] == [
        ("GET", "/stations/Riverside/availability", "date=2026-11-27", None),
        ("POST", "/reservations", "", reservation("city", "Central", "2026-11-28")),
    ]


def test_the_triggered_response_is_relayed_when_the_booking_fails(
    bikes: Path, api: ApiServer
) -> None:
    """docs/action-file.md: say "Let me ..." since it is relayed before the outcome."""
    api.route("POST", "/reservations", Reply(409, {"message": "No electric bikes left"}))
    agent = create_api_actions_agent(
        OfflineChatModel(today=THURSDAY), str(bikes), allowed_networks=["127.0.0.0/8"]
    )
    line = "Reserve an electric bike at Central for tomorrow, I'm bob@example.com"
    state = agent.invoke(
        {"messages": [{"role": "user", "content": line}]}, {"configurable": {"thread_id": "v"}}
    )
    assert state["messages"][-1].content == (
        "Let me reserve that bike for you. Unfortunately I couldn't get that done right now "
        "(HTTP 409 Conflict: No electric bikes left)."
    )


def test_the_conversations_in_apiactions_chat(bikes: Path, api: ApiServer) -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    lines = [
        "I want to reserve a bike",  # 4 inputs, one per turn
        "city",
        "Riverside",
        "2026-12-05",
        "bob@example.com",
        "Are bikes available?",  # 2 inputs at once
        "Central, tomorrow",
        "I'd like to extend my rental",  # 3 inputs, two then one
        "BK-2231, until 2026-12-03",
        "Harbour",
        "I want to reserve a bike",  # 4 inputs, three then one
        "A mountain bike from Central on 2026-12-06",
        "bob@example.com",
        "",
    ]
    proc = apiactions_process(
        "chat", str(bikes), "--allow-network", "127.0.0.0/8",
        stdin="\n".join(lines) + "\n", timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bot = [line for line in proc.stdout.splitlines() if line.startswith("Bot: ")]
    assert bot == [
        f"Bot: {ASK_TYPE}",
        f"Bot: {ASK_STATION}",
        f"Bot: {ASK_DAY}",
        f"Bot: {ASK_EMAIL}",
        f"Bot: {RESERVED}",
        f"Bot: {ASK_STATION_EXAMPLES}",
        "Bot: Let me check what is available. Here is what I found - available: 4.",
        f"Bot: {ASK_CODE}",
        f"Bot: {ASK_RETURN_STATION}",
        "Bot: Let me extend your rental. Here is what I found - return date: 2026-12-03.",
        f"Bot: {ASK_TYPE}",
        f"Bot: {ASK_EMAIL}",
        f"Bot: {RESERVED}",
    ]
    assert [sent(r) for r in api.requests] == [
        ("POST", "/reservations", "", reservation("city", "Riverside", "2026-12-05")),
        ("GET", "/stations/Central/availability", f"date={tomorrow}", None),
        (
            "POST",
            "/reservations/BK-2231/extension",
            "",
            {"until": "2026-12-03", "station": "Harbour"},
        ),
        ("POST", "/reservations", "", reservation("mountain", "Central", "2026-12-06")),
    ]
