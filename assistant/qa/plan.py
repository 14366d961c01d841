"""A question becomes one typed ``QuestionPlan``, parsed once per turn.

The plan says what is asked (``slots``, or a ``field`` of the plan document), about what (the
``subject`` words), under which filters (communes, provinces, plan number or type, years,
quarter, units, rows, group, appendix) and over which ``scope`` (one plan, several, all). What is
asked comes from the declarative rules in ``question_rules.toml`` (each with its examples), with a
small classifier trained on labelled questions as the fallback when no rule fires. Nothing here
names a commune, a unit or a gold question: communes and provinces come from the index, units from
the alias table.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path

from core.model import FactKind
from core.normalize import abbreviations, fold, strip_diacritics, words
from ingest.units import find_units, unit_mentions

RULES_PATH = Path(__file__).with_name("question_rules.toml")


class Slot(StrEnum):
    LEAD = "lead"  # which unit leads / is responsible / monitors
    PARTNER = "partner"  # which units coordinate
    DEADLINE = "deadline"  # when, by when
    VALUE = "value"  # a target value, a score, a figure
    COUNT = "count"  # how many (with the list counted)
    DUTIES = "duties"  # what a named unit must do
    UNITS = "units"  # which units (a list of units)
    ITEMS = "items"  # which items (indicators, tasks, stages, sources …)
    FIELD = "field"  # a field of the plan document itself
    TEXT = "text"  # explain, describe


FACT_SLOTS = frozenset({Slot.LEAD, Slot.PARTNER, Slot.DEADLINE, Slot.VALUE})


class DocField(StrEnum):
    NUMBER = "number"
    DATE = "date"
    SIGNER = "signer"
    SIGNER_ROLE = "signer_role"
    SIGN_MODE = "sign_mode"
    PROVINCE = "province"
    PERIOD = "period"
    TITLE = "title"
    PLAN_TYPE = "plan_type"
    BASES = "bases"
    RECIPIENTS = "recipients"
    ISSUER = "issuer"


class Scope(StrEnum):
    ONE = "one"  # one plan (a commune named, or the best matching plan)
    SEVERAL = "several"  # the plans named (several communes, a province, a plan type)
    ALL = "all"  # every plan ("xã nào …", "bao nhiêu xã …")


# --- the rule table -----------------------------------------------------------------------------------------


_WORD_RE = re.compile(r"[a-z0-9]+")
_REGEX_ESCAPE_RE = re.compile(r"\\[a-zA-Z]|\{[\d,]*\}")


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    slots: tuple[Slot, ...] = ()
    field: DocField | None = None
    scope: Scope | None = None
    strong: bool = True
    requires_unit: bool = False
    unless: re.Pattern[str] | None = None
    heading: str | None = None  # the words of the plan's heading whose section answers the question ('kinh phi')
    focus: re.Pattern[str] | None = None  # the items of that section that answer it ('định kỳ 6 tháng')
    examples: tuple[str, ...] = ()
    counter: tuple[str, ...] = ()

    def fires(self, folded: str, has_unit: bool) -> list[tuple[int, int]]:
        """The spans of the rule's matches in ``folded``, clause by clause (clauses are separated by ' | ';
        commas stay inside a clause as ' , ' tokens that a pattern may or may not cross); a clause that matches
        ``unless`` vetoes the rule there."""
        if self.requires_unit and not has_unit:
            return []
        spans: list[tuple[int, int]] = []
        offset = 0
        for clause in folded.split(" | "):
            if not (self.unless is not None and self.unless.search(clause)):
                for m in self.pattern.finditer(clause):  # the cue's own words, not the gaps it allows ('.{0,30}')
                    start = offset + m.start()
                    spans += [(start + w.start(), start + w.end()) for w in _WORD_RE.finditer(m.group())
                              if w.group() in self.vocabulary] or [(start, offset + m.end())]
            offset += len(clause) + 3
        return spans

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """The words the pattern spells out (its cue words)."""
        return frozenset(_WORD_RE.findall(_REGEX_ESCAPE_RE.sub(" ", self.pattern.pattern)))


def _rule(data: dict) -> Rule:
    return Rule(
        id=data["id"],
        pattern=re.compile(data["pattern"]),
        slots=tuple(Slot(s) for s in data.get("slots", [])),
        field=DocField(data["field"]) if "field" in data else None,
        scope=Scope(data["scope"]) if "scope" in data else None,
        strong=data.get("strong", True),
        requires_unit=data.get("requires_unit", False),
        unless=re.compile(data["unless"]) if data.get("unless") else None,
        heading=data.get("heading"),
        focus=re.compile(data["focus"], re.IGNORECASE) if data.get("focus") else None,
        examples=tuple(data.get("examples", [])),
        counter=tuple(data.get("counter", [])),
    )


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    data = tomllib.loads(RULES_PATH.read_text(encoding="utf-8"))
    return tuple(_rule(r) for r in [*data.get("rule", []), *data.get("scope", [])])


# --- the plan ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionPlan:
    text: str
    folded: str
    slots: tuple[Slot, ...]
    fields: tuple[DocField, ...] = ()  # fields of the plan document asked, in order
    scope: Scope = Scope.ONE
    communes: tuple[str, ...] = ()
    unknown_commune: str | None = None
    unknown_province: str | None = None  # 'tỉnh Nghệ An' when no plan of the store is in that province
    provinces: tuple[str, ...] = ()
    plan_number: str | None = None  # the plan's own number ("128") when the question names it
    plan_type: str | None = None  # pii | nq57 | innovative
    years: tuple[int, ...] = ()
    quarter: str | None = None
    units: tuple[str, ...] = ()  # canonical units named as doers (or filters)
    unlisted_units: tuple[str, ...] = ()  # units named with a capital that no table knows ('Phòng Tài chính - Kế hoạch')
    recipients: tuple[str, ...] = ()  # units named as those reported to ("gửi Phòng …", "về UBND xã")
    rows: tuple[str, ...] = ()  # row numbers named ("15", "15.3")
    group: str | None = None  # "nhom 2", a pillar's words …
    appendix: str | None = None  # "1", "2", "I", "II"
    section: str | None = None  # a heading's number named ("mục 5.2", "phần IV", "mục III.2")
    heading: str | None = None  # words of the heading whose section answers it (from the rule that fired)
    focus: re.Pattern[str] | None = None  # the items of that section that answer it (from the same rule)
    kinds: tuple[FactKind, ...] = ()  # fact kinds the question's words point to
    numbers: tuple[str, ...] = ()  # document numbers named ("68/KH-UBND", "57-NQ/TW", "128")
    subject: tuple[str, ...] = ()  # folded content words: what the question is about
    context: tuple[str, ...] = ()  # words of cues, boilerplate and units: they count, a little
    phrase: tuple[str, ...] = ()  # the question's words in order, function words left out (for phrases)
    periods: tuple[tuple[int, int], ...] = ()  # "2027-2028"
    value_kind: str | None = None  # percent | money | count | score: what kind of figure a value question wants
    counted: str | None = None  # what a count question counts ("chi tieu", "xa" …)
    elliptical: bool = False  # depends on the previous turn ("Còn xã X thì sao?")
    same_subject: bool = False  # a follow-up about the very item of the previous answer ('Đơn vị phối hợp là ai?')
    fired: tuple[str, ...] = ()  # ids of the rules that fired (for "explain")

    def asks(self, slot: Slot) -> bool:
        return slot in self.slots

    @property
    def field(self) -> DocField | None:
        return self.fields[0] if self.fields else None

    @property
    def fact_slots(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s in FACT_SLOTS)

    def explain(self) -> dict[str, object]:
        return {
            "slots": [s.value for s in self.slots], "fields": [f.value for f in self.fields],
            "scope": self.scope.value, "communes": list(self.communes), "provinces": list(self.provinces),
            "plan_number": self.plan_number, "plan_type": self.plan_type, "years": list(self.years),
            "quarter": self.quarter, "units": list(self.units), "recipients": list(self.recipients), "rows": list(self.rows), "group": self.group,
            "appendix": self.appendix, "section": self.section, "kinds": [k.value for k in self.kinds], "numbers": list(self.numbers),
            "subject": " ".join(self.subject), "context": " ".join(self.context), "phrase": " ".join(self.phrase), "elliptical": self.elliptical, "rules": list(self.fired),
        }


@dataclass(frozen=True)
class CorpusTerms:
    """What the parser needs to know of the index: the names of its places and plans."""

    communes: tuple[str, ...]
    provinces: tuple[str, ...]
    plan_numbers: tuple[str, ...]  # the digits of every plan's own number ("128")
    titles: tuple[str, ...] = ()  # the plans' titles, folded (a quoted plan name identifies, it is no subject)
    units: tuple[tuple[str, str], ...] = ()  # (folded name, canonical) of every unit the plans name


# --- words ------------------------------------------------------------------------------------------------------

_FOCAL_UNIT = r"(?<!phan )dau moi"  # 'đầu mối' (the focal unit), not 'phấn đấu mỗi', folded alike
# Phrases and words that carry no subject: administrative boilerplate, interrogatives, fillers of chat.
# Single syllables are only pure function words: a content syllable ("số", "ký", "cơ") must survive,
# since the folded forms of different words meet ("có"/"cơ", "ký"/"kỳ").
_STOP_PHRASES = re.compile(
    r"\b(?:ke hoach|uy ban nhan dan|ubnd|don vi|co quan|chu tri|phoi hop|nhiem vu|chi tieu|chi so thanh phan|chi so|muc tieu|ty le|"
    r"ti le|theo doi|danh gia|duoc giao|phu trach|" + _FOCAL_UNIT + r"|thuc hien|trien khai|tren dia ban|dia ban|cho hoi|"
    r"han chot|han cuoi|han(?= (?:khi|nao|la|bao|ngay|thang)\b)|ke ca|dong chu tri|keo dai|trong tam|tat ca|toan bo|tong cong|tong so|"
    r"xin hoi|vui long|muon biet|cho biet|phu luc|noi dung|cu the|nhu the nao|ra sao|bao nhieu|la gi|the nao|"
    r"co phai|hay khong|duoc khong|phan tram|thoi gian|thoi han|ban hanh|o dau|trong do|lien quan|"
    r"so hieu|tham muu|giao cho|(?:bang )?phan cong|tru cot|tieu chi|phan dau|dat ra|ky vong|du kien|dat chi tieu|dat muc tieu|"
    r"(?:co )?(?:nhac|noi(?! dung)|de cap)(?: (?:toi|den))?|lam theo|co the|chu yeu|(?:cao|thap|nhieu|it|lon|nho) hon|so sanh|lan luot|tuong ung|"
    r"de nang(?: cao)?(?: diem)?(?: chi so)?(?: pii| dmst| doi moi sang tao)?|gop phan|"  # 'làm gì để nâng PII': the plan's aim
    r"nang(?: cao)?(?: diem)?(?: chi so)? (?:pii|dmst|doi moi sang tao)|"  # '(góp phần) nâng chỉ số ĐMST' too
    r"giao(?= (?:lam|nhung|cac|viec|gi|noi dung|nhiem vu)\b)|moi nam|(?:giong|khac|trung|bang|nhu) nhau|(?:ca )?hai xa|co cung (?:mot|1)|co (?:giong|khac)(?= (?:khong|ko|k)\b)|(?:giong|khac)(?= ,? ?(?:khac|giong|cho|diem|o) )|"
    r"(?:o |tai )?(?:cho|diem) nao|chenh(?: lech)?(?: nhau)?|ntn|tom tat|tom luoc|giai thich(?: giup| cho| ro)?|neu (?:ngan gon|ro|cu the)|liet ke|dua tren|"
    r"(?:trong )?(?:bo|cac|nhung) tai lieu(?: da nap)?|da nap|giai doan(?= \d{4})|tiep tuc|de ra|"
    r"lam(?= (?:nhung |cac )?(?:viec|gi)\b)|(?:gan (?:lien )?voi|ung voi|doi voi)(?= (?:cac |nhung )?(?:chi so|chi tieu|tieu chi|nhiem vu|nhom|tru cot)\b))\b"
    # 'giống, khác nhau chỗ nào', 'chênh nhau ntn'; 'giao làm những gì' asks duties, 'giao thông' stays;
    # 'trong bộ tài liệu', 'giai đoạn 2026-2030', 'tiếp tục', 'đề ra', 'làm (những) việc gì', 'gắn với (chỉ số X)':
    # no subject ('gắn với tổ nào' asks the relation: kept)
)
# Function words, as written with diacritics; a word typed without diacritics is a function word only when
# its folded form can be nothing else.
_STOP_WRITTEN = set(
    ["là", "gì", "nào", "ai", "của", "và", "các", "những", "ở", "tại", "trong", "cho", "với", "về", "để", "được", "không", "hay", "hoặc", "thì", "sao", "vậy", "thế", "này", "mà", "ơi", "à", "nhé", "nha", "hả", "ừ", "rồi", "chưa", "đã", "sẽ", "đang", "bị", "phải", "cần", "nên", "xã", "phường", "đó", "ấy", "kia", "mình", "em", "anh", "chị", "bạn", "lo", "giúp", "xem", "hỏi", "biết", "đâu", "nhỉ", "do", "có", "hãy", "vụ", "mảng", "bên", "việc", "cái", "mấy", "ạ", "vầy", "mỗi", "từng", "phần", "xong", "rơi", "tận", "chiếm", "mốc", "còn", "vào", "lúc", "chứ", "nữa", "luôn", "đây", "ta", "thôi", "hở", "dzậy", "zậy", "dzị", "hen", "nghen", "nè", "hông", "hổng", "dạ", "cùng", "theo", "muốn", "nói", "kh", "đặt", "giữa", "gồm", "chỉ", "ghi", "thuộc", "đc", "dc", "k", "ko", "tt", "đến", "lên"]
)
_STOP_FOLDED = set(
    ["la", "gi", "nao", "ai", "cua", "va", "cac", "nhung", "o", "cho", "voi", "ve", "duoc", "khong", "hoac", "sao", "oi", "a", "nhe", "roi", "chua", "xa", "phuong", "kh", "bn", "ak", "nhi", "giup", "xem", "biet", "muon", "giua", "dc", "ko", "tt", "moc", "dzay", "zay", "nghen"]
)
SYNONYMS_PATH = Path(__file__).with_name("synonyms.json")


@lru_cache(maxsize=1)
def _set_phrases_re() -> re.Pattern[str] | None:
    """The domain's set phrases (synonyms.json) and abbreviations of several words ('KH&CN') that hold a
    function word ('không dùng tiền mặt'; 'kh' alone is chat for 'không'): inside one, the word is content."""
    groups = json.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))["groups"]
    function_words = _STOP_FOLDED | {fold(w) for w in _STOP_WRITTEN}
    phrases = {fold(p) for group in groups for p in group} | set(abbreviations())
    kept = sorted((p for p in phrases if len(p.split()) > 1 and function_words & set(p.split())), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, kept)) + r")\b") if kept else None


# Syllables that make one word with 'vụ' ('Bình dân học vụ số', 'dịch vụ', 'nhiệm vụ'): there it is no filler
_BEFORE_VU = frozenset(["hoc", "dich", "phuc", "nhiem", "nghia", "thoi", "nghiep", "chuc", "tac", "su", "an"])
# Words after 'co' typed without diacritics that make it the verb 'có' ('co bao nhieu', 'co tong cong'), not 'cơ'
_AFTER_CO = frozenset(["bao", "tong", "may", "nhung", "cac", "phai", "gui", "ghi", "duoc", "nhac", "de", "noi",
                       "khong", "ko", "mot", "hai", "ba", "bon", "nam", "dat", "dua", "giao", "neu", "chi"])
# 'năm 2030', 'quý III', 'tháng 5': the time word goes with its number (a filter, not the subject)
_TIME_WORDS = {"nam", "quy", "thang", "ngay"}
# Question words: never matched against the plans' text.
_INTERROGATIVES = {"bao", "nhieu", "may", "nao", "gi", "ai", "khi", "dau", "sao", "bn", "nhiu"}
# Words that name a kind of fact: hints, not subject.
_KIND_WORDS: tuple[tuple[str, tuple[FactKind, ...]], ...] = (
    ("chi tieu", (FactKind.TARGET,)),
    ("muc tieu", (FactKind.TARGET,)),
    ("chi so", (FactKind.INDICATOR, FactKind.KPI, FactKind.TARGET)),
    ("tieu chi", (FactKind.KPI,)),
    ("kpi", (FactKind.KPI, FactKind.SCORING)),
    ("xep loai", (FactKind.SCORING,)),
    ("nhiem vu", (FactKind.TASK, FactKind.DUTY, FactKind.SCHEDULE, FactKind.INDICATOR)),
    ("tien do", (FactKind.SCHEDULE,)),
    ("lo trinh", (FactKind.STAGE, FactKind.SCHEDULE)),
    ("giai doan", (FactKind.STAGE,)),
    ("bao cao", (FactKind.REPORT,)),
    ("kinh phi", (FactKind.BUDGET,)),
    ("nguon von", (FactKind.BUDGET,)),
)
_GENERIC = {"bang", "nhom"}

_YEAR_RE = re.compile(r"\b(20\d\d)\b")
_PERIOD_RE = re.compile(r"\b(20\d\d)\s+(20\d\d)\b")
_QUARTER_RE = re.compile(r"\bquy\s+(iv|iii|ii|i|4|3|2|1)\b")
_QUARTERS = {"1": "I", "2": "II", "3": "III", "4": "IV", "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
# Words that name units in general, not one unit: in a question they ask for units ('các đơn vị nào').
_GENERIC_UNITS_RE = re.compile(r"(?:cac |nhung )?(?:co quan|don vi|ben)(?:,? (?:co quan|don vi|ben))*(?: lien quan)?")
_GENERIC_UNITS_IN_TEXT_RE = re.compile(r"\b(?:cac |nhung )?(?:co quan|don vi)(?:,? (?:co quan|don vi))*(?: lien quan)?\b")
_OF_BEFORE_RE = re.compile(r"\bcua\W*$")  # a unit right after 'của'
_ASKED_RE = re.compile(r"^\W*(?:(?!(?:ngay|thang|nam|quy|luc|khi)\b)\w+\W+){0,3}(?:nao|ai|gom)\b")  # not 'hạn trước ngày nào'
_DOTTED_ROW_RE = re.compile(r"(?<![\d/.])(\d{1,2}\.(?!0\b)\d{1,2})(?![\d/])")  # '15.3', not 'Chợ 4.0'
_LEVEL_RE = re.compile(r"\bmức\b", re.IGNORECASE)
_ROW_RE = re.compile(r"(?<![\d/.])(\d{1,2}\.(?!0\b)\d{1,2})(?![\d/])|\b(?<!nhom )(?:chi tieu|chi so|nhiem vu|tieu chi|(?<!hanh )dong|stt|tt|muc|(?<!ngan )hang|giai doan|buoc|dot)"
                     r"\s+(?:so\s+|thu\s+)?(\d{1,2})\b(?!\s*(?:/|%|nam|thang|ngay))")
# A unit's name as an officer writes it: a head word, then a capitalized name ('Phòng Tài chính - Kế hoạch');
# the name ends before the first word that is no part of a name.
_NAMED_UNIT_RE = re.compile(
    r"\b(?:Phòng|Ban|Trung tâm|Trạm|Trường|Hội|Đội|Tổ|Văn phòng|Chi cục|Công ty|Đài|Bộ phận)"
    r"((?:\s*[-–&]?\s*[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ]\w*(?:\s+\w+){0,4}){1,3})"
)
_UNIT_NAME_END = frozenset(
    ["xa", "duoc", "co", "o", "tai", "cua", "chu", "phu", "lam", "giao", "lo", "thi", "la", "trong", "theo", "phoi", "nhung", "nao", "gi", "da", "se", "can", "phai", "thuc", "tham", "va", "voi", "tren", "ai", "ben", "nhiem", "ve", "cho", "hay", "hoac", "dang", "so", "ngay", "ban", "ky", "ra", "ma", "nhac", "duoc"]
)
# 'nhóm 2', 'nhóm tiêu chí số 2', 'nhóm chỉ tiêu thứ 6' (not 'cả 5 nhóm': a count of groups)
_GROUP_RE = re.compile(r"\b(?:nhom|tru cot)(?: (?:chi tieu|tieu chi|chi so|nhiem vu))?\s+(?:so\s+|thu\s+)?(\d{1,2}|[ivx]{1,4})\b")
_PARTS_COUNTED_RE = re.compile(r"\b(?:(?:cong )?(?:ca|tat ca|toan bo) )?\d{1,2} (?:nhom|tru cot|phu luc)\b")  # 'cộng cả 5 nhóm'
_APPENDIX_RE = re.compile(r"\bphu luc\s+(\d|[ivx]{1,4})\b")
# 'mục 5.2', 'phần IV', 'tiểu mục III.2': a heading's number (read on the text, whose dots folding drops)
_SECTION_RE = re.compile(r"\b(?:muc|phan|khoan)\s+((?:[ivx]{1,4}|\d{1,2})(?:\.\d{1,2}){0,2})(?!\w|\.\d)")
_DOC_NUMBER_RE = re.compile(
    r"(?<![\w/])(\d{1,4}(?:/\d{4})?(?:-[A-ZĐa-zđ][\wĐđ&.]*)?/[A-ZĐa-zđ][\wĐđ&.\-]*[\wĐđ])"
    r"|\b(?:(?:ke hoach|kh|nghi quyet|nq|chuong trinh|ctr|quyet dinh|qd|nghi dinh|so)\s+|(?:kh|nq|ctr|qd)(?=\d))"
    r"(?:so\s+)?(?!(?:19|20)\d\d\b)(\d{1,4})\b(?![\d/%.,])"  # 'kế hoạch 2027' is a year
)
_GLUED_NUMBER_RE = re.compile(r"(?:kh|nq|ctr|qd)\d{1,4}")
_COUNT_RE = re.compile(
    r"\b(?:bao nhieu|bao nhiu|bn|may|tong so|tong cong|so luong)\s+(?:cac\s+|ban\s+)?(chi tieu|chi so|nhiem vu|nhom|tieu chi|"
    r"tru cot|giai doan|xa|don vi|ke hoach|noi dung|linh vuc|muc|van ban|hang muc|dong|phu luc|nguon|co quan|phong|"
    r"can cu)\b"
)
_PLAN_TYPES = (
    ("innovative", re.compile(r"\b(?:mo hinh (?:xa )?(?:dmst|doi moi sang tao)|mo hinh xa|xa doi moi sang tao|xa dmst"
                              r"|(?:ke hoach|kh) (?:dmst|doi moi sang tao)(?= \||$| cua| o| tai| nam| giai| ,))\b")),
    ("nq57", re.compile(r"\b(?:(?:nq\s*57|nghi quyet(?: so)? 57|57 nq)(?: nq)?(?: tw)?|(?:kh|ke hoach)(?: so)? 57)\b")),
    ("pii", re.compile(r"\b(?:pii|chi so doi moi sang tao|chi so dmst)\b")),
)
# 'xã' inside these words is not a commune
_NOT_COMMUNE_AFTER = re.compile(r"\b(?:hop tac|xa hoi|lien xa|xa doan|cap xa|toan xa|cac xa|moi xa|xa nao"
                                r"|xa (?:dmst|doi moi sang tao|nong thon moi|ntm|so))\b")  # 'xã ĐMST' is a plan type
_COMMUNE_MENTION_RE = re.compile(r"(?<![\w])(?:xã|xa|phường|phuong)\s+((?:[A-ZĐÀ-Ỹa-zđà-ỹ]\w*\s?){1,3})", re.IGNORECASE)
_NOT_NAME_WORDS = set(
    ["hoi", "nao", "do", "nay", "minh", "ban", "kia", "khac", "doan", "nha", "co", "da", "duoc", "giao", "ta", "nhe", "the", "thi", "khong", "ve", "tren", "trong", "cua", "va", "cac", "chung", "tu", "de", "lam", "la", "dang", "se", "con", "vay", "oi", "a"]
)
# Cue words that also name what is asked about: 'đơn vị đầu mối' is the plan's focal unit.
_CUE_CONTENT_RE = re.compile(rf"\b(?:{_FOCAL_UNIT}|thuong truc)\b")
_EXPLICIT_LEAD_RE = re.compile(rf"\b(?:chu tri|phu trach|{_FOCAL_UNIT}|dam nhiem)\b")
# Words that make a question elliptical: it continues the previous turn.
_FOLLOW_UP_RE = re.compile(r"^(?:con|the con|vay con|thi|the|vay|con lai|con ve)\b")
# The frame of a follow-up ('còn … thì sao'), typed with or without diacritics: never the subject.
_FOLLOW_UP_FRAME_RE = re.compile(r"^(?:the con|vay con|con lai|con ve|con)\b|\b(?:thi sao|thi the nao|the nao|ra sao)\W*$")
_ANAPHORA_RE = re.compile(
    r"\b(?:ke hoach|kh|phong|don vi|co quan|chi tieu|chi so|nhiem vu|nam|quy|ong|ba|nguoi|van ban|xa|giai doan|"
    r"ban|to|bo phan)\s+(?:do|nay|ay|tren|kia|vua roi|vua noi|noi tren)\b|\b(?:ong ay|ba ay|nguoi do|nguoi nay)\b"
)


_VALUE_KINDS = (
    ("money", re.compile(r"\b(?:bao nhieu|may) (?:ty|trieu|nghin|dong|tien)\b|\bkinh phi (?:la )?bao nhieu\b")),
    ("percent", re.compile(r"\b(?:phan tram|bao nhieu %|may %)")),
    ("score", re.compile(r"\b(?:bao nhieu|may) diem\b|\btrong so\b|\bdiem toi da\b")),
)


def _value_kind(plain: str) -> str | None:
    return next((kind for kind, pattern in _VALUE_KINDS if pattern.search(plain)), None)


def _has_capitals(text: str) -> bool:
    return any(ch.isupper() for ch in text)


def _unlisted_units(text: str, terms: CorpusTerms) -> tuple[str, ...]:
    """Units the question names with a head word and a capitalized name that neither the alias table nor any
    plan's table knows ('Phòng Tài chính - Kế hoạch'): a plan that never mentions one has nothing on it."""
    known_spans = [(u.start, u.end) for u in find_units(text)]
    known_names = {key for key, _ in terms.units}
    found: list[str] = []
    for match in _NAMED_UNIT_RE.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in known_spans):
            continue
        words = match.group(1).split()
        kept: list[str] = []
        for word in words:
            if word not in ("-", "–", "&") and not word[:1].isupper() and (
                    fold(word) in _UNIT_NAME_END or fold(word) in _TIME_WORDS or not fold(word) or word.isdigit()):
                break  # 'Tổ ĐMST năm 2027' names 'Tổ ĐMST'
            kept.append(word)
        while kept and kept[-1] in "-–&":
            kept.pop()
        name = (text[match.start() : match.start(1)] + " " + " ".join(kept)).strip()
        if kept and fold(name) not in known_names:
            found.append(" ".join(name.split()))
    return tuple(found)


def _unknown_commune(text: str, folded: str, known: set[str]) -> str | None:
    """'xã Tân Lập' in a question, when the index has no such commune; None for 'xã hội', 'hợp tác xã'."""
    for match in _COMMUNE_MENTION_RE.finditer(text):
        before = fold(text[max(0, match.start() - 12) : match.end()])
        if _NOT_COMMUNE_AFTER.search(before):
            continue
        words = match.group(1).split()
        folded_words = [fold(w) for w in words]
        if any(" ".join(folded_words[:n]) in known for n in range(1, len(words) + 1)):
            continue
        name: list[str] = []
        for word, key in zip(words, folded_words, strict=True):
            if key in _NOT_NAME_WORDS or key in _STOP_FOLDED and not word[:1].isupper():
                break
            if _has_capitals(text) and not word[:1].isupper():
                break
            name.append(word)
            if len(name) == 3:
                break
        if len(name) >= 2 or (len(name) == 1 and name[0][:1].isupper() and len(name[0]) > 2):
            return " ".join(name).strip(" ?.,")
    return None


# 'tỉnh Nghệ An', 'thành phố Cần Thơ': a province named with capitals ('Tỉnh ủy', 'UBND tỉnh' name none)
_PROVINCE_MENTION_RE = re.compile(r"(?<![\w])(?:[Tt]ỉnh|[Tt]inh|[Tt]hành phố|[Tt]hanh pho|TP\.?)\s+((?:[A-ZĐÀ-Ỹ]\w*\s?){1,3})")


def _unknown_province(text: str, known: set[str]) -> str | None:
    """The province a question names with capitals when the store has no plan in it ('tỉnh Nghệ An')."""
    for match in _PROVINCE_MENTION_RE.finditer(text):
        name = match.group(1).strip()
        if name.isupper():  # 'TỈNH HÀ TĨNH' pasted from a letterhead
            continue
        key = fold(name)
        if not any(key.startswith(k) or k.startswith(key) for k in known):
            return name
    return None


def find_communes(folded: str, communes: tuple[str, ...] | list[str]) -> list[str]:
    padded = f" {folded} "
    found = [c for c in sorted(communes, key=len, reverse=True) if f" {fold(c)} " in padded]
    return sorted(found, key=lambda c: padded.index(f" {fold(c)} "))


_CAPITALS_RE = re.compile(r"(?<![\w/&-])[A-ZĐ]{2,4}(?![\w/&-])")


@lru_cache(maxsize=8)
def _communes_by_initials(communes: tuple[str, ...]) -> dict[str, str]:
    """Initials in capitals -> commune, for initials that are one commune's only and no known abbreviation
    ('PA' -> 'Phước An'; 'HĐ', both Hà Đông and Hòa Điền, is left out)."""
    by_initials: dict[str, list[str]] = {}
    for name in communes:
        initials = "".join(w[0] for w in name.split()).upper()
        if len(initials) >= 2:
            by_initials.setdefault(initials, []).append(name)
    known = abbreviations()
    return {k: names[0] for k, names in by_initials.items() if len(names) == 1 and fold(k) not in known}


# Abbreviations officers write in capitals whose folded form is a common word ('CA xã' is 'Công an xã'; 'cả xã' is
# the whole commune): spelled out only as written, in capitals, before the level they belong to.
_CAPITAL_ABBREVIATIONS = {"CA": "Công an"}
_CAPITAL_ABBREVIATION_RE = re.compile(
    r"\b(" + "|".join(_CAPITAL_ABBREVIATIONS) + r")(?=\s+(?:xã|xa|tỉnh|tinh|huyện|huyen)\b)")
_APPENDIX_ABBREVIATION_RE = re.compile(r"\bPL\s*(?=(?:\d{1,2}|[IVX]{1,4})\b)", re.IGNORECASE)  # 'PL II', 'pl2'


def _with_capitals_spelled_out(text: str) -> str:
    text = _APPENDIX_ABBREVIATION_RE.sub("Phụ lục ", text)
    return _CAPITAL_ABBREVIATION_RE.sub(lambda m: _CAPITAL_ABBREVIATIONS[m.group(1)], text)


def _with_communes_spelled_out(text: str, communes: tuple[str, ...]) -> str:
    """'PA: …', 'của PA và VQ': a commune's initials written in capitals stand for its name ('Phước An')."""
    spelled = _communes_by_initials(communes)
    return _CAPITALS_RE.sub(lambda m: spelled.get(m.group(0), m.group(0)), text) if spelled else text


def _tokens(text: str, folded: str) -> list[tuple[str, str, tuple[int, int]]]:
    """(as written in lowercase, folded, span in ``folded``) of every word of the question."""
    folded_tokens = [(m.group(0), m.span()) for m in re.finditer(r"[^\s|,]+", folded)]
    written = words(text)
    if len(written) != len(folded_tokens):
        written = [t for t, _ in folded_tokens]
    return [(w, f, span) for w, (f, span) in zip(written, folded_tokens, strict=True)]


GLOSS_MIN_WORDS = 3  # a parenthesis of this many words glosses what precedes it ('(người dân dùng ví điện tử, …)')


def _glossed(text: str, count: int) -> list[bool]:
    """For each of the question's ``count`` words, whether it is inside a parenthesis of several words: an
    explanation of the subject, which counts a little (a short one names it: '(VNeID)', '(mục I.3)')."""
    marks: list[bool] = []
    at = 0
    for m in re.finditer(r"\(([^()]*)\)", text):
        before, inner = text[at : m.start()], m.group(1)
        marks += [False] * len(words(before))
        marks += [len(words(inner)) >= GLOSS_MIN_WORDS] * len(words(inner))
        at = m.end()
    marks += [False] * len(words(text[at:]))
    return marks if len(marks) == count else [False] * count


def _covered(tokens: list[tuple[str, str, tuple[int, int]]], spans: list[tuple[int, int]]) -> list[bool]:
    return [any(s < end and start < e for s, e in spans) for _, _, (start, end) in tokens]


# --- parsing ----------------------------------------------------------------------------------------------------


_CLAUSE_SPLIT_RE = re.compile(r"[;?!:]+|\.(?=\s|$)|\s[-–]\s")
_NEGATION_RE = re.compile(r"\b(?:chu khong phai|khong phai la|khong phai|ngoai tru|ngoai)\b")
# What ends a negated phrase: 'ngoài ngân sách, …', 'ngoài Phòng Kinh tế thì/còn …', the clause's end.
_NEGATION_END_RE = re.compile(r" , | \| | (?:thi|con) ")


def _negation_end(folded: str, start: int) -> int:
    end = _NEGATION_END_RE.search(folded, start)
    return end.start() if end else len(folded)


_RECIPIENT_BEFORE_RE = re.compile(
    r"\b(?:gui|(?:nop|chuyen|tong hop|bao cao) ve|qua|(?<!giao )(?<!phan cong )cho|toi|len|den|bao cao)\s*"
    r"(?:cho\s+|toi\s+|ve\s+)?$"
    r"|\b(?:gui|nop|chuyen)\s+(?:\w+\s+){1,3}(?:ve|cho|toi|len|den)\s*$")  # 'giao cho Công an xã' names a doer;
# 'gửi kế hoạch về Sở KH&CN' names a recipient
# Words before a unit that make it a place or an object, not a doer: 'ở các ấp', 'tỷ lệ doanh nghiệp …'.
_PLACE_BEFORE_RE = re.compile(r"\b(?:o|tai|tren dia ban|den tung|den cac|den|ty le|ti le|so luong|so|ho tro|thu hut|nguoi dan(?: ,| va)?)\s*$")
_TOPIC_CLAUSE_RE = re.compile(r"^\W*(?:về|ve|đối với|doi voi|liên quan(?: đến| tới)?|lien quan(?: den| toi)?)\b[^,:;]*[,:;]\s*$",
                              re.IGNORECASE)
_LISTED_BEFORE_RE = re.compile(r"\b(?:danh sach|liet ke)(?: \w+){0,2}\s*$")
_PARTNER_BEFORE_RE = re.compile(r"\bphoi hop (?:chat che )?(?:voi\s+)?$")
_QUOTED_RE = re.compile(r"[“\"«]([^”\"»]{6,})[”\"»]")


# 'kí', 'tỉ lệ', 'quí', 'lí do': the older spelling of the syllables the rules write with y ('ky', 'ty le', 'quy')
_I_SPELLING_RE = re.compile(r"\b(qu|[tkmlsh])i\b")


def fold_clauses(text: str) -> str:
    """The folded question with its clauses kept apart by ' | ' and its commas as ' , ' tokens (syllables
    spelled with a final i as with y, the same length)."""
    clauses = []
    for clause in _CLAUSE_SPLIT_RE.split(text):
        parts = [_I_SPELLING_RE.sub(r"\1y", fold(part)) for part in clause.split(",")]
        folded = " , ".join(part for part in parts if part)
        if folded:
            clauses.append(folded)
    return " | ".join(clauses)


# 'Em ở Phòng Kinh tế xã Hà Đông, cho em hỏi …': who asks, not what is asked
_SPEAKER_RE = re.compile(r"^\s*(?:em|tôi|toi|mình|minh|anh|chị|chi)\s+(?:là\s+cán bộ\s+|la can bo\s+)?"
                         r"(?:ở|o|thuộc|thuoc|làm ở|lam o|công tác (?:ở|tại)|cong tac (?:o|tai)|bên|ben)\s+[^,.;?:]*[,.;:]",
                         re.IGNORECASE)


def _without_speaker_unit(text: str) -> str:
    """The question with the units of the asker's own introduction blanked (its commune is kept)."""
    intro = _SPEAKER_RE.match(text)
    if not intro:
        return text
    head = intro.group(0)
    for unit in reversed(find_units(head)):
        head = head[: unit.start] + " " * (unit.end - unit.start) + head[unit.end :]
    return head + text[intro.end() :]


class QuestionParser:
    def __init__(self) -> None:
        self.rules = rules()
        from assistant.qa.intent_model import IntentModel

        self.fallback = IntentModel.trained()

    def parse(self, text: str, terms: CorpusTerms) -> QuestionPlan:
        text = _with_communes_spelled_out(_with_capitals_spelled_out(_without_speaker_unit(text)), terms.communes)
        folded = fold_clauses(text)
        plain = fold(text)
        communes = find_communes(plain, terms.communes)
        known = {fold(c) for c in terms.communes}
        unknown = None if communes else _unknown_commune(text, plain, known)
        provinces = tuple(p for p in terms.provinces if f" {fold(p)} " in f" {plain} ")
        unknown_province = None if communes or provinces else _unknown_province(
            text, {fold(p) for p in terms.provinces})
        units, recipients = self._units(text, plain, terms)
        unlisted = _unlisted_units(text, terms)
        spans: list[tuple[int, int]] = []

        slots: list[Slot] = []
        weak: list[Slot] = []
        fields: list[DocField] = []
        scope = Scope.ONE
        fired: list[str] = []
        first_seen: dict[object, int] = {}  # where in the question each slot or field is asked
        heading: str | None = None
        focus: re.Pattern[str] | None = None
        for rule in self.rules:
            found = rule.fires(folded, bool(units))
            if not found:
                continue
            fired.append(rule.id)
            spans.extend(found)
            if rule.heading and not heading:
                heading, focus = rule.heading, rule.focus
            if rule.scope is not None:
                scope = rule.scope
            for item in (*rule.slots, *([rule.field] if rule.field else [])):
                first_seen[item] = min(first_seen.get(item, len(folded)), found[0][0])
            if rule.field is not None and rule.field not in fields:
                fields.append(rule.field)
            for slot in rule.slots:
                target = slots if rule.strong else weak
                if slot not in target:
                    target.append(slot)
        in_order = lambda items: sorted(items, key=lambda x: first_seen.get(x, 0))  # noqa: E731
        if DocField.BASES in fields and DocField.NUMBER in fields:
            fields.remove(DocField.NUMBER)  # 'theo kế hoạch số mấy của tỉnh': the number of a cited document
        fields = in_order(fields)
        slots = in_order(self._resolve(slots, weak, fields, folded, units))
        if not slots:
            predicted = self.fallback.predict(plain)
            if predicted is not None:
                slots = [predicted]
                fired.append(f"model:{predicted.value}")
            else:
                slots = [Slot.TEXT]

        years = tuple(int(y) for y in _YEAR_RE.findall(_PERIOD_RE.sub(" ", plain)))
        quarter = _QUARTER_RE.search(plain)
        without_levels = fold(_LEVEL_RE.sub("cap do", text))  # 'mức 2' is a level; 'mục 2' may be a row
        for place_name in [*communes, *provinces]:  # a place's word is no row word ('Hà Đông, 80 điểm': no 'dòng 80')
            without_levels = re.sub(rf"\b{re.escape(fold(place_name))}\b", " ", without_levels)
        group = _GROUP_RE.search(plain)
        without_levels = _GROUP_RE.sub(" ", without_levels)  # 'nhóm tiêu chí số 2' is no row 2
        dotted = _DOTTED_ROW_RE.findall(text)  # '15.7' folded reads 'chỉ tiêu 15 7': no row 15 besides it
        rows = tuple(dict.fromkeys(dotted + [b for _, b in _ROW_RE.findall(without_levels)
                                             if b and not any(d.startswith(b + ".") for d in dotted)]))
        appendix = _APPENDIX_RE.search(plain)
        section = _SECTION_RE.search(strip_diacritics(text.lower()).replace("đ", "d"))
        plan_type = next((name for name, pattern in _PLAN_TYPES if pattern.search(plain)), None)
        type_spans = [m.span() for _, pattern in _PLAN_TYPES for m in pattern.finditer(folded)] if plan_type else []
        for commune in communes:  # 'KH ĐMST Hà Đông', 'mô hình xã Hà Đông ĐMST': the plan named by its topic
            name = fold(commune)
            before = rf"\b(?:ke hoach|kh) (?:dmst|doi moi sang tao|cds|chuyen doi so)(?= (?:xa )?{name}\b)"
            after = rf"(?:(?<=\bxa {name} )|(?<=\bmo hinh {name} ))(?:dmst|doi moi sang tao)\b"
            model = rf"\bmo hinh(?= (?:xa )?{name} (?:dmst|doi moi sang tao)\b)"  # 'mô hình Hà Đông ĐMST'
            type_spans += [m.span() for pattern in (before, after, model) for m in re.finditer(pattern, folded)]
        numbers = self._numbers(text, plain, plan_type)
        own_number = next((n for n in numbers if n.split("/")[0] in terms.plan_numbers), None)
        counted = _COUNT_RE.search(plain)
        kinds: list[FactKind] = []
        for word, word_kinds in _KIND_WORDS:
            if f" {word} " in f" {plain} ":
                kinds.extend(k for k in word_kinds if k not in kinds)

        if own_number and not communes:
            scope = Scope.ONE  # the plan is named by its number
        elif scope is Scope.ALL and communes and not (counted and counted.group(1) == "xa"):
            scope = Scope.SEVERAL if len(communes) > 1 else Scope.ONE
        elif len(communes) > 1:
            scope = Scope.SEVERAL

        subject, context, phrase = self._subject(text, folded, spans, type_spans, communes, provinces,
                                                 units + recipients, terms)
        if own_number:
            numbers = tuple(n for n in numbers if n != own_number)
            digits = own_number.split("/")[0]  # 'KH 128' names the plan: no subject
            subject = tuple(w for w in subject if w != digits)
            phrase = tuple(w for w in phrase if w != digits)
        if slots == [Slot.LEAD] and "units" in fired and not subject:
            slots = [Slot.UNITS]  # 'Những đơn vị nào được phân công?': which units, not who leads something
        if (fields == [DocField.RECIPIENTS] and Slot.LEAD in slots and len(subject) >= TASK_WORDS
                and not _PLAN_SENT_RE.search(plain)):  # 'phòng nào cung cấp số liệu … và gửi về sở nào': the task's
            fields, slots = [], [s for s in slots if s is not Slot.FIELD]  # output goes there, not the plan
        has_place = bool(communes or provinces or own_number or unknown)
        elliptical = bool(_FOLLOW_UP_RE.match(plain) or _ANAPHORA_RE.search(plain)) or (
            not subject and not has_place and not units
        )
        return QuestionPlan(
            text=text, folded=folded, slots=tuple(slots), fields=tuple(fields), scope=scope,
            communes=tuple(communes), unknown_commune=unknown, unknown_province=unknown_province, provinces=provinces,
            plan_number=own_number.split("/")[0] if own_number else None, plan_type=plan_type, years=years,
            quarter=_QUARTERS[quarter.group(1)] if quarter else None, units=units, recipients=recipients, rows=rows,
            unlisted_units=unlisted,
            group=group.group(1) if group else None, appendix=appendix.group(1) if appendix else None,
            section=section.group(1).upper() if section else None, heading=heading, focus=focus, kinds=tuple(kinds), numbers=numbers, subject=subject, context=context, phrase=phrase,
            periods=tuple((int(a), int(b)) for a, b in _PERIOD_RE.findall(plain)), value_kind=_value_kind(plain),
            counted=({"can cu": "van ban"}.get(counted.group(1), counted.group(1)) if counted else None),  # 'mấy căn cứ'
            elliptical=elliptical, fired=tuple(fired),
        )

    @staticmethod
    def _units(text: str, plain: str, terms: CorpusTerms) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(units named as doers or filters, units named as those reported to: 'gửi Phòng VH-XH'). Units asked
        for ('các đơn vị nào') and places ('ở các ấp', 'tại trường học') are neither."""
        doers: list[str] = []
        receivers: list[str] = []
        spans = find_units(text)
        covered = " " + " ".join(fold(text[u.start : u.end]) for u in spans) + " "
        for key, name in sorted(terms.units, key=lambda u: len(u[0]), reverse=True):
            # a unit the alias table does not know but a plan names ('Trường THCS Quảng Phú')
            at = f" {plain} ".find(f" {key} ")
            if at >= 0 and f" {key} " not in covered and name not in doers and not _PLACE_BEFORE_RE.search(plain[:at]):
                doers.append(name)
                covered += f" {key} "
        unnamed: list[str] = []  # the folded words of units asked for and of places
        for span in spans:
            written = fold(text[span.start : span.end])
            # after a leading topic clause ('Về chuyển đổi số, Công an xã …') the unit starts anew: no place
            before = "" if _TOPIC_CLAUSE_RE.search(text[: span.start]) else fold(text[max(0, span.start - 30) : span.start])
            after = fold(text[span.end : span.end + 40])
            if (_GENERIC_UNITS_RE.fullmatch(written) and (_ASKED_RE.search(after) or _LISTED_BEFORE_RE.search(before))
                    or _PLACE_BEFORE_RE.search(before)):  # 'các đơn vị nào', 'danh sách các đơn vị': units asked for
                unnamed.append(written)
                continue
            if _GENERIC_UNITS_RE.fullmatch(written) and _OF_BEFORE_RE.search(before) and any(
                    not _GENERIC_UNITS_RE.fullmatch(fold(text[o.start : o.end])) for o in spans):
                unnamed.append(written)  # 'Công an xã … trong phần chuyển đổi số của các cơ quan': whose topic, not
                continue  # who is asked
            target = receivers if _RECIPIENT_BEFORE_RE.search(before) else doers
            if span.name not in target:
                target.append(span.name)
        rest = _GENERIC_UNITS_IN_TEXT_RE.sub(lambda m: " " if _ASKED_RE.search(plain[m.end() : m.end() + 40])
                                             else m.group(), plain)
        for written in unnamed:
            rest = rest.replace(written, " ")
        for mention in unit_mentions(rest):  # the forms only a question uses ('văn hóa xã hội', 'một cửa', 'gửi VH-XH')
            if mention.name not in doers and mention.name not in receivers:
                (receivers if _RECIPIENT_BEFORE_RE.search(rest[: mention.start]) else doers).append(mention.name)
        return tuple(doers), tuple(receivers)

    @staticmethod
    def _subject(
        text: str, folded: str, spans: list[tuple[int, int]], type_spans: list[tuple[int, int]], communes: list[str],
        provinces: tuple[str, ...], units: tuple[str, ...], terms: CorpusTerms,
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(the subject's content words, the words of cues, boilerplate and units the question holds (they count
        a little), the question's words in order for phrase matching)."""
        place_words = {w for name in [*communes, *provinces] for w in fold(name).split()}
        if provinces:  # 'thuộc tỉnh An Giang', 'ở thành phố Hải Phòng'
            place_words |= {"thuoc", "tinh", "thanh", "pho", "tp"}
        written_units = [fold(text[u.start : u.end]) for u in [*find_units(text), *unit_mentions(text)] if u.name in units] + [
            key for key, name in terms.units if name in units and f" {key} " in f" {fold(text)} "]
        unit_words = {w for name in [*units, *written_units] for w in fold(name).split()}
        quoted = [fold(q) for q in _QUOTED_RE.findall(text)]
        title_words = {w for q in quoted if any(q in t for t in terms.titles) for w in q.split()}
        tokens = _tokens(text, folded)
        glossed = _glossed(text, len(tokens))
        cue = _covered(tokens, spans)
        kept = _covered(tokens, [m.span() for m in _CUE_CONTENT_RE.finditer(folded)])
        cue = [c and not k for c, k in zip(cue, kept, strict=True)]
        levels = bool(_LEVEL_RE.search(text))  # 'mức 2' is no row: its words stay in the subject
        row_spans = [m.span() for m in _ROW_RE.finditer(folded) if not (levels and m.group(0).startswith("muc"))]
        row_spans += [m.span() for pattern in (_APPENDIX_RE, _GROUP_RE, _PARTS_COUNTED_RE) for m in pattern.finditer(folded)]
        boilerplate = _covered(tokens, [m.span() for m in _STOP_PHRASES.finditer(folded)]
                               + [m.span() for m in _FOLLOW_UP_FRAME_RE.finditer(folded)] + row_spans)
        plan_kind = _covered(tokens, type_spans)  # 'KH NQ57', 'mô hình xã ĐMST' name the plan, not the subject
        negated = _covered(tokens, [(m.start(), _negation_end(folded, m.end())) for m in _NEGATION_RE.finditer(folded)])
        set_phrases = _set_phrases_re()
        set_phrase = _covered(tokens, [m.span() for m in set_phrases.finditer(folded)] if set_phrases else [])
        subject: list[str] = []
        context: list[str] = []
        phrase: list[str] = []
        typed_with_diacritics = strip_diacritics(text) != text  # punctuation does not count
        for i, (written, key, _) in enumerate(tokens):
            if (negated[i] or plan_kind[i] or key in place_words or key in title_words or _YEAR_RE.fullmatch(key)
                    or _GLUED_NUMBER_RE.fullmatch(key)):  # 'kh128' names a plan
                continue
            following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            preceding = tokens[i - 1][1] if i else ""
            # inside a set phrase, or 'vụ' in a word of its own ('học vụ'; 'lo vụ X' is colloquial): content
            content = set_phrase[i] or (key == "vu" and preceding in _BEFORE_VU)
            function_word = not content and (written in _STOP_WRITTEN or (not typed_with_diacritics and (
                key in _STOP_FOLDED or (key == "co" and following in _AFTER_CO)
                or (key == "can" and following not in ("bo", "cu")))))  # 'co bao nhieu' is 'có', 'can dat' 'cần'
            time_word = (key in _TIME_WORDS and (_YEAR_RE.fullmatch(following) or following in _QUARTERS)) or (
                preceding == "quy" and key in _QUARTERS)  # 'quý III': a filter, not the subject
            interrogative = key in _INTERROGATIVES and (key != "bao" or following in ("nhieu", "nhiu", "gio", "lau"))
            if function_word or time_word or interrogative:  # 'báo cáo' is no 'bao nhiêu'
                continue
            phrase.append(key)
            if cue[i] or boilerplate[i] or glossed[i] or key in unit_words or key in _GENERIC:
                context.append(key)
            else:
                subject.append(key)
        return tuple(subject), tuple(context), tuple(phrase)

    @staticmethod
    def _resolve(
        slots: list[Slot], weak: list[Slot], fields: list[DocField], folded: str, units: tuple[str, ...]
    ) -> list[Slot]:
        """Combine what the rules found: strong cues outrank the generic ones; a field of the plan
        outranks fact slots unless the question also asks who leads or partners something."""
        if Slot.COUNT in slots:
            return [Slot.COUNT, *(s for s in slots if s in (Slot.VALUE, Slot.LEAD))]  # 'mấy chỉ số, mỗi cái ai chủ trì'
        if fields:
            facts = [s for s in slots if s in (Slot.LEAD, Slot.PARTNER, Slot.DUTIES)]
            return [Slot.FIELD, *facts] if facts and fields[0] not in (DocField.SIGNER,) else [Slot.FIELD]
        explicit_lead = bool(_EXPLICIT_LEAD_RE.search(folded))
        if Slot.PARTNER in slots and Slot.LEAD in slots and (units or not explicit_lead):
            slots = [s for s in slots if s is not Slot.LEAD]  # 'X phối hợp với ai': X leads, partners asked
        if Slot.UNITS in slots and (Slot.LEAD in slots or Slot.PARTNER in slots):
            slots = [s for s in slots if s is not Slot.UNITS]  # 'những đơn vị nào chủ trì X': who leads X
        if Slot.DUTIES in slots and Slot.PARTNER not in slots and Slot.VALUE not in slots:
            return [Slot.DUTIES]
        if Slot.UNITS in slots:
            return [Slot.UNITS]
        if Slot.ITEMS in slots:
            return [Slot.ITEMS, *(s for s in slots if s in (Slot.LEAD, Slot.DEADLINE, Slot.VALUE))]
        strong: list[Slot] = [s for s in slots if s is not Slot.TEXT]
        if strong:
            return strong
        weak_facts: list[Slot] = [s for s in weak if s is not Slot.TEXT]
        if weak_facts and Slot.TEXT not in slots:
            return weak_facts
        return slots or weak

    @staticmethod
    def _numbers(text: str, plain: str, plan_type: str | None) -> tuple[str, ...]:
        """Document numbers the question names ('68/KH-UBND', 'KH 128'), not the '57' of 'Nghị quyết 57' when it
        names the kind of plan."""
        found: list[str] = []
        asks_a_number = bool(_ASKS_NUMBER_RE.search(plain))
        for match in _DOC_NUMBER_RE.finditer(text):
            if match.group(1):
                if asks_a_number and _IMPLEMENTS_RE.search(fold(text[max(0, match.start() - 40) : match.start()])):
                    continue  # 'KH thực hiện NQ 57-NQ/TW … căn cứ Chương trình số mấy': the plan, not the one asked
                found.append(re.sub(r"\s+", "", match.group(1)))
        for match in _DOC_NUMBER_RE.finditer(plain):
            number = match.group(2)
            if number and _NUMBERED_PART_RE.search(plain[: match.start()]):
                continue  # 'chỉ tiêu số 3', 'nhóm tiêu chí số 2': a row or a group, not a document
            if number and all(not f.startswith(number + "/") and not f.startswith(number + "-") for f in found):
                found.append(number)
        if plan_type == "nq57" and not _RESOLUTION_ITSELF_RE.search(plain):
            found = [n for n in found if n not in ("57",)]
        return tuple(dict.fromkeys(found))


# 'Nghị quyết 57 của Bộ Chính trị': the resolution itself, not the kind of plan that implements it
_RESOLUTION_ITSELF_RE = re.compile(r"\b(?:nghi quyet|nq)(?: so)? 57(?: nq)?(?: tw)? (?:cua|do) (?:bo chinh tri|bct|trung uong)\b")
_NUMBERED_PART_RE = re.compile(r"\b(?:chi tieu|chi so|tieu chi|nhiem vu|dong|stt|muc|hang|nhom|tru cot|giai doan|"
                               r"buoc|dot|phu luc|cot)\s*$")
# the plan itself sent ('nơi nhận', 'kế hoạch gửi cho ai'), not a task's output ('cung cấp số liệu … gửi về sở nào')
_PLAN_SENT_RE = re.compile(r"\bnoi nhan\b|\b(?:ke hoach|kh|van ban)(?: \w+){0,3} (?:gui|nhan)\b|\bgui (?:ke hoach|kh)\b")
TASK_WORDS = 3  # subject words that make a question about a task
_ASKS_NUMBER_RE = re.compile(r"\bso (?:may|bao nhieu|nao|hieu)\b")
_IMPLEMENTS_RE = re.compile(r"\b(?:ke hoach|kh)(?: \w+){0,2} (?:thuc hien|trien khai)(?: thuc hien)? (?:nghi quyet|nq)(?: so)?\s*$")


def merge_follow_up(current: QuestionPlan, previous: QuestionPlan) -> QuestionPlan:
    """An elliptical question takes what it leaves out from the previous turn: the plans it is about,
    the subject, the years, and what was asked ('Còn xã X thì sao?' keeps the question, swaps the commune;
    'Đơn vị phối hợp là ai?' keeps the subject, asks for partners)."""
    only_place = not current.subject and (current.communes or current.provinces)
    slots = current.slots
    if slots == (Slot.TEXT,) or only_place or (not current.subject and not current.fired):
        slots = previous.slots
    return replace(
        current,
        slots=slots,
        fields=current.fields or (previous.fields if slots == previous.slots else ()),
        communes=current.communes or (() if current.provinces else previous.communes),
        provinces=current.provinces or (() if current.communes else previous.provinces),
        plan_number=current.plan_number or (None if current.communes else previous.plan_number),
        plan_type=current.plan_type or previous.plan_type,
        years=current.years or previous.years,
        quarter=current.quarter or (previous.quarter if not current.years else None),
        units=current.units or previous.units,
        recipients=current.recipients or previous.recipients,
        rows=current.rows or previous.rows,
        group=current.group or previous.group,
        appendix=current.appendix or previous.appendix,
        kinds=current.kinds or previous.kinds,
        numbers=current.numbers or (previous.numbers if not current.subject else ()),
        subject=current.subject or previous.subject,
        phrase=current.phrase if current.subject else previous.phrase,
        context=current.context if current.subject else previous.context,
        periods=current.periods or previous.periods,
        counted=current.counted or previous.counted,
        scope=current.scope if current.scope is not Scope.ONE else previous.scope,
        same_subject=not (current.subject or current.communes or current.provinces or current.years
                          or current.quarter or current.rows or current.units),
        fired=(*current.fired, "follow-up"),
    )


__all__ = [
    "FACT_SLOTS", "CorpusTerms", "DocField", "QuestionParser", "QuestionPlan", "Rule", "Scope", "Slot",
    "find_communes", "merge_follow_up", "rules",
]
