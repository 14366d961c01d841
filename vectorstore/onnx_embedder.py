"""The embedding model on ONNX Runtime with int8 weights: cosine >= 0.99 to torch fp32's vectors, a question in
a third of torch's time. Passages run here too, or, where the CPU computes bf16 natively, on OpenVINO in bf16
(``openvino_passages``: about 3x faster; ``benchmarks/embedding_backends.py`` prints every runtime).

The ONNX file is exported once, offline, from the local sentence-transformers model (torch exporter), and
its MatMul weights quantized per channel (ONNX Runtime dynamic quantization); it lives beside the model as
``onnx/model-int8.onnx``, its weights in ``model-int8.onnx.data`` beside it, which ONNX Runtime maps into
memory instead of copying: the word-embedding table (250k x 384 floats, 370 MiB, kept fp32) then costs only
the pages of the tokens met. Pooling (mean over the attention mask) and normalization are done here, as the
model's own modules do. Serving imports neither torch nor transformers: the model's ``tokenizer.json`` runs
on the ``tokenizers`` package (``ModelTokenizer``), one instance for both sides.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from vectorstore.embeddings import ModelTokenizer, mean_pooled_in_batches
from vectorstore.openvino_passages import OpenVinoPassages, native_bf16

ONNX_DIRNAME = "onnx"
ONNX_FILE = "model-int8.onnx"
WEIGHTS_FILE = ONNX_FILE + ".data"
_MARKER = "export.json"
_EXPORT_VERSION = 2  # bump when the export or the quantization changes (2: weights in an external file)


def _exported_version(marker: Path) -> int | None:
    try:
        return int(json.loads(marker.read_text()).get("version"))
    except (OSError, ValueError, TypeError):
        return None


def _externalize(model_file: Path) -> None:
    """Move the weights of ``model_file`` into ``WEIGHTS_FILE`` beside it (page-aligned, so ONNX Runtime maps
    them); the graph and the values stay as they are."""
    import onnx

    model = onnx.load(str(model_file))
    staging = Path(tempfile.mkdtemp(prefix="externalizing-", dir=model_file.parent))  # one per process
    onnx.save_model(model, str(staging / ONNX_FILE), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=WEIGHTS_FILE, size_threshold=1024)
    del model
    os.chmod(staging / WEIGHTS_FILE, model_file.stat().st_mode & 0o777)  # readable as the model file is
    os.replace(staging / WEIGHTS_FILE, model_file.parent / WEIGHTS_FILE)
    os.replace(staging / ONNX_FILE, model_file)
    staging.rmdir()


def export_int8(model_dir: Path) -> Path:
    """``model_dir/onnx/model-int8.onnx``, exported and quantized on first use (about 15 s); an export of
    version 1 (weights inside the file) only has its weights moved out, without torch."""
    target = model_dir / ONNX_DIRNAME
    model_file = target / ONNX_FILE
    marker = target / _MARKER
    version = _exported_version(marker) if model_file.exists() else None
    if version == _EXPORT_VERSION and (target / WEIGHTS_FILE).exists():
        return model_file
    if version == 1:
        _externalize(model_file)
        marker.write_text(json.dumps({"version": _EXPORT_VERSION, "weights": "int8 per channel (MatMul), external"}))
        return model_file
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    target.mkdir(parents=True, exist_ok=True)
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    encoder: Any = model[0].auto_model
    encoder.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = model.tokenizer(["passage: mẫu"], return_tensors="pt")
    fp32 = target / "model-fp32.onnx"
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        _Hidden(encoder), (sample["input_ids"], sample["attention_mask"]), str(fp32),
        input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        opset_version=17, dynamo=False,
    )
    partial = target / (ONNX_FILE + ".part")
    quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"], extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    fp32.unlink(missing_ok=True)
    os.replace(partial, model_file)
    _externalize(model_file)
    marker.write_text(json.dumps({"version": _EXPORT_VERSION, "weights": "int8 per channel (MatMul), external"}))
    return model_file


class _Side:
    """A session for one side (questions or passages): each serves one thread at a time. The weights' pages
    are shared (the same mapped file). A question runs without a memory arena (one short text; nothing is kept
    between questions). Passages run in batches with the arena, which halves a batch's time (2 cores: 9 -> 18
    texts/s), and the arena shrinks back after each run, so it is not kept at the size of the largest batch
    ever embedded (about +180 MiB while embedding instead of +670 MiB)."""

    def __init__(self, model_file: Path, tokenizer: ModelTokenizer, threads: int, batches: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.enable_cpu_mem_arena = batches
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.run_options = ort.RunOptions()
        if batches:
            self.run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self.tokenizer = tokenizer
        self.lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        with self.lock:
            return mean_pooled_in_batches(texts, batch_size, self.tokenizer, self._hidden)

    def _hidden(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": input_ids, "attention_mask": mask}, self.run_options)[0]


class OnnxEmbedder:
    """Query and passage embeddings on ONNX Runtime (int8); thread-safe, one session per side so that a
    question never waits for an upload."""

    def __init__(self, settings: Settings, model_dir: Path) -> None:
        model_file = export_int8(model_dir)
        threads = max(1, min(4, os.cpu_count() or 1))
        self.model_name = f"{settings.embedding_model} (onnx int8)"
        self.query_prefix = settings.embedding_query_prefix
        self.passage_prefix = settings.embedding_passage_prefix
        self.batch_size = settings.embedding_batch_size
        self._tokenizer = ModelTokenizer(model_dir)
        self._queries = _Side(model_file, self._tokenizer, threads)
        self._passages_side: _Side | OpenVinoPassages | None = None
        self._model_dir, self._model_file, self._threads = model_dir, model_file, threads
        self._passage_runtime = settings.embedding_passage_runtime
        self._passage_lock = threading.Lock()
        self.dimension = int(self._queries.embed(["query: x"], 1).shape[1])
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def _passages(self) -> _Side | OpenVinoPassages:
        with self._passage_lock:
            if self._passages_side is None:
                runtime = self._passage_runtime
                if runtime == "openvino" or (runtime == "auto" and native_bf16()):
                    self._passages_side = OpenVinoPassages(self._model_dir, self._tokenizer, self._threads)
                else:
                    self._passages_side = _Side(self._model_file, self._tokenizer, self._threads, batches=True)
            return self._passages_side

    @property
    def passage_runtime(self) -> str:
        """What embeds passages: 'openvino bf16' or 'onnx int8' (chosen on the first passage batch)."""
        return "openvino bf16" if isinstance(self._passages(), OpenVinoPassages) else "onnx int8"

    def count_tokens(self, text: str) -> int:
        return self._tokenizer.count(self.passage_prefix + text)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._passages().embed([self.passage_prefix + t for t in texts], self.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        vector = self._queries.embed([self.query_prefix + text], 1)[0]
        with self._cache_lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > 2048:
                self._query_cache.popitem(last=False)
        return vector
