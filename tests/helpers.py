"""What many tests do: a toolkit that may reach only the loopback test servers, and a
tool invoked as a model's tool call."""

from __future__ import annotations


def make_toolkit(text: str, **options: object):  # type: ignore[no-untyped-def]
    """A toolkit over YAML `text`, allowed to reach the loopback test servers only."""
    from langchain_apiactions import ApiActionsToolkit

    options.setdefault("allowed_networks", ["127.0.0.0/8"])
    return ApiActionsToolkit(actions=text, **options)


def call(tool, args: dict, session: str = "s1"):  # type: ignore[no-untyped-def]
    """Invoke `tool` as a model's tool call; returns the ToolMessage."""
    return tool.invoke(
        {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"},
        config={"configurable": {"session_id": session}},
    )
