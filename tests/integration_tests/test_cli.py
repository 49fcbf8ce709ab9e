"""`apiactions validate` and `apiactions call`, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.apiserver import ApiServer, Reply
from tests.clirun import run_cli


@pytest.fixture
def action_file(tmp_path: Path, api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORE_API_KEY", "sk-cli-secret-1")
    path = tmp_path / "actions.yaml"
    path.write_text(f"""
actions:
  - name: Check_Order_Status
    when_to_use: Use when the visitor asks about the status of their order or a shipment.
    method: GET
    url: {api.url}/orders/{{order_number}}?key=${{STORE_API_KEY}}
    inputs: [{{name: order_number, required: true}}]
    headers: {{Authorization: "Bearer ${{STORE_API_KEY}}"}}
    response_fields: [status, carrier, estimated_delivery]
  - name: Create_Ticket
    when_to_use: Use when the visitor wants a human to follow up with a support ticket.
    method: POST
    url: {api.url}/tickets
    inputs: [{{name: subject, required: true}}, {{name: tags, array: true}}]
    body: {{subject: "{{subject}}", tags: "{{tags}}"}}
""")
    return path


def test_validate_ok_and_errors(tmp_path: Path, action_file: Path) -> None:
    code, out = run_cli("validate", str(action_file))
    assert code == 0 and "2 action(s) OK" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: X\n  method: GET\n  url: https://a.example/{y}\n")
    code, out = run_cli("validate", str(bad))
    assert code == 1
    assert f"error: {bad}: X.url: placeholder {{y}} is not a declared input" in out
    assert f"warning: {bad}: X.when_to_use: missing or very short" in out


def test_call_prints_request_status_fields_and_suggestions(
    api: ApiServer, action_file: Path
) -> None:
    api.route(
        "GET",
        "/orders/12345",
        Reply(
            200,
            {
                "status": "Shipped",
                "shipping": {"carrier": "UPS", "estimated_delivery": "2026-03-15"},
            },
        ),
    )
    code, out = run_cli(
        "call",
        str(action_file),
        "Check_Order_Status",
        "--arg",
        "order_number=12345",
        "--allow-private-networks",
    )
    assert code == 0
    assert f"> GET {api.url}/orders/12345?key=***" in out
    assert "> Authorization: Bearer ***" in out
    assert "< 200 in " in out
    assert 'fields: status="Shipped", carrier=null, estimated_delivery=null' in out
    assert "missing: carrier, estimated_delivery" in out
    assert (
        "missing field: carrier (path 'carrier' found nothing; did you mean shipping.carrier?)"
        in out
    )
    assert "did you mean shipping.estimated_delivery?" in out
    assert "sk-cli-secret-1" not in out
    assert api.last.headers["Authorization"] == "Bearer sk-cli-secret-1"


def test_call_dry_run_sends_nothing(api: ApiServer, action_file: Path) -> None:
    code, out = run_cli(
        "call",
        str(action_file),
        "Create_Ticket",
        "--arg",
        "subject=Help",
        "--arg",
        "tags=a",
        "--arg",
        "tags=b",
        "--dry-run",
    )
    assert code == 0
    assert f"> POST {api.url}/tickets" in out
    assert '"subject": "Help"' in out and '"tags": [\n    "a",\n    "b"\n  ]' in out
    assert "(dry run: nothing sent)" in out
    assert api.requests == []


def test_call_refused_by_default_and_bad_args(api: ApiServer, action_file: Path) -> None:
    code, out = run_cli("call", str(action_file), "Check_Order_Status", "--arg", "order_number=1")
    assert code == 1 and "refused address" in out and api.requests == []
    code, out = run_cli("call", str(action_file), "Check_Order_Status")
    assert code == 2 and "order_number: is required" in out and "Ask the visitor" not in out
    code, out = run_cli("call", str(action_file), "Nope")
    assert code == 2 and "no action named 'Nope'" in out


def test_console_script_is_installed(action_file: Path) -> None:
    exe = Path(sys.executable).parent / "apiactions"
    proc = subprocess.run(
        [str(exe), "validate", str(action_file)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 action(s) OK" in proc.stdout


def test_demo_without_the_agent_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain.agents", None)
    code, out = run_cli("demo")
    assert code == 2
    assert "pip install 'langchain-apiactions[agent]'" in out
