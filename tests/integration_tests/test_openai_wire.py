"""The real-model path without the internet: ChatOpenAI against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_openai import ChatOpenAI

from langchain_apiactions import ApiActionsToolkit, create_api_actions_agent
from tests.apiserver import ApiServer, Recorded, Reply


def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@pytest.fixture
def llm() -> Any:
    server = ApiServer().start()
    yield server
    server.stop()


def test_agent_over_openai_compatible_server(api: ApiServer, llm: ApiServer) -> None:
    api.route("GET", "/orders/12345", Reply(200, {"status": "Shipped"}))
    answers = [
        completion(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "Check_Order_Status",
                            "arguments": json.dumps({"order_number": "12345"}),
                        },
                    }
                ],
            },
            "tool_calls",
        ),
        completion({"content": "Your order has shipped."}, "stop"),
    ]

    def chat(rec: Recorded) -> Reply:
        return Reply(200, answers.pop(0))

    llm.route("POST", "/v1/chat/completions", chat)
    model = ChatOpenAI(model="gpt-test", base_url=f"{llm.url}/v1", api_key="sk-test", max_retries=0)
    agent = create_api_actions_agent(
        model,
        [
            {
                "name": "Check_Order_Status",
                "when_to_use": "Use when the visitor asks where their order is.",
                "method": "GET",
                "url": f"{api.url}/orders/{{order_number}}",
                "inputs": [
                    {"name": "order_number", "required": True, "description": "Order number"}
                ],
                "response_fields": ["status"],
                "triggered_response": "Let me check.",
            }
        ],
        allowed_networks=["127.0.0.0/8"],
    )
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "Where is order #12345?"}]},
        {"configurable": {"thread_id": "t"}},
    )
    assert result["messages"][-1].content == "Your order has shipped."
    first, second = (r.json for r in llm.requests)
    assert first["model"] == "gpt-test"
    assert first["messages"][0]["role"] == "system"
    [tool] = first["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "Check_Order_Status"
    assert tool["function"]["description"] == "Use when the visitor asks where their order is."
    assert tool["function"]["parameters"]["properties"]["order_number"]["type"] == "string"
    assert tool["function"]["parameters"]["required"] == ["order_number"]
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_1"
    assert '<api_data>{"status": "Shipped"}</api_data>' in tool_msg["content"]
    assert api.last.path == "/orders/12345"


def test_strict_mode_schemas_are_valid(llm: ApiServer) -> None:
    llm.route("POST", "/v1/chat/completions", Reply(200, completion({"content": "ok"}, "stop")))
    toolkit = ApiActionsToolkit(
        actions=[
            {
                "name": "Book",
                "when_to_use": "Use when the visitor wants to book a table.",
                "method": "POST",
                "url": "https://r.example/book",
                "body": {"d": "{day}"},
                "inputs": [
                    {"name": "day", "type": "date", "required": True},
                    {"name": "guests", "type": "number"},
                    {"name": "names", "array": True},
                ],
            }
        ]
    )
    model = ChatOpenAI(model="gpt-test", base_url=f"{llm.url}/v1", api_key="sk-test", max_retries=0)
    model.bind_tools(toolkit.get_tools(), strict=True).invoke("hi")
    fn = llm.last.json["tools"][0]["function"]
    assert fn["strict"] is True
    params = fn["parameters"]
    assert params["additionalProperties"] is False
    assert sorted(params["required"]) == sorted(params["properties"]) == ["day", "guests", "names"]

    def check(node: Any) -> None:  # strict mode: every object closed, every property required
        if isinstance(node, dict):
            if node.get("type") == "object":
                assert node.get("additionalProperties") is False
                assert sorted(node.get("required", [])) == sorted(node.get("properties", {}))
            for v in node.values():
                check(v)
        elif isinstance(node, list):
            for v in node:
                check(v)

    check(params)
