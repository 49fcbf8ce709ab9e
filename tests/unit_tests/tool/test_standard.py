"""LangChain's standard tool tests, run against a compiled action."""

from __future__ import annotations

from langchain_core.tools import BaseTool
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_apiactions.tool import ApiActionTool
from langchain_apiactions.toolkit import ApiActionsToolkit

ACTION = {
    "name": "Check_Order_Status",
    "when_to_use": "Use when the visitor asks about the status of their order.",
    "method": "GET",
    "url": "https://api.example.com/orders/{order_number}",
    "inputs": [
        {"name": "order_number", "type": "text", "required": True, "description": "Order number"}
    ],
    "response_fields": ["status"],
}


class TestApiActionToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> BaseTool:
        tool = ApiActionsToolkit(actions=[ACTION]).get_tools()[0]
        assert isinstance(tool, ApiActionTool)
        return tool

    @property
    def tool_invoke_params_example(self) -> dict:
        return {"order_number": "12345"}
