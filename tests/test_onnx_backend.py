"""The int8 ONNX Runtime backend gives the model's vectors (cosine >= 0.99 to torch) and ranks as it does; it serves
without torch or transformers, its weights mapped from their file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.services import Services
from core.config import DEFAULT_CORPUS_DIR, Settings
from ingest.chunking import chunk_document
from ingest.parse import parse_file
from vectorstore.embeddings import ModelTokenizer, make_embedder
from vectorstore.onnx_embedder import (
    MAX_TOKENS,
    ONNX_DIRNAME,
    ONNX_FILE,
    WEIGHTS_FILE,
    OnnxEmbedder,
    export_int8,
)


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


def test_the_tokenizers_package_gives_the_ids_transformers_gives(onnx_embedder: OnnxEmbedder, models_dir: Path) -> None:
    """Serving tokenizes with ``tokenizers`` alone: the same ids, mask, truncation (the closing token kept) and
    padding as the transformers tokenizer the model was used with, and the same counts."""
    from transformers import AutoTokenizer

    model_dir = next(p.parent.parent for p in models_dir.glob(f"*/{ONNX_DIRNAME}/{ONNX_FILE}"))
    reference = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    texts = ["query: Ai ký?", "passage: " + " ".join(["Phòng Văn hóa - Xã hội"] * 200), "", "x" * 3000,
             *(line for line in sorted(DEFAULT_CORPUS_DIR.glob("*.txt"))[1].read_text(encoding="utf-8")
               .splitlines()[:30] if line)]
    tokenizer = ModelTokenizer(model_dir)
    assert [tokenizer.count(t) for t in texts] == [len(reference(t)["input_ids"]) for t in texts]
    for batch in (texts[:4], texts[4:20], texts):
        expected = reference(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
        input_ids, mask = tokenizer.batch(batch, MAX_TOKENS)
        assert np.array_equal(input_ids, expected["input_ids"]) and np.array_equal(mask, expected["attention_mask"])


def test_the_onnx_backend_serves_without_torch(onnx_embedder: OnnxEmbedder, models_dir: Path) -> None:
    """A process that embeds questions on ONNX Runtime imports neither torch nor transformers, and the weights
    stay in their mapped file (the 370 MiB word-embedding table is not copied into the heap)."""
    script = (
        "import sys\n"
        "from core.config import Settings\n"
        "from vectorstore.embeddings import make_embedder\n"
        f"settings = Settings(embedding_backend='onnx', PLAN_ASSISTANT_MODELS_DIR={str(models_dir)!r})\n"
        "before = int(open('/proc/self/statm').read().split()[1])\n"
        "make_embedder(settings).embed_query('Ai ký kế hoạch?')\n"
        "grown = (int(open('/proc/self/statm').read().split()[1]) - before) * 4096 / 2**20\n"
        "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)), round(grown))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert out[0] == "[]", out
    assert int(out[1]) < 400, out  # the tokenizer (~280 MiB) and the session; not 400 MiB more of weights


def test_weights_moved_out_run_as_before(tmp_path: Path) -> None:
    """An export of version 1 (weights inside the file) has them moved beside it: same graph, same results."""
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    table = np.random.default_rng(0).standard_normal((512, 64)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])], "g",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", 64])],
        [numpy_helper.from_array(table, "table")],
    )
    model_file = tmp_path / ONNX_DIRNAME / ONNX_FILE
    model_file.parent.mkdir()
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(model_file))
    (model_file.parent / "export.json").write_text('{"version": 1}')
    ids = np.array([[3, 500, 7]], dtype=np.int64)
    assert export_int8(tmp_path) == model_file  # no torch: only the weights move
    assert (model_file.parent / WEIGHTS_FILE).stat().st_size >= table.nbytes
    assert model_file.stat().st_size < 4096 and not list(model_file.parent.glob("externalizing-*"))
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    assert np.array_equal(session.run(None, {"input_ids": ids})[0], table[ids])
    assert export_int8(tmp_path) == model_file  # the second call finds it done
