"""Adapting a passage of an example plan to the new commune.

Every passage goes through ``Adapter.text``: known typos are corrected (``spelling``), document
numbers and dates of local documents become visible placeholders ``[…]`` (national documents such
as 57-NQ/TW keep theirs, and so do provincial documents when the example is of the same province),
the example's commune and province become the new ones, the plan's years are moved to the new
period (a one-year example in a multi-year plan speaks of the period, not of its first year),
settlements are called what the province calls them (thôn, ấp, bản…), and the sentence is tidied
(no leading numbering, no trailing ellipsis, a final full stop). ``NameGuard`` is the last line of
defence: it finds any commune, province or signer of the corpus left in a text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.drafting.spelling import correct
from core.normalize import fold

PLACEHOLDER = "[…]"
CHECK_MARK = "[cần kiểm tra]"
# Centrally-run cities are "thành phố", every other province is "tỉnh".
_CITIES = {"ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue"}

_TOKEN_RE = re.compile(r"\w+")
_REF_RE = re.compile(
    r"(?<![\w/])(?P<num>\d{1,4}[a-z]?)(?P<year>/\d{4})?\s?(?P<sep>[-/])\s?"
    r"(?P<code>[A-ZĐ][A-Za-zĐđ&]*(?:\s?[-/]\s?[A-ZĐ][A-Za-zĐđ&]*)*)"
    r"(?P<date>,?\s+ngày\s+(?:\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}))?"
)
_NATIONAL_CODE_RE = re.compile(
    r"(?:^|[-/])(?:TW|CP|TTg|QH\d*|CTN|VPCP|BKHCN|BNV|BTTTT|BCT|BTC|BKHĐT|BGDĐT|BYT|BCA|BNNMT|BVHTTDL|BTP)$"
)
_ISSUER_RE = re.compile(r"^\s*(?:,\s*)?(?:ngày[^,;]{0,25}?)?\s*của\s+(?P<issuer>[^,;.]{0,80})")
_PROVINCIAL_RE = re.compile(r"\b(?:tỉnh|Tỉnh|thành phố|Thành phố|Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ)\b")
_DATE_RE = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}\b|\b\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}\b")
_YEAR_RE = re.compile(r"(?<!\d)(?<!\d/)(?:19|20)\d{2}(?![\d/])")  # 'Quý II/2026' counts, '9/2026' does not
_RANGE_RE = re.compile(r"(?<![\d/])((?:19|20)\d{2})\s*[-–—]\s*((?:19|20)\d{2})(?![\d/])")
_SENTINEL_RE = re.compile("\x00(\\d+)\x00")
_ELLIPSIS = r"(?:\.{3,}|(?<!\[)…(?!\]))"
_LEAD_MARK_RE = re.compile(r"^\s*(?:[-+•*–]\s*|(?:[IVX]+|\d+(?:\.\d+)*)\s*[.)\-]\s+|[a-zđ]\)\s*)+")
_APPENDIX_NOTE_RE = re.compile(r"\(\s*(?:chi tiết tại|kèm theo|theo)?\s*(?:phụ lục|Phụ lục|PHỤ LỤC)[^)]*\)")
MAX_PARAGRAPH_CHARS = 700
SETTLEMENTS_FILE = Path(__file__).resolve().parent / "data" / "settlements.json"
# "thôn", "ấp", "thôn, xóm"… as a word of its own ("nông thôn", "thôn/ấp/khu phố" are not settlements)
_SETTLEMENT_RE = re.compile(
    r"(?<![\w/])(?<!nông )(?:thôn,\s*(?:ấp|xóm|bản|buôn|làng|bon)|thôn xóm|thôn|ấp)(?![\w/])(?! ủ| trứng)",
    re.IGNORECASE,
)
# before "năm 2026" in a one-year example: a yearly routine ('dự toán … năm 2026' -> 'hằng năm')
_YEARLY_RE = re.compile(r"dự toán|tính toán|[Cc]hỉ số|kinh phí|hằng năm|hàng năm|[Kk]ế hoạch|[Nn]gày|báo cáo")


def province_kind(province: str | None) -> str:
    return "thành phố" if province and fold(province) in _CITIES else "tỉnh"


@lru_cache(maxsize=1)
def _settlements() -> dict[str, object]:
    return json.loads(SETTLEMENTS_FILE.read_text(encoding="utf-8"))


def settlement_word(province: str | None) -> str:
    """What the province calls a settlement of a commune: 'ấp' in the South, 'thôn, bản' in the
    North-West, 'thôn' elsewhere (and when the province is not known)."""
    table = _settlements()
    provinces = table["provinces"]
    assert isinstance(provinces, dict)
    key = re.sub(r"^(?:thanh pho|tinh|tp\.?)\s+", "", fold(province or "").strip())
    return str(provinces.get(key, table["default"]))


def settle(text: str, word: str) -> str:
    """'các thôn', 'Trưởng các ấp', 'thôn, xóm' -> the province's word."""
    return _SETTLEMENT_RE.sub(lambda m: _match_case(m.group(), word), text)


def _match_case(template: str, text: str) -> str:
    if template.isupper() and any(ch.isalpha() for ch in template):
        return text.upper()
    if template[:1].isupper():
        return text[:1].upper() + text[1:]
    return text


@dataclass(frozen=True)
class _Name:
    words: tuple[str, ...]  # folded
    replacement: str | None  # None: a placeholder
    province: bool = False  # absorb a preceding "tỉnh" / "thành phố" / "TP"


def _replace_names(text: str, names: Iterable[_Name], province_prefix: str = "") -> str:
    """Replace whole-word, capitalized occurrences of ``names`` (matched without diacritics)."""
    ordered = sorted(names, key=lambda n: len(n.words), reverse=True)
    if not ordered:
        return text
    tokens = list(_TOKEN_RE.finditer(text))
    folded = [fold(t.group()) for t in tokens]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(tokens):
        hit = None
        for name in ordered:
            n = len(name.words)
            if tuple(folded[i : i + n]) != name.words:
                continue
            span = tokens[i : i + n]
            if not all(t.group()[:1].isupper() for t in span):
                continue
            if any(text[a.end() : b.start()].strip() for a, b in zip(span, span[1:], strict=False)):
                continue
            hit = name
            break
        if hit is None:
            i += 1
            continue
        n = len(hit.words)
        start, end = tokens[i].start(), tokens[i + n - 1].end()
        written = text[start:end]
        replacement = hit.replacement
        if hit.province:
            # absorb the kind word before the name: "tỉnh An Giang", "thành phố Hải Phòng", "TP. Huế"
            before = text[:start]
            kind = re.search(r"(?:\b(?:tỉnh|Tỉnh|TỈNH|thành phố|Thành phố|THÀNH PHỐ|TP)\.?\s+)$", before)
            if kind and replacement is not None:
                start = kind.start()
                written = text[start:end]
                replacement = _match_case(written, f"{province_prefix} {replacement}".strip())
        out.append(text[pos:start])
        out.append(_match_case(written, replacement) if replacement is not None else PLACEHOLDER)
        pos = end
        i += n
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class NameGuard:
    """Names of the corpus that must not appear in a draft (other communes, provinces, signers)."""

    communes: tuple[str, ...]
    provinces: tuple[str, ...]
    people: tuple[str, ...]

    def _names(self, allowed: Iterable[str]) -> list[_Name]:
        keep = {fold(a) for a in allowed if a}
        return [
            _Name(tuple(fold(n).split()), None)
            for n in (*self.communes, *self.provinces, *self.people)
            if n and fold(n) not in keep and fold(n).split()
        ]

    def leaks(self, text: str, allowed: Iterable[str]) -> list[str]:
        return [" ".join(n.words) for n in self._names(allowed) if _replace_names(text, [n]) != text]

    def scrub(self, text: str, allowed: Iterable[str]) -> str:
        return _replace_names(text, self._names(allowed))


@dataclass
class Adapter:
    """Adapts the passages of one example plan (``source_*``) to the new commune."""

    commune: str
    province: str | None
    guard: NameGuard
    source_years: tuple[int, int] | None = None  # the year or period of the example
    target_years: tuple[int, int] | None = None  # the draft's
    source_commune: str | None = None
    source_province: str | None = None
    settlement: str = "thôn"

    @property
    def year_map(self) -> dict[int, int]:
        """The example's years -> the draft's: first to first, last to last, the others in proportion
        (the stages of a five-year example stay inside a four-year plan)."""
        if not self.source_years or not self.target_years:
            return {}
        (a, b), (s, e) = self.source_years, self.target_years
        if a == b:
            return {a: s}
        return {y: s + int((y - a) * (e - s) / (b - a) + 0.5) for y in range(a, b + 1)}

    @property
    def same_province(self) -> bool:
        return bool(self.province and self.source_province and fold(self.province) == fold(self.source_province))

    # --- public ------------------------------------------------------------------------------

    def text(self, text: str, *, keep_years: bool = False, keep_province_documents: bool = False) -> str:
        """A passage of the example, adapted and tidied as one sentence, bullet or paragraph.

        ``keep_province_documents``: for a basis of the same province, keep every document that is not
        clearly the example commune's own (the basis cites the province's plans and their short names)."""
        protected: list[str] = []
        text = correct(text)
        text = self._documents(text, protected, keep_province_documents)
        text = _DATE_RE.sub(PLACEHOLDER, text)
        if not keep_years:
            text = _RANGE_RE.sub(lambda m: self._range(m, protected), text)
            text = self._years(text)
        text = self.places(text)
        text = _SENTINEL_RE.sub(lambda m: self.places(protected[int(m.group(1))]), text)
        return tidy(settle(text, self.settlement))

    def _years(self, text: str) -> str:
        """The example's years in the new period. A one-year example in a multi-year plan: 'năm 2026'
        is the period ('giai đoạn 2027 – 2030'), or 'hằng năm' for a yearly routine (an estimate, a
        report, an index); a date or quarter falls in the first year. The year before the example's
        own is the previous year ('cao hơn năm 2025' -> 'cao hơn năm trước')."""
        if not self.source_years or not self.target_years:
            return text
        (a, b), (s, e) = self.source_years, self.target_years
        if a == b and s < e:
            period = f"giai đoạn {s} – {e}"
            text = re.sub(rf"\b([Nn])ăm {a}\s+và (?:những|các) năm tiếp theo",
                          lambda m: _match_case(m.group(), period), text)
            text = re.sub(rf"\b([Nn])ăm {a} là năm\b", lambda m: _match_case(m.group(), f"{period} là giai đoạn"),
                          text)
            text = re.sub(rf"\b(đến|tới)(?: hết| cuối)? năm {a}\b", rf"\1 năm {e}", text)

            def year(match: re.Match[str], text: str = text) -> str:
                if _YEARLY_RE.search(text[max(0, match.start() - 45):match.start()]):
                    return _match_case(match.group(), "hằng năm")
                return _match_case(match.group(), f"{match.group(1) or ''}{period}")

            text = re.sub(rf"\b((?:trong|của|cho) )?[Nn]ăm {a}\b(?![/\d])", year, text)
        text = re.sub(rf"\bnăm {a - 1}\b(?![/\d])", "năm trước", text)
        mapping = self.year_map
        return _YEAR_RE.sub(lambda m: str(mapping.get(int(m.group()), m.group())), text)

    def places(self, text: str) -> str:
        """Communes and provinces of the corpus -> the new commune and province (or a placeholder)."""
        province = self.province
        names = [_Name(tuple(fold(c).split()), self.commune) for c in self.guard.communes if fold(c).split()]
        names += [
            _Name(tuple(fold(p).split()), province, province=True) for p in self.guard.provinces if fold(p).split()
        ]
        text = _replace_names(text, names, province_kind(province))
        text = self.guard.scrub(text, [self.commune, province or ""])
        source_kind, new_kind = province_kind(self.source_province), province_kind(province)
        if source_kind != new_kind and self.source_province:
            swaps = {"thành phố": "tỉnh", "Thành phố": "Tỉnh", "Thành ủy": "Tỉnh ủy", "Thành uỷ": "Tỉnh ủy"}
            if source_kind == "tỉnh":
                swaps = {"tỉnh": "thành phố", "Tỉnh ủy": "Thành ủy", "Tỉnh uỷ": "Thành ủy", "Tỉnh": "Thành phố"}
            pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, swaps), key=len, reverse=True)) + r")\b")
            text = pattern.sub(lambda m: swaps[m.group(1)], text)
        return text

    def base(self, text: str) -> str:
        """A legal basis proposed from an example: always marked for checking. A provincial document
        of the same province is kept as written; otherwise its number and date become placeholders
        and its year follows the new plan."""
        body = self.text(text, keep_years=self.same_province, keep_province_documents=self.same_province).rstrip(" .;")
        body = re.sub(r"^(?:Thực hiện|Căn cứ)\s+", "", body)
        return f"Căn cứ {body} {CHECK_MARK};"

    # --- internals ---------------------------------------------------------------------------

    def _range(self, match: re.Match[str], protected: list[str]) -> str:
        """'2026 – 2030': the example's own period becomes the draft's; any other period (a term of
        office, 'giai đoạn 2021 – 2030') is kept as written."""
        years = (int(match.group(1)), int(match.group(2)))
        text = match.group()
        if self.source_years and self.target_years and years == self.source_years and years[0] != years[1]:
            text = f"{self.target_years[0]} – {self.target_years[1]}"
        elif self.source_years and self.source_years[0] <= years[0] < years[1] <= self.source_years[1]:
            mapping = self.year_map  # a stage of the example's period: 'giai đoạn 2027 – 2028'
            first, last = mapping[years[0]], mapping[years[1]]
            text = f"{first} – {last}" if last > first else str(first)
        protected.append(text)
        return f"\x00{len(protected) - 1}\x00"

    def _documents(self, text: str, protected: list[str], lenient: bool = False) -> str:
        """Numbers and dates of local documents -> placeholders; national ones are protected."""

        def repl(match: re.Match[str]) -> str:
            code = re.sub(r"\s", "", match.group("code"))
            if _NATIONAL_CODE_RE.search(code) or self._same_province_document(match, text, lenient):
                protected.append(match.group())
                return f"\x00{len(protected) - 1}\x00"
            date = " ngày " + PLACEHOLDER if match.group("date") else ""
            return f"{PLACEHOLDER}{match.group('sep')}{code}{date}"

        return _REF_RE.sub(repl, text)

    def _same_province_document(self, match: re.Match[str], text: str, lenient: bool) -> bool:
        if not self.same_province:
            return False
        code = re.sub(r"\s", "", match.group("code"))
        if code.endswith("TU"):
            return True
        issuer = _ISSUER_RE.match(text[match.end() :])
        name = f" {issuer.group('issuer')} " if issuer else ""
        communal = "ĐU" in code or " xã " in name or " Xã " in name
        if lenient:
            return not communal
        return bool(_PROVINCIAL_RE.search(name)) and not communal


def tidy(text: str) -> str:
    """One clean sentence/bullet: no numbering, no ellipsis, a capital and a final full stop."""
    text = text.replace("**", "").replace("\t", " ")
    text = _LEAD_MARK_RE.sub("", text, count=1)
    text = _APPENDIX_NOTE_RE.sub("(chi tiết tại Phụ lục kèm theo)", text)
    text = re.sub(r"\b(Phụ lục|phụ lục)\s+(?:[IVX]+|\d+)\b(?:\s*\(kèm theo\))?", r"\1 kèm theo", text)
    text = re.sub(rf"\s*[,;:]?\s*{_ELLIPSIS}+\s*(?=[A-ZĐÀ-Ỹ])", ". ", text)
    text = re.sub(rf"\s*[,;]?\s*{_ELLIPSIS}+", "", text)
    text = re.sub(r"\s+([,;.:)])", r"\1", text)
    text = re.sub(r"\b([A-ZĐ]{1,5})-\s+([A-ZĐ]{1,6})\b", r"\1-\2", text)  # '71/NQ- CP' (a line break in the source)
    text = re.sub(r"([(“])\s+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;-–")
    text = re.sub(r"\.\s*/\s*\.$", ".", text)
    if len(text) > MAX_PARAGRAPH_CHARS:
        cut = [m.end() for m in re.finditer(r"[.;](?=\s+[A-ZĐÀ-Ỹ])", text[:MAX_PARAGRAPH_CHARS])]
        if cut:
            text = text[: cut[-1]]
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    if text.endswith(":"):
        return text
    return text.rstrip(" ;,") + ("" if text.endswith((".", "!", "?")) else ".")
