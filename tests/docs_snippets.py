"""The fenced code blocks of README.md and docs/*.md, found by the marker before each.

A block is marked by an HTML comment on the line before its opening fence (blank lines
may come between), never by the heading above it, so renaming a section breaks no test:

    <!-- test: quickstart-py, extra: none -->      a test runs it; NAME is unique
    <!-- test: quickstart-output -->               output a test compares (no language)
    <!-- skip-test: REASON -->                     no test can run it as written

`extra` names the extra(s) of pyproject.toml the block needs (`agent+openai`), or `none`;
`check: valid` asks tests/unit_tests/test_docs_snippets.py to load the block as an
action file and find no error and no warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from langchain_apiactions.cli.demo_server import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[1]
DOCS_API = f"http://127.0.0.1:{DEFAULT_PORT}"
"""The demo store API's address as the README and the docs write it. A test never binds
it (the reader's own demo server may be running there): `at_server` points a block at
the test's server instead."""
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>test|skip-test):\s*(?P<body>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its marker."""

    page: str  # relative to the repository: README.md, docs/tool.md
    line: int  # of the opening fence, 1-based
    lang: str
    text: str  # the block's content, indentation of the fence removed, ending in "\n"
    kind: str | None = None  # "test", "skip-test" or None (no marker)
    name: str | None = None
    extras: tuple[str, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """README.md and every Markdown page of the docs site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _marker(line: str, page: str, lineno: int) -> dict[str, str]:
    m = MARKER.match(line)
    assert m is not None
    if m["kind"] == "skip-test":
        return {"kind": "skip-test", "reason": m["body"]}
    name, *pairs = (part.strip() for part in m["body"].split(","))
    found = {"kind": "test", "name": name}
    for pair in pairs:
        key, sep, value = pair.partition(":")
        if not sep:
            msg = f"{page}:{lineno}: marker attribute {pair!r} is not KEY: VALUE"
            raise ValueError(msg)
        found[key.strip()] = value.strip()
    return found


def blocks_of(path: Path) -> list[Block]:
    """Every fenced block of one page, marked or not."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, indent, fence = i, m["indent"], m["fence"]
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i].removeprefix(indent))
            i += 1
        i += 1
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        marker = (
            _marker(lines[prev], page, prev + 1) if prev >= 0 and MARKER.match(lines[prev]) else {}
        )
        extras = marker.pop("extra", "")
        found.append(
            Block(
                page=page,
                line=start + 1,
                lang=m["lang"],
                text="\n".join(body) + "\n",
                kind=marker.pop("kind", None),
                name=marker.pop("name", None),
                extras=tuple(e for e in extras.split("+") if e) if extras else (),
                reason=marker.pop("reason", ""),
                attrs=marker,
            )
        )
    return found


@cache
def all_blocks() -> tuple[Block, ...]:
    return tuple(b for path in pages() for b in blocks_of(path))


def snippet(name: str) -> Block:
    """The one block marked `<!-- test: NAME ... -->` in README.md or docs/."""
    found = [b for b in all_blocks() if b.name == name]
    assert len(found) == 1, f"{len(found)} blocks are marked test: {name}"
    return found[0]


def at_server(text: str, url: str) -> str:
    """`text` (a docs block that names `DOCS_API`) pointed at `url`, a test server on a
    free port; fails when the block no longer names the demo API."""
    assert DOCS_API in text, f"the block no longer names {DOCS_API}"
    return text.replace(DOCS_API, url)
