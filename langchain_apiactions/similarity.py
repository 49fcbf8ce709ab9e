"""How alike two actions' descriptions are: the pairs a model may confuse.

Two measures, the better one available is used and named:

- **meaning**: cosine similarity of sentence embeddings (`PackagedEmbeddings`, the model
  inside the `select` extra, loaded from the installed files only), over each
  description's content words (the "Use this action when the visitor" every description
  shares would make them all look alike);
- **word pieces** without the extra: tf-idf cosine over character 3- to 5-grams of the
  content words, so `refund`/`refunds`/`refunded` and `cancel`/`cancellation` count as
  shared, and words every description has weigh little.

Shared whole words alone (Jaccard) let a near-paraphrase pass: "a charge on the bill I do
not recognise" and "disputes an unfamiliar payment on the invoice" share none.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_apiactions.config import ApiAction

__all__ = ["SimilarPair", "Similarity", "description_similarity"]

SEMANTIC_WARNING = 0.6
LEXICAL_WARNING = 0.25
_TOKEN = re.compile(r"[a-z0-9']+")
# Words of the description's frame, not of what the action is for.
_FRAME = frozenset(
    """
    a an the and or of to for in on at by with when use this action visitor visitors customer
    customers user users asks ask is are be it its their they them wants want also trigger if
    as from i me my we you your can could would please do does have has any some that there
    about into out get tell know need needs like just so not no our us here than then these
    those s
    """.split()
)


@dataclass(frozen=True)
class SimilarPair:
    """Two actions and how alike their descriptions are (0 to 1)."""

    first: str
    second: str
    score: float


@dataclass(frozen=True)
class Similarity:
    """Every pair of descriptions, most alike first, and the measure used.

    Attributes:
        measure: `meaning` (embeddings) or `word pieces` (character n-grams).
        detail: What the measure is, for people (the model's name, or how to get it).
        threshold: From this score on, a pair is a warning.
        pairs: Every pair, most alike first.
    """

    measure: str
    detail: str
    threshold: float
    pairs: tuple[SimilarPair, ...]

    def top(self, n: int = 3) -> list[SimilarPair]:
        return list(self.pairs[:n])

    @property
    def over(self) -> list[SimilarPair]:
        """The pairs at or over the threshold."""
        return [p for p in self.pairs if p.score >= self.threshold]


def _content(text: str) -> str:
    return " ".join(w for w in _TOKEN.findall(text.lower()) if w not in _FRAME)


def _grams(text: str) -> Counter[str]:
    padded = f" {text} "
    return Counter(padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _lexical(texts: list[str]) -> list[list[float]]:
    docs = [_grams(t) for t in texts]
    df = Counter(g for d in docs for g in d)
    n = len(docs)
    vectors = [{g: c * math.log(1 + n / df[g]) for g, c in d.items()} for d in docs]
    return [[_cosine(a, b) for b in vectors] for a in vectors]


def _semantic(texts: list[str]) -> list[list[float]]:
    from langchain_apiactions.embeddings import PackagedEmbeddings

    vectors = PackagedEmbeddings().embed_documents(texts)
    return [[sum(x * y for x, y in zip(a, b, strict=True)) for b in vectors] for a in vectors]


def description_similarity(
    actions: Sequence[ApiAction], *, semantic: bool | None = None
) -> Similarity:
    """How alike each pair of `when_to_use` descriptions is.

    Args:
        actions: The loaded actions.
        semantic: True for embeddings (the `select` extra must be installed), False for
            word pieces, None for embeddings when the extra is installed.

    Returns:
        A `Similarity` naming the measure used, with every pair, most alike first.
    """
    from langchain_apiactions.embeddings import MODEL_NAME, packaged_embeddings_available

    use_semantic = packaged_embeddings_available() if semantic is None else semantic
    named = [a for a in actions if (a.when_to_use or "").strip()]
    texts = [_content(a.when_to_use) or a.when_to_use.lower() for a in named]
    if use_semantic:
        measure, threshold = "meaning", SEMANTIC_WARNING
        detail = f"embeddings: {MODEL_NAME}, from the installed select extra"
        matrix = _semantic(texts) if texts else []
    else:
        measure, threshold = "word pieces", LEXICAL_WARNING
        detail = (
            "tf-idf over character n-grams; "
            "pip install 'langchain-apiactions[select]' to compare meanings"
        )
        matrix = _lexical(texts) if texts else []
    pairs = [
        SimilarPair(named[i].name, named[j].name, round(max(min(matrix[i][j], 1.0), 0.0), 3))
        for i, j in itertools.combinations(range(len(named)), 2)
    ]
    pairs.sort(key=lambda p: (-p.score, p.first, p.second))
    return Similarity(measure, detail, threshold, tuple(pairs))


def similarity_report(actions: Sequence[ApiAction], *, top: int = 3) -> tuple[list[str], list[str]]:
    """What `apiactions validate` prints: the `top` most alike pairs, and the warnings.

    Returns:
        `(lines, warnings)`: the listing (empty with fewer than two actions) and one
        warning per pair at or over the threshold.
    """
    if len([a for a in actions if (a.when_to_use or "").strip()]) < 2:
        return [], []
    found = description_similarity(actions)
    lines = [f"most similar descriptions (by {found.measure}; {found.detail}):"]
    lines += [f"  {p.first} / {p.second}: {p.score:.2f}" for p in found.top(top)]
    warnings = [
        f"{p.first}/{p.second}: descriptions alike by {found.measure} "
        f"(similarity {p.score:.2f} >= {found.threshold:.2f}); a model may confuse them: "
        "measure it with apiactions eval"
        for p in found.over
    ]
    return lines, warnings
