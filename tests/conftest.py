from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from apiserver import ApiServer


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the secrets they set; proxies from the machine never apply."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def make_toolkit(text: str, **options: object):  # type: ignore[no-untyped-def]
    """A toolkit over YAML `text`, allowed to reach the loopback test servers only."""
    from langchain_apiactions import ApiActionsToolkit

    options.setdefault("allowed_networks", ["127.0.0.0/8"])
    return ApiActionsToolkit(actions=text, **options)


def call(tool, args: dict, session: str = "s1"):  # type: ignore[no-untyped-def]
    """Invoke `tool` as a model's tool call; returns the ToolMessage."""
    return tool.invoke(
        {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"},
        config={"configurable": {"session_id": session}},
    )
