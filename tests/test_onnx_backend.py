"""The int8 ONNX Runtime backend gives the model's vectors (cosine >= 0.99 to torch) and ranks as it does; it serves
without torch or transformers, its weights mapped from their file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.services import Services
from core.config import DEFAULT_CORPUS_DIR, Settings
from ingest.chunking import chunk_document
from ingest.parse import parse_file
from vectorstore import onnx_embedder as onnx_embedder_module
from vectorstore import openvino_passages
from vectorstore.embeddings import MAX_TOKENS, ModelTokenizer, make_embedder
from vectorstore.onnx_embedder import (
    ONNX_DIRNAME,
    ONNX_FILE,
    WEIGHTS_FILE,
    OnnxEmbedder,
    export_int8,
)
from vectorstore.openvino_passages import MODEL_XML, OPENVINO_DIRNAME, OpenVinoPassages, export_openvino


def _onnx_embedder(services: Services, passages: str) -> OnnxEmbedder:
    settings = Settings(**{**services.settings.model_dump(), "embedding_backend": "onnx",
                           "embedding_passage_runtime": passages})
    embedder = make_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.fixture(scope="module")
def onnx_embedder(base_services: Services) -> OnnxEmbedder:
    return _onnx_embedder(base_services, "onnx")


def _corpus_chunks(n: int) -> list[str]:
    doc = parse_file(sorted(DEFAULT_CORPUS_DIR.glob("*.txt"))[0])
    return [c.text for c in chunk_document(doc)][:n]


def test_the_int8_model_is_exported_once_beside_the_model(onnx_embedder: OnnxEmbedder, models_dir: Path) -> None:
    exported = list(models_dir.glob(f"*/{ONNX_DIRNAME}/{ONNX_FILE}"))
    assert len(exported) == 1
    before = exported[0].stat().st_mtime_ns
    assert export_int8(exported[0].parent.parent) == exported[0]  # the second call reuses the file
    assert exported[0].stat().st_mtime_ns == before


def test_int8_vectors_agree_with_torch_on_the_corpus(onnx_embedder: OnnxEmbedder, base_services: Services) -> None:
    assert onnx_embedder.passage_runtime == "onnx int8"
    texts = _corpus_chunks(40)
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


def test_bf16_passages_on_openvino_agree_with_torch_and_are_released_when_idle(
    base_services: Services, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passages in bf16 on OpenVINO (the default where the CPU computes bf16 natively) give torch fp32's vectors;
    the compiled model is dropped after its idle time and compiled again for the next batch."""
    monkeypatch.setattr(openvino_passages, "IDLE_RELEASE_S", 0.2)
    embedder = _onnx_embedder(base_services, "openvino")
    assert embedder.passage_runtime == "openvino bf16"
    texts = _corpus_chunks(24)
    cosine = (base_services.embedder.embed_passages(texts) * embedder.embed_passages(texts)).sum(axis=1)
    assert cosine.min() >= 0.999, cosine.min()
    model_dir = next(p.parent.parent for p in models_dir.glob(f"*/{OPENVINO_DIRNAME}/{MODEL_XML}"))
    exported = model_dir / OPENVINO_DIRNAME / MODEL_XML
    before = exported.stat().st_mtime_ns
    assert export_openvino(model_dir) == exported and exported.stat().st_mtime_ns == before  # converted once
    side = OpenVinoPassages(model_dir, ModelTokenizer(model_dir), threads=1)
    first = side.embed(texts[:3], batch_size=2)
    assert side.loaded
    deadline = time.monotonic() + 10
    while side.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not side.loaded
    assert np.allclose(side.embed(texts[:3], batch_size=2), first, atol=1e-3)


def test_auto_takes_openvino_only_where_bf16_is_native(
    base_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_embedder_module, "native_bf16", lambda: False)
    assert _onnx_embedder(base_services, "auto").passage_runtime == "onnx int8"
    monkeypatch.setattr(onnx_embedder_module, "native_bf16", lambda: True)
    assert _onnx_embedder(base_services, "auto").passage_runtime == "openvino bf16"


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
