"""Lexical (BM25) index over syllables, with diacritic-folded tokens and syllable bigrams.

``chu tri`` finds ``chủ trì``: every syllable is indexed as written and folded; a query typed
with diacritics matches both forms and so ranks exact spellings higher. The index is built
when the catalog changes (from tokens kept per document), never per query.
"""

from __future__ import annotations

import bm25s
import numpy as np

from core.normalize import expand_abbreviations, strip_diacritics, words


def lexical_tokens(text: str) -> list[str]:
    syllables = words(text)
    folded = expand_abbreviations(" ".join(strip_diacritics(w) for w in syllables)).split()
    tokens = syllables + [f"~{f}" for f in folded]
    tokens += [f"{a}_{b}" for a, b in zip(folded, folded[1:], strict=False)]
    return tokens


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self._build([lexical_tokens(t) for t in texts])

    @classmethod
    def from_tokens(cls, tokens: list[list[str]]) -> LexicalIndex:
        """From texts already tokenized by ``lexical_tokens`` (a snapshot keeps them per document)."""
        index = cls.__new__(cls)
        index._build(tokens)
        return index

    def _build(self, tokens: list[list[str]]) -> None:
        self.size = len(tokens)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if tokens:
            self._bm25.index([t or ["∅"] for t in tokens], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        tokens = lexical_tokens(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
