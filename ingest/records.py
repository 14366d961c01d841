"""Structured records from a parsed plan: table rows (indicators, targets, tasks, schedules, KPIs)
and duties assigned in prose. See ``ingest.tables`` and ``ingest.duties`` for the shapes covered."""

from __future__ import annotations

import hashlib
import logging
import re

from ingest.duties import Duty, extract_duties
from ingest.model import ParsedDocument, Record, UnitRef
from ingest.tables import (
    DEADLINE,
    INDICATOR,
    LEAD,
    METHOD,
    PARTNER,
    PERIOD,
    SCORE,
    TASK,
    UOM,
    TableRow,
    context_headings,
    flat_rows,
    grid_rows,
    quarter_of,
)
from ingest.units import split_units

log = logging.getLogger(__name__)

_YEAR_RE = re.compile(r"\b(20\d\d)\b")


def extract_records(doc: ParsedDocument) -> list[Record]:
    """Every table row and assigned duty of a plan, in document order."""
    records: list[Record] = []
    used: set[int] = set()
    for finder in (_table_records, _duty_records):
        try:
            found, lines = finder(doc, used)
        except Exception:  # an odd layout must not stop the ingestion of the whole plan
            log.exception("record extraction failed in %s (%s)", doc.filename, finder.__name__)
            continue
        records += found
        used |= lines
    records.sort(key=lambda r: (r.line_start, r.line_end))
    return records


def _table_records(doc: ParsedDocument, _used: set[int]) -> tuple[list[Record], set[int]]:
    grid, grid_lines = grid_rows(doc.lines, context_headings(doc.lines))
    flat, flat_lines = flat_rows(doc.lines)
    records = [_row_record(doc, row) for row in grid + flat]
    return [r for r in records if r.subject], grid_lines | flat_lines  # a bare row number is no fact


def _duty_records(doc: ParsedDocument, used: set[int]) -> tuple[list[Record], set[int]]:
    return [_duty_record(doc, duty) for duty in extract_duties(doc.lines, used)], set()


def _row_record(doc: ParsedDocument, row: TableRow) -> Record:
    cells = row.cells
    indicator, task = cells.get(INDICATOR, ""), cells.get(TASK, "")
    subject = f"{indicator.rstrip(' .:')}: {task}" if indicator and task else indicator or task
    deadline = cells.get(DEADLINE)
    if row.quarter and row.year:
        deadline = f"Quý {row.quarter}/{row.year}"
    elif not deadline and cells.get(PERIOD):
        deadline = cells[PERIOD]
    year = row.year or _year_of(deadline)
    quarter = row.quarter or quarter_of(deadline or "")
    return _record(
        doc,
        kind=row.kind,
        first=row.first,
        last=row.last,
        subject=subject,
        group_path=row.group_path,
        row_no=row.row_no,
        leads=split_units(cells.get(LEAD, "")),
        partners=split_units(cells.get(PARTNER, "")),
        deadline=deadline,
        year=year,
        quarter=quarter,
        targets=row.targets,
        unit_of_measure=cells.get(UOM),
        max_score=cells.get(SCORE),
        method=cells.get(METHOD),
    )


def _duty_record(doc: ParsedDocument, duty: Duty) -> Record:
    return _record(
        doc,
        kind="duty",
        first=duty.first,
        last=duty.last,
        subject=duty.text,
        group_path=duty.group_path,
        row_no=duty.row_no,
        leads=duty.leads,
        partners=duty.partners,
        deadline=duty.deadline,
        year=_year_of(duty.deadline),
    )


def _year_of(text: str | None) -> int | None:
    match = _YEAR_RE.search(text or "")
    return int(match.group(1)) if match else None


def _record(
    doc: ParsedDocument,
    *,
    kind: str,
    first: int,
    last: int,
    subject: str,
    leads: list[UnitRef],
    partners: list[UnitRef],
    **fields: object,
) -> Record:
    lines = doc.lines[first : last + 1]
    record = Record(
        doc_id=doc.doc_id,
        kind=kind,
        subject=" ".join(subject.split()),
        line_start=lines[0].no,
        line_end=lines[-1].no,
        raw="\n".join(line.raw for line in lines),
        commune=doc.metadata.commune,
        leads=leads,
        partners=[p for p in partners if p.name not in {u.name for u in leads}],
        **fields,  # type: ignore[arg-type]
    )
    key = "\x00".join([doc.doc_id, kind, record.row_no or "", record.subject, str(record.line_start)])
    record.record_id = hashlib.sha1(key.encode()).hexdigest()[:20]
    return record
