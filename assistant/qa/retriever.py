"""Hybrid retrieval: BM25 over syllables (with folded tokens) fused with Chroma's dense hits.

Fusion is reciprocal-rank fusion with a weight per list; both lists are restricted to the
documents of the communes the question names. Exposed as a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from vectorstore.hybrid import Hit, hybrid_search
from vectorstore.store import Snapshot


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
