"""The catalog: SQLite source of truth for documents, chunks and records.

Chroma and the lexical index are derived from it; a document's rows are replaced in one
transaction, so the catalog is never half-updated.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.model import Chunk, FactKind, Record, UnitRef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    source_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    metadata TEXT NOT NULL,
    lines TEXT NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    body TEXT NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    record_id TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_doc ON records(doc_id);
"""


@dataclass
class DocumentRow:
    doc_id: str
    filename: str
    source_path: str
    sha256: str
    metadata: dict[str, Any]
    ingested_at: str
    n_chunks: int = 0
    n_records: int = 0
    lines: list[list[Any]] = field(default_factory=list)  # [[no, raw], …]

    @property
    def commune(self) -> str | None:
        return self.metadata.get("commune")

    @property
    def title(self) -> str | None:
        return self.metadata.get("title")


def record_from_dict(data: dict[str, Any]) -> Record:
    data = dict(data)
    data["leads"] = [UnitRef(**u) for u in data.get("leads", [])]
    data["partners"] = [UnitRef(**u) for u in data.get("partners", [])]
    data["kind"] = FactKind(data["kind"])
    known = Record.__dataclass_fields__
    return Record(**{k: v for k, v in data.items() if k in known})


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- reads -------------------------------------------------------------------------------

    def documents(self, with_lines: bool = False) -> list[DocumentRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT d.doc_id, d.filename, d.source_path, d.sha256, d.metadata, d.ingested_at, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id AND c.kind != 'record'), "
                "(SELECT COUNT(*) FROM records r WHERE r.doc_id = d.doc_id)"
                + (", d.lines" if with_lines else "")
                + " FROM documents d ORDER BY d.doc_id"
            ).fetchall()
        return [
            DocumentRow(
                doc_id=r[0], filename=r[1], source_path=r[2], sha256=r[3], metadata=json.loads(r[4]),
                ingested_at=r[5], n_chunks=r[6], n_records=r[7], lines=json.loads(r[8]) if with_lines else [],
            )
            for r in rows
        ]

    def document(self, doc_id: str, with_lines: bool = False) -> DocumentRow | None:
        return next((d for d in self.documents(with_lines) if d.doc_id == doc_id), None)

    def chunk_ids(self, doc_id: str) -> set[str]:
        with self._lock:
            return {r[0] for r in self._conn.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))}

    def all_chunk_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._conn.execute("SELECT chunk_id FROM chunks")}

    def chunks(self) -> list[Chunk]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT chunk_id, doc_id, text, body, section, kind, line_start, line_end, record_id "
                "FROM chunks ORDER BY doc_id, seq"
            ).fetchall()
        return [
            Chunk(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], {"record_id": r[8]} if r[8] else {})
            for r in rows
        ]

    def records(self) -> list[Record]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM records ORDER BY doc_id, seq").fetchall()
        return [record_from_dict(json.loads(r[0])) for r in rows]

    # --- writes ------------------------------------------------------------------------------

    def replace_document(
        self,
        row: DocumentRow,
        chunks: list[Chunk],
        records: list[Record],
    ) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE doc_id = ?", (row.doc_id,))
            conn.execute(
                "INSERT INTO documents (doc_id, filename, source_path, sha256, metadata, lines) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row.doc_id, row.filename, row.source_path, row.sha256,
                 json.dumps(row.metadata, ensure_ascii=False), json.dumps(row.lines, ensure_ascii=False)),
            )
            conn.executemany(
                "INSERT INTO chunks (chunk_id, doc_id, seq, kind, section, text, body, line_start, line_end, "
                "record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.chunk_id, c.doc_id, i, c.kind, c.section, c.text, c.body, c.line_start, c.line_end,
                     c.metadata.get("record_id"))
                    for i, c in enumerate(chunks)
                ],
            )
            conn.executemany(
                "INSERT INTO records (record_id, doc_id, seq, kind, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (r.record_id, r.doc_id, i, r.kind, json.dumps(r.to_dict(), ensure_ascii=False))
                    for i, r in enumerate(records)
                ],
            )

    def remove_document(self, doc_id: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount > 0
