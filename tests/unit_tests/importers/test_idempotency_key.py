"""The importer turns a documented `Idempotency-Key` header into `idempotency_key: true`."""

from __future__ import annotations

from langchain_apiactions.config import check_actions
from langchain_apiactions.importers import from_openapi, import_openapi

# The shape Stripe's published document uses for its POST operations.
DOC = {
    "openapi": "3.0.0",
    "info": {"title": "Payments", "version": "1"},
    "servers": [{"url": "https://api.payments.example"}],
    "paths": {
        "/v1/refunds": {
            "post": {
                "operationId": "PostRefunds",
                "summary": "Create a refund for a charge",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                    },
                    {
                        "name": "X-Trace",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"charge": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def test_a_documented_idempotency_key_header_is_sent_by_the_library() -> None:
    (action,) = from_openapi(DOC)["actions"]
    assert action["idempotency_key"] is True
    assert [i["name"] for i in action["inputs"]] == ["X_Trace", "charge"]
    assert "Idempotency-Key" not in action["headers"]
    result = import_openapi(DOC)
    assert "idempotency_key: true" in result.to_yaml()
    report = check_actions(result.mapping())
    assert report.errors == []
    assert report.actions[0].idempotency_key is not None
    assert report.actions[0].idempotency_key.header == "Idempotency-Key"
