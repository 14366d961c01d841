"""Embedding throughput and agreement: torch fp32 against ONNX Runtime int8 on the corpus' own chunks
(prints figures; not a test).

    PLAN_ASSISTANT_MODELS_DIR=/work/models-cache python benchmarks/embedding_backends.py [--limit 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from core.config import DEFAULT_CORPUS_DIR, Settings, get_settings  # noqa: E402
from ingest.chunking import chunk_document  # noqa: E402
from ingest.parse import parse_file  # noqa: E402
from vectorstore.embeddings import make_embedder  # noqa: E402


def corpus_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(DEFAULT_CORPUS_DIR.glob("*.txt")):
        doc = parse_file(path)
        texts += [c.text for c in chunk_document(doc)]
    return texts[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    base = get_settings()
    texts = corpus_texts(args.limit)
    print(f"{len(texts)} chunks of the default corpus, {sum(len(t) for t in texts) / len(texts):.0f} characters each")
    vectors = {}
    for backend in ("sentence-transformers", "onnx"):
        settings = Settings(**{**base.model_dump(), "embedding_backend": backend})
        embedder = make_embedder(settings)
        embedder.embed_passages(texts[:8])  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        vectors[backend] = embedder.embed_passages(texts)
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        print(f"{backend:>22}: {len(texts) / wall:6.1f} chunks/s  (wall {wall:5.1f} s, CPU {used:5.1f} s)")
    cosine = (vectors["sentence-transformers"] * vectors["onnx"]).sum(axis=1)
    print(f"cosine onnx vs torch: min {cosine.min():.4f}  mean {cosine.mean():.4f}  "
          f"share >= 0.99: {np.mean(cosine >= 0.99):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
