"""Question understanding: what is asked, about which commune, year, quarter and unit.

Rules work on the diacritic-folded question, so they hold for questions typed without
diacritics. Nothing here names a commune, a unit or a gold question: communes come from the
index, units from the alias table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.normalize import fold
from ingest.units import unit_matches

# What is asked. Order matters: the first intent whose cue is present wins.
_METADATA_CUES = {
    "number": ("so hieu", "mang so", "so ky hieu", "so van ban"),
    "date": ("ban hanh ngay", "ngay ban hanh", "ban hanh vao ngay", "ky ngay", "ban hanh khi nao"),
    "signer": ("ai ky", "nguoi ky", "ky ban hanh", "do ai ky", "chuc danh"),
    "province": ("thuoc tinh nao", "tinh nao", "thuoc thanh pho nao", "thanh pho nao", "tinh hay thanh pho"),
    "period": ("giai doan nao", "trong giai doan", "thoi ky nao"),
    "bases": ("can cu", "thuc hien ke hoach nao", "van ban nao", "nghi quyet nao", "quyet dinh nao",
              "ke hoach nao cua", "trien khai nghi quyet"),
}
_PARTNER_CUES = ("phoi hop", "dong chu tri", "cung tham gia")
_LEAD_CUES = ("chu tri", "don vi nao", "co quan nao", "phong nao", "ai theo doi", "do ai", "ai chiu trach nhiem",
              "giao cho", "ai phu trach", "don vi phu trach", "theo doi danh gia", "ai thuc hien", "giao don vi",
              "duoc giao", "ai chu tri", "don vi theo doi", "co quan theo doi", "don vi chu tri")
_DEADLINE_CUES = ("khi nao", "thoi gian nao", "thoi han", "quy may", "truoc ngay", "bao gio", "luc nao",
                  "thoi diem nao", "thoi gian hoan thanh", "nam nao")
_TARGET_CUES = ("bao nhieu", "muc tieu", "chi tieu", "dat bao nhieu", "phan tram", "trong so", "ty le",
                "ti le", "dat muc")
_RATE_CUES = ("ty le", "ti le", "chi tieu", "chi so", "phan tram")
_LIST_CUES = ("nhung", "cac chi so nao", "cac don vi nao", "nguon nao", "liet ke", "nhung gi")
_DUTY_CUES = ("nhiem vu gi", "trach nhiem gi", "lam gi", "duoc giao nhung", "nhung nhiem vu", "duoc yeu cau",
              "can trien khai", "co nhiem vu", "giao nhiem vu gi")
# 'phân công cho những cơ quan, đơn vị nào': the answer is a list of units
_UNITS_ASKED_RE = re.compile(r"\b(?:nhung|cac)\s+(?:co quan|don vi)(?:\s+[a-z]+){0,3}\s+nao\b")
_COUNT_RE = re.compile(r"\b(?:bao nhieu|may)\s+(chi tieu|chi so|nhiem vu|noi dung|tieu chi|nhom|don vi)\b")
_COMPARE_CUES = ("so sanh", "xa nao", "lan luot", "khac nhau")
_QUARTER_RE = re.compile(r"\bquy\s+(iv|iii|ii|i|4|3|2|1)\b")
_YEAR_RE = re.compile(r"\b(20\d\d)\b")
_QUARTERS = {"1": "I", "2": "II", "3": "III", "4": "IV", "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
_COMMUNE_MENTION_RE = re.compile(r"\b(?:xa|phuong|thi tran)\s+((?:[a-z]+\s?){1,3})")

# Words that carry no subject: question words, intent cues, administrative fillers.
STOPWORDS = set(
    ["la", "gi", "nao", "ai", "bao", "nhieu", "the", "nao", "khi", "nao", "nhu", "the", "cua", "va", "cac", "nhung", "o", "tai", "trong", "cho", "voi", "ve", "de", "duoc", "co", "khong", "hay", "hoac", "do", "la", "thi", "sao", "con", "vay", "xa", "phuong", "ke", "hoach", "kh", "nam", "theo", "giao", "don", "vi", "co", "quan", "chu", "tri", "phoi", "hop", "nhiem", "vu", "gi", "duoc", "giao", "dat", "muc", "tieu", "ty", "ti", "le", "phan", "tram", "tren", "dia", "ban", "ubnd", "thuc", "hien", "trien", "khai", "quy", "dinh", "hoi", "ra", "sao", "nay", "moi", "vao", "thoi", "gian", "dien", "luc", "bao", "gio", "han", "nhung", "lay", "tu", "theo", "doi", "danh", "gia", "tieu", "ai", "sanh", "lan", "luot", "nhac"]
)


@dataclass
class Question:
    text: str
    folded: str
    intent: str  # lead | partner | deadline | target | metadata | duty | list | compare | content
    metadata_field: str | None = None
    communes: list[str] = field(default_factory=list)  # communes of the index named in the question
    unknown_commune: str | None = None  # a commune named in the question that the index lacks
    years: list[int] = field(default_factory=list)
    quarter: str | None = None
    units: list[str] = field(default_factory=list)  # canonical units named in the question
    wants_units: bool = False  # the answer is a list of units
    row_numbers: list[str] = field(default_factory=list)  # table rows named in the question: '15.3'
    counted: str | None = None  # 'chi tieu' in 'có bao nhiêu chỉ tiêu'

    @property
    def counted_label(self) -> str:
        labels = {"chi tieu": "chỉ tiêu", "chi so": "chỉ số", "nhiem vu": "nhiệm vụ", "noi dung": "nội dung",
                  "tieu chi": "tiêu chí", "nhom": "nhóm", "don vi": "đơn vị"}
        return labels.get(self.counted or "", "mục")

    @property
    def content_words(self) -> list[str]:
        place_words = {w for commune in self.communes for w in fold(commune).split()}
        return [w for w in self.folded.split() if w not in STOPWORDS and w not in place_words]


def _has(folded: str, cues: tuple[str, ...]) -> bool:
    padded = f" {folded} "
    return any(f" {cue} " in padded for cue in cues)


def find_communes(folded: str, communes: list[str]) -> list[str]:
    found = []
    padded = f" {folded} "
    for commune in sorted(communes, key=len, reverse=True):
        if f" {fold(commune)} " in padded and commune not in found:
            found.append(commune)
    return sorted(found, key=lambda c: padded.index(f" {fold(c)} "))


def analyze(text: str, communes: list[str]) -> Question:
    folded = fold(text)
    question = Question(text=text, folded=folded, intent="content")
    question.communes = find_communes(folded, communes)
    known = {fold(c) for c in communes}
    for match in _COMMUNE_MENTION_RE.finditer(folded):
        words = match.group(1).split()
        if not any(" ".join(words[:n]) in known for n in range(1, len(words) + 1)):
            # 'xa Tan Lap' names a commune we do not have, unless it is a common word ('xa hoi')
            candidate = " ".join(words[:2])
            if (
                len(words) >= 2
                and words[0] not in STOPWORDS
                and words[0] not in {"hoi", "so", "doi"}
                and not question.communes
                and re.search(rf"\b(?:xa|phuong)\s+{re.escape(candidate)}\b", folded)
            ):
                    original = re.search(r"(?i)\b(?:xã|xa|phường|phuong)\s+(\S+\s+\S+)", text)
                    question.unknown_commune = original.group(1).strip(" ?.,") if original else candidate
    # a period ('giai đoạn 2026–2030') names no single year
    question.years = [int(y) for y in _YEAR_RE.findall(re.sub(r"\b20\d\d\s+20\d\d\b", " ", folded))]
    if quarter := _QUARTER_RE.search(folded):
        question.quarter = _QUARTERS[quarter.group(1)]
    question.units = unit_matches(text)
    question.row_numbers = re.findall(r"(?<![\d/])\d{1,2}(?:\.\d{1,2})+(?![\d/])", text) + re.findall(
        r"(?i)\b(?:chỉ tiêu|chỉ số|nhiệm vụ|dòng|STT|TT)\s+(?:số\s+)?(\d{1,2})\b", text
    )
    question.wants_units = bool(_UNITS_ASKED_RE.search(folded)) and not _has(folded, _PARTNER_CUES + ("chu tri",))

    asks_items = _has(folded, ("nao", "gi")) and _has(folded, ("nhung", "cac"))
    if len(question.communes) >= 2 or _has(folded, _COMPARE_CUES) or folded.startswith("xa nao"):
        question.intent = "compare"
    elif re.search(r"(?<!trong )\bso bao nhieu\b", folded) and _has(folded, ("ke hoach",)):
        question.intent, question.metadata_field = "metadata", "number"
    else:
        for name, cues in _METADATA_CUES.items():
            if _has(folded, cues):
                question.intent, question.metadata_field = "metadata", name
                break
    if question.intent == "content" and (count := _COUNT_RE.search(folded)):
        question.intent, question.counted = "count", count.group(1)
    if question.intent == "content":
        if question.units and _has(folded, _DUTY_CUES):
            question.intent = "duty"
        elif question.wants_units or (question.units and asks_items and not _has(folded, _DEADLINE_CUES)) or (
            _has(folded, _LIST_CUES) and asks_items and not _has(folded, _PARTNER_CUES + _LEAD_CUES)
        ):
            question.intent = "list"
        elif _has(folded, _PARTNER_CUES) and _has(folded, ("ai", "nao", "nhung")):
            question.intent = "partner"
        elif _has(folded, _DUTY_CUES):
            question.intent = "duty"
        elif _has(folded, _DEADLINE_CUES) and not _has(folded, ("bao nhieu",)):
            question.intent = "deadline"
        elif _has(folded, _LEAD_CUES):
            question.intent = "lead"
        elif _has(folded, _TARGET_CUES) and (
            _has(folded, ("bao nhieu", "muc nao")) or question.years and _has(folded, _RATE_CUES)
        ):
            question.intent = "target"
    return question
