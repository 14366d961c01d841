"""The snapshot's compact forms answer as the plain ones did: BM25 scores weighed per query from narrow
term counts in 16-bit row blocks equal precomputed float32 weights bit for bit (whole index, a few
documents' rows, after an incremental refresh); a chunk keeping only its text's prefix parts behaves as
the dataclass it replaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from corpus import HA_DONG, HOA_DIEN, PLANS, VINH_THUAN, copy_plan, hash_settings

import vectorstore.lexical as lexical
from assistant.services import Services
from core.model import Chunk
from vectorstore.lexical import K1, VOCABULARY, B, LexicalIndex, TermCounts, Vocabulary, lexical_tokens

QUERIES = ["Đơn vị nào chủ trì công tác tuyên truyền?", "chu tri tuyen truyen", "Tỷ lệ chữ ký số năm 2026",
           "xã Hòa Điền gửi kế hoạch cho Sở", "zzzz không có"]


def reference_scores(texts: list[str], query: str) -> np.ndarray:
    """BM25 as the index computed it before: every posting's float32 weight precomputed."""
    tf = sp.vstack([TermCounts.of([t]).tf.astype(np.float32) for t in texts], format="csr")
    width = len(VOCABULARY)
    tf = sp.csr_matrix((tf.data, tf.indices, tf.indptr), shape=(len(texts), width))
    lengths = np.asarray([len(lexical_tokens(t) or ["x"]) for t in texts], dtype=np.float32)
    df = np.bincount(tf.indices, minlength=width).astype(np.float64)
    idf = np.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
    row_lengths = np.repeat(lengths.astype(np.float64), np.diff(tf.indptr))
    counts = tf.data.astype(np.float64)
    norm = K1 * ((1 - B) + B * row_lengths / lengths.mean())
    weights = sp.csr_matrix(((idf[tf.indices] * counts / (norm + counts)).astype(np.float32), tf.indices, tf.indptr),
                            shape=tf.shape).tocsc()
    scores = np.zeros(len(texts), dtype=np.float32)
    for token_id in [i for i in VOCABULARY.known(lexical_tokens(query)) if i < width]:
        start, end = weights.indptr[token_id], weights.indptr[token_id + 1]
        scores[weights.indices[start:end]] += weights.data[start:end]
    return scores


@pytest.fixture(scope="module")
def texts() -> list[str]:
    lines = [line for stem in (HOA_DIEN, VINH_THUAN) for line in (PLANS / f"{stem}.txt").read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line.strip()][:400]


@pytest.mark.parametrize("block_rows", [lexical.BLOCK_ROWS, 64])
def test_scores_weighed_per_query_equal_precomputed_weights(
    texts: list[str], block_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexical, "BLOCK_ROWS", block_rows)
    index = LexicalIndex.from_counts([TermCounts.of(texts[:150]), TermCounts.of(texts[150:])])
    postings = TermCounts.of(texts).tf.nnz
    assert sum(b.rows.nbytes + b.counts.nbytes for b in index._blocks) == 3 * postings  # not 16 as before
    ranges = [(10, 70), (70, 90), (200, 333)]  # crossing blocks of 64 rows, adjacent ones merged
    inside = np.zeros(len(texts), dtype=bool)
    for start, end in ranges:
        inside[start:end] = True
    for query in QUERIES:
        expected = reference_scores(texts, query)
        assert np.array_equal(index.scores(query), expected)
        scoped = index.scores(query, ranges=ranges)
        assert np.array_equal(scoped[inside], expected[inside]) and not scoped[~inside].any()
    # the counts it gives back rebuild the same index (a refresh reuses them)
    reader = index.reader()
    again = LexicalIndex.from_counts([reader.rows(0, 120), reader.rows(120, len(texts))])
    for query in QUERIES:
        assert np.array_equal(again.scores(query), index.scores(query))


def test_counts_made_while_read_over_a_growing_vocabulary(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexical, "BLOCK_ROWS", 64)
    growing, whole = Vocabulary(), Vocabulary()
    made: list[int] = []

    def parts() -> Iterator[TermCounts]:  # tokenized only when the index asks: the vocabulary grows meanwhile
        for start in range(0, len(texts), 50):
            made.append(start)
            yield TermCounts.of(texts[start:start + 50], growing)

    index = LexicalIndex.from_counts(parts())
    reference = LexicalIndex.from_counts([TermCounts.of(texts, whole)])
    assert made == list(range(0, len(texts), 50)) and len(index._blocks) == -(-len(texts) // 64)
    for query in QUERIES:
        assert np.array_equal(index.scores(query, growing), reference.scores(query, whole))
    reader, counts = index.reader(), TermCounts.of(texts, Vocabulary())  # the same ids: words met in the same order
    for start, end in [(0, 10), (10, 130), (130, 131), (200, len(texts))]:  # within and across blocks, in order
        got, expected = reader.rows(start, end), counts.rows(start, end)
        assert (got.tf != expected.tf).nnz == 0 and np.array_equal(got.lengths, expected.lengths)


def test_an_incremental_refresh_scores_as_a_fresh_build(tmp_path: Path) -> None:
    services = Services(hash_settings(tmp_path / "data"))
    services.ingestor.ingest_paths([copy_plan(stem, tmp_path / "in") for stem in (HOA_DIEN, VINH_THUAN)])
    services.ingestor.ingest_paths([copy_plan(HA_DONG, tmp_path / "in")])  # lands between: rows move
    services.ingestor.remove(HOA_DIEN)
    refreshed = services.store.snapshot
    fresh = Services(hash_settings(tmp_path / "data")).store.snapshot
    assert [c.chunk_id for c in refreshed.chunks] == [c.chunk_id for c in fresh.chunks]
    for query in QUERIES:
        assert np.array_equal(refreshed.lexical.scores(query), fresh.lexical.scores(query))
        assert np.array_equal(refreshed.lexical.scores(query, ranges=refreshed.row_ranges({VINH_THUAN})),
                              fresh.lexical.scores(query, ranges=fresh.row_ranges({VINH_THUAN})))
    # facts and their chunks share one id string
    chunk = refreshed.chunks[next(iter(refreshed.record_chunk.values()))]
    record = next(r for r in refreshed.records if r.record_id == chunk.metadata["record_id"])
    assert chunk.metadata["record_id"] is record.record_id


@pytest.mark.parametrize(("text", "body", "section"), [
    ("[xã A, Tỉnh B] Kế hoạch | I. MỤC TIÊU\nNội dung", "Nội dung", "I. MỤC TIÊU"),
    ("[xã A, Tỉnh B] Kế hoạch\nNội dung", "Nội dung", ""),
    ("[xã A] Kế hoạch | khác\nNội dung", "Nội dung", "I. MỤC TIÊU"),
    ("Nội dung", "Nội dung", "I"),
    ("văn bản", "", "I"),
    ("không khớp", "Nội dung", "I"),
])
def test_a_chunk_behaves_as_the_dataclass_it_replaces(text: str, body: str, section: str) -> None:
    chunk = Chunk("c", "d", text, body, section, "text", 1, 2)
    same = Chunk(chunk_id="c", doc_id="d", text=text, body=body, section=section, kind="text", line_start=1,
                 line_end=2, metadata={})
    assert (chunk.text, chunk.body, chunk.section, chunk.metadata) == (text, body, section, {})
    assert chunk == same and chunk != Chunk("c", "d", text + "!", body, section, "text", 1, 2)
    assert repr(chunk).startswith("Chunk(chunk_id='c', doc_id='d', text=")
    with pytest.raises(TypeError):
        hash(chunk)
    with pytest.raises(AttributeError):
        chunk.other = 1  # type: ignore[attr-defined]
    chunk.body = "mới"  # the text stays what it was
    chunk.section = "khác"
    assert (chunk.text, chunk.body) == (text, "mới")
