"""Trigger evaluation: which action does a model call for each visitor conversation?

Each case runs the conversation the agent has (its system prompt, the same tools, a
simulated visitor who answers the model's questions with the case's `args`) up to the
first action called; no API is called. Modules: `cases` (the cases file), `run`
(`evaluate`), `calls` (the model, disk cache, retries), `result` (metrics and the text
report), `compare` (A/B), `html` (the HTML page and the plot), `history` (`runs.jsonl`).
"""

from __future__ import annotations

from langchain_apiactions.evaluation.calls import ModelInfo, describe_model
from langchain_apiactions.evaluation.cases import NONE, EvalCase, load_cases
from langchain_apiactions.evaluation.compare import compare_results, split_verdict
from langchain_apiactions.evaluation.history import HistoryEntry, format_history, read_runs
from langchain_apiactions.evaluation.metrics import (
    CaseDiff,
    CaseResult,
    EvalMetrics,
    Explained,
    RunInfo,
    diff_cases,
)
from langchain_apiactions.evaluation.progress import ProgressBar, progress_bar
from langchain_apiactions.evaluation.result import EvalResult
from langchain_apiactions.evaluation.run import DEFAULT_CACHE_DIR, ERROR, evaluate, visitor_answer

__all__ = [
    "DEFAULT_CACHE_DIR",
    "ERROR",
    "NONE",
    "CaseDiff",
    "CaseResult",
    "EvalCase",
    "EvalMetrics",
    "EvalResult",
    "Explained",
    "HistoryEntry",
    "ModelInfo",
    "ProgressBar",
    "RunInfo",
    "compare_results",
    "describe_model",
    "diff_cases",
    "evaluate",
    "format_history",
    "load_cases",
    "progress_bar",
    "read_runs",
    "split_verdict",
    "visitor_answer",
]
