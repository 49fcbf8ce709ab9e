"""The A/B action files the eval tests compare: the bundled store actions, and a copy
whose Search_Products description no longer lists what the store sells."""

from __future__ import annotations

from pathlib import Path

from langchain_apiactions.cli.demo import store_actions_text

NARROW = (
    "asks whether we sell or have\n      something (shoes, shirts, jackets, socks, bags), or asks"
)


def store_ab_files(tmp_path: Path) -> tuple[Path, Path]:
    """`a.yaml` (the store actions) and `b.yaml` (the narrower description) in `tmp_path`."""
    text = store_actions_text()
    assert NARROW in text
    a = tmp_path / "a.yaml"
    a.write_text(text)
    b = tmp_path / "b.yaml"
    b.write_text(text.replace(NARROW, "or asks"))
    return a, b
