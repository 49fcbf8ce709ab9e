"""Issue 11: the command line as its reader sees it (stdout, stderr, exit codes, wording)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from langchain_apiactions.cli import _parser, main
from tests.apiserver import ApiServer, Reply

EXE = str(Path(sys.executable).parent / "apiactions")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def two_actions(tmp_path: Path, api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERS_KEY", "sk-orders-5511")
    monkeypatch.delenv("BILLING_KEY", raising=False)
    path = tmp_path / "actions.yaml"
    path.write_text(f"""
- name: Check_Order_Status
  when_to_use: Use when the visitor asks about the status of their order or a shipment.
  method: GET
  url: {api.url}/orders/{{order_number}}
  inputs: [{{name: order_number, required: true}}, {{name: name}}]
  headers: {{Authorization: "Bearer ${{ORDERS_KEY}}"}}
  response_fields: [status]
- name: Refund_Invoice
  when_to_use: Use when the visitor wants an invoice refunded to their card.
  method: POST
  url: https://billing.example.com/refunds
  inputs: [{{name: invoice, required: true}}]
  headers: {{X-Key: "${{BILLING_KEY}}"}}
  body: {{invoice: "{{invoice}}"}}
""")
    return path


def test_call_json_prints_exactly_one_json_document(two_actions: Path, api: ApiServer) -> None:
    api.route("GET", "/orders/12345", Reply(200, {"status": "Shipped"}))
    env = dict(os.environ) | {"ORDERS_KEY": "sk-orders-5511"}
    env.pop("BILLING_KEY", None)
    proc = subprocess.run(
        [
            EXE,
            "call",
            str(two_actions),
            "Check_Order_Status",
            "--arg",
            "order_number=12345",
            "--json",
            "--allow-network",
            "127.0.0.0/8",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    artifact = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert artifact["ok"] is True and artifact["data"] == {"status": "Shipped"}
    assert "> GET http://127.0.0.1:" in proc.stderr and "< 200 in" in proc.stderr
    assert "sk-orders-5511" not in proc.stdout + proc.stderr


def test_call_json_with_refused_arguments_is_still_one_json_document(
    capsys: pytest.CaptureFixture[str], two_actions: Path, api: ApiServer
) -> None:
    code, out, err = run(capsys, "call", str(two_actions), "Check_Order_Status", "--json")
    assert code == 2
    artifact = json.loads(out)
    assert artifact["ok"] is False and artifact["status_code"] is None
    assert artifact["error"] == "invalid argument: order_number: is required"
    assert "error: --arg order_number: is required" in err
    assert api.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "{bad}"], "error: "),
        (
            ["call", "{two}", "Check_Order_Stat"],
            "error: {two}: no action named 'Check_Order_Stat' (did you mean 'Check_Order_Status'?",
        ),
        (
            ["call", "{two}", "Check_Order_Status", "--arg", "nme=Ann", "--arg", "order_number=1"],
            "error: --arg nme: Check_Order_Status has no input named 'nme' (did you mean 'name'?; inputs: order_number, name)",
        ),
        (
            ["call", "{two}", "Check_Order_Status", "--arg", "order_number"],
            "error: --arg 'order_number': expected NAME=VALUE",
        ),
        (["call", "{missing}", "X"], "error: "),
        (["eval", "{two}", "{missing}"], "error: "),
        (["inspect", "--respond", "{not json"], "error: --respond is not valid JSON"),
        (["chat", "{missing}"], "error: "),
        (["demo", "--model", "nonsense"], "error: unknown model 'nonsense'"),
    ],
)
def test_errors_go_to_stderr_with_a_nonzero_exit(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    two_actions: Path,
    argv: list[str],
    message: str,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: X\n  method: GET\n  url: https://a.example/{y}\n")
    paths = {"{two}": str(two_actions), "{bad}": str(bad), "{missing}": str(tmp_path / "nope.yaml")}
    argv = [paths.get(a, a) for a in argv]
    message = message.replace("{two}", str(two_actions))
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert message in err
    assert "error" not in out
    assert "Traceback" not in err


def test_call_needs_only_the_chosen_actions_secrets_and_masks_them(
    capsys: pytest.CaptureFixture[str], two_actions: Path, api: ApiServer
) -> None:
    # BILLING_KEY (the other action's) is not set: a dry run of this one still works.
    code, out, err = run(
        capsys,
        "call",
        str(two_actions),
        "Check_Order_Status",
        "--arg",
        "order_number=7",
        "--dry-run",
    )
    assert code == 0, err
    assert "> Authorization: Bearer ***" in out
    assert "(dry run: nothing sent)" in out
    assert "sk-orders-5511" not in out + err
    assert api.requests == []
    # The chosen action's own missing secret is still named.
    code, out, err = run(
        capsys, "call", str(two_actions), "Refund_Invoice", "--arg", "invoice=1", "--dry-run"
    )
    assert code == 1 and "secret ${BILLING_KEY} is not set" in err


def test_refused_address_names_the_cli_options(
    capsys: pytest.CaptureFixture[str], two_actions: Path, api: ApiServer
) -> None:
    code, out, err = run(
        capsys, "call", str(two_actions), "Check_Order_Status", "--arg", "order_number=7"
    )
    assert code == 1 and api.requests == []
    text = out + err
    assert "refused address" in text
    assert "--allow-host" in text and "--allow-network" in text
    assert "allowed_hosts" not in text and "allowed_networks" not in text


def test_cli_argument_errors_are_worded_for_the_cli_reader(
    capsys: pytest.CaptureFixture[str], two_actions: Path
) -> None:
    code, out, err = run(capsys, "call", str(two_actions), "Check_Order_Status", "--dry-run")
    assert code == 2
    assert err == "error: --arg order_number: is required\n"
    assert "Ask the visitor" not in out + err


def test_every_help_argument_has_a_description_and_its_default() -> None:
    def commands(parser: Any, prefix: str = "") -> list[tuple[str, Any]]:
        found = []
        for action in parser._actions:
            if isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    found += [(prefix + name, sub), *commands(sub, prefix + name + " ")]
        return found

    all_commands = commands(_parser())
    assert {n for n, _ in all_commands} >= {
        "validate", "call", "demo", "eval", "inspect", "chat", "import", "mcp"
    }  # fmt: skip
    for name, sub in all_commands:
        assert sub.description, f"{name}: its --help says nothing about what it does"
        text = " ".join(sub.format_help().split())  # one line: wrapping does not matter
        assert "(repeat)" not in text, f"{name}: 'repeat' said twice"
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name} {action.dest}: no description"
            if action.option_strings:
                flag = action.option_strings[-1]
                # The option's help as --help prints it (the formatter adds the default).
                block = sub._get_formatter()._expand_help(action)
                assert "default" in block, f"{name} {flag}: its default is not shown"
        if any(a.dest == "model" for a in sub._actions):
            assert "when OPENAI_API_KEY is set" in text, name


def test_help_shows_defaults_as_the_user_reads_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--repeat REPEAT samples per case (stability) (default: 1)" in text
    assert "--workers WORKERS cases run in parallel (default: 8)" in text
    assert (
        "Without --model: openai:gpt-4.1-mini when OPENAI_API_KEY is set, else offline (default: none)"
        in text
    )


@pytest.fixture
def dental(tmp_path: Path) -> Path:
    return Path(__file__).resolve().parents[2] / "examples" / "dental_clinic.yaml"


def test_eval_refuses_unknown_actions_and_keys_naming_the_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dental: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        """
- utterance: "Book me in for Friday, I'm Ana Silva"
  expect: Book_Apointment
- utterance: "When is Riverside open?"
  expect: Opening_Hours
  arg: {branch: Riverside}
- turns: ["Cancel my booking", "SC-1"]
  expect: Cancel_Appointment
  args: {booking_ref: SC-1}
"""
    )
    code, out, err = run(capsys, "eval", str(dental), str(cases))
    assert code == 1 and out == ""
    assert (
        f"{cases}: case 1 (\"Book me in for Friday, I'm Ana Silva\"): expect: unknown action 'Book_Apointment' (did you mean 'Book_Appointment'?)"
        in err
    )
    assert (
        f"{cases}: case 2 (\"When is Riverside open?\"): unknown key 'arg' (did you mean 'args'?)"
        in err
    )
    assert (
        f"{cases}: case 3 (\"Cancel my booking\"): args: Cancel_Appointment has no input 'booking_ref' (did you mean 'booking_reference'?)"
        in err
    )


def test_eval_fail_under_gates_ci_and_prints_full_names_without_progress_frames(
    tmp_path: Path, dental: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        """
- {utterance: "When are you open at the Riverside branch?", expect: Opening_Hours, args: {branch: Riverside}}
- {utterance: "Please cancel my appointment, the reference is SC-1042", expect: Cancel_Appointment}
- {utterance: "Do you accept Delta Dental insurance?", expect: Check_Insurance, args: {provider: Delta Dental}}
- {utterance: "Tell me a joke", expect: Book_Appointment}
"""
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}

    def eval_(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXE, "eval", str(dental), str(cases), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,  # the run history goes to .apiactions-cache/ here, not the repo
        )

    passed = eval_("--fail-under", "70%")
    assert passed.returncode == 0, passed.stderr
    assert "accuracy 75.0% on 4 cases" in passed.stdout
    # Full action names head the confusion matrix's columns.
    header = next(
        line
        for line in passed.stdout.splitlines()
        if "Cancel_Appointment" in line and "Check_Insurance" in line
    )
    assert header.split() == [
        "Book_Appointment",
        "Cancel_Appointment",
        "Opening_Hours",
        "Check_Insurance",
        "none",
    ]
    # Stderr is a pipe here: no carriage-return frames, nothing left without its line end.
    assert "\r" not in passed.stderr
    assert passed.stderr == "" or passed.stderr.endswith("\n")
    failed = eval_("--fail-under", "0.8")
    assert failed.returncode == 1
    assert "error: accuracy 75.0% is under --fail-under 80.0%" in failed.stderr
    bad = eval_("--fail-under", "180")
    assert bad.returncode == 2 and "not an accuracy between 0 and 100%" in bad.stderr


def test_progress_bar_on_a_terminal_ends_its_line() -> None:
    import io

    from langchain_apiactions.evaluation import progress_bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = progress_bar(screen)
    for done in range(1, 5):
        bar(done, 4)
    bar.close()
    assert "4/4" in screen.getvalue() and screen.getvalue().endswith("\n")
    pipe = io.StringIO()
    bar = progress_bar(pipe)
    bar(1, 1)
    bar.close()
    assert pipe.getvalue() == ""
