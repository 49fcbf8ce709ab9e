"""`ApiActionsToolkit.select_actions`: the few actions that fit a message, offline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, HumanMessage

from langchain_apiactions import ActionConfigError, ApiActionsToolkit, ModelSpecError, load_actions
from langchain_apiactions.embeddings import packaged_embeddings_available
from langchain_apiactions.selection import ActionSelector, lexical_tokens

SHOP = {
    "actions": [
        {
            "name": "Check_Order_Status",
            "when_to_use": "Use when the visitor asks about the status of their order.",
            "method": "GET",
            "url": "https://api.example.com/orders/{order_number}",
            "inputs": [
                {"name": "order_number", "required": True, "description": "The order number"}
            ],
            "examples": ["Where is my parcel?", "Has my package shipped yet?"],
        },
        {
            "name": "Book_Appointment",
            "when_to_use": "Use when the visitor wants to book an appointment or a visit.",
            "method": "POST",
            "url": "https://api.example.com/appointments",
            "inputs": [{"name": "day", "type": "date", "description": "The day of the visit"}],
            "examples": ["Can I come in on Tuesday?"],
        },
        {
            "name": "Subscribe_Newsletter",
            "when_to_use": "Use when the visitor wants to join the mailing list.",
            "method": "POST",
            "url": "https://api.example.com/newsletter",
            "inputs": [{"name": "email", "description": "The visitor's email address"}],
        },
        {
            "name": "Refund_Request",
            "when_to_use": "Use when the visitor asks for their money back.",
            "method": "POST",
            "url": "https://api.example.com/refunds",
        },
    ]
}


class CountingEmbeddings(Embeddings):
    """Bag-of-letters vectors: real arithmetic, and a count of the texts it embedded."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> list[float]:
        return [float(text.lower().count(c)) + 0.01 for c in "abcdefghijklmnopqrstuvwxyz"]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += texts
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def lexical() -> ApiActionsToolkit:
    with ApiActionsToolkit(actions=SHOP, select_ranker="lexical") as toolkit:
        yield toolkit


def test_tokens_split_names_and_stem() -> None:
    assert lexical_tokens("getOrderStatus of my Orders") == ["order", "status", "order"]
    assert lexical_tokens("Check_Order_Status") == ["check", "order", "status"]


def test_lexical_ranker_picks_by_description_inputs_and_examples(
    lexical: ApiActionsToolkit,
) -> None:
    assert lexical.select_actions("What is the status of my order?", k=1) == ["Check_Order_Status"]
    assert lexical.select_actions("I'd like my money back", k=1) == ["Refund_Request"]
    # Only its input's description says "email"; only its examples say "parcel".
    assert lexical.select_actions("my email is ana@example.com", k=1) == ["Subscribe_Newsletter"]
    assert lexical.select_actions("where is my parcel", k=1) == ["Check_Order_Status"]


def test_k_names_best_first_and_never_more_than_there_are(lexical: ApiActionsToolkit) -> None:
    ranked = lexical.select_actions("book a visit", k=10)
    assert ranked[0] == "Book_Appointment"
    assert sorted(ranked) == sorted(a["name"] for a in SHOP["actions"])
    assert lexical.select_actions("book a visit", k=0) == []


def test_a_conversation_keeps_the_request_behind_a_follow_up(lexical: ApiActionsToolkit) -> None:
    conversation = [
        HumanMessage("Has my package shipped yet? I ordered last week"),
        AIMessage("Sure - could you tell me the order number?"),
        HumanMessage("12345"),
    ]
    assert lexical.select_actions(conversation, k=1) == ["Check_Order_Status"]
    assert lexical.select_actions(["book a visit", "on Tuesday"], k=1) == ["Book_Appointment"]
    as_dicts = [
        {"role": "user", "content": "I want my money back"},
        {"role": "assistant", "content": "Which order?"},
        {"role": "user", "content": "the blue one"},
    ]
    assert lexical.select_actions(as_dicts, k=1) == ["Refund_Request"]


def test_selection_builds_no_tool(lexical: ApiActionsToolkit) -> None:
    lexical.select_actions("where is my order")
    assert lexical.built_tools == []


def test_any_embeddings_vectors_cached_on_disk_by_text_hash(tmp_path: Path) -> None:
    cache = tmp_path / "vectors.sqlite"
    first = CountingEmbeddings()
    with ApiActionsToolkit(
        actions=SHOP, embeddings=first, select_ranker="semantic", select_cache=cache
    ) as toolkit:
        ranked = toolkit.select_actions("refund my money back", k=4)
        toolkit.select_actions("another message")
    assert len(ranked) == 4
    indexed = len(first.embedded)
    assert indexed >= len(SHOP["actions"])  # each description (and example) once
    assert len(set(first.embedded)) == indexed
    # The file holds hashes and vectors, never the texts.
    with sqlite3.connect(cache) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM vectors")]
    assert len(keys) == indexed
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys)
    assert b"money" not in cache.read_bytes()
    # A second toolkit (another process) embeds nothing it has seen.
    second = CountingEmbeddings()
    with ApiActionsToolkit(
        actions=SHOP, embeddings=second, select_ranker="semantic", select_cache=cache
    ) as again:
        assert again.select_actions("refund my money back", k=4) == ranked
    assert second.embedded == []


def test_semantic_without_embeddings_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_apiactions.selection as selection

    monkeypatch.setattr(selection, "_default_embeddings", lambda: None)
    with (
        ApiActionsToolkit(actions=SHOP, select_ranker="semantic") as toolkit,
        pytest.raises(ModelSpecError, match=r"langchain-apiactions\[select\]"),
    ):
        toolkit.select_actions("hello")
    selector = ActionSelector(load_actions(SHOP))
    assert selector.ranker == "lexical"  # no extra: words alone still work
    assert selector.select("money back", k=1) == ["Refund_Request"]


def test_the_default_is_hybrid_with_the_packaged_model() -> None:
    assert packaged_embeddings_available()  # the `select` extra is part of `dev`
    with ApiActionsToolkit(actions=SHOP) as toolkit:
        assert toolkit.selector.ranker == "hybrid"
        assert toolkit.select_actions("Is my parcel on its way?", k=1) == ["Check_Order_Status"]
        assert toolkit.select_actions("I want to sign up for emails", k=1) == [
            "Subscribe_Newsletter"
        ]


def test_tools_are_built_when_first_used_and_kept() -> None:
    with ApiActionsToolkit(actions=SHOP) as toolkit:
        assert toolkit.built_tools == []
        tool = toolkit.get_tool("Refund_Request")
        assert toolkit.built_tools == ["Refund_Request"]
        assert toolkit.get_tool("Refund_Request") is tool
        with pytest.raises(KeyError, match="no action named 'Nope'"):
            toolkit.get_tool("Nope")
        tools = toolkit.get_tools()
        assert [t.name for t in tools] == [a["name"] for a in SHOP["actions"]]
        assert tools[3] is tool
        assert sorted(toolkit.built_tools) == sorted(t.name for t in tools)


def test_every_action_is_still_validated_when_the_toolkit_is_made() -> None:
    bad = {"actions": [*SHOP["actions"], {**SHOP["actions"][0], "name": "Bad", "url": "x{y}"}]}
    with pytest.raises(ActionConfigError, match=r"Bad\.url"):
        ApiActionsToolkit(actions=bad)


@settings(max_examples=200)
@given(
    text=st.one_of(st.text(), st.lists(st.text(), max_size=5)),
    k=st.integers(min_value=0, max_value=10),
)
def test_any_text_gets_at_most_k_distinct_known_names(text: object, k: int) -> None:
    ranked = _HYBRID.select(text, k)  # type: ignore[arg-type]
    assert len(ranked) == min(k, len(SHOP["actions"]))
    assert len(set(ranked)) == len(ranked)
    assert set(ranked) <= {a["name"] for a in SHOP["actions"]}


_HYBRID = ActionSelector(load_actions(SHOP))
