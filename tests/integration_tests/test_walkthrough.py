"""Every example of the product walkthrough, against a real server on loopback."""

from __future__ import annotations

import base64

import pytest

from langchain_apiactions import ActionArtifact, ArtifactRequest
from tests.apiserver import ApiServer, Reply
from tests.helpers import call, make_toolkit


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_API_KEY", "sk-store-abc123")
    monkeypatch.setenv("JIRA_TOKEN", "jira-tok-999")
    monkeypatch.setenv("ZENDESK_BASIC", base64.b64encode(b"me@x.com/token:zd-api-777").decode())
    monkeypatch.setenv("EXAMPLE_KEY", "k&ey=1/2")
    monkeypatch.setenv("CUSTOM_KEY", "custom-key-555")


def test_order_status_lookup(api: ApiServer) -> None:
    api.route(
        "GET",
        "/orders/12345",
        Reply(
            200,
            {
                "status": "Shipped",
                "estimated_delivery": "2026-03-15",
                "tracking_number": "1Z999AA10123456784",
                "carrier": "UPS",
                "internal": "x" * 50,
            },
        ),
    )
    tk = make_toolkit(f"""
actions:
  - name: Check_Order_Status
    when_to_use: >
      Use this action when the visitor asks about the status of their order, wants to
      track a shipment, asks where their order is, or provides an order number.
    triggered_response: Let me look up your order status right now.
    method: GET
    url: {api.url}/orders/{{order_number}}
    inputs:
      - {{name: order_number, type: Text, description: The visitor's order number or tracking number, required: true}}
    headers:
      Authorization: Bearer ${{STORE_API_KEY}}
      Accept: application/json
    response_fields:
      - {{name: status, example: Shipped}}
      - {{name: estimated_delivery, example: "2026-03-15"}}
      - {{name: tracking_number, example: 1Z999AA10123456784}}
      - {{name: carrier, example: UPS}}
""")
    msg = call(tk.get_tools()[0], {"order_number": "12345"})
    req = api.last
    assert (req.method, req.path, req.query) == ("GET", "/orders/12345", "")
    assert req.headers["Authorization"] == "Bearer sk-store-abc123"
    assert req.headers["Accept"] == "application/json"
    assert req.body == b""
    art = msg.artifact
    assert art["ok"] is True and art["status_code"] == 200
    assert art["data"] == {
        "status": "Shipped",
        "estimated_delivery": "2026-03-15",
        "tracking_number": "1Z999AA10123456784",
        "carrier": "UPS",
    }
    assert art["missing_fields"] == []
    assert art["error"] is None and art["error_kind"] is None
    assert art["triggered_response"] == "Let me look up your order status right now."
    assert art["request"]["method"] == "GET"
    assert art["request"]["url"] == f"{api.url}/orders/12345"
    assert set(art) == {
        "action",
        "ok",
        "status_code",
        "data",
        "missing_fields",
        "error",
        "error_kind",
        "triggered_response",
        "button",
        "close_chat",
        "farewell",
        "skipped",
        "request",
    }
    # The public TypedDict describes exactly what a call returns: every key but the
    # `NotRequired` ones (cached, idempotency_key, pagination), absent when unused.
    optional = {"cached", "idempotency_key", "pagination"}
    assert set(art) == set(ActionArtifact.__annotations__) - optional
    assert set(art["request"]) == set(ArtifactRequest.__annotations__)
    assert '"carrier": "UPS"' in msg.content
    assert "internal" not in msg.content  # only the declared fields reach the model
    assert "sk-store-abc123" not in msg.content + repr(art)


def test_jira_issue_nested_static_and_dynamic_template(api: ApiServer) -> None:
    api.route("POST", "/rest/api/2/issue", Reply(201, {"id": "10001", "key": "SUPPORT-42"}))
    tk = make_toolkit(f"""
actions:
  - name: Create_Jira_Issue
    when_to_use: Use when the visitor reports a bug that needs a support ticket in Jira.
    method: POST
    url: {api.url}/rest/api/2/issue
    headers: {{Authorization: "Bearer ${{JIRA_TOKEN}}"}}
    inputs:
      - {{name: issue_summary, required: true}}
      - {{name: issue_description, required: true}}
      - {{name: visitor_email, required: true}}
    body: |
      {{
        "fields": {{
          "project": {{ "key": "SUPPORT" }},
          "summary": "{{issue_summary}}",
          "description": "{{issue_description}}",
          "issuetype": {{ "name": "Bug" }},
          "reporter": {{ "emailAddress": "{{visitor_email}}" }}
        }}
      }}
    response_fields: [key]
""")
    msg = call(
        tk.get_tools()[0],
        {
            "issue_summary": 'Checkout "Pay" button fails',
            "issue_description": "Line 1\nLine 2 \\ backslash",
            "visitor_email": "ana@example.com",
        },
    )
    req = api.last
    assert (req.method, req.path) == ("POST", "/rest/api/2/issue")
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Authorization"] == "Bearer jira-tok-999"
    assert req.json == {
        "fields": {
            "project": {"key": "SUPPORT"},
            "summary": 'Checkout "Pay" button fails',
            "description": "Line 1\nLine 2 \\ backslash",
            "issuetype": {"name": "Bug"},
            "reporter": {"emailAddress": "ana@example.com"},
        }
    }
    assert msg.artifact["ok"] and msg.artifact["status_code"] == 201
    assert msg.artifact["data"] == {"key": "SUPPORT-42"}


def test_zendesk_ticket_basic_auth_static_array(api: ApiServer) -> None:
    api.route("POST", "/api/v2/tickets", Reply(201, {"ticket": {"id": 35436, "status": "new"}}))
    tk = make_toolkit(f"""
actions:
  - name: Create_Support_Ticket
    when_to_use: Use when the visitor needs help from a human and wants a support ticket.
    method: POST
    url: {api.url}/api/v2/tickets
    headers:
      Authorization: Basic ${{ZENDESK_BASIC}}
      Content-Type: application/json
    inputs:
      - {{name: issue_subject, required: true}}
      - {{name: issue_description, required: true}}
      - {{name: visitor_name, required: true}}
      - {{name: visitor_email, required: true}}
    body: |
      {{
        "ticket": {{
          "subject": "{{issue_subject}}",
          "description": "{{issue_description}}",
          "requester": {{"name": "{{visitor_name}}", "email": "{{visitor_email}}"}},
          "priority": "normal",
          "tags": ["live_chat", "chatbot"]
        }}
      }}
    response_fields:
      - {{name: ticket_id, path: ticket.id}}
      - {{name: ticket.status}}
""")
    msg = call(
        tk.get_tools()[0],
        {
            "issue_subject": "Refund",
            "issue_description": "Charged twice",
            "visitor_name": "Ana",
            "visitor_email": "ana@example.com",
        },
    )
    req = api.last
    assert base64.b64decode(req.headers["Authorization"].split()[1]) == b"me@x.com/token:zd-api-777"
    assert req.headers["Content-Type"] == "application/json"
    assert req.json["ticket"]["tags"] == ["live_chat", "chatbot"]
    assert req.json["ticket"]["requester"] == {"name": "Ana", "email": "ana@example.com"}
    assert req.json["ticket"]["priority"] == "normal"
    assert msg.artifact["data"] == {"ticket_id": 35436, "ticket.status": "new"}


def test_zapier_webhook(api: ApiServer) -> None:
    api.route("POST", "/hooks/catch/123/abc", Reply(200, {"status": "success", "id": "z-1"}))
    tk = make_toolkit(f"""
- name: Send_Lead_To_Zapier
  when_to_use: Use when the visitor shares contact details and wants to be contacted by sales.
  method: POST
  url: {api.url}/hooks/catch/123/abc
  headers: {{Content-Type: application/json}}
  inputs: [{{name: email, required: true}}, {{name: name, required: true}}, {{name: company}}, {{name: visitor_question}}]
  body: |
    {{"email": "{{email}}", "name": "{{name}}", "company": "{{company}}", "source": "chatbot", "message": "{{visitor_question}}"}}
""")
    msg = call(
        tk.get_tools()[0], {"email": "bo@acme.io", "name": "Bo", "visitor_question": "Pricing?"}
    )
    assert api.last.json == {
        "email": "bo@acme.io",
        "name": "Bo",
        "company": "",
        "source": "chatbot",
        "message": "Pricing?",
    }
    assert msg.artifact["ok"] and msg.artifact["data"] == {"status": "success", "id": "z-1"}


def test_google_sheets_date_input(api: ApiServer) -> None:
    api.route("POST", "/macros/s/XYZ/exec", Reply(200, {"result": "ok"}))
    tk = make_toolkit(f"""
- name: Log_Question_To_Sheet
  when_to_use: Use when the visitor asks a question that the team should follow up on later.
  method: post
  url: {api.url}/macros/s/XYZ/exec
  inputs:
    - {{name: visitor_name, required: true}}
    - {{name: visitor_email, required: true}}
    - {{name: visitor_question, required: true}}
    - {{name: date, type: Date, required: true, description: The date of the question}}
  body: |
    {{"name": "{{visitor_name}}", "email": "{{visitor_email}}", "question": "{{visitor_question}}", "timestamp": "{{date}}"}}
""")
    tool = tk.get_tools()[0]
    assert tool.tool_call_schema["properties"]["date"]["format"] == "date"  # type: ignore[index]
    msg = call(
        tool,
        {
            "visitor_name": "Ana",
            "visitor_email": "a@b.co",
            "visitor_question": "Hours?",
            "date": "2026-03-15",
        },
    )
    assert api.last.json["timestamp"] == "2026-03-15"
    assert msg.artifact["ok"]


def test_product_catalog_query_and_array_response(api: ApiServer) -> None:
    products = [
        {
            "name": f"Shoe {i}",
            "price": 10 + i,
            "availability": "in_stock",
            "url": f"https://shop/p/{i}",
            "sku": i,
        }
        for i in range(14)
    ]
    api.route("GET", "/products", Reply(200, products))
    tk = make_toolkit(f"""
- name: Search_Products
  when_to_use: Use when the visitor looks for a product, asks about prices or availability.
  method: GET
  url: {api.url}/products?search={{product_query}}&limit=20
  inputs: [{{name: product_query, required: true, description: What the visitor is looking for}}]
  response_fields: [name, price, availability, url]
""")
    msg = call(tk.get_tools()[0], {"product_query": "red shoes & socks"})
    assert api.last.query == "search=red%20shoes%20%26%20socks&limit=20"
    assert api.last.query_pairs == [("search", "red shoes & socks"), ("limit", "20")]
    data = msg.artifact["data"]
    assert data["count"] == 14
    assert len(data["items"]) == 10
    assert data["items"][0] == {
        "name": "Shoe 0",
        "price": 10,
        "availability": "in_stock",
        "url": "https://shop/p/0",
    }


def test_api_key_in_url_is_encoded_and_masked(api: ApiServer) -> None:
    api.route("GET", "/orders", Reply(200, {"status": "Delivered"}))
    tk = make_toolkit(f"""
- name: Get_Order
  when_to_use: Use when the visitor asks about an order and gives the order id.
  method: GET
  url: {api.url}/orders?api_key=${{EXAMPLE_KEY}}&order_id={{order_id}}
  inputs: [{{name: order_id, type: number, required: true}}]
  response_fields: [status]
""")
    msg = call(tk.get_tools()[0], {"order_id": 12345.0})
    assert api.last.query_pairs == [("api_key", "k&ey=1/2"), ("order_id", "12345")]
    assert msg.artifact["request"]["url"] == f"{api.url}/orders?api_key=***&order_id=12345"
    assert "k&ey" not in msg.content and "k%26ey" not in str(msg.artifact)


def test_custom_api_key_header(api: ApiServer) -> None:
    api.route("GET", "/v1/account", Reply(200, {"plan": "pro"}))
    tk = make_toolkit(f"""
- name: Account_Plan
  when_to_use: Use when the visitor asks which plan their account is on.
  method: GET
  url: {api.url}/v1/account
  headers: {{X-API-Key: "${{CUSTOM_KEY}}"}}
  response_fields: [plan]
""")
    msg = call(tk.get_tools()[0], {})
    assert api.last.headers["X-API-Key"] == "custom-key-555"
    assert msg.artifact["data"] == {"plan": "pro"}


def test_nested_response_fields_dot_notation(api: ApiServer) -> None:
    api.route(
        "GET",
        "/orders/A-1",
        Reply(
            200,
            {
                "data": {
                    "order": {
                        "status": "Shipped",
                        "estimated-delivery": "2026-03-15",
                        "tracking": {"carrier": "UPS", "number": "1Z999AA1012345"},
                    }
                }
            },
        ),
    )
    tk = make_toolkit(f"""
- name: Order_Details
  when_to_use: Use when the visitor asks for the details of an order they placed.
  method: GET
  url: {api.url}/orders/{{order_id}}
  inputs: [{{name: order_id, required: true}}]
  response_fields:
    - {{name: data.order.status, example: Shipped}}
    - {{name: data.order.tracking.carrier, example: UPS}}
    - {{name: data.order.tracking.number}}
    - {{name: eta, path: data.order.estimated-delivery}}
    - {{name: data.order.gift_message}}
""")
    msg = call(tk.get_tools()[0], {"order_id": "A-1"})
    assert msg.artifact["data"] == {
        "data.order.status": "Shipped",
        "data.order.tracking.carrier": "UPS",
        "data.order.tracking.number": "1Z999AA1012345",
        "eta": "2026-03-15",
        "data.order.gift_message": None,
    }
    assert msg.artifact["missing_fields"] == ["data.order.gift_message"]
    assert "gift_message" in msg.content.split("Not in the response")[1]


def test_graphql_post_keeps_braces(api: ApiServer) -> None:
    api.route("POST", "/graphql", Reply(200, {"data": {"order": {"status": "Packed"}}}))
    tk = make_toolkit(f"""
- name: GraphQL_Order
  when_to_use: Use when the visitor asks about an order status (GraphQL backend).
  method: POST
  url: {api.url}/graphql
  inputs: [{{name: order_id, required: true}}]
  body: '{{"query": "{{ order(id: \\"{{order_id}}\\") {{ status }} }}"}}'
  response_fields: [{{name: status, path: data.order.status}}]
""")
    msg = call(tk.get_tools()[0], {"order_id": 'A"1 {status}'})
    assert api.last.json == {"query": '{ order(id: "A"1 {status}") { status } }'}
    assert msg.artifact["data"] == {"status": "Packed"}
