"""Data shapes that flow from the loaders to the store."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class IngestError(Exception):
    """A file that cannot be ingested; the message is shown to officers (Vietnamese)."""


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of a document: ``text`` is normalized, ``raw`` is as written (for citations)."""

    no: int  # 1-based line number in the decoded source text
    text: str
    raw: str
    page: int | None = None


@dataclass
class PlanMetadata:
    commune: str | None = None
    province: str | None = None
    number: str | None = None  # "128/KH-UBND"; None when left blank
    date: str | None = None  # "20/5/2026" or a partial "tháng 05 năm 2026"
    title: str | None = None
    plan_type: str | None = None  # pii | nq57 | innovative
    signer: str | None = None
    signer_role: str | None = None  # "Phó Chủ tịch"
    sign_mode: str | None = None  # "TM. Ủy ban nhân dân; KT. Chủ tịch", "" when signing in one's own name
    issuer: str | None = None  # "Ủy ban nhân dân xã Hòa Điền"
    place: str | None = None  # the place of the place-and-date line
    period_start: int | None = None
    period_end: int | None = None
    legal_bases: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    # where the text came from (PDF): pages, and the scanned pages read by OCR
    pages: int | None = None  # page count of a PDF
    page_starts: list[list[int]] = field(default_factory=list)  # [[page, first line no], …] to cite pages
    ocr_pages: list[int] = field(default_factory=list)  # pages read by OCR
    ocr_confidence: dict[str, float] = field(default_factory=dict)  # page -> mean word confidence, 0..100
    low_confidence_pages: list[int] = field(default_factory=list)  # OCR pages below the threshold: check them

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def page_of_line(metadata: dict[str, Any] | PlanMetadata, line_no: int) -> int | None:
    """The page a line of a PDF plan is on (None for other files): from ``page_starts``, so that a
    citation can name its page without the document's lines."""
    starts = metadata.page_starts if isinstance(metadata, PlanMetadata) else metadata.get("page_starts") or []
    page = None
    for number, first in starts:
        if first > line_no:
            break
        page = number
    return page


@dataclass
class ParsedDocument:
    doc_id: str
    filename: str
    sha256: str
    lines: list[SourceLine]
    sections: list[tuple[str, ...]]  # section path of every line, parallel to ``lines``
    metadata: PlanMetadata

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class Chunk:
    """A passage as stored and indexed: a dataclass in all but memory (slots, and ``text``, usually ``body``
    behind a context prefix ending with the section, kept as that prefix's two parts, interned: one copy of
    the document's part per document and of the section's part per section, not one per chunk)."""

    __slots__ = ("chunk_id", "doc_id", "_head", "_tail", "_joined", "_body", "section", "kind", "line_start",
                 "line_end", "metadata")
    __match_args__ = ("chunk_id", "doc_id", "text", "body", "section", "kind", "line_start", "line_end", "metadata")
    # mutable, hence unhashable, like a dataclass with eq
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, chunk_id: str, doc_id: str, text: str, body: str, section: str, kind: str, line_start: int,
        line_end: int, metadata: dict[str, Any] | None = None,
    ) -> None:
        self.chunk_id = chunk_id  # content hash: identical content => identical id
        self.doc_id = doc_id
        self.section = section
        self._body = body  # the chunk's own text, shown in citations
        self.text = text  # what is embedded and indexed (with a context prefix)
        self.kind = kind  # "text" | "table" | "record"
        self.line_start = line_start
        self.line_end = line_end
        self.metadata: dict[str, Any] = {} if metadata is None else metadata

    @property
    def text(self) -> str:
        return self._head + self._tail + self._body if self._joined else self._head

    @text.setter
    def text(self, text: str) -> None:
        body = self._body
        self._joined = bool(body) and len(text) > len(body) and text.endswith(body)
        if not self._joined:
            self._head, self._tail = text, ""
            return
        head = text[: len(text) - len(body)]
        tail = f" | {self.section}\n" if self.section else "\n"
        if len(head) > len(tail) and head.endswith(tail):
            self._head, self._tail = sys.intern(head[: len(head) - len(tail)]), sys.intern(tail)
        else:
            self._head, self._tail = sys.intern(head), ""

    @property
    def body(self) -> str:
        return self._body

    @body.setter
    def body(self, body: str) -> None:
        text = self.text
        self._body = body
        self.text = text

    def _fields(self) -> tuple[Any, ...]:
        return (self.chunk_id, self.doc_id, self.text, self._body, self.section, self.kind, self.line_start,
                self.line_end, self.metadata)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self.__match_args__, self._fields(), strict=True))
        return f"Chunk({values})"


@dataclass(slots=True)
class UnitRef:
    """A unit named in a plan: ``name`` is canonical, ``written`` is how the plan wrote it."""

    name: str
    written: str


class FactKind(StrEnum):
    """What a fact of a plan is. Table rows: indicator … kpi; prose: the rest."""

    INDICATOR = "indicator"  # a row of an index appendix (pillar > indicator: task, lead, partner)
    TARGET = "target"  # a value to reach (a table row, or a sentence of the goals)
    TASK = "task"  # a task row (task, lead, partner, deadline)
    SCHEDULE = "schedule"  # a roadmap row (year, quarter, content, lead, partner)
    KPI = "kpi"  # an evaluation criterion (method, maximum score) or a criteria group's weight
    DUTY = "duty"  # what the plan assigns to a unit in prose ("Đề nghị …" for bodies outside the UBND)
    REPORT = "report"  # a reporting obligation: what, who, to whom, by when
    REFERENCE = "reference"  # a document the plan cites (in its bases or its body)
    RECIPIENT = "recipient"  # a line of "Nơi nhận"
    SIGNER = "signer"  # who signs, in which role, and how (TM./KT.)
    BUDGET = "budget"  # a source or rule of funding
    STAGE = "stage"  # a stage of a multi-year roadmap
    SCORING = "scoring"  # a grading band or total of a KPI set
    GROUP = "group"  # a group of a table (pillar, nhóm, appendix) and the rows it holds


TABLE_FACT_KINDS = frozenset(
    {FactKind.INDICATOR, FactKind.TARGET, FactKind.TASK, FactKind.SCHEDULE, FactKind.KPI}
)


@dataclass(slots=True)
class Record:
    """One typed fact of a plan, with its provenance (document, section, lines)."""

    doc_id: str
    kind: FactKind
    subject: str  # the indicator / task / duty, cells joined back into one sentence
    line_start: int
    line_end: int
    raw: str  # the original lines, as written
    commune: str | None = None
    group_path: list[str] = field(default_factory=list)  # pillar / nhóm / section
    row_no: str | None = None  # as written: "15.3", "II", "1"
    leads: list[UnitRef] = field(default_factory=list)
    partners: list[UnitRef] = field(default_factory=list)
    deadline: str | None = None  # "Quý II/2026", "Thường xuyên", "Năm 2026 và những năm tiếp theo"
    year: int | None = None
    quarter: str | None = None  # "I".."IV"
    targets: dict[str, str] = field(default_factory=dict)  # {"2026": "≥ 60%"} or {"": "100%"}
    unit_of_measure: str | None = None
    max_score: str | None = None
    method: str | None = None  # KPI "Cách tính"
    section: str = ""  # the plan's section path where the fact stands ("V. TỔ CHỨC THỰC HIỆN > 2. …")
    attrs: dict[str, str] = field(default_factory=dict)  # kind-specific fields (see ``FactKind``)
    record_id: str = ""  # content hash, set by the extractor

    @property
    def is_table_row(self) -> bool:
        """A row of one of the plan's tables (not a target stated in prose, not a prose fact)."""
        return self.kind in TABLE_FACT_KINDS and self.attrs.get("source") != "prose"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
