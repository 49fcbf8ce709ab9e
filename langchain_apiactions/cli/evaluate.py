"""`apiactions eval`: measure which action a model calls for each visitor case."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from langchain_apiactions.cli.options import _UsageError, add_command, cassette_option
from langchain_apiactions.errors import ModelSpecError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_openai import ChatOpenAI

    from langchain_apiactions.config import ApiAction
    from langchain_apiactions.evaluation import EvalResult

__all__ = ["add_arguments", "add_parser", "build_model", "chat_openai", "default_model_spec", "run"]

MODEL_HELP = (
    "the chat model(s), comma-separated to score several in one run: `offline` (the "
    "built-in lexical stand-in, not an LLM), `offline-semantic` (the same, choosing by "
    "meaning with the packaged embedding model: extra `select`), `openai:<model>` (extra "
    "`openai`; any OpenAI-compatible server with --base-url). Without --model: "
    "openai:gpt-4.1-mini when OPENAI_API_KEY is set, else offline"
)
KEYLESS = "no-key"  # what the OpenAI SDK is given for a server that wants no key


def add_parser(sub: Any) -> None:
    e = add_command(sub, "eval")
    add_arguments(e, _accuracy)


def _accuracy(text: str) -> float:
    """`0.8`, `80` or `80%` -> 0.8."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        msg = f"{text!r} is not an accuracy (0.8, 80 or 80%)"
        raise argparse.ArgumentTypeError(msg) from None
    value = value / 100 if value > 1 or text.strip().endswith("%") else value
    if not 0 <= value <= 1:
        msg = f"{text!r} is not an accuracy between 0 and 100%"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_arguments(e: argparse.ArgumentParser, accuracy: Callable[[str], float]) -> None:
    """The options of `apiactions eval` (`accuracy` parses `--fail-under`)."""
    e.add_argument("file", nargs="?", help="the action file (YAML or JSON)")
    e.add_argument(
        "cases",
        nargs="?",
        help="the cases file (YAML): utterance (or turns), expect, args, tags, split",
    )
    e.add_argument("--model", default=None, help=MODEL_HELP)
    e.add_argument(
        "--base-url", metavar="URL", help="an OpenAI-compatible server (Ollama, vLLM, a proxy)"
    )
    e.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="read the API key from this environment variable (default: OPENAI_API_KEY; "
        "none needed with --base-url)",
    )
    e.add_argument(
        "--system-prompt",
        metavar="FILE",
        help="the system prompt sent first (default: the agent's DEFAULT_SYSTEM_PROMPT)",
    )
    e.add_argument(
        "--max-turns",
        type=int,
        default=3,
        help="model turns per case: the simulated visitor answers questions with `args`",
    )
    e.add_argument("--repeat", type=int, default=1, help="samples per case (stability)")
    e.add_argument(
        "--split", choices=["tune", "holdout"], help="score only the cases of this split"
    )
    e.add_argument("--compare", metavar="FILE2", help="a second action file (A/B descriptions)")
    e.add_argument(
        "--system-prompt-b",
        metavar="FILE",
        help="a second system prompt (A/B prompts; with or without FILE2)",
    )
    e.add_argument("--json", metavar="OUT", help="also write the results as JSON to this file")
    e.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    e.add_argument("--workers", type=int, default=8, help="cases run in parallel")
    e.add_argument(
        "--fail-under",
        type=accuracy,
        default=None,
        metavar="ACCURACY",
        help="exit 1 when the accuracy (of FILE2 when comparing) is below this "
        "(0.8, 80 or 80%%), for CI",
    )
    e.add_argument(
        "--max-broken",
        type=int,
        default=None,
        metavar="N",
        help="when comparing: exit 1 when more than N cases right in FILE are wrong in FILE2",
    )
    e.add_argument(
        "--cache-dir",
        default=".apiactions-cache",
        metavar="DIR",
        help="where model responses are cached and runs.jsonl is kept",
    )
    e.add_argument("--no-cache", action="store_true", help="send every request again")
    cassette_option(
        e,
        "record the model's answers in this YAML file and replay them, instead of the "
        "cache (the eval calls no API; see --record-mode)",
    )
    e.add_argument("--no-history", action="store_true", help="do not append to runs.jsonl")
    e.add_argument("--history", action="store_true", help="list the runs in runs.jsonl and exit")
    e.add_argument(
        "--explain",
        action="store_true",
        help="per misfire: the offline chooser's top three actions and the model's reply",
    )
    e.add_argument(
        "--verbose", action="store_true", help="when comparing: both full reports as well"
    )
    e.add_argument(
        "--select",
        type=int,
        metavar="K",
        help="bind each model call only the K actions selection ranks best (as the "
        "agent's select=K); reports Recall@K and tool-schema characters per call",
    )
    e.add_argument(
        "--distractors",
        metavar="FILE2",
        help="add another action file's actions to the catalogue (the cases still expect FILE's)",
    )
    e.add_argument(
        "--catalog-sizes",
        metavar="N,N,...",
        help="run once per catalogue size (FILE's actions, then --distractors' up to N) "
        "and report recall, accuracy and characters per call as it grows",
    )


def default_model_spec(spec: str | None) -> str:
    """`spec`; without one, openai:gpt-4.1-mini when OPENAI_API_KEY is set, else offline."""
    if spec is None:
        return "openai:gpt-4.1-mini" if os.environ.get("OPENAI_API_KEY") else "offline"
    return spec


def chat_openai() -> type[ChatOpenAI]:
    """`ChatOpenAI`, for an `openai:<model>` spec.

    Raises:
        ModelSpecError: when the `openai` extra is not installed.
    """
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as e:
        msg = "the openai model needs: pip install 'langchain-apiactions[openai]'"
        raise ModelSpecError(msg) from e
    return ChatOpenAI


def build_model(
    spec: str | None, *, base_url: str | None, api_key_env: str | None
) -> BaseChatModel:
    """One model of `--model` (a single spec).

    Raises:
        ModelSpecError: an unknown spec, a missing extra, or no API key to use.
    """
    spec = default_model_spec(spec)
    if spec == "offline":
        from langchain_apiactions.offline_model import OfflineChatModel

        return OfflineChatModel()
    if spec == "offline-semantic":
        from langchain_apiactions.embeddings import packaged_embeddings_available

        if not packaged_embeddings_available():
            msg = (
                "offline-semantic needs the `select` extra: "
                "pip install 'langchain-apiactions[select]'"
            )
            raise ModelSpecError(msg)
        from langchain_apiactions.semantic_model import SemanticOfflineChatModel

        return SemanticOfflineChatModel()
    if spec.startswith("openai:"):
        chat_model = chat_openai()
        url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                msg = f"--api-key-env {api_key_env}: the environment variable is not set"
                raise ModelSpecError(msg)
        else:
            key = os.environ.get("OPENAI_API_KEY")
            if not key and url is None:
                msg = (
                    f"{spec} needs an API key: set OPENAI_API_KEY, name another variable "
                    "with --api-key-env, or point --base-url at a server that needs none"
                )
                raise ModelSpecError(msg)
        # Retries are the eval's own (counted, Retry-After honoured): none in the SDK.
        return chat_model(
            model=spec.split(":", 1)[1],
            temperature=0,
            max_retries=0,
            base_url=url,
            api_key=key or KEYLESS,
        )
    msg = f"unknown model {spec!r}: use offline, offline-semantic or openai:<model>"
    raise ModelSpecError(msg)


def _read_prompt(path: str | None, option: str) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        msg = f"{option} {path}: cannot read it ({e.strerror or e})"
        raise _UsageError(msg) from None


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `apiactions eval`; the exit code: 0 ok, 1 a gate failed, 2 a case ended in an error."""
    from langchain_apiactions.config import load_actions
    from langchain_apiactions.evaluation import (
        compare_results,
        describe_model,
        diff_cases,
        evaluate,
        format_history,
        load_cases,
        progress_bar,
        read_runs,
        split_verdict,
    )

    if ns.history:
        out.write(format_history(read_runs(ns.cache_dir)) + "\n")
        return 0
    if not ns.file or not ns.cases:
        msg = "eval needs FILE and CASES (or --history)"
        raise _UsageError(msg)
    if ns.max_broken is not None and not (ns.compare or ns.system_prompt_b):
        msg = "--max-broken needs --compare FILE2 or --system-prompt-b FILE"
        raise _UsageError(msg)
    if ns.select is not None and ns.select < 1:
        msg = f"--select must be 1 or more (got {ns.select})"
        raise _UsageError(msg)
    sizes = _sizes(ns.catalog_sizes)
    if sizes and not ns.distractors:
        msg = "--catalog-sizes needs --distractors FILE2 (the actions that fill the catalogue)"
        raise _UsageError(msg)
    specs = [s.strip() for s in (ns.model or "").split(",") if s.strip()] or [None]
    models = [build_model(s, base_url=ns.base_url, api_key_env=ns.api_key_env) for s in specs]
    if sizes:
        if comparing_options(ns):
            msg = "--catalog-sizes runs one file: it cannot be combined with --compare"
            raise _UsageError(msg)
        return _catalogue_sizes(ns, models, sizes, out, err)
    prompt_a = _read_prompt(ns.system_prompt, "--system-prompt")
    prompt_b = _read_prompt(ns.system_prompt_b, "--system-prompt-b")
    comparing = bool(ns.compare or ns.system_prompt_b)
    file_b = ns.compare or ns.file
    load_cases(ns.cases, actions=load_actions(ns.file))
    if ns.compare:
        load_cases(ns.cases, actions=load_actions(ns.compare))
    common: dict[str, Any] = {
        "cassette": _cassette(ns),
        "max_turns": ns.max_turns,
        "repeat": ns.repeat,
        "split": ns.split,
        "max_workers": ns.workers,
        "cache_dir": ns.cache_dir,
        "cache": not ns.no_cache,
        "history": not ns.no_history,
        "explain": ns.explain,
        "select": ns.select,
        "distractors": ns.distractors,
    }
    runs: list[tuple[EvalResult, EvalResult | None]] = []
    progress = progress_bar(err)
    try:
        for model in models:
            out.write(f"model: {describe_model(model).label}\n")
            out.flush()
            a = evaluate(
                ns.file, ns.cases, model, system_prompt=prompt_a, progress=progress, **common
            )
            b = None
            if comparing:
                b = evaluate(
                    file_b,
                    ns.cases,
                    model,
                    system_prompt=prompt_b if prompt_b is not None else prompt_a,
                    progress=progress,
                    **common,
                )
            progress.close()
            runs.append((a, b))
            if b is None:
                out.write(a.report(explain=ns.explain) + "\n")
                if a.selection is not None:
                    out.write(a.selection.summary() + "\n")
            else:
                what = f"{ns.file} -> {file_b}" if ns.compare else ns.file
                if ns.system_prompt_b:
                    what += (
                        f" (system prompt {ns.system_prompt or 'default'} -> {ns.system_prompt_b})"
                    )
                out.write(f"A/B: {what}\n{compare_results(a, b)}\n")
                if ns.verbose:
                    out.write("\nA: " + a.report(explain=ns.explain) + "\n")
                    out.write("\nB: " + b.report(explain=ns.explain) + "\n")
                else:
                    for r, name in ((a, "A"), (b, "B")):
                        out.write(f"{name}: {r.run.summary()}\n")
                        for warning in r.warnings:
                            out.write(f"warning: {warning}\n")
    finally:
        progress.close()
    verdict = None
    if comparing and len(runs) > 1:
        labels = [a.run.model for a, _ in runs]
        verdict = split_verdict(labels, [(a, b) for a, b in runs if b is not None])
        if verdict:
            out.write(f"warning: {verdict}\n")
    if ns.json:
        data = _json(runs, verdict)
        with open(ns.json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False, default=str)
        out.write(f"results written to {ns.json}\n")
    if ns.html:
        from langchain_apiactions.evaluation.html import render_page

        (a, b), *more = runs
        Path(ns.html).write_text(render_page(a, compare=b, more=more), encoding="utf-8")
        out.write(f"report written to {ns.html}\n")
    failed = False
    for a, b in runs:
        scored = b if b is not None else a
        name = f"{scored.run.model}: " if len(runs) > 1 else ""
        if ns.fail_under is not None and scored.accuracy < ns.fail_under:
            which = f" of {file_b}" if b is not None else ""
            err.write(
                f"error: {name}accuracy{which} {scored.accuracy:.1%} is under "
                f"--fail-under {ns.fail_under:.1%}\n"
            )
            failed = True
        if b is not None and ns.max_broken is not None:
            broken = len(diff_cases(a, b).broken)
            if broken > ns.max_broken:
                err.write(
                    f"error: {name}{broken} case(s) broken, "
                    f"more than --max-broken {ns.max_broken}\n"
                )
                failed = True
    errors = sum(len(r.errors) for a, b in runs for r in (a, b) if r is not None)
    if errors:
        err.write(f"error: {errors} case(s) ended in an error (see the report); exit 2\n")
        return 2
    return 1 if failed else 0


def _cassette(ns: argparse.Namespace) -> Any:
    """One `ModelCassette` for every run of this command (A/B, models, sizes), or None."""
    if getattr(ns, "cassette", None) is None:
        return None
    from langchain_apiactions.evaluation.calls import ModelCassette

    return ModelCassette(ns.cassette, ns.record_mode)


def comparing_options(ns: argparse.Namespace) -> bool:
    """Whether the command line asks for an A/B comparison."""
    return bool(ns.compare or ns.system_prompt_b)


def _sizes(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        msg = f"--catalog-sizes {text}: expected sizes such as 10,100,1000"
        raise _UsageError(msg)
    return sizes


def _catalogue_sizes(
    ns: argparse.Namespace, models: list[BaseChatModel], sizes: list[int], out: TextIO, err: TextIO
) -> int:
    """One run per catalogue size; a table of recall, accuracy and characters per call."""
    from langchain_apiactions.config import load_actions
    from langchain_apiactions.evaluation import describe_model, evaluate, progress_bar
    from langchain_apiactions.evaluation.selecting import with_distractors

    own = load_actions(ns.file)
    extra = with_distractors(own, load_actions(ns.distractors))[len(own) :]
    k = f"Recall@{ns.select}" if ns.select else "Recall"
    errors = 0
    answers = _cassette(ns)
    for model in models:
        out.write(f"model: {describe_model(model).label}\n")
        out.write(f"{'actions':>8}  {k:>10}  {'accuracy':>9}  {'schema chars/call':>18}\n")
        for size in sizes:
            progress = progress_bar(err)
            try:
                result = evaluate(
                    ns.file,
                    ns.cases,
                    model,
                    system_prompt=_read_prompt(ns.system_prompt, "--system-prompt"),
                    max_turns=ns.max_turns,
                    repeat=ns.repeat,
                    split=ns.split,
                    max_workers=ns.workers,
                    cache_dir=ns.cache_dir,
                    cache=not ns.no_cache,
                    history=not ns.no_history,
                    select=ns.select,
                    distractors=extra[: max(size - len(own), 0)],
                    progress=progress,
                    cassette=answers,
                )
            finally:
                progress.close()
            errors += len(result.errors)
            report = result.selection
            size_run = len(own) + min(max(size - len(own), 0), len(extra))
            recall = f"{report.recall:.1%}" if report is not None else "all bound"
            chars = (
                report.chars_per_call
                if report is not None
                else _all_chars([*own, *extra[: size_run - len(own)]])
            )
            out.write(f"{size_run:>8}  {recall:>10}  {result.accuracy:>9.1%}  {chars:>18,.0f}\n")
    if errors:
        err.write(f"error: {errors} case(s) ended in an error; exit 2\n")
        return 2
    return 0


def _all_chars(actions: list[ApiAction]) -> float:
    """Without selection every call carries every schema: the sum of the catalogue's."""
    from langchain_apiactions.evaluation.run import schema_only_tool

    return float(sum(len(json.dumps(schema_only_tool(a), ensure_ascii=False)) for a in actions))


def _json(runs: list[tuple[EvalResult, EvalResult | None]], verdict: str | None) -> dict[str, Any]:
    from langchain_apiactions.evaluation import diff_cases

    def one(a: EvalResult, b: EvalResult | None) -> dict[str, Any]:
        data = a.to_dict()
        if a.selection is not None:
            data["selection"] = a.selection.to_dict()
        if b is not None:
            data["compare"] = b.to_dict()
            diff = diff_cases(a, b)
            data["diff"] = {
                "fixed": [ca.utterance for ca, _ in diff.fixed],
                "broken": [ca.utterance for ca, _ in diff.broken],
                "still_wrong": [ca.utterance for ca, _ in diff.still_wrong],
            }
        return data

    if len(runs) == 1:
        return one(*runs[0])
    return {"runs": [one(a, b) for a, b in runs], "verdict": verdict}
