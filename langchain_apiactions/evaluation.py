"""Trigger evaluation: which action does a model choose for each visitor utterance?

No API is called: the model is bound to the compiled tools and only its choice (the first
tool call) and the arguments it filled in are recorded.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO, runtime_checkable

import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_apiactions.config import ApiAction, load_actions
from langchain_apiactions.errors import ActionConfigError
from langchain_apiactions.templating import text_value
from langchain_apiactions.tool import build_args_schema

__all__ = [
    "EvalCase",
    "EvalResult",
    "NamesPendingAction",
    "compare_results",
    "evaluate",
    "load_cases",
]

NONE = "none"
_CASE_KEYS = {"utterance", "turns", "expect", "expected", "args", "arguments"}


@dataclass(frozen=True)
class EvalCase:
    """One visitor conversation and the action it should trigger (or `none`)."""

    turns: tuple[str, ...]
    expected: str
    arguments: dict[str, Any] | None = None

    @property
    def utterance(self) -> str:
        return " / ".join(self.turns)


def _case_label(name: str, index: int, raw: Any) -> str:
    """`cases.yaml: case 3 ("Where is my order?")`: the case as its author finds it."""
    text = None
    if isinstance(raw, dict):
        text = raw.get("utterance")
        turns = raw.get("turns")
        if text is None and isinstance(turns, list) and turns:
            text = turns[0]
    shown = f' ("{text[:40]}")' if isinstance(text, str) else ""
    return f"{name}: case {index + 1}{shown}"


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_cases(
    source: str | Path | Sequence[Any], *, actions: Sequence[ApiAction] | None = None
) -> list[EvalCase]:
    """Read cases from a YAML file (or a list), checking them like an action file.

    Each case: `utterance: "..."` or `turns: ["...", "..."]`, `expect: Action_Name` (or
    `none`), optionally `args: {name: value}`. A case can also be a mapping with a single
    key, `"utterance": Action_Name`. Unknown keys are errors; with `actions`, so are an
    `expect` that names no action and `args` that name no input of it (each error names
    the case and suggests the closest name).

    Raises:
        ActionConfigError: every problem at once.
    """
    name = str(source) if isinstance(source, (str, Path)) else "<cases>"
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ActionConfigError([f"{name}: cannot read cases ({e})"]) from None
    else:
        data = source
    if isinstance(data, dict) and "cases" in data:
        data = data["cases"]
    if not isinstance(data, list):
        raise ActionConfigError([f"{name}: expected a list of cases"])
    cases: list[EvalCase] = []
    problems: list[str] = []
    for i, raw in enumerate(data):
        if isinstance(raw, dict) and len(raw) == 1 and not _CASE_KEYS & set(raw):
            ((utterance, expected),) = raw.items()
            raw = {"utterance": utterance, "expect": expected}
        where = _case_label(name, i, raw)
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        for key in raw:
            if key not in _CASE_KEYS:
                hint = _did_you_mean(str(key), sorted(_CASE_KEYS))
                problems.append(f"{where}: unknown key {key!r}{hint}")
        turns = raw.get("turns")
        if turns is None and isinstance(raw.get("utterance"), str):
            turns = [raw["utterance"]]
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            problems.append(f"{where}: needs `utterance` (text) or `turns` (a list of texts)")
            continue
        expected = raw.get("expect", raw.get("expected"))
        if expected is None or expected is False:
            expected = NONE
        args = raw.get("args", raw.get("arguments"))
        if args is not None and not isinstance(args, dict):
            problems.append(f"{where}: args: must be a mapping")
            continue
        cases.append(EvalCase(tuple(turns), str(expected), args))
        if actions is not None:
            problems += _check_case(where, cases[-1], actions)
    if problems:
        raise ActionConfigError(problems)
    return cases


def _check_case(where: str, case: EvalCase, actions: Sequence[ApiAction]) -> list[str]:
    """An `expect` that names no action, `args` that name no input of it."""
    by_name = {a.name: a for a in actions}
    if case.expected != NONE and case.expected not in by_name:
        hint = _did_you_mean(case.expected, [*by_name, NONE])
        return [f"{where}: expect: unknown action {case.expected!r}{hint}"]
    action = by_name.get(case.expected)
    problems: list[str] = []
    if case.arguments and action is None:
        problems.append(f"{where}: args: a case that expects none has no arguments")
    elif case.arguments and action is not None:
        inputs = [i.name for i in action.inputs]
        for key in case.arguments:
            if key not in inputs:
                hint = _did_you_mean(str(key), inputs)
                problems.append(f"{where}: args: {action.name} has no input {key!r}{hint}")
    return problems


@dataclass
class CaseResult:
    """What the model did for one case (over `repeat` samples)."""

    utterance: str
    expected: str
    chosen: str
    arguments: dict[str, Any]
    expected_arguments: dict[str, Any] | None
    arguments_ok: bool | None
    samples: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.chosen == self.expected

    @property
    def stability(self) -> float:
        """Share of samples that agree with the majority choice."""
        if not self.samples:
            return 1.0
        return Counter(self.samples).most_common(1)[0][1] / len(self.samples)


@dataclass
class EvalResult:
    """Metrics over a case set; `to_json()` for notebooks and files."""

    source: str
    cases: list[CaseResult]
    labels: list[str]

    @property
    def accuracy(self) -> float:
        return sum(c.correct for c in self.cases) / len(self.cases) if self.cases else 0.0

    @property
    def confusion(self) -> dict[str, dict[str, int]]:
        matrix = {e: dict.fromkeys(self.labels, 0) for e in self.labels}
        for c in self.cases:
            matrix.setdefault(c.expected, dict.fromkeys(self.labels, 0))
            matrix[c.expected][c.chosen] = matrix[c.expected].get(c.chosen, 0) + 1
        return matrix

    @property
    def per_action(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for label in self.labels:
            tp = sum(1 for c in self.cases if c.expected == label and c.chosen == label)
            fp = sum(1 for c in self.cases if c.expected != label and c.chosen == label)
            fn = sum(1 for c in self.cases if c.expected == label and c.chosen != label)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[label] = {
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "support": tp + fn,
            }
        return out

    @property
    def argument_accuracy(self) -> float | None:
        checked = [c.arguments_ok for c in self.cases if c.arguments_ok is not None]
        return sum(checked) / len(checked) if checked else None

    @property
    def stability(self) -> float:
        return sum(c.stability for c in self.cases) / len(self.cases) if self.cases else 1.0

    @property
    def misfires(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.correct]

    def table(self) -> list[dict[str, Any]]:
        """Per-action rows (pandas-free): `name, precision, recall, f1, support`."""
        return [{"action": name, **m} for name, m in self.per_action.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "accuracy": round(self.accuracy, 4),
            "argument_accuracy": (
                None if self.argument_accuracy is None else round(self.argument_accuracy, 4)
            ),
            "stability": round(self.stability, 4),
            "per_action": self.per_action,
            "confusion": self.confusion,
            "cases": [
                {
                    "utterance": c.utterance,
                    "expected": c.expected,
                    "chosen": c.chosen,
                    "correct": c.correct,
                    "arguments": c.arguments,
                    "expected_arguments": c.expected_arguments,
                    "arguments_ok": c.arguments_ok,
                    "stability": round(c.stability, 4),
                    "samples": c.samples,
                }
                for c in self.cases
            ],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, **kwargs)

    def report(self) -> str:
        """A readable text report: accuracy, per-action table, confusion, misfires."""
        lines = [f"{self.source}: accuracy {self.accuracy:.1%} on {len(self.cases)} cases"]
        if self.argument_accuracy is not None:
            lines[0] += f", arguments {self.argument_accuracy:.1%}"
        if any(len(c.samples) > 1 for c in self.cases):
            lines[0] += f", stability {self.stability:.1%}"
        width = max([len(x) for x in self.labels] + [6])
        lines.append(f"\n{'action':<{width}}  precision  recall     f1  support")
        for name, m in self.per_action.items():
            lines.append(
                f"{name:<{width}}  {m['precision']:>9.2f}  {m['recall']:>6.2f}  {m['f1']:>5.2f}"
                f"  {int(m['support']):>7}"
            )
        # Full names as column heads: `Book_Appoi` and `Book_Apoin` must not look alike.
        cols = {label: max(len(label), 4) for label in self.labels}
        lines.append("\nconfusion (rows: expected, columns: chosen)")
        lines.append(" " * (width + 2) + "  ".join(f"{x:>{cols[x]}}" for x in self.labels))
        for expected, row in self.confusion.items():
            cells = "  ".join(f"{row.get(x, 0):>{cols[x]}}" for x in self.labels)
            lines.append(f"{expected:<{width}}  {cells}")
        if self.misfires:
            lines.append("\nmisfires:")
            for c in self.misfires:
                lines.append(f"  {c.utterance!r}: expected {c.expected}, chose {c.chosen}")
        wrong_args = [c for c in self.cases if c.arguments_ok is False]
        if wrong_args:
            lines.append("\nwrong arguments:")
            for c in wrong_args:
                lines.append(
                    f"  {c.utterance!r}: expected {c.expected_arguments}, got {c.arguments}"
                )
        return "\n".join(lines)


@runtime_checkable
class NamesPendingAction(Protocol):
    """A model that says which action its question to the visitor collects inputs for.

    `OfflineChatModel` is one. For such a model, a case whose last reply asks for a
    missing input counts as choosing that action; for any other model it counts as `none`.
    """

    def pending_action(self, message: BaseMessage) -> str | None: ...


def _choose(
    bound: Any, case: EvalCase, names: NamesPendingAction | None
) -> tuple[str, dict[str, Any]]:
    messages: list[BaseMessage] = []
    reply: BaseMessage | None = None
    for turn in case.turns:
        messages.append(HumanMessage(turn))
        answer = bound.invoke(messages)
        if isinstance(answer, AIMessage) and answer.tool_calls:
            call = answer.tool_calls[0]
            return call["name"], dict(call["args"])
        reply = answer if isinstance(answer, AIMessage) else AIMessage(str(answer))
        messages.append(reply)
    pending = names.pending_action(reply) if names is not None and reply is not None else None
    return (pending, {}) if pending else (NONE, {})


def _args_match(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    # Compared as text, like the request renders them: 7, 7.0 and "7" are one value.
    def norm(v: Any) -> Any:
        if isinstance(v, list):
            return [norm(x) for x in v]
        return " ".join(text_value(v).split()).lower()

    return all(norm(got.get(k)) == norm(v) for k, v in expected.items())


def evaluate(
    actions: Any,
    cases: Any,
    model: BaseChatModel,
    *,
    repeat: int = 1,
    max_workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Run every case through `model` bound to the actions' tools (no API is called).

    Args:
        actions: Anything `load_actions` accepts.
        cases: A cases file path, or a list (see `load_cases`).
        model: Any LangChain chat model with `bind_tools` (or `OfflineChatModel`). A
            case whose last reply is a question counts as `none`, unless the model
            `NamesPendingAction` (as `OfflineChatModel` does): then as the action named.
        repeat: Samples per case, to measure how stable the choice is.
        max_workers: Cases run in parallel.
        progress: Called with `(done, total)` after each sample.
    """
    loaded: list[ApiAction] = load_actions(actions)
    if isinstance(cases, list) and cases and all(isinstance(c, EvalCase) for c in cases):
        case_list: list[EvalCase] = cases
        problems = [
            p for i, c in enumerate(cases) for p in _check_case(f"<cases>: case {i + 1}", c, loaded)
        ]
        if problems:
            raise ActionConfigError(problems)
    else:
        case_list = load_cases(cases, actions=loaded)
    source = loaded[0].source if loaded else "<actions>"
    tools = [_schema_only_tool(a) for a in loaded]
    bound = model.bind_tools(tools)
    jobs = [(i, case) for i, case in enumerate(case_list) for _ in range(max(repeat, 1))]
    results: dict[int, list[tuple[str, dict[str, Any]]]] = {i: [] for i in range(len(case_list))}
    done = 0

    names = model if isinstance(model, NamesPendingAction) else None

    def run(job: tuple[int, EvalCase]) -> tuple[int, tuple[str, dict[str, Any]]]:
        return job[0], _choose(bound, job[1], names)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for index, outcome in pool.map(run, jobs):
            results[index].append(outcome)
            done += 1
            if progress is not None:
                progress(done, len(jobs))
    action_names = [a.name for a in loaded]
    out: list[CaseResult] = []
    for i, case in enumerate(case_list):
        samples = results[i]
        choices = [s[0] for s in samples]
        chosen = Counter(choices).most_common(1)[0][0]
        arguments = next(a for c, a in samples if c == chosen)
        args_ok = None
        if case.arguments is not None and case.expected == chosen:
            args_ok = _args_match(case.arguments, arguments)
        elif case.arguments is not None:
            args_ok = False
        out.append(
            CaseResult(
                case.utterance, case.expected, chosen, arguments, case.arguments, args_ok, choices
            )
        )
    extra = sorted({c.expected for c in out} - {*action_names, NONE})
    return EvalResult(source, out, [*action_names, *extra, NONE])


def _schema_only_tool(action: ApiAction) -> dict[str, Any]:
    """The tool as the model sees it (OpenAI function format), with nothing callable."""
    schema = build_args_schema(action).model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {
        "type": "function",
        "function": {
            "name": action.name,
            "description": action.when_to_use or action.name,
            "parameters": schema,
        },
    }


def compare_results(a: EvalResult, b: EvalResult) -> str:
    """Side by side: accuracy and per-action F1 of two description versions."""
    names = list(dict.fromkeys(list(a.per_action) + list(b.per_action)))
    width = max([len(n) + 3 for n in names] + [8])
    lines = [
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
            lines.append(f"  {ca.utterance!r}: {ca.chosen} -> {cb.chosen} ({mark})")
    return "\n".join(lines)


class ProgressBar:
    """`evaluate`'s `progress` callback drawn by tqdm: a bar on a terminal that ends its
    line when closed, and nothing at all on a pipe or a file (no `\\r` frames in logs).
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out if out is not None else sys.stderr
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None or self._bar.total != total or done < self._bar.n:
            self.close()
            self._bar = tqdm(total=total, file=self.out, disable=None, unit="case", ascii=True)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """End the bar's line (a terminal only)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_bar(out: TextIO | None = None) -> ProgressBar:
    """A progress bar for `evaluate(..., progress=...)`; call `.close()` when done."""
    return ProgressBar(out)
