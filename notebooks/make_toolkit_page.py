"""Writes docs/langchain_toolkit.ipynb, the LangChain integration page, with no outputs.

It follows the toolkit template of LangChain's integration docs (Overview, Setup,
Instantiation, Tools, Invocation, Use within an agent, API reference) and runs offline:
a demo store API on a free loopback port, and `OfflineChatModel` unless OPENAI_API_KEY is
set. Run: python notebooks/make_toolkit_page.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

PAGE = Path(__file__).resolve().parents[1] / "docs" / "langchain_toolkit.ipynb"

CELLS: list[tuple[str, str]] = [
    ("raw", "---\nsidebar_label: API actions\n---"),
    (
        "md",
        """# ApiActionsToolkit

This will help you get started with the API actions [toolkit](https://python.langchain.com/docs/concepts/tools/#toolkits).
For detailed documentation of all `ApiActionsToolkit` features and configurations head to
the [API reference](api.md#langchain_apiactions.ApiActionsToolkit).

## Overview

`ApiActionsToolkit` turns a YAML (or JSON) file of *API actions* into LangChain tools: each
action (a name, a "when to use" description, a method and URL, the inputs the model
collects from the visitor, headers with secrets, the response fields to extract) is one
tool. The request is made server-side: no value from the conversation can change the
host or the shape of the request, secrets never reach the model, and the model reads only
the fields you asked for, inside `<api_data>`.

### Integration details

| Class | Package | Serializable | JS support | Version |
|---|---|---|---|---|
| `ApiActionsToolkit` | `langchain-apiactions` | no | no | 0.1.0 |

### Tool features

| Returns artifact | Native async | Return data | Pricing |
|---|---|---|---|
| yes (`ActionArtifact`) | yes (`ainvoke` in a worker thread) | the extracted fields, status, error, button, close chat | free: the calls go to your own APIs |

## Setup

The toolkit needs no account. The actions below call a demo store API that ships with
the package; here it starts on a free loopback port (point `url:` at your own API instead).
If you want to get automated tracing from runs of individual tools, you can also set your
[LangSmith](https://docs.smith.langchain.com/) API key by uncommenting below:""",
    ),
    (
        "code",
        """# os.environ["LANGSMITH_API_KEY"] = getpass.getpass("Enter your LangSmith API key: ")
# os.environ["LANGSMITH_TRACING"] = "true\"""",
    ),
    (
        "md",
        """### Installation

This toolkit lives in the `langchain-apiactions` package (the agent below needs its
`agent` extra):""",
    ),
    ("code-skip", "%pip install -qU 'langchain-apiactions[agent]'"),
    (
        "md",
        """### Credentials

A secret is written `${NAME}` in the action file and read from the environment when the
toolkit is built. The demo store wants `Authorization: Bearer <STORE_API_KEY>`:""",
    ),
    (
        "code",
        """import getpass
import os

from langchain_apiactions.cli.demo_server import DemoStoreServer

if not os.environ.get("STORE_API_KEY"):
    os.environ["STORE_API_KEY"] = "demo-store-key"  # or getpass.getpass("STORE_API_KEY: ")
store = DemoStoreServer(os.environ["STORE_API_KEY"]).start()
store.url""",
    ),
    (
        "md",
        """## Instantiation

Now we can instantiate our toolkit from the actions (a path, YAML/JSON text, a dict or a
list). Requests to loopback and private addresses are refused unless you open them:""",
    ),
    (
        "code",
        """from langchain_apiactions import ApiActionsToolkit

ACTIONS = f\"\"\"
actions:
  - name: Check_Order_Status
    when_to_use: Use this action when the visitor asks where their order is or about its status.
    triggered_response: Let me look up your order status right now.
    method: GET
    url: {store.url}/orders/{{order_number}}
    inputs: [{{name: order_number, required: true, description: The visitor's order number}}]
    headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
    response_fields:
      - {{name: status, path: order.status}}
      - {{name: carrier, path: order.tracking.carrier}}
      - {{name: tracking_number, path: order.tracking.number}}
    button: {{label: Track my package, url: "https://track.example.com/{{tracking_number}}"}}
  - name: Search_Products
    when_to_use: Use this action when the visitor looks for a product (shoes, shirts, jackets, bags) or asks whether we have it in stock.
    method: GET
    url: {store.url}/products?search={{product_query}}
    inputs: [{{name: product_query, required: true, description: What the visitor is looking for}}]
    headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
    response_fields: [name, price, availability]
\"\"\"
toolkit = ApiActionsToolkit(actions=ACTIONS, allowed_hosts=["127.0.0.1"])
toolkit""",
    ),
    ("md", "## Tools\n\nView available tools:"),
    ("code", "toolkit.get_tools()"),
    (
        "md",
        "Each tool's name is the action's, its description the `when_to_use` text, verbatim, "
        "and its arguments the inputs:",
    ),
    (
        "code",
        """tool = toolkit.get_tool("Check_Order_Status")
print(tool.description)
tool.args""",
    ),
    (
        "md",
        """## Invocation

### Invoke directly with args

The result is the text the model reads: the outcome, then the API's data inside
`<api_data>`, marked as untrusted.""",
    ),
    ("code", """print(tool.invoke({"order_number": "12345"}))"""),
    (
        "md",
        """### Invoke with ToolCall

Invoked with a model-generated `ToolCall`, the tool returns a `ToolMessage` whose
`artifact` holds everything else for your code and UI (status, data, the button, whether
to close the chat); `ArtifactView` shows it:""",
    ),
    (
        "code",
        """from langchain_apiactions import ArtifactView

model_generated_tool_call = {
    "args": {"order_number": "12345"},
    "id": "call_1",
    "name": tool.name,
    "type": "tool_call",
}
message = tool.invoke(model_generated_tool_call)
print(type(message).__name__, message.artifact["ok"], message.artifact["data"])
ArtifactView(message.artifact)""",
    ),
    (
        "md",
        """## Use within an agent

Any LangChain chat model with tool calling works (`ChatOpenAI` when `OPENAI_API_KEY` is
set); without one, the built-in `OfflineChatModel`, a deterministic lexical stand-in (not
an LLM), picks the tools so this page runs anywhere.""",
    ),
    (
        "code",
        """from langchain.agents import create_agent

from langchain_apiactions import OfflineChatModel

if os.environ.get("OPENAI_API_KEY"):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4.1-mini", temperature=0)
else:
    llm = OfflineChatModel()

agent_executor = create_agent(llm, toolkit.get_tools())""",
    ),
    (
        "code",
        """example_query = "Where is my order #12345?"

events = agent_executor.stream(
    {"messages": [("user", example_query)]},
    stream_mode="values",
)
for event in events:
    event["messages"][-1].pretty_print()""",
    ),
    (
        "md",
        """## Specific to this toolkit

`create_api_actions_agent(llm, toolkit)` builds the same agent with what the action file
asks for: it asks the visitor before a `confirm: true` action (LangGraph's
human-in-the-loop interrupt), hides a `once_per_session` action once it ran, ends the chat
after a `close_chat` action that succeeded, and keeps the conversation per `thread_id`:""",
    ),
    (
        "code",
        """from langchain_apiactions import create_api_actions_agent, last_turn_actions

agent = create_api_actions_agent(llm, toolkit)
config = {"configurable": {"thread_id": "visitor-42"}}
for text in ["Do you have rain jackets?", "Where is my order?", "It's #12345"]:
    result = agent.invoke({"messages": [{"role": "user", "content": text}]}, config)
    print("Visitor:", text)
    print("Bot:    ", result["messages"][-1].content)
[artifact["action"] for artifact in last_turn_actions(result)]""",
    ),
    ("code", "toolkit.close()\nstore.stop()"),
    (
        "md",
        """## API reference

For detailed documentation of all `ApiActionsToolkit` features and configurations head to
the [API reference](api.md#langchain_apiactions.ApiActionsToolkit); the action file's
fields are in [The action file](action-file.md).""",
    ),
]


def build() -> nbformat.NotebookNode:
    """The page, with no outputs."""
    cells = []
    for i, (kind, src) in enumerate(CELLS):
        cell_id = f"cell-{i}"
        if kind == "raw":
            cells.append(new_raw_cell(src, id=cell_id))
        elif kind == "md":
            cells.append(new_markdown_cell(src, id=cell_id))
        else:  # "code-skip": shown, not run by the tests (nbclient's skip-execution tag)
            tags = ["skip-execution"] if kind == "code-skip" else []
            cells.append(new_code_cell(src, id=cell_id, metadata={"tags": tags} if tags else {}))
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def main() -> None:
    nbformat.write(build(), PAGE)


if __name__ == "__main__":
    main()
