"""The catalog: the source of truth for documents, chunks and records, in one database.

SQLite (a file in the data directory) by default; PostgreSQL or any SQLAlchemy database when
``PLAN_ASSISTANT_DATABASE_URL`` names one, so that several API processes and machines share it.
Chroma and the in-process lexical index are derived from it. A document's rows are replaced in
one transaction that also bumps the store's ``generation``: every process sees a change whole,
as soon as it commits, and knows by one cheap read that it must refresh.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.model import Chunk, FactKind, Record, UnitRef

SCHEMA_VERSION = 3
# 1: no revision/pipeline columns, no store_state table (before the shared store)
# 2: no corrections table (before officers could correct a plan's parsed metadata)

_meta = sa.MetaData()
documents_t = sa.Table(
    "documents", _meta,
    sa.Column("doc_id", sa.Text, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("source_path", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("lines", sa.Text, nullable=False),
    sa.Column("ingested_at", sa.Text, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),  # generation of its last write
    sa.Column("pipeline", sa.Text, nullable=False, server_default=""),  # ingestion signature it was built with
)
chunks_t = sa.Table(
    "chunks", _meta,
    sa.Column("chunk_id", sa.Text, primary_key=True),
    sa.Column("doc_id", sa.Text, nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("section", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("line_start", sa.Integer, nullable=False),
    sa.Column("line_end", sa.Integer, nullable=False),
    sa.Column("record_id", sa.Text),
)
records_t = sa.Table(
    "records", _meta,
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("doc_id", sa.Text, nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)
sources_t = sa.Table(  # the file as uploaded: replicas on other machines can re-read (reindex) it
    "sources", _meta,
    sa.Column("doc_id", sa.Text, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
corrections_t = sa.Table(  # an officer's corrections of a document's parsed metadata: kept across re-ingests
    "corrections", _meta,
    sa.Column("doc_id", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON {field: value}
    sa.Column("updated_at", sa.Text, nullable=False),
)
state_t = sa.Table(
    "store_state", _meta,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


class CatalogError(RuntimeError):
    """The database cannot be used (newer schema, unreachable server): said in Vietnamese."""


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
    revision: int = 0
    pipeline: str = ""
    corrections: dict[str, Any] = field(default_factory=dict)  # fields an officer corrected: {field: value}
    parsed: dict[str, Any] = field(default_factory=dict)  # what the parser read for those fields

    @property
    def corrected_fields(self) -> list[str]:
        return sorted(self.corrections)

    @property
    def commune(self) -> str | None:
        return self.metadata.get("commune")

    @property
    def title(self) -> str | None:
        return self.metadata.get("title")


def apply_corrections(metadata: dict[str, Any], corrections: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The metadata with the corrections winning, and the parsed values they replace."""
    parsed = {name: metadata.get(name) for name in corrections}
    return {**metadata, **corrections}, parsed


_UNIQUE_FIELDS = frozenset({"subject", "raw", "record_id"})  # seldom shared by two records: not interned
SHORT = 80  # shorter strings are interned: kinds, deadlines, units, attribute values repeat across facts


_INTS: dict[int, int] = {}  # line numbers and years: one int object each (Python caches only -5..256)


def _int(value: int) -> int:
    return _INTS.setdefault(value, value) if 0 <= value < 1 << 16 else value


def _shared(value: Any, always: bool = False) -> Any:
    """``value`` with its strings (and dict keys) interned: one copy per process of what facts repeat."""
    if isinstance(value, str):
        return sys.intern(value) if always or len(value) <= SHORT else value
    if type(value) is int:
        return _int(value)
    if isinstance(value, list):
        return [_shared(v, always) for v in value]
    if isinstance(value, dict):
        return {sys.intern(k): _shared(v, always) for k, v in value.items()}
    return value


def record_from_dict(data: dict[str, Any]) -> Record:
    data = {k: v if k in _UNIQUE_FIELDS else _shared(v, k in ("section", "group_path")) for k, v in data.items()}
    data["leads"] = [UnitRef(**u) for u in data.get("leads", [])]
    data["partners"] = [UnitRef(**u) for u in data.get("partners", [])]
    data["kind"] = FactKind(data["kind"])
    known = Record.__dataclass_fields__
    return Record(**{k: v for k, v in data.items() if k in known})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun below, explicitly
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the write lock at once (no deadlock between two upgrading readers);
            # readers get a consistent snapshot of the WAL without blocking anyone.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class Catalog:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._migrate()

    @property
    def safe_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # --- schema -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._write(migrating=True) as conn:
            if conn.dialect.name == "postgresql":  # replicas starting together: one creates, the others wait
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(5713205700)"))
            inspector = sa.inspect(conn)
            had_documents = inspector.has_table("documents")
            columns = {c["name"] for c in inspector.get_columns("documents")} if had_documents else set()
            _meta.create_all(conn)
            if had_documents and "revision" not in columns:  # schema 1 -> 2
                conn.execute(sa.text("ALTER TABLE documents ADD COLUMN revision BIGINT NOT NULL DEFAULT 0"))
                conn.execute(sa.text("ALTER TABLE documents ADD COLUMN pipeline TEXT NOT NULL DEFAULT ''"))
            version = self._state(conn, "schema_version")
            if version is not None and version > SCHEMA_VERSION:
                raise CatalogError(
                    f"cơ sở dữ liệu dùng lược đồ phiên bản {version}, mới hơn phiên bản {SCHEMA_VERSION} "
                    "mà chương trình này hiểu: hãy cập nhật Plan Assistant"
                )
            self._set_state(conn, "schema_version", SCHEMA_VERSION)
            if self._state(conn, "generation") is None:
                self._set_state(conn, "generation", 0)

    @staticmethod
    def _state(conn: Connection, name: str) -> int | None:
        value = conn.execute(sa.select(state_t.c.value).where(state_t.c.name == name)).scalar()
        return None if value is None else int(value)

    def _set_state(self, conn: Connection, name: str, value: int) -> None:
        if conn.execute(state_t.update().where(state_t.c.name == name).values(value=value)).rowcount == 0:
            conn.execute(state_t.insert().values(name=name, value=value))

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def _write(self, migrating: bool = False) -> Iterator[Connection]:
        """One writer at a time across every process: SQLite's BEGIN IMMEDIATE, or on a server database
        a row lock on the generation taken first, so that what a write reads (a document's rows to
        replace) is what the writer before it committed."""
        with self._unavailable_as_error(), self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                if not migrating:
                    conn.execute(sa.select(state_t.c.value).where(state_t.c.name == "generation").with_for_update())
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent view for several reads (a snapshot is built from one)."""
        with self._unavailable_as_error(), self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        """A database that cannot be reached (server down, file locked too long) -> CatalogError."""
        try:
            yield
        except sa.exc.OperationalError as exc:
            raise CatalogError(f"không truy cập được cơ sở dữ liệu ({self.safe_url}): {exc.orig}") from exc

    def _bump(self, conn: Connection) -> int:
        """The next generation (readers compare it with their snapshot's)."""
        conn.execute(state_t.update().where(state_t.c.name == "generation").values(value=state_t.c.value + 1))
        return self._state(conn, "generation") or 0

    # --- reads ------------------------------------------------------------------------------

    def generation(self, conn: Connection | None = None) -> int:
        if conn is not None:
            return self._state(conn, "generation") or 0
        with self.read() as own:
            return self._state(own, "generation") or 0

    def documents(
        self, with_lines: bool = False, conn: Connection | None = None, doc_ids: Iterable[str] | None = None
    ) -> list[DocumentRow]:
        """Every document (or those named), in id order, with its counts of chunks and records."""
        if conn is None:
            with self.read() as own:
                return self.documents(with_lines, own, doc_ids)
        n_chunks = (
            sa.select(sa.func.count()).select_from(chunks_t)
            .where(chunks_t.c.doc_id == documents_t.c.doc_id, chunks_t.c.kind != "record").scalar_subquery()
        )
        n_records = (
            sa.select(sa.func.count()).select_from(records_t)
            .where(records_t.c.doc_id == documents_t.c.doc_id).scalar_subquery()
        )
        d = documents_t.c
        columns = [d.doc_id, d.filename, d.source_path, d.sha256, d.metadata, d.ingested_at, n_chunks, n_records,
                   d.revision, d.pipeline, corrections_t.c.data]
        if with_lines:
            columns.append(d.lines)
        query = (
            sa.select(*columns)
            .select_from(documents_t.outerjoin(corrections_t, corrections_t.c.doc_id == d.doc_id))
            .order_by(d.doc_id)
        )
        if doc_ids is not None:
            query = query.where(d.doc_id.in_(list(doc_ids)))
        rows = []
        for r in conn.execute(query):
            corrections = json.loads(r[10]) if r[10] else {}
            metadata, parsed = apply_corrections(json.loads(r[4]), corrections)
            rows.append(DocumentRow(
                doc_id=r[0], filename=r[1], source_path=r[2], sha256=r[3], metadata=metadata,
                ingested_at=r[5], n_chunks=r[6], n_records=r[7], revision=r[8], pipeline=r[9],
                lines=json.loads(r[11]) if with_lines else [], corrections=corrections, parsed=parsed,
            ))
        return rows

    def document(self, doc_id: str, with_lines: bool = False) -> DocumentRow | None:
        found = self.documents(with_lines, doc_ids=[doc_id])
        return found[0] if found else None

    def revisions(self, conn: Connection) -> dict[str, int]:
        """Each document's revision (the generation of its last write)."""
        return {r[0]: int(r[1]) for r in conn.execute(sa.select(documents_t.c.doc_id, documents_t.c.revision))}

    def chunk_ids(self, doc_id: str) -> set[str]:
        with self.read() as conn:
            return set(conn.execute(sa.select(chunks_t.c.chunk_id).where(chunks_t.c.doc_id == doc_id)).scalars())

    def all_chunk_ids(self) -> set[str]:
        with self.read() as conn:
            return set(conn.execute(sa.select(chunks_t.c.chunk_id)).scalars())

    def chunks(self, doc_ids: Iterable[str] | None = None, conn: Connection | None = None) -> list[Chunk]:
        """Chunks in document and reading order (of the documents named, or all)."""
        if conn is None:
            with self.read() as own:
                return self.chunks(doc_ids, own)
        c = chunks_t.c
        query = sa.select(c.chunk_id, c.doc_id, c.text, c.body, c.section, c.kind, c.line_start, c.line_end,
                          c.record_id).order_by(c.doc_id, c.seq)
        if doc_ids is not None:
            query = query.where(c.doc_id.in_(list(doc_ids)))
        intern = sys.intern  # a document's id, sections and kinds: one copy each (the text's prefix: see Chunk)
        return [
            Chunk(r[0], intern(r[1]), r[2], r[3], intern(r[4]), intern(r[5]), _int(r[6]), _int(r[7]),
                  {"record_id": r[8]} if r[8] else {})
            for r in conn.execute(query)
        ]

    def records(self, doc_ids: Iterable[str] | None = None, conn: Connection | None = None) -> list[Record]:
        if conn is None:
            with self.read() as own:
                return self.records(doc_ids, own)
        query = sa.select(records_t.c.data).order_by(records_t.c.doc_id, records_t.c.seq)
        if doc_ids is not None:
            query = query.where(records_t.c.doc_id.in_(list(doc_ids)))
        communes = {doc_id: fields["commune"] for doc_id, fields in self.corrections(doc_ids, conn).items()
                    if fields.get("commune")}
        records = [record_from_dict(json.loads(data)) for data in conn.execute(query).scalars()]
        for record in records:  # a corrected commune wins in the facts too
            if record.doc_id in communes:
                record.commune = communes[record.doc_id]
        return records

    def corrections(
        self, doc_ids: Iterable[str] | None = None, conn: Connection | None = None
    ) -> dict[str, dict[str, Any]]:
        """The officers' corrections of documents' metadata: {doc id: {field: value}}."""
        if conn is None:
            with self.read() as own:
                return self.corrections(doc_ids, own)
        query = sa.select(corrections_t.c.doc_id, corrections_t.c.data)
        if doc_ids is not None:
            query = query.where(corrections_t.c.doc_id.in_(list(doc_ids)))
        return {r[0]: json.loads(r[1]) for r in conn.execute(query)}

    # --- writes -----------------------------------------------------------------------------

    def source(self, doc_id: str) -> bytes | None:
        with self.read() as conn:
            return conn.execute(sa.select(sources_t.c.data).where(sources_t.c.doc_id == doc_id)).scalar()

    def replace_document(
        self, row: DocumentRow, chunks: list[Chunk], records: list[Record], source: bytes | None = None
    ) -> int:
        """Replace a document's rows (and its source file's bytes) in one transaction; returns the new
        generation."""
        with self._write() as conn:
            self._delete(conn, row.doc_id)
            if source is not None:
                conn.execute(sources_t.insert().values(doc_id=row.doc_id, data=source))
            generation = self._bump(conn)
            conn.execute(documents_t.insert().values(
                doc_id=row.doc_id, filename=row.filename, source_path=row.source_path, sha256=row.sha256,
                metadata=json.dumps(row.metadata, ensure_ascii=False), lines=json.dumps(row.lines, ensure_ascii=False),
                ingested_at=_now(), revision=generation, pipeline=row.pipeline,
            ))
            if chunks:
                conn.execute(chunks_t.insert(), [
                    {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "seq": i, "kind": c.kind, "section": c.section,
                     "text": c.text, "body": c.body, "line_start": c.line_start, "line_end": c.line_end,
                     "record_id": c.metadata.get("record_id")}
                    for i, c in enumerate(chunks)
                ])
            if records:
                conn.execute(records_t.insert(), [
                    {"record_id": r.record_id, "doc_id": r.doc_id, "seq": i, "kind": str(r.kind),
                     "data": json.dumps(r.to_dict(), ensure_ascii=False)}
                    for i, r in enumerate(records)
                ])
            return generation

    def set_pipeline(self, doc_id: str, pipeline: str) -> None:
        """Record that an unchanged document was checked against this ingestion signature."""
        with self._write() as conn:
            conn.execute(documents_t.update().where(documents_t.c.doc_id == doc_id).values(pipeline=pipeline))

    def correct_metadata(self, doc_id: str, changes: dict[str, Any]) -> bool:
        """Merge an officer's corrections into a document's (a None value drops that field's correction:
        the parsed value stands again). Kept across re-ingests of the same file, removed with the document.
        The document's revision moves, so every process's snapshot takes the change in. False when there
        is no such document."""
        with self._write() as conn:
            if conn.execute(sa.select(documents_t.c.doc_id).where(documents_t.c.doc_id == doc_id)).first() is None:
                return False
            data = conn.execute(sa.select(corrections_t.c.data).where(corrections_t.c.doc_id == doc_id)).scalar()
            merged = {**(json.loads(data) if data else {}), **changes}
            merged = {name: value for name, value in merged.items() if value is not None}
            conn.execute(corrections_t.delete().where(corrections_t.c.doc_id == doc_id))
            if merged:
                conn.execute(corrections_t.insert().values(
                    doc_id=doc_id, data=json.dumps(merged, ensure_ascii=False, sort_keys=True), updated_at=_now(),
                ))
            generation = self._bump(conn)
            conn.execute(documents_t.update().where(documents_t.c.doc_id == doc_id).values(revision=generation))
            return True

    def remove_document(self, doc_id: str) -> bool:
        with self._write() as conn:
            conn.execute(corrections_t.delete().where(corrections_t.c.doc_id == doc_id))
            removed = self._delete(conn, doc_id)
            if removed:
                self._bump(conn)
            return removed

    @staticmethod
    def _delete(conn: Connection, doc_id: str) -> bool:
        """A document's rows (its corrections stay: a re-ingest of the same file keeps them)."""
        conn.execute(chunks_t.delete().where(chunks_t.c.doc_id == doc_id))
        conn.execute(records_t.delete().where(records_t.c.doc_id == doc_id))
        conn.execute(sources_t.delete().where(sources_t.c.doc_id == doc_id))
        return conn.execute(documents_t.delete().where(documents_t.c.doc_id == doc_id)).rowcount > 0
