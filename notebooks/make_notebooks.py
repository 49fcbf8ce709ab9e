"""Writes the notebooks from this script, with no outputs (run: python notebooks/make_notebooks.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent


def write(name: str, cells: list[tuple[str, str]]) -> None:
    # Cell ids from the position, so regenerating an unchanged notebook changes nothing.
    nb = new_notebook(
        cells=[
            (new_markdown_cell if kind == "md" else new_code_cell)(src, id=f"cell-{i}")
            for i, (kind, src) in enumerate(cells)
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, HERE / name)


QUICKSTART = [
    (
        "md",
        """# langchain-apiactions: quickstart

Write an API action, compile it into a LangChain tool, look at what the model sees, call
it against the bundled demo store API, then chat with an agent. Everything runs offline:
the agent uses `OfflineChatModel` (a deterministic stand-in, **not an LLM**) unless
`OPENAI_API_KEY` is set.""",
    ),
    (
        "code",
        """import json
import os

from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions import (
    ApiActionsToolkit,
    ArtifactView,
    OfflineChatModel,
    create_api_actions_agent,
)
from langchain_apiactions.cli.demo_server import DemoStoreServer

# The demo store API, on a free loopback port. It wants `Authorization: Bearer demo-key`.
server = DemoStoreServer("demo-key").start()
os.environ["STORE_API_KEY"] = "demo-key"
server.url""",
    ),
    ("md", "## 1. An action\n\nThe same fields as a chatbot product's *Call API Request* action."),
    (
        "code",
        """ACTIONS = f\"\"\"
actions:
  - name: Check_Order_Status
    when_to_use: >
      Use this action when the visitor asks about the status of their order, wants to
      track a shipment, or asks where their order is.
    triggered_response: Let me look up your order status right now.
    method: GET
    url: {server.url}/orders/{{order_number}}
    inputs:
      - name: order_number
        description: The visitor's order number or tracking number
        required: true
    headers:
      Authorization: Bearer ${{STORE_API_KEY}}
    response_fields:
      - {{name: status, path: order.status}}
      - {{name: carrier, path: order.tracking.carrier}}
      - {{name: tracking_number, path: order.tracking.number}}
    button:
      label: Track my package
      url: https://track.example.com/{{tracking_number}}
\"\"\"
# The demo API is on loopback, which the network policy refuses unless opened.
toolkit = ApiActionsToolkit(actions=ACTIONS, allowed_networks=["127.0.0.0/8"])
tool = toolkit.get_tools()[0]
tool""",
    ),
    (
        "md",
        "In a notebook the toolkit shows as a table of its actions (`*` marks a required input), and each tool and each result as a small card; secrets show as `${NAME}` or `***`, never their value.",
    ),
    ("code", "toolkit"),
    (
        "md",
        "## 2. What the model sees\n\nThe tool's name, its description (`when_to_use`, verbatim) and the argument schema.",
    ),
    ("code", "print(json.dumps(convert_to_openai_tool(tool), indent=2))"),
    (
        "md",
        "## 3. Call it\n\nInvoked as a model's tool call, it returns a `ToolMessage`: short text for the model, and an artifact for your code.",
    ),
    (
        "code",
        """msg = tool.invoke({"name": tool.name, "args": {"order_number": "12345"}, "id": "call_1", "type": "tool_call"})
print(msg.content)""",
    ),
    (
        "code",
        """print(json.dumps(msg.artifact, indent=2))
assert msg.artifact["data"]["status"] == "Shipped"
assert "demo-key" not in json.dumps(msg.artifact)  # secrets are masked""",
    ),
    (
        "md",
        "`ArtifactView` shows the same artifact for people: status, request line, data, button, close chat.",
    ),
    ("code", "ArtifactView(msg.artifact)"),
    ("md", "## 4. Chat with the agent"),
    (
        "code",
        """if os.environ.get("OPENAI_API_KEY"):
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model="gpt-4.1-mini", temperature=0)
else:
    model = OfflineChatModel()
agent = create_api_actions_agent(model, toolkit)
config = {"configurable": {"thread_id": "notebook-visitor"}}
for text in ["Hi! Where is my order?", "It's #12345"]:
    result = agent.invoke({"messages": [{"role": "user", "content": text}]}, config)
    print("Visitor:", text)
    print("Bot:    ", result["messages"][-1].content)""",
    ),
    ("code", "toolkit.close()\nserver.stop()"),
]

CASES = """[
    {"utterance": "Where is my order #12345?", "expect": "Check_Order_Status", "args": {"order_number": "12345"}},
    {"utterance": "Has my package shipped yet? Order #555", "expect": "Check_Order_Status"},
    {"utterance": "When will my delivery arrive? It's order #777", "expect": "Check_Order_Status"},
    {"turns": ["Where is my order?", "It's #4521"], "expect": "Check_Order_Status", "args": {"order_number": "4521"}},
    {"utterance": "Do you sell running shoes?", "expect": "Search_Products"},
    {"utterance": "Do you have rain jackets in stock?", "expect": "Search_Products"},
    {"utterance": "How much are the trail shoes?", "expect": "Search_Products"},
    {"utterance": "My package arrived damaged, my email is ana@example.com", "expect": "Create_Support_Ticket"},
    {"utterance": "I got the wrong item and want a refund. Email: bo@x.io", "expect": "Create_Support_Ticket"},
    {"utterance": "Please sign me up for the newsletter, bo@x.io", "expect": "Subscribe_Newsletter", "args": {"email": "bo@x.io"}},
    {"utterance": "I'd like to get discount emails: cy@z.org", "expect": "Subscribe_Newsletter"},
    {"utterance": "Cancel order #12345 please", "expect": "Cancel_Order", "args": {"order_number": "12345"}},
    {"utterance": "What's the weather tomorrow?", "expect": "none"},
    {"utterance": "Tell me a joke", "expect": "none"},
]"""

TUNING = [
    (
        "md",
        """# Tuning trigger descriptions

A model decides which action to call from each action's `when_to_use` text. Instead of
chatting with a widget and guessing, measure: an eval set of visitor utterances with the
action each should trigger, run the way the agent runs them (its system prompt, the same
tools, a simulated visitor who answers the model's questions with the case's `args`; no
API is called), scored as accuracy, per-action precision/recall/F1 and a confusion matrix.

This notebook uses `OfflineChatModel` (lexical matching, not an LLM) so it runs anywhere;
pass any LangChain chat model to `evaluate()` to measure the real thing.""",
    ),
    (
        "code",
        f"""%matplotlib inline

from langchain_apiactions import OfflineChatModel
from langchain_apiactions.cli.demo import store_actions_text
from langchain_apiactions.evaluation import compare_results, evaluate, load_cases

CASES = load_cases({CASES})
model = OfflineChatModel()
len(CASES)""",
    ),
    ("md", "## Version A: descriptions written in a hurry"),
    (
        "code",
        """good = store_actions_text()
hurried = good
for before, after in [
    ("asks whether we sell or have\\n      something (shoes, shirts, jackets, socks, bags), or asks", "or asks"),
    ("a damaged\\n      or broken item, a wrong item, a missing package, a refund request or a complaint,\\n      or", "or"),
    ("Also trigger when the visitor asks about delivery time or shipping status.", ""),
]:
    assert before in hurried, before
    hurried = hurried.replace(before, after)

a = evaluate(hurried, CASES, model, explain=True)
print(a.report(explain=True))""",
    ),
    (
        "md",
        "## The report at a glance\n\nAn `EvalResult` shows itself as the HTML report in a notebook (`_repr_html_`): the summary, per-action precision/recall/F1, the confusion heatmap, accuracy per tag and every case.",
    ),
    ("code", "a"),
    (
        "md",
        "## The confusion matrix\n\nRows are the expected action, columns what the model chose; everything off the diagonal is a misfire. `plot()` returns a matplotlib figure.",
    ),
    ("code", """a.plot(title=f"A: accuracy {a.accuracy:.0%}")"""),
    (
        "md",
        "## Version B: the bundled descriptions\n\nThey name the products we sell, the problems that need a person, and delivery questions.",
    ),
    (
        "code",
        """b = evaluate(good, CASES, model)
print(compare_results(a, b))""",
    ),
    ("code", """b.plot(title=f"B: accuracy {b.accuracy:.0%}")"""),
    (
        "md",
        "## Keep it\n\nThe per-action table as plain rows (`result.table()`), the JSON a CI job could keep (`result.to_json()`), and one self-contained HTML page with the A/B diff (`to_html(compare=...)`, what `apiactions eval --html` writes).",
    ),
    (
        "code",
        """from pathlib import Path

for row_a, row_b in zip(a.table(), b.table()):
    print(f"{row_a['action']:<22} F1 {row_a['f1']:.2f} -> {row_b['f1']:.2f}")
assert b.accuracy > a.accuracy
page = Path("tuning_report.html")
page.write_text(a.to_html(compare=b), encoding="utf-8")
print(page, page.stat().st_size, "bytes")
page.unlink()
b.to_json()[:300]""",
    ),
]

if __name__ == "__main__":
    write("01_quickstart.ipynb", QUICKSTART)
    write("02_tuning_trigger_descriptions.ipynb", TUNING)
