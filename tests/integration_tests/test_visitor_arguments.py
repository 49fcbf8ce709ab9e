"""Issue 11: what the visitor and the model see when a call fails or arguments are odd."""

from __future__ import annotations

import json

from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit


def test_failed_close_chat_action_does_not_close_the_chat(api: ApiServer) -> None:
    api.route("DELETE", "/appointments/A-9", Reply(404, {"message": "No such appointment"}))
    tk = make_toolkit(f"""
- name: Cancel_Appointment
  when_to_use: Use when the visitor wants to cancel an appointment they booked.
  triggered_response: I'm cancelling that appointment for you.
  method: DELETE
  url: {api.url}/appointments/{{booking_reference}}
  inputs: [{{name: booking_reference, required: true}}]
  close_chat: {{farewell: "Thanks for contacting Smile Clinic, bye!"}}
""")
    msg = call(tk.get_tools()[0], {"booking_reference": "A-9"})
    art = msg.artifact
    assert art["ok"] is False and art["status_code"] == 404
    assert art["close_chat"] is False and art["farewell"] is None
    assert "HTTP 404 Not Found: No such appointment" in art["error"]
    # The model is told it failed, and nothing about closing the chat or saying goodbye.
    assert "failed" in msg.content and "could not be done" in msg.content
    assert "closes" not in msg.content and "bye" not in msg.content.lower()


def test_successful_close_chat_action_still_closes(api: ApiServer) -> None:
    api.route("DELETE", "/appointments/A-1", Reply(200, {"cancelled": True}))
    tk = make_toolkit(f"""
- name: Cancel_Appointment
  when_to_use: Use when the visitor wants to cancel an appointment they booked.
  method: DELETE
  url: {api.url}/appointments/{{booking_reference}}
  inputs: [{{name: booking_reference, required: true}}]
  close_chat: {{farewell: "Bye!"}}
""")
    art = call(tk.get_tools()[0], {"booking_reference": "A-1"}).artifact
    assert art["close_chat"] is True and art["farewell"] == "Bye!"


def _order_tool(api: ApiServer):  # type: ignore[no-untyped-def]
    api.route("GET", "/orders/12345", Reply(200, {"status": "Shipped"}))
    api.route("POST", "/notes", Reply(201, {"id": 1}))
    tk = make_toolkit(f"""
- name: Check_Order_Status
  when_to_use: Use when the visitor asks where their order is or about its status.
  method: GET
  url: {api.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true}}]
  response_fields: [status]
- name: Add_Note
  when_to_use: Use when the visitor wants to leave a note on their order for the team.
  method: POST
  url: {api.url}/notes
  inputs: [{{name: order_number, required: true}}, {{name: refs, array: true}}]
  body: '{{"order": "{{order_number}}", "bare": {{order_number}}, "refs": "{{refs}}"}}'
""")
    return tk.get_tools()


def test_text_input_accepts_a_number_and_sends_its_text(api: ApiServer) -> None:
    status, note = _order_tool(api)
    art = call(status, {"order_number": 12345}).artifact
    assert art["ok"] is True and api.last.path == "/orders/12345"
    art = call(status, {"order_number": 12345.0}).artifact
    assert art["ok"] is True and api.last.path == "/orders/12345"  # never 12345.0
    art = call(note, {"order_number": 12345, "refs": [7, 8.0]}).artifact
    assert art["ok"] is True
    assert api.last.json == {"order": "12345", "bare": "12345", "refs": "7, 8"}
    # The model is still told it is text.
    schema = status.tool_call_schema
    assert schema["properties"]["order_number"]["type"] == "string"


def test_text_input_refuses_true_false(api: ApiServer) -> None:
    status, _ = _order_tool(api)
    msg = call(status, {"order_number": True})
    assert msg.artifact["ok"] is False and api.requests == []
    assert msg.artifact["error"] == "invalid argument: order_number: should be text (got true)"


def _rating_tool(api: ApiServer):  # type: ignore[no-untyped-def]
    api.route("POST", "/reviews", Reply(201, {"id": 3}))
    tk = make_toolkit(f"""
- name: Leave_Review
  when_to_use: Use when the visitor wants to rate their visit to the clinic.
  method: POST
  url: {api.url}/reviews
  inputs:
    - {{name: stars, type: number, required: true}}
    - {{name: visit_date, type: date, required: true}}
    - {{name: tags, array: true}}
  body: {{"stars": "{{stars}}", "date": "{{visit_date}}"}}
""")
    return tk.get_tools()[0]


def test_refused_arguments_still_return_the_artifact(api: ApiServer) -> None:
    tool = _rating_tool(api)
    msg = call(tool, {"stars": "five", "visit_date": "2026-03-15"})
    art = msg.artifact
    assert isinstance(art, dict), "every call returns the artifact"
    assert art["action"] == "Leave_Review"
    assert art["ok"] is False and art["status_code"] is None and art["request"] is None
    assert art["error"] == 'invalid argument: stars: should be a number (got "five")'
    assert msg.status == "error"
    assert art["close_chat"] is False and art["skipped"] is False
    assert api.requests == []  # nothing sent
    # The model reads a question to put to the visitor again.
    assert msg.content == (
        'The arguments could not be used: stars: should be a number (got "five"). '
        "Ask the visitor for the missing or invalid values, then call again."
    )


async def test_refused_arguments_return_the_artifact_async(api: ApiServer) -> None:
    tool = _rating_tool(api)
    msg = await tool.ainvoke(
        {"name": tool.name, "args": {"visit_date": "2026-03-15"}, "id": "c1", "type": "tool_call"}
    )
    assert msg.artifact["ok"] is False
    assert msg.artifact["error"] == "invalid argument: stars: is required"
    assert api.requests == []


def test_argument_errors_are_worded_as_a_person_would(api: ApiServer) -> None:
    tool = _rating_tool(api)
    msg = call(tool, {"stars": "lots", "visit_date": "2026-03-15T10:30:00", "tags": "x"})
    text = msg.content + json.dumps(msg.artifact)
    for internal in ("stars.int", "stars.float", "Input should", "Datetimes provided", "zero time"):
        assert internal not in text
    assert msg.artifact["error"] == (
        'invalid argument: stars: should be a number (got "lots"); '
        'visit_date: should be a date such as 2026-03-15 (got "2026-03-15T10:30:00"); '
        'tags: should be a list of values (got "x")'
    )


def test_button_is_filled_from_a_dotted_response_field(api: ApiServer) -> None:
    api.route("POST", "/appointments", Reply(201, {"confirmation": {"code": "SC-1042"}}))
    tk = make_toolkit(f"""
- Action Name: Book_Appointment
  When to use: Use when the visitor wants to book an appointment at the clinic.
  HTTP Method: POST
  Endpoint URL: {api.url}/appointments
  Expected response fields: [{{Field Name: confirmation.code}}]
  Show action button in response:
    Button Label: "Manage booking {{confirmation.code}}"
    Button URL: "https://smileclinic.example/booking/{{confirmation.code}}"
""")
    msg = call(tk.get_tools()[0], {})
    assert msg.artifact["button"] == {
        "label": "Manage booking SC-1042",
        "url": "https://smileclinic.example/booking/SC-1042",
    }
    assert "{confirmation.code}" not in msg.content
    assert "https://smileclinic.example/booking/SC-1042" in msg.content
