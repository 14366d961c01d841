"""Does a parsed file look like a commune plan? Judged on three signals of its layout, so that a recipe
or a news article uploaded by mistake is refused unless the officer confirms it.

- letterhead: the issuing authority (ỦY BAN NHÂN DÂN / XÃ … in capitals) or the national motto
  (CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM, Độc lập - Tự do - Hạnh phúc) at the top;
- title: a 'KẾ HOẠCH' title line at the top (or a known plan type);
- sections: numbered headings (I., II., 1., 1.1., …).

A plan needs two of them, or one strong sign: a plan number 'Số: …/KH-…'. The motto alone is on every
administrative form (a CV, an application), so it pairs only with the title, not with numbered sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.model import IngestError, ParsedDocument
from core.normalize import fold
from ingest.parse import heading_level

HEAD_LINES = 60  # the letterhead and the title are in the first lines
MIN_HEADINGS = 2

SIGNAL_LABELS = {
    "letterhead": "quốc hiệu/tiêu ngữ hoặc tên cơ quan ban hành",
    "title": "tiêu đề KẾ HOẠCH",
    "sections": "các mục đánh số (I., II., 1., …)",
}

# in capitals: prose writes 'Ủy ban nhân dân xã …', a letterhead 'ỦY BAN NHÂN DÂN' / 'XÃ TÂN LẬP'
_AUTHORITY_RE = re.compile(r"(?:ỦY|UỶ|UY) BAN NHÂN DÂN\b|^UBND(?: XÃ\b|$)|^XÃ (\w+)")
_MOTTO_RE = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap tu do hanh phuc")
_TITLE_RE = re.compile(r"^(?:#+\s*)?KẾ HOẠCH(?:\s|$)")
_MD_MARKS_RE = re.compile(r"^#+\s*|^\*+|\*+$")  # '## I. MỤC ĐÍCH', '**1. Mục đích**'
_PLAN_NUMBER_RE = re.compile(r"(?:^|\s)Số\s*:\s*\d*\s*/\s*KH\s*-")


@dataclass(frozen=True)
class PlanLikeness:
    letterhead: bool = False
    title: bool = False
    sections: bool = False
    authority: bool = False  # the letterhead names the issuing body, not only the national motto
    plan_number: bool = False  # 'Số: …/KH-…'
    headings: int = 0
    found: list[str] = field(default_factory=list)  # signal keys of SIGNAL_LABELS
    missing: list[str] = field(default_factory=list)

    @property
    def looks_like_plan(self) -> bool:
        if self.plan_number:
            return True
        if self.title:
            return self.letterhead or self.sections
        return self.authority and self.sections

    @property
    def missing_labels(self) -> list[str]:
        return [SIGNAL_LABELS[key] for key in self.missing]


class NotAPlanError(IngestError):
    """A file that does not look like a plan, refused unless the officer confirms it."""

    code = "not_a_plan"

    def __init__(self, likeness: PlanLikeness) -> None:
        super().__init__(not_a_plan_message(likeness))
        self.likeness = likeness


def not_a_plan_message(likeness: PlanLikeness) -> str:
    missing = ", ".join(likeness.missing_labels) or "các dấu hiệu của một kế hoạch"
    return (
        f"Tệp không giống một kế hoạch (thiếu: {missing}). "
        "Nếu đúng là kế hoạch, hãy nạp lại và xác nhận (force=true)"
    )


def _is_authority(cell: str) -> bool:
    match = _AUTHORITY_RE.search(cell)
    return match is not None and (match.group(1) is None or match.group(1).isupper())


def plan_likeness(doc: ParsedDocument) -> PlanLikeness:
    """The plan signals found in a parsed document (pure: reads its lines and metadata)."""
    head = [line.text for line in doc.lines[:HEAD_LINES] if line.text]
    cells = [cell.strip(" *|#") for text in head for cell in re.split(r"\t|\|", text)]
    authority = any(_is_authority(cell) for cell in cells)
    motto = any(_MOTTO_RE.search(fold(cell)) for cell in cells)
    title = bool(doc.metadata.title or doc.metadata.plan_type) or any(_TITLE_RE.match(cell) for cell in cells)
    plan_number = any(_PLAN_NUMBER_RE.search(cell) for cell in cells)
    headings = sum(heading_level(_MD_MARKS_RE.sub("", line.text)) in (1, 2, 3) for line in doc.lines)
    signals = {"letterhead": authority or motto, "title": title, "sections": headings >= MIN_HEADINGS}
    return PlanLikeness(
        letterhead=signals["letterhead"],
        title=title,
        sections=signals["sections"],
        authority=authority,
        plan_number=plan_number,
        headings=headings,
        found=[key for key, on in signals.items() if on],
        missing=[key for key, on in signals.items() if not on],
    )


def check_plan(doc: ParsedDocument) -> PlanLikeness:
    """``plan_likeness``, raising ``NotAPlanError`` when the document does not look like a plan."""
    likeness = plan_likeness(doc)
    if not likeness.looks_like_plan:
        raise NotAPlanError(likeness)
    return likeness
