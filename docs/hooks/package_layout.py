"""The package layout table, written from the modules themselves at build time.

One row per module of `langchain_apiactions`, with the first paragraph of its docstring, read
with `ast` (nothing is imported), so the table follows every move and rename.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "langchain_apiactions"


def modules(root: Path = PACKAGE) -> list[tuple[str, str]]:
    """`(dotted name, first docstring paragraph)` of every module, packages first."""
    rows = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-1].startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first = doc.strip().split("\n\n", 1)[0]  # the first paragraph, on one line
        rows.append((".".join(parts), " ".join(first.split())))
    return rows


def render(root: Path = PACKAGE) -> str:
    """The table as Markdown."""
    lines = ["| module | what it is |", "|---|---|"]
    for name, doc in modules(root):
        lines.append(f"| `{name}` | {doc.replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"
