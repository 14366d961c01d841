"""Structured records from a parsed plan: table rows (indicators, targets, tasks, schedules, KPIs)
and duties assigned in prose. See ``ingest.tables`` and ``ingest.duties`` for the shapes covered."""

from __future__ import annotations

import hashlib
import logging
import re

from core.model import FactKind, ParsedDocument, Record, UnitRef
from core.normalize import fold
from ingest import facts as prose
from ingest.duties import Duty, extract_duties, paragraphs
from ingest.parse import plan_years
from ingest.tables import (
    DEADLINE,
    INDICATOR,
    LEAD,
    METHOD,
    OUTPUT,
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
    """Every fact of a plan, in document order: table rows, assigned duties, facts stated in prose
    (cited documents, recipients, signer, goals, reporting, funding, stages, grading) and the groups
    of its tables."""
    records: list[Record] = []
    used: set[int] = set()
    for finder in (_table_records, _duty_records, _prose_records, _group_records):
        try:
            found, lines = finder(doc, used, records)
        except Exception:  # an odd layout must not stop the ingestion of the whole plan
            log.exception("record extraction failed in %s (%s)", doc.filename, finder.__name__)
            continue
        records += found
        used |= lines
    records.sort(key=lambda r: (r.line_start, r.line_end))
    return records


def _table_records(doc: ParsedDocument, _used: set[int], _found: list[Record]) -> tuple[list[Record], set[int]]:
    grid, grid_lines = grid_rows(doc.lines, context_headings(doc.lines))
    flat, flat_lines = flat_rows(doc.lines)
    records = [_row_record(doc, row) for row in grid + flat]
    return [r for r in records if r.subject], grid_lines | flat_lines  # a bare row number is no fact


def _duty_records(doc: ParsedDocument, used: set[int], _found: list[Record]) -> tuple[list[Record], set[int]]:
    return [_duty_record(doc, duty) for duty in extract_duties(doc.lines, used)], set()


def _prose_records(doc: ParsedDocument, used: set[int], found: list[Record]) -> tuple[list[Record], set[int]]:
    paras = paragraphs(doc.lines, used)
    first_section = next((i for i, path in enumerate(doc.sections) if path), len(doc.lines))
    leads_of: dict[int, list[UnitRef]] = {}
    by_line = {r.line_start: r for r in found if r.kind is FactKind.DUTY}
    for para in paras:
        duty = by_line.get(doc.lines[para.first].no)
        if duty is not None:
            leads_of[para.first] = duty.leads
    years = plan_years(doc.metadata.title or "")
    plan_year = years[0] if len(set(years)) == 1 else None
    closing = prose.closing(doc.lines)
    items: list[prose.ProseFact] = [
        *prose.references(paras, first_section),
        *closing.recipients,
        *([closing.signer] if closing.signer else []),
        *prose.goals(paras, plan_year, first_section),
        *prose.reports(paras, leads_of),
        *prose.budget(paras, doc.sections),
        *prose.stages(doc.lines),
        *prose.scoring(doc.lines),
    ]
    return [
        _record(doc, kind=item.kind, first=item.first, last=item.last, subject=item.subject, leads=item.leads,
                partners=[], deadline=item.deadline, year=item.year, targets=item.targets, attrs=item.attrs,
                group_path=item.group_path)
        for item in items if item.subject
    ], set()


def _group_records(doc: ParsedDocument, _used: set[int], found: list[Record]) -> tuple[list[Record], set[int]]:
    """The structure of the plan's tables: every group of rows (a pillar, a 'Nhóm', an appendix's table) with
    how many rows it holds and which."""
    groups: dict[tuple[str, tuple[str, ...]], list[Record]] = {}
    for record in found:
        if not record.is_table_row:
            continue
        table = record.section.split(" > ")[0] if record.section else ""
        path = tuple(record.group_path)
        for depth in range(len(path) + 1):
            groups.setdefault((table, path[:depth]), []).append(record)
    out: list[Record] = []
    for (table, path), rows in groups.items():
        label = path[-1] if path else table
        if not label or (not path and len({tuple(r.group_path) for r in rows}) == 1 and rows[0].group_path):
            continue
        numbered = [r for r in rows if r.row_no and "." not in r.row_no]
        attrs = {"members": str(len(rows)), "main_rows": str(len(numbered)),
                 "rows": "; ".join(f"{r.row_no or '-'}. {_head(r.subject, 80)}" for r in rows[:60]),
                 "table": table, "depth": str(len(path))}
        if len(rows) == len(groups[(table, ())]) and (header := _table_header(doc, rows[0].line_start)):
            attrs["header"] = header  # the whole table's header: its title may state how many rows it has
        first = min(r.line_start for r in rows)
        last = max(r.line_end for r in rows)
        out.append(Record(
            doc_id=doc.doc_id, kind=FactKind.GROUP, subject=label, line_start=first, line_end=last,
            raw="", commune=doc.metadata.commune, group_path=list(path[:-1]) if path else [], section=table,
            attrs=attrs, record_id=_fact_id(doc.doc_id, FactKind.GROUP, table + "|" + "|".join(path), first),
        ))
    return out, set()


def _head(text: str, limit: int) -> str:
    """The start of a text, cut at a word's end."""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def _table_header(doc: ParsedDocument, first_row_line: int) -> str | None:
    """The header row of the table whose first row stands at line ``first_row_line`` (its cells joined)."""
    index = next((i for i, line in enumerate(doc.lines) if line.no == first_row_line), None)
    if index is None:
        return None
    for line in reversed(doc.lines[max(0, index - 8) : index]):
        cells = [c.strip() for c in re.split(r"\t|\|", line.text) if c.strip() and not set(c.strip()) <= set("-: ")]
        if len(cells) >= 3 and any(fold(c).split()[0] in ("stt", "tt") for c in cells if fold(c)):
            return " | ".join(cells)
    return None


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
        attrs={"output": cells[OUTPUT]} if cells.get(OUTPUT) else {},
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
        attrs={"addressing": "đề nghị"} if "de nghi" in fold(" ".join([*duty.group_path[-1:], duty.text[:40]])) else {},
    )


def _year_of(text: str | None) -> int | None:
    match = _YEAR_RE.search(text or "")
    return int(match.group(1)) if match else None


def _fact_id(doc_id: str, kind: str, key: str, line: int) -> str:
    return hashlib.sha1("\x00".join([doc_id, kind, key, str(line)]).encode()).hexdigest()[:20]


def _record(
    doc: ParsedDocument,
    *,
    kind: FactKind | str,
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
        kind=FactKind(kind),
        section=" > ".join(doc.sections[first]),
        subject=" ".join(subject.split()),
        line_start=lines[0].no,
        line_end=lines[-1].no,
        raw="\n".join(line.raw for line in lines),
        commune=doc.metadata.commune,
        leads=leads,
        partners=[p for p in partners if p.name not in {u.name for u in leads}],
        **fields,  # type: ignore[arg-type]
    )
    record.record_id = _fact_id(doc.doc_id, record.kind, f"{record.row_no or ''}\x00{record.subject}", record.line_start)
    return record
