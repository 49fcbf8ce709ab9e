"""`SemanticOfflineChatModel`: the offline stand-in, choosing a tool by meaning.

It is `OfflineChatModel` (the same slot filling, questions and replies) with one
difference: a visitor message is matched to the tools' descriptions by the cosine
similarity of sentence embeddings (`PackagedEmbeddings`: WordLlama's model inside the
`select` extra, loaded only from the installed package files) instead of shared words.
A description tuned for one lexical matcher's quirks (`won't` matching "won") gains
nothing here: `apiactions eval --model offline,offline-semantic` scores both.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field, PrivateAttr

from langchain_apiactions.embeddings import PackagedEmbeddings
from langchain_apiactions.offline_model import ChoiceScore, OfflineChatModel

__all__ = ["SemanticOfflineChatModel"]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    # Both vectors are unit length (PackagedEmbeddings normalises), but an empty text
    # embeds to zeros: guard the norm rather than trusting it.
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


_CLAUSE = re.compile(r"[.;:!?,()]|\bor\b|\band\b", re.IGNORECASE)


def _chunks(name: str, description: str) -> list[str]:
    """What a message is compared with: the name, the description, its clauses.

    A description lists several situations ("asks where the order is, or wants to
    track a shipment"); one of them matching is a match, which an average over the
    whole text blurs.
    """
    parts = [p.strip() for p in _CLAUSE.split(description)]
    clauses = [p for p in parts if len(p.split()) >= 2]
    whole = f"{name.replace('_', ' ')}. {description}".strip()
    return list(dict.fromkeys([name.replace("_", " "), whole, *clauses]))


class SemanticOfflineChatModel(OfflineChatModel):
    """The offline stand-in choosing by embedding similarity (extra `select`).

    A tool is called when the visitor's message is at least `threshold` similar (cosine)
    to its description and name; below that the model answers without calling.
    """

    # Calibrated on the tune split of examples/*_cases.yaml (never on the holdout): the
    # lowest right top score there is 0.23, the highest off-topic one 0.19.
    threshold: float = Field(0.22, description="Minimum cosine similarity to call a tool.")
    _vectors: dict[str, list[list[float]]] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "apiactions-offline-semantic"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        bound = super().bind_tools(tools, tool_choice=tool_choice, **kwargs)
        assert isinstance(bound, SemanticOfflineChatModel)
        bound._vectors = {}
        bound._lock = threading.Lock()
        return bound

    def _tool_vectors(self) -> dict[str, list[list[float]]]:
        with self._lock:
            if not self._vectors and self.tools:
                owners: list[str] = []
                texts: list[str] = []
                for t in self.tools:
                    for chunk in _chunks(t["name"], str(t.get("description", ""))):
                        owners.append(t["name"])
                        texts.append(chunk)
                vectors = PackagedEmbeddings().embed_documents(texts)
                found: dict[str, list[list[float]]] = {}
                for owner, vector in zip(owners, vectors, strict=True):
                    found.setdefault(owner, []).append(vector)
                self._vectors = found
            return self._vectors

    def scores(self, text: str) -> dict[str, float]:
        """Each bound tool's best cosine similarity to `text`: over its name, its whole
        description, and each of the description's sentences and clauses."""
        docs = self._tool_vectors()
        if not docs or not text.strip():
            return dict.fromkeys(docs, 0.0)
        query = PackagedEmbeddings().embed_query(text)
        return {name: round(max(_cosine(query, v) for v in vs), 3) for name, vs in docs.items()}

    def explain(self, text: str, top: int = 3) -> list[ChoiceScore]:
        """The `top` most similar tools (by meaning: no words to show)."""
        ranked = sorted(self.scores(text).items(), key=lambda kv: (-kv[1], kv[0]))
        return [ChoiceScore(name, score, ()) for name, score in ranked[:top]]
