"""Query the structured records (table rows, assigned duties) of the ingested plans.

One filter API for the HTTP API (``/api/records``) and the CLI (``plan-assistant records``):
commune, unit (canonical or as written), kind, year and subject text. Every text comparison is
made on ``fold`` (lowercase, no diacritics), so "Hòa Điền" and "hoa dien" are the same commune,
and the subject search is fuzzy: a record matches when most of the query's words occur in it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.model import Record, UnitRef
from core.normalize import fold
from ingest.record_text import KIND_LABELS, attrs_text, targets_text, unit_names
from ingest.units import canonical_unit, unit_matches
from vectorstore.catalog import DocumentRow

KINDS = tuple(KIND_LABELS)
# Share of the query's words that must occur in a record for a fuzzy subject match.
MIN_WORD_OVERLAP = 0.6
_COMMUNE_PREFIXES = ("xa ", "phuong ", "thi tran ")

CSV_COLUMNS = (
    "doc_id",
    "document",
    "commune",
    "kind",
    "row_no",
    "subject",
    "group",
    "leads",
    "partners",
    "deadline",
    "year",
    "quarter",
    "targets",
    "unit_of_measure",
    "max_score",
    "method",
    "section",
    "details",
    "line_start",
    "line_end",
)
# Vietnamese column titles of the CSV export (Excel users read these).
CSV_HEADERS = (
    "Mã kế hoạch",
    "Tệp",
    "Xã",
    "Loại",
    "STT",
    "Nội dung",
    "Nhóm",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Thời gian",
    "Năm",
    "Quý",
    "Mục tiêu",
    "Đơn vị tính",
    "Điểm tối đa",
    "Cách tính",
    "Mục",
    "Chi tiết",
    "Từ dòng",
    "Đến dòng",
)


class RecordQueryError(ValueError):
    """An invalid filter; the message is Vietnamese."""


@dataclass(frozen=True)
class RecordFilter:
    commune: str | None = None
    unit: str | None = None
    kind: str | None = None
    year: int | None = None
    q: str | None = None


@dataclass(frozen=True)
class RecordMatch:
    record: Record
    document: DocumentRow | None
    score: float = 1.0  # subject match (1.0 without a text query)

    @property
    def commune(self) -> str:
        return self.record.commune or (self.document.commune if self.document else None) or ""

    @property
    def filename(self) -> str:
        return self.document.filename if self.document else ""

    def to_dict(self) -> dict[str, Any]:
        data = self.record.to_dict()
        data["commune"] = self.commune
        data["document"] = self.filename
        data["score"] = round(self.score, 4)
        return data


# --- matching helpers -------------------------------------------------------------------------------


def normalize_kind(kind: str) -> str:
    """'task', 'Nhiệm vụ' or 'nhiem vu' -> 'task'; an unknown kind raises ``RecordQueryError``."""
    folded = fold(kind)
    for key, label in KIND_LABELS.items():
        if folded in (key, fold(label)):
            return key
    allowed = ", ".join(f"{key} ({label})" for key, label in KIND_LABELS.items())
    raise RecordQueryError(f"loại bản ghi '{kind}' không hợp lệ; chọn một trong: {allowed}")


def _commune_key(name: str) -> str:
    folded = fold(name)
    for prefix in _COMMUNE_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def commune_matches(query: str, commune: str) -> bool:
    """Whole-word match without diacritics: 'hoa dien' and 'Xã Hòa Điền' match 'Hòa Điền'."""
    wanted = _commune_key(query)
    have = _commune_key(commune)
    return bool(wanted) and f" {wanted} " in f" {have} "


class _UnitQuery:
    """A unit as the user wrote it: canonical names it refers to, and its folded text."""

    def __init__(self, text: str) -> None:
        self.folded = fold(text)
        names = list(unit_matches(text)) or [canonical_unit(text).name]
        self.canonical = {fold(name) for name in names}

    def matches(self, unit: UnitRef) -> bool:
        if fold(unit.name) in self.canonical:
            return True
        return any(f" {self.folded} " in f" {fold(text)} " for text in (unit.name, unit.written))


def _year_matches(record: Record, year: int) -> bool:
    text = str(year)
    return (
        record.year == year
        or text in record.targets
        or (record.deadline is not None and text in record.deadline)
    )


def _subject_text(record: Record) -> str:
    return " ".join([record.subject, *record.group_path, record.method or ""])


def subject_score(query: str, record: Record) -> float:
    """Share of the query's words found in the record (0..1), +0.5 if the folded query occurs as is."""
    wanted = fold(query)
    if not wanted:
        return 1.0
    have = fold(_subject_text(record))
    query_words = set(wanted.split())
    overlap = len(query_words & set(have.split())) / len(query_words)
    bonus = 0.5 if f" {wanted} " in f" {have} " else 0.0
    return overlap + bonus


def _min_overlap(query: str) -> float:
    n = len(set(fold(query).split()))
    return math.ceil(MIN_WORD_OVERLAP * n) / n if n else 0.0


# --- the query -------------------------------------------------------------------------------------


def query_records(
    records: Iterable[Record],
    documents: dict[str, DocumentRow] | None = None,
    flt: RecordFilter | None = None,
    limit: int | None = None,
) -> list[RecordMatch]:
    """Records matching every given filter; with a text query, best matches first."""
    flt = flt or RecordFilter()
    documents = documents or {}
    kind = normalize_kind(flt.kind) if flt.kind else None
    unit = _UnitQuery(flt.unit) if flt.unit and fold(flt.unit) else None
    threshold = _min_overlap(flt.q) if flt.q else 0.0
    matches: list[RecordMatch] = []
    for record in records:
        match = RecordMatch(record, documents.get(record.doc_id))
        if kind and record.kind != kind:
            continue
        if flt.commune and not commune_matches(flt.commune, match.commune):
            continue
        if unit and not any(unit.matches(u) for u in (*record.leads, *record.partners)):
            continue
        if flt.year is not None and not _year_matches(record, flt.year):
            continue
        if flt.q and fold(flt.q):
            score = subject_score(flt.q, record)
            if score < threshold:
                continue
            match = RecordMatch(record, match.document, score)
        matches.append(match)
    if flt.q:
        matches.sort(key=lambda m: -m.score)  # stable: plan order among equal scores
    return matches[:limit] if limit is not None else matches


# --- export ----------------------------------------------------------------------------------------


# A spreadsheet runs text starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it but never runs it: text starting with = + - @ tab or CR
    gets a leading apostrophe; numbers and other text are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_row(match: RecordMatch) -> list[str | int | float]:
    """One record as export cells, in ``CSV_COLUMNS`` order: numbers stay numbers, text is made safe."""
    r = match.record
    values: dict[str, Any] = {
        "doc_id": r.doc_id,
        "document": match.filename,
        "commune": match.commune,
        "kind": KIND_LABELS.get(r.kind, r.kind),
        "row_no": r.row_no,
        "subject": r.subject,
        "group": " / ".join(r.group_path),
        "leads": unit_names(r.leads),
        "partners": unit_names(r.partners),
        "deadline": r.deadline,
        "year": r.year,
        "quarter": r.quarter,
        "targets": targets_text(r),
        "unit_of_measure": r.unit_of_measure,
        "max_score": r.max_score,
        "method": r.method,
        "section": r.section,
        "details": attrs_text(r),
        "line_start": r.line_start,
        "line_end": r.line_end,
    }
    cells: list[str | int | float] = []
    for column in CSV_COLUMNS:
        value = values[column]
        if value is None:
            value = ""
        elif not isinstance(value, int | float) or isinstance(value, bool):
            value = str(value)
        cells.append(safe_cell(value))
    return cells


def export_table(matches: Sequence[RecordMatch]) -> tuple[list[str], list[list[str | int | float]]]:
    """Headers and rows of an export: the one column list of the CSV and the Excel file."""
    return list(CSV_HEADERS), [export_row(m) for m in matches]


def to_csv(matches: Sequence[RecordMatch], bom: bool = True) -> str:
    """CSV with Vietnamese headers; with a UTF-8 BOM (when encoded as UTF-8) so Excel reads the diacritics."""
    headers, rows = export_table(matches)
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


def _slug(text: str) -> str:
    return "-".join(fold(text).split())


def export_filename(flt: RecordFilter, ext: str, prefix: str = "phan-cong", max_len: int = 80) -> str:
    """A download name after the filter, without diacritics: ``phan-cong-vinh-thuan-2026.xlsx``
    (commune, kind, unit, year when chosen), ``phan-cong-tat-ca.xlsx`` without a filter."""
    kind = flt.kind
    if kind:
        with contextlib.suppress(RecordQueryError):  # an unknown kind: as written
            kind = KIND_LABELS[normalize_kind(kind)]
    commune = _commune_key(flt.commune) if flt.commune else None
    parts = [_slug(p) for p in (commune, kind, flt.unit, str(flt.year) if flt.year else None) if p]
    parts = [p for p in parts if p]
    if not parts:
        parts = ["loc" if flt.q and fold(flt.q) else "tat-ca"]
    name = "-".join([prefix, *parts])
    if len(name) > max_len:
        name = name[:max_len].rsplit("-", 1)[0]
    return f"{name}.{ext}"
