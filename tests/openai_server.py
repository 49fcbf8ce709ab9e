"""An OpenAI-compatible chat-completions server on loopback, scripted per test.

`ChatServer` answers `POST /v1/chat/completions` with whatever its `brain` decides from
the request's messages, and records every request body it received (with the time) so
tests assert on what the model was really sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.apiserver import ApiServer, Recorded, Reply


def completion(
    *, text: str | None = None, call: tuple[str, dict[str, Any]] | None = None, usage: int = 10
) -> dict[str, Any]:
    """A chat.completion body: a text answer, or one tool call."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    if call is not None:
        name, args = call
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": usage, "completion_tokens": 2, "total_tokens": usage + 2},
    }


Brain = Callable[[list[dict[str, Any]], dict[str, Any]], Reply]


@dataclass
class Seen:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class ChatServer:
    brain: Brain
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.server = ApiServer()
        self.server.route("POST", "/v1/chat/completions", self._handle)

    def _handle(self, rec: Recorded) -> Reply:
        body = rec.json
        with self._lock:
            self.seen.append(Seen(body, rec.headers, time.monotonic()))
        if self.delay:
            time.sleep(self.delay)
        return self.brain(body["messages"], body)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    def start(self) -> ChatServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
