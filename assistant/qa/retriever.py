"""Hybrid retrieval: BM25 over syllables (with folded tokens) fused with Chroma's dense hits.

Fusion is reciprocal-rank fusion with a weight per list; both lists are restricted to the
documents of the communes the question names. Exposed as a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.qa.types import Hit
from vectorstore.store import Snapshot, Store

RRF_K = 60
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 0.8
CANDIDATES = 40


def hybrid_search(
    store: Store,
    snapshot: Snapshot,
    query: str,
    k: int = 10,
    doc_ids: set[str] | None = None,
    kinds: set[str] | None = None,
    use_dense: bool = True,
) -> list[Hit]:
    if not snapshot.chunks:
        return []
    lexical = snapshot.lexical.scores(query)
    mask = snapshot.mask_for(doc_ids)
    if mask is not None:
        lexical = np.where(mask, lexical, -1.0)
    if kinds is not None:
        kind_mask = np.array([c.kind in kinds for c in snapshot.chunks])
        lexical = np.where(kind_mask, lexical, -1.0)
    order = np.argsort(-lexical)[:CANDIDATES]
    fused: dict[int, Hit] = {}
    for rank, index in enumerate(order):
        if lexical[index] <= 0:
            break
        hit = fused.setdefault(int(index), Hit(int(index), 0.0))
        hit.lexical = float(lexical[index])
        hit.score += LEXICAL_WEIGHT / (RRF_K + rank)
    if use_dense:
        dense = store.dense_search(query, CANDIDATES, snapshot, doc_ids)
        rank = 0
        for index, cosine in dense:
            if kinds is not None and snapshot.chunks[index].kind not in kinds:
                continue
            hit = fused.setdefault(index, Hit(index, 0.0))
            hit.dense = cosine
            hit.score += DENSE_WEIGHT / (RRF_K + rank)
            rank += 1
    return sorted(fused.values(), key=lambda h: h.score, reverse=True)[:k]


def hit_document(snapshot: Snapshot, hit: Hit) -> Document:
    chunk = snapshot.chunks[hit.chunk_index]
    doc = snapshot.documents[chunk.doc_id]
    return Document(
        page_content=chunk.text,
        metadata={
            "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, "document": doc.filename,
            "commune": doc.commune or "", "section": chunk.section, "kind": chunk.kind,
            "line_start": chunk.line_start, "line_end": chunk.line_end, "score": hit.score,
        },
    )


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the store (composes with LCEL)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    k: int = 5
    doc_ids: set[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        snapshot = self.store.snapshot
        return [hit_document(snapshot, h) for h in hybrid_search(self.store, snapshot, query, self.k, self.doc_ids)]
