"""Action selection: the few actions of a large catalogue that matter for a message.

`ActionSelector` ranks a toolkit's actions for a visitor message (or a conversation's
recent messages). Each action is indexed by its name, its `when_to_use`, its inputs'
names and descriptions and its `examples:`. Two rankers, fused when both are there:

- lexical: BM25 (Okapi) over stemmed words; needs nothing beyond the core install;
- semantic: cosine similarity of embeddings (any LangChain `Embeddings`; by default the
  offline model of the `select` extra, `PackagedEmbeddings`). An action scores the best
  of its description's vector and its examples' vectors.

The fused score is a reciprocal-rank fusion of the two rankings. Document vectors are
computed once per selector and, with `cache=PATH`, kept in a SQLite file keyed by the
hash of the model and the text, so a second process embeds nothing it has seen.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import ModelSpecError

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.embeddings import Embeddings

__all__ = [
    "ActionSelector",
    "Ranker",
    "action_document",
    "conversation_texts",
    "lexical_tokens",
]

Ranker = Literal["auto", "lexical", "semantic", "hybrid"]
# The weights of a conversation's visitor messages, the latest first.
RECENT_WEIGHTS = (1.0, 0.5, 0.25)
# Reciprocal-rank fusion's constant (Cormack et al. 2009: 60 works across collections).
RRF_K = 60

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[0-9]+|[a-z]+")
_STOPWORDS = frozenset(
    """a an and are as at be by can could do does for from get give has have how i if in
    is it its me my of on or our please should show tell that the their them this to us
    use want was we what when where which who will with would you your i'd i'm""".split()
)


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    stem: str = _stemmer().stemWord(word)
    return stem


def lexical_tokens(text: str) -> list[str]:
    """The stemmed content words of `text` (`getOrderStatus` -> `get order status`)."""
    words = (w.lower() for w in _WORD.findall(text))
    return [_stem(w) for w in words if w not in _STOPWORDS]


def action_document(action: ApiAction) -> str:
    """What an action is indexed by (besides its examples): name, description, inputs."""
    parts = [action.name.replace("_", " "), action.when_to_use]
    for inp in action.inputs:
        parts.append(
            inp.name.replace("_", " ") + (f": {inp.description}" if inp.description else "")
        )
    return "\n".join(p for p in parts if p)


def conversation_texts(text: str | Sequence[Any]) -> list[str]:
    """The visitor messages to rank for, the latest first (at most three).

    `text` is one message, or a conversation: strings, LangChain messages and
    `{"role": "user", "content": ...}` dicts (only the visitor's count).
    """
    if isinstance(text, str):
        return [text] if text.strip() else []
    found: list[str] = []
    for item in reversed(list(text)):
        if isinstance(item, str):
            found.append(item)
        elif getattr(item, "type", None) == "human":
            found.append(str(item.text))
        elif isinstance(item, Mapping) and item.get("role") in ("user", "human"):
            found.append(str(item.get("content") or ""))
        if len(found) == len(RECENT_WEIGHTS):
            break
    return [t for t in found if t.strip()]


class _Bm25:
    """Okapi BM25 over a fixed set of documents (k1 = 1.2, b = 0.75)."""

    def __init__(self, documents: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.n = len(documents)
        lengths = [len(d) for d in documents]
        average = (sum(lengths) / self.n) if self.n else 0.0
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for index, doc in enumerate(documents):
            norm = k1 * (1 - b + b * (lengths[index] / average if average else 0.0))
            for term, tf in Counter(doc).items():
                weight = tf * (k1 + 1) / (tf + norm)
                self.postings.setdefault(term, []).append((index, weight))
        # The "plus one" idf of Lucene: never negative, so a common word never hurts.
        self.idf = {
            term: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self.postings.items()
        }

    def scores(self, query: list[str]) -> list[float]:
        out = [0.0] * self.n
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for index, weight in self.postings[term]:
                out[index] += idf * weight
        return out


class VectorCache:
    """Document vectors in a SQLite file, keyed by the hash of model and text."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()

    def get(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock, self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                )
                found.update((k, bytes(v)) for k, v in rows)
        return found

    def put(self, items: dict[str, bytes]) -> None:
        with self._lock, self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", list(items.items()))


def _model_key(embeddings: Embeddings) -> str:
    kind = type(embeddings)
    model = next(
        (
            str(getattr(embeddings, attr))
            for attr in ("model_name", "model", "model_id", "deployment")
            if getattr(embeddings, attr, None)
        ),
        "",
    )
    return f"{kind.__module__}.{kind.__qualname__}:{model}"


@dataclass
class _Semantic:
    """Unit vectors of every indexed text, and which action each belongs to."""

    embeddings: Embeddings
    matrix: np.ndarray[Any, Any]
    owners: np.ndarray[Any, Any]
    count: int

    @classmethod
    def build(
        cls,
        embeddings: Embeddings,
        texts: list[list[str]],
        cache: VectorCache | None,
    ) -> _Semantic:
        import numpy as np

        flat = [t for group in texts for t in group]
        owners = np.array([i for i, group in enumerate(texts) for _ in group], dtype=np.int64)
        vectors = _embed_all(embeddings, flat, cache)
        return cls(embeddings, vectors, owners, len(texts))

    def scores(self, query: str) -> np.ndarray[Any, Any]:
        import numpy as np

        # A message with no token the model knows embeds as zeros (its normalising
        # divides by zero): it then matches nothing, rather than everything as NaN.
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        q = _unit(np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0))
        sims = self.matrix @ q if len(self.matrix) else np.zeros(0, dtype=np.float32)
        best = np.full(self.count, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, sims)
        return best


def _unit(vector: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    import numpy as np

    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _embed_all(
    embeddings: Embeddings, texts: list[str], cache: VectorCache | None
) -> np.ndarray[Any, Any]:
    import numpy as np

    model = _model_key(embeddings)
    keys = [VectorCache.key(model, t) for t in texts]
    known = cache.get(keys) if cache is not None else {}
    todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in known))
    fresh: dict[str, bytes] = {}
    if todo:
        with np.errstate(invalid="ignore", divide="ignore"):
            vectors = embeddings.embed_documents(todo)
        for text, vector in zip(todo, vectors, strict=True):
            raw = np.nan_to_num(np.asarray(vector, dtype=np.float32), nan=0.0)
            unit = _unit(raw)
            fresh[VectorCache.key(model, text)] = unit.tobytes()
        if cache is not None:
            cache.put(fresh)
    rows = [np.frombuffer(known.get(k) or fresh[k], dtype=np.float32) for k in keys]
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def _default_embeddings() -> Embeddings | None:
    from langchain_apiactions.embeddings import PackagedEmbeddings, packaged_embeddings_available

    return PackagedEmbeddings() if packaged_embeddings_available() else None


class ActionSelector:
    """Ranks actions for a message; built once per toolkit, on first use.

    Args:
        actions: The actions to choose among.
        embeddings: A LangChain `Embeddings`; None for the `select` extra's offline
            model when it is installed (else the lexical ranker alone).
        ranker: `auto` (hybrid when embeddings are available, else lexical),
            `lexical`, `semantic` or `hybrid`.
        cache: A SQLite file for document vectors (created when missing).
    """

    def __init__(
        self,
        actions: Sequence[ApiAction],
        *,
        embeddings: Embeddings | None = None,
        ranker: Ranker = "auto",
        cache: str | Path | None = None,
    ) -> None:
        self.names = [a.name for a in actions]
        if embeddings is None and ranker != "lexical":
            embeddings = _default_embeddings()
        if ranker == "auto":
            ranker = "hybrid" if embeddings is not None else "lexical"
        if ranker in ("semantic", "hybrid") and embeddings is None:
            msg = (
                f"the {ranker} ranker needs embeddings: pass `embeddings=` or install "
                "the `select` extra (pip install 'langchain-apiactions[select]')"
            )
            raise ModelSpecError(msg)
        self.ranker: Ranker = ranker
        documents = [action_document(a) for a in actions]
        self._lexical = (
            _Bm25(
                [
                    lexical_tokens(d + "\n" + "\n".join(a.examples))
                    for d, a in zip(documents, actions, strict=True)
                ]
            )
            if ranker in ("lexical", "hybrid")
            else None
        )
        self._semantic = (
            _Semantic.build(
                embeddings,
                [
                    [d, *a.examples, *([d + "\n" + "\n".join(a.examples)] if a.examples else [])]
                    for d, a in zip(documents, actions, strict=True)
                ],
                VectorCache(cache) if cache is not None else None,
            )
            if embeddings is not None and ranker in ("semantic", "hybrid")
            else None
        )

    def scores(self, text: str | Sequence[Any]) -> dict[str, float]:
        """Every action's score for `text` (higher is better; only the order matters)."""
        return dict(zip(self.names, self._total(tuple(conversation_texts(text))), strict=True))

    def select(self, text: str | Sequence[Any], k: int = 8) -> list[str]:
        """The names of the `k` best actions for `text`, best first (ties: file order)."""
        if k <= 0 or not self.names:
            return []
        return list(self._top(tuple(conversation_texts(text)), k))

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one selector per toolkit, kept with it)
    def _top(self, texts: tuple[str, ...], k: int) -> tuple[str, ...]:
        # Cached: an agent turn asks twice for the same conversation (before and after
        # the tool call), and a visitor's repeated message costs nothing.
        total = self._total(texts)
        order = sorted(range(len(self.names)), key=lambda i: -total[i])
        return tuple(self.names[i] for i in order[:k])

    def _total(self, texts: tuple[str, ...]) -> list[float]:
        total = [0.0] * len(self.names)
        for weight, message in zip(RECENT_WEIGHTS, texts, strict=False):
            for index, score in enumerate(self._fused(message)):
                total[index] += weight * score
        return total

    def _fused(self, message: str) -> list[float]:
        lexical = self._lexical.scores(lexical_tokens(message)) if self._lexical else None
        if self._semantic is None:
            assert lexical is not None
            return lexical
        semantic = self._semantic.scores(message)
        if lexical is None:
            return [float(x) for x in semantic]
        return [float(x) for x in _rrf(lexical, positive=True) + _rrf(semantic)]


def _rrf(scores: Sequence[float] | np.ndarray[Any, Any], positive: bool = False) -> Any:
    """Each position's reciprocal-rank score (`positive`: a score of 0 gets nothing)."""
    import numpy as np

    values = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    out = 1.0 / (RRF_K + ranks)
    if positive:
        out[values <= 0] = 0.0
    return out
