"""Eval cases: what a visitor says and which action (or `none`) it should trigger."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import ActionConfigError

__all__ = ["NONE", "SPLITS", "EvalCase", "holdout_copies", "load_cases"]

NONE = "none"
SPLITS = ("tune", "holdout")
Split = Literal["tune", "holdout"]
_CASE_KEYS = {"utterance", "turns", "expect", "expected", "args", "arguments", "tags", "split"}


@dataclass(frozen=True)
class EvalCase:
    """One visitor conversation and the action it should trigger (or `none`).

    Attributes:
        turns: What the visitor says, message by message.
        expected: The action that should be called first (or `none`).
        arguments: The arguments expected (`args`); the simulated visitor answers with
            these values when the model asks for them.
        tags: Free labels (`typo`, `multi-intent`, ...): the report gives accuracy per tag.
        split: `tune` or `holdout` (None: not split).
        also: Other actions that are right as well (`expect: [A, B]`, multi-intent).
    """

    turns: tuple[str, ...]
    expected: str
    arguments: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()
    split: Split | None = None
    also: tuple[str, ...] = ()

    @property
    def utterance(self) -> str:
        return " / ".join(self.turns)

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every action that counts as right: `expected`, then `also`."""
        return (self.expected, *self.also)

    def to_dict(self) -> dict[str, Any]:
        """The case as a cases file writes it (for hashing and for the JSON)."""
        return {
            "turns": list(self.turns),
            "expect": list(self.accepted) if self.also else self.expected,
            "args": self.arguments,
            "tags": list(self.tags),
            "split": self.split,
        }


def cases_sha256(cases: Sequence[EvalCase]) -> str:
    """A fingerprint of the cases as loaded (the same cases, the same hash)."""
    text = json.dumps([c.to_dict() for c in cases], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def read_cases_source(source: str | Path) -> tuple[Any, bytes]:
    """The parsed cases file and its bytes (the bytes are hashed for the report)."""
    name = str(source)
    try:
        raw = Path(source).read_bytes()
        return yaml.safe_load(raw.decode("utf-8")), raw
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ActionConfigError([f"{name}: cannot read cases ({e})"]) from None


def load_cases(
    source: str | Path | Sequence[Any], *, actions: Sequence[ApiAction] | None = None
) -> list[EvalCase]:
    """Read cases from a YAML file (or a list), checking them like an action file.

    Each case: `utterance: "..."` or `turns: ["...", "..."]`, `expect: Action_Name` (or
    `none`, or a list of actions any of which is right), optionally `args: {name: value}`
    (the arguments expected, and what the simulated visitor answers when asked),
    `tags: [...]` and `split: tune | holdout`. A case can also be a mapping with a single
    key, `"utterance": Action_Name`. Unknown keys are errors; with `actions`, so are an
    `expect` that names no action and `args` that name no input of it (each error names
    the case and suggests the closest name).

    Raises:
        ActionConfigError: every problem at once.
    """
    name = str(source) if isinstance(source, (str, Path)) else "<cases>"
    data = read_cases_source(source)[0] if isinstance(source, (str, Path)) else source
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
        case, found = _parse_case(where, raw)
        problems += found
        if case is not None:
            cases.append(case)
            if actions is not None:
                problems += check_case(where, case, actions)
    if problems:
        raise ActionConfigError(problems)
    return cases


def _parse_case(where: str, raw: Any) -> tuple[EvalCase | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping"]
    problems = [
        f"{where}: unknown key {key!r}{_did_you_mean(str(key), sorted(_CASE_KEYS))}"
        for key in raw
        if key not in _CASE_KEYS
    ]
    turns = raw.get("turns")
    if turns is None and isinstance(raw.get("utterance"), str):
        turns = [raw["utterance"]]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        return None, [*problems, f"{where}: needs `utterance` (text) or `turns` (a list of texts)"]
    expected = raw.get("expect", raw.get("expected"))
    if expected is None or expected is False:
        expected = NONE
    names = [str(x) for x in expected] if isinstance(expected, list) else [str(expected)]
    if not names:
        problems.append(f"{where}: expect: an empty list (use `none` for no action)")
        names = [NONE]
    args = raw.get("args", raw.get("arguments"))
    if args is not None and not isinstance(args, dict):
        problems.append(f"{where}: args: must be a mapping")
        args = None
    tags = raw.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, (str, int)) for t in tags):
        problems.append(f"{where}: tags: must be a list of words")
        tags = []
    split = raw.get("split")
    if split is not None and split not in SPLITS:
        problems.append(
            f"{where}: split: must be tune or holdout{_did_you_mean(str(split), SPLITS)}"
        )
        split = None
    case = EvalCase(
        tuple(turns),
        names[0],
        args,
        tuple(str(t) for t in tags),
        split,
        tuple(dict.fromkeys(n for n in names[1:] if n != names[0])),
    )
    return case, problems


def check_case(where: str, case: EvalCase, actions: Sequence[ApiAction]) -> list[str]:
    """An `expect` that names no action, `args` that name no input of it."""
    by_name = {a.name: a for a in actions}
    problems: list[str] = []
    for expected in case.accepted:
        if expected != NONE and expected not in by_name:
            hint = _did_you_mean(expected, [*by_name, NONE])
            problems.append(f"{where}: expect: unknown action {expected!r}{hint}")
    if problems:
        return problems
    if NONE in case.accepted and len(case.accepted) > 1:
        return [f"{where}: expect: `none` cannot be listed with actions"]
    targets = [by_name[n] for n in case.accepted if n in by_name]
    if case.arguments and not targets:
        problems.append(f"{where}: args: a case that expects none has no arguments")
    elif case.arguments:
        inputs = list(dict.fromkeys(i.name for a in targets for i in a.inputs))
        for key in case.arguments:
            if key not in inputs:
                hint = _did_you_mean(str(key), inputs)
                names = "/".join(a.name for a in targets)
                problems.append(f"{where}: args: {names} has no input {key!r}{hint}")
    return problems


_TOKEN = re.compile(r"[a-z0-9']+")


def holdout_copies(cases: Sequence[EvalCase], actions: Sequence[ApiAction]) -> list[str]:
    """Warnings for holdout utterances copied into a description (or `examples`).

    A holdout case measures how descriptions generalise; once its words are in a
    description, it measures nothing. An utterance of three words or more counts as
    copied when its words appear in that order, ignoring case and punctuation.
    """
    texts: list[tuple[str, str]] = []
    for action in actions:
        texts.append((action.name, action.when_to_use or ""))
        for example in getattr(action, "examples", None) or []:
            texts.append((action.name, str(example)))
    padded = [(name, " " + " ".join(_TOKEN.findall(text.lower())) + " ") for name, text in texts]
    warnings: list[str] = []
    for case in cases:
        if case.split != "holdout":
            continue
        for turn in case.turns:
            words = _TOKEN.findall(turn.lower())
            if len(words) < 3:
                continue
            needle = " " + " ".join(words) + " "
            for name, text in padded:
                if needle in text:
                    warnings.append(
                        f"holdout case {turn!r} is copied into {name}'s description: "
                        "it no longer measures how the descriptions generalise"
                    )
                    break
    return list(dict.fromkeys(warnings))
