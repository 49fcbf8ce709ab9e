"""`validate`'s description similarity: by meaning with the select extra, by word pieces
without it; the three most alike pairs always listed, a warning over the threshold."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from langchain_apiactions.cli import main
from langchain_apiactions.config import load_actions
from langchain_apiactions.similarity import description_similarity


def action(name: str, text: str) -> dict[str, object]:
    return {"name": name, "when_to_use": text, "method": "GET", "url": "https://a.example/x"}


TELECOM = [
    action("Billing_Question", "Use when the visitor has a question about their bill or an unexpected charge."),
    action("Dispute_Charge", "Use when the visitor disputes a charge on their bill they do not recognise."),
    action("Roaming", "Use when the visitor asks about using the phone abroad."),
    action("Store_Hours", "Use when the visitor asks when the shop opens."),
]  # fmt: skip


def test_a_near_paraphrase_is_alike_by_meaning() -> None:
    found = description_similarity(load_actions(TELECOM), semantic=True)
    assert found.measure == "meaning" and "wordllama" in found.detail
    top = found.top(3)
    assert len(top) == 3
    assert (top[0].first, top[0].second) == ("Billing_Question", "Dispute_Charge")
    assert top[0].score >= found.threshold > top[1].score
    assert [(p.first, p.second) for p in found.over] == [("Billing_Question", "Dispute_Charge")]
    # Shared whole words alone would let it pass: Jaccard of their content words is low.
    from langchain_apiactions.config import description_words

    a, b = (description_words(x["when_to_use"]) for x in TELECOM[:2])  # type: ignore[arg-type]
    assert len(a & b) / len(a | b) < 0.5


def test_word_pieces_without_embeddings() -> None:
    actions = load_actions([
        action("Refund", "Use when the visitor wants refunds for cancelled orders."),
        action("Cancel", "Use when the visitor wants a refund and to cancel an order."),
        action("Hours", "Use when the visitor asks about opening hours."),
    ])  # fmt: skip
    found = description_similarity(actions, semantic=False)
    assert found.measure == "word pieces" and "select" in found.detail
    assert (found.pairs[0].first, found.pairs[0].second) == ("Refund", "Cancel")
    assert found.pairs[0].score >= found.threshold
    assert all(p.score < 0.1 for p in found.pairs[1:])


def test_validate_lists_the_pairs_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "telecom.json"
    path.write_text(json.dumps(TELECOM))
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(["validate", str(path)])
    finally:
        sys.stdout, sys.stderr = old
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "most similar descriptions (by meaning; embeddings: wordllama l2_supercat 256, "
        "from the installed select extra):"
    )
    assert lines[1].startswith("  Billing_Question / Dispute_Charge: 0.")
    assert len(lines) == 5 and lines[-1] == f"{path}: 4 action(s) OK, 1 warning(s)"
    assert err.getvalue().startswith(
        "warning: Billing_Question/Dispute_Charge: descriptions alike by meaning (similarity 0."
    )
    assert "a model may confuse them: measure it with apiactions eval" in err.getvalue()
