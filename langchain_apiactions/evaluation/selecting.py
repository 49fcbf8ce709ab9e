"""`evaluate(..., select=K)`: the model sees only the K actions selection binds per call.

What the agent's `select=K` does in production, measured: each model call binds the top
K actions for the conversation's visitor messages so far (`ActionSelector`, the same
ranker as `ApiActionsToolkit.select_actions`). `SelectionReport` says how often the
expected action was among them (Recall@K), and how many characters of tool schemas each
model call carried, next to binding the whole catalogue.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_apiactions.config import ApiAction
from langchain_apiactions.evaluation.calls import CallStats, ModelCaller
from langchain_apiactions.evaluation.cases import EvalCase
from langchain_apiactions.selection import ActionSelector

__all__ = ["SelectingCaller", "SelectionReport", "with_distractors"]


@dataclass(frozen=True)
class SelectionReport:
    """How selection did in an eval run.

    Attributes:
        k: Actions bound per model call.
        catalogue: Actions to choose among (the file's, plus any distractors).
        cases: Cases scored for recall (those expecting an action).
        recall: Share of them whose expected action was among the K first bound.
        chars_per_call: Mean characters of tool schemas sent per model call.
        chars_all: Characters of the whole catalogue's schemas (binding everything).
        calls: Model calls made.
    """

    k: int
    catalogue: int
    cases: int
    recall: float
    chars_per_call: float
    chars_all: int
    calls: int

    def summary(self) -> str:
        """`selection: top 8 of 1000 actions, Recall@8 95.0% (40 cases); ...`."""
        share = self.chars_per_call / self.chars_all if self.chars_all else 0.0
        return (
            f"selection: top {self.k} of {self.catalogue} actions, Recall@{self.k} "
            f"{self.recall:.1%} ({self.cases} cases); tool schemas {self.chars_per_call:,.0f} "
            f"characters per model call ({share:.1%} of binding all {self.chars_all:,})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)


def with_distractors(
    actions: Sequence[ApiAction], distractors: Sequence[ApiAction], size: int | None = None
) -> list[ApiAction]:
    """The file's actions, then distractors (another file's actions) up to `size` in all.

    A distractor named like one of the file's actions is left out: the cases' expected
    names keep meaning the file's own.
    """
    names = {a.name for a in actions}
    extra = [d for d in distractors if d.name not in names]
    room = len(extra) if size is None else max(size - len(actions), 0)
    return [*actions, *extra[:room]]


class SelectingCaller:
    """A `ModelCaller` per set of selected tools, with one shared count of calls."""

    def __init__(
        self,
        model: BaseChatModel,
        catalogue: Sequence[ApiAction],
        schemas: dict[str, dict[str, Any]],
        k: int,
        make_caller: Any,
    ) -> None:
        self.model = model
        self.k = k
        self.selector = ActionSelector(catalogue)
        self.schemas = schemas
        self.make_caller = make_caller
        self._callers: dict[tuple[str, ...], ModelCaller] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.chars = 0
        self.stats = CallStats()

    def bound_names(self, messages: Sequence[BaseMessage]) -> list[str]:
        """The actions one model call binds for `messages` (its visitor messages)."""
        texts = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
        return self.selector.select(texts, self.k)

    def _caller(self, names: tuple[str, ...]) -> ModelCaller:
        with self._lock:
            caller = self._callers.get(names)
            if caller is None:
                tools = [self.schemas[n] for n in names]
                caller = self.make_caller(self.model.bind_tools(tools), tools)
                caller.stats = self.stats  # one count for the run, whatever was bound
                self._callers[names] = caller
            return caller

    def invoke(self, messages: Sequence[BaseMessage], *, use_cache: bool = True) -> AIMessage:
        """The model's answer to `messages`, given only the selected tools."""
        names = tuple(self.bound_names(messages))
        chars = sum(len(json.dumps(self.schemas[n], ensure_ascii=False)) for n in names)
        with self._lock:
            self.calls += 1
            self.chars += chars
        return self._caller(names).invoke(messages, use_cache=use_cache)

    def report(self, cases: Sequence[EvalCase], catalogue_size: int) -> SelectionReport:
        """Recall@K over `cases` (the first visitor message) and the schema sizes."""
        from langchain_apiactions.evaluation.cases import NONE

        scored = [c for c in cases if c.expected != NONE]
        hits = sum(
            1 for c in scored if set(c.accepted) & set(self.selector.select([c.turns[0]], self.k))
        )
        chars_all = sum(len(json.dumps(s, ensure_ascii=False)) for s in self.schemas.values())
        return SelectionReport(
            k=self.k,
            catalogue=catalogue_size,
            cases=len(scored),
            recall=hits / len(scored) if scored else 0.0,
            chars_per_call=self.chars / self.calls if self.calls else 0.0,
            chars_all=chars_all,
            calls=self.calls,
        )
