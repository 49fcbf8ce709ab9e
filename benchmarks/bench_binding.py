"""Row 3d: one agent turn with 1,000 tools bound vs 10, on a fixed-reply model.

`create_agent` binds the tools again on every model call, and a provider's `bind_tools`
converts each tool there (`convert_to_openai_tool`). The model here does what a provider
does in `bind_tools` (converts each tool and binds the list) and nothing else: it always
calls the order action, then answers. The first row is `create_api_actions_agent`; the
second is LangChain's plain `create_agent` with the same tools, the cost without the
cached schemas.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions import ApiActionsToolkit, create_api_actions_agent
from langchain_apiactions.importers import from_openapi

KUBERNETES = Path(__file__).parent.parent / "tests" / "data" / "openapi" / "kubernetes-2.0.json.gz"

Interleaved = Callable[..., tuple[list[float], list[float]]]
Row = Callable[[str, str, str, "float | str", str], None]


def kubernetes_fillers() -> list[dict[str, Any]]:
    """The actions of the Kubernetes import that need no credential (1,000 and more)."""
    spec = json.loads(gzip.decompress(KUBERNETES.read_bytes()))
    imported = from_openapi(spec, base_url="https://k8s.example.com")
    actions: list[dict[str, Any]] = imported["actions"]
    return [a for a in actions if not a.get("auth")]


class FixedReplyModel(BaseChatModel):
    """Binds as a provider does; calls `Order_Status` once, then says it is done."""

    @property
    def _llm_type(self) -> str:
        return "fixed-reply"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools])

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        if messages[-1].type == "tool":
            message = AIMessage(content="done")
        else:
            call = {"name": "Order_Status", "args": {"order_number": "12345"}, "id": "c1"}
            message = AIMessage(content="", tool_calls=[{**call, "type": "tool_call"}])
        return ChatResult(generations=[ChatGeneration(message=message)])


def agent_turns(question: str) -> Callable[[Any], Callable[[], Any]]:
    """`turn(agent)`: one timed visitor turn of `agent` asking `question` (model, tool,
    model), each on a new thread, checked to have called the tool."""
    payload = {"messages": [{"role": "user", "content": question}]}
    counter = iter(range(10**9))

    def turn(agent: Any) -> Callable[[], Any]:
        def run() -> Any:
            out = agent.invoke(payload, {"configurable": {"thread_id": f"t{next(counter)}"}})
            assert out["messages"][2].type == "tool", out["messages"]
            return out

        return run

    return turn


def bench_binding(
    order: dict[str, Any],
    fillers: list[dict[str, Any]],
    n: int,
    interleaved: Interleaved,
    row: Row,
) -> None:
    """`order` is the action the model calls; `fillers` (999 or more) fill the catalogue."""
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver

    networks = ["127.0.0.0/8"]
    # The 10 are a sample of the same 1,000 (every 111th): like the 1,000, some of them
    # change data and ask for confirmation, so both agents have the same steps (the
    # confirmation check after each model call) and only the number of tools differs.
    sample = [fillers[i] for i in range(0, 999, 111)]
    assert any(a.get("confirm") for a in sample)
    small = ApiActionsToolkit(actions=[order, *sample], allowed_networks=networks)
    large = ApiActionsToolkit(actions=[order, *fillers[:999]], allowed_networks=networks)
    question = "What is the status of order 12345?"
    turn = agent_turns(question)

    def measure(
        label: str, many: Any, few: Any, target: str, reps: int = n, blocks: int = 3
    ) -> tuple[float, float]:
        for _ in range(3 if blocks > 1 else 1):
            turn(many)()
            turn(few)()
        ratios = []
        for _ in range(blocks):
            ta, tb = interleaved(turn(many), turn(few), reps)
            m_many, m_few = statistics.median(ta), statistics.median(tb)
            ratios.append(m_many / m_few)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        row(f"{label}; blocks {spread}",
            f"{m_many * 1000:.2f} ms", f"{m_few * 1000:.2f} ms", statistics.median(ratios), target)  # fmt: skip
        ta, tb = interleaved(turn(many), turn(few), reps, clock=time.process_time)
        c_many, c_few = statistics.median(ta), statistics.median(tb)
        row(f"{label}, CPU time",
            f"{c_many * 1000:.2f} ms", f"{c_few * 1000:.2f} ms", c_many / c_few, target)  # fmt: skip
        return c_many, c_few

    model = FixedReplyModel()
    many = create_api_actions_agent(model, large, checkpointer=InMemorySaver())
    few = create_api_actions_agent(model, small, checkpointer=InMemorySaver())
    t_many, t_few = measure("3d. agent turn, 1,000 tools bound vs 10 (fixed-reply model)",
                            many, few, "<= 1.2")  # fmt: skip

    # What the model itself does with the tools in a turn: its `bind_tools` and `invoke`
    # with the bound list, twice (the agent calls it twice), given the tools as the agent
    # gives them (each one's schema, converted once).
    def model_alone(toolkit: ApiActionsToolkit) -> Callable[[], Any]:
        tools = [convert_to_openai_tool(t) for t in toolkit.get_tools()]
        messages = [{"role": "user", "content": question}]

        def run() -> None:
            for _ in range(2):
                model.bind_tools(tools).invoke(messages)

        return run

    ta, tb = interleaved(model_alone(large), model_alone(small), n * 3, clock=time.process_time)
    o_many, o_few = statistics.median(ta), statistics.median(tb)
    row("3d. ... CPU time without what the model itself does with the tools (bind_tools + invoke)",
        f"{(t_many - o_many) * 1000:.2f} ms", f"{(t_few - o_few) * 1000:.2f} ms",
        (t_many - o_many) / (t_few - o_few), "<= 1.2")  # fmt: skip
    measure(
        "3d'. the same with plain create_agent (schemas converted every call)",
        create_agent(model, large.get_tools(), checkpointer=InMemorySaver()),
        create_agent(model, small.get_tools(), checkpointer=InMemorySaver()),
        "(reported)",
        reps=3,
        blocks=1,
    )
    small.close()
    large.close()
