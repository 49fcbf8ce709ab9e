"""Offline text embeddings from a model that ships inside an installed package.

`PackagedEmbeddings` is a LangChain `Embeddings` over WordLlama's `l2_supercat`
256-dimension token-embedding model. The `select` extra installs `wordllama`, whose wheel
carries both the weights (`wordllama/weights/*.safetensors`) and the tokenizer
(`wordllama/tokenizers/*.json`). Both files are opened by path from the installed package
and nothing is ever fetched: WordLlama's own `WordLlama.load()` falls back to a Hugging
Face download when it misses a file, so it is never called here.

Used by action selection (`ApiActionsToolkit.select_actions`), the `offline-semantic`
eval chooser and `validate`'s description-similarity check. The model loads once per
process (about 0.4 s, 32 MB) on first use; importing this module loads nothing.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from langchain_apiactions.errors import ModelSpecError

if TYPE_CHECKING:
    from wordllama.inference import WordLlamaInference

__all__ = ["PackagedEmbeddings", "packaged_embeddings_available"]

MODEL_NAME = "wordllama l2_supercat 256"
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
_INSTALL_HINT = "pip install 'langchain-apiactions[select]'"
_LOCK = threading.Lock()


def _package_dir() -> Path | None:
    """The installed `wordllama` package folder, or None (without importing it)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _model_files() -> tuple[Path, Path] | None:
    root = _package_dir()
    if root is None:
        return None
    weights, tokenizer = root.joinpath(*_WEIGHTS), root.joinpath(*_TOKENIZER)
    return (weights, tokenizer) if weights.is_file() and tokenizer.is_file() else None


def packaged_embeddings_available() -> bool:
    """Whether the `select` extra is installed with its model files (nothing is loaded).

    Returns:
        True when `wordllama` is installed and its wheel's weights and tokenizer are there.
    """
    return _model_files() is not None


@functools.lru_cache(maxsize=1)
def _load() -> WordLlamaInference:
    """Open the packaged weights and tokenizer by path (once per process)."""
    files = _model_files()
    if files is None:
        raise ModelSpecError(
            f"the offline embedding model ({MODEL_NAME}) needs the `select` extra: {_INSTALL_HINT}"
        )
    weights, tokenizer_file = files
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    with safe_open(str(weights), framework="np", device="cpu") as handle:
        matrix = handle.get_tensor("embedding.weight")
    return WordLlamaInference(matrix, tokenizer)


class PackagedEmbeddings(Embeddings):
    """Unit-length sentence vectors from the model inside the `select` extra, offline.

    Example:
        ```python
        from langchain_apiactions.embeddings import PackagedEmbeddings

        vectors = PackagedEmbeddings().embed_documents(["where is my order", "refund"])
        ```
    """

    model_name = MODEL_NAME

    def _model(self) -> WordLlamaInference:
        with _LOCK:
            return _load()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed several texts.

        Args:
            texts: The texts (an empty text gets a zero vector).

        Returns:
            One list of 256 floats per text, normalised to unit length.

        Raises:
            ModelSpecError: the `select` extra is not installed.
        """
        if not texts:
            return []
        vectors = self._model().embed(list(texts), norm=True)
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        """Embed one text (a visitor message, a search query).

        Args:
            text: The text.

        Returns:
            A list of 256 floats, normalised to unit length.

        Raises:
            ModelSpecError: the `select` extra is not installed.
        """
        return self.embed_documents([text])[0]
