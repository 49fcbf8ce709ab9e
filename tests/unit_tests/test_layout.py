"""The package's layout: a core that never imports the command line, no import cycles,
no upward imports, a core free of LangChain, no process exits in library code."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import langchain_apiactions

PACKAGE = Path(langchain_apiactions.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
CORE = sorted(m for m in MODULES if m != "langchain_apiactions.cli" and ".cli" not in m)


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:`: read by the type checker, never imported."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for child in node.body:
                skipped |= set(ast.walk(child))
    return skipped


def _imports(name: str) -> set[str]:
    """Package modules `name` imports when it runs (top level, in functions, lazily)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        found |= {t for t in targets if t in MODULES and t != name}
    return found


def _fresh(script: str, env: dict[str, str] | None = None) -> Any:
    """What `script`, run by a fresh interpreter, prints as JSON."""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    return json.loads(proc.stdout)


def _loaded_by(modules: list[str]) -> list[str]:
    """Every module a fresh interpreter holds after importing `modules`."""
    loaded: list[str] = _fresh(
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    return loaded


def test_the_core_never_imports_the_command_line() -> None:
    loaded = _loaded_by(CORE)
    assert "langchain_apiactions.offline_model" in loaded  # every core module really loaded
    assert not [m for m in loaded if m.startswith("langchain_apiactions.cli")]
    # The same, read from the source (lazy imports inside functions included).
    for name in CORE:
        assert not {m for m in _imports(name) if ".cli" in m}, name


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in `graph` (depth-first search), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph.get(node, set())):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def test_the_import_graph_has_no_cycles() -> None:
    # The package `__init__` re-exports the public API; it is the top, not an edge.
    graph = {
        name: _imports(name) - {"langchain_apiactions"}
        for name in MODULES
        if name != "langchain_apiactions"
    }
    assert graph["langchain_apiactions.agent"] >= {"langchain_apiactions.toolkit"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    # The check finds a cycle when there is one.
    assert _cycle({**graph, "langchain_apiactions.errors": {"langchain_apiactions.agent"}})


def test_library_code_never_exits_the_process() -> None:
    for name in CORE:
        source = MODULES[name].read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "SystemExit":
                raise AssertionError(f"{name}:{node.lineno} uses SystemExit")
            if isinstance(node, ast.Attribute) and node.attr in ("exit", "_exit"):
                raise AssertionError(f"{name}:{node.lineno} calls {ast.unparse(node)}")


def test_nothing_changes_the_garbage_collector() -> None:
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert "gc" not in modules, f"{name}:{node.lineno} imports gc"


def test_no_module_imports_a_package_that_contains_it() -> None:
    # A package `__init__` re-exports its modules: a module importing it back (or the
    # top package, the public API) is an upward arrow, and a cycle in waiting.
    for name in MODULES:
        if name.endswith(".__main__"):
            continue  # `python -m` runs the package's entry point
        ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
        if MODULES[name].name == "__init__.py":
            ancestors.discard(name)
        assert not _imports(name) & ancestors, f"{name} imports {_imports(name) & ancestors}"


def test_a_subpackage_init_only_gathers_its_own_modules() -> None:
    for name, path in MODULES.items():
        if path.name != "__init__.py" or name in (
            "langchain_apiactions",
            "langchain_apiactions.cli",
        ):
            continue  # the top package re-exports the API; cli assembles the parser
        outside = {m for m in _imports(name) if not m.startswith(name + ".")}
        assert outside == set(), f"{name} imports {outside}: keep the code in its modules"


def test_the_subpackages_hold_one_concept_per_module() -> None:
    # What issue 20 split: each concept in its own module (the map is in each __init__).
    for package, modules in {
        "network": ["policy", "threads", "transport", "sending"],
        "config": ["models", "aliases", "reading", "checks", "loading"],
        "cli": [
            "options", "validate", "call", "demo", "evaluate", "inspector", "importing",
            "chat", "mcp",
        ],
    }.items():  # fmt: skip
        for module in modules:
            assert f"langchain_apiactions.{package}.{module}" in MODULES
            assert f"`{module}`" in (PACKAGE / package / "__init__.py").read_text()
    for module in ("network", "config"):
        assert MODULES[f"langchain_apiactions.{module}"].name == "__init__.py"


# The core: the file format, templating and HTTP need no LangChain (the file format not
# even the HTTP stack).
FILE_FORMAT = [
    "langchain_apiactions",
    *sorted(m for m in MODULES if m.startswith("langchain_apiactions.config")),
    "langchain_apiactions.errors",
    "langchain_apiactions.templating",
    "langchain_apiactions.extract",
    "langchain_apiactions.auth",
    "langchain_apiactions.numbers",
    "langchain_apiactions.cli",
]
LANGCHAIN_FREE = [
    *FILE_FORMAT[:-1],
    *sorted(m for m in MODULES if m.startswith("langchain_apiactions.network")),
    *sorted(m for m in MODULES if m.startswith("langchain_apiactions.importers")),
    "langchain_apiactions.bodies",
    "langchain_apiactions.oauth2",
    "langchain_apiactions.redact",
    "langchain_apiactions.result",
    "langchain_apiactions.session_store",
]


def test_the_core_needs_no_langchain() -> None:
    loaded = _loaded_by(LANGCHAIN_FREE)
    assert "langchain_apiactions.network.sending" in loaded and "requests" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in ("langchain_core", "langchain", "langgraph")]
    assert heavy == []
    assert not [m for m in loaded if m.startswith("langchain_apiactions.cli")]


def test_loading_and_validating_a_file_needs_no_langchain(tmp_path: Path) -> None:
    path = tmp_path / "actions.yaml"
    path.write_text(
        "actions:\n"
        "  - name: Order\n"
        "    when_to_use: Use when the visitor asks about the status of their order.\n"
        "    method: GET\n"
        "    url: https://api.example.com/orders/{n}\n"
        "    inputs: [{name: n, required: true}]\n"
        "    response_fields: [status]\n"
    )
    script = (
        "import contextlib, io, json, sys\n"
        f"for m in {FILE_FORMAT!r}: __import__(m)\n"
        "from langchain_apiactions import ActionConfigError, ArgumentError, load_actions\n"
        f"assert load_actions({str(path)!r})[0].name == 'Order'\n"
        "from langchain_apiactions.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['validate', {str(path)!r}])\n"
        "print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))"
    )
    code, out, loaded = _fresh(script)
    assert (code, out) == (0, f"{path}: 1 action(s) OK, 0 warning(s)\n")
    heavy = [m for m in loaded if m.split(".")[0] in ("langchain_core", "langchain", "langgraph")]
    assert heavy == []
    assert "requests" not in loaded  # nor the HTTP stack
    # Only the command being run loads its module: no loopback server, no other command.
    commands = {m for m in loaded if m.startswith("langchain_apiactions.cli.")}
    assert commands == {"langchain_apiactions.cli.options", "langchain_apiactions.cli.validate"}
    assert "http.server" not in loaded


def test_help_lists_every_command_and_loads_none() -> None:
    script = (
        "import contextlib, io, json, sys\n"
        "from langchain_apiactions.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try: main(['--help'])\n"
        "    except SystemExit as e: code = e.code\n"
        "print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))"
    )
    # One line per command, however wide the terminal.
    code, out, loaded = _fresh(script, env={**os.environ, "COLUMNS": "200"})
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ")]
    assert listed == ["validate", "call", "demo", "eval", "inspect", "import", "chat", "mcp"]
    assert "    validate  " in out and "check an action file: errors and warnings" in out
    assert {m for m in loaded if m.startswith("langchain_apiactions.cli.")} == {
        "langchain_apiactions.cli.options"
    }
    assert not [m for m in loaded if m.startswith("langchain_apiactions.config")]


def test_an_argument_error_leaves_through_langchain_as_a_tool_exception() -> None:
    from langchain_core.tools import ToolException

    from langchain_apiactions import ApiActionsToolkit, ArgumentError
    from langchain_apiactions.tool import ToolArgumentError

    toolkit = ApiActionsToolkit(
        actions=[
            {
                "name": "Order",
                "when_to_use": "Use when the visitor asks about the status of their order.",
                "method": "GET",
                "url": "https://api.example.com/orders/{n}",
                "inputs": [{"name": "n", "required": True}],
            }
        ]
    )
    with pytest.raises(ToolArgumentError) as caught:
        toolkit.get_tool("Order").prepare({"n": ".."})
    toolkit.close()
    assert isinstance(caught.value, ArgumentError) and isinstance(caught.value, ToolException)
    assert str(caught.value) == "n: the value '..' cannot be used as a URL path segment"
