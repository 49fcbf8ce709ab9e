"""A toolkit, a tool and an artifact in a notebook: their repr and HTML show the action,
never a secret (in any form the stack writes), and render in a real browser as tables."""

from __future__ import annotations

import base64
import html
import json
import subprocess
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from langchain_apiactions import ArtifactView
from langchain_apiactions.redact import secret_forms
from tests.apiserver import ApiServer, Recorded, Reply
from tests.helpers import make_toolkit

CHROMIUM = Path("/usr/bin/chromium")
SECRETS = {
    "SHOP_TOKEN": "shpat-9f8e7d6c5b4a3210",
    "SHOP_QUERY_KEY": "qk/Live+Key&9=x",
    "DESK_USER": "agent@example.com/token",
    "DESK_PASSWORD": "zd-pass-77aa88bb99",
}
ACTIONS = """
defaults:
  headers: {X-Shop-Token: "${SHOP_TOKEN}"}
actions:
  - name: Check_Order_Status
    when_to_use: Use this action when the visitor asks where their order is.
    method: GET
    url: {api}/orders/{order_number}?key=${SHOP_QUERY_KEY}
    inputs:
      - {name: order_number, required: true, description: The visitor's order number}
      - {name: tags, array: true}
    response_fields: [{name: status, path: order.status}, {name: echo}]
    button: {label: Track my package, url: "https://track.example.com/{order_number}"}
    once_per_session: true
  - name: Open_Ticket
    when_to_use: Use this action when the visitor wants a human to follow up.
    method: POST
    url: {api}/tickets
    inputs: [{name: subject, required: true}, {name: visits, type: number}]
    auth: {type: basic, username: "${DESK_USER}", password: "${DESK_PASSWORD}"}
    body: {subject: "{subject}"}
    confirm: true
    close_chat: {farewell: Bye for now}
"""


def _forms() -> set[str]:
    basic = f"{SECRETS['DESK_USER']}:{SECRETS['DESK_PASSWORD']}"
    values = [*SECRETS.values(), base64.b64encode(basic.encode()).decode()]
    forms = {f for v in values for f in secret_forms(v)}
    return forms | {html.escape(f) for f in forms} | {html.escape(f, quote=False) for f in forms}


def _leaks(text: str) -> list[str]:
    return sorted(f for f in _forms() if f in text)


@pytest.fixture
def shop(api: ApiServer):  # type: ignore[no-untyped-def]
    # A careless API echoes every credential it was sent back in its answers.
    def echo(rec: Recorded) -> Reply:
        return Reply(200, {"order": {"status": "<b>Shipped</b>"}, "echo": [rec.query, rec.headers]})

    api.route("GET", "/orders/12345", echo)
    api.route("POST", "/tickets", lambda rec: Reply(201, {"echo": rec.headers}))
    toolkit = make_toolkit(ACTIONS.replace("{api}", api.url), env=SECRETS)
    yield toolkit
    toolkit.close()


def _artifacts(toolkit):  # type: ignore[no-untyped-def]
    out = []
    for name, args in [
        ("Check_Order_Status", {"order_number": "12345"}),
        ("Open_Ticket", {"subject": "Broken"}),
    ]:
        call = {"name": name, "args": args, "id": "1", "type": "tool_call"}
        message = toolkit.get_tool(name).invoke(call)
        out.append(message.artifact)
    return out


def test_no_secret_in_any_repr_or_html(shop, api: ApiServer) -> None:  # type: ignore[no-untyped-def]
    artifacts = _artifacts(shop)
    # The API really got the credentials (and echoed them).
    assert SECRETS["SHOP_TOKEN"] in json.dumps(api.requests[0].headers)
    views = [shop, *shop.get_tools(), *(ArtifactView(a) for a in artifacts)]
    for view in views:
        for shown in (repr(view), view._repr_html_()):
            assert _leaks(shown) == [], type(view).__name__
    assert "***" in ArtifactView(artifacts[0])._repr_html_()


def test_the_reprs_are_short_and_say_what_the_object_is(shop) -> None:  # type: ignore[no-untyped-def]
    artifact = _artifacts(shop)[0]
    assert repr(shop) == "ApiActionsToolkit(2 actions: Check_Order_Status, Open_Ticket)"
    tool = shop.get_tool("Open_Ticket")
    assert repr(tool).startswith("ApiActionTool(Open_Ticket: POST http://127.0.0.1:")
    assert len(repr(tool)) < 200
    assert repr(ArtifactView(artifact)) == "ArtifactView(Check_Order_Status: ✓ ok, HTTP 200)"


class _Cells(HTMLParser):
    """The text of each table row, and every tag, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _chromium(page: Path, *args: str) -> str:
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={page.parent / 'profile'}",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_html_renders_as_tables_in_a_real_browser(shop, api: ApiServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert CHROMIUM.exists(), "Debian's chromium package (apt-get install chromium)"
    artifact = _artifacts(shop)[0]
    artifact["data"]["status"] = "<img src=x onerror=\"document.title='pwned'\">"
    artifact["button"] = {"label": "Go", "url": "javascript:document.title='pwned'"}
    body = "".join(
        f"<section>{view._repr_html_()}</section>"
        for view in (shop, shop.get_tool("Check_Order_Status"), ArtifactView(artifact))
    )
    page = tmp_path / "view.html"
    page.write_text(f"<!doctype html><title>views</title><body>{body}</body>", encoding="utf-8")
    dom = _chromium(page, "--dump-dom")
    cells = _Cells()
    cells.feed(dom)
    assert "<title>views</title>" in dom  # no script ran
    assert "img" not in cells.tags and "script" not in cells.tags
    assert ["name", "method", "host", "inputs", "flags"] in cells.rows
    assert [
        "Check_Order_Status",
        "GET",
        urllib.parse.urlsplit(api.url).netloc,
        "order_number*, tags[]",
        "once per session, button",
    ] in cells.rows
    assert next(r[:2] for r in cells.rows if r[0] == "Open_Ticket") == ["Open_Ticket", "POST"]
    assert ["input", "type", "required", "description", "default"] in cells.rows
    assert ["order_number", "text", "yes", "The visitor's order number", ""] in cells.rows
    assert ["status", "<img src=x onerror=\"document.title='pwned'\">"] in cells.rows
    assert 'href="javascript' not in dom and "Go (javascript:" in dom  # not a link
    _chromium(page, "--screenshot=" + str(tmp_path / "view.png"), "--window-size=1000,900")
    assert (tmp_path / "view.png").stat().st_size > 10_000
