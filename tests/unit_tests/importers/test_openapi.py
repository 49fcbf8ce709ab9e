"""`from_openapi` on real published documents and on small documents for each rule."""

from __future__ import annotations

import gzip
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from langchain_apiactions.config import check_actions
from langchain_apiactions.errors import ImportSpecError
from langchain_apiactions.importers import from_openapi, import_openapi

DATA = Path(__file__).parents[2] / "data" / "openapi"
REAL = [
    ("swagger-petstore-2.0.yaml", None),
    ("oai-petstore-expanded-3.0.yaml", None),
    ("oai-uspto-3.0.yaml", None),
    ("openapi-core-petstore-3.0.yaml", None),
    ("twilio-verify-v2-3.0.yaml", None),
    ("redocly-museum-3.1.yaml", None),
    ("petstore-3.1.yaml", None),
]


def _actions(mapping: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in mapping["actions"]}


def _inputs(action: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in action.get("inputs", [])}


@pytest.fixture(scope="module")
def kubernetes() -> dict[str, Any]:
    with gzip.open(DATA / "kubernetes-2.0.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.parametrize(("file", "base_url"), REAL)
def test_real_documents_import_to_files_that_validate(file: str, base_url: str | None) -> None:
    result = import_openapi(DATA / file, base_url=base_url)
    text = result.to_yaml()
    report = check_actions(text)
    assert report.errors == []
    assert len(report.actions) == len(result.actions) > 0
    # the commented YAML is exactly the mapping from_openapi returns
    assert yaml.safe_load(text) == from_openapi(DATA / file) == result.mapping()
    for action in result.mapping()["actions"]:
        assert re.fullmatch(r"[A-Za-z0-9_]{1,64}", action["name"])
        assert action["when_to_use"].strip()
        assert action.get("confirm", False) == (action["method"] != "GET")
    names = [a["name"].lower() for a in result.mapping()["actions"]]
    assert len(names) == len(set(names))


def test_swagger_2_petstore_form_body_api_key_and_oauth2() -> None:
    mapping = from_openapi(DATA / "swagger-petstore-2.0.yaml")
    actions = _actions(mapping)
    form = actions["updatePetWithForm"]
    assert form["url"] == "https://petstore.swagger.io/v2/pet/{petId}"
    assert form["body_format"] == "form"
    assert form["body"] == {"name": "{name}", "status": "{status}"}
    assert _inputs(form)["petId"] == {
        "name": "petId",
        "type": "number",
        "description": "ID of pet that needs to be updated",
        "required": True,
    }
    # `in: body` with a $ref to Pet: nested category kept, names made unique
    add = actions["addPet"]
    assert add["body"] == {
        "id": "{id}",
        "category": {"id": "{category_id}", "name": "{category_name}"},
        "name": "{name}",
        "photoUrls": "{photoUrls}",
        "status": "{status}",
    }
    assert _inputs(add)["photoUrls"]["array"] is True
    assert _inputs(add)["name"]["required"] is True
    assert "One of: available, pending, sold." in _inputs(add)["status"]["description"]
    # a multipart upload is not a form body
    assert "body" not in actions["uploadFile"]
    # security: api_key in a header, OAuth2 implicit as a bearer token
    assert actions["getInventory"]["auth"] == {
        "type": "api_key",
        "in": "header",
        "name": "api_key",
        "value": "${SWAGGER_PETSTORE_API_KEY}",
    }
    assert add["auth"] == {"type": "bearer", "token": "${SWAGGER_PETSTORE_ACCESS_TOKEN}"}
    assert "auth" not in actions["loginUser"]  # no security on the operation


def test_openapi_30_allof_merged_and_array_query_parameter() -> None:
    actions = _actions(from_openapi(DATA / "oai-petstore-expanded-3.0.yaml"))
    find = actions["findPets"]
    assert find["url"] == "https://petstore.swagger.io/v2/pets?tags={tags}&limit={limit}"
    assert _inputs(find)["tags"]["array"] is True
    # Pet = allOf [NewPet, {id}]: every property of both
    assert [f["name"] for f in find["response_fields"]] == ["name", "tag", "id"]
    assert actions["addPet"]["body"] == {"name": "{name}", "tag": "{tag}"}
    assert actions["find_pet_by_id"]["url"].endswith("/pets/{id}")


def test_openapi_30_server_variables_and_form_body() -> None:
    actions = _actions(from_openapi(DATA / "oai-uspto-3.0.yaml"))
    search = actions["perform_search"]
    assert search["url"] == "https://developer.uspto.gov/ds-api/{dataset}/{version}/records"
    assert search["body_format"] == "form"
    assert search["body"] == {"criteria": "{criteria}", "start": "{start}", "rows": "{rows}"}
    inputs = _inputs(search)
    assert inputs["criteria"]["required"] is True
    assert inputs["start"] == {
        "name": "start",
        "type": "number",
        "description": "Starting record number. Default value is 0.",
        "default": 0,
    }
    assert "Default: oa_citations." in inputs["dataset"]["description"]
    # a variable's default; --base-url replaces the whole server URL
    other = _actions(from_openapi(DATA / "oai-uspto-3.0.yaml", base_url="http://127.0.0.1:9/x/"))
    assert other["perform_search"]["url"] == "http://127.0.0.1:9/x/{dataset}/{version}/records"


def test_openapi_31_museum_allof_dates_and_shared_basic_auth() -> None:
    mapping = from_openapi(DATA / "redocly-museum-3.1.yaml")
    assert mapping["defaults"] == {
        "auth": {
            "type": "basic",
            "username": "${REDOCLY_MUSEUM_USERNAME}",
            "password": "${REDOCLY_MUSEUM_PASSWORD}",
        }
    }
    actions = _actions(mapping)
    create = actions["createSpecialEvent"]
    assert create["confirm"] is True
    dates = _inputs(create)["dates"]
    assert (dates["type"], dates["array"], dates["required"]) == ("date", True, True)
    events = actions["listSpecialEvents"]
    assert _inputs(events)["startDate"]["type"] == "date"
    assert {"name": "price", "example": 25} in events["response_fields"]


def test_twilio_form_bodies_are_kept() -> None:
    """The peers dropped Twilio's form bodies; every CreateVerification field is here."""
    result = import_openapi(DATA / "twilio-verify-v2-3.0.yaml", operations="CreateVerification")
    (action,) = result.mapping()["actions"]
    assert action["url"] == "https://verify.twilio.com/v2/Services/{ServiceSid}/Verifications"
    assert action["body_format"] == "form"
    assert action["body"]["To"] == "{To}" and action["body"]["Channel"] == "{Channel}"
    inputs = _inputs(action)
    assert inputs["To"]["required"] is True and inputs["Channel"]["required"] is True
    assert len(action["body"]) >= 10
    assert result.mapping()["defaults"]["auth"]["type"] == "basic"
    assert result.warnings == []


def test_large_document_operations_pick_only_those(kubernetes: dict[str, Any]) -> None:
    picked = import_openapi(
        kubernetes,
        operations="listCoreV1NamespacedPod, POST /api/v1/namespaces/{namespace}/pods",
        base_url="https://k8s.example.com",
    )
    assert [a.data["name"] for a in picked.actions] == [
        "listCoreV1NamespacedPod",
        "createCoreV1NamespacedPod",
    ]
    assert not any("chooses badly" in w for w in picked.warnings)
    assert check_actions(picked.to_yaml()).errors == []
    pods = picked.mapping()["actions"][0]
    assert pods["url"].startswith("https://k8s.example.com/api/v1/namespaces/{namespace}/pods?")
    # apiKey in the Authorization header is a bearer token
    assert picked.mapping()["defaults"]["auth"] == {
        "type": "bearer",
        "token": "${KUBERNETES_TOKEN}",
    }


def test_large_document_without_operations_warns(kubernetes: dict[str, Any]) -> None:
    result = import_openapi(kubernetes, base_url="https://k8s.example.com")
    assert len(result.actions) > 1000
    warning = next(w for w in result.warnings if "chooses badly" in w)
    assert "--operations" in warning and "apiactions eval" in warning
    assert "WARNING: " in result.to_yaml().split("actions:")[0]
    assert check_actions(result.mapping(), overlap=False).errors == []


def test_a_document_without_host_asks_for_base_url(kubernetes: dict[str, Any]) -> None:
    with pytest.raises(ImportSpecError, match=r"names no host; pass the API's address"):
        from_openapi(kubernetes, operations="listCoreV1NamespacedPod")


# --------------------------------------------------------------------------- the rules


def _doc(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Shop", "version": "1"},
        "servers": [{"url": "https://api.shop.example/v1"}],
        "paths": paths,
        **extra,
    }


def test_names_made_legal_unique_and_at_most_64() -> None:
    long_id = "get all the orders of a customer, filtered by status & date (paginated) " * 2
    mapping = from_openapi(
        _doc(
            {
                "/a": {"get": {"operationId": long_id, "summary": "List orders of a customer"}},
                "/b": {"get": {"operationId": long_id, "summary": "List other orders"}},
                "/orders/{orderId}/items": {"post": {"summary": "Add an item to an order"}},
                "/": {"get": {"summary": "The API root"}},
            }
        )
    )
    names = [a["name"] for a in mapping["actions"]]
    assert all(re.fullmatch(r"[A-Za-z0-9_]{1,64}", n) for n in names)
    assert len(names[0]) == 64 and names[1].endswith("_2") and len(names[1]) == 64
    assert names[2:] == ["post_orders_orderId_items", "get_root"]


def test_when_to_use_from_summary_and_description_with_a_warning_where_neither() -> None:
    result = import_openapi(
        _doc(
            {
                "/a": {
                    "get": {
                        "operationId": "a",
                        "summary": "Find an order",
                        "description": "By its number.",
                    }
                },
                "/b": {"get": {"operationId": "b"}},
            }
        )
    )
    a, b = result.mapping()["actions"]
    assert a["when_to_use"] == "Find an order. By its number."
    assert b["when_to_use"] == "Calls GET /b."
    assert result.warnings == ["<openapi>: GET /b: no summary or description; write a when_to_use"]
    assert "# TODO: no summary or description" in result.to_yaml()


def test_parameters_types_required_defaults_enums_arrays_and_headers() -> None:
    op = {
        "operationId": "search",
        "summary": "Search orders",
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "schema": {"type": "string", "enum": ["open", "shipped"], "default": "open"},
            },
            {
                "name": "since",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "format": "date"},
            },
            {
                "name": "ids",
                "in": "query",
                "explode": False,
                "schema": {"type": "array", "items": {"type": "integer"}},
            },
            {"name": "page-size", "in": "query", "schema": {"type": "integer", "default": 20}},
            {"name": "X-Store", "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
            {"name": "config", "in": "query", "schema": {"type": "boolean"}},
        ],
    }
    (action,) = from_openapi(_doc({"/orders": {"get": op}}))["actions"]
    assert action["url"] == (
        "https://api.shop.example/v1/orders?status={status}&since={since}&ids={ids}"
        "&page-size={page_size}&config={arg_config}"
    )
    inputs = _inputs(action)
    assert inputs["status"] == {
        "name": "status",
        "type": "text",
        "description": "One of: open, shipped.",
        "default": "open",
    }
    assert inputs["since"] == {"name": "since", "type": "date", "required": True}
    assert (inputs["ids"]["type"], inputs["ids"]["array"]) == ("number", True)
    assert inputs["page_size"]["default"] == 20
    assert inputs["arg_config"]["description"] == "true or false."
    assert action["headers"] == {"X-Store": "{X_Store}"}  # the optional X-Trace is left out
    assert check_actions({"actions": [action]}).errors == []


def test_recursive_schemas_are_cut_and_bodies_keep_nesting() -> None:
    node = {
        "type": "object",
        "required": ["name", "address"],
        "properties": {
            "name": {"type": "string"},
            "address": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}, "name": {"type": "string"}},
            },
            "parent": {"$ref": "#/components/schemas/Customer"},
            "active": {"type": "boolean", "default": True},
        },
    }
    doc = _doc(
        {
            "/customers": {
                "post": {
                    "operationId": "createCustomer",
                    "summary": "Create a customer",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Customer"}
                            }
                        }
                    },
                    "responses": {
                        "201": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Customer"}
                                }
                            },
                        }
                    },
                }
            }
        },
        components={"schemas": {"Customer": node}},
    )
    result = import_openapi(doc)
    (action,) = result.mapping()["actions"]
    assert action["body"] == {
        "name": "{name}",
        "address": {"city": "{address_city}", "name": "{address_name}"},
        "active": True,
    }
    inputs = _inputs(action)
    assert inputs["name"]["required"] and inputs["address_city"]["required"]
    assert "required" not in inputs["address_name"]
    assert [f["name"] for f in action["response_fields"]] == [
        "name",
        "active",
        "city",
        "address_name",
    ]
    assert action["response_fields"][2]["path"] == "address.city"
    assert "parent: a schema that contains itself; cut here." in result.to_yaml()
    assert check_actions(result.to_yaml()).errors == []


def test_security_schemes_become_auth_with_env_names() -> None:
    doc = _doc(
        {
            "/a": {
                "get": {
                    "operationId": "a",
                    "summary": "A thing",
                    "security": [{"cc": ["orders.read"]}],
                }
            },
            "/b": {"get": {"operationId": "b", "summary": "B thing", "security": [{"key": []}]}},
            "/c": {"get": {"operationId": "c", "summary": "C thing", "security": []}},
        },
        components={
            "securitySchemes": {
                "cc": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.shop.example/token",
                            "scopes": {},
                        }
                    },
                },
                "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            }
        },
        security=[{"key": []}],
    )
    a, b, c = from_openapi(doc)["actions"]
    assert a["auth"] == {
        "type": "oauth2_client_credentials",
        "token_url": "https://auth.shop.example/token",
        "client_id": "${SHOP_CLIENT_ID}",
        "client_secret": "${SHOP_CLIENT_SECRET}",
        "scope": "orders.read",
    }
    assert b["auth"] == {
        "type": "api_key",
        "in": "query",
        "name": "api_key",
        "value": "${SHOP_API_KEY}",
    }
    assert "auth" not in c
    assert check_actions({"actions": [a, b, c]}).errors == []


def test_consequential_get_and_write_methods_confirm() -> None:
    doc = _doc(
        {
            "/x": {
                "get": {"operationId": "x", "summary": "Read", "x-openai-isConsequential": True},
                "delete": {"operationId": "y", "summary": "Remove"},
            },
            "/z": {"get": {"operationId": "z", "summary": "Read more"}},
        }
    )
    x, y, z = from_openapi(doc)["actions"]
    assert x["confirm"] is True and y["confirm"] is True and "confirm" not in z


def test_operations_by_id_or_method_and_path_and_unknown_ones() -> None:
    doc = _doc(
        {
            "/a": {
                "get": {"operationId": "listA", "summary": "List A"},
                "post": {"operationId": "addA", "summary": "Add A"},
            }
        }
    )
    assert [a["name"] for a in from_openapi(doc, operations=["post /a"])["actions"]] == ["addA"]
    with pytest.raises(ImportSpecError, match=r"no operation 'listAA' \(did you mean listA\?\)"):
        from_openapi(doc, operations="listAA")


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        (
            [{"url": "/api/v3"}],
            r"server URL '/api/v3' is relative.*--base-url https://api.example.com/api/v3",
        ),
        (
            [{"url": "https://{region}.shop.example", "variables": {"region": {}}}],
            r"\{region\} has no default",
        ),
    ],
)
def test_servers_that_name_no_address(servers: list[Any], message: str) -> None:
    doc = _doc({"/a": {"get": {"operationId": "a", "summary": "A"}}}, servers=servers)
    with pytest.raises(ImportSpecError, match=message):
        from_openapi(doc)
    assert (
        from_openapi(doc, base_url="https://x.example")["actions"][0]["url"]
        == "https://x.example/a"
    )


def test_unreadable_documents_are_named() -> None:
    with pytest.raises(ImportSpecError, match=r"nope.yaml: file not found"):
        from_openapi("nope.yaml")
    with pytest.raises(ImportSpecError, match=r"not an OpenAPI 3.x or Swagger 2.0 document"):
        from_openapi({"info": {}})
    with pytest.raises(ImportSpecError, match=r"<openapi>: not valid YAML at line 3, column 1"):
        from_openapi("openapi: 3.0.0\npaths: [\n")


def test_yaml_words_stay_text_and_external_refs_are_reported() -> None:
    text = """
openapi: 3.0.0
info: {title: T, version: '1'}
servers: [{url: 'https://t.example'}]
paths:
  /a:
    get:
      operationId: a
      summary: Switch a light
      parameters:
        - {name: state, in: query, schema: {type: string, enum: [on, off], default: on}}
        - {name: day, in: query, schema: {type: string, default: 2024-01-01}}
        - {$ref: 'other.yaml#/components/parameters/x'}
"""
    result = import_openapi(text)
    inputs = _inputs(result.mapping()["actions"][0])
    assert (
        inputs["state"]["default"] == "on" and "One of: on, off." in inputs["state"]["description"]
    )
    assert inputs["day"]["default"] == "2024-01-01"
    assert result.warnings == [
        "<openapi>: $ref 'other.yaml#/components/parameters/x' points outside the document; not followed"
    ]


def test_document_text_never_becomes_a_secret_or_placeholder() -> None:
    """A document is someone else's text: `${NAME}` in a path or a query key must not turn
    into a secret reference (it would send that environment variable to their server)."""
    doc = _doc(
        {
            "/files/${AWS_SECRET_ACCESS_KEY}/{id}?x=1": {
                "get": {
                    "operationId": "f",
                    "summary": "Get a file",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True},
                        {"name": "${HOME}", "in": "query", "schema": {"type": "string"}},
                    ],
                }
            }
        }
    )
    (action,) = from_openapi(doc)["actions"]
    # `{...}` is OpenAPI path templating (an input); the `$` before it stays literal text
    assert action["url"] == (
        "https://api.shop.example/v1/files/%24{AWS_SECRET_ACCESS_KEY}/{id}%3Fx=1"
        "?%24%7BHOME%7D={HOME}"
    )
    report = check_actions({"actions": [action]})
    assert report.errors == []
    assert report.actions[0].secret_names() == []
    server = {"url": "https://{host}/v1", "variables": {"host": {"default": "${HOST}"}}}
    bad = _doc({"/a": {"get": {"operationId": "a"}}}, servers=[server])
    with pytest.raises(ImportSpecError, match=r"not a plain URL; pass --base-url"):
        from_openapi(bad)


def test_stripe_style_form_body_deep_objects_and_any_of() -> None:
    """The shapes of Stripe's document: deepObject encodings, `anyOf` with an empty-string
    branch, free-form metadata, `expand` arrays."""
    schema = {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string", "maxLength": 512},
            "address": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                    },
                    {"type": "string", "enum": [""]},
                ]
            },
            "metadata": {
                "anyOf": [
                    {"type": "object", "additionalProperties": {"type": "string"}},
                    {"type": "string", "enum": [""]},
                ]
            },
            "expand": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
            "balance": {"type": "integer"},
        },
    }
    doc = _doc(
        {
            "/v1/customers": {
                "post": {
                    "operationId": "PostCustomers",
                    "description": "<p>Creates a new customer object.</p>",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": schema,
                                "encoding": {
                                    "address": {"explode": True, "style": "deepObject"},
                                    "expand": {"explode": True, "style": "deepObject"},
                                },
                            }
                        }
                    },
                }
            }
        }
    )
    result = import_openapi(doc)
    (action,) = result.mapping()["actions"]
    assert action["body_format"] == "form"
    assert action["body"] == {
        "email": "{email}",
        "address[city]": "{address_city}",
        "address[country]": "{address_country}",
        "expand": "{expand}",
        "balance": "{balance}",
    }
    assert "metadata: a free-form object; left out." in result.to_yaml()
    assert action["when_to_use"] == "Creates a new customer object."
    assert check_actions(result.to_yaml()).errors == []


def test_credential_parameters_are_secrets_never_inputs() -> None:
    """A key the model could fill in would be a credential asked of the visitor."""
    doc = _doc(
        {
            "/a": {
                "get": {
                    "operationId": "a",
                    "summary": "Read a thing",
                    "parameters": [
                        {"name": "api_key", "in": "query", "required": True},
                        {"name": "X-Auth-Token", "in": "header", "required": True},
                        {"name": "Idempotency-Key", "in": "header", "required": True},
                        {"name": "X-Key", "in": "header", "required": True},
                    ],
                    "security": [{"key": []}],
                }
            }
        },
        components={
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
        },
    )
    result = import_openapi(doc)
    (action,) = result.mapping()["actions"]
    assert action["url"] == "https://api.shop.example/v1/a?api_key=${SHOP_API_KEY}"
    assert action["headers"] == {"X-Auth-Token": "${SHOP_X_AUTH_TOKEN}"}
    # The library sends the idempotency key itself (issue 24): not an input either.
    assert action["idempotency_key"] is True
    assert "inputs" not in action
    # X-Key is sent by the auth block, not declared twice
    assert result.mapping()["defaults"]["auth"] == {
        "type": "api_key",
        "in": "header",
        "name": "X-Key",
        "value": "${SHOP_API_KEY}",
    }
    assert result.secrets == ["SHOP_API_KEY", "SHOP_X_AUTH_TOKEN"]
    assert check_actions(result.to_yaml()).errors == []


def test_response_paths_quote_every_segment_jmespath_cannot_read_bare() -> None:
    # Found by hypothesis: `_-` is a plain dotted segment on its own, but beside a quoted
    # segment the path is JMESPath, where `_-` must be quoted as well.
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/things": {
                "get": {
                    "operationId": "getThing",
                    "summary": "Get a thing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "_-": {
                                                "type": "object",
                                                "properties": {"{in}": {"type": "string"}},
                                            },
                                            "est-delivery": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
    }
    mapping = from_openapi(doc)
    report = check_actions(mapping)
    assert report.errors == []
    fields = {f["name"]: f.get("path", f["name"]) for f in mapping["actions"][0]["response_fields"]}
    assert fields["est-delivery"] == "est-delivery"
    assert '"_-"."{in}"' in fields.values()


@pytest.mark.parametrize(
    "path", ["@evil.example/x", ".evil.example/x", ":8443/x", "evil/x", "{id}/x", "?q=1"]
)
def test_a_path_without_its_slash_never_changes_the_host(path: str) -> None:
    # A document's path is joined to the server URL (or --base-url): text before the
    # first `/` of a path would otherwise become part of the host, the port or userinfo.
    params = [{"name": "id", "in": "path", "required": True}] if "{id}" in path else []
    doc = _doc({path: {"get": {"operationId": "a", "parameters": params}}})
    for base_url in (None, "https://api.mine.example"):
        (action,) = from_openapi(doc, base_url=base_url)["actions"]
        base = base_url or "https://api.shop.example/v1"
        assert action["url"].startswith(base + "/"), action["url"]
        report = check_actions({"actions": [action]})
        assert report.errors == []
        assert urllib.parse.urlsplit(action["url"]).netloc == urllib.parse.urlsplit(base).netloc
