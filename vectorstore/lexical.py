"""Lexical (BM25) index over syllables, with diacritic-folded tokens and syllable bigrams.

``chu tri`` finds ``chủ trì``: every syllable is indexed as written and folded; a query typed
with diacritics matches both forms and so ranks exact spellings higher.

The index is incremental: a document's term counts (``TermCounts``, a sparse matrix over one
process-wide vocabulary) are computed once, when the document is read. A snapshot keeps only the
counts of all its chunks (one CSC matrix, narrow integer counts), from which the next snapshot takes
the rows of the documents that did not change: no re-tokenizing. What depends on the whole collection
(document frequencies, the average length) is recomputed per snapshot; a posting's weight is computed
when a query reads it, with the same arithmetic as a precomputed weight would be (so the same float32).
Scores are BM25 with Lucene's idf (k1 = 1.2, b = 0.75), as bm25s computes them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from core.normalize import expand_abbreviations, strip_diacritics, words

K1, B = 1.2, 0.75
EMPTY_TOKEN = "∅"  # a chunk without tokens still counts as a document of length 1


def lexical_tokens(text: str) -> list[str]:
    syllables = words(text)
    folded = expand_abbreviations(" ".join(strip_diacritics(w) for w in syllables)).split()
    tokens = syllables + [f"~{f}" for f in folded]
    tokens += [f"{a}_{b}" for a, b in zip(folded, folded[1:], strict=False)]
    return tokens


class Vocabulary:
    """Token -> id, shared by every snapshot of a process; it only grows."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self, tokens: list[str]) -> list[int]:
        missing = [t for t in tokens if t not in self._ids]
        if missing:
            with self._lock:
                for token in missing:
                    self._ids.setdefault(token, len(self._ids))
        return [self._ids[t] for t in tokens]

    def known(self, tokens: list[str]) -> list[int]:
        """Ids of the tokens already seen (a query's unknown words score nothing)."""
        return [i for i in (self._ids.get(t) for t in tokens) if i is not None]


VOCABULARY = Vocabulary()


def _count_dtype(largest: int) -> type[np.unsignedinteger]:
    """The narrowest unsigned type that holds a term count (a term rarely occurs 256 times in a chunk)."""
    return np.uint8 if largest <= 0xFF else np.uint16 if largest <= 0xFFFF else np.uint32


def _index_dtype(largest: int) -> type[np.signedinteger]:
    return np.int32 if largest <= np.iinfo(np.int32).max else np.int64


@dataclass(frozen=True)
class TermCounts:
    """Chunks' term frequencies (chunks x vocabulary ids, CSR, narrow unsigned counts) and lengths in tokens."""

    tf: sp.csr_matrix
    lengths: np.ndarray  # float32

    @classmethod
    def of(cls, texts: list[str], vocabulary: Vocabulary = VOCABULARY) -> TermCounts:
        indptr, indices, data, lengths = [0], [], [], []
        for text in texts:
            ids = vocabulary.ids(lexical_tokens(text) or [EMPTY_TOKEN])
            unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
            indices.append(unique)
            data.append(counts)
            indptr.append(indptr[-1] + len(unique))
            lengths.append(len(ids))
        counts = np.concatenate(data) if data else np.zeros(0, np.int64)
        tf = sp.csr_matrix(
            (counts.astype(_count_dtype(int(counts.max(initial=0)))),
             np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
             np.asarray(indptr, dtype=_index_dtype(indptr[-1]))),
            shape=(len(texts), len(vocabulary)),
        )
        return cls(tf, np.asarray(lengths, dtype=np.float32))

    @classmethod
    def stack(cls, parts: list[TermCounts]) -> TermCounts:
        """The parts' rows one after the other (over the widest vocabulary among them)."""
        width = max((p.tf.shape[1] for p in parts), default=0)
        if not parts:
            return cls(sp.csr_matrix((0, width), dtype=np.uint8), np.zeros(0, np.float32))
        dtype = np.result_type(*(p.tf.dtype for p in parts))
        nnz = sum(p.tf.nnz for p in parts)
        data = np.empty(nnz, dtype)
        indices = np.empty(nnz, np.int32)
        indptr = np.empty(sum(p.tf.shape[0] for p in parts) + 1, _index_dtype(nnz))
        indptr[0] = row = offset = 0
        for part in parts:  # by hand: scipy's vstack would widen the counts and copy more
            rows, count = part.tf.shape[0], part.tf.nnz
            data[offset:offset + count] = part.tf.data
            indices[offset:offset + count] = part.tf.indices
            indptr[row + 1:row + rows + 1] = part.tf.indptr[1:].astype(indptr.dtype) + offset
            row, offset = row + rows, offset + count
        tf = sp.csr_matrix((data, indices, indptr), shape=(row, width))
        return cls(tf, np.concatenate([p.lengths for p in parts]))

    def rows(self, start: int, end: int) -> TermCounts:
        """Rows [start, end) (a document's chunks): views of this one's arrays, to stack."""
        lo, hi = int(self.tf.indptr[start]), int(self.tf.indptr[end])
        tf = sp.csr_matrix(
            (self.tf.data[lo:hi], self.tf.indices[lo:hi], self.tf.indptr[start:end + 1] - lo),
            shape=(end - start, self.tf.shape[1]),
        )
        return TermCounts(tf, self.lengths[start:end])


MAX_RANGES = 16  # row ranges looked up in a posting list; above, the whole list is read
# Rows per block of the index: a posting's row within its block fits in 16 bits (up to 65,536 rows), and a block
# is built at once (its rows' counts stacked, then turned by term), so the block's size is the build's transient:
# at 1,000 plans (140,000 chunks) 16,384 rows peak at +23 MiB over the index, 65,536 at +128 MiB; queries as fast.
BLOCK_ROWS = 1 << 14


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in ranges:
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        elif start < end:
            out.append((start, end))
    return out


@dataclass(frozen=True)
class _Block:
    """Term counts of rows [start, end) by term (CSC arrays; rows counted from ``start``, as uint16)."""

    start: int
    end: int
    indptr: np.ndarray
    rows: np.ndarray
    counts: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.rows.nbytes + self.counts.nbytes

    def spans(self, token_id: int, ranges: list[tuple[int, int]] | None) -> list[tuple[int, int]]:
        """Where the token's postings in the rows asked for are (positions in ``rows``)."""
        lo, hi = int(self.indptr[token_id]), int(self.indptr[token_id + 1])
        if ranges is None:
            return [(lo, hi)]
        column = self.rows[lo:hi]
        out = []
        for start, end in ranges:
            start, end = max(start, self.start) - self.start, min(end, self.end) - self.start
            if start < end:
                first = lo if start == 0 else lo + int(np.searchsorted(column, np.uint16(start)))
                last = hi if end == self.end - self.start else lo + int(np.searchsorted(column, np.uint16(end)))
                out.append((first, last))
        return out


def _widened(block: _Block, width: int) -> _Block:
    """The block over a vocabulary of ``width`` terms (the terms it has no posting of, appended empty)."""
    missing = width + 1 - len(block.indptr)
    if missing <= 0:
        return block
    return replace(block, indptr=np.concatenate([block.indptr, np.full(missing, block.indptr[-1], block.indptr.dtype)]))


class LexicalIndex:
    """BM25 over the chunks of a snapshot, kept as term counts only: by term (CSC), in blocks of ``BLOCK_ROWS``
    rows (16-bit row numbers), so that a query reads the postings of its own terms, and weighs them as it reads
    them. Per chunk: its length normalization; per term: its idf."""

    def __init__(self, texts: list[str]) -> None:
        self._build_blocks([TermCounts.of(texts)] if texts else [])

    @classmethod
    def from_counts(cls, parts: Iterable[TermCounts]) -> LexicalIndex:
        """From term counts of documents (or runs of them), in snapshot order. They are read one block of rows at a
        time and may be produced as they are read: the counts of every chunk are never held twice."""
        index = cls.__new__(cls)
        index._build_blocks(parts)
        return index

    def _build_blocks(self, parts: Iterable[TermCounts]) -> None:
        blocks: list[_Block] = []
        lengths: list[np.ndarray] = []
        group: list[TermCounts] = []
        filled = size = width = 0

        def close_block() -> None:  # the rows gathered, by term
            nonlocal group, filled, size, width
            counts = TermCounts.stack(group)
            group, filled = [], 0
            rows, block_width = counts.tf.shape
            width = max(width, block_width)
            if not rows:
                return
            columns = counts.tf.tocsc()
            blocks.append(_Block(size, size + rows, columns.indptr.astype(_index_dtype(columns.nnz), copy=False),
                                 columns.indices.astype(np.uint16), columns.data))
            lengths.append(counts.lengths)
            size += rows

        for part in parts:
            at, rows = 0, part.tf.shape[0]
            width = max(width, part.tf.shape[1])
            while at < rows:
                take = min(rows - at, BLOCK_ROWS - filled)
                group.append(part if take == rows else part.rows(at, at + take))
                filled, at = filled + take, at + take
                if filled == BLOCK_ROWS:
                    close_block()
        close_block()
        # a vocabulary that grew while the blocks were read: earlier blocks hold no posting of the newer terms
        self._blocks = [_widened(b, width) for b in blocks]
        self.size, self.width = size, width
        self.lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.float32)
        if not self.size:
            return
        # per chunk and per term, what the BM25 weight of a posting needs (as bm25s computes them)
        self._norm = K1 * ((1 - B) + B * self.lengths.astype(np.float64) / self.lengths.mean())
        df = np.zeros(self.width, np.int64)
        for block in self._blocks:
            df += np.diff(block.indptr)
        self._idf = np.log(1 + (self.size - df + 0.5) / (df + 0.5))

    @property
    def nbytes(self) -> int:
        arrays = [self.lengths] + ([self._norm, self._idf] if self._blocks else [])
        return sum(a.nbytes for a in arrays) + sum(b.nbytes for b in self._blocks)

    def reader(self) -> RowReader:
        """Term counts of row ranges of this index, read block by block (for a refresh that keeps most rows)."""
        return RowReader(self)

    def scores(
        self, query: str, vocabulary: Vocabulary = VOCABULARY, ranges: list[tuple[int, int]] | None = None
    ) -> np.ndarray:
        """BM25 score of every chunk (float32). With ``ranges`` (sorted, disjoint [start, end) row ranges),
        only the chunks in them are scored; the others keep 0."""
        scores = np.zeros(self.size, dtype=np.float32)
        ids = [i for i in vocabulary.known(lexical_tokens(query)) if i < self.width]
        if ranges is not None:
            ranges = _merged(ranges)
            if len(ranges) > MAX_RANGES:
                ranges = None
        for block in self._blocks:
            if ranges is not None and not any(s < block.end and e > block.start for s, e in ranges):
                continue
            block_scores, norm = scores[block.start:block.end], self._norm[block.start:block.end]
            for token_id in ids:  # a word twice in the question counts twice
                idf = self._idf[token_id]
                for lo, hi in block.spans(token_id, ranges):
                    if lo < hi:
                        rows = block.rows[lo:hi]
                        counts = block.counts[lo:hi].astype(np.float64)
                        block_scores[rows] += (idf * counts / (norm[rows] + counts)).astype(np.float32)
        return scores

    def holding_any(self, tokens: list[str], vocabulary: Vocabulary = VOCABULARY) -> np.ndarray:
        """Which chunks hold at least one of ``tokens`` (a boolean per row)."""
        held = np.zeros(self.size, dtype=bool)
        for token_id in (i for i in vocabulary.known(tokens) if i < self.width):
            for block in self._blocks:
                lo, hi = block.spans(token_id, None)[0]
                held[block.rows[lo:hi].astype(np.int64) + block.start] = True
        return held


class RowReader:
    """Rows of a lexical index as term counts, range by range; a block is turned back into rows once while the
    ranges are read in order."""

    def __init__(self, index: LexicalIndex) -> None:
        self._index = index
        self._block: _Block | None = None
        self._csr: sp.csr_matrix | None = None

    def rows(self, start: int, end: int) -> TermCounts:
        index, pieces = self._index, []
        for block in index._blocks:
            if block.end <= start or block.start >= end:
                continue
            if self._block is not block or self._csr is None:
                self._block, self._csr = block, sp.csc_matrix(
                    (block.counts, block.rows.astype(np.int32), block.indptr),
                    shape=(block.end - block.start, index.width)).tocsr()
            csr = self._csr
            a, b = max(start, block.start) - block.start, min(end, block.end) - block.start
            lo, hi = int(csr.indptr[a]), int(csr.indptr[b])
            tf = sp.csr_matrix((csr.data[lo:hi], csr.indices[lo:hi], csr.indptr[a:b + 1] - lo),
                               shape=(b - a, index.width))
            pieces.append(TermCounts(tf, index.lengths[block.start + a:block.start + b]))
        return pieces[0] if len(pieces) == 1 else TermCounts.stack(pieces)
