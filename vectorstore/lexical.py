"""Lexical (BM25) index over syllables, with diacritic-folded tokens and syllable bigrams.

``chu tri`` finds ``chủ trì``: every syllable is indexed as written and folded; a query typed
with diacritics matches both forms and so ranks exact spellings higher.

The index is incremental: each document's term counts (``TermCounts``, a sparse matrix over one
process-wide vocabulary) are computed once, when the document is read, and kept with it. A snapshot
stacks them and recomputes only what depends on the whole collection (document frequencies, the
average length, hence every weight) with vectorized arithmetic: no re-tokenizing, never per query.
Scores are BM25 with Lucene's idf (k1 = 1.2, b = 0.75), as bm25s computes them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

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


@dataclass(frozen=True)
class TermCounts:
    """One document's chunks: term frequencies (chunks x vocabulary ids, CSR) and lengths in tokens."""

    tf: sp.csr_matrix
    lengths: np.ndarray

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
        tf = sp.csr_matrix(
            (np.concatenate(data).astype(np.float32) if data else np.zeros(0, np.float32),
             np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32),
             np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), len(vocabulary)),
        )
        return cls(tf, np.asarray(lengths, dtype=np.float32))


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self._build([TermCounts.of(texts)] if texts else [])

    @classmethod
    def from_counts(cls, parts: list[TermCounts]) -> LexicalIndex:
        """From the kept term counts of each document, in snapshot order."""
        index = cls.__new__(cls)
        index._build(parts)
        return index

    def _build(self, parts: list[TermCounts]) -> None:
        self.size = sum(p.tf.shape[0] for p in parts)
        self._weights: sp.csc_matrix | None = None
        if not self.size:
            return
        width = max(p.tf.shape[1] for p in parts)
        tf = sp.vstack(
            [sp.csr_matrix((p.tf.data, p.tf.indices, p.tf.indptr), shape=(p.tf.shape[0], width)) for p in parts],
            format="csr",
        )
        lengths = np.concatenate([p.lengths for p in parts])
        df = np.bincount(tf.indices, minlength=width).astype(np.float64)
        idf = np.log(1 + (self.size - df + 0.5) / (df + 0.5))
        row_lengths = np.repeat(lengths.astype(np.float64), np.diff(tf.indptr))
        counts = tf.data.astype(np.float64)
        norm = K1 * ((1 - B) + B * row_lengths / lengths.mean())
        weights = (idf[tf.indices] * counts / (norm + counts)).astype(np.float32)
        self._weights = sp.csr_matrix((weights, tf.indices, tf.indptr), shape=tf.shape).tocsc()

    def scores(self, query: str, vocabulary: Vocabulary = VOCABULARY) -> np.ndarray:
        if self._weights is None:
            return np.zeros(self.size, dtype=np.float32)
        ids = [i for i in vocabulary.known(lexical_tokens(query)) if i < self._weights.shape[1]]
        scores = np.zeros(self.size, dtype=np.float32)
        columns = self._weights
        for token_id in ids:  # a word twice in the question counts twice
            start, end = columns.indptr[token_id], columns.indptr[token_id + 1]
            scores[columns.indices[start:end]] += columns.data[start:end]
        return scores
