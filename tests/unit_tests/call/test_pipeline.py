"""The call pipeline's steps, each on its typed contract (no sockets: `send` is covered by
the integration tests)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.tools import StructuredTool

from langchain_apiactions import ApiActionsToolkit, SessionStore
from langchain_apiactions.call import Arguments, CallInput, CallOutcome, CallPipeline, Claim
from langchain_apiactions.errors import (
    AlreadyRanError,
    ArgumentError,
    ArgumentsRefusedError,
    MissingContextError,
    NotConfirmedError,
)
from langchain_apiactions.network import HttpResult
from langchain_apiactions.request import RenderedRequest
from langchain_apiactions.result import Interpretation
from langchain_apiactions.tool import ApiActionTool

KEY = "sk-live-pipeline-5d4c3b2a"
TOKEN = "ctx-token-9e8d7c6b5a"

ACTIONS = """
- name: Lookup
  when_to_use: Look up an order.
  method: POST
  url: "https://api.example.com/shops/{context.shop}/orders/{order}?key=${KEY}&n={n}"
  inputs:
    - {name: order, required: true}
    - {name: n, type: number}
    - {name: day, type: date}
  headers: {X-Shop: "{context.shop}", X-User: "${context.token}"}
  body: {order: "{order}", shop: "{context.shop}", day: "{day}"}
  response_fields: [{name: status, path: order.status}]
  button: {label: "Track {order}", url: "https://track.example/{order}"}
- name: Once
  when_to_use: Subscribe once.
  method: POST
  url: https://api.example.com/subscribe
  once_per_session: true
- name: Basic
  when_to_use: Basic auth.
  method: GET
  url: https://api.example.com/me
  auth: {type: basic, username: "${KEY}", password: ""}
- name: OAuth
  when_to_use: OAuth2.
  method: GET
  url: https://api.example.com/me
  auth: {type: oauth2, token_url: "https://auth.example.com/t", client_id: "${KEY}",
         client_secret: "${KEY}"}
"""
CONTEXT = {"shop": "north-shop", "token": TOKEN}


@pytest.fixture
def toolkit() -> Iterator[ApiActionsToolkit]:
    with ApiActionsToolkit(actions=ACTIONS, env={"KEY": KEY}, session_store=SessionStore()) as tk:
        yield tk


def pipeline(tk: ApiActionsToolkit, name: str) -> CallPipeline:
    return tk.get_tool(name).pipeline


def test_the_tool_is_a_structured_tool_whose_func_runs_the_pipeline(
    toolkit: ApiActionsToolkit,
) -> None:
    tool = toolkit.get_tool("Lookup")
    assert isinstance(tool, StructuredTool) and isinstance(tool, ApiActionTool)
    assert tool.func is not None and tool.coroutine is not None
    # The model reads the JSON schema; the pipeline validates with the pydantic model.
    assert tool.args_schema == tool.pipeline.json_schema
    assert tool.pipeline.args_schema.model_json_schema()["required"] == ["order"]
    # Refused arguments never reach the network: func returns their outcome.
    content, artifact = tool.func(n="many")
    assert artifact["ok"] is False and artifact["error_kind"] == "invalid_argument"
    assert artifact["request"] is None
    assert content.startswith("The arguments could not be used: order: is required")


def test_parse_validates_and_keeps_only_what_the_model_gave(toolkit: ApiActionsToolkit) -> None:
    p = pipeline(toolkit, "Lookup")
    args = p.parse({"order": 12345, "day": "2026-03-15", "unknown": "x"})
    assert isinstance(args, Arguments)
    assert dict(args.values) == {"order": "12345", "day": dt.date(2026, 3, 15)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.values = {}  # type: ignore[misc]
    assert dict(p.parse("A-1").values) == {"order": "A-1"}  # a bare string: the first input
    with pytest.raises(ArgumentsRefusedError) as refused:
        p.parse({"n": "many"})
    assert refused.value.kind == "invalid_argument"
    assert refused.value.problems == [
        ("order", "is required"),
        ("n", 'should be a number (got "many")'),
    ]


def test_render_makes_the_sent_and_shown_request_in_one_pass(toolkit: ApiActionsToolkit) -> None:
    p = pipeline(toolkit, "Lookup")
    args = p.parse({"order": "A/1", "n": 2.0, "day": "2026-03-15"})
    req = p.render(args, "s1", CONTEXT)
    assert isinstance(req, RenderedRequest)
    assert req.url == f"https://api.example.com/shops/north-shop/orders/A%2F1?key={KEY}&n=2"
    assert req.display_url == (
        "https://api.example.com/shops/{context.shop}/orders/A%2F1?key=***&n=2"
    )
    assert req.headers["X-Shop"] == "north-shop" and req.headers["X-User"] == TOKEN
    assert req.display_headers["X-Shop"] == "{context.shop}"
    assert req.display_headers["X-User"] == "***"
    assert json.loads(req.body or b"") == {
        "order": "A/1",
        "shop": "north-shop",
        "day": "2026-03-15",
    }
    assert req.display_body is not None
    assert json.loads(req.display_body) == {
        "order": "A/1",
        "shop": "{context.shop}",
        "day": "2026-03-15",
    }
    shown = req.display_url + json.dumps(dict(req.display_headers)) + req.display_body
    assert "north-shop" not in shown and TOKEN not in shown and KEY not in shown
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.url = "https://elsewhere.example/"  # type: ignore[misc]
    with pytest.raises(MissingContextError) as missing:
        p.render(args, "s1", {"shop": "north-shop"})
    assert missing.value.kind == "missing_context"
    with pytest.raises(ArgumentError) as bad:
        p.render(p.parse({"order": ".."}), "s1", CONTEXT)
    assert bad.value.kind == "invalid_argument"


def test_a_credential_is_put_on_both_forms_by_one_step(toolkit: ApiActionsToolkit) -> None:
    req = pipeline(toolkit, "Basic").render(Arguments({}))
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert req.display_headers["Authorization"] == "Basic ***"
    # An OAuth2 token is not known before sending: shown, not sent.
    req = pipeline(toolkit, "OAuth").render(Arguments({}))
    assert "Authorization" not in req.headers
    assert req.display_headers["Authorization"] == "Bearer ***"


def test_the_auth_flow_yields_one_retry_after_a_401(toolkit: ApiActionsToolkit) -> None:
    p = pipeline(toolkit, "OAuth")
    auth = p.action.compiled.auth
    assert auth is not None
    asked: list[str | None] = []

    def tokens(rejected: str | None) -> str:
        asked.append(rejected)
        return f"token-{len(asked)}-abcdef"

    request = p.render(Arguments({}))
    flow = auth.auth_flow(request, toolkit.runtime.secrets, tokens)
    first = next(flow)
    assert first.headers["Authorization"] == "Bearer token-1-abcdef"
    assert first.display_headers["Authorization"] == "Bearer ***"
    second = flow.send(401)
    assert second.headers["Authorization"] == "Bearer token-2-abcdef"
    assert asked == [None, "token-1-abcdef"]
    with pytest.raises(StopIteration):
        flow.send(401)  # one retry only
    # A credential known at render time: the flow yields the request as it is.
    basic = pipeline(toolkit, "Basic")
    assert basic.action.compiled.auth is not None
    rendered = basic.render(Arguments({}))
    flow = basic.action.compiled.auth.auth_flow(rendered, toolkit.runtime.secrets, tokens)
    assert next(flow) is rendered
    with pytest.raises(StopIteration):
        flow.send(401)


def test_claim_and_settle(toolkit: ApiActionsToolkit) -> None:
    once = pipeline(toolkit, "Once")
    assert pipeline(toolkit, "Lookup").claim("s1") == Claim("s1", held=False)
    claim = once.claim("s1")
    assert claim == Claim("s1", held=True)
    with pytest.raises(AlreadyRanError) as ran:
        once.claim("s1")
    assert ran.value.kind == "already_ran"
    once.settle(claim, HttpResult(status=500))  # an error status releases it
    claim = once.claim("s1")
    once.settle(claim, HttpResult(error="timeout", error_kind="outcome_unknown", maybe_sent=True))
    with pytest.raises(AlreadyRanError):
        once.claim("s1")  # an unknown outcome uses it up


@pytest.mark.parametrize(
    ("http", "kind"),
    [
        (HttpResult(error="timeout: x", error_kind="not_sent_timeout"), "not_sent_timeout"),
        (HttpResult(error="timeout: x", error_kind="outcome_unknown"), "outcome_unknown"),
        (HttpResult(status=404, body=b'{"message": "no such order"}'), "http_status"),
        (HttpResult(status=200, body=b"<html>hi</html>"), "bad_body"),
        (HttpResult(status=200, body=b'{"order": {"status": "Shipped"}}'), None),
    ],
)
def test_interpret_says_why_with_a_kind(
    toolkit: ApiActionsToolkit, http: HttpResult, kind: str | None
) -> None:
    found = pipeline(toolkit, "Lookup").interpret(http)
    assert isinstance(found, Interpretation)
    assert found.error_kind == kind and found.ok is (kind is None)


def test_the_outcome_step_masks_once_then_cuts(toolkit: ApiActionsToolkit) -> None:
    p = pipeline(toolkit, "Lookup")
    request = p.render(p.parse({"order": "A1"}), "s1", CONTEXT)
    echo = "x" * 296 + KEY + TOKEN  # the secrets straddle the 300-character cut
    found = p.interpret(HttpResult(status=400, body=json.dumps({"message": echo}).encode()))
    assert found.error is not None and found.error.quoted == echo  # nothing masked yet
    outcome = p.outcome(found, request, HttpResult(status=400, elapsed_ms=1.5))
    assert isinstance(outcome, CallOutcome)
    art = outcome.artifact
    # Masked first, then cut: the cut falls inside `***`, never inside a secret.
    assert art["error"] == "HTTP 400 Bad Request: " + "x" * 296 + "****…"
    assert art["error_kind"] == "http_status" and art["status_code"] == 400
    assert art["request"] == {
        "method": "POST",
        "url": "https://api.example.com/shops/{context.shop}/orders/A1?key=***",
        "elapsed_ms": 1.5,
    }
    text = outcome.content + json.dumps(art)
    assert KEY not in text and TOKEN not in text and KEY[:12] not in text
    ok = p.outcome(
        p.interpret(HttpResult(status=200, body=json.dumps({"order": {"status": KEY}}).encode())),
        request,
        HttpResult(status=200),
    )
    assert ok.artifact["data"] == {"status": "***"} and ok.artifact["error_kind"] is None
    assert ok.artifact["button"] == {"label": "Track A1", "url": "https://track.example/A1"}


def test_a_call_stopped_before_sending_has_its_kind(toolkit: ApiActionsToolkit) -> None:
    p = pipeline(toolkit, "Lookup")
    cases: list[tuple[Any, str, str]] = [
        (AlreadyRanError(), "already_ran", "it already ran in this session (once per session)"),
        (NotConfirmedError(), "not_confirmed", "not confirmed by the user; nothing was sent"),
        (MissingContextError(["shop"]), "missing_context", "missing trusted context"),
    ]
    for error, kind, text in cases:
        art = p.stopped(error).artifact
        assert art["error_kind"] == kind and art["ok"] is False
        assert str(art["error"]).startswith(text) and art["request"] is None
        assert art["skipped"] is (kind == "already_ran")
    refused = p.run(CallInput({"n": 1}, "s1", CONTEXT))
    assert refused.status == "error" and refused.response is None
    assert refused.artifact["error"] == "invalid argument: order: is required"
