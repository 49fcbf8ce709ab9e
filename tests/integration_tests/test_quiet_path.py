"""A tool run nobody listens to skips LangChain's callback machinery and returns exactly
what LangChain's own path returns; anyone who listens still sees the run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.tracers.context import collect_runs, tracing_v2_enabled
from langsmith import Client

from langchain_apiactions.quiet import nobody_listens
from tests.apiserver import ApiServer, Reply
from tests.helpers import make_toolkit

ROOT = Path(__file__).resolve().parents[2]


def _actions(api: ApiServer) -> str:
    return f"""
- name: Find_Order
  when_to_use: Use this action to look up an order by number.
  method: GET
  url: {api.url}/orders/{{order}}
  inputs: [{{name: order, required: true}}, {{name: count, type: number}}]
  response_fields: {{status: status}}
- name: Needs_Context
  when_to_use: Use this action to read the visitor's account.
  method: GET
  url: {api.url}/account/{{context.user_id}}
  response_fields: {{status: status}}
"""


class Recorder(BaseCallbackHandler):
    """Every tool event it is given, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kw: Any) -> None:
        self.events.append(("start", (serialized["name"], input_str, kw.get("inputs"))))

    def on_tool_end(self, output: Any, **kw: Any) -> None:
        self.events.append(("end", output))

    def on_tool_error(self, error: BaseException, **kw: Any) -> None:
        self.events.append(("error", error))


def _same(message: Any) -> Any:
    """The output with the one thing two calls cannot share (elapsed time) left out."""
    if isinstance(message, ToolMessage):
        fields = message.model_dump()
        fields.pop("id", None)
        artifact = dict(fields.get("artifact") or {})
        if isinstance(artifact.get("request"), dict):
            artifact["request"] = {**artifact["request"], "elapsed_ms": 0}
        fields["artifact"] = artifact
        return fields
    return message


INPUTS = [
    {"name": "Find_Order", "args": {"order": "A-17"}, "id": "c1", "type": "tool_call"},
    {"name": "Find_Order", "args": {"order": "A-404"}, "id": "c2", "type": "tool_call"},
    {"name": "Find_Order", "args": {}, "id": "c3", "type": "tool_call"},  # refused
    {"name": "Find_Order", "args": {"order": "A-17", "count": "many"}, "id": "c4", "type": "tool_call"},
    {"order": "A-17"},  # a plain dict: the content alone
    "A-17",  # a bare string fills the first input
    ["A-17"],  # not an input LangChain declares: refused by the schema
]  # fmt: skip


@pytest.fixture
def api() -> Any:
    server = ApiServer().start()
    server.route("GET", "/orders/A-17", Reply(200, {"status": "shipped"}))
    server.route("GET", "/orders/A-404", Reply(404, {"message": "no such order"}))
    server.route("GET", "/account/u-1", Reply(200, {"status": "active"}))
    yield server
    server.stop()


@pytest.mark.parametrize("given", INPUTS, ids=lambda x: json.dumps(x)[:40])
def test_the_quiet_path_returns_what_langchains_path_returns(api: ApiServer, given: Any) -> None:
    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Find_Order")
        assert nobody_listens(tool, None, None)
        quiet = tool.invoke(given)
        recorder = Recorder()
        heard = tool.invoke(given, {"callbacks": [recorder]})
        # LangChain's path run directly, bypassing the override
        base = BaseTool.run(
            tool,
            given["args"] if isinstance(given, dict) and "args" in given else given,
            tool_call_id=given.get("id") if isinstance(given, dict) else None,
        )
    assert type(quiet) is type(heard) is type(base)
    assert _same(quiet) == _same(heard) == _same(base)
    assert [kind for kind, _ in recorder.events] == ["start", "end"]
    assert _same(recorder.events[1][1]) == _same(heard)


def test_the_quiet_path_returns_what_langchains_path_returns_async(api: ApiServer) -> None:
    async def both(tool: BaseTool, given: Any) -> tuple[Any, Any, Recorder]:
        recorder = Recorder()
        quiet = await tool.ainvoke(given)
        heard = await tool.ainvoke(given, {"callbacks": [recorder]})
        return quiet, heard, recorder

    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Find_Order")
        for given in INPUTS:
            quiet, heard, recorder = asyncio.run(both(tool, given))
            assert type(quiet) is type(heard)
            assert _same(quiet) == _same(heard), given
            assert [kind for kind, _ in recorder.events] == ["start", "end"]


def test_the_quiet_path_fills_context_and_session_from_the_config(api: ApiServer) -> None:
    call = {"name": "Needs_Context", "args": {}, "id": "c9", "type": "tool_call"}
    config = {"configurable": {"session_id": "s-7", "context": {"user_id": "u-1"}}}
    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Needs_Context")
        quiet = tool.invoke(call, config)
        heard = tool.invoke(call, {**config, "callbacks": [Recorder()]})
        missing = tool.invoke(call)  # no context: stopped before sending, status error
    assert quiet.artifact["ok"] and quiet.artifact["data"] == {"status": "active"}
    assert _same(quiet) == _same(heard)
    assert missing.status == "error" and missing.artifact["error_kind"] == "missing_context"


def test_a_handler_anywhere_takes_langchains_path_and_hears_the_run(api: ApiServer) -> None:
    call = INPUTS[0]
    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Find_Order")
        # in the config, as a callback manager (what a parent run passes down)
        recorder = Recorder()
        manager = CallbackManager(handlers=[recorder], inheritable_handlers=[recorder])
        tool.invoke(call, {"callbacks": manager})
        assert [kind for kind, _ in recorder.events] == ["start", "end"]
        # on the tool itself
        own = Recorder()
        listened = tool.model_copy(update={"callbacks": [own]})
        message = listened.invoke(call)
        assert [kind for kind, _ in own.events] == ["start", "end"]
        assert own.events[1][1] == message
        assert own.events[0][1][0] == "Find_Order"
        # a run collector (a configure hook's context variable)
        with collect_runs() as runs:
            tool.invoke(call)
        assert [r.name for r in runs.traced_runs] == ["Find_Order"]
        assert runs.traced_runs[0].outputs is not None


def test_an_empty_callback_manager_is_nobody(api: ApiServer) -> None:
    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Find_Order")
        assert nobody_listens(tool, CallbackManager(handlers=[]), None)
        assert nobody_listens(tool, [], None)
        assert not nobody_listens(tool, [Recorder()], None)
        assert not nobody_listens(tool, None, True)


def test_tracing_v2_enabled_receives_the_tool_run(api: ApiServer) -> None:
    """`tracing_v2_enabled` (LangChain's context variable) with a client pointed at the
    loopback server: the tool's run reaches LangSmith's ingest endpoint."""
    client = Client(api_url=api.url, api_key="ls-test-key")
    with make_toolkit(_actions(api)) as tk:
        tool = tk.get_tool("Find_Order")
        with tracing_v2_enabled(project_name="quiet-path-test", client=client):
            assert not nobody_listens(tool, None, None)
            message = tool.invoke(INPUTS[0])
        client.flush()
    assert message.artifact["ok"]
    sent = b"".join(r.body for r in api.requests if r.path.startswith("/runs"))
    assert b"Find_Order" in sent and b'"run_type":"tool"' in sent.replace(b" ", b"")


LANGSMITH_CHILD = """
import sys
from langchain_core.tracers.langchain import wait_for_all_tracers
sys.path.insert(0, {root!r})
from tests.helpers import make_toolkit
from langchain_apiactions.quiet import nobody_listens
with make_toolkit({actions!r}) as tk:
    tool = tk.get_tool("Find_Order")
    print("listens" if not nobody_listens(tool, None, None) else "nobody")
    message = tool.invoke({call!r})
    print(message.artifact["ok"])
wait_for_all_tracers()
"""


@pytest.mark.parametrize("variable", ["LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"])
def test_langsmith_tracing_from_the_environment_receives_the_tool_run(
    api: ApiServer, variable: str
) -> None:
    """A fresh process with LangSmith tracing switched on by its environment (pointed at
    the loopback server): the tool's run reaches LangSmith's ingest endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH", "LANGCHAIN"))}
    env.update(
        {
            variable: "true",
            "LANGSMITH_ENDPOINT": api.url,
            "LANGSMITH_API_KEY": "ls-test-key",
            "LANGSMITH_PROJECT": "quiet-path-test",
        }
    )
    code = LANGSMITH_CHILD.format(root=str(ROOT), actions=_actions(api), call=INPUTS[0])
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["listens", "True"]
    ingest = [r for r in api.requests if r.path.startswith("/runs")]
    assert ingest, [r.path for r in api.requests]
    sent = b"".join(r.body for r in ingest)
    assert b"Find_Order" in sent and b'"run_type":"tool"' in sent.replace(b" ", b"")
