"""Facts of an example that do not travel to another commune, province or period.

A passage adapted from an example may still state things that were true only there: a named
project or programme of the example's province, the wording of that province's Party congress
("Đại hội đại biểu Đảng bộ tỉnh … lần thứ I", "khóa XVII"), the commune's own strengths ("nhất là
trong các lĩnh vực …"), or its targets and figures. ``check`` marks each such clause with a
visible ``[cần kiểm tra]``, or drops a passage that is about nothing else. ``stray_years`` lists
the years a text names outside the plan's period, except where a year belongs to something else
(a document's number or date, a programme's period that covers the plan, a vision or horizon).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.drafting.adapt import CHECK_MARK

DROP_SHARE = 0.6  # a passage is dropped when a provincial project takes this much of it

_PROVINCE = r"(?:tỉnh|thành phố|Tỉnh|Thành phố)"
_NAME = r"(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s*-\s*[A-ZĐÀ-Ỹ][\wÀ-ỹ]*)?)*"
CONGRESS_RE = re.compile(
    rf"(?:Đại hội (?:đại biểu )?Đảng bộ {_PROVINCE}{_NAME}[^,;.()]{{0,30}}?lần thứ [IVXLC]+"
    rf"|Ban Chấp hành Đảng bộ {_PROVINCE}{_NAME}\s*khóa [IVXLC]+)"
)
PROJECT_RE = re.compile(
    rf"(?:các\s+)?(?:Đề án|Chương trình|Dự án)\b(?![^;.]{{0,15}}(?:quốc gia|mục tiêu quốc gia))[^;.:]{{3,120}}?"
    rf"(?:\bcủa {_PROVINCE}{_NAME}|\b{_PROVINCE}{_NAME}(?= giai đoạn| đến năm|[;.,]|$))"
)
PROVINCIAL_DOC_RE = re.compile(r"\[…\]-(?:NQ|CTr|KH|CT)/(?:TU|TƯ|TƯU)|/(?:NQ|CTr|KH)-?TU\b")
STRENGTH_RE = re.compile(
    r"(?:tiềm năng, lợi thế|lợi thế|thế mạnh|tiềm năng)(?: của (?:địa phương|xã))?[^;.]{0,40}?"
    r"(?:,\s*)?(?:nhất là|đặc biệt là|như|gồm)(?: trong)?(?: các)?(?: lĩnh vực)?[^;.]{8,}"
    r"|(?:gắn với|phù hợp với) đặc thù kinh tế [^;.]+"
    r"|nhất là trong các lĩnh vực [^;.]+"
)
FIGURE_RE = re.compile(
    r"(?<![\w/.])(?:\d+(?:[.,]\d+)?\s*%|0\d(?=\s+[a-zà-ỹđ“\"])|(?:ít nhất|tối thiểu|trên|đạt|≥|≤)\s*\d+)"
)


@dataclass
class Checked:
    text: str | None  # None: the passage is dropped
    flags: list[str] = field(default_factory=list)  # congress | project | strength | figure


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    """Insert the check mark after each span (right to left so the offsets hold)."""
    for _, end in sorted(spans, reverse=True):
        if text[end:end + len(CHECK_MARK) + 1].strip().startswith(CHECK_MARK):
            continue
        text = f"{text[:end].rstrip()} {CHECK_MARK}{text[end:]}"
    return text


def _mark_end(text: str) -> str:
    if CHECK_MARK in text:
        return text
    body = text.rstrip()
    end = body[-1] if body and body[-1] in ".;:" else ""
    return f"{body[:len(body) - len(end)].rstrip()} {CHECK_MARK}{end}"


def check(text: str, *, same_province: bool, section: str) -> Checked:
    """Flag (or drop) the facts of another place in an adapted passage."""
    flags: list[str] = []
    spans: list[tuple[int, int]] = []
    if not same_province:
        for match in CONGRESS_RE.finditer(text):
            spans.append(match.span())
            flags.append("congress")
        projects = list(PROJECT_RE.finditer(text))
        if projects and sum(m.end() - m.start() for m in projects) >= DROP_SHARE * len(text):
            return Checked(None, ["project"])
        if len(PROVINCIAL_DOC_RE.findall(text)) >= 2 and (CONGRESS_RE.search(text) or "Đảng bộ" in text):
            return Checked(None, ["project"])  # a list of another province's resolutions
        for match in projects:
            spans.append(match.span())
            flags.append("project")
    for match in STRENGTH_RE.finditer(text):
        spans.append(match.span())
        flags.append("strength")
    text = _mark(text, spans)
    if section == "objectives" and FIGURE_RE.search(text):
        text = _mark_end(text)
        flags.append("figure")
    return Checked(text, flags)


# --- years -----------------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"(?<![\d/])(?:19|20)\d{2}(?!\d)")
_DOC_NUMBER_RE = re.compile(r"\d+/(?:19|20)\d{2}/[A-ZĐ][\w/-]*")  # 73/2023/NĐ-CP
_DOC_DATE_RE = re.compile(
    r"(?:/[A-ZĐ][\w-]*|-[A-ZĐ][\w/-]*|\])\s*,?\s*(?:ngày\s+)?\d{1,2}\s*/\s*\d{1,2}\s*/\s*(?:19|20)\d{2}"
    r"|(?:/[A-ZĐ][\w-]*|-[A-ZĐ][\w/-]*)\s*,?\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+(?:19|20)\d{2}"
)
_VISION_RE = re.compile(r"tầm nhìn(?: đến)?(?: năm)?\s+(?:19|20)\d{2}", re.IGNORECASE)
_TERM_RE = re.compile(r"nhiệm kỳ\s+(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}", re.IGNORECASE)
_RANGE_RE = re.compile(r"((?:19|20)\d{2})\s*[-–—]\s*((?:19|20)\d{2})")
_HORIZON_RE = re.compile(r"(?:đến|tới)(?: hết| cuối)? năm\s+((?:19|20)\d{2})", re.IGNORECASE)


def stray_years(text: str, start: int, end: int) -> list[int]:
    """Years named outside ``start``–``end`` that do not belong to a document, a covering programme
    period, a term of office, a vision or a horizon beyond the plan."""
    text = _DOC_NUMBER_RE.sub(" ", text)
    text = _DOC_DATE_RE.sub(" ", text)
    text = _VISION_RE.sub(" ", text)
    text = _TERM_RE.sub(" ", text)
    text = _RANGE_RE.sub(lambda m: " " if int(m.group(1)) <= start and int(m.group(2)) >= end else m.group(), text)
    text = _HORIZON_RE.sub(lambda m: " " if int(m.group(1)) >= end else m.group(), text)
    return sorted({int(y) for y in _YEAR_RE.findall(text) if not start <= int(y) <= end})
