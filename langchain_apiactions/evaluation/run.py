"""`evaluate`: every case runs the conversation the agent has, up to the first action called.

Each case gets the agent's system prompt and the same tools (names, descriptions and
schemas; nothing callable, no API is called). When the model answers with text, asking
for an input, and the case has `args`, a simulated visitor answers with the values asked
for, for up to `max_turns` model turns. The case is scored on the first action called.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_apiactions.agent import DEFAULT_SYSTEM_PROMPT
from langchain_apiactions.arguments import args_json_schema, tool_description
from langchain_apiactions.cassette import RecordMode
from langchain_apiactions.config import ActionInput, ApiAction, load_actions
from langchain_apiactions.errors import ActionConfigError
from langchain_apiactions.evaluation.calls import (
    CaseError,
    ModelCaller,
    ModelCassette,
    ResponseCache,
    describe_model,
    model_secrets,
)
from langchain_apiactions.evaluation.cases import (
    NONE,
    EvalCase,
    cases_sha256,
    check_case,
    holdout_copies,
    load_cases,
    read_cases_source,
)
from langchain_apiactions.evaluation.history import append_run
from langchain_apiactions.evaluation.metrics import CaseResult, Explained, RunInfo
from langchain_apiactions.evaluation.result import EvalResult
from langchain_apiactions.evaluation.selecting import SelectingCaller, with_distractors
from langchain_apiactions.offline_model import words
from langchain_apiactions.templating import text_value

__all__ = ["ERROR", "evaluate", "schema_only_tool", "visitor_answer"]

ERROR = "error"
DEFAULT_CACHE_DIR = ".apiactions-cache"


@dataclass(frozen=True)
class _Outcome:
    chosen: str
    arguments: dict[str, Any]
    turns: int
    reply: str | None
    decided_on: str
    error: str | None = None


def visitor_answer(
    question: str, arguments: dict[str, Any], inputs: dict[str, ActionInput]
) -> str | None:
    """What the simulated visitor says to `question`: the case's values it asks for.

    An input is asked for when the question names it (its name's words, or failing
    that its description's); a question that names none gets every value. One value is
    said plainly (`12345`), several as `order number: 12345; email: ana@example.com`.
    Returns None when the case has no values to give.
    """
    if not arguments:
        return None
    asked_words = set(words(question))
    by_name = [k for k in arguments if set(words(k.replace("_", " "))) & asked_words]
    if not by_name:
        scores = {
            k: len(set(words(inputs[k].description or "")) & asked_words) if k in inputs else 0
            for k in arguments
        }
        best = max(scores.values(), default=0)
        by_name = [k for k, s in scores.items() if best and s == best]
    asked = by_name or list(arguments)

    def said(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(text_value(v) for v in value)
        return text_value(value)

    if len(asked) == 1:
        return said(arguments[asked[0]])
    return "; ".join(f"{k.replace('_', ' ')}: {said(arguments[k])}" for k in asked)


def _converse(
    caller: ModelCaller | SelectingCaller,
    case: EvalCase,
    *,
    system_prompt: str,
    max_turns: int,
    inputs: dict[str, ActionInput],
    use_cache: bool,
) -> _Outcome:
    messages: list[BaseMessage] = [SystemMessage(system_prompt)] if system_prompt else []
    scripted = list(case.turns)
    model_turns = 0
    reply: str | None = None
    decided_on = case.turns[0]
    while True:
        if scripted:
            said: str | None = scripted.pop(0)
            decided_on = said or decided_on
        elif model_turns < max_turns and reply is not None and case.arguments:
            said = visitor_answer(reply, case.arguments, inputs)
        else:
            said = None
        if said is None:
            break
        messages.append(HumanMessage(said))
        try:
            answer = caller.invoke(messages, use_cache=use_cache)
        except CaseError as e:
            return _Outcome(ERROR, {}, model_turns + 1, None, decided_on, str(e))
        model_turns += 1
        if answer.tool_calls:
            call = answer.tool_calls[0]
            return _Outcome(call["name"], dict(call["args"]), model_turns, None, decided_on)
        reply = answer.text
        messages.append(answer)
    return _Outcome(NONE, {}, model_turns, reply, decided_on)


def _args_match(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    # Compared as text, like the request renders them: 7, 7.0 and "7" are one value.
    def norm(v: Any) -> Any:
        if isinstance(v, list):
            return [norm(x) for x in v]
        return " ".join(text_value(v).split()).lower()

    return all(norm(got.get(k)) == norm(v) for k, v in expected.items())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _actions_fingerprint(actions: Any, loaded: Sequence[ApiAction]) -> dict[str, str]:
    if isinstance(actions, (str, Path)):
        path = Path(actions)
        try:
            if path.is_file():
                return {str(actions): _sha256(path.read_bytes())}
        except (OSError, ValueError):  # a long YAML text is not a path
            pass
        if isinstance(actions, str):
            return {"<actions>": _sha256(actions.encode("utf-8"))}
    dumped = json.dumps(
        [a.model_dump(mode="json", exclude={"source"}) for a in loaded],
        sort_keys=True,
        default=str,
    )
    return {"<actions>": _sha256(dumped.encode("utf-8"))}


def _explainer(model: BaseChatModel) -> Callable[[Any, str], list[Explained]] | None:
    explain = getattr(model, "explain", None)
    if not callable(explain):
        return None

    def run(bound: Any, text: str) -> list[Explained]:
        return [Explained(m.action, m.score, tuple(m.words)) for m in bound.explain(text)]

    return run


def evaluate(
    actions: Any,
    cases: Any,
    model: BaseChatModel,
    *,
    system_prompt: str | None = None,
    max_turns: int = 3,
    repeat: int = 1,
    split: str | None = None,
    max_workers: int = 8,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    history: bool = True,
    explain: bool = False,
    max_retries: int = 4,
    backoff: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    select: int | None = None,
    distractors: Any = None,
    cassette: ModelCassette | str | Path | None = None,
    record_mode: RecordMode = "once",
) -> EvalResult:
    """Run every case as the agent would, up to the first action called (no API is called).

    Args:
        actions: Anything `load_actions` accepts.
        cases: A cases file path, or a list (see `load_cases`).
        model: Any LangChain chat model with `bind_tools` (or `OfflineChatModel`).
        system_prompt: The system message sent first (default: the agent's
            `DEFAULT_SYSTEM_PROMPT`; `""` sends none).
        max_turns: Model turns per case: when the model asks for an input instead of
            calling, the simulated visitor answers with the case's `args` until then.
        repeat: Samples per case, to measure how stable the choice is (never cached).
        split: `tune` or `holdout`: only the cases of that split.
        max_workers: Cases run in parallel.
        cache_dir: Where responses are cached and `runs.jsonl` is kept (None: neither).
        cache: Read and write the response cache in `cache_dir`.
        history: Append this run to `cache_dir/runs.jsonl`.
        explain: Keep the offline chooser's top three actions per case.
        max_retries: Retries of a model call answered with 429 or 5xx.
        backoff: Seconds before the first retry, doubled each time (`Retry-After` wins).
        progress: Called with `(done, total)` after each sample.
        select: Bind each model call only the `select` actions selection ranks best
            for the conversation's visitor messages (as the agent's `select=` does);
            `result.selection` then has Recall@K and the schema characters per call.
        distractors: More actions (anything `load_actions` accepts, e.g. another file)
            added to the catalogue the model and selection choose among; the cases
            still expect the file's own actions.
        cassette: Record the model's answers in this YAML file and replay them (a
            `ModelCassette`, or its path with `record_mode`); used instead of the
            response cache. Several runs that share one file (A/B, several models)
            share one `ModelCassette`.
        record_mode: `once`, `none`, `new_episodes` or `all` (for a path `cassette`).

    Returns:
        An `EvalResult`. A case whose model call kept failing is recorded with its
        `error` and not scored; the run goes on.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    loaded: list[ApiAction] = load_actions(actions)
    case_list, cases_hash = _cases(cases, loaded)
    if split is not None:
        case_list = [c for c in case_list if c.split == split]
    prompt = DEFAULT_SYSTEM_PROMPT if system_prompt is None else system_prompt
    source = loaded[0].source if loaded else "<actions>"
    catalogue = (
        loaded if distractors is None else with_distractors(loaded, load_actions(distractors))
    )
    tools = [schema_only_tool(a) for a in catalogue]
    info = describe_model(model)
    bound = model.bind_tools(tools)
    samples = max(repeat, 1)
    use_cache = cache and samples == 1 and cache_dir is not None
    answers = (
        cassette
        if cassette is None or isinstance(cassette, ModelCassette)
        else ModelCassette(cassette, record_mode)
    )

    def make_caller(bound: Any, tools: Sequence[dict[str, Any]]) -> ModelCaller:
        return ModelCaller(
            bound,
            info,
            tools,
            cache=ResponseCache(cache_dir) if use_cache and cache_dir is not None else None,
            cassette=answers,
            max_retries=max_retries,
            backoff=backoff,
            secrets=model_secrets(model),
        )

    caller: ModelCaller | SelectingCaller = make_caller(bound, tools)
    if select is not None:
        schemas = {a.name: t for a, t in zip(catalogue, tools, strict=True)}
        caller = SelectingCaller(model, catalogue, schemas, select, make_caller)
    by_name = {a.name: a for a in loaded}
    explainer = _explainer(model) if explain else None
    jobs = [(i, case) for i, case in enumerate(case_list) for _ in range(samples)]
    results: dict[int, list[_Outcome]] = {i: [] for i in range(len(case_list))}
    done = 0

    def run(job: tuple[int, EvalCase]) -> tuple[int, _Outcome]:
        case = job[1]
        inputs = {i.name: i for n in case.accepted if n in by_name for i in by_name[n].inputs}
        outcome = _converse(
            caller,
            case,
            system_prompt=prompt,
            max_turns=max_turns,
            inputs=inputs,
            use_cache=use_cache,
        )
        return job[0], outcome

    with ThreadPoolExecutor(max_workers=max(max_workers, 1)) as pool:
        for index, outcome in pool.map(run, jobs):
            results[index].append(outcome)
            done += 1
            if progress is not None:
                progress(done, len(jobs))
    out = [
        _case_result(case, results[i], bound if explainer else None, explainer)
        for i, case in enumerate(case_list)
    ]
    action_names = [a.name for a in loaded]
    named = (
        {c.expected for c in out} | {c.chosen for c in out} | {n for c in out for n in c.accepted}
    )
    extra = sorted(named - {*action_names, NONE, ERROR})
    stats = caller.stats
    run_info = RunInfo(
        model=info.label,
        started=started_at,
        duration_s=time.perf_counter() - started,
        actions_sha256=_actions_fingerprint(actions, loaded),
        cases_sha256=cases_hash,
        system_prompt_sha256=_sha256(prompt.encode("utf-8")),
        input_tokens=stats.input_tokens,
        output_tokens=stats.output_tokens,
        latency_p50_ms=stats.percentile(0.5),
        latency_p95_ms=stats.percentile(0.95),
        calls=stats.calls,
        cached=stats.cached,
        retries=stats.retries,
        errors=sum(1 for c in out if c.error is not None),
        max_turns=max_turns,
        split=split,
    )
    result = EvalResult(
        source,
        out,
        [*action_names, *extra, NONE],
        run_info,
        {a.name: a.when_to_use or a.name for a in loaded},
        holdout_copies(case_list, loaded),
    )
    if isinstance(caller, SelectingCaller):
        result.selection = caller.report(case_list, len(catalogue))
    if cache_dir is not None and history:
        append_run(cache_dir, result)
    return result


def _cases(cases: Any, loaded: list[ApiAction]) -> tuple[list[EvalCase], str]:
    if isinstance(cases, list) and cases and all(isinstance(c, EvalCase) for c in cases):
        problems = [
            p for i, c in enumerate(cases) for p in check_case(f"<cases>: case {i + 1}", c, loaded)
        ]
        if problems:
            raise ActionConfigError(problems)
        return list(cases), cases_sha256(cases)
    if isinstance(cases, (str, Path)):
        raw = read_cases_source(cases)[1]
        return load_cases(cases, actions=loaded), _sha256(raw)
    case_list = load_cases(cases, actions=loaded)
    return case_list, cases_sha256(case_list)


def _case_result(
    case: EvalCase,
    samples: list[_Outcome],
    bound: Any,
    explainer: Callable[[Any, str], list[Explained]] | None,
) -> CaseResult:
    measured = [s for s in samples if s.error is None]
    if not measured:
        first = samples[0]
        return CaseResult(
            case.utterance, case.expected, ERROR, {}, case.arguments, None,
            [ERROR] * len(samples), case.accepted, case.tags, case.split, first.turns,
            error=first.error,
        )  # fmt: skip
    choices = [s.chosen for s in measured]
    chosen = Counter(choices).most_common(1)[0][0]
    pick = next(s for s in measured if s.chosen == chosen)
    args_ok = None
    if case.arguments is not None:
        args_ok = chosen in case.accepted and _args_match(case.arguments, pick.arguments)
    correct = chosen in case.accepted
    return CaseResult(
        case.utterance,
        case.expected,
        chosen,
        pick.arguments,
        case.arguments,
        args_ok,
        choices,
        case.accepted,
        case.tags,
        case.split,
        pick.turns,
        reply=None if correct else pick.reply,
        explain=explainer(bound, pick.decided_on) if explainer is not None else None,
    )


def schema_only_tool(action: ApiAction) -> dict[str, Any]:
    """The tool exactly as the model sees it in production (OpenAI function format).

    Converted the way LangChain converts the compiled tool for a model (the same
    argument schema, name and description), with nothing callable behind it.
    """
    from langchain_core.tools import StructuredTool

    def never_called(**kwargs: Any) -> str:  # pragma: no cover - evaluate calls no API
        msg = "evaluate() never calls an action"
        raise RuntimeError(msg)

    tool = StructuredTool(
        name=action.name,
        description=tool_description(action),
        args_schema=args_json_schema(action),
        func=never_called,
    )
    return convert_to_openai_tool(tool)
