"""The store: catalog (truth) + Chroma (dense) + an in-memory snapshot (lexical index, records).

Readers use ``store.snapshot``, an immutable object swapped atomically after every change,
so a query sees the old or the new state of a document, never half of it. Dense hits are
filtered through the snapshot's chunk ids for the same reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Settings
from core.model import Chunk, Record
from core.normalize import fold
from vectorstore.catalog import Catalog, DocumentRow
from vectorstore.chroma_store import ChromaIndex
from vectorstore.embeddings import TextEmbedder, make_embedder
from vectorstore.lexical import LexicalIndex


@dataclass(frozen=True)
class Snapshot:
    documents: dict[str, DocumentRow]
    chunks: list[Chunk]
    position: dict[str, int]  # chunk id -> index in ``chunks``
    lexical: LexicalIndex
    records: list[Record]
    record_chunk: dict[str, int] = field(default_factory=dict)  # record id -> chunk index
    doc_mask: dict[str, np.ndarray] = field(default_factory=dict)  # doc id -> bool mask over chunks

    @property
    def communes(self) -> list[str]:
        return sorted({d.commune for d in self.documents.values() if d.commune})

    def mask_for(self, doc_ids: set[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        mask = np.zeros(len(self.chunks), dtype=bool)
        for doc_id in doc_ids:
            if doc_id in self.doc_mask:
                mask |= self.doc_mask[doc_id]
        return mask


def build_snapshot(catalog: Catalog) -> Snapshot:
    documents = {d.doc_id: d for d in catalog.documents()}
    chunks = catalog.chunks()
    position = {c.chunk_id: i for i, c in enumerate(chunks)}
    records = catalog.records()
    record_chunk = {c.metadata["record_id"]: i for i, c in enumerate(chunks) if c.metadata.get("record_id")}
    doc_mask: dict[str, np.ndarray] = {}
    doc_ids = np.array([c.doc_id for c in chunks])
    for doc_id in documents:
        doc_mask[doc_id] = doc_ids == doc_id
    return Snapshot(documents, chunks, position, LexicalIndex([c.text for c in chunks]), records,
                    record_chunk, doc_mask)


def chunk_metadata(chunk: Chunk, doc: DocumentRow) -> dict[str, Any]:
    meta = doc.metadata
    return {
        "doc_id": chunk.doc_id,
        "kind": chunk.kind,
        "section": chunk.section[:500],
        "commune": meta.get("commune") or "",
        "commune_folded": fold(meta.get("commune") or ""),
        "province": meta.get("province") or "",
        "plan_type": meta.get("plan_type") or "",
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
    }


class Store:
    def __init__(self, settings: Settings, embedder: TextEmbedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder or make_embedder(settings)
        self.catalog = Catalog(settings.catalog_path)
        self.dense = ChromaIndex(settings, self.embedder)
        self.write_lock = threading.RLock()
        self.repaired = self.reconcile()
        self._snapshot = build_snapshot(self.catalog)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def refresh(self) -> None:
        self._snapshot = build_snapshot(self.catalog)

    def reconcile(self) -> int:
        """Bring Chroma in line with the catalog after a crash or a changed collection."""
        with self.write_lock:
            wanted = self.catalog.all_chunk_ids()
            present = self.dense.ids()
            stale = sorted(present - wanted)
            if stale:
                self.dense.delete(stale)
            missing = wanted - present
            if missing:
                docs = {d.doc_id: d for d in self.catalog.documents()}
                chunks = [c for c in self.catalog.chunks() if c.chunk_id in missing]
                self.add_vectors(chunks, docs)
            return len(stale) + len(missing)

    def add_vectors(self, chunks: list[Chunk], docs: dict[str, DocumentRow], show_progress: bool = False) -> None:
        if not chunks:
            return
        vectors = self.embedder.embed_passages([c.text for c in chunks], show_progress=show_progress)
        self.dense.upsert(
            [c.chunk_id for c in chunks], vectors, [chunk_metadata(c, docs[c.doc_id]) for c in chunks]
        )

    def dense_search(
        self, query: str, k: int, snapshot: Snapshot, doc_ids: set[str] | None = None, kinds: set[str] | None = None
    ) -> list[tuple[int, float]]:
        """(chunk index in ``snapshot``, cosine) pairs, best first."""
        clauses: list[dict[str, Any]] = []
        if doc_ids is not None:
            if not doc_ids:
                return []
            clauses.append({"doc_id": {"$in": sorted(doc_ids)}})
        if kinds is not None:
            clauses.append({"kind": {"$in": sorted(kinds)}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses} if clauses else None
        hits = self.dense.query(self.embedder.embed_query(query), k, where)
        return [(snapshot.position[i], s) for i, s in hits if i in snapshot.position]
