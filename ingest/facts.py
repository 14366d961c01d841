"""Facts a plan states in prose: cited documents, the closing block (recipients, signer), goals with a
value, reporting obligations, funding, roadmap stages, grading bands; and the structure of its tables.

Each extractor reads the plan's lines (tables excluded) and returns ``ProseFact`` items with the line
range that proves them; ``ingest.records`` turns them into ``Record`` facts. Rules are about the
genre (how Vietnamese administrative plans are written), never about a particular plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.model import FactKind, SourceLine, UnitRef
from core.normalize import fold
from ingest.duties import Paragraph
from ingest.units import leading_units


@dataclass
class ProseFact:
    kind: FactKind
    first: int  # indices into the document's lines
    last: int
    subject: str
    leads: list[UnitRef] = field(default_factory=list)
    deadline: str | None = None
    year: int | None = None
    targets: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)
    group_path: list[str] = field(default_factory=list)


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(" ;,")


# --- cited documents -------------------------------------------------------------------------------

_DOC_TYPES = (
    "Chương trình hành động", "Kế hoạch hành động", "Nghị quyết liên tịch", "Nghị quyết", "Kế hoạch",
    "Chương trình", "Quyết định", "Nghị định", "Thông tư", "Chỉ thị", "Kết luận", "Công văn", "Đề án",
    "Hướng dẫn", "Thông báo", "Luật",
)
_TYPE_RE = "|".join(re.escape(t) for t in _DOC_TYPES)
# '57-NQ/TW', '68/KH-UBND', '179/2024/NĐ-CP', '03-KH/BCĐ', '04/2025/NQ-CP'
_NUMBER = r"\d{1,4}(?:/\d{4})?(?:-[A-ZĐ][\wĐđ&.]*)?/[A-ZĐ][\wĐđ&.\-]*[\wĐđ]"
_DATE = r"\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{4}|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}"
_NEXT_REFERENCE = rf"(?:{_TYPE_RE})\s+(?:số\s+)?\d"
_REFERENCE_RE = re.compile(
    rf"(?P<type>{_TYPE_RE})\s+(?:số\s+)?(?P<number>{_NUMBER})"
    rf"(?:\s*,?\s*(?:ngày|,)\s*(?P<date>{_DATE}))?"
    rf"(?:\s+(?:của|do)\s+(?P<issuer>(?:(?!{_NEXT_REFERENCE}|\s+và\s+các\b)[^,;.()“\"])*?))?"
    r"(?=\s+(?:về|về việc|triển khai|thực hiện|sửa đổi|quy định|ban hành|hướng dẫn|phê duyệt|tiếp tục|và)\b"
    r"|\s*[,;.:()“\"]|\s*$)"
    rf"(?P<about>\s+(?:về việc|về|triển khai|thực hiện|sửa đổi|quy định|phê duyệt|tiếp tục)\b"
    rf"(?:(?!{_NEXT_REFERENCE})[^;])*)?",
)
_BASIS_START_RE = re.compile(r"^(Căn cứ|Thực hiện)\b")
# a subject cut short by the document it is about ('KH 132 về việc Triển khai thực hiện | Nghị quyết 71 …'): it goes
# on over that document, to the end of the clause
_DANGLING_ABOUT_RE = re.compile(r"\b(?:thực hiện|triển khai|sửa đổi|bổ sung|cập nhật|về việc|về|tiếp tục|ban hành)\s*$",
                                re.IGNORECASE)
_NEXT_REFERENCE_RE = re.compile(rf"\s*(?:{_NEXT_REFERENCE})")
_CLAUSE_END_RE = re.compile(r";|\.\s+(?=[A-ZĐÀ-Ỹ])|\.\s*$")
# 'các Nghị quyết: số 09-NQ/TU ngày …; số 05-NQ/TU …': one type word for a list of numbers
_LIST_HEAD_RE = re.compile(rf"(?P<type>{_TYPE_RE})\s*:\s*")
_LISTED_NUMBER_RE = re.compile(rf"(?<![\w/])số\s+(?={_NUMBER})")


def _mentions(text: str) -> list[tuple[int, re.Match[str]]]:
    """Each cited document in a paragraph: (offset of its match in ``text``, match), the ones listed under
    a single type word read as if the type were written before each number."""
    found = [(0, m) for m in _REFERENCE_RE.finditer(text)]
    for head in _LIST_HEAD_RE.finditer(text):
        for listed in _LISTED_NUMBER_RE.finditer(text, head.end()):
            if any(m.start() <= listed.start() < m.end() for _, m in found if m.group("number")):
                continue
            prefix = f"{head.group('type')} "
            match = _REFERENCE_RE.match(prefix + text[listed.start():])
            if match:
                found.append((listed.start() - len(prefix), match))
    return found


def _date_text(raw: str | None) -> str:
    if not raw:
        return ""
    match = re.match(r"(\d{1,2})\s*[/-]\s*(\d{1,2})\s*[/-]\s*(\d{4})", raw)
    if match:  # the digits as the plan writes them ('12/02/2026'), only the separators made one
        return f"{match.group(1)}/{match.group(2)}/{match.group(3)}"
    match = re.match(r"(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", raw)
    return f"{match.group(1)}/{match.group(2)}/{match.group(3)}" if match else raw


def _about(text: str | None) -> str:
    about = _tidy(text or "")
    about = re.split(r"\.\s+(?=[A-ZĐÀ-Ỹ])|\s+\((?:gọi tắt|sau đây)", about)[0]
    return about[:240].rsplit(" ", 1)[0] + "…" if len(about) > 240 else about


def _whole_about(match: re.Match[str], rest: str) -> str | None:
    """The subject of a mention, over the documents it names when it stops on one ('về việc Triển khai thực
    hiện' + 'Nghị quyết số 71/NQ-CP … và Chương trình hành động số 02-CTr/TU …')."""
    about = match.group("about")
    if about is None or not _DANGLING_ABOUT_RE.search(about) or not _NEXT_REFERENCE_RE.match(rest):
        return about
    return about + _CLAUSE_END_RE.split(rest, maxsplit=1)[0]


def references(paragraphs: list[Paragraph], first_section: int) -> list[ProseFact]:
    """Every document the plan cites, once per number (the mention with most detail wins); the ones in
    the bases before the first section are marked ``cited_as = basis``."""
    found: dict[str, ProseFact] = {}
    for para in paragraphs:
        basis_paragraph = para.first < first_section and bool(_BASIS_START_RE.match(para.text))
        previous_end = None
        for offset, match in sorted(_mentions(para.text), key=lambda om: om[0] + om[1].start()):
            # a basis paragraph cites its first document and each one after a ';' ('Căn cứ A …; B …'), not the
            # ones named inside another's subject ('KH 92 về việc sửa đổi Kế hoạch thực hiện Nghị quyết 71')
            start = offset + match.start()
            in_bases = basis_paragraph and (previous_end is None or ";" in para.text[previous_end:start])
            previous_end = offset + match.end("number")
            number = re.sub(r"\s+", "", match.group("number"))
            attrs = {
                "doc_type": match.group("type"),
                "number": number,
                "date": _date_text(match.group("date")),
                "issuer": _tidy(match.group("issuer") or ""),
                "about": _about(_whole_about(match, para.text[offset + match.end():])),
                "cited_as": "basis" if in_bases else "body",
            }
            line = para.line_at(max(0, offset + match.start()))
            end_line = para.line_at(offset + match.end() - 1)
            subject = _tidy(match.group(0))
            fact = ProseFact(FactKind.REFERENCE, line, end_line, subject, attrs=attrs)
            key = re.sub(r"[\W_]+", "", fold(number))
            known = found.get(key)
            if known is None:
                found[key] = fact
                continue
            detail = sum(bool(v) for k, v in attrs.items() if k != "cited_as")
            known_detail = sum(bool(v) for k, v in known.attrs.items() if k != "cited_as")
            basis = known.attrs["cited_as"] == "basis" or in_bases
            if detail > known_detail:
                found[key] = fact
            found[key].attrs["cited_as"] = "basis" if basis else "body"
    return list(found.values())


# --- closing block: recipients and signer -----------------------------------------------------------

_RECIPIENTS_RE = re.compile(r"^\W*Nơi nhận\s*:?", re.IGNORECASE)
_ROLE_LINE_RE = re.compile(
    r"^\W*(?:(?P<mode>TM|KT|Q|TL|TUQ)\.?\s*)?(?P<role>ỦY BAN NHÂN DÂN|UBND|PHÓ CHỦ TỊCH|CHỦ TỊCH|CHÁNH VĂN PHÒNG)"
    r"(?:\s+(?:XÃ|UBND XÃ)\b.*)?\W*$"
)
_PERSON_RE = re.compile(r"^(?:[A-ZĐÀ-Ỹ][^\W\d_]*\s+){1,4}[A-ZĐÀ-Ỹ][^\W\d_]*$")
_MODE_LABELS = {"TM": "TM. (thay mặt)", "KT": "KT. (ký thay)", "Q": "Q. (quyền)", "TL": "TL. (thừa lệnh)",
                "TUQ": "TUQ. (thừa ủy quyền)"}
_ROLE_LABELS = {"ỦY BAN NHÂN DÂN": "Ủy ban nhân dân", "UBND": "Ủy ban nhân dân", "PHÓ CHỦ TỊCH": "Phó Chủ tịch",
                "CHỦ TỊCH": "Chủ tịch", "CHÁNH VĂN PHÒNG": "Chánh Văn phòng"}


@dataclass
class Closing:
    recipients: list[ProseFact]
    signer: ProseFact | None


_JOINED_ITEM_RE = re.compile(r"\s+(?=[-+•]\s)")
_JOINED_ROLE_RE = re.compile(
    r"\s+(?=\b(?:TM|KT|Q|TL|TUQ)\.\s*(?:ỦY BAN|UBND|CHỦ TỊCH)|\bPHÓ CHỦ TỊCH\b|(?<!PHÓ )(?<!\. )\bCHỦ TỊCH\b)"
)


def _split_cell(text: str) -> list[str]:
    """A cell whose lines were joined (a Word table cell): 'Nơi nhận: - A; - B' -> its lines; 'TM. ỦY BAN
    NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Võ Thị B' -> role lines and the name."""
    parts: list[str] = []
    for piece in _JOINED_ITEM_RE.split(text):
        roles = [p.strip() for p in _JOINED_ROLE_RE.split(piece) if p.strip()]
        if len(roles) > 1 or (roles and _ROLE_LINE_RE.match(roles[0]) is None and _JOINED_ROLE_RE.search(piece)):
            last = roles[-1]
            role = re.match(r"^((?:(?:TM|KT|Q|TL|TUQ)\.\s*)?(?:ỦY BAN NHÂN DÂN|UBND|PHÓ CHỦ TỊCH|CHỦ TỊCH))\s+(.+)$", last)
            if role and _PERSON_RE.match(role.group(2).strip()):
                roles[-1:] = [role.group(1), role.group(2).strip()]
            parts.extend(roles)
        else:
            parts.append(piece.strip())
    return [p for p in parts if p]


def _cells(lines: list[SourceLine], start: int, stop: int) -> list[tuple[int, str]]:
    """The lines of a closing block as (line index, text); a line of a two-column table (recipients on
    the left, the signature on the right) gives its left cells first, then its right cells."""
    left: list[tuple[int, str]] = []
    right: list[tuple[int, str]] = []
    for i in range(start, stop):
        text = lines[i].text.replace("*", "").strip()
        raw = lines[i].raw.replace("*", "").strip()
        if "\t" not in text and re.search(r"\S\s{3,}\S", raw):  # two columns of a PDF page, kept apart by spaces
            text = re.sub(r"\s{3,}", "\t", raw)
        if "\t" in text:
            cells = [c.strip() for c in text.split("\t")]
            left.extend((i, part) for part in _split_cell(cells[0]))
            right.extend((i, part) for c in cells[1:] if c for part in _split_cell(c))
        elif text:
            left.extend((i, part) for part in _split_cell(text))
    return left + right


def closing(lines: list[SourceLine]) -> Closing:
    start = next((i for i, line in enumerate(lines)
                  if _RECIPIENTS_RE.match(line.text.replace("*", "").split("\t")[0])), None)
    if start is None:
        return Closing([], None)
    stop = min(len(lines), start + 45)
    for i in range(start + 1, stop):
        if fold(lines[i].text).startswith("phu luc"):
            stop = i
            break
    recipients: list[ProseFact] = []
    modes: list[str] = []
    role: str | None = None
    role_lines: list[int] = []
    signer: ProseFact | None = None
    items = _cells(lines, max(0, start - 12), stop)
    for i, text in items:
        if i < start and not _ROLE_LINE_RE.match(text):
            continue  # before 'Nơi nhận' only a signature counts (two columns read right to left)
        head = _RECIPIENTS_RE.match(text)
        if head:
            text = text[head.end() :].strip()
            if not text:
                continue
        role_match = _ROLE_LINE_RE.match(text)
        if role_match:
            if role_match.group("mode"):
                modes.append(f"{role_match.group('mode')}. {_ROLE_LABELS[role_match.group('role')]}")
            else:
                role = _ROLE_LABELS[role_match.group("role")]
            role_lines.append(i)
            continue
        if text.startswith(("-", "+", "•")) and i >= start and not role_lines:
            name = _tidy(text.lstrip("-+• ").rstrip("./"))
            if name:
                recipients.append(ProseFact(FactKind.RECIPIENT, i, i, name))
            continue
        if role_lines and _PERSON_RE.match(text) and signer is None:
            # 'KT. CHỦ TỊCH / PHÓ CHỦ TỊCH': the signer is a Vice-Chairman signing for the Chairman
            signer_role = role or (modes[-1].split(". ", 1)[1] if modes else "")
            attrs = {"role": signer_role, "mode": "; ".join(modes)}
            first = min(role_lines)
            signer = ProseFact(FactKind.SIGNER, first, i, text, attrs=attrs)
    return Closing(recipients, signer)


# --- goals with a value, reporting obligations, funding ----------------------------------------------

_VALUE_RE = re.compile(
    r"(?:(?:đạt|trên|dưới|tối thiểu|ít nhất|khoảng|từ|tăng|giảm|phấn đấu)\s+)?(?:≥|≤|>|<)?\s*"
    r"(?<![\d/.,])\d{1,3}(?:[.,]\d+)?\s*%"
    r"|(?:(?:ít nhất|tối thiểu|có|đạt|trên|từ|xây dựng)\s+|^)(?<![\d/.,])0?\d{1,3}\s+(?:“|\")?"
    r"(?:mô hình|sản phẩm|sáng kiến|chỉ tiêu|tổ|hoạt động|doanh nghiệp|hợp tác xã|HTX|hộ|lớp|cuộc|bài báo|ứng dụng"
    r"|điểm|ấp|thôn|trường|câu lạc bộ|đề tài|giải pháp|lượt)\b",
    re.IGNORECASE,
)
_YEAR_IN_RE = re.compile(r"(?:năm|đến|cuối)\s+(?:năm\s+)?(20\d\d)")
_REPORT_RE = re.compile(r"\bbáo cáo\b", re.IGNORECASE)
# 'nếu có khó khăn, vướng mắc, (kịp thời) báo cáo / phản ánh về / trình UBND xã (qua Phòng …)': where problems go
_ESCALATION_RE = re.compile(r"(?:khó khăn|vướng mắc)[^.;]*?\b(?:báo\s+cáo|phản ánh|trình)\b", re.IGNORECASE)
_FREQUENCY_RE = re.compile(
    r"định kỳ[^,;.]*?(?=,|;|\.|\s+về\b|\s+gửi\b|$)|hằng tháng|hàng tháng|hằng quý|hàng quý|6 tháng|sáu tháng"
    r"|hằng năm|hàng năm|đột xuất|hằng tuần|hàng tuần",
    re.IGNORECASE,
)
_REPORT_DEADLINE_RE = re.compile(
    r"(?:báo cáo\s+(?P<what>[^,;.]{0,40}?)\s+)?(?P<due>trước ngày\s+\d{1,2}(?:\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?)?"
    r"(?:\s+(?:hằng|hàng)\s+tháng|\s+tháng cuối\s+[Qq]uý)?)",
    re.IGNORECASE,
)
_REPORT_TO_RE = re.compile(
    r"(?:gửi|về|báo cáo|trình)\s+(?P<to>(?:Ủy ban nhân dân|UBND|Phòng|Văn phòng|Sở|Ban)[^,;.]*?(?:\([^)]*\))?)"
    r"(?=\s+(?:để|tổng hợp|trước|theo|kết quả|tình hình|tiến độ|định kỳ|hằng|hàng)\b|[,;.(]|$)"
)


def _clauses(para: Paragraph) -> Iterable[tuple[int, int, str]]:
    """(start, end, text) of the paragraph's clauses: split at ';' and at sentence ends."""
    start = 0
    for match in re.finditer(r";|\.(?=\s+(?:[A-ZĐÀ-Ỹ-]|[a-zđ]\)\s))|\.$", para.text):  # '…. b) Đến hết năm 2027:'
        yield start, match.start(), para.text[start : match.start()]
        start = match.end()
    if start < len(para.text):
        yield start, len(para.text), para.text[start:]


def goals(paragraphs: list[Paragraph], plan_year: int | None, skip_before: int) -> list[ProseFact]:
    """Clauses that state a value to reach ('Tỷ lệ … đạt trên 70%', 'ít nhất 01 mô hình …'). Each value takes
    the year written before it in the clause ('năm 2026 đạt 48%'), else the plan's year."""
    out: list[ProseFact] = []
    for para in paragraphs:
        if para.first < skip_before or _REFERENCE_RE.match(para.text.lstrip("-+• ")):
            continue
        for start, end, clause in _clauses(para):
            text = _tidy(clause.lstrip("-+• "))
            values = list(_VALUE_RE.finditer(text))
            if not values or len(text) < 15 or _REPORT_RE.search(text) and "%" not in values[0].group(0):
                continue
            targets: dict[str, str] = {}
            lead_in = _lead_in_year(para.text[:start])  # 'a) Trong năm 2026: …; …' holds for every clause after it
            for match in values:
                years = list(_YEAR_IN_RE.finditer(text[: match.start()]))
                year = int(years[-1].group(1)) if years else lead_in or plan_year
                targets.setdefault(str(year) if year else "", _tidy(match.group(0)))
            first = next(iter(targets))
            out.append(ProseFact(
                FactKind.TARGET, para.line_at(start), para.line_at(max(start, end - 1)), text[:400],
                year=int(first) if first else None, targets=targets,
                attrs={"source": "prose", "value": targets[first]},
            ))
    return out


def _lead_in_year(before: str) -> int | None:
    """The year of the last lead-in before a clause ('a) Trong năm 2026:'), if a colon closes one."""
    if ":" not in before:
        return None
    years = list(_YEAR_IN_RE.finditer(before[: before.rindex(":")]))
    return int(years[-1].group(1)) if years else None


def reports(paragraphs: list[Paragraph], leads_of: dict[int, list[UnitRef]]) -> list[ProseFact]:
    """Reporting obligations: who reports what, to whom, how often and by when."""
    out: list[ProseFact] = []
    for para in paragraphs:
        for start, end, clause in _clauses(para):
            text = _tidy(clause.lstrip("-+• "))
            escalation = _ESCALATION_RE.search(text)
            if not _REPORT_RE.search(text) and not escalation:
                continue
            frequencies = [_tidy(m.group(0)) for m in _FREQUENCY_RE.finditer(text)]
            deadlines = [m for m in _REPORT_DEADLINE_RE.finditer(text)]
            if not frequencies and not deadlines and not escalation:
                continue
            attrs: dict[str, str] = {}
            if frequencies:
                attrs["frequency"] = ", ".join(dict.fromkeys(frequencies))
            elif escalation:
                attrs["frequency"] = "khi có khó khăn, vướng mắc"
            if deadlines:
                attrs["deadlines"] = "; ".join(
                    _tidy(f"{m.group('what') or ''} {m.group('due')}") for m in deadlines
                )
            if to := _REPORT_TO_RE.search(text):
                attrs["to"] = _tidy(to.group("to"))
            first = para.line_at(start)
            units, _ = leading_units(text)
            leads = units or leads_of.get(para.first, [])
            deadline = _tidy(deadlines[0].group("due")) if deadlines else attrs.get("frequency")
            out.append(ProseFact(FactKind.REPORT, first, para.line_at(max(start, end - 1)), text[:500],
                                 leads=leads, deadline=deadline, attrs=attrs))
    return out


def budget(paragraphs: list[Paragraph], sections: list[tuple[str, ...]]) -> list[ProseFact]:
    """Funding: every paragraph of a 'KINH PHÍ' section."""
    out = []
    for para in paragraphs:
        path = sections[para.first]
        if any("kinh phi" in fold(label) for label in path):
            if "kinh phi" in fold(para.text) and len(para.text) < 60:
                continue  # the section's heading ('IV. KINH PHÍ THỰC HIỆN'); an item that is a heading stays
            out.append(ProseFact(FactKind.BUDGET, para.first, para.last, _tidy(para.text.lstrip("-+• "))[:1200]))
    return out


# --- roadmap stages and grading bands -------------------------------------------------------------------

_STAGE_RE = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(?P<period>(?:Năm|Giai đoạn)\s+20\d\d(?:\s*[-–]\s*20\d\d)?)\s*"
    r"\((?P<name>[^)]*giai đoạn[^)]*)\)\s*:?$",
    re.IGNORECASE,
)
_BAND_RE = re.compile(
    r"^(?P<band>(?:[≥>≤<]\s*)?\d{1,3}(?:\s*[-–]\s*(?:dưới\s+)?\d{1,3})?\s*điểm)\s*:\s*(?P<grade>[^\d].{1,40})$"
)
_TOTAL_RE = re.compile(r"^Tổng điểm\s*:\s*(?P<value>\d{1,4}\s*điểm)(?P<rest>.*)$", re.IGNORECASE)


def stages(lines: list[SourceLine]) -> list[ProseFact]:
    """'2.1. Năm 2026 (giai đoạn khởi động, thí điểm)' and the bullets under it."""
    out: list[ProseFact] = []
    for i, line in enumerate(lines):
        match = _STAGE_RE.match(line.text.strip())
        if not match:
            continue
        items: list[str] = []
        last = i
        for j in range(i + 1, min(len(lines), i + 40)):
            text = lines[j].text.strip()
            if not text:
                continue
            if not text.startswith(("-", "+", "•")) or "\t" in text:
                break
            items.append(_tidy(text.lstrip("-+• ")))
            last = j
        years = re.findall(r"20\d\d", match.group("period"))
        attrs = {"period": _tidy(match.group("period")), "name": _tidy(match.group("name")),
                 "years": "-".join(years), "items": " | ".join(items)}
        out.append(ProseFact(FactKind.STAGE, i, last, _tidy(line.text), year=int(years[0]), attrs=attrs))
    return out


def scoring(lines: list[SourceLine]) -> list[ProseFact]:
    out: list[ProseFact] = []
    for i, line in enumerate(lines):
        text = line.text.replace("*", "").strip()
        if match := _BAND_RE.match(text):
            grade = _tidy(match.group("grade"))
            out.append(ProseFact(FactKind.SCORING, i, i, f"Xếp loại {grade}",
                                 targets={"": _tidy(match.group("band"))}, attrs={"grade": grade}))
        elif match := _TOTAL_RE.match(text):
            out.append(ProseFact(FactKind.SCORING, i, i, _tidy(text), targets={"": _tidy(match.group("value"))},
                                 attrs={"total": _tidy(match.group("value"))}))
    return out
