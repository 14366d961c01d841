"""The store: catalog (truth, shared) + Chroma (dense) + an in-memory snapshot (lexical index, records).

Readers use ``store.snapshot``, an immutable object swapped atomically after every change,
so a query sees the old or the new state of a document, never half of it. Dense hits are
filtered through the snapshot's chunk ids for the same reason. A process refreshes its snapshot
right after its own writes, and a watcher thread refreshes it when another process (another
worker, another machine on the same database) commits one; a refresh re-reads only the
documents whose revision changed.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Settings
from core.model import Chunk, Record
from core.normalize import fold
from core.process import release_memory
from vectorstore.catalog import Catalog, DocumentRow
from vectorstore.chroma_store import ChromaIndex
from vectorstore.embeddings import TextEmbedder, make_embedder
from vectorstore.lexical import LexicalIndex, TermCounts

logger = logging.getLogger(__name__)

SYNC_WAIT_S = 1.0  # longest a request waits for another process's commit to be taken in


@dataclass(frozen=True)
class DocSegment:
    """One document's part of a snapshot, reused by later snapshots while its revision stands."""

    row: DocumentRow
    chunks: list[Chunk]  # its lexical term counts are rows of the snapshot's index (``Snapshot.doc_range``)
    records: list[Record]
    cache: dict[str, object] = field(default_factory=dict, compare=False, repr=False)  # derived by upper layers


EXACT_DENSE_LIMIT = 3000  # chunks scored exactly by id; above, an oversampled approximate search
DENSE_OVERSAMPLE = 2.0


@dataclass(frozen=True)
class Snapshot:
    documents: dict[str, DocumentRow]
    chunks: list[Chunk]
    position: dict[str, int]  # chunk id -> index in ``chunks``
    lexical: LexicalIndex
    records: list[Record]
    record_chunk: dict[str, int] = field(default_factory=dict)  # record id -> chunk index
    doc_range: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc id -> its chunks' [start, end)
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # kind of each chunk
    segments: dict[str, DocSegment] = field(default_factory=dict)
    generation: int = -1
    cache: dict[str, object] = field(default_factory=dict, compare=False, repr=False)  # derived by upper layers

    @property
    def communes(self) -> list[str]:
        return sorted({d.commune for d in self.documents.values() if d.commune})

    def mask_for(self, doc_ids: set[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        mask = np.zeros(len(self.chunks), dtype=bool)
        for doc_id in doc_ids:
            if doc_id in self.doc_range:
                start, end = self.doc_range[doc_id]
                mask[start:end] = True
        return mask

    def kind_mask(self, kinds: set[str]) -> np.ndarray:
        """Which chunks are of these kinds (read-only; made once per snapshot and set of kinds)."""
        key = "kind_mask:" + ",".join(sorted(kinds))
        mask = self.cache.get(key)
        if not isinstance(mask, np.ndarray):
            mask = np.isin(self.kinds, sorted(kinds))
            mask.flags.writeable = False
            self.cache[key] = mask
        return mask

    def row_ranges(self, doc_ids: set[str] | None) -> list[tuple[int, int]] | None:
        """The documents' chunk index ranges, sorted (None: every chunk)."""
        if doc_ids is None:
            return None
        return sorted(self.doc_range[d] for d in doc_ids if d in self.doc_range)


def build_snapshot(catalog: Catalog, previous: Snapshot | None = None) -> Snapshot:
    """The catalog as one immutable object. Documents whose revision did not change since ``previous``
    are reused (no reading, no re-tokenizing: their term counts are rows of the previous lexical index); only
    what depends on the whole collection (document frequencies, average length) is recomputed."""
    old = previous.segments if previous is not None else {}
    with catalog.read() as conn:
        generation = catalog.generation(conn)
        revisions = catalog.revisions(conn)
        changed = sorted(d for d, rev in revisions.items() if d not in old or old[d].row.revision != rev)
        wanted = None if len(changed) == len(revisions) else changed  # everything: no long IN list
        rows = {row.doc_id: row for row in catalog.documents(conn=conn, doc_ids=wanted)} if changed else {}
        fresh_chunks: dict[str, list[Chunk]] = {doc_id: [] for doc_id in changed}
        fresh_records: dict[str, list[Record]] = {doc_id: [] for doc_id in changed}
        if changed:
            record_ids: dict[str, str] = {}
            for record in catalog.records(wanted, conn):
                fresh_records[record.doc_id].append(record)
                record_ids[record.record_id] = record.record_id
            for chunk in catalog.chunks(wanted, conn):
                fresh_chunks[chunk.doc_id].append(chunk)
                record_id = chunk.metadata.get("record_id")
                if record_id in record_ids:  # one string for a fact's id, in the fact and in its chunk
                    chunk.metadata["record_id"] = record_ids[record_id]
    segments: dict[str, DocSegment] = {}
    old_range = previous.doc_range if previous is not None else {}
    pieces: list[list[Chunk] | tuple[int, int]] = []  # new chunks, or runs of rows of the previous index
    for doc_id in sorted(revisions):
        if doc_id in rows:
            chunks = fresh_chunks[doc_id]
            segments[doc_id] = DocSegment(rows[doc_id], chunks, fresh_records[doc_id])
            pieces.append(chunks)
        else:
            segments[doc_id] = old[doc_id]
            start, end = old_range[doc_id]
            last = pieces[-1] if pieces else None
            if isinstance(last, tuple) and last[1] == start:
                pieces[-1] = (last[0], end)
            else:
                pieces.append((start, end))
    reader = previous.lexical.reader() if previous is not None else None

    def counts() -> Iterator[TermCounts]:  # made as the index reads them: never all at once
        for piece in pieces:
            if isinstance(piece, tuple):
                assert reader is not None
                yield reader.rows(*piece)
            else:
                yield TermCounts.of([c.text for c in piece])

    chunks, records = [], []
    doc_range: dict[str, tuple[int, int]] = {}
    for doc_id, segment in segments.items():
        doc_range[doc_id] = (len(chunks), len(chunks) + len(segment.chunks))
        chunks.extend(segment.chunks)
        records.extend(segment.records)
    position = {c.chunk_id: i for i, c in enumerate(chunks)}
    record_chunk = {c.metadata["record_id"]: i for i, c in enumerate(chunks) if c.metadata.get("record_id")}
    return Snapshot(
        documents={doc_id: s.row for doc_id, s in segments.items()},
        chunks=chunks,
        position=position,
        lexical=LexicalIndex.from_counts(counts()),
        records=records,
        record_chunk=record_chunk,
        doc_range=doc_range,
        kinds=np.array([c.kind for c in chunks], dtype=object),
        segments=segments,
        generation=generation,
    )


def _watch(ref: weakref.ref[Store], stop: threading.Event, kick: threading.Event, interval: float) -> None:
    """Refresh the store's snapshot when another process commits (ends with the store), every
    ``interval`` or when a request asks. Rebuilds take at most about a fifth of the time: after one
    that took t seconds the next waits 4t. While the database is away, questions go on being answered
    from the last snapshot."""
    failing = False
    while not stop.is_set():
        kick.wait(interval)
        kick.clear()
        store = ref()
        if store is None or stop.is_set():
            return
        try:
            if not store._batches:
                store.refresh_if_changed()
            failing = False
        except Exception as exc:
            if not failing:
                logger.warning("Không đọc được thay đổi từ cơ sở dữ liệu (sẽ thử lại): %s", exc)
            failing = True
        pause = 4 * store._last_build_s
        del store
        if pause > interval:
            stop.wait(pause)


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
        self.catalog = Catalog(settings.catalog_url)
        self.dense = ChromaIndex(settings, self.embedder)
        self.write_lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._batches = 0  # batch writes under way in this process: the snapshot is refreshed at their end
        self._batch_lock = threading.Lock()
        self._last_build_s = 0.0
        self._snapshot_hooks: list[Callable[[Snapshot], None]] = []
        self.repaired = self.reconcile()
        self._snapshot = build_snapshot(self.catalog)
        release_memory()
        self._stop, self._kick = threading.Event(), threading.Event()
        self._watching = settings.store_watch_interval_s > 0
        if self._watching:
            threading.Thread(
                target=_watch, args=(weakref.ref(self), self._stop, self._kick, settings.store_watch_interval_s),
                name="store-watch", daemon=True,
            ).start()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def refresh(self) -> Snapshot:
        """Rebuild the snapshot from the catalog (only changed documents are re-read)."""
        with self._refresh_lock:
            return self._rebuild()

    def add_snapshot_hook(self, hook: Callable[[Snapshot], None]) -> None:
        """Run ``hook`` on every new snapshot before it is published (to warm what upper layers derive
        from it, so that no question pays for that), and on the current one now."""
        self._snapshot_hooks.append(hook)
        hook(self._snapshot)
        release_memory()

    def _rebuild(self) -> Snapshot:
        started = time.perf_counter()
        snapshot = build_snapshot(self.catalog, self._snapshot)
        for hook in self._snapshot_hooks:
            try:
                hook(snapshot)
            except Exception:
                logger.exception("Snapshot hook failed")
        if snapshot.generation >= self._snapshot.generation:
            self._snapshot = snapshot
        del snapshot  # (one not published is freed before the heap is trimmed)
        release_memory()
        self._last_build_s = time.perf_counter() - started
        return self._snapshot

    def refresh_if_changed(self) -> bool:
        """Pick up what another process committed (one small read when nothing did); True when the
        snapshot changed. Concurrent callers wait for one rebuild instead of each making their own."""
        if self.catalog.generation() == self._snapshot.generation:
            return False
        with self._refresh_lock:
            if self.catalog.generation() == self._snapshot.generation:
                return False
            self._rebuild()
            return True

    def sync(self, wait_s: float = SYNC_WAIT_S) -> None:
        """Before a request reads: take in every write committed so far, by any process. The watcher
        rebuilds; the request waits for it at most ``wait_s`` (a large index under a bulk upload), then
        reads the snapshot it has."""
        generation = self.catalog.generation()
        if generation <= self._snapshot.generation:
            return
        if not self._watching:
            self.refresh_if_changed()
            return
        if self._batches:
            return  # this process is writing a batch; it refreshes at the end
        self._kick.set()
        deadline = time.monotonic() + wait_s
        while self._snapshot.generation < generation and time.monotonic() < deadline:
            time.sleep(0.005)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes in a row (a folder, a reindex): the watcher leaves the snapshot alone until
        the end, when the caller refreshes it once."""
        with self._batch_lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._batch_lock:
                self._batches -= 1

    def close(self) -> None:
        self._stop.set()
        self._kick.set()
        self.catalog.close()

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

    def add_vectors(
        self, chunks: list[Chunk], docs: dict[str, DocumentRow], show_progress: bool = False,
        vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Upsert the chunks' vectors: those in ``vectors`` (computed beforehand, by chunk id) as given, the rest
        embedded now."""
        if not chunks:
            return
        known = vectors or {}
        missing = [c for c in chunks if c.chunk_id not in known]
        embedded = dict(zip((c.chunk_id for c in missing), self.embedder.embed_passages(
            [c.text for c in missing], show_progress=show_progress), strict=True)) if missing else {}
        matrix = np.stack([known[c.chunk_id] if c.chunk_id in known else embedded[c.chunk_id] for c in chunks])
        self.dense.upsert(
            [c.chunk_id for c in chunks], matrix, [chunk_metadata(c, docs[c.doc_id]) for c in chunks]
        )

    def cosines(self, query: str, chunk_ids: list[str]) -> dict[str, float]:
        """Cosine of the question with each chunk named (its vector read by id: the cost does not grow with the
        index, unlike a filtered search)."""
        vectors = self.dense.vectors(chunk_ids)
        if not vectors:
            return {}
        q = self.embedder.embed_query(query)
        q = q / (np.linalg.norm(q) or 1.0)
        ids = list(vectors)
        matrix = np.stack([vectors[i] for i in ids])
        norms = np.linalg.norm(matrix, axis=1)
        norms[norms == 0] = 1.0
        return dict(zip(ids, (matrix @ q / norms).astype(float).tolist(), strict=True))

    def dense_search(
        self, query: str, k: int, snapshot: Snapshot, doc_ids: set[str] | None = None, kinds: set[str] | None = None
    ) -> list[tuple[int, float]]:
        """(chunk index in ``snapshot``, cosine) pairs, best first.

        A few plans: their chunks' vectors are read by id and scored exactly (a filtered search in Chroma scans
        its whole metadata). Many or all plans: one unfiltered approximate search, oversampled, then filtered."""
        if doc_ids is not None and not doc_ids:
            return []
        mask = snapshot.mask_for(doc_ids)
        if kinds is not None:
            kind_mask = snapshot.kind_mask(kinds)
            mask = kind_mask if mask is None else mask & kind_mask
        if mask is not None and 0 < int(mask.sum()) <= EXACT_DENSE_LIMIT:
            ids = [snapshot.chunks[i].chunk_id for i in np.flatnonzero(mask)]
            scored = sorted(self.cosines(query, ids).items(), key=lambda item: item[1], reverse=True)[:k]
            return [(snapshot.position[i], s) for i, s in scored if i in snapshot.position]
        if mask is not None and not mask.any():
            return []
        share = 1.0 if mask is None else max(float(mask.mean()), 1e-3)
        wanted = min(len(snapshot.chunks), max(k, int(k / share * DENSE_OVERSAMPLE)))
        hits = self.dense.query(self.embedder.embed_query(query), wanted, None)
        out = [(snapshot.position[i], s) for i, s in hits if i in snapshot.position]
        return [(i, s) for i, s in out if mask is None or mask[i]][:k]
