"""The packaged embedding model loads from the installed files only, and means something."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_apiactions import embeddings
from langchain_apiactions.embeddings import PackagedEmbeddings, packaged_embeddings_available
from langchain_apiactions.errors import ModelSpecError

# Run in a fresh interpreter where every way out is shut: name resolution and connect raise,
# and the home folder is empty, so a fallback download or a cache read would show.
_SCRIPT = """
import json, socket, sys
def refuse(*args, **kwargs):
    raise RuntimeError(f"network use: {args!r}")
socket.getaddrinfo = refuse
socket.socket.connect = refuse
socket.create_connection = refuse
from langchain_apiactions.embeddings import PackagedEmbeddings
emb = PackagedEmbeddings()
docs = emb.embed_documents([
    "Use this when the visitor asks where their order is or about its delivery status",
    "Use this when the visitor wants to subscribe to the newsletter",
    "Use this when the visitor wants a refund of a payment",
])
query = emb.embed_query("I want my money back")
print(json.dumps({"docs": docs, "query": query}))
"""


def test_loads_offline_from_the_package_and_ranks_by_meaning(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Downloading" not in proc.stderr and "huggingface" not in proc.stderr.lower()
    assert not any(tmp_path.iterdir())  # no cache written under $HOME
    out = json.loads(proc.stdout)
    docs, query = out["docs"], out["query"]
    assert all(len(v) == 256 for v in [*docs, query])
    norms = [sum(x * x for x in v) ** 0.5 for v in docs]
    assert all(abs(n - 1) < 1e-3 for n in norms)
    scores = [sum(a * b for a, b in zip(query, d, strict=True)) for d in docs]
    # "money back" shares no word with "refund of a payment", yet ranks it first.
    assert scores.index(max(scores)) == 2, scores


def test_empty_input_and_query_shape() -> None:
    emb = PackagedEmbeddings()
    assert emb.embed_documents([]) == []
    assert len(emb.embed_query("hello")) == 256


def test_without_the_extra_the_error_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    assert packaged_embeddings_available()  # the dev extra installs `select`
    monkeypatch.setattr(embeddings, "_model_files", lambda: None)
    embeddings._load.cache_clear()
    try:
        assert not packaged_embeddings_available()
        with pytest.raises(ModelSpecError, match=r"pip install 'langchain-apiactions\[select\]'"):
            PackagedEmbeddings().embed_query("hello")
    finally:
        monkeypatch.undo()
        embeddings._load.cache_clear()
