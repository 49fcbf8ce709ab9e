"""`apiactions import` end to end: real documents and doc-style cURL lines become files that
validate, and whose tools send exactly the request the API expects (loopback servers)."""

from __future__ import annotations

import base64
import io
import sys
import urllib.parse
from contextlib import closing
from pathlib import Path

import pytest

from langchain_apiactions import ApiActionsToolkit
from tests.apiserver import ApiServer, Reply
from tests.clirun import run_cli_streams
from tests.helpers import call

DATA = Path(__file__).parents[1] / "data" / "openapi"


def imported(tmp_path: Path, *argv: str) -> Path:
    """Run `apiactions import ... -o FILE`, check `apiactions validate FILE`; the path."""
    path = tmp_path / "actions.yaml"
    code, out, err = run_cli_streams("import", *argv, "-o", str(path))
    assert code == 0, err
    assert out.startswith("wrote ")
    assert "next: curate" in err
    code, out, _ = run_cli_streams("validate", str(path))
    assert code == 0 and " OK, " in out, out
    return path


def toolkit(path: Path, env: dict[str, str]) -> ApiActionsToolkit:
    return ApiActionsToolkit.from_file(path, allowed_networks=["127.0.0.0/8"], env=env)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_twilio_verification_form_body_on_the_wire(tmp_path: Path, api: ApiServer) -> None:
    path = imported(
        tmp_path,
        "openapi",
        str(DATA / "twilio-verify-v2-3.0.yaml"),
        "--operations",
        "CreateVerification",
        "--base-url",
        api.url,
    )
    api.route(
        "POST",
        "/v2/Services/VA0123/Verifications",
        Reply(201, {"sid": "VE42", "status": "pending", "to": "+15017122661", "channel": "sms"}),
    )
    env = {"TWILIO_VERIFY_USERNAME": "AC-user", "TWILIO_VERIFY_PASSWORD": "auth-token-1"}
    with closing(toolkit(path, env)) as kit:
        (tool,) = kit.get_tools()
        msg = call(tool, {"ServiceSid": "VA0123", "To": "+15017122661", "Channel": "sms"})
    sent = api.last
    assert (sent.method, sent.path, sent.query) == ("POST", "/v2/Services/VA0123/Verifications", "")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.headers["Authorization"] == basic("AC-user", "auth-token-1")
    assert sent.body == b"To=%2B15017122661&Channel=sms"
    assert msg.artifact["ok"] is True
    assert msg.artifact["data"]["status"] == "pending"
    assert "auth-token-1" not in msg.content


def test_swagger_2_petstore_json_body_query_array_and_api_key(
    tmp_path: Path, api: ApiServer
) -> None:
    path = imported(
        tmp_path,
        "openapi",
        str(DATA / "swagger-petstore-2.0.yaml"),
        "--operations",
        "addPet,findPetsByStatus,GET /store/inventory",
        "--base-url",
        api.url + "/v2",
    )
    api.route("POST", "/v2/pet", Reply(200, {"id": 7, "name": "Rex", "status": "available"}))
    api.route("GET", "/v2/pet/findByStatus", Reply(200, [{"id": 7, "name": "Rex"}]))
    api.route("GET", "/v2/store/inventory", Reply(200, {"available": 3}))
    env = {"SWAGGER_PETSTORE_ACCESS_TOKEN": "tok-1", "SWAGGER_PETSTORE_API_KEY": "key-1"}
    with closing(toolkit(path, env)) as kit:
        add = kit.get_tool("addPet")
        msg = call(
            add,
            {"name": "Rex", "photoUrls": ["https://x.example/rex.jpg"], "category_name": "dogs"},
        )
        assert msg.artifact["ok"] is True
        sent = api.last
        assert sent.headers["Authorization"] == "Bearer tok-1"
        assert sent.json == {
            "id": None,
            "category": {"id": None, "name": "dogs"},
            "name": "Rex",
            "photoUrls": ["https://x.example/rex.jpg"],
            "status": None,
        }
        call(kit.get_tool("findPetsByStatus"), {"status": ["available", "sold"]})
        assert (api.last.path, api.last.query) == ("/v2/pet/findByStatus", "status=available,sold")
        call(kit.get_tool("getInventory"), {})
        assert api.last.headers["api_key"] == "key-1"
        assert "Authorization" not in api.last.headers


def test_openapi_31_museum_dates_and_shared_basic_auth(tmp_path: Path, api: ApiServer) -> None:
    path = imported(
        tmp_path,
        "openapi",
        str(DATA / "redocly-museum-3.1.yaml"),
        "--operations",
        "createSpecialEvent,listSpecialEvents",
        "--base-url",
        api.url,
    )
    api.route("POST", "/special-events", Reply(201, {"eventId": "e-1", "name": "Night"}))
    api.route("GET", "/special-events", Reply(200, [{"eventId": "e-1", "name": "Night"}]))
    env = {"REDOCLY_MUSEUM_USERNAME": "ana-museum", "REDOCLY_MUSEUM_PASSWORD": "pw-museum-42"}
    with closing(toolkit(path, env)) as kit:
        args = {
            "name": "Night at the museum",
            "location": "Main hall",
            "eventDescription": "After hours",
            "dates": ["2026-12-01", "2026-12-02"],
            "price": 25,
        }
        msg = call(kit.get_tool("createSpecialEvent"), args)
        assert api.last.json == {**args, "eventId": None}
        assert api.last.headers["Authorization"] == basic("ana-museum", "pw-museum-42")
        assert msg.artifact["data"]["eventId"] == "e-1"
        msg = call(kit.get_tool("listSpecialEvents"), {"startDate": "2026-12-01"})
    assert api.last.query == "startDate=2026-12-01&page=1&limit=10"
    assert msg.artifact["data"]["count"] == 1
    assert msg.artifact["data"]["items"][0]["name"] == "Night"


def test_server_variables_and_form_defaults(tmp_path: Path, api: ApiServer) -> None:
    path = imported(
        tmp_path,
        "openapi",
        str(DATA / "oai-uspto-3.0.yaml"),
        "--operations",
        "perform-search",
        "--base-url",
        api.url + "/ds-api",
    )
    api.route("POST", "/ds-api/oa_citations/v1/records", Reply(200, [{"patent": "1"}]))
    with closing(toolkit(path, {})) as kit:
        call(
            kit.get_tool("perform_search"),
            {"dataset": "oa_citations", "version": "v1", "criteria": "*:*"},
        )
    assert api.last.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qsl(api.last.body.decode()) == [
        ("criteria", "*:*"),
        ("start", "0"),
        ("rows", "100"),
    ]


def test_curl_stripe_line_form_body_and_key(tmp_path: Path, api: ApiServer) -> None:
    line = f"""curl {api.url}/v1/customers \\
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \\
  -d name="Jenny Rosen" \\
  -d "metadata[order_id]=6735" """
    path = imported(tmp_path, "curl", line)
    assert "sk_test_4eC39HqLyjWDarjtT1zdp7dc" not in path.read_text()
    api.route("POST", "/v1/customers", Reply(200, {"id": "cus_1", "object": "customer"}))
    with closing(toolkit(path, {"API_KEY": "sk_test_other"})) as kit:
        (tool,) = kit.get_tools()
        msg = call(tool, {"name": "Ana Lima", "metadata_order_id": "6736"})
    assert api.last.headers["Authorization"] == basic("sk_test_other", "")
    assert api.last.body == b"name=Ana+Lima&metadata%5Border_id%5D=6736"
    assert msg.artifact["data"] == {"id": "cus_1", "object": "customer"}


def test_curl_json_line_with_bearer_variable(tmp_path: Path, api: ApiServer) -> None:
    line = f"""curl {api.url}/v1/chat/completions \\
    -H "Content-Type: application/json" \\
    -H "Authorization: Bearer $OPENAI_API_KEY" \\
    -d '{{"model": "gpt-4.1", "messages": [{{"role": "user", "content": "Hello!"}}], "n": 1, "stream": false}}'"""
    path = imported(tmp_path, "curl", line)
    api.route("POST", "/v1/chat/completions", Reply(200, {"id": "c1"}))
    with closing(toolkit(path, {"OPENAI_API_KEY": "sk-live"})) as kit:
        (tool,) = kit.get_tools()
        call(
            tool,
            {"model": "m", "messages_role": "user", "messages_content": 'Say "hi"', "n": 2},
        )
    assert api.last.headers["Authorization"] == "Bearer sk-live"
    assert api.last.headers["Content-Type"] == "application/json"
    assert api.last.json == {
        "model": "m",
        "messages": [{"role": "user", "content": 'Say "hi"'}],
        "n": 2,
        "stream": False,
    }


def test_cli_prints_yaml_and_reports_errors_on_stderr(tmp_path: Path) -> None:
    code, out, err = run_cli_streams(
        "import", "openapi", str(DATA / "oai-uspto-3.0.yaml"), "--operations", "list-data-sets"
    )
    assert code == 0
    assert out.startswith("# Imported from ") and "- name: list_data_sets" in out
    assert "next: curate FILE" in err
    code, out, err = run_cli_streams("import", "openapi", str(DATA / "kubernetes-2.0.json.gz"))
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "kubernetes-2.0.json.gz" in err
    target = tmp_path / "x.yaml"
    target.write_text("keep me")
    code, _, err = run_cli_streams("import", "curl", "curl https://a.example/x", "-o", str(target))
    assert code == 2 and "exists; pass --force" in err
    assert target.read_text() == "keep me"
    code, _, err = run_cli_streams(
        "import", "curl", "curl https://a.example/x", "-o", str(target), "--force"
    )
    assert code == 0 and target.read_text().startswith("# Imported by")


def test_cli_large_document_warns_and_operations_pick(
    tmp_path: Path, kubernetes_json: Path
) -> None:
    code, out, err = run_cli_streams(
        "import", "openapi", str(kubernetes_json), "--base-url", "https://k8s.example.com",
        "-o", str(tmp_path / "all.yaml"),
    )  # fmt: skip
    assert code == 0
    assert "chooses badly among many tools" in err and "apiactions eval" in err
    code, out, err = run_cli_streams(
        "import", "openapi", str(kubernetes_json), "--base-url", "https://k8s.example.com",
        "--operations", "readCoreV1NamespacedPod", "-o", str(tmp_path / "one.yaml"),
    )  # fmt: skip
    assert code == 0 and out.startswith("wrote 1 action(s)")
    assert "chooses badly" not in err


@pytest.fixture
def kubernetes_json(tmp_path: Path) -> Path:
    import gzip

    path = tmp_path / "kubernetes.json"
    with gzip.open(DATA / "kubernetes-2.0.json.gz", "rb") as f:
        path.write_bytes(f.read())
    return path


def test_cli_reads_the_document_or_command_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((DATA / "petstore-3.1.yaml").read_text()))
    code, out, _ = run_cli_streams("import", "openapi", "-", "--operations", "listPets")
    assert code == 0 and "- name: listPets" in out
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("curl https://a.example/v1/ping \\\n  -H 'X-Token: t0ps3cret'")
    )
    code, out, _ = run_cli_streams("import", "curl", "-")
    assert code == 0 and "url: https://a.example/v1/ping" in out
    assert "t0ps3cret" not in out
