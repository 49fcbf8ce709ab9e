"""The eval report as HTML (one self-contained page) and the confusion matrix as a plot.

Everything shown comes from the run: visitor utterances, model replies and arguments
are untrusted text, escaped everywhere (`html.escape`, quotes included); the page has no
scripts, no external styles or fonts, and no links out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_apiactions.evaluation.compare import description_diff
from langchain_apiactions.evaluation.metrics import CaseResult, EvalMetrics, diff_cases

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_confusion", "render_fragment", "render_page"]

_STYLE = """
.apiactions-eval{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d2433;line-height:1.4;max-width:1200px;margin:0 auto;padding:16px}
.apiactions-eval h1{font-size:1.5em;margin:.2em 0 .4em}
.apiactions-eval h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #d7dce5}
.apiactions-eval table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
.apiactions-eval th,.apiactions-eval td{border:1px solid #d7dce5;padding:3px 8px;
text-align:left;vertical-align:top}
.apiactions-eval th{background:#f1f3f7}
.apiactions-eval td.num{text-align:right;font-variant-numeric:tabular-nums}
.apiactions-eval .big{font-size:2.2em;font-weight:600}
.apiactions-eval .ok{color:#17692e}.apiactions-eval .bad{color:#a3231a}
.apiactions-eval .warn{background:#fff4d6;border:1px solid #e8c766;padding:4px 8px;margin:4px 0}
.apiactions-eval .heat td{text-align:center;min-width:2.4em}
.apiactions-eval code,.apiactions-eval pre{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.85em;white-space:pre-wrap;word-break:break-word;margin:0}
.apiactions-eval del{background:#fbd4d0;text-decoration:line-through}
.apiactions-eval ins{background:#cdeed6;text-decoration:none}
.apiactions-eval dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
.apiactions-eval dt{font-weight:600}.apiactions-eval dd{margin:0}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _json_text(value: Any) -> str:
    return _e(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))


def _table(table_id: str, heads: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    cls = f' class="{css}"' if css else ""
    return (
        f'<table id="{table_id}"{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _td(value: Any, num: bool = False) -> str:
    return f'<td class="num">{_e(value)}</td>' if num else f"<td>{_e(value)}</td>"


def _summary(r: EvalMetrics, suffix: str = "") -> str:
    run = r.run
    rows = [
        ("actions", r.source),
        ("model", run.model or "(not recorded)"),
        ("time", run.started),
        ("cases", f"{len(r.scored)} scored, {len(r.errors)} errors"),
        (
            "argument accuracy",
            "-" if r.argument_accuracy is None else f"{r.argument_accuracy:.1%}",
        ),
        ("calls", f"{run.calls} sent, {run.cached} cached, {run.retries} retries"),
        ("usage", f"{run.input_tokens} input / {run.output_tokens} output tokens"),
        (
            "latency",
            "-"
            if run.latency_p50_ms is None
            else f"p50 {run.latency_p50_ms:.0f} ms, p95 {run.latency_p95_ms:.0f} ms",
        ),
        ("max turns", str(run.max_turns)),
        ("split", run.split or "all cases"),
        ("sha256 actions", ", ".join(f"{k}: {v[:12]}" for k, v in run.actions_sha256.items())),
        ("sha256 cases", run.cases_sha256[:12]),
        ("sha256 system prompt", run.system_prompt_sha256[:12]),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    splits = "".join(
        f"<dt>{_e(name)} split</dt><dd>{m['accuracy']:.1%} of {int(m['cases'])} cases</dd>"
        for name, m in r.per_split.items()
    )
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in r.warnings)
    return (
        f'<section id="summary{suffix}"><div class="big">accuracy {r.accuracy:.1%}</div>'
        f"<dl>{items}{splits}</dl>{warnings}</section>"
    )


def _per_action(r: EvalMetrics, suffix: str = "") -> str:
    rows = [
        [
            _td(name),
            _td(f"{m['precision']:.2f}", True),
            _td(f"{m['recall']:.2f}", True),
            _td(f"{m['f1']:.2f}", True),
            _td(int(m["support"]), True),
            _td("-" if m["turns"] is None else f"{m['turns']:.1f}", True),
        ]
        for name, m in r.per_action.items()
    ]
    heads = ["action", "precision", "recall", "F1", "support", "turns"]
    return "<h2>Per action</h2>" + _table(f"per-action{suffix}", heads, rows)


def _heatmap(r: EvalMetrics, suffix: str = "") -> str:
    matrix = r.confusion
    labels = list(r.labels)
    top = max([n for row in matrix.values() for n in row.values()] + [1])
    rows = []
    for expected in matrix:
        cells = [f"<th>{_e(expected)}</th>"]
        for chosen in labels:
            n = matrix[expected].get(chosen, 0)
            alpha = 0.12 + 0.78 * n / top if n else 0.0
            rgb = "23,105,46" if chosen == expected else "163,35,26"
            style = f' style="background:rgba({rgb},{alpha:.2f})' + (
                ';color:#fff"' if alpha > 0.55 else '"'
            )
            title = f"expected {expected}, chosen {chosen}: {n}"
            cells.append(f'<td{style if n else ""} title="{_e(title)}">{n}</td>')
        rows.append(cells)
    head = ["expected \\ chosen", *labels]
    table = _table(f"confusion{suffix}", head, rows, "heat")
    pairs = ""
    if r.confused_pairs:
        items = "".join(f"<li>{_e(a)} &harr; {_e(b)}: {n}</li>" for a, b, n in r.confused_pairs)
        pairs = f'<p>Actions the model confused:</p><ul id="confused-pairs{suffix}">{items}</ul>'
    return "<h2>Confusion (rows: expected, columns: chosen)</h2>" + table + pairs


def _per_tag(r: EvalMetrics, suffix: str = "") -> str:
    if not r.per_tag:
        return "<h2>Per tag</h2><p>No case has tags.</p>"
    rows = [
        [_td(tag), _td(f"{m['accuracy']:.1%}", True), _td(int(m["cases"]), True)]
        for tag, m in r.per_tag.items()
    ]
    return "<h2>Per tag</h2>" + _table(f"per-tag{suffix}", ["tag", "accuracy", "cases"], rows)


def _case_row(i: int, c: CaseResult) -> list[str]:
    mark = (
        '<td class="bad">error</td>'
        if c.error is not None
        else ('<td class="ok">right</td>' if c.correct else '<td class="bad">wrong</td>')
    )
    said = c.error if c.error is not None else (c.reply or "")
    expected = " or ".join(c.accepted)
    return [
        _td(i + 1, True),
        _td(c.utterance),
        _td(expected),
        _td(c.chosen),
        mark,
        f"<td><code>{_json_text(c.arguments)}</code></td>",
        _td(c.turns, True),
        f"<td><pre>{_e(said)}</pre></td>",
        _td(", ".join(c.tags)),
        _td(c.split or ""),
    ]


def _cases(r: EvalMetrics, suffix: str = "") -> str:
    heads = ["#", "utterance", "expected", "chosen", "", "arguments", "turns", "reply / error"]
    heads += ["tags", "split"]
    rows = [_case_row(i, c) for i, c in enumerate(r.cases)]
    return "<h2>Every case</h2>" + _table(f"cases{suffix}", heads, rows)


def _compare(a: EvalMetrics, b: EvalMetrics, suffix: str = "") -> str:
    diff = diff_cases(a, b)
    parts = [
        "<h2>A/B</h2>",
        f"<p>A <b>{_e(a.source)}</b> {a.accuracy:.1%} &rarr; B <b>{_e(b.source)}</b> "
        f"{b.accuracy:.1%} ({b.accuracy - a.accuracy:+.1%}): {len(diff.fixed)} fixed, "
        f"{len(diff.broken)} broken, {len(diff.still_wrong)} still wrong.</p>",
    ]
    for key, title, pairs in (
        ("fixed", "Fixed", diff.fixed),
        ("broken", "Broken", diff.broken),
        ("still-wrong", "Still wrong", diff.still_wrong),
    ):
        rows = [[_td(ca.utterance), _td(" or ".join(ca.accepted)), _td(ca.chosen), _td(cb.chosen)]
                for ca, cb in pairs]  # fmt: skip
        heads = ["utterance", "expected", "A chose", "B chose"]
        body = _table(key + suffix, heads, rows) if rows else f'<p id="{key}{suffix}">none</p>'
        parts.append(f"<h3>{title}</h3>{body}")
    changes = description_diff(a, b)
    if changes:
        items = []
        for name, runs in changes:
            text = "".join(
                f"<del>{_e(t)}</del> "
                if op == "-"
                else (f"<ins>{_e(t)}</ins> " if op == "+" else f"{_e(t)} ")
                for op, t in runs
            )
            items.append(f"<tr><th>{_e(name)}</th><td>{text.strip()}</td></tr>")
        parts.append(
            f'<h3>Descriptions changed</h3><table id="description-diff{suffix}"><tbody>'
            + "".join(items)
            + "</tbody></table>"
        )
    else:
        parts.append(f'<h3>Descriptions changed</h3><p id="description-diff{suffix}">none</p>')
    return "".join(parts)


def _sections(result: EvalMetrics, compare: EvalMetrics | None, suffix: str = "") -> list[str]:
    body = [_summary(result, suffix)]
    if compare is not None:
        body.append(_compare(result, compare, suffix))
        body.append("<h2>B</h2>" + _summary(compare, suffix + "-b"))
        body.append(_per_action(compare, suffix + "-b"))
        body.append("<h2>A</h2>")
    body += [
        _per_action(result, suffix),
        _heatmap(result, suffix),
        _per_tag(result, suffix),
        _cases(result, suffix),
    ]
    if compare is not None:
        b = suffix + "-b"
        body += [_heatmap(compare, b), _per_tag(compare, b), _cases(compare, b)]
    return body


def render_fragment(result: EvalMetrics, *, compare: EvalMetrics | None = None) -> str:
    """The report's body (for a notebook's `_repr_html_`): style scoped to the block."""
    body = [f"<style>{_STYLE}</style>", '<div class="apiactions-eval">']
    body += _sections(result, compare)
    body.append("</div>")
    return "".join(body)


def render_page(
    result: EvalMetrics,
    *,
    compare: EvalMetrics | None = None,
    title: str | None = None,
    more: Sequence[tuple[EvalMetrics, EvalMetrics | None]] = (),
) -> str:
    """One self-contained HTML page: no scripts, no external styles, fonts or images.

    `more` adds the runs of other models on the same cases (`--model a,b`), each in its
    own section; the first section's tables have the plain ids (`per-action`, ...), the
    next ones `-m2`, `-m3` after them.
    """
    heading = title or f"Trigger eval: {result.source}"
    runs = [(result, compare), *more]
    body = [f"<style>{_STYLE}</style>", '<div class="apiactions-eval">']
    for i, (a, b) in enumerate(runs):
        if len(runs) > 1:
            body.append(f'<h1 id="model{i + 1}">model: {_e(a.run.model)}</h1>')
        body += _sections(a, b, f"-m{i + 1}" if i else "")
    body.append("</div>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{_e(heading)}</title></head><body>"
        f'<h1 class="apiactions-eval" style="font-family:system-ui,sans-serif">{_e(heading)}</h1>'
        + "".join(body)
        + "</body></html>\n"
    )


def plot_confusion(result: EvalMetrics, *, title: str | None = None) -> Figure:
    """The confusion matrix as a matplotlib figure (rows expected, columns chosen)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - matplotlib is in the `plot` extra
        msg = "EvalResult.plot() needs matplotlib: pip install 'langchain-apiactions[plot]'"
        raise ImportError(msg) from e
    labels = list(result.labels)
    grid = [[result.confusion[e].get(c, 0) for c in labels] for e in result.confusion]
    rows = list(result.confusion)
    size = max(4.0, 0.6 * len(labels) + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), [x.replace("_", "\n") for x in labels], fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("chosen")
    ax.set_ylabel("expected")
    ax.set_title(title or f"{result.source}: accuracy {result.accuracy:.0%}")
    top = max([n for row in grid for n in row] + [1])
    for i, row in enumerate(grid):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, str(n), ha="center", va="center",
                        color="white" if n > top / 2 else "black")  # fmt: skip
    fig.tight_layout()
    return fig
