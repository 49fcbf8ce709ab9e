"""`apiactions eval --html`: one self-contained page, rendered by a real headless chromium."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions.cli.demo import store_actions_text
from langchain_apiactions.evaluation import CaseResult, EvalResult, RunInfo
from tests.clirun import run_cli
from tests.evalfiles import store_ab_files

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"> & </td></table><script>x</script>"


class Page(HTMLParser):
    """Tables by id (rows of cell texts), every tag, and every attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += attrs
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def chromium(page: Path, *args: str) -> str:
    proc = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={page.parent / 'profile'}", *args, page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_html_report_in_a_real_browser(tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian's chromium package (apt-get install chromium)"
    a, b = store_ab_files(tmp_path)
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {utterance: 'Where is my order?', expect: Check_Order_Status, args: {order_number: '12345'}, tags: [short]}\n"
        "- {utterance: 'Do you sell socks?', expect: Search_Products, tags: [products]}\n"
        "- {utterance: 'What is the weather?', expect: none}\n"
        f"- {{utterance: {HOSTILE!r}, expect: none, tags: [adversarial]}}\n".replace("\\'", "''")
    )
    page = tmp_path / "report.html"
    code, out = run_cli("eval", str(a), str(cases), "--model", "offline", "--compare", str(b),
                        "--html", str(page), "--no-history")  # fmt: skip
    assert code == 0, out
    assert f"report written to {page}" in out
    text = page.read_text(encoding="utf-8")
    # Self-contained: no script, no external style, font, image or link.
    source = parse(text)
    assert "script" not in source.tags and "link" not in source.tags and "img" not in source.tags
    assert not [v for k, v in source.attrs if k in ("src", "href")]
    assert "url(" not in text and "@import" not in text and "http" not in text.split("</head>")[1]
    dom = chromium(page, "--dump-dom")
    shown = parse(dom)
    assert "<title>Trigger eval:" in dom and "pwned" not in dom.split("</title>")[0]
    assert "img" not in shown.tags and "script" not in shown.tags
    t = shown.tables
    assert t["per-action"][0] == ["action", "precision", "recall", "F1", "support", "turns"]
    assert ["Check_Order_Status", "1.00", "1.00", "1.00", "1", "2.0"] in t["per-action"]
    assert t["confusion"][0][:2] == ["expected \\ chosen", "Check_Order_Status"]
    assert t["confusion"][-1][0] == "none" and t["confusion"][-1][-1] == "2"
    assert ["adversarial", "100.0%", "1"] in t["per-tag"]
    rows = {r[1]: r for r in t["cases"][1:]}
    assert rows[HOSTILE][2:5] == ["none", "none", "right"]
    assert rows["Where is my order?"][5:7] == ['{"order_number": "12345"}', "2"]
    assert t["broken"][1] == ["Do you sell socks?", "Search_Products", "Search_Products", "none"]
    [diff] = t["description-diff"]
    assert diff[0] == "Search_Products" and "shoes, shirts" in diff[1]
    assert "<del>" in dom  # the removed words are marked
    shot = tmp_path / "report.png"
    chromium(page, f"--screenshot={shot}", "--window-size=1200,1600")
    from PIL import Image

    histogram = Image.open(shot).convert("L").histogram()  # pixels per grey level
    assert sum(histogram[:200]) > sum(histogram) * 0.02  # text and tables drawn
    assert sum(1 for n in histogram if n) > 20  # not one flat colour


def test_to_html_plot_and_repr_html() -> None:
    from langchain_apiactions import OfflineChatModel
    from langchain_apiactions.evaluation import evaluate

    result = evaluate(store_actions_text(), [{"utterance": "Cancel order #5", "expect": "Cancel_Order"}],
                      OfflineChatModel())  # fmt: skip
    assert result.to_html().startswith("<!doctype html>")
    fragment = result._repr_html_()
    assert fragment.startswith("<style>") and 'id="per-action"' in fragment
    fig = result.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "chosen" and ax.get_title() == "<actions>: accuracy 100%"
    assert [t.get_text() for t in ax.texts] == ["1"]


text_values = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s.strip())


@given(utterance=text_values, reply=text_values, arg=text_values)
def test_untrusted_text_is_shown_as_text(utterance: str, reply: str, arg: str) -> None:
    case = CaseResult(utterance, "A", "none", {"q": arg}, None, None, ["none"], reply=reply)
    result = EvalResult("a.yaml", [case], ["A", "none"], RunInfo(model="offline"), {"A": arg})
    page = parse(result.to_html())
    assert page.tags <= {
        "html", "head", "meta", "title", "body", "h1", "h2", "h3", "style", "div", "section",
        "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "p", "b",
        "ul", "li",
    }  # fmt: skip
    row = page.tables["cases"][1]
    assert row[1] == utterance and row[7] == reply
    import json

    assert json.loads(row[5]) == {"q": arg}
