"""The run history: one JSON line per eval run in `runs.jsonl` of the cache directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_apiactions.evaluation.metrics import EvalMetrics

__all__ = ["HISTORY_FILE", "HistoryEntry", "append_run", "format_history", "read_runs"]

HISTORY_FILE = "runs.jsonl"


@dataclass(frozen=True)
class HistoryEntry:
    """One past run, as `runs.jsonl` keeps it."""

    time: str
    model: str
    source: str
    accuracy: float
    cases: int
    sha256: dict[str, Any] = field(default_factory=dict)
    f1: dict[str, float] = field(default_factory=dict)
    split: str | None = None
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "model": self.model,
            "source": self.source,
            "accuracy": self.accuracy,
            "cases": self.cases,
            "sha256": self.sha256,
            "f1": self.f1,
            "split": self.split,
            "errors": self.errors,
        }


def entry_for(result: EvalMetrics) -> HistoryEntry:
    run = result.run
    return HistoryEntry(
        time=run.started,
        model=run.model,
        source=result.source,
        accuracy=round(result.accuracy, 4),
        cases=len(result.scored),
        sha256={
            "actions": run.actions_sha256,
            "cases": run.cases_sha256,
            "system_prompt": run.system_prompt_sha256,
        },
        f1={name: m["f1"] for name, m in result.per_action.items()},
        split=run.split,
        errors=run.errors,
    )


def append_run(cache_dir: str | Path, result: EvalMetrics) -> Path:
    """Append `result` to `cache_dir/runs.jsonl` (one line, written with one `write`)."""
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / HISTORY_FILE
    line = json.dumps(entry_for(result).to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return path


def read_runs(cache_dir: str | Path) -> list[HistoryEntry]:
    """The runs recorded in `cache_dir/runs.jsonl`, oldest first (bad lines skipped)."""
    path = Path(cache_dir) / HISTORY_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries: list[HistoryEntry] = []
    for line in lines:
        try:
            data = json.loads(line)
            entries.append(
                HistoryEntry(
                    time=str(data["time"]),
                    model=str(data["model"]),
                    source=str(data["source"]),
                    accuracy=float(data["accuracy"]),
                    cases=int(data["cases"]),
                    sha256=dict(data.get("sha256") or {}),
                    f1={str(k): float(v) for k, v in (data.get("f1") or {}).items()},
                    split=data.get("split"),
                    errors=int(data.get("errors") or 0),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return entries


def format_history(entries: list[HistoryEntry]) -> str:
    """One line per run: time, accuracy, cases, model, file, short hashes."""
    if not entries:
        return "no runs recorded yet"
    lines = []
    for e in entries:
        actions = ",".join(v[:8] for v in (e.sha256.get("actions") or {}).values())
        cases = str(e.sha256.get("cases") or "")[:8]
        prompt = str(e.sha256.get("system_prompt") or "")[:8]
        split = f" [{e.split}]" if e.split else ""
        errors = f", {e.errors} errors" if e.errors else ""
        lines.append(
            f"{e.time}  {e.accuracy:6.1%}  {e.cases:>4} cases{errors}{split}  {e.model}  "
            f"{e.source}  actions {actions} cases {cases} prompt {prompt}"
        )
    return "\n".join(lines)
