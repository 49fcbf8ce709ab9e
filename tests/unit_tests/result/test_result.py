"""The artifact type and its one view for people (`ArtifactView`)."""

from __future__ import annotations

from typing import Any

from langchain_apiactions import ActionArtifact, ArtifactView
from langchain_apiactions.result import as_artifact


def artifact(**changes: Any) -> ActionArtifact:
    art: ActionArtifact = {
        "action": "Check_Order",
        "ok": True,
        "status_code": 200,
        "data": {"order.status": "Shipped", "order.carrier": None},
        "missing_fields": ["order.carrier"],
        "error": None,
        "triggered_response": "Let me look.",
        "button": {"label": "Track", "url": "https://t.example/1"},
        "close_chat": False,
        "farewell": None,
        "skipped": False,
        "request": {"method": "GET", "url": "https://api.example/o/1?key=***", "elapsed_ms": 3.25},
    }
    art.update(changes)  # type: ignore[typeddict-item]
    return art


def test_lines_show_every_part_for_a_developer() -> None:
    assert ArtifactView(artifact()).lines() == [
        "→ GET https://api.example/o/1?key=***  ← 200 in 3.2 ms",
        'fields: order.status="Shipped", order.carrier=null',
        "missing: order.carrier",
        "[button] Track -> https://t.example/1",
    ]
    failed = artifact(ok=False, status_code=None, error="timed out after 10 s", data=None)
    failed["missing_fields"] = []
    assert ArtifactView(failed).lines(request=False) == [
        "✗ timed out after 10 s",
        "[button] Track -> https://t.example/1",
    ]
    closing = artifact(button=None, close_chat=True, farewell="Bye!", data="plain text")
    closing["missing_fields"] = []
    assert ArtifactView(closing).lines()[1:] == ["data: plain text", "close chat: Bye!"]


def test_lines_of_a_skipped_call_and_of_an_array_body() -> None:
    skipped = artifact(skipped=True, ok=False, error="it already ran", request=None)
    assert ArtifactView(skipped).lines() == ["↷ Check_Order skipped: it already ran"]
    items = artifact(data={"items": [{"sku": "A"}, {"sku": "B"}], "count": 7}, button=None)
    items["missing_fields"] = []
    assert ArtifactView(items).lines(request=False) == [
        'fields: 7 item(s): [{"sku": "A"}, {"sku": "B"}]'
    ]


def test_reply_tells_the_visitor_in_words() -> None:
    assert ArtifactView(artifact()).reply() == (
        "Let me look. Here is what I found - status: Shipped. I don't have carrier. "
        "[Track](https://t.example/1)"
    )
    failed = artifact(ok=False, error="HTTP 404 Not Found", button=None, triggered_response=None)
    assert ArtifactView(failed).reply() == (
        "Unfortunately I couldn't get that done right now (HTTP 404 Not Found)."
    )
    assert ArtifactView(artifact(skipped=True)).reply() == (
        "I already did that earlier in our conversation."
    )
    items = artifact(data={"items": [{"sku": "A", "n": 2}], "count": 1}, button=None)
    items["missing_fields"] = []
    assert ArtifactView(items).reply() == "Let me look. I found 1 result(s): sku: A, n: 2."


def test_as_artifact_accepts_only_artifacts() -> None:
    art = artifact()
    assert as_artifact(art) is art
    assert as_artifact({"action": "x"}) is None
    assert as_artifact("text") is None
    assert as_artifact(None) is None
