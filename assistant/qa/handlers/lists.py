"""Lists and counts: what a unit must do, which units are assigned, which items a group or a unit holds,
and how many (with the list counted)."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.qa.evidence import (
    ROMAN,
    appendix_of,
    coverage,
    list_under,
    rank_sentences,
    same_number,
    score_fact,
)
from assistant.qa.handlers.base import (
    Context,
    Result,
    Route,
    chunk_source,
    fact_source,
    handles,
    not_found,
    place,
)
from assistant.qa.plan import QuestionPlan, Slot
from assistant.qa.render import LONG_CAP, capitalize, shorten, subject_label, value_text
from core.model import TABLE_FACT_KINDS, FactKind, Record, UnitRef
from core.normalize import fold
from ingest.chunking import Chunk
from ingest.record_text import unit_label, unit_names
from vectorstore.knowledge import KnowledgeView, fact_words

ITEM_CHARS = 260
STAGE_CHARS = 900  # a roadmap stage is listed with all its items (a cut list reads as complete)
DUTY_CHARS = 420


_POINTS_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*điểm")
_MOST_RE = re.compile(r"\b(?:nhieu|cao|lon|nang)(?: \w+)? nhat\b")
_LEAST_RE = re.compile(r"\b(?:it|thap|nho|nhe)(?: \w+)? nhat\b")


MAX_VALUED_ITEMS = 12  # a list of targets this short shows each target's value


def _valued(facts: list[Record]) -> bool:
    """A short list of targets, listed with their values ('nhóm hạ tầng gồm những chỉ tiêu nào': '5G …: ≥ 60%')."""
    return 0 < len(facts) <= MAX_VALUED_ITEMS and all(f.kind is FactKind.TARGET for f in facts)


def _points(fact: Record) -> float | None:
    match = _POINTS_RE.search(fact.max_score or "")
    return float(match.group(1).replace(",", ".")) if match else None


def _weights(facts: list[Record], plan: QuestionPlan) -> list[str]:
    """Rows that carry points ('Nhóm 4 … 30 điểm'): their total, and the heaviest or lightest when asked."""
    points = [(_points(f), f) for f in facts]
    if not facts or any(p is None for p, _ in points):
        return []
    total = sum(p for p, _ in points if p is not None)
    lines = [f"Tổng: {total:g} điểm."]
    for pattern, pick, word in ((_MOST_RE, max, "nhiều điểm nhất"), (_LEAST_RE, min, "ít điểm nhất")):
        if pattern.search(plan.folded):
            best = pick(p for p, _ in points if p is not None)
            names = [subject_label(f, 80) for p, f in points if p == best]
            lines.append(f"{capitalize(word)}: {'; '.join(names)} ({best:g} điểm).")
    return lines


def _bullets(kb: KnowledgeView, result: Result, facts: list[Record], chars: int, with_units: bool = False,
             with_time: bool = False, with_value: bool = False, limit: int | None = None) -> int:
    """One cited bullet per fact, within the long cap (and ``limit`` bullets); the number of bullets written."""
    used = sum(len(line) for line in result.lines)
    written = 0
    for fact in facts:
        text = shorten(fact.subject, chars)
        if fact.kind is FactKind.STAGE and fact.attrs.get("items"):
            text = shorten(f"{fact.subject}: {fact.attrs['items'].replace(' | ', '; ')}", max(chars, STAGE_CHARS))
        if fact.row_no and fact.kind in TABLE_FACT_KINDS:
            text = f"{fact.row_no}. {text}"
        if with_units and fact.leads:
            text += f" (chủ trì: {unit_names(fact.leads)})"
        if with_value and (value := value_text(fact)):
            text += f": {value}"
        if with_time and (when := fact.deadline or (f"Quý {fact.quarter}/{fact.year}" if fact.quarter else fact.year)):
            text += f" ({when})"
        if used + len(text) + 8 > LONG_CAP - 120 or (limit is not None and written >= limit):
            result.lines.append(f"- … và {len(facts) - written} mục khác.")
            break
        n = result.cite(fact_source(kb, fact))
        result.lines.append(f"- {capitalize(text)} [{n}]")
        used += len(text) + 8
        written += 1
    return written


def _relevant(kb: KnowledgeView, plan: QuestionPlan, facts: list[Record], threshold: float = 0.45,
              strict: bool = False) -> list[Record]:
    """Facts about the question's subject, most relevant first, when it names one; all of them otherwise
    (or, ``strict``, none: 'Công an xã chủ trì nhiệm vụ thương mại điện tử nào?' when it has none)."""
    words = plan.subject
    if not words or (len(words) < 2 and not strict):
        return facts
    scored = sorted(((score_fact(kb, plan, f, tuple(words)).coverage, i, f) for i, f in enumerate(facts)),
                    key=lambda item: (-item[0], item[1]))
    kept = [f for cov, _, f in scored if cov >= threshold]
    return kept if kept or strict else [f for _, _, f in scored]


def _in_named_group(plan: QuestionPlan, rows: list[Record]) -> list[Record]:
    """The rows under a group whose label holds the whole subject, in order ('thể chế' in 'I. THỂ CHẾ')."""
    if not plan.subject:
        return []
    wanted = f" {' '.join(plan.subject)} "
    return [r for r in rows if any(wanted in f" {fold(label)} " for label in r.group_path)]


_GROUP_NAMED_RE = re.compile(r"\b(?:nhom|thuoc|tru cot|linh vuc|chi so|chi tieu|tieu chi)\b")
# 'chủ trì những chỉ số nào': the rows of a table are asked, not the unit's duties
_ROWS_ASKED_RE = re.compile(r"\b(?:(?:nhung|cac) )?(?:chi so|chi tieu|tieu chi)(?: thanh phan)? nao\b")


@handles(Route.DUTIES)
def answer_duties(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    units = set(plan.units)
    result = Result(Route.DUTIES, False, short=False)
    for doc_id in sorted(doc_ids or kb.documents):
        duties = [f for f in kb.facts({doc_id}, {FactKind.DUTY}) if units & {u.name for u in f.leads}]
        rows = [f for f in kb.facts({doc_id}, TABLE_FACT_KINDS) if units & {u.name for u in f.leads}]
        if (_ROWS_ASKED_RE.search(plan.folded) and FactKind.DUTY not in plan.kinds
                and (named := [f for f in rows if f.kind in plan.kinds])):
            duties, rows = [], named  # 'chủ trì những chỉ số nào trong phụ lục': the rows of that kind, not its duties
        # 'những chỉ số thuộc nhóm Thể chế mà Phòng KT chủ trì' (a group named as such, or rows asked for; a topic
        # such as 'về chuyển đổi số' also names the group of a row, but the unit's duties on it count as well)
        in_group = _in_named_group(plan, rows) if rows and (duties == [] or _GROUP_NAMED_RE.search(plan.folded)) else []
        title = set(fold(kb.documents[doc_id].metadata.get("title") or "").split()) | {"ke", "hoach"}
        # 'trong KH cải thiện PII' names the plan, not a topic; a word the plan never uses ('kế hạch') names none
        topical = any(kb.mentions(doc_id, w) for w in set(plan.subject) - title)
        chosen = in_group or (_relevant(kb, plan, duties + rows, strict=True) if topical else duties + rows)
        if not chosen:
            if duties or rows:
                result.reason = (f"Trong kế hoạch của {place(kb, doc_id)}, {', '.join(plan.units)} không chủ trì nội "
                                 f"dung nào về «{' '.join(plan.subject)}».")
                result.candidates = [subject_label(f, 100) for f in (duties + rows)[:3]]
            continue
        label = unit_names([u for f in chosen[:1] for u in f.leads if u.name in units]) or ", ".join(sorted(units))
        result.lines.append(f"Nhiệm vụ của {label} ({place(kb, doc_id)}):")
        _bullets(kb, result, chosen, DUTY_CHARS, with_time=any(r.startswith("deadline") for r in plan.fired))
    if not result.lines and result.reason:
        return not_found(Route.DUTIES, result.reason, result.candidates)
    if not result.lines:
        names = ", ".join(plan.units)
        where = " của " + ", ".join(place(kb, d) for d in sorted(doc_ids)) if doc_ids else ""
        partnered = [f for f in kb.facts(doc_ids, None) if set(plan.units) & {u.name for u in f.partners}]
        extra = f" {names} chỉ được nêu là đơn vị phối hợp ở {len(partnered)} nội dung." if partnered else ""
        return not_found(Route.DUTIES, f"Kế hoạch{where} không giao nhiệm vụ chủ trì nào cho {names}.{extra}",
                         [subject_label(f, 100) for f in partnered[:2]])
    result.found = True
    result.confidence = 0.9
    return result


@handles(Route.UNITS)
def answer_units(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    result = Result(Route.UNITS, False, short=False)
    for doc_id in sorted(doc_ids or kb.documents):
        all_duties = kb.facts({doc_id}, {FactKind.DUTY})
        duties = _relevant(kb, plan, all_duties, threshold=0.3)
        if outline := section_outline(kb, plan, doc_id):  # 'phần Tổ chức thực hiện phân công những đơn vị nào'
            _, blocks = outline
            firsts = [next((f for f in all_duties if f.section.endswith(title)), None) for title, _ in blocks]
            if all(firsts):
                duties = [f for f in firsts if f is not None]
        if not duties:
            duties = kb.facts({doc_id}, TABLE_FACT_KINDS)
        first_of: dict[str, tuple[UnitRef, Record]] = {}
        for fact in duties:
            for unit in fact.leads:
                first_of.setdefault(unit.name, (unit, fact))
        if not first_of:
            continue
        parts = []
        for unit, fact in first_of.values():
            n = result.cite(fact_source(kb, fact))
            parts.append(f"- {unit_label(unit)} [{n}]")
        result.lines.append(f"Các cơ quan, đơn vị được phân công trong kế hoạch của {place(kb, doc_id)}:")
        result.lines.extend(parts)
    if not result.lines:
        return not_found(Route.UNITS)
    result.found = True
    result.confidence = 0.85
    return result


# --- items of a group / a unit / a period -------------------------------------------------------------------

_COUNTED_KINDS: dict[str, frozenset[FactKind]] = {
    "chi tieu": frozenset({FactKind.TARGET}),
    "chi so": frozenset({FactKind.INDICATOR, FactKind.KPI, FactKind.TARGET}),
    "tieu chi": frozenset({FactKind.KPI}),
    "nhiem vu": frozenset({FactKind.TASK, FactKind.SCHEDULE, FactKind.INDICATOR}),
    "noi dung": frozenset({FactKind.TASK, FactKind.SCHEDULE, FactKind.INDICATOR}),
    "hang muc": frozenset({FactKind.TASK, FactKind.SCHEDULE}),
    "dong": TABLE_FACT_KINDS,
    "muc": TABLE_FACT_KINDS,
    "giai doan": frozenset({FactKind.STAGE}),
    "van ban": frozenset({FactKind.REFERENCE}),
    "nguon": frozenset({FactKind.BUDGET}),
}


_GROUP_NUMBER_RE = re.compile(r"^(?:nhom|tru cot)\s+(\d{1,2}|[ivx]{1,4})\b|^(\d{1,2}|[ivx]{1,4})(?:\s*[.):]|\s+(?=\w))")


def group_number(label: str) -> str | None:
    """The number a group is known by, in Arabic digits: 'Nhóm II …', 'III. KINH TẾ SỐ', '2. Hạ tầng' -> '2', '3', '2'."""
    match = _GROUP_NUMBER_RE.match(fold(label).strip())
    if not match:
        return None
    number = match.group(1) or match.group(2)
    return ROMAN.get(number, number)


_GROUP_ROW_RE = re.compile(r"(?i)nhóm\s*\d")
GROUP_KIND_BONUS = 0.3  # a group whose rows are of the kind the question names ('KPI', 'chỉ tiêu', 'nhiệm vụ')


def _groups(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> list[tuple[float, Record]]:
    """Groups of the plans' tables that the question names (by number, 'nhóm 2', or by words)."""
    out = []
    words = plan.subject
    groups = kb.facts(doc_ids, {FactKind.GROUP})
    # 'nhóm 2' names the group called 'Nhóm 2: …' where there is one, not another numbered 'II. …'
    literal = re.compile(rf"\b(?:nhom|tru cot) {ROMAN.get(plan.group, plan.group)}\b") if plan.group else None
    literal_only = literal is not None and any(literal.search(fold(g.subject)) for g in groups)
    for group in groups:
        label = fold(group.subject)
        own = fact_words(f"{group.subject} {group.attrs.get('header', '')}")  # its own name, not its parents'
        score = coverage(kb, tuple(words), own, plan.phrase)[0] if words else 0.0
        if plan.group and group_number(group.subject) == ROMAN.get(plan.group, plan.group) and (
                not literal_only or (literal is not None and literal.search(label))):
            score += 1.0
            if words and group.attrs.get("depth") != "0":  # 'nhóm 4 trong bộ KPI': the words may name its table
                score += 0.5 * coverage(kb, tuple(words), fact_words(group.attrs.get("table", "")), plan.phrase)[0]
        if plan.appendix and re.search(rf"\bphu luc\s+{plan.appendix}\b", fold(group.attrs.get("table", label))):
            score += 0.6 if group.attrs.get("depth") == "0" else 0.4  # the appendix; a group in it, when named
        if plan.counted == "nhom" or plan.counted == "tru cot":
            score += 0.2 if group.attrs.get("depth") == "0" else 0.0
        if plan.kinds and score > 0 and (held := {f.kind for f in group_members(kb, group)}):
            score += GROUP_KIND_BONUS if held & set(plan.kinds) else -GROUP_KIND_BONUS  # 'nhóm 4 trong KPI'
        out.append((score, group))
    out.sort(key=lambda item: item[0], reverse=True)
    return out


def group_members(kb: KnowledgeView, group: Record) -> list[Record]:
    table = group.attrs.get("table", "")
    path = [*group.group_path, group.subject] if group.attrs.get("depth") != "0" else []
    return [
        f for f in kb.facts({group.doc_id}, TABLE_FACT_KINDS)
        if f.section.split(" > ")[0] == table and f.group_path[: len(path)] == path
    ]


def _group_named(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> bool:
    """The plan has the group the question names by its number."""
    wanted = ROMAN.get(plan.group or "", plan.group)
    return any(group_number(g.subject) == wanted for g in kb.facts({doc_id}, {FactKind.GROUP}))


def _in_group_named(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, word: str) -> bool:
    """Whether ``word`` is part of the name of a group the question names ('nhóm phát triển nguồn lực' names a
    group; its 'nguồn' asks for no funding sources)."""
    if not _GROUP_WORD_RE.search(plan.folded):
        return False
    return any(score >= 1.0 and f" {word} " in f" {fold(group.subject)} " for score, group in _groups(kb, plan, {doc_id}))


_GROUP_WORD_RE = re.compile(r"\b(?:nhom|tru cot)\b")


def _filtered_items(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[list[Record], str] | None:
    """The items a question's filters select in one plan, with a label; None when it names no filter."""
    kinds: frozenset[FactKind] = TABLE_FACT_KINDS
    asked = f" {' '.join(plan.phrase)} "  # the question's words, place names left out ('Hà Đông' is no 'dòng')
    for word, counted_kinds in _COUNTED_KINDS.items():
        if f" {word} " in asked and not _in_group_named(kb, plan, doc_id, word):
            kinds = counted_kinds
            break
    if plan.rows:
        parents = [r for r in plan.rows if "." not in r]
        subs = [f for f in kb.facts({doc_id}, TABLE_FACT_KINDS) if (f.row_no or "").split(".")[0] in parents
                and "." in (f.row_no or "")]
        if subs:
            return subs, f"các mục con của mục {', '.join(parents)}"
    if plan.units and not (plan.group and _group_named(kb, plan, doc_id)):  # 'Nhóm III (…, doanh nghiệp)': a name
        role_partner = plan.asks(Slot.PARTNER) or " phoi hop " in f" {plan.folded} "
        facts = [
            f for f in kb.facts({doc_id}, kinds | {FactKind.DUTY} if not kinds & TABLE_FACT_KINDS else kinds)
            if set(plan.units) & {u.name for u in (f.partners if role_partner else f.leads)}
        ]
        if plan.appendix:
            facts = [f for f in facts if re.search(rf"\bphu luc\s+{plan.appendix}\b", fold(f.section))]
        role = "phối hợp" if role_partner else "chủ trì"
        return facts, f"các nội dung do {', '.join(plan.units)} {role}"
    if plan.quarter or (plan.years and FactKind.SCHEDULE in kinds):
        facts = [f for f in kb.facts({doc_id}, {FactKind.SCHEDULE})
                 if (not plan.quarter or f.quarter == plan.quarter) and (not plan.years or f.year in plan.years)]
        period = " ".join(x for x in [f"quý {plan.quarter}" if plan.quarter else "", "/".join(map(str, plan.years))] if x)
        return facts, f"các nhiệm vụ {period}".strip()
    if FactKind.STAGE in kinds:
        stages = kb.facts({doc_id}, {FactKind.STAGE})
        if plan.periods or plan.years:
            wanted = [set(range(a, b + 1)) for a, b in plan.periods] + [{y} for y in plan.years]
            stages = [f for f in stages if any(_stage_years(f) & w for w in wanted)]
            if stages and _NAMES_STAGE_RE.search(plan.folded):  # 'giai đoạn 2029-2030 là giai đoạn gì': their names
                return [replace(f, attrs={k: v for k, v in f.attrs.items() if k != "items"}) for f in stages], "Giai đoạn"
            if stages:
                return stages, "Giai đoạn"
        elif stages:
            return _roadmap(stages), "Các giai đoạn của lộ trình"
    if kinds <= {FactKind.STAGE, FactKind.REFERENCE, FactKind.BUDGET}:
        return kb.facts({doc_id}, kinds), ""
    return None


def _stage_years(stage: Record) -> set[int]:
    years = [int(y) for y in stage.attrs.get("years", "").split("-") if y.isdigit()]
    return set(range(years[0], years[-1] + 1)) if years else set()


def _roadmap(stages: list[Record]) -> list[Record]:
    """The stages of the plan's roadmap section (the one with most stages), one per period."""
    by_section: dict[str, list[Record]] = {}
    for stage in stages:
        by_section.setdefault(stage.section.split(" > ")[0], []).append(stage)
    return max(by_section.values(), key=len)


# Words of a question that name a part of the plan, not its heading ('những nhóm nhiệm vụ, giải pháp nào').
_PART_WORDS = {"ke", "hoach", "nhom", "muc", "phan", "noi", "dung", "chinh", "co", "gom", "cua", "nhung", "cac", "nao",
               "gi", "la", "bao", "nhieu", "may"}
_NAMES_A_PART_RE = re.compile(r"\b(?:muc|phan|tieu muc)\b(?! (?:nao|gi|may|bao)\b)")
_NUMBERING_RE = re.compile(r"^\s*(?:[IVX]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)\-–]\s*", re.IGNORECASE)


def section_outline(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[str, list[tuple[str, Chunk]]] | None:
    """(the heading the question names, its sub-headings in order with the first passage of each): the parts of
    a section asked ('Kế hoạch có những nhóm nhiệm vụ, giải pháp nào?'). The heading's words must all be asked."""
    children: dict[str, dict[str, Chunk]] = {}
    for chunk in kb.chunks(doc_id, {"text", "table"}):
        parts = [p.strip() for p in chunk.section.split(" > ") if p.strip()]
        for depth in range(len(parts) - 1):
            parent, child = " > ".join(parts[: depth + 1]), parts[depth + 1]
            children.setdefault(parent, {}).setdefault(child, chunk)
    named = section_by_heading_words(kb, plan, doc_id, within={p for p, kids in children.items() if len(kids) >= 2})
    return (named[0].split(" > ")[-1], list(children[named[0]].items())) if named else None


def section_by_heading_words(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, within: set[str] | None = None
                  ) -> tuple[str, Chunk] | None:
    """(the section path, its first passage) of the section whose heading's words the question holds, in any
    order and with some of the subject among them ('nhóm nhiệm vụ, giải pháp' for 'III. NHIỆM VỤ, GIẢI PHÁP');
    the longest such heading. (``passages.named_section`` wants a title written as a phrase.)"""
    asked = set(fact_words(plan.text)) - _PART_WORDS  # every word written (a heading may hold 'vụ', 'các' …)
    # 'mục Phân công nhiệm vụ': a part named as such may be named by cue words alone
    named_part = bool(_NAMES_A_PART_RE.search(plan.folded))
    topic = set(plan.phrase if named_part else plan.subject)
    written = f" {' '.join(fact_words(plan.text))} "
    best: tuple[int, str, Chunk] | None = None
    words_of: dict[str, tuple[str, ...]] = {}  # a heading's words (many passages share a heading)
    for chunk in kb.chunks(doc_id, {"text", "table"}):
        parts = [p.strip() for p in chunk.section.split(" > ") if p.strip()]
        for depth in range(len(parts)):
            path = " > ".join(parts[: depth + 1])
            if within is not None and path not in within:
                continue
            if (words := words_of.get(parts[depth])) is None:
                words = words_of[parts[depth]] = fact_words(_NUMBERING_RE.sub("", parts[depth]))
            heading = set(words)
            whole = named_part and f" {' '.join(words)} " in written  # 'mục Phân công nhiệm vụ', word for word
            if not heading or not (heading <= asked or whole) or not heading & topic:
                continue
            if best is None or len(heading) > best[0]:
                best = (len(heading), path, chunk)
    return (best[1], best[2]) if best else None


_PART_NOUNS = {"nhom": "nhóm", "noi dung": "nội dung", "linh vuc": "lĩnh vực", "nhiem vu": "nhiệm vụ"}


def _outline_lines(kb: KnowledgeView, result: Result, heading: str, parts: list[tuple[str, Chunk]], where: str,
                   counted: str | None = None) -> None:
    noun = _PART_NOUNS.get(counted or "", "mục")  # 'bao nhiêu nhóm nhiệm vụ': its parts, called as asked
    result.lines.append(f"Phần «{heading}» của kế hoạch {where} gồm {len(parts)} {noun}:")
    for title, chunk in parts:
        n = result.cite(chunk_source(kb, chunk))
        result.lines.append(f"- {shorten(title, 200)} [{n}]")


_GROUPS_ASKED_RE = re.compile(r"\b(?:nhung|cac|may|\d+|hai|ba|bon|sau) (?:nhom|tru cot)\b(?! \d)"  # 'những nhóm', '5 nhóm'
                              r"|\b(?:nhom|tru cot)(?: (?:tieu chi|chi so|nhiem vu))? nao\b(?=.*\bnhat\b)")  # 'nhóm nào … nhất'
_YEARS_ASKED_RE = re.compile(r"\b(?:(?:nhung|cac) )?(?:moc )?(?:nam|moc thoi gian) nao\b")


def _table_years(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[list[Record], str] | None:
    """The target rows with yearly values (of the appendix named), with their table's label."""
    rows = [f for f in kb.facts({doc_id}, TABLE_FACT_KINDS) if sum(1 for y in f.targets if y) >= 2]
    if plan.appendix:
        rows = [f for f in rows if (a := appendix_of(f)) and same_number(a, plan.appendix)]
    return (rows, rows[0].section.split(" > ")[0] or "Bảng chỉ tiêu") if rows else None


_SOURCE_SENTENCE_RE = re.compile(r"\b(?:[Nn]guồn|ngân sách|[Nn]gân sách|vốn|xã hội hóa|quỹ|huy động)\b")


def _funding_sources(kb: KnowledgeView, result: Result, facts: list[Record]) -> None:
    """The sentences of the funding paragraphs that name a source, each cited (a long paragraph's sources are often
    in its last sentence)."""
    for fact in facts:
        n = result.cite(fact_source(kb, fact))
        for sentence in re.split(r"(?<=[.;])\s+", fact.subject):
            if _SOURCE_SENTENCE_RE.search(sentence):
                result.lines.append(f"- {capitalize(shorten(sentence.strip(), ITEM_CHARS))} [{n}]")


_GRADES_ASKED_RE = re.compile(r"\bxep loai\b")
_SCORE_RE = re.compile(r"\b\d{1,3} diem\b")  # a total to grade ('đạt 80 điểm')
_NAMES_STAGE_RE = re.compile(r"\bla giai doan (?:gi|nao)\b|\bgiai doan (?:gi|nao)\b$")  # its name, not its work


def _scale_lines(kb: KnowledgeView, result: Result, doc_id: str, grades: list[Record]) -> None:
    result.lines.append(f"Các mức xếp loại ({place(kb, doc_id)}):")
    _bullets(kb, result, grades, ITEM_CHARS, with_value=True)


def grading_scale(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> Result | None:
    """'Bao nhiêu điểm thì Xuất sắc, dưới mấy điểm là Chưa đạt?', '80 điểm xếp loại gì, còn Xuất sắc cần mấy
    điểm?': several grades named at once, or a grade named beside a score to grade, are answered with the plan's
    whole grading scale; None otherwise."""
    result = Result(Route.ITEMS, False, short=False, confidence=0.9)
    scored = bool(_GRADES_ASKED_RE.search(plan.folded) and _SCORE_RE.search(plan.folded))
    for doc_id in sorted(doc_ids or ()):
        grades = _grades(kb, doc_id)
        named = [g for g in grades if re.search(rf"\b{re.escape(fold(g.attrs['grade']))}\b", plan.folded)]
        if len(named) >= 2 or (named and scored):
            _scale_lines(kb, result, doc_id, grades)
            result.found = True
    return result if result.found else None


def _grades(kb: KnowledgeView, doc_id: str) -> list[Record]:
    """The grading bands of a plan's KPI set ('Xuất sắc: ≥ 90 điểm' …)."""
    return [f for f in kb.facts({doc_id}, {FactKind.SCORING}) if f.attrs.get("grade")]
_ENUMERATION_RE = re.compile(r":\s*(?P<items>[^:;]{2,}(?:;[^;]{2,}){2,}|[^:,;]{2,}(?:,[^,;]{2,}){3,})\.?\s*$")
ENUMERATION_COVERAGE = 0.6  # of the question's subject, in the list's lead-in
_LISTED_RE = re.compile(_ENUMERATION_RE.pattern + r"|:\s*$")  # a list in one sentence, or a lead-in to bullets


def _enumeration(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[str, list[str], Chunk] | None:
    """A list written in one sentence whose lead-in the question names ('Duy trì và phát huy các chỉ số thành phần
    như: Thể chế; Vốn con người …; Tác động.'): (its lead-in, its items, its passage)."""
    if not plan.subject:
        return None
    best: tuple[float, str, list[str], Chunk] | None = None
    for sentence in rank_sentences(kb, plan, {doc_id}, need=_LISTED_RE):
        if sentence.text.rstrip().endswith(":"):  # 'Kết quả là căn cứ:' and the bullets under it
            lead_in, items = sentence.text.rstrip(" :"), list_under(sentence)
            recall = sentence.coverage if len(items) >= 2 else 0.0  # with its section's title and the items' words
        elif (match := _ENUMERATION_RE.search(sentence.text)) is not None:
            lead_in = sentence.text[: match.start()].strip()
            recall, _ = coverage(kb, plan.subject, fact_words(lead_in), plan.phrase)
            items = [i.strip(" .") for i in re.split(r"[;,]" if ";" not in match.group("items") else ";",
                                                    match.group("items"))]
        else:
            continue
        if recall >= ENUMERATION_COVERAGE and (best is None or recall > best[0]) and sentence.chunk is not None:
            best = (recall, lead_in, [i for i in items if i], sentence.chunk)  # type: ignore[assignment]
    return (best[1], best[2], best[3]) if best else None


@handles(Route.ITEMS)
def answer_items(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    result = Result(Route.ITEMS, False, short=False)
    docs = sorted(doc_ids or kb.documents)
    for doc_id in docs:
        if _GROUPS_ASKED_RE.search(plan.folded) and not plan.group:  # 'chia thành những nhóm (trụ cột) nào'
            table_groups, label, _ = _counted(kb, plan, doc_id, "nhom")
            if table_groups:
                result.lines.append(f"{capitalize(label)} ({place(kb, doc_id)}) gồm {len(table_groups)} nhóm:")
                _bullets(kb, result, table_groups, ITEM_CHARS, with_value=_points(table_groups[0]) is not None)
                result.lines += _weights(table_groups, plan)
                continue
        if _YEARS_ASKED_RE.search(plan.folded) and (years := _table_years(kb, plan, doc_id)):
            facts, label = years
            result.lines.append(f"{capitalize(label)} ({place(kb, doc_id)}) đặt chỉ tiêu cho các năm: "
                                f"{', '.join(sorted({y for f in facts for y in f.targets if y}))} "
                                f"[{result.cite(fact_source(kb, facts[0]))}].")
            continue
        grades = _grades(kb, doc_id) if _GRADES_ASKED_RE.search(plan.folded) else []
        if grades:  # 'thang xếp loại gồm những mức nào'
            _scale_lines(kb, result, doc_id, grades)
            continue
        selected = _filtered_items(kb, plan, doc_id)
        if selected is None and (listed := _enumeration(kb, plan, doc_id)) is not None:
            lead_in, items, chunk = listed  # 'duy trì các chỉ số thành phần như: Thể chế; …; Tác động'
            n = result.cite(chunk_source(kb, chunk))
            result.lines.append(f"{capitalize(lead_in)} ({place(kb, doc_id)}), {len(items)} mục [{n}]:")
            result.lines.extend(f"- {capitalize(shorten(item, ITEM_CHARS))}" for item in items)
            continue
        if selected is None:
            groups = _groups(kb, plan, {doc_id})
            if groups and groups[0][0] >= 0.5:
                group = groups[0][1]
                selected = (group_members(kb, group), shorten(group.subject, 120))
        if selected is None or not selected[0]:
            if outline := section_outline(kb, plan, doc_id):
                _outline_lines(kb, result, outline[0], outline[1], place(kb, doc_id), plan.counted)
            continue
        facts, label = selected
        head = f"{capitalize(label)} ({place(kb, doc_id)})" if label else capitalize(place(kb, doc_id))
        result.lines.append(f"{head}:")
        if facts and all(f.kind is FactKind.BUDGET for f in facts) and "nguon" in plan.folded:
            _funding_sources(kb, result, facts)  # 'lấy kinh phí từ những nguồn nào': the sentences naming one
            continue
        _bullets(kb, result, facts, ITEM_CHARS, with_units=plan.asks(Slot.LEAD) and not plan.units,
                 with_value=_valued(facts))
    if not result.lines and plan.units and not (plan.group or plan.appendix or plan.rows):
        duties = answer_duties(ctx, plan, doc_ids)  # 'nhiệm vụ của Công an xã gồm những gì': its duties in prose
        if duties.found:
            return duties
    if not result.lines:
        reason = None
        if plan.units:
            reason = f"Không có nội dung nào do {', '.join(plan.units)} đảm nhận như câu hỏi nêu."
        elif (plan.quarter or plan.years) and kb.facts(set(docs), {FactKind.SCHEDULE}):
            reason = "Bảng tiến độ không có nhiệm vụ nào cho thời gian này."  # (a plan without one: its prose may say)
        elif plan.group or plan.rows:
            reason = "Không có nhóm hoặc dòng nào như câu hỏi nêu trong bảng."
        return not_found(Route.ITEMS, reason)
    result.found = True
    result.confidence = 0.8
    return result


_STATED_COUNT_RE = re.compile(r"\((?:gồm\s+)?0*(\d{1,3})(?:\s+([^\W\d][^()]{0,20}))?\)")


COUNT_EXAMPLES = 3  # items shown under a long count that was not asked to list them
COUNT_LISTED_WHOLE = 8  # a count of this many items or fewer lists them all (the groups, the grades)
_LIST_ASKED_RE = re.compile(r"\b(?:nao|gi|ke ra|ke ten|liet ke|gom|la nhung|nhung (?:chi tieu|nhiem vu|noi dung))\b")


@handles(Route.COUNT)
def answer_count(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    counted = plan.counted or "muc"
    noun = {"chi tieu": "chỉ tiêu", "chi so": "chỉ số", "nhiem vu": "nhiệm vụ", "nhom": "nhóm", "tieu chi": "tiêu chí",
            "tru cot": "trụ cột", "giai doan": "giai đoạn", "van ban": "văn bản", "nguon": "nguồn",
            "don vi": "đơn vị", "co quan": "cơ quan", "noi dung": "nội dung"}.get(counted, "mục")
    result = Result(Route.COUNT, False, short=False)
    for doc_id in sorted(doc_ids or kb.documents):
        if (counted in _PART_NOUNS and _NAMES_A_PART_RE.search(plan.folded)
                and (outline := section_outline(kb, plan, doc_id))):  # 'phần nhiệm vụ, giải pháp có mấy nhóm'
            _outline_lines(kb, result, outline[0], outline[1], place(kb, doc_id), counted)
            continue
        facts, label, stated = _counted(kb, plan, doc_id, counted)
        if not facts and stated is None:
            continue
        n = result.cite(fact_source(kb, facts[0])) if facts else 0
        where = place(kb, doc_id)
        number: int | str = stated if stated is not None else len(facts)
        if stated is not None and facts and stated != len(facts):  # the heading says 54, the table holds 40 rows
            number = f"{stated} {noun} theo tiêu đề; bảng liệt kê {len(facts)}"
        mains = {f.row_no for f in facts if f.row_no and "." not in f.row_no}
        parts = [f for f in facts if f.row_no and "." in f.row_no and f.row_no.split(".")[0] in mains]
        if stated is None and parts:  # '15' and its '15.1' … '15.6': rows of one indicator, not indicators
            heads = sorted({f.row_no.split(".")[0] for f in parts if f.row_no}, key=lambda r: (len(r), r))
            number = (f"{len(facts) - len(parts)} {noun} chính (chưa kể {len(parts)} {noun} thành phần của "
                      f"{noun} {', '.join(heads)}; tổng {len(facts)} dòng)")
            noun_after = ""
        else:
            noun_after = f" {noun}"
        groups = {f.group_path[0] for f in facts if f.group_path}
        divided = (f", chia thành {len(groups)} nhóm" if counted not in ("nhom", "tru cot") and len(groups) >= 2
                   and all(f.group_path for f in facts) else "")  # '19 nhiệm vụ, chia thành 4 nhóm'
        result.lines.append(f"{capitalize(label)} ({where}): {number}{noun_after}{divided} [{n}].")
        if counted in ("nhom", "tru cot") and (weights := _weights(facts, plan)):  # 'tổng bao nhiêu điểm, mấy nhóm'
            result.lines += weights
            result.answered.add(Slot.VALUE)
        if facts and counted in ("don vi", "co quan", "phong"):  # the units, by name
            for fact in facts:
                result.lines.append(f"- {unit_names(fact.leads) or shorten(fact.section.split(' > ')[-1], 120)} "
                                    f"[{result.cite(fact_source(kb, fact))}]")
        elif facts and len(facts) <= 40:  # a count alone shows its first items; 'kể ra', 'những … nào' all of them
            listed = bool(_LIST_ASKED_RE.search(plan.folded)) or len(facts) <= COUNT_LISTED_WHOLE
            _bullets(kb, result, facts, 120 if listed else 80, with_value=plan.asks(Slot.VALUE) or (listed and _valued(facts)),
                     with_units=plan.asks(Slot.LEAD),
                     limit=None if listed else COUNT_EXAMPLES)
    if not result.lines:
        return not_found(Route.COUNT)
    result.found = True
    result.confidence = 0.8
    return result


def _is_group_row(fact: Record) -> bool:
    """A row that stands for a group of the table ('Nhóm 1 | Nhận thức, điều hành | 15 điểm'), not an item."""
    return bool(_GROUP_ROW_RE.match(fact.row_no or ""))


def _counted(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, counted: str
             ) -> tuple[list[Record], str, int | None]:
    """(the facts counted, the scope's label, a count the plan states for that scope)."""
    if counted in ("nhom", "tru cot"):
        labelled = [f for f in kb.facts({doc_id}, TABLE_FACT_KINDS) if _is_group_row(f)]
        if labelled and counted == "nhom":  # a table whose rows are the groups ('Nhóm 1 | Nhận thức … | 15 điểm')
            return labelled, labelled[0].section.split(" > ")[-1] or "Bảng", None
        groups = _groups(kb, plan, {doc_id})
        tables = [g for s, g in groups if g.attrs.get("depth") == "0" and s > 0] or [
            g for _, g in groups if g.attrs.get("depth") == "0"]
        for table in tables:
            inside = [g for g in kb.facts({doc_id}, {FactKind.GROUP})
                      if g.attrs.get("table") == table.attrs.get("table") and g.attrs.get("depth") not in (None, "0")]
            by_depth: dict[str, list[Record]] = {}
            for group in inside:
                by_depth.setdefault(group.attrs.get("depth") or "", []).append(group)
            # the first level that divides the table ('2. Mục tiêu cụ thể' alone is no division; I … V are)
            level = next((by_depth[d] for d in sorted(by_depth, key=lambda d: int(d) if d.isdigit() else 99)
                          if len(by_depth[d]) >= 2), None) or next(iter(by_depth.values()), [])
            if level:
                return level, f"{table.subject}", None
        return [], "", None
    if counted in ("giai doan", "van ban", "nguon"):
        facts = kb.facts({doc_id}, _COUNTED_KINDS[counted])
        if counted == "giai doan":
            by_period: dict[str, Record] = {}
            for fact in facts:
                if "lo trinh" in fold(fact.section) or not by_period:
                    by_period.setdefault(fact.attrs.get("period", fact.subject), fact)
            facts = list(by_period.values())
        if counted == "van ban":
            facts = [f for f in facts if f.attrs.get("cited_as") == "basis"] or facts
        return facts, "Kế hoạch", None
    if counted in ("don vi", "co quan", "phong"):
        duties = kb.facts({doc_id}, {FactKind.DUTY})
        if outline := section_outline(kb, plan, doc_id):  # 'phần Tổ chức thực hiện giao cho mấy đơn vị'
            heading, parts = outline
            firsts = [next((f for f in duties if f.section.endswith(title)), None) for title, _ in parts]
            if all(firsts):
                return [f for f in firsts if f is not None], f"Phần «{heading}» giao cho", None
        units: dict[str, Record] = {}
        for fact in duties:
            for unit in fact.leads:
                units.setdefault(unit.name, fact)
        return list(units.values()), "Các đơn vị được phân công", None
    kinds = _COUNTED_KINDS.get(counted, TABLE_FACT_KINDS)
    if counted in ("muc", "loai") and _GRADES_ASKED_RE.search(plan.folded):  # 'xếp loại thành mấy mức'
        return _grades(kb, doc_id), "Các mức xếp loại", None
    if plan.units:  # 'mấy chỉ tiêu do Trung tâm PVHCC theo dõi': the rows the unit leads
        led = [f for f in kb.facts({doc_id}, kinds) if f.is_table_row and set(plan.units) & {u.name for u in f.leads}]
        return led, f"Các mục do {', '.join(plan.units)} chủ trì", None
    groups = _groups(kb, plan, {doc_id})
    scope = next((g for s, g in groups if s >= 0.6  # a table of the groups themselves is no scope of items
                  and not all(_is_group_row(f) for f in group_members(kb, g))), None)
    if scope is not None:
        members = [f for f in group_members(kb, scope) if f.kind in kinds] or group_members(kb, scope)
        members = [f for f in members if not _is_group_row(f)] or members
        main = [f for f in members if "." not in (f.row_no or "")] if "chinh" in plan.folded else members
        stated = _STATED_COUNT_RE.search(scope.subject) or _STATED_COUNT_RE.search(scope.attrs.get("header", ""))
        if stated and stated.group(2) and not fold(stated.group(2)).startswith(counted):
            stated = None  # '(30 điểm)' is no count of the indicators
        return main, scope.subject, int(stated.group(1)) if stated else None
    facts = [f for f in kb.facts({doc_id}, kinds) if f.is_table_row and not _is_group_row(f)]
    if not facts:
        return [], "", None
    table_names = sorted({f.section.split(" > ")[0] for f in facts})
    label = table_names[0] if len(table_names) == 1 else "Kế hoạch"
    stated_count: int | None = None
    for table in kb.facts({doc_id}, {FactKind.GROUP}):
        if table.attrs.get("depth") == "0" and table.attrs.get("table") in table_names:
            match = _STATED_COUNT_RE.search(table.attrs.get("header", ""))
            if match and (not match.group(2) or fold(match.group(2)).startswith(counted)):
                stated_count = int(match.group(1))
    return facts, label or "Kế hoạch", stated_count
