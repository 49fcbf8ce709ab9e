"""The notebooks execute offline, and are committed without outputs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_tuning_trigger_descriptions.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_executes_offline(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    text = "".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )  # fmt: skip
    shown = "".join(
        str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )  # fmt: skip
    if path.name.startswith("01"):
        assert "Shipped" in text and "Bot:" in text
        # the toolkit, the tool and the artifact display as HTML, secrets masked
        assert "ApiActionsToolkit: 1 action" in shown and "✓ ok, HTTP 200" in shown
        assert "<th>input</th>" in shown and "Track my package" in shown
        assert "demo-key" not in shown + text
    else:
        assert "cases whose choice changed" in text
        images = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if "image/png" in o.get("data", {})
        ]
        assert len(images) == 2  # the two confusion matrices
    assert os.environ.get("OPENAI_API_KEY") is None


TOOLKIT_PAGE = Path(__file__).resolve().parents[2] / "docs" / "langchain_toolkit.ipynb"
# LangChain's integration toolkit template, in its order.
TEMPLATE = [
    "# ApiActionsToolkit",
    "## Overview",
    "### Integration details",
    "### Tool features",
    "## Setup",
    "### Installation",
    "### Credentials",
    "## Instantiation",
    "## Tools",
    "## Invocation",
    "### Invoke directly with args",
    "### Invoke with ToolCall",
    "## Use within an agent",
    "## Specific to this toolkit",
    "## API reference",
]


def test_the_langchain_toolkit_page_is_what_its_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_toolkit_page", TOOLKIT_PAGE.parents[1] / "notebooks" / "make_toolkit_page.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert nbformat.writes(generator.build()) + "\n" == TOOLKIT_PAGE.read_text(encoding="utf-8")


def test_the_langchain_toolkit_page_follows_the_template_and_runs_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    nb = nbformat.read(TOOLKIT_PAGE, as_version=4)
    headings = [
        line
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("#")
    ]
    assert headings == TEMPLATE
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    # Only the install cell is shown and not run (nbclient's skip-execution tag).
    skipped = [c.source for c in code if "skip-execution" in c.metadata.get("tags", [])]
    assert skipped == ["%pip install -qU 'langchain-apiactions[agent]'"]
    NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(TOOLKIT_PAGE.parent)}},
    ).execute()
    outputs = [o for c in code for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    text = "".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "ApiActionTool(Check_Order_Status: GET http://127.0.0.1:" in text  # get_tools()
    assert '<api_data>{"status": "Shipped", "carrier": "UPS"' in text  # invoke with args
    assert "ToolMessage True" in text and "ArtifactView(Check_Order_Status: ✓ ok" in text
    assert "Tool Calls:\n  Check_Order_Status" in text  # create_agent picked the tool
    assert "status: Shipped" in text and "['Check_Order_Status']" in text
    assert "Let me search the catalog" not in text and "jackets" in text.lower()
    assert "ApiActionsToolkit: 2 actions" in html and "✓ ok, HTTP 200" in html
    assert "demo-store-key" not in text + html  # the key, never shown
