"""The int8 ONNX Runtime backend gives the model's vectors (cosine >= 0.99 to torch) and ranks as it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.services import Services
from core.config import DEFAULT_CORPUS_DIR, Settings
from ingest.chunking import chunk_document
from ingest.parse import parse_file
from vectorstore.embeddings import make_embedder
from vectorstore.onnx_embedder import ONNX_DIRNAME, ONNX_FILE, OnnxEmbedder, export_int8


@pytest.fixture(scope="module")
def onnx_embedder(base_services: Services) -> OnnxEmbedder:
    settings = Settings(**{**base_services.settings.model_dump(), "embedding_backend": "onnx"})
    embedder = make_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_the_int8_model_is_exported_once_beside_the_model(onnx_embedder: OnnxEmbedder, models_dir: Path) -> None:
    exported = list(models_dir.glob(f"*/{ONNX_DIRNAME}/{ONNX_FILE}"))
    assert len(exported) == 1
    before = exported[0].stat().st_mtime_ns
    assert export_int8(exported[0].parent.parent) == exported[0]  # the second call reuses the file
    assert exported[0].stat().st_mtime_ns == before


def test_int8_vectors_agree_with_torch_on_the_corpus(onnx_embedder: OnnxEmbedder, base_services: Services) -> None:
    doc = parse_file(sorted(DEFAULT_CORPUS_DIR.glob("*.txt"))[0])
    texts = [c.text for c in chunk_document(doc)][:40]
    torch_vectors = base_services.embedder.embed_passages(texts)
    onnx_vectors = onnx_embedder.embed_passages(texts)
    cosine = (torch_vectors * onnx_vectors).sum(axis=1)
    assert cosine.min() >= 0.99, cosine.min()
    question = "Phòng nào chủ trì tuyên truyền về Chỉ số PII?"
    by_torch = np.argsort(-(torch_vectors @ base_services.embedder.embed_query(question)))[:3]
    by_onnx = np.argsort(-(onnx_vectors @ onnx_embedder.embed_query(question)))[:3]
    assert by_torch[0] in by_onnx  # the best passage stays among the best
    assert onnx_embedder.count_tokens("Phòng Văn hóa - Xã hội") == base_services.embedder.count_tokens(
        "Phòng Văn hóa - Xã hội")
