"""Shapes of a drafting request and of a drafted plan (exporters and the API read these)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.normalize import fold

PLAN_TYPES: dict[str, str] = {
    "pii": "Cải thiện và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương (PII)",
    "nq57": "Triển khai Nghị quyết số 57-NQ/TW của Bộ Chính trị",
    "innovative": "Mô hình “Xã đổi mới sáng tạo”",
}
_TYPE_ALIASES = {
    "pii": "pii", "chi so pii": "pii", "chi so doi moi sang tao": "pii",
    "nq57": "nq57", "nq 57": "nq57", "57": "nq57", "nghi quyet 57": "nq57", "57 nq tw": "nq57",
    "innovative": "innovative", "xa doi moi sang tao": "innovative", "doi moi sang tao": "innovative",
}
ROLES = ("Chủ tịch", "Phó Chủ tịch")
MAX_NAME_CHARS = 200
MAX_BASE_CHARS = 1000
MAX_UNITS = 20
MAX_FOCUS = 10
MAX_BASES = 20
MAX_EXAMPLES = 10
# file names of drafts: ke-hoach-pii-xa-tan-lap-2027.docx
TYPE_SLUGS = {"pii": "pii", "nq57": "nq57", "innovative": "mo-hinh-dmst"}
MIN_YEAR, MAX_YEAR, MAX_SPAN = 2000, 2100, 10


class DraftInputError(ValueError):
    """Invalid drafting input; the message is shown to officers (Vietnamese)."""


def _clean(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _bounded(value: str | None, label: str, limit: int = MAX_NAME_CHARS) -> str:
    text = _clean(value)
    if len(text) > limit:
        raise DraftInputError(f"{label} quá dài ({len(text)} ký tự, tối đa {limit}).")
    return text


def _bounded_list(values: list[str] | None, label: str, limit: int, item_limit: int, warnings: list[str]) -> list[str]:
    items: list[str] = []
    for value in values or []:
        text = _bounded(value, f"Một mục trong danh sách {label}", item_limit)
        if text and fold(text) not in {fold(i) for i in items}:
            items.append(text)
    if len(items) > limit:
        warnings.append(f"Danh sách {label} có {len(items)} mục; chỉ dùng {limit} mục đầu tiên.")
        items = items[:limit]
    return items


def parse_plan_type(value: str | None) -> str:
    key = fold(value or "")
    if key in _TYPE_ALIASES:
        return _TYPE_ALIASES[key]
    choices = "; ".join(f"{k} ({v})" for k, v in PLAN_TYPES.items())
    if not key:
        raise DraftInputError(f"Thiếu loại kế hoạch. Chọn một trong: {choices}.")
    raise DraftInputError(f"Loại kế hoạch không hợp lệ: “{_clean(value)[:50]}”. Chọn một trong: {choices}.")


def parse_period(value: int | str | None, plan_type: str) -> tuple[int, int]:
    """'2027' -> (2027, 2027); '2027-2030' -> (2027, 2030); an innovative model runs to 2030 by default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DraftInputError("Thiếu năm hoặc giai đoạn thực hiện (ví dụ: 2027 hoặc 2027-2030).")
    years = [int(y) for y in re.findall(r"\d{4}", str(value))]
    if not years or len(years) > 2 or re.sub(r"[\d\s\-–—/]|đến|giai đoạn|năm", "", str(value).lower()):
        raise DraftInputError(f"Năm không hợp lệ: “{_clean(str(value))[:50]}” (ví dụ: 2027 hoặc 2027-2030).")
    start, end = years[0], years[-1]
    if not (MIN_YEAR <= start <= MAX_YEAR and MIN_YEAR <= end <= MAX_YEAR) or end < start:
        raise DraftInputError(f"Năm không hợp lệ: {start}–{end}.")
    if end - start > MAX_SPAN:
        raise DraftInputError(f"Giai đoạn quá dài ({end - start} năm, tối đa {MAX_SPAN} năm).")
    if plan_type == "innovative" and start == end:
        end = max(start + 3, 2030) if start < 2030 else start + 4
    return start, end


def parse_role(value: str | None) -> str:
    key = fold(value or "")
    if not key or key in {"chu tich", "ct", "tm uy ban nhan dan chu tich"}:
        return "Chủ tịch"
    if "pho chu tich" in key or key in {"pct", "kt chu tich"}:
        return "Phó Chủ tịch"
    raise DraftInputError(f"Chức vụ người ký không hợp lệ: “{_clean(value)[:50]}”. Chọn “Chủ tịch” hoặc “Phó Chủ tịch”.")


@dataclass
class DraftRequest:
    commune: str
    province: str | None
    plan_type: str
    start_year: int
    end_year: int
    bases: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    signer: str | None = None
    role: str = "Chủ tịch"
    use_llm: bool | None = None  # None: use the LLM when one is configured
    examples: list[str] = field(default_factory=list)  # doc ids (or file names) to draft from; empty: all
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        *,
        commune: str | None,
        province: str | None = None,
        plan_type: str | None = None,
        year: int | str | None = None,
        bases: list[str] | None = None,
        units: list[str] | None = None,
        focus: list[str] | None = None,
        signer: str | None = None,
        role: str | None = None,
        use_llm: bool | None = None,
        examples: list[str] | None = None,
    ) -> DraftRequest:
        """Validate and normalize raw input; raises ``DraftInputError`` with a Vietnamese message."""
        warnings: list[str] = []
        name = _bounded(commune, "Tên xã")
        name = re.sub(r"^(?:xã|xa|XÃ)\s+", "", name, flags=re.IGNORECASE).strip()
        if not name or not any(ch.isalpha() for ch in name):
            raise DraftInputError("Thiếu tên xã: vui lòng nhập tên xã cần soạn kế hoạch (ví dụ: Tân Lập).")
        name = name if any(ch.islower() for ch in name) else name.title()
        place = _bounded(province, "Tên tỉnh/thành phố")
        place = re.sub(r"^(?:tỉnh|tinh|thành phố|thanh pho|tp\.?)\s+", "", place, flags=re.IGNORECASE).strip()
        kind = parse_plan_type(plan_type)
        start, end = parse_period(year, kind)
        return cls(
            commune=name,
            province=place or None,
            plan_type=kind,
            start_year=start,
            end_year=end,
            bases=_bounded_list(bases, "căn cứ", MAX_BASES, MAX_BASE_CHARS, warnings),
            units=_bounded_list(units, "đơn vị", MAX_UNITS, MAX_NAME_CHARS, warnings),
            focus=_bounded_list(focus, "lĩnh vực trọng tâm", MAX_FOCUS, MAX_NAME_CHARS, warnings),
            signer=_bounded(signer, "Tên người ký") or None,
            role=parse_role(role),
            use_llm=use_llm,
            examples=_bounded_list(examples, "kế hoạch mẫu", MAX_EXAMPLES, MAX_NAME_CHARS, warnings),
            warnings=warnings,
        )

    @property
    def period_text(self) -> str:
        if self.start_year == self.end_year:
            return f"năm {self.start_year}"
        return f"giai đoạn {self.start_year} – {self.end_year}"

    def file_name(self, suffix: str) -> str:
        """'ke-hoach-pii-xa-tan-lap-2027.docx', 'ke-hoach-mo-hinh-dmst-xa-tan-lap-2027-2030.docx'."""
        slug = re.sub(r"[^a-z0-9]+", "-", fold(self.commune)).strip("-") or "chua-ro"
        years = str(self.start_year) if self.start_year == self.end_year else f"{self.start_year}-{self.end_year}"
        return f"ke-hoach-{TYPE_SLUGS[self.plan_type]}-xa-{slug}-{years}.{suffix.lstrip('.')}"


BlockKind = Literal["heading", "paragraph", "bullet"]


@dataclass
class Block:
    kind: BlockKind
    text: str


@dataclass
class SourceRef:
    """One example plan a draft drew on. ``ref`` ("M1") is how the draft itself cites it: the draft
    never names another commune, the API's provenance does."""

    ref: str
    doc_id: str
    document: str
    commune: str
    province: str
    plan_type: str
    title: str
    lines: list[tuple[int, int]] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = {"pii": "kế hoạch PII", "nq57": "kế hoạch thực hiện Nghị quyết 57", "innovative": "mô hình xã ĐMST"}
        return f"{self.ref} ({kind.get(self.plan_type, 'kế hoạch')})"


@dataclass
class DraftSection:
    key: str  # purpose | objectives | tasks | budget | organization
    heading: str  # "I. MỤC ĐÍCH, YÊU CẦU"
    blocks: list[Block]
    sources: list[SourceRef] = field(default_factory=list)
    used_llm: bool = False


@dataclass
class AppendixRow:
    stt: str
    task: str
    lead: str = ""  # canonical unit names joined by "; " (names may contain commas)
    partners: str = ""
    deadline: str = ""  # the time, or the target to reach
    group: bool = False  # a group heading row ("I", "Về hạ tầng số")
    ref: str = ""  # the SourceRef.ref it came from
    method: str = ""  # a KPI: how it is computed
    score: str = ""  # a KPI: its maximum points
    lines: tuple[int, int] | None = None  # the example's lines it came from


# The columns of each kind of appendix table: (header, AppendixRow field, width in cm on a landscape page).
APPENDIX_COLUMNS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "tasks": (("STT", "stt", 1.3), ("Nhiệm vụ", "task", 11.0), ("Đơn vị chủ trì", "lead", 4.2),
              ("Đơn vị phối hợp", "partners", 4.7), ("Thời gian hoàn thành", "deadline", 3.5)),
    "indicators": (("STT", "stt", 1.3), ("Chỉ số và nhiệm vụ cụ thể", "task", 11.0), ("Đơn vị chủ trì", "lead", 4.2),
                   ("Đơn vị phối hợp", "partners", 4.7), ("Thời gian thực hiện", "deadline", 3.5)),
    "targets": (("STT", "stt", 1.3), ("Chỉ tiêu", "task", 10.2), ("Đơn vị chủ trì theo dõi, đánh giá", "lead", 4.4),
                ("Đơn vị phối hợp", "partners", 4.4), ("Chỉ tiêu phấn đấu", "deadline", 4.4)),
    "schedule": (("STT", "stt", 1.3), ("Nội dung nhiệm vụ", "task", 11.0), ("Đơn vị chủ trì", "lead", 4.2),
                 ("Đơn vị phối hợp", "partners", 4.7), ("Thời gian", "deadline", 3.5)),
    "kpi": (("STT", "stt", 1.3), ("Chỉ số", "task", 10.4), ("Cách tính", "method", 9.0), ("Điểm tối đa", "score", 4.0)),
}


@dataclass
class Appendix:
    label: str  # "PHỤ LỤC" or "PHỤ LỤC I"
    title: str  # "DANH MỤC NHIỆM VỤ …"
    note: str  # "(Kèm theo Kế hoạch số …)"
    kind: str  # a key of APPENDIX_COLUMNS
    rows: list[AppendixRow] = field(default_factory=list)
    remark: str = ""  # a line under the table (where its figures come from)
    sources: list[SourceRef] = field(default_factory=list)

    @property
    def columns(self) -> tuple[tuple[str, str, float], ...]:
        return APPENDIX_COLUMNS[self.kind]


@dataclass
class LengthReport:
    """The body of the draft against the bodies of the examples of the same type (characters)."""

    body_chars: int
    example_chars: dict[str, int] = field(default_factory=dict)  # doc id -> body characters

    @property
    def examples_mean(self) -> int:
        return round(sum(self.example_chars.values()) / len(self.example_chars)) if self.example_chars else 0

    @property
    def ratio(self) -> float:
        return round(self.body_chars / self.examples_mean, 2) if self.examples_mean else 0.0


@dataclass
class Draft:
    request: DraftRequest
    title: str
    short_title: str
    place_date: str
    number: str
    bases: list[str]
    intro: str
    sections: list[DraftSection]
    closing: str
    recipients: list[str]
    signature_lines: list[str]
    signer: str
    appendices: list[Appendix]
    references: list[SourceRef]
    bases_sources: list[SourceRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    used_llm: bool = False
    length: LengthReport = field(default_factory=lambda: LengthReport(0))

    @property
    def appendix_rows(self) -> list[AppendixRow]:
        """The rows of every appendix table, in order."""
        return [row for appendix in self.appendices for row in appendix.rows]

    @property
    def appendix_sources(self) -> list[SourceRef]:
        return [ref for appendix in self.appendices for ref in appendix.sources]

    @property
    def commune(self) -> str:
        return self.request.commune

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
