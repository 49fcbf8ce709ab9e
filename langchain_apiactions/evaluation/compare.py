"""A/B comparison of two eval runs on the same cases: what was fixed, broken, still wrong."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from langchain_apiactions.evaluation.metrics import CaseResult, EvalMetrics, diff_cases

__all__ = ["compare_results", "description_diff", "split_verdict"]


def _case_line(ca: CaseResult, cb: CaseResult) -> str:
    return f"  {ca.utterance!r}: {ca.chosen} -> {cb.chosen}"


def compare_results(a: EvalMetrics, b: EvalMetrics) -> str:
    """The cases fixed, broken and still wrong first, then accuracy and F1 side by side."""
    diff = diff_cases(a, b)
    lines: list[str] = []
    lines.append(
        f"{len(diff.fixed)} fixed, {len(diff.broken)} broken, {len(diff.still_wrong)} still wrong"
    )
    for title, pairs, mark in (
        ("fixed", diff.fixed, "fixed"),
        ("broken", diff.broken, "broken"),
        ("still wrong", diff.still_wrong, "still wrong"),
    ):
        if pairs:
            lines.append(f"\n{title}:")
            lines += [f"{_case_line(ca, cb)} ({mark})" for ca, cb in pairs]
    names = list(dict.fromkeys(list(a.per_action) + list(b.per_action)))
    width = max([len(n) + 3 for n in names] + [8])
    lines += [
        "",
        f"{'':<{width}}  {'A':>8}  {'B':>8}  {'change':>8}",
        f"{'accuracy':<{width}}  {a.accuracy:>8.1%}  {b.accuracy:>8.1%}"
        f"  {b.accuracy - a.accuracy:>+8.1%}",
    ]
    for name in names:
        fa = a.per_action.get(name, {}).get("f1", 0.0)
        fb = b.per_action.get(name, {}).get("f1", 0.0)
        lines.append(f"{name + ' F1':<{width}}  {fa:>8.2f}  {fb:>8.2f}  {fb - fa:>+8.2f}")
    changed = [(ca, cb) for ca, cb in zip(a.cases, b.cases, strict=False) if ca.chosen != cb.chosen]
    if changed:
        lines.append("\ncases whose choice changed:")
        for ca, cb in changed:
            mark = "fixed" if cb.correct else ("broken" if ca.correct else "still wrong")
            lines.append(f"{_case_line(ca, cb)} ({mark})")
    return "\n".join(lines)


def description_diff(a: EvalMetrics, b: EvalMetrics) -> list[tuple[str, list[tuple[str, str]]]]:
    """Per action whose `when_to_use` changed: `(op, words)` runs, op in `= - +`."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for name in dict.fromkeys([*a.descriptions, *b.descriptions]):
        old = a.descriptions.get(name, "")
        new = b.descriptions.get(name, "")
        if old == new:
            continue
        wa, wb = old.split(), new.split()
        runs: list[tuple[str, str]] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes():
            if op == "equal":
                runs.append(("=", " ".join(wa[i1:i2])))
                continue
            if i2 > i1:
                runs.append(("-", " ".join(wa[i1:i2])))
            if j2 > j1:
                runs.append(("+", " ".join(wb[j1:j2])))
        out.append((name, runs))
    return out


def split_verdict(
    labels: Sequence[str], pairs: Sequence[tuple[EvalMetrics, EvalMetrics]]
) -> str | None:
    """A change that raises one model's accuracy and lowers another's, said as such.

    `pairs[i]` is (A, B) for the model `labels[i]`. With the two offline choosers the
    line reads "helps only one offline matcher".
    """
    deltas = [(label, b.accuracy - a.accuracy) for label, (a, b) in zip(labels, pairs, strict=True)]
    if not (any(d > 0 for _, d in deltas) and any(d < 0 for _, d in deltas)):
        return None
    offline = all(label.startswith("offline") for label in labels)
    what = "helps only one offline matcher" if offline else "helps only one model"
    detail = ", ".join(f"{label} {d:+.1%}" for label, d in deltas)
    return f"{what}: {detail}"
