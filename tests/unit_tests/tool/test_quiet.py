"""`quiet`: when no callback handler would exist, and LangChain's results without them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.callbacks.usage import get_usage_metadata_callback
from langchain_core.globals import set_debug
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.tracers.context import collect_runs
from langsmith.run_helpers import tracing_context
from langsmith.run_trees import RunTree
from pydantic import BaseModel, ValidationError

from langchain_apiactions.quiet import nobody_listens, run_quietly
from langchain_apiactions.toolkit import ApiActionsToolkit

ACTION = {
    "name": "Check_Order_Status",
    "when_to_use": "Use when the visitor asks about the status of their order.",
    "method": "GET",
    "url": "https://api.example.com/orders/{order_number}",
    "inputs": [{"name": "order_number", "required": True}],
}


@pytest.fixture
def tool() -> Iterator[BaseTool]:
    with ApiActionsToolkit(actions=[ACTION]) as tk:
        yield tk.get_tools()[0]


@contextmanager
def debug() -> Iterator[None]:
    set_debug(True)
    try:
        yield
    finally:
        set_debug(False)


@contextmanager
def run_tree() -> Iterator[None]:
    with tracing_context(parent=RunTree(name="outer", run_type="chain"), enabled=False):
        yield


LISTENERS: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "set_debug(True)": debug,
    "tracing_context(enabled=True)": lambda: tracing_context(enabled=True),
    "a LangSmith run tree": run_tree,
    "LangSmith tags": lambda: tracing_context(tags=["t"]),
    "LangSmith metadata": lambda: tracing_context(metadata={"k": "v"}),
    "collect_runs()": collect_runs,
    "get_usage_metadata_callback()": get_usage_metadata_callback,
}


def test_nobody_listens_to_a_plain_call(tool: BaseTool) -> None:
    assert nobody_listens(tool, None, None)
    assert nobody_listens(tool, [], False)
    assert nobody_listens(tool, CallbackManager(handlers=[]), None)


@pytest.mark.parametrize("name", LISTENERS)
def test_a_context_that_may_add_a_handler_is_listening(tool: BaseTool, name: str) -> None:
    with LISTENERS[name]():
        assert not nobody_listens(tool, None, None)
    assert nobody_listens(tool, None, None)


def test_handlers_passed_or_on_the_tool_or_verbose_are_listening(tool: BaseTool) -> None:
    handler = BaseCallbackHandler()
    assert not nobody_listens(tool, [handler], None)
    assert not nobody_listens(tool, CallbackManager(handlers=[handler]), None)
    inherited = CallbackManager(handlers=[], inheritable_handlers=[handler])
    assert not nobody_listens(tool, inherited, None)
    assert not nobody_listens(tool, None, True)
    assert not nobody_listens(tool.model_copy(update={"callbacks": [handler]}), None, None)
    assert not nobody_listens(tool.model_copy(update={"verbose": True}), None, None)


@pytest.mark.parametrize("variable", ["LANGCHAIN_TRACING", "LANGCHAIN_HANDLER"])
def test_v1_tracing_takes_langchains_path_and_its_error(
    tool: BaseTool, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "true")
    assert not nobody_listens(tool, None, None)
    with pytest.raises(RuntimeError, match="LANGCHAIN_TRACING_V2"):
        tool.invoke({"order_number": "1"})


# LangChain's own tools through `run_quietly`: the same results and errors as `run`.


class Args(BaseModel):
    n: int


def _failing(n: int) -> str:
    if n < 0:
        raise ToolException(f"negative: {n}")
    if n == 0:
        raise ValueError("zero")
    return f"got {n}"


def _pair(n: int) -> Any:
    return (f"content {n}", {"n": n}) if n > 0 else "not a pair"


HANDLERS: list[Any] = [False, True, "handled", lambda e: f"from handler: {type(e).__name__}"]


def _outcome(run: Callable[[], Any]) -> Any:
    try:
        return ("returned", run())
    except Exception as e:
        return ("raised", type(e), str(e))


@pytest.mark.parametrize("handler", HANDLERS, ids=repr)
@pytest.mark.parametrize(
    "given",
    [
        {"n": 3},
        {"n": -1},  # ToolException: handle_tool_error
        {"n": 0},  # another error: raised as is
        {"n": "x"},  # ValidationError: handle_validation_error
        {"name": "failing", "args": {"n": 3}, "id": "c1", "type": "tool_call"},
        {"name": "failing", "args": {"n": -1}, "id": "c2", "type": "tool_call"},
        {"name": "failing", "args": {"n": "x"}, "id": "c3", "type": "tool_call"},
    ],
)
def test_run_quietly_returns_and_raises_what_run_does(handler: Any, given: Any) -> None:
    tool = StructuredTool.from_function(
        _failing,
        name="failing",
        description="fails on demand",
        args_schema=Args,
        handle_tool_error=handler,
        handle_validation_error=handler,
    )
    tool_input = given.get("args", given)
    call_id = given.get("id")
    assert _outcome(lambda: run_quietly(tool, dict(tool_input), None, call_id)) == _outcome(
        lambda: tool.run(dict(tool_input), tool_call_id=call_id)
    )


@pytest.mark.parametrize("n", [2, -2])
def test_run_quietly_checks_content_and_artifact_as_run_does(n: int) -> None:
    tool = StructuredTool.from_function(
        _pair, name="pair", description="a pair", response_format="content_and_artifact"
    )
    quiet = _outcome(lambda: run_quietly(tool, {"n": n}, None, "c1"))
    assert quiet == _outcome(lambda: tool.run({"n": n}, tool_call_id="c1"))
    if n < 0:
        assert quiet[1] is ValueError
    else:
        assert quiet[1].artifact == {"n": 2}


def test_validation_error_is_pydantics() -> None:
    tool = StructuredTool.from_function(_failing, name="failing", description="d", args_schema=Args)
    with pytest.raises(ValidationError):
        run_quietly(tool, {"n": "x"}, None, None)
