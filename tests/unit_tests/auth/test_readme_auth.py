"""The `auth` examples of docs/authentication.md validate, and send what the page says."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from langchain_apiactions import ApiActionsToolkit
from langchain_apiactions.config import check_actions
from tests.docs_snippets import snippet

BLOCKS = [snippet(name).text for name in ("auth-api-key", "auth-basic", "auth-oauth2")]
ENV = {
    "SHOPIFY_TOKEN": "shpat_1a2b3c4d5e6f",
    "ZENDESK_USER": "agent@example.com/token",
    "ZENDESK_API_TOKEN": "zd-api-token-9f8e7d",
    "BILLING_CLIENT_ID": "billing-client-6a5b4c",
    "BILLING_CLIENT_SECRET": "billing-secret-3d2e1f",
}


def test_the_section_has_the_three_examples() -> None:
    assert len(BLOCKS) == 3
    assert "X-Shopify-Access-Token" in BLOCKS[0]
    assert "type: basic" in BLOCKS[1]
    assert "oauth2_client_credentials" in BLOCKS[2]


@pytest.mark.parametrize("block", BLOCKS, ids=["api_key", "basic", "oauth2"])
def test_readme_auth_example_validates_cleanly(block: str) -> None:
    report = check_actions(block)
    assert report.errors == [] and report.warnings == []
    assert len(report.actions) == 1


def test_readme_examples_render_as_documented() -> None:
    shop = ApiActionsToolkit(actions=BLOCKS[0], env=ENV).get_tools()[0]
    p = shop.prepare({"order_id": "1001"})  # type: ignore[attr-defined]
    assert p.headers["X-Shopify-Access-Token"] == "shpat_1a2b3c4d5e6f"
    assert p.display_headers["X-Shopify-Access-Token"] == "***"

    zendesk = ApiActionsToolkit(actions=BLOCKS[1], env=ENV).get_tools()[0]
    p = zendesk.prepare({"subject": "Broken", "details": "It broke"})  # type: ignore[attr-defined]
    expected = base64.b64encode(b"agent@example.com/token:zd-api-token-9f8e7d").decode()
    assert p.headers["Authorization"] == f"Basic {expected}"
    assert p.display_headers["Authorization"] == "Basic ***"

    refund = ApiActionsToolkit(actions=BLOCKS[2], env=ENV).get_tools()[0]
    p = refund.prepare({"order_id": "A&B", "reasons": ["late", "damaged"]})  # type: ignore[attr-defined]
    assert p.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qsl(p.body.decode()) == [
        ("order", "A&B"),
        ("reason", "late"),
        ("reason", "damaged"),
        ("source", "chat"),
    ]
    assert p.display_headers["Authorization"] == "Bearer ***"
