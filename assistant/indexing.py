"""Idempotent, incremental ingestion: files -> catalog + Chroma + snapshot.

Chunk and record ids are content hashes and a document's id comes from its file name, so:
ingesting the same file again changes nothing; a changed file has exactly the chunks that
changed replaced; ``remove`` deletes every trace. Order of writes: new vectors first, then
the catalog (one transaction, the source of truth), then stale vectors; readers never see a
half-ingested document because they go through the snapshot, swapped last.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from core.model import Chunk, IngestError, ParsedDocument, Record
from ingest.chunking import chunk_document, make_chunk
from ingest.loaders import SUPPORTED_SUFFIXES, LoadLimits, PageProgress
from ingest.parse import document_id, parse_file
from ingest.plan_check import NotAPlanError, check_plan
from ingest.record_text import record_sentence
from ingest.records import extract_records
from vectorstore.catalog import DocumentRow
from vectorstore.store import Store

if TYPE_CHECKING:
    from core.config import Settings

Progress = Callable[[str, int, int], None]  # (file name, index, total)
# New texts embedded in one call when a folder is ingested (about 25 plans): one call per plan padded more and ran a
# partial batch per plan. 100 plans with OpenVINO: 80% of the model's raw throughput with groups of 1,024, 85% with
# groups of 4,096 (the plans waiting hold a few MiB).
EMBED_GROUP_TEXTS = 4096


@dataclass
class FileResult:
    path: str
    doc_id: str | None = None
    status: str = "failed"  # added | updated | unchanged | failed
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    records: int = 0
    error: str | None = None
    code: str | None = None  # why it failed, for the API: 'not_a_plan' (refused unless forced)
    warnings: list[str] = field(default_factory=list)  # Vietnamese: scanned pages read poorly, …


@dataclass
class _Parsed:
    """A file parsed and chunked, not yet stored (a folder's files wait to be embedded together)."""

    doc: ParsedDocument
    path: Path
    result: FileResult
    records: list[Record]
    chunks: list[Chunk]


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def chunks_added(self) -> int:
        return sum(r.chunks_added for r in self.results)

    @property
    def chunks_removed(self) -> int:
        return sum(r.chunks_removed for r in self.results)

    @property
    def chunks_unchanged(self) -> int:
        return sum(r.chunks_unchanged for r in self.results)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, and supported files found under directories (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            found.append(path)
    return found


def record_chunks(doc: ParsedDocument, records: list[Record]) -> list[Chunk]:
    """Every record is also indexed as its own small document."""
    return [
        make_chunk(doc, " > ".join(r.group_path), record_sentence(r), "record", r.line_start, r.line_end,
                   record_id=r.record_id)
        for r in records
    ]


def _stored_as_is(
    previous: DocumentRow | None, old_ids: set[str], doc: ParsedDocument, new_ids: set[str]
) -> TypeGuard[DocumentRow]:
    """The catalog already holds this very file, chunked the same way: nothing to embed or write."""
    return previous is not None and previous.sha256 == doc.sha256 and old_ids == new_ids


def _unique(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out = []
    for chunk in chunks:
        if chunk.chunk_id not in seen:
            seen.add(chunk.chunk_id)
            out.append(chunk)
    return out


def load_limits(settings: Settings) -> LoadLimits:
    """The loaders' bounds from the settings (the loaders themselves never read settings)."""
    return LoadLimits(
        max_unpacked_mb=settings.max_unpacked_mb,
        max_zip_entries=settings.max_zip_entries,
        max_pdf_mb=settings.max_pdf_mb,
        max_pdf_pages=settings.max_pdf_pages,
        ocr=settings.ocr_enabled,
        max_ocr_pages=settings.max_ocr_pages,
        ocr_min_confidence=settings.ocr_min_confidence,
        ocr_dpi=settings.ocr_max_dpi,
        ocr_cache_dir=settings.ocr_cache_dir,
        ocr_jobs=settings.ocr_jobs,
    )


_PIPELINE_SOURCES = ("ingest", "core")


def pipeline_signature(settings: Settings) -> str:
    """What a document's chunks and facts depend on besides its bytes: the ingestion code and data,
    the chunking settings and the tokenizer. A file whose bytes and signature are unchanged is
    skipped without being parsed again."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in _PIPELINE_SOURCES:
        for path in sorted((root / package).glob("*")):
            if path.suffix in (".py", ".json", ".txt", ".tsv"):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    digest.update(f"{settings.chunk_max_tokens}|{settings.chunk_min_chars}|{settings.embedding_model}".encode())
    return digest.hexdigest()[:16]


LEFTOVER_AGE_S = 3600.0  # older than any upload in flight (a sibling worker's must not be touched)


def sweep_leftovers(settings: Settings, older_than_s: float = LEFTOVER_AGE_S) -> int:
    """Remove what killed uploads left behind: half-copied sources (``sources/.incoming-*``) and upload
    folders (``uploads/.upload-*``). Returns how many were removed."""
    cutoff = time.time() - older_than_s
    removed = 0
    for pattern, folder in ((".incoming-*", settings.data_dir / "sources"), (".upload-*", settings.uploads_dir)):
        for leftover in folder.glob(pattern) if folder.is_dir() else []:
            try:
                if leftover.stat().st_mtime > cutoff:
                    continue
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
                removed += 1
            except OSError:  # gone meanwhile, or not ours to remove
                continue
    return removed


def source_warnings(metadata: dict[str, Any]) -> list[str]:
    """What an officer should check in a plan read from a scan (Vietnamese)."""
    low = metadata.get("low_confidence_pages") or []
    if not low:
        return []
    confidence = metadata.get("ocr_confidence") or {}
    pages = ", ".join(f"{p} ({confidence.get(str(p), 0):.0f}%)" for p in low)
    return [f"Bản quét khó đọc ở trang {pages}: nên kiểm tra lại nội dung các trang này."]


# --- officers' corrections of a plan's parsed metadata --------------------------------------------

CORRECTABLE_FIELDS = {  # field -> its Vietnamese name
    "commune": "xã",
    "province": "tỉnh/thành phố",
    "plan_type": "loại kế hoạch",
    "number": "số hiệu",
    "date": "ngày ban hành",
    "signer": "người ký",
    "title": "tên kế hoạch",
}
PLAN_TYPES = ("pii", "nq57", "innovative")
CORRECTION_MAX_CHARS = {"title": 500, "number": 60, "date": 40}
NAME_MAX_CHARS = 100
_NAME = re.compile(r"^[^\W\d_][\w .,'()\-]*$")  # a letter first; letters, digits, spaces, a few marks
_PERSON = re.compile(r"^[^\W\d_][^\W\d_ .'\-]*(?:[ .'\-]+[^\W\d_]+)*\.?$")  # letters only, no digits
_NUMBER = re.compile(r"^\d{1,6}(?:[/\-.]\w+)*$")  # 21/KH-UBND
_DMY = re.compile(r"^(?:ngày\s+)?(\d{1,2})\s*(?:[/.\-]|\s+tháng\s+)\s*(\d{1,2})\s*(?:[/.\-]|\s+năm\s+)\s*(\d{4})$",
                  re.IGNORECASE)
_MY = re.compile(r"^tháng\s+(\d{1,2})\s+năm\s+(\d{4})$", re.IGNORECASE)
_PREFIXES = {"commune": re.compile(r"^xã\s+", re.IGNORECASE),
             "province": re.compile(r"^(?:tỉnh|thành phố|tp\.?)\s+", re.IGNORECASE)}


class MetadataCorrectionError(ValueError):
    """A correction that cannot be kept; the message is shown to officers (Vietnamese)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean_text(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()


def _check_date(text: str) -> str:
    """'12/3/2026', '12-03-2026', 'ngày 12 tháng 3 năm 2026' -> '12/3/2026'; 'tháng 3 năm 2026' as is."""
    if match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
        try:
            date(year, month, day)
        except ValueError:
            raise MetadataCorrectionError(f"Ngày ban hành '{text}' không có thật.", "date") from None
        if not 1900 <= year <= 2100:
            raise MetadataCorrectionError(f"Năm {year} của ngày ban hành không hợp lệ.", "date")
        return f"{day}/{month}/{year}"
    if (match := _MY.match(text)) and 1 <= int(match.group(1)) <= 12 and 1900 <= int(match.group(2)) <= 2100:
        return f"tháng {int(match.group(1))} năm {match.group(2)}"
    raise MetadataCorrectionError(
        f"Ngày ban hành '{text[:40]}' không đúng dạng: ghi ngày/tháng/năm (ví dụ 12/3/2026) "
        "hoặc 'tháng 3 năm 2026'.", "date",
    )


def check_correction(name: str, value: object) -> str | None:
    """One field's corrected value, cleaned (None: drop the correction, the parsed value stands again);
    MetadataCorrectionError with a Vietnamese message when it cannot be kept."""
    if name not in CORRECTABLE_FIELDS:
        allowed = ", ".join(f"{f} ({label})" for f, label in CORRECTABLE_FIELDS.items())
        raise MetadataCorrectionError(f"Trường '{str(name)[:40]}' không sửa được; chỉ sửa được: {allowed}.", name)
    label = CORRECTABLE_FIELDS[name]
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetadataCorrectionError(f"Giá trị của trường {label} phải là chuỗi ký tự.", name)
    text = _clean_text(value)
    if name in _PREFIXES:
        text = _PREFIXES[name].sub("", text)
    if not text:
        return None
    limit = CORRECTION_MAX_CHARS.get(name, NAME_MAX_CHARS)
    if len(text) > limit:
        raise MetadataCorrectionError(f"Giá trị của trường {label} quá dài (tối đa {limit} ký tự).", name)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise MetadataCorrectionError(f"Giá trị của trường {label} có ký tự không hợp lệ.", name)
    if name == "plan_type":
        code = text.lower()
        if code not in PLAN_TYPES:
            raise MetadataCorrectionError(
                f"Loại kế hoạch '{text[:40]}' không hợp lệ; chỉ nhận: {', '.join(PLAN_TYPES)}.", name
            )
        return code
    if name == "number":
        if not _NUMBER.match(text):
            raise MetadataCorrectionError(
                f"Số hiệu '{text[:40]}' không đúng dạng (ví dụ 21/KH-UBND: bắt đầu bằng số).", name
            )
        return text
    if name == "date":
        return _check_date(text)
    if name == "signer":
        if not _PERSON.match(text) or len(text) < 2:
            raise MetadataCorrectionError(
                f"Người ký '{text[:40]}' không hợp lệ: chỉ ghi họ và tên (chữ cái, không có chữ số).", name
            )
        return text
    if name == "title":
        if len(text) < 3:
            raise MetadataCorrectionError("Tên kế hoạch quá ngắn.", name)
        return text
    if not _NAME.match(text) or len(text) < 2:  # commune, province
        raise MetadataCorrectionError(
            f"Tên {label} '{text[:40]}' không hợp lệ: ghi tên bằng chữ "
            f"(ví dụ {'Tân Lập' if name == 'commune' else 'Lâm Đồng'}).",
            name,
        )
    return text


def check_corrections(changes: Mapping[str, object]) -> dict[str, str | None]:
    """Every field checked (see ``check_correction``); an empty set of changes is refused."""
    if not isinstance(changes, Mapping) or not changes:
        raise MetadataCorrectionError(
            f"Chưa có trường nào để sửa; các trường sửa được: {', '.join(CORRECTABLE_FIELDS)}."
        )
    return {str(name): check_correction(str(name), value) for name, value in changes.items()}


class Ingestor:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.sources_dir = store.settings.data_dir / "sources"
        self.limits = load_limits(store.settings)
        self.pipeline = pipeline_signature(store.settings)
        self.swept = sweep_leftovers(store.settings)

    # --- public API ----------------------------------------------------------------------------

    def ingest_paths(
        self, paths: Iterable[Path], progress: Progress | None = None, force: bool = False
    ) -> IngestReport:
        """``force`` stores files that do not look like a plan (the officer confirmed them)."""
        started = time.perf_counter()
        report = IngestReport(results=self._ingest_all([(path, None) for path in collect_files(paths)], progress, force))
        if any(r.status in ("added", "updated") for r in report.results):
            self.store.refresh()
        report.seconds = time.perf_counter() - started
        return report

    def ingest_file(
        self, path: Path, filename: str | None = None, refresh: bool = True, progress: PageProgress | None = None,
        force: bool = False, should_commit: Callable[[], bool] | None = None,
    ) -> FileResult:
        """``progress`` hears of every scanned page recognised (pages done, pages to do). Parsing runs
        without the store's lock: questions are answered meanwhile. A file that does not look like a
        plan fails with code 'not_a_plan' unless ``force``. ``should_commit`` is asked, under the write
        lock, right before anything is written: False leaves the store untouched (code 'cancelled')."""
        result = FileResult(path=str(path))
        for parsed in self._parse(path, filename, result, progress, force):
            self._store(parsed, {}, should_commit)
        if refresh and result.status in ("added", "updated"):
            self.store.refresh()
        return result

    def remove(self, doc_id: str) -> bool:
        store = self.store
        with store.write_lock:
            old = store.catalog.chunk_ids(doc_id)
            removed = store.catalog.remove_document(doc_id)
            store.dense.delete(sorted(old))
            if removed:
                for source in self.sources_dir.glob(f"{glob.escape(doc_id)}.*"):
                    source.unlink(missing_ok=True)
        if removed:
            store.refresh()
        return removed

    def correct_metadata(self, doc_id: str, changes: Mapping[str, object]) -> DocumentRow | None:
        """Keep an officer's corrections of a plan's metadata (commune, province, type, number, date,
        signer, title): they win wherever the plan's metadata is read, across re-ingests of the same
        file, until the plan is deleted. A value equal to the parsed one, empty or None drops that
        field's correction. Returns the document as now read, None when there is no such document;
        MetadataCorrectionError (Vietnamese) for a value that cannot be kept."""
        store = self.store
        current = store.catalog.document(doc_id)
        if current is None:
            return None
        checked = check_corrections(changes)
        parsed = {**current.metadata, **current.parsed}  # what the parser read, field by field
        updates = {name: None if value == parsed.get(name) else value for name, value in checked.items()}
        with store.write_lock:
            if not store.catalog.correct_metadata(doc_id, updates):
                return None
        store.refresh()
        return store.catalog.document(doc_id)

    def reindex(self, progress: Progress | None = None, stale_only: bool = False) -> IngestReport:
        """Re-parse every stored source (after an extractor or chunking change); with ``stale_only``, only those
        stored by another pipeline (an upgrade: the same facts must come out of the same files)."""
        started = time.perf_counter()
        report = IngestReport()
        docs = [d for d in self.store.catalog.documents() if not stale_only or d.pipeline != self.pipeline]
        if not docs:
            return report
        # stored documents were accepted (some confirmed by the officer): not checked again
        report.results = self._ingest_all([(self._local_source(d), d.filename) for d in docs], progress, force=True)
        self.store.refresh()
        report.seconds = time.perf_counter() - started
        return report

    # --- internals -----------------------------------------------------------------------------

    def _unchanged(self, path: Path, filename: str, result: FileResult) -> bool:
        """The same bytes already stored by the same pipeline: nothing to parse, chunk or embed."""
        previous = self.store.catalog.document(document_id(filename))
        if previous is None or previous.pipeline != self.pipeline:
            return False
        if previous.sha256 != hashlib.sha256(path.read_bytes()).hexdigest():
            return False
        result.doc_id = previous.doc_id
        result.status = "unchanged"
        result.records = previous.n_records
        result.chunks_unchanged = len(self.store.catalog.chunk_ids(previous.doc_id))
        return True

    def _ingest_all(
        self, sources: list[tuple[Path, str | None]], progress: Progress | None, force: bool
    ) -> list[FileResult]:
        """Files (path, name kept) parsed one by one and stored in groups of about ``EMBED_GROUP_TEXTS`` new texts,
        embedded in one call: over several plans the model's batches are full and of like length."""
        results: list[FileResult] = []
        with self.store.batch():
            group: list[_Parsed] = []
            waiting = 0  # chunks of the plans in the group
            for i, (path, filename) in enumerate(sources):
                if progress:
                    progress(filename or path.name, i, len(sources))
                results.append(FileResult(path=str(path)))
                for parsed in self._parse(path, filename, results[-1], force=force):
                    group.append(parsed)
                    waiting += len(parsed.chunks)
                if waiting >= EMBED_GROUP_TEXTS:
                    self._store_group(group)
                    group, waiting = [], 0
            self._store_group(group)
        return results

    def _parse(
        self, path: Path, filename: str | None, result: FileResult, progress: PageProgress | None = None,
        force: bool = False,
    ) -> list[_Parsed]:
        """The file parsed, checked and chunked (nothing written): [] when it is unchanged or failed (``result``
        says which)."""
        try:
            if not path.exists():
                raise IngestError("không tìm thấy tệp")
            if not os.access(path, os.R_OK):
                raise IngestError("không có quyền đọc tệp")
            if self._unchanged(path, filename or path.name, result):
                return []
            doc = parse_file(path, filename=filename, limits=self.limits, progress=progress)
            result.doc_id = doc.doc_id
            if not force:
                check_plan(doc)
            result.warnings = source_warnings(doc.metadata.to_dict())
            records = extract_records(doc)
            chunks = chunk_document(
                doc, max_tokens=self.store.settings.chunk_max_tokens, count_tokens=self.store.embedder.count_tokens
            )
            result.records = len(records)
            return [_Parsed(doc, path, result, records, _unique(chunks + record_chunks(doc, records)))]
        except NotAPlanError as exc:
            result.error, result.code = str(exc), exc.code
        except IngestError as exc:
            result.error = str(exc)
        return []

    def _store_group(self, group: list[_Parsed]) -> None:
        """Several parsed files: their new chunks embedded in one call (outside the write lock), then each stored."""
        new: dict[str, str] = {}
        for parsed in group:
            doc = parsed.doc
            previous, old_ids = self.store.catalog.document(doc.doc_id), self.store.catalog.chunk_ids(doc.doc_id)
            if _stored_as_is(previous, old_ids, doc, {c.chunk_id for c in parsed.chunks}):
                continue
            new.update((c.chunk_id, c.text) for c in parsed.chunks if c.chunk_id not in old_ids)
        vectors = dict(zip(new, self.store.embedder.embed_passages(list(new.values())), strict=True)) if new else {}
        for parsed in group:
            self._store(parsed, vectors)

    def _store(
        self, parsed: _Parsed, vectors: Mapping[str, np.ndarray], should_commit: Callable[[], bool] | None = None
    ) -> None:
        try:
            self._store_document(parsed, vectors, should_commit)
        except IngestError as exc:
            parsed.result.error = str(exc)

    def _store_document(
        self, parsed: _Parsed, vectors: Mapping[str, np.ndarray], should_commit: Callable[[], bool] | None = None
    ) -> None:
        """Write one parsed file; ``vectors`` holds the chunks' vectors already computed (the rest are embedded)."""
        doc, path, result, records, chunks = parsed.doc, parsed.path, parsed.result, parsed.records, parsed.chunks
        store = self.store
        with store.write_lock:
            previous = store.catalog.document(doc.doc_id)
            old_ids = store.catalog.chunk_ids(doc.doc_id)
            new_ids = {c.chunk_id for c in chunks}
            if _stored_as_is(previous, old_ids, doc, new_ids):
                result.status = "unchanged"
                result.chunks_unchanged = len(new_ids)
                if previous.pipeline != self.pipeline:
                    store.catalog.set_pipeline(doc.doc_id, self.pipeline)
                return
            if should_commit is not None and not should_commit():
                result.error, result.code = "đã hủy trước khi lưu", "cancelled"
                return
            data = path.read_bytes()
            source = self._keep_source(doc, path, data)
            row = DocumentRow(
                doc_id=doc.doc_id, filename=doc.filename, source_path=str(source), sha256=doc.sha256,
                metadata=doc.metadata.to_dict(), ingested_at="",
                lines=[[line.no, line.raw] for line in doc.lines], pipeline=self.pipeline,
            )
            added = [c for c in chunks if c.chunk_id not in old_ids]
            corrected = replace(row, metadata={**row.metadata, **(previous.corrections if previous else {})})
            # Chroma's copy of the metadata: corrections win
            store.add_vectors(added, {doc.doc_id: corrected}, vectors=vectors)
            store.catalog.replace_document(row, chunks, records, source=data)
            stale = sorted(old_ids - new_ids)
            store.dense.delete(stale)
        result.status = "updated" if previous else "added"
        result.chunks_added = len(added)
        result.chunks_removed = len(stale)
        result.chunks_unchanged = len(new_ids & old_ids)

    def _local_source(self, doc: DocumentRow) -> Path:
        """The document's source file on this machine, restored from the catalog when another replica
        (or a lost disk) does not have it."""
        path = Path(doc.source_path)
        if path.is_file():
            return path
        data = self.store.catalog.source(doc.doc_id)
        if data is None:
            return path  # ingest_file reports it missing
        local = self._source_path(doc.doc_id, doc.filename)
        self._write_source(local, data)
        return local

    def _keep_source(self, doc: ParsedDocument, path: Path, data: bytes) -> Path:
        """A private copy of the source, so that `reindex` works after the original moves."""
        target = self._source_path(doc.doc_id, doc.filename)
        if path.resolve() != target.resolve():
            self._write_source(target, data)
        return target

    def _source_path(self, doc_id: str, filename: str) -> Path:
        return self.sources_dir / f"{doc_id}{Path(filename).suffix.lower()}"

    def _write_source(self, target: Path, data: bytes) -> None:
        """Written whole or not at all (a killed write leaves an '.incoming-' file that start-up sweeps)."""
        self.sources_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.sources_dir, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
