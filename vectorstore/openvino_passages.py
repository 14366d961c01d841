"""Passages (ingestion) in bf16 on OpenVINO, for CPUs that compute bf16 natively (AMX or AVX512-BF16): about 3x
the throughput of torch fp32 and of ONNX Runtime int8 on 2 cores, cosine >= 0.9999 to torch fp32's vectors
(``benchmarks/embedding_backends.py`` prints all three). Questions stay on ONNX Runtime int8: one short text,
answered in a few milliseconds from weights mapped from their file.

The model is converted once, offline, from the local sentence-transformers model (OpenVINO's converter traces
the torch encoder) into ``openvino/model.xml`` beside it, its weights stored as fp16 (225 MiB). While it runs,
the compiled model holds about 500 MiB (the word-embedding table widened): it is compiled on the first batch
(0.3 s once the file is in the page cache) and released ``IDLE_RELEASE_S`` after the last, so a folder is
embedded by one compiled model and a serving process does not keep it between uploads.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.process import release_memory
from vectorstore.embeddings import ModelTokenizer, mean_pooled_in_batches

OPENVINO_DIRNAME = "openvino"
MODEL_XML = "model.xml"
_MARKER = "export.json"
_EXPORT_VERSION = 1  # bump when the conversion changes
IDLE_RELEASE_S = 30.0
# Texts padded to a multiple of this many tokens: OpenVINO compiles kernels for each input shape it meets, and
# fewer shapes pay that less often (the corpus on a fresh process: 50 -> 56 passages/s; vectors unchanged).
SHAPE_STEP = 32


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (OpenVINO then runs bf16 kernels; elsewhere it would emulate)."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # no OpenVINO, or no CPU plugin: the ONNX Runtime side does the work
        return False


def export_openvino(model_dir: Path) -> Path:
    """``model_dir/openvino/model.xml``, converted on first use (about 5 s; needs torch, as the ONNX export)."""
    target = model_dir / OPENVINO_DIRNAME
    model_file, marker = target / MODEL_XML, target / _MARKER
    try:
        if model_file.exists() and json.loads(marker.read_text()).get("version") == _EXPORT_VERSION:
            return model_file
    except (OSError, ValueError):
        pass
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    encoder: Any = model[0].auto_model
    encoder.eval()
    sample = model.tokenizer(["passage: mẫu"], return_tensors="pt")
    with torch.no_grad():
        converted = ov.convert_model(
            encoder, example_input={"input_ids": sample["input_ids"], "attention_mask": sample["attention_mask"]}
        )
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".{os.getpid()}-{MODEL_XML}"  # the .bin is written beside it under the same stem
    ov.save_model(converted, str(staging), compress_to_fp16=True)
    os.replace(staging.with_suffix(".bin"), model_file.with_suffix(".bin"))
    os.replace(staging, model_file)
    marker.write_text(json.dumps({"version": _EXPORT_VERSION, "weights": "fp16, run in bf16"}))
    return model_file


class OpenVinoPassages:
    """The passage side on OpenVINO (bf16 where the CPU computes it natively): one batch at a time; its ``embed`` has
    the ONNX side's signature."""

    def __init__(self, model_dir: Path, tokenizer: ModelTokenizer, threads: int) -> None:
        self._model_file = export_openvino(model_dir)
        self._threads = threads
        self.tokenizer = tokenizer
        self.lock = threading.Lock()
        self._compiled: Any = None
        self._rows = 1  # the batch size being embedded (smaller batches are filled up to it)
        self._precision = "bf16" if native_bf16() else "f32"  # chosen by hand on another CPU: fp32, not emulated bf16
        self._release_timer: threading.Timer | None = None

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        with self.lock:
            if self._release_timer is not None:
                self._release_timer.cancel()
            if self._compiled is None:
                import openvino as ov

                self._compiled = ov.Core().compile_model(str(self._model_file), "CPU", {
                    "INFERENCE_PRECISION_HINT": self._precision, "INFERENCE_NUM_THREADS": self._threads})
            self._rows = batch_size
            try:
                return mean_pooled_in_batches(texts, batch_size, self.tokenizer, self._hidden, SHAPE_STEP)
            finally:
                self._release_timer = threading.Timer(IDLE_RELEASE_S, self.release)
                self._release_timer.daemon = True
                self._release_timer.start()

    def _hidden(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        rows = input_ids.shape[0]
        if rows < self._rows:  # a last, smaller batch: filled up with padding rows, so its shape is one met before
            filler = np.full((self._rows - rows, input_ids.shape[1]), self.tokenizer.pad_id, dtype=input_ids.dtype)
            input_ids = np.concatenate([input_ids, filler])
            mask = np.concatenate([mask, np.zeros_like(filler)])
            mask[rows:, 0] = 1
        return np.asarray(self._compiled({"input_ids": input_ids, "attention_mask": mask})[0])[:rows]

    @property
    def loaded(self) -> bool:
        """Whether the compiled model is held (between a batch and its release)."""
        return self._compiled is not None

    def release(self) -> None:
        """Drop the compiled model and give its memory back (it is compiled again on the next batch)."""
        with self.lock:
            if self._compiled is not None:
                self._compiled = None
                release_memory()

