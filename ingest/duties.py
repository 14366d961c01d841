"""Duties assigned in prose: numbered unit blocks ('1. Phòng Văn hóa – Xã hội' followed by bullets
or paragraphs), inline assignments ('1.1. Các phòng, ban, ngành, các thôn: Tổ chức …', '3. Phòng kinh
tế chủ trì, phối hợp với …') and, inside a 'TỔ CHỨC THỰC HIỆN' section, sentences whose subject is a
unit ('- Các cơ quan, đơn vị, các thôn thực hiện chế độ báo cáo …').

Lines wrapped by the PDF are joined back into paragraphs first.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from core.model import SourceLine, UnitRef
from core.normalize import fold
from ingest.units import leading_units

_HEADING_RE = re.compile(
    r"^(?:(?P<roman>[IVX]{1,5})\s*[.\-]|(?P<no>\d{1,2}(?:\.\d{1,2})*)\s*[.)])\s*(?P<text>\S.*)$"
)
_BULLET_RE = re.compile(r"^[-–•+*]\s*(?=\S)")
_LETTERED_RE = re.compile(r"^[a-zđ]\)\s")  # 'a) Trong năm 2026: …' starts an item, though in lowercase
_CLOSING_RE = re.compile(r"^(?:tren day la|noi nhan|(?:uy ban nhan dan|ubnd) xa yeu cau|phu luc\b)")
_PARTNER_RE = re.compile(r"ph[ốo]i\s+h[ợo]p\s+(?:ch[ặa]t\s+ch[ẽe]\s+)?(?:v[ớo]i\s+)?", re.IGNORECASE)
_LEAD_RE = re.compile(r"^\W*ch[ủu]\s+tr[ìi]\b", re.IGNORECASE)
_DUTY_VERB_RE = re.compile(
    r"^(?:chủ trì|là cơ quan|là đơn vị|phụ trách|chịu trách nhiệm|có trách nhiệm|thực hiện|tham mưu|triển khai|"
    r"phối hợp|tổ chức|hướng dẫn|theo dõi)\b",
    re.IGNORECASE,
)
_DEADLINE_RE = re.compile(
    r"\b(?:hoàn thành\s+)?trước ngày\s+\**\d{1,2}(?:/\d{1,2}(?:/\d{4})?|\s+hằng tháng)?", re.I
)
MAX_LABEL = 90


@dataclass
class Paragraph:
    first: int  # indices into the document's lines
    last: int
    text: str
    starts: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, line index) of each line

    def line_at(self, offset: int) -> int:
        """The index of the line that holds character ``offset`` of the paragraph's text."""
        line = self.first
        for start, index in self.starts:
            if start > offset:
                break
            line = index
        return line


@dataclass
class Duty:
    first: int
    last: int
    text: str
    leads: list[UnitRef]
    partners: list[UnitRef]
    row_no: str | None
    group_path: list[str]
    deadline: str | None = None


# --- paragraphs ------------------------------------------------------------------------------------


def _starts_block(text: str) -> bool:
    return bool(_HEADING_RE.match(text) or _BULLET_RE.match(text) or _LETTERED_RE.match(text)
                or _CLOSING_RE.match(fold(text)))


def _wrap_width(texts: list[str]) -> float | None:
    """Line width of a document whose paragraphs were wrapped into lines (PDF), else None."""
    wrapped = [len(a) for a, b in zip(texts, texts[1:], strict=False) if b[:1].islower()]
    if len(wrapped) < 5 or len(wrapped) < 0.25 * len(texts):
        return None
    return statistics.median(wrapped)


# Words a Vietnamese sentence cannot end with: a line ending with one was wrapped.
_OPEN_END_WORDS = frozenset(
    ["cua", "va", "ve", "cac", "nhung", "cho", "voi", "tai", "ngay", "de", "la", "thuoc", "tu", "nham", "hoac", "boi", "bang", "doi"]
)


def _open_end(line: str) -> bool:
    last = fold(line).rsplit(" ", 1)[-1] if line.strip() else ""
    return last in _OPEN_END_WORDS


def paragraphs(lines: list[SourceLine], skip: set[int]) -> list[Paragraph]:
    """Non-table lines joined into paragraphs: a line continues the paragraph when it starts in
    lowercase, when the previous line breaks a word ('42-'), or (wrapped PDFs) when the previous
    line runs to the full width of the page."""
    items = [(i, line.text.strip()) for i, line in enumerate(lines) if i not in skip and line.text.strip()]
    width = _wrap_width([t for _, t in items])
    out: list[Paragraph] = []
    previous_index = -2
    for i, text in items:
        current = out[-1] if out else None
        joined = False
        if current and not _starts_block(text) and not any(j in skip for j in range(previous_index, i)):
            last_line = lines[current.last].text.strip()
            full = width is not None and len(last_line) >= 0.85 * width
            joined = text[:1].islower() or last_line.endswith(("-", ",")) or full or _open_end(last_line)
        if joined and current:
            glue = "" if current.text.endswith("-") and not current.text.endswith(" -") else " "
            current.text += glue
            current.starts.append((len(current.text), i))
            current.text += text
            current.last = i
        else:
            out.append(Paragraph(i, i, text, [(0, i)]))
        previous_index = i
    return out


# --- units named in a duty ---------------------------------------------------------------------------


def _partners(text: str) -> list[UnitRef]:
    """Units after 'phối hợp (chặt chẽ) (với)': 'phối hợp với Phòng Văn hóa - Xã hội, các thôn …'."""
    found: list[UnitRef] = []
    for match in _PARTNER_RE.finditer(text):
        units, _ = leading_units(text[match.end() :])
        found += [u for u in units if u.name not in {f.name for f in found}]
    return found


def _unit_subject(text: str) -> tuple[list[UnitRef], str]:
    """Units opening a sentence and the rest: 'Phòng KT chủ trì, …' -> ([Phòng Kinh tế], 'chủ trì, …')."""
    units, end = leading_units(text)
    return units, text[end:].strip()


def _make_duty(para: Paragraph, text: str, leads: list[UnitRef], row_no: str | None, path: list[str]) -> Duty:
    units, rest = _unit_subject(text)
    if units and _LEAD_RE.match(rest):  # 'Phòng kinh tế chủ trì, phối hợp với …'
        leads = units
    lead_names = {u.name for u in leads}
    deadline = _DEADLINE_RE.search(text)
    return Duty(
        first=para.first,
        last=para.last,
        text=text,
        leads=list(leads),
        partners=[u for u in _partners(text) if u.name not in lead_names],
        row_no=row_no,
        group_path=list(path),
        deadline=deadline.group(0)[:1].upper() + deadline.group(0)[1:] if deadline else None,
    )


# --- blocks -----------------------------------------------------------------------------------------------


@dataclass
class _Block:
    depth: int
    no: str
    leads: list[UnitRef]
    duties: list[Duty] = field(default_factory=list)


def _label(text: str) -> str:
    text = text.rstrip(" :")
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rsplit(" ", 1)[0] + "…"


def extract_duties(lines: list[SourceLine], skip: set[int]) -> list[Duty]:
    duties: list[Duty] = []
    stack: list[tuple[int, str]] = []  # (depth, label) of the open headings
    block: _Block | None = None
    in_assignments = False  # inside a 'TỔ CHỨC THỰC HIỆN' section
    for para in paragraphs(lines, skip):
        text = para.text
        folded = fold(text)
        heading = _HEADING_RE.match(text)
        if _CLOSING_RE.match(folded):
            block, in_assignments, stack = None, False, []
            continue
        if heading or folded == "to chuc thuc hien":
            no = (heading.group("no") or heading.group("roman")) if heading else ""
            depth = heading.group("no").count(".") + 1 if heading and heading.group("no") else 0
            if depth == 0:
                in_assignments = "to chuc thuc hien" in folded
            stack = [(d, label) for d, label in stack if d < depth] + [(depth, _label(text))]
            if block and depth <= block.depth:
                block = None
            body = heading.group("text") if heading else ""
            units, rest = _unit_subject(body) if depth else ([], "")
            if units and (not rest.strip(" .") or rest.startswith(":") or rest[:1].islower()):
                block = _Block(depth, no, units)
                if rest.startswith(":"):  # '1.1. Các thôn: Tổ chức …' is labelled '1.1. Các thôn'
                    stack[-1] = (depth, _label(text[: len(text) - len(rest)]))
                inline = (
                    rest.lstrip(": ").strip() if rest.startswith(":") else body if rest[:1].islower() else ""
                )
                if inline:
                    duties.append(_make_duty(para, inline, units, no, [label for _, label in stack]))
            continue
        bullet = _BULLET_RE.match(text)
        body = text[bullet.end() :] if bullet else text
        path = [label for _, label in stack]
        if text.startswith("+") and duties and block:  # a sub-item of the previous duty
            duties[-1].text += " " + body
            duties[-1].last = para.last
        elif block:
            duties.append(_make_duty(para, body, block.leads, block.no, path))
        else:
            units, rest = _unit_subject(body)
            # inside 'TỔ CHỨC THỰC HIỆN' any sentence whose subject is a unit; elsewhere one that says what the
            # unit does ('- Phòng Văn hóa – Xã hội chủ trì tổng hợp, tham mưu UBND xã.')
            if units and rest[:1].islower() and (in_assignments or _DUTY_VERB_RE.match(rest)):
                duties.append(_make_duty(para, body, units, None, path))
    return duties
