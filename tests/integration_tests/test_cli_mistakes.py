"""Issue 26: what the command line says when a new user gets it slightly wrong.

A missing extra is one `error:` line with the pip command; a bad option prints that
command's usage and a did-you-mean; a misspelt model name lists the valid ones; `call`
asks before a `confirm: true` action; a once-per-session action called twice with the
in-memory store says why it was sent again.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_apiactions.cli import main
from tests.apiserver import ApiServer, Reply


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Exit code, stdout and stderr, as a user reads them (argparse exits included)."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def bikes(tmp_path: Path, api: ApiServer) -> Path:
    api.route("POST", "/reservations/BK-1/cancel", Reply(200, {"cancelled": True}))
    api.route("POST", "/discounts", Reply(200, {"code": "WELCOME10"}))
    api.route("GET", "/stations/Riverside", Reply(200, {"available": 4}))
    path = tmp_path / "bikes.yaml"
    path.write_text(f"""
actions:
  - name: Check_Availability
    when_to_use: Use this action when the visitor asks whether bikes are available.
    method: GET
    url: {api.url}/stations/{{station}}
    inputs: [station]
  - name: Cancel_Reservation
    when_to_use: Use this action when the visitor wants to cancel a bike reservation.
    method: POST
    url: {api.url}/reservations/{{code}}/cancel
    inputs: [code]
    confirm: true
  - name: Welcome_Discount
    when_to_use: Use this action when the visitor asks for a first-time rider discount.
    method: POST
    url: {api.url}/discounts
    once_per_session: true
""")
    return path


LOOPBACK = ("--allow-network", "127.0.0.0/8")


# ---------------------------------------------------------------- missing extras
@pytest.mark.parametrize(
    ("blocked", "argv", "line"),
    [
        (
            "langgraph.checkpoint.sqlite",
            ["chat", "{file}", "--state", "sqlite:///{tmp}/chat.db"],
            "error: a sqlite:/// checkpointer needs: pip install 'langchain-apiactions[sqlite]'",
        ),
        (
            "redis",
            ["chat", "{file}", "--session-store", "redis://localhost/0"],
            "error: RedisSessionStore needs the redis extra: "
            "pip install 'langchain-apiactions[redis]'",
        ),
        (
            "redis",
            [
                "call",
                "{file}",
                "Check_Availability",
                "--arg",
                "station=Riverside",
                "--session-store",
                "redis://localhost/0",
            ],
            "error: RedisSessionStore needs the redis extra: "
            "pip install 'langchain-apiactions[redis]'",
        ),
    ],
    ids=["chat --state sqlite", "chat --session-store redis", "call --session-store redis"],
)
def test_a_missing_extra_is_one_line_with_the_pip_command(
    bikes: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blocked: str,
    argv: list[str],
    line: str,
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # as if the extra were not installed
    args = [a.format(file=bikes, tmp=tmp_path) for a in argv]
    code, out, err = run(*args, *LOOPBACK, stdin="\n")
    assert code == 2
    assert err.splitlines() == [line]
    assert "Traceback" not in out + err


# ---------------------------------------------------------------- bad options
def test_an_argument_without_equals_suggests_the_name_value_form(bikes: Path) -> None:
    code, out, err = run("call", str(bikes), "Check_Availability", "--arg", "station", "Riverside")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("usage: apiactions call [-h]")
    assert lines[-1] == (
        "apiactions call: error: unrecognized argument 'Riverside': "
        "did you mean --arg station=Riverside?"
    )


def test_a_misspelt_option_prints_the_commands_usage_and_a_suggestion(bikes: Path) -> None:
    code, out, err = run("chat", str(bikes), "--contxt", "x=1")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("usage: apiactions chat [-h]")
    assert (
        lines[-1]
        == "apiactions chat: error: unrecognized argument '--contxt': did you mean --context?"
    )


def test_a_misspelt_model_lists_the_valid_names(bikes: Path) -> None:
    code, _, err = run("chat", str(bikes), "--model", "offlne", stdin="\n")
    assert code == 2
    assert err.splitlines() == [
        "error: unknown model 'offlne' (did you mean 'offline'?): use offline, "
        "offline-semantic or openai:<model>"
    ]


def test_a_misspelt_server_model_lists_the_valid_names(tmp_path: Path, bikes: Path) -> None:
    from langchain_apiactions.errors import ServerSettingsError
    from langchain_apiactions.langgraph_server import ServerSettings

    settings = ServerSettings({"APIACTIONS_FILE": str(bikes), "APIACTIONS_MODEL": "offlne"})
    with pytest.raises(ServerSettingsError) as info:
        settings.chat_model()
    assert str(info.value) == (
        "APIACTIONS_MODEL: unknown model 'offlne' (did you mean 'offline'?): use offline, "
        "openai:<model>, or provider:model as LangChain's init_chat_model knows it"
    )


# ---------------------------------------------------------------- confirm: true
def test_call_of_a_confirm_action_without_a_terminal_needs_yes(bikes: Path, api: ApiServer) -> None:
    argv = ["call", str(bikes), "Cancel_Reservation", "--arg", "code=BK-1", *LOOPBACK]
    code, out, err = run(*argv)
    assert code == 2 and api.requests == []
    assert err.splitlines()[-1] == (
        "error: Cancel_Reservation asks for confirmation (confirm: true) and there is no "
        "terminal to ask on: pass --yes to send it; nothing sent"
    )
    assert "> POST " in out  # the request it would have sent is shown
    code, out, _ = run(*argv, "--yes")
    assert code == 0 and [r.path for r in api.requests] == ["/reservations/BK-1/cancel"]


@pytest.mark.parametrize(("answer", "sent"), [("y", 1), ("n", 0), ("", 0)])
def test_call_of_a_confirm_action_asks_on_a_terminal(
    bikes: Path, api: ApiServer, answer: str, sent: int
) -> None:
    """A real pseudo-terminal as stdin: the question, the answer, what was sent."""
    import pty

    leader, follower = pty.openpty()
    exe = Path(sys.executable).parent / "apiactions"
    argv = [str(exe), "call", str(bikes), "Cancel_Reservation", "--arg", "code=BK-1", *LOOPBACK]
    proc = subprocess.Popen(
        argv, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    os.close(follower)
    os.write(leader, (answer + "\n").encode())
    _, err = proc.communicate(timeout=60)
    os.close(leader)
    assert "Send Cancel_Reservation now? [y/N] " in err
    assert len(api.requests) == sent
    assert proc.returncode == (0 if sent else 1)
    if not sent:
        assert "not confirmed; nothing sent" in err


# ---------------------------------------------------------------- once per session
def test_once_per_session_with_the_memory_store_says_it_is_per_process(
    bikes: Path, api: ApiServer, tmp_path: Path
) -> None:
    argv = ["call", str(bikes), "Welcome_Discount", "--session", "s1", *LOOPBACK]
    for _ in range(2):
        code, _, err = run(*argv)
        assert code == 0
        assert (
            "note: Welcome_Discount runs once per session, but without --session-store the "
            "record lives in this process only: another `apiactions call --session s1` "
            "sends it again (use --session-store sqlite:///calls.db to remember it)"
        ) in err.splitlines()
    assert len(api.requests) == 2
    store = ["--session-store", f"sqlite:///{tmp_path}/calls.db"]
    assert run(*argv, *store)[0] == 0
    code, _, err = run(*argv, *store)
    assert code == 1 and "already ran in session 's1'" in err and "note:" not in err
    assert len(api.requests) == 3
