"""Embedding throughput and agreement: torch fp32, ONNX Runtime int8 and (where the CPU computes bf16 natively)
OpenVINO bf16 on the corpus' own chunks, and on questions (the development set's when present): the vectors'
cosine to torch fp32, and how often the top 5 chunks a question finds with the int8 query vector among the fp32
passage vectors are the fp32 ones (prints figures; not a test).

    PLAN_ASSISTANT_MODELS_DIR=/work/models-cache python benchmarks/embedding_backends.py [--limit 400]
"""

from __future__ import annotations

import argparse
import json
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
from vectorstore.openvino_passages import native_bf16  # noqa: E402


def corpus_texts(limit: int) -> list[str]:
    texts: list[str] = []
    for path in sorted(DEFAULT_CORPUS_DIR.glob("*.txt")):
        doc = parse_file(path)
        texts += [c.text for c in chunk_document(doc)]
    return texts[:limit]


DEV_SET = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev.jsonl"
QUESTIONS = ("Ai ký kế hoạch của xã Hòa Điền?", "Đơn vị nào chủ trì công tác tuyên truyền?",
             "Tỷ lệ người dân có chữ ký số năm 2026 là bao nhiêu?", "Xã nào gửi kế hoạch cho Sở Khoa học và Công nghệ?",
             "Kế hoạch có những nhóm nhiệm vụ, giải pháp nào?")


def questions() -> list[str]:
    if DEV_SET.exists():
        return [json.loads(line)["question"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    return list(QUESTIONS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    base = get_settings()
    texts = corpus_texts(args.limit)
    print(f"{len(texts)} chunks of the default corpus, {sum(len(t) for t in texts) / len(texts):.0f} characters each")
    vectors, query_vectors = {}, {}
    asked = questions()
    runtimes = {"sentence-transformers": ("sentence-transformers", "onnx"), "onnx": ("onnx", "onnx")}
    if native_bf16():
        runtimes["openvino bf16"] = ("onnx", "openvino")
    for backend, (setting, passages) in runtimes.items():
        settings = Settings(**{**base.model_dump(), "embedding_backend": setting,
                               "embedding_passage_runtime": passages})
        embedder = make_embedder(settings)
        embedder.embed_passages(texts[:8])  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        vectors[backend] = embedder.embed_passages(texts)
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        query_vectors[backend] = np.stack([embedder.embed_query(q) for q in asked])
        per_query = (time.perf_counter() - start) / len(asked) * 1000
        print(f"{backend:>22}: {len(texts) / wall:6.1f} chunks/s  (wall {wall:5.1f} s, CPU {used:5.1f} s); "
              f"{per_query:5.1f} ms a question")
    for backend in list(runtimes)[1:]:
        cosine = (vectors["sentence-transformers"] * vectors[backend]).sum(axis=1)
        print(f"cosine {backend} vs torch fp32 (passages): min {cosine.min():.4f}  mean {cosine.mean():.4f}  "
              f"share >= 0.99: {np.mean(cosine >= 0.99):.1%}")
    fp32, int8 = query_vectors["sentence-transformers"], query_vectors["onnx"]
    cosine = (fp32 * int8).sum(axis=1)
    passages = vectors["sentence-transformers"]
    top = min(5, len(texts))
    same_first, overlap = [], []
    for q32, q8, in zip(fp32, int8, strict=True):
        by32, by8 = np.argsort(-(passages @ q32))[:top], np.argsort(-(passages @ q8))[:top]
        same_first.append(by32[0] == by8[0])
        overlap.append(len(set(by32) & set(by8)) / top)
    both = [len(set(np.argsort(-(passages @ a))[:top]) & set(np.argsort(-(vectors["onnx"] @ b))[:top])) / top
            for a, b in zip(fp32, int8, strict=True)]
    print(f"{len(asked)} questions: query cosine onnx vs torch min {cosine.min():.4f} mean {cosine.mean():.4f}; "
          f"top-{top} chunks (fp32 passages) shared {np.mean(overlap):.1%}, same first {np.mean(same_first):.1%}; "
          f"int8 on both sides vs fp32 on both: top-{top} shared {np.mean(both):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
