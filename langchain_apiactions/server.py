"""The old name of `langchain_apiactions.langgraph_server`, the LangGraph server's graph
factory: `langgraph.json` files written for `langchain_apiactions.server:make_graph`
keep working. New code uses `langchain_apiactions.langgraph_server`."""

from __future__ import annotations

from langchain_apiactions.langgraph_server import (
    ServerSettings,
    ServerSettingsError,
    checkpointer_from_url,
    make_graph,
)

__all__ = ["ServerSettings", "ServerSettingsError", "checkpointer_from_url", "make_graph"]
