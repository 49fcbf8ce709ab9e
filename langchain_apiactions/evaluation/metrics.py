"""What an eval run measured: per-case outcomes, metrics, and the text report."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from langchain_apiactions.evaluation.cases import NONE

__all__ = ["CaseDiff", "CaseResult", "EvalMetrics", "Explained", "RunInfo", "diff_cases"]

COMPACT_OVER = 6  # more actions than this: the confusion matrix prints as a list


@dataclass(frozen=True)
class Explained:
    """One candidate action for a case, as the offline chooser scored it."""

    action: str
    score: float
    words: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "score": self.score, "words": list(self.words)}


@dataclass
class CaseResult:
    """What the model did for one case (over `repeat` samples).

    Attributes:
        utterance: The visitor's messages, joined with ` / `.
        expected: The action expected (the first of `accepted`).
        chosen: The first action the model called, `none`, or `error`.
        arguments: The arguments of that call.
        expected_arguments: The case's `args`.
        arguments_ok: Whether the arguments match (None: nothing to check).
        samples: The choice of every sample (`--repeat`).
        accepted: Every action that counts as right (`expect: [A, B]`).
        tags: The case's tags.
        split: `tune`, `holdout` or None.
        turns: Model turns until the action was called (or until the conversation ended).
        reply: The model's last text, for a case scored `none` or wrong.
        error: Why the case could not be measured (the model call kept failing).
        explain: The offline chooser's top three actions (`explain=True`).
    """

    utterance: str
    expected: str
    chosen: str
    arguments: dict[str, Any]
    expected_arguments: dict[str, Any] | None
    arguments_ok: bool | None
    samples: list[str] = field(default_factory=list)
    accepted: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    split: str | None = None
    turns: int = 1
    reply: str | None = None
    error: str | None = None
    explain: list[Explained] | None = None

    def __post_init__(self) -> None:
        if not self.accepted:
            self.accepted = (self.expected,)

    @property
    def correct(self) -> bool:
        return self.error is None and self.chosen in self.accepted

    @property
    def row(self) -> str:
        """The confusion-matrix row: the accepted action chosen, else the expected one."""
        return self.chosen if self.correct else self.expected

    @property
    def stability(self) -> float:
        """Share of samples that agree with the majority choice."""
        if not self.samples:
            return 1.0
        return Counter(self.samples).most_common(1)[0][1] / len(self.samples)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "utterance": self.utterance,
            "expected": self.expected,
            "chosen": self.chosen,
            "correct": self.correct,
            "arguments": self.arguments,
            "expected_arguments": self.expected_arguments,
            "arguments_ok": self.arguments_ok,
            "stability": round(self.stability, 4),
            "samples": self.samples,
            "turns": self.turns,
        }
        if len(self.accepted) > 1:
            data["accepted"] = list(self.accepted)
        if self.tags:
            data["tags"] = list(self.tags)
        if self.split:
            data["split"] = self.split
        if self.reply is not None:
            data["reply"] = self.reply
        if self.error is not None:
            data["error"] = self.error
        if self.explain is not None:
            data["explain"] = [e.to_dict() for e in self.explain]
        return data


@dataclass
class RunInfo:
    """How a run was made: the model, the time, the inputs' fingerprints, the calls.

    Attributes:
        model: `provider:name at host` (`offline` for the offline chooser).
        started: When the run started (UTC, ISO 8601).
        duration_s: Wall time of the run.
        actions_sha256: sha256 of each action file (or of the actions given).
        cases_sha256: sha256 of the cases file (or of the cases given).
        system_prompt_sha256: sha256 of the system prompt sent.
        input_tokens: Tokens sent, summed from the provider's usage (responses read
            from the cache are not counted).
        output_tokens: Tokens received, likewise.
        latency_p50_ms: Median latency of the model calls sent.
        latency_p95_ms: 95th percentile of the same.
        calls: Model calls sent.
        cached: Model responses read from the cache.
        retries: Calls retried after a 429 or 5xx.
        errors: Cases that ended in an error.
        max_turns: The run's `max_turns`.
        split: The split scored (None: every case).
    """

    model: str = ""
    started: str = ""
    duration_s: float = 0.0
    actions_sha256: dict[str, str] = field(default_factory=dict)
    cases_sha256: str = ""
    system_prompt_sha256: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    calls: int = 0
    cached: int = 0
    retries: int = 0
    errors: int = 0
    max_turns: int = 3
    split: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "time": self.started,
            "duration_s": round(self.duration_s, 3),
            "sha256": {
                "actions": self.actions_sha256,
                "cases": self.cases_sha256,
                "system_prompt": self.system_prompt_sha256,
            },
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "latency_ms": {"p50": self.latency_p50_ms, "p95": self.latency_p95_ms},
            "calls": self.calls,
            "cached": self.cached,
            "retries": self.retries,
            "errors": self.errors,
            "max_turns": self.max_turns,
            "split": self.split,
        }

    def summary(self) -> str:
        """`model offline; 12 calls, 0 cached, 0 retries, 0 errors; ...`."""
        parts = [f"model {self.model}", f"{self.calls} calls sent", f"{self.cached} cached"]
        parts += [f"{self.retries} retries", f"{self.errors} errors"]
        if self.input_tokens or self.output_tokens:
            parts.append(f"tokens {self.input_tokens} in / {self.output_tokens} out")
        if self.latency_p50_ms is not None:
            parts.append(
                f"latency p50 {self.latency_p50_ms:.0f} ms, p95 {self.latency_p95_ms:.0f} ms"
            )
        parts.append(f"{self.duration_s:.2f} s")
        return "; ".join(parts)


def _pct(value: float) -> str:
    return f"{value:.1%}"


@dataclass
class EvalMetrics:
    """Metrics over a case set and the text report. The public class is its subclass
    `EvalResult` (HTML and plots), whose docstring documents these fields."""

    source: str
    cases: list[CaseResult]
    labels: list[str]
    run: RunInfo = field(default_factory=RunInfo)
    descriptions: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def scored(self) -> list[CaseResult]:
        """The cases that did not end in an error (the metrics are over these)."""
        return [c for c in self.cases if c.error is None]

    @property
    def errors(self) -> list[CaseResult]:
        return [c for c in self.cases if c.error is not None]

    @property
    def accuracy(self) -> float:
        scored = self.scored
        return sum(c.correct for c in scored) / len(scored) if scored else 0.0

    @property
    def confusion(self) -> dict[str, dict[str, int]]:
        matrix = {e: dict.fromkeys(self.labels, 0) for e in self.labels}
        for c in self.scored:
            matrix.setdefault(c.row, dict.fromkeys(self.labels, 0))
            matrix[c.row][c.chosen] = matrix[c.row].get(c.chosen, 0) + 1
        return matrix

    @property
    def per_action(self) -> dict[str, dict[str, float]]:
        """`{action: {precision, recall, f1, support, turns}}`; `turns` is the mean number
        of model turns of the cases that chose the action (None when none did)."""
        out: dict[str, dict[str, Any]] = {}
        scored = self.scored
        for label in self.labels:
            tp = sum(1 for c in scored if c.row == label and c.chosen == label)
            fp = sum(1 for c in scored if c.row != label and c.chosen == label)
            fn = sum(1 for c in scored if c.row == label and c.chosen != label)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            turns = [c.turns for c in scored if c.chosen == label]
            out[label] = {
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "support": tp + fn,
                "turns": round(sum(turns) / len(turns), 2) if turns else None,
            }
        return out

    @property
    def per_tag(self) -> dict[str, dict[str, float]]:
        """`{tag: {accuracy, cases}}` over the scored cases carrying each tag."""
        tags = sorted({t for c in self.scored for t in c.tags})
        out: dict[str, dict[str, float]] = {}
        for tag in tags:
            having = [c for c in self.scored if tag in c.tags]
            out[tag] = {
                "accuracy": round(sum(c.correct for c in having) / len(having), 4),
                "cases": len(having),
            }
        return out

    @property
    def per_split(self) -> dict[str, dict[str, float]]:
        """`{tune: {accuracy, cases}, holdout: {...}}` when the cases are split."""
        out: dict[str, dict[str, float]] = {}
        for split in ("tune", "holdout"):
            having = [c for c in self.scored if c.split == split]
            if having:
                out[split] = {
                    "accuracy": round(sum(c.correct for c in having) / len(having), 4),
                    "cases": len(having),
                }
        return out

    @property
    def confused_pairs(self) -> list[tuple[str, str, int]]:
        """Pairs of actions the model took one for the other, most often first."""
        counts: Counter[tuple[str, str]] = Counter()
        for c in self.scored:
            if not c.correct and NONE not in (c.expected, c.chosen):
                a, b = sorted((c.expected, c.chosen))
                counts[(a, b)] += 1
        return [(a, b, n) for (a, b), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    @property
    def argument_accuracy(self) -> float | None:
        checked = [c.arguments_ok for c in self.scored if c.arguments_ok is not None]
        return sum(checked) / len(checked) if checked else None

    @property
    def stability(self) -> float:
        scored = self.scored
        return sum(c.stability for c in scored) / len(scored) if scored else 1.0

    @property
    def misfires(self) -> list[CaseResult]:
        return [c for c in self.scored if not c.correct]

    def table(self) -> list[dict[str, Any]]:
        """Per-action rows (pandas-free): `action, precision, recall, f1, support, turns`."""
        return [{"action": name, **m} for name, m in self.per_action.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            **self.run.to_dict(),
            "accuracy": round(self.accuracy, 4),
            "argument_accuracy": (
                None if self.argument_accuracy is None else round(self.argument_accuracy, 4)
            ),
            "stability": round(self.stability, 4),
            "per_action": self.per_action,
            "per_tag": self.per_tag,
            "per_split": self.per_split,
            "confusion": self.confusion,
            "confused_pairs": [{"actions": [a, b], "count": n} for a, b, n in self.confused_pairs],
            "warnings": self.warnings,
            "cases": [c.to_dict() for c in self.cases],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, **kwargs)

    def report(self, *, explain: bool = False) -> str:
        """A readable text report: accuracy, per-action table, confusion, misfires."""
        scored = self.scored
        lines = [f"{self.source}: accuracy {_pct(self.accuracy)} on {len(scored)} cases"]
        if self.argument_accuracy is not None:
            lines[0] += f", arguments {_pct(self.argument_accuracy)}"
        if any(len(c.samples) > 1 for c in scored):
            lines[0] += f", stability {_pct(self.stability)}"
        if self.errors:
            lines[0] += f" ({len(self.errors)} more ended in an error, not scored)"
        if self.run.model:
            lines.append(self.run.summary())
        if self.per_split:
            lines.append(
                "splits: "
                + ", ".join(
                    f"{s} {_pct(m['accuracy'])} ({int(m['cases'])} cases)"
                    for s, m in self.per_split.items()
                )
            )
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        width = max([len(x) for x in self.labels] + [6])
        lines.append(f"\n{'action':<{width}}  precision  recall     f1  support  turns")
        for name, m in self.per_action.items():
            turns = "" if m["turns"] is None else f"{m['turns']:.1f}"
            lines.append(
                f"{name:<{width}}  {m['precision']:>9.2f}  {m['recall']:>6.2f}  {m['f1']:>5.2f}"
                f"  {int(m['support']):>7}  {turns:>5}"
            )
        if self.per_tag:
            tag_width = max(len(t) for t in self.per_tag)
            lines.append("\naccuracy per tag")
            for tag, m in self.per_tag.items():
                lines.append(
                    f"  {tag:<{tag_width}}  {_pct(m['accuracy']):>6}  ({int(m['cases'])} cases)"
                )
        lines += self._confusion_lines(width)
        if self.confused_pairs:
            lines.append("\nactions the model confused:")
            for a, b, n in self.confused_pairs:
                lines.append(f"  {a} <-> {b}: {n}")
        if self.misfires:
            lines.append("\nmisfires:")
            for c in self.misfires:
                lines.append(f"  {c.utterance!r}: expected {c.expected}, chose {c.chosen}")
                if explain:
                    lines += _explain_lines(c)
        wrong_args = [c for c in scored if c.arguments_ok is False and c.correct]
        if wrong_args:
            lines.append("\nwrong arguments:")
            for c in wrong_args:
                lines.append(
                    f"  {c.utterance!r}: expected {c.expected_arguments}, got {c.arguments}"
                )
        if self.errors:
            lines.append("\nerrors (not scored):")
            for c in self.errors:
                lines.append(f"  {c.utterance!r}: {c.error}")
        return "\n".join(lines)

    def _confusion_lines(self, width: int) -> list[str]:
        matrix = self.confusion
        if len([x for x in self.labels if x != NONE]) > COMPACT_OVER:
            cells = [
                (n, expected, chosen)
                for expected, row in matrix.items()
                for chosen, n in row.items()
                if n and chosen != expected
            ]
            lines = ["\nconfusion (off the diagonal: expected -> chosen)"]
            if not cells:
                lines.append("  (nothing off the diagonal)")
            for n, expected, chosen in sorted(cells, key=lambda t: (-t[0], t[1], t[2])):
                lines.append(f"  {expected} -> {chosen}: {n}")
            return lines
        # Full names as column heads: `Book_Appoi` and `Book_Apoin` must not look alike.
        cols = {label: max(len(label), 4) for label in self.labels}
        lines = ["\nconfusion (rows: expected, columns: chosen)"]
        lines.append(" " * (width + 2) + "  ".join(f"{x:>{cols[x]}}" for x in self.labels))
        for expected, row in matrix.items():
            cells_text = "  ".join(f"{row.get(x, 0):>{cols[x]}}" for x in self.labels)
            lines.append(f"{expected:<{width}}  {cells_text}")
        return lines


def _explain_lines(c: CaseResult) -> list[str]:
    lines: list[str] = []
    if c.explain:
        for e in c.explain:
            matched = f" ({', '.join(e.words)})" if e.words else ""
            lines.append(f"      {e.action}: {e.score:.3f}{matched}")
    if c.reply:
        lines.append(f"      reply: {c.reply!r}")
    return lines


@dataclass(frozen=True)
class CaseDiff:
    """How the cases' outcomes changed from run A to run B (same cases, same order)."""

    fixed: list[tuple[CaseResult, CaseResult]]
    broken: list[tuple[CaseResult, CaseResult]]
    still_wrong: list[tuple[CaseResult, CaseResult]]


def diff_cases(a: EvalMetrics, b: EvalMetrics) -> CaseDiff:
    """Fixed (wrong in A, right in B), broken (right in A, wrong in B), still wrong."""
    fixed, broken, still = [], [], []
    for ca, cb in zip(a.cases, b.cases, strict=False):
        if ca.error is not None or cb.error is not None:
            continue
        if cb.correct and not ca.correct:
            fixed.append((ca, cb))
        elif ca.correct and not cb.correct:
            broken.append((ca, cb))
        elif not ca.correct and not cb.correct:
            still.append((ca, cb))
    return CaseDiff(fixed, broken, still)
