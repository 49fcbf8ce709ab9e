"""The notebook HTML of an artifact and a tool: API text never becomes markup."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions import ArtifactView, load_actions
from langchain_apiactions.display import MAX_VALUE_CHARS, artifact_html, tool_html

OURS = {"style", "div", "b", "span", "br", "code", "p", "table", "thead", "tbody", "tr"}
OURS |= {"th", "td", "pre", "a"}
PIECES = [*"<>&\"'=/ ab:;", "<script>", "</td>", "javascript:", "&amp;", "<a href=x>", "-->"]
hostile = st.lists(st.sampled_from(PIECES), max_size=20).map("".join) | st.text(max_size=60)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _artifact(value: str, error: str, label: str, url: str) -> dict[str, Any]:
    return {
        "action": "Check_Order_Status",
        "ok": not error,
        "status_code": 200,
        "data": {"status": value, "nested": {"x": value}},
        "missing_fields": [value] if value else [],
        "error": error or None,
        "triggered_response": value,
        "button": {"label": label, "url": url},
        "close_chat": True,
        "farewell": value,
        "skipped": False,
        "request": {"method": "GET", "url": f"https://api.example.com/{url}", "elapsed_ms": 1.0},
    }


@given(value=hostile, error=hostile, label=hostile, url=hostile)
def test_api_text_in_an_artifact_stays_text(value: str, error: str, label: str, url: str) -> None:
    html = artifact_html(_artifact(value, error, label, url))
    page = _parse(html)
    assert set(page.tags) <= OURS
    assert page.tags.count("a") <= 1
    for href in page.hrefs:
        assert href.lower().startswith(("http://", "https://")), href
    if value and len(value) <= MAX_VALUE_CHARS:
        assert value in page.text  # the status cell: exactly the API's text


@given(description=hostile, default=hostile)
def test_a_tools_description_and_defaults_stay_text(description: str, default: str) -> None:
    (action,) = load_actions(
        [
            {
                "name": "Find",
                "when_to_use": description,
                "method": "GET",
                "url": "https://api.example.com/find",
                "inputs": [{"name": "q", "description": description, "default": default}],
            }
        ]
    )
    page = _parse(tool_html(action))
    assert set(page.tags) <= OURS and "a" not in page.tags


def test_a_long_value_is_cut_and_says_how_much_is_left() -> None:
    html = ArtifactView(_artifact("x" * 1000, "", "Go", "https://t.example/1"))._repr_html_()
    assert "x" * MAX_VALUE_CHARS + "… [700 more characters]" in html
    assert 'href="https://t.example/1"' in html
