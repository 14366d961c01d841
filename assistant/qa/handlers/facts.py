"""Who leads, who coordinates, by when, to what value: the slots of one subject, from its best fact.

The best fact is the one whose subject matches the question best (``evidence.rank_facts``); among the
facts about as good, the one that holds every asked slot is chosen. When the best subject holds no
such slot (a deadline the plan leaves blank, a year the table lacks), the answer says so instead of
taking a neighbouring row: a near miss is not found, with the candidates offered.
"""

from __future__ import annotations

import re

from assistant.qa.evidence import (
    NEAR_BEST,
    FactMatch,
    appendix_of,
    confident,
    fact_text,
    has_slot,
    misnamed,
    rank_facts,
    same_number,
    scattered,
    score_fact,
)
from assistant.qa.handlers.base import Context, Result, Route, fact_source, handles, not_found, place, places
from assistant.qa.handlers.lists import group_members
from assistant.qa.plan import QuestionPlan, Slot
from assistant.qa.render import SLOT_LABELS, capitalize, shorten, subject_label, value_text
from core.model import TABLE_FACT_KINDS, FactKind, Record
from core.normalize import fold
from ingest.record_text import unit_names
from ingest.units import find_units
from vectorstore.knowledge import KnowledgeView

FAIR_GAP = 0.25  # a fact with the slot this close to a best without it still answers, if it covers as much
MAX_PLANS_UNSCOPED = 3
MAX_EACH = 3  # facts answered together when the question asks about each of several
_EACH_RE = re.compile(r"\b(?:tung cai|moi cai|tung chi tieu|moi chi tieu|tung nhiem vu|moi nhiem vu|lan luot|ca hai|"
                      r"(?:hai|2|ba|3) (?:chi tieu|nhiem vu|chi so))\b")  # a question naming no plan is answered from at most this many plans that match as well

# Kinds that can answer each slot.
SLOT_KINDS: dict[Slot, frozenset[FactKind]] = {
    Slot.LEAD: frozenset({FactKind.INDICATOR, FactKind.TARGET, FactKind.TASK, FactKind.SCHEDULE, FactKind.DUTY,
                          FactKind.REPORT, FactKind.KPI}),
    Slot.PARTNER: frozenset({FactKind.INDICATOR, FactKind.TARGET, FactKind.TASK, FactKind.SCHEDULE, FactKind.DUTY}),
    Slot.DEADLINE: frozenset({FactKind.TASK, FactKind.SCHEDULE, FactKind.DUTY, FactKind.REPORT, FactKind.STAGE,
                              FactKind.INDICATOR, FactKind.TARGET}),
    Slot.VALUE: frozenset({FactKind.TARGET, FactKind.KPI, FactKind.SCORING, FactKind.INDICATOR}),
}


def kinds_for(slots: tuple[Slot, ...]) -> frozenset[FactKind]:
    kinds: set[FactKind] = set()
    for slot in slots:
        kinds |= SLOT_KINDS.get(slot, frozenset())
    return frozenset(kinds)


def _years_missing(fact: Record, plan: QuestionPlan, period: set[int]) -> list[int]:
    """Years asked for a value the fact does not give: its targets are keyed by other years, or it has no
    year and the year asked lies outside the plan's period (a KPI of a 2026–2030 plan has no value for 2035)."""
    keyed = {k for k in fact.targets if k}
    if not plan.years or not plan.asks(Slot.VALUE):
        return []
    if not keyed:
        return [y for y in plan.years if period and y not in period and str(y) not in fact.subject]
    return [y for y in plan.years if str(y) not in keyed]


_DATE_IN_TITLE_RE = re.compile(r"ngày\s+\d{1,2}\s*(?:tháng\s+\d{1,2}\s+năm\s+|[/-]\s*\d{1,2}\s*[/-]\s*)\d{4}",
                               re.IGNORECASE)


def plan_period(kb: KnowledgeView, doc_id: str) -> set[int]:
    """The years a plan covers, read from its title ('giai đoạn 2026 – 2030', 'năm 2026'); empty if unsaid."""
    title = _DATE_IN_TITLE_RE.sub(" ", kb.documents[doc_id].metadata.get("title") or "")  # not 'NQ 57 ngày … 2024'
    if span := re.search(r"(20\d\d)\s*[-–]\s*(20\d\d)", title):
        return set(range(int(span.group(1)), int(span.group(2)) + 1))
    return {int(y) for y in re.findall(r"\bnăm (20\d\d)\b", title)}


def _co_leads(fact: Record, plan: QuestionPlan) -> list:  # -> list[UnitRef]
    if not plan.asks(Slot.PARTNER) or fact.partners or not plan.units:
        return []
    named = set(plan.units)
    if not named & {u.name for u in fact.leads}:
        return []
    return [u for u in fact.leads if u.name not in named]


def coordinating_duty(fact: Record, plan: QuestionPlan) -> bool:
    """A duty that is itself to coordinate ('Phối hợp triển khai …') names no partner: its holder is the unit that
    coordinates, the answer to 'đơn vị nào phối hợp …' (not to 'X phối hợp với ai', which names the holder)."""
    return (fact.kind is FactKind.DUTY and not fact.partners and not plan.units
            and fold(fact.subject).startswith("phoi hop"))


def holds(fact: Record, slot: Slot, plan: QuestionPlan) -> bool:
    if slot is Slot.DEADLINE and fact.kind is FactKind.REPORT and fact.attrs.get("deadlines"):
        return report_deadline(fact, plan) is not None  # a monthly deadline is no answer to 'báo cáo 6 tháng'
    if slot is Slot.DEADLINE and fact.deadline and (asked := _periods(_ASKED_PERIOD_RE.findall(plan.folded))):
        stated = _periods(_PART_PERIOD_RE.findall(fold(fact.deadline)))
        if stated and not stated & asked:  # 'định kỳ hằng tháng' answers no 'báo cáo năm'
            return False
    if slot is Slot.LEAD and fact.kind is FactKind.REPORT and fact.attrs.get("to") and _REPORT_TO_ASKED_RE.search(
            plan.folded):  # 'vướng mắc thì báo cáo qua phòng nào': where the report goes answers
        return True
    return has_slot(fact, slot) or (slot is Slot.PARTNER and coordinating_duty(fact, plan))


# 'báo cáo về đâu', 'phản ánh về phòng nào', 'qua phòng nào', 'trình ai': where a report goes, not who writes it
_REPORT_TO_ASKED_RE = re.compile(r"\b(?:bao cao|phan anh|gui|trinh)(?: \w+){0,2} (?:ve |cho |len |toi )?(?:dau|ai|"
                                 r"(?:phong|co quan|don vi|bo phan|noi) nao)\b|\bqua (?:phong|co quan|don vi|bo phan) nao\b")


def choose(matches: list[FactMatch], plan: QuestionPlan) -> tuple[FactMatch | None, FactMatch | None]:
    """(the fact to answer from, the best subject match when it lacks what is asked).

    Among the facts about as good as the best, one that holds every slot asked wins; a fact that holds
    the slot but matches clearly worse than the best never replaces it (the best's silence is the answer)."""
    if not matches:
        return None, None
    best = matches[0]
    slots = plan.fact_slots
    near = [m for m in matches if m.score >= best.score - NEAR_BEST and confident(m)]
    fair = [m for m in matches if m.score >= best.score - FAIR_GAP and confident(m)]
    if _REPORT_TO_ASKED_RE.search(plan.folded):  # 'báo cáo … gửi về đâu': a report that says where it goes first
        near.sort(key=lambda m: not (m.fact.kind is FactKind.REPORT and m.fact.attrs.get("to")))
    for pool in (
        [m for m in near if all(holds(m.fact, s, plan) for s in slots)],
        [m for m in near if holds(m.fact, slots[0], plan)],
        [m for m in fair if holds(m.fact, slots[0], plan) and m.coverage >= best.coverage - 0.1],
    ):
        if pool:
            return pool[0], None
    return None, best


def fact_line(kb_place: str, fact: Record, plan: QuestionPlan, n: int, subject_chars: int = 220) -> str:
    """'<subject> (xã X): đơn vị chủ trì: …; phối hợp: …; thời gian: …; chỉ tiêu: … [n].'"""
    pieces: list[str] = []
    slots = plan.fact_slots
    ordered = [s for s in (Slot.VALUE, Slot.LEAD, Slot.PARTNER, Slot.DEADLINE) if s in slots]
    extras = [s for s in (Slot.LEAD, Slot.PARTNER, Slot.DEADLINE) if s not in slots]
    for slot in ordered + extras:
        text = slot_value(fact, slot, plan)
        if text and (slot in slots or len(pieces) < 3):
            pieces.append(f"{SLOT_LABELS[slot]}: {text}")
    if fact.kind is FactKind.REPORT and fact.attrs.get("to"):  # where the report goes ('gửi về đâu')
        pieces.append(f"gửi: {fact.attrs['to']}")
    if fact.group_path and _GROUP_ASKED_RE.search(plan.folded):  # 'thuộc trụ cột nào': the group the row is under
        pieces.insert(0, f"thuộc nhóm: {shorten(fact.group_path[-1], 120)}")
    subject = subject_label(fact, subject_chars, focus=plan.subject)
    return f"{capitalize(subject)} ({kb_place}) — " + "; ".join(pieces) + f" [{n}]."


# 'thuộc trụ cột nào', 'nằm trong nhóm chỉ tiêu gì': the group of the table a row sits in
_GROUP_ASKED_RE = re.compile(r"\b(?:nhom|tru cot|linh vuc)(?: (?:chi tieu|tieu chi|chi so|nhiem vu))? (?:nao|gi)\b")


def slot_value(fact: Record, slot: Slot, plan: QuestionPlan) -> str | None:
    if slot is Slot.LEAD:
        return unit_names(fact.leads) or None
    if slot is Slot.PARTNER:
        return unit_names(fact.partners or (fact.leads if coordinating_duty(fact, plan) else [])) or None
    if slot is Slot.DEADLINE:
        if fact.kind is FactKind.REPORT and fact.attrs.get("deadlines"):
            return report_deadline(fact, plan)
        if fact.kind is FactKind.STAGE:
            return fact.attrs.get("period")
        return fact.deadline or (f"Quý {fact.quarter}/{fact.year}" if fact.quarter and fact.year else None)
    if slot is Slot.VALUE:
        return value_text(fact, plan.years)
    return None


def report_deadline(fact: Record, plan: QuestionPlan) -> str | None:
    """The deadline of the report asked ('báo cáo 6 tháng' -> '6 tháng trước ngày 10/6'), else all of them;
    None when the question asks a period (6 tháng, quý, năm) that none of the deadlines is for."""
    parts = [p.strip() for p in fact.attrs["deadlines"].split(";") if p.strip()]
    periods = _periods(_ASKED_PERIOD_RE.findall(plan.folded))
    if periods:
        of_period = [p for p in parts if periods & _periods(_PART_PERIOD_RE.findall(fold(p)))]
        return "; ".join(of_period) if of_period else None
    asked = [p for p in parts if any(w in plan.folded for w in _fold_words(p) if len(w) > 2 and not w.isdigit())]
    return "; ".join(asked or parts)


# 'báo cáo 6 tháng', 'báo cáo năm', 'hằng quý': the period of a report asked, and the one a deadline is for
_ASKED_PERIOD_RE = re.compile(r"\bbao cao (6 thang|sau thang|quy|nam|thang)\b|\bhang (nam|quy|thang)\b")
_REPORT_ASKED_RE = re.compile(r"\bbao cao (?:dinh ky )?(?:6 thang|sau thang|quy|nam|thang)\b")  # a report by its period
_PART_PERIOD_RE = re.compile(r"\b(6 thang|sau thang|quy|nam(?! \d)|thang(?! \d| cuoi))\b")


def _periods(found: list[str] | list[tuple[str, ...]]) -> set[str]:
    words = {w for item in found for w in ((item,) if isinstance(item, str) else item) if w}
    return {{"sau thang": "6 thang"}.get(w, w) for w in words}


def _fold_words(text: str) -> list[str]:
    return [w for w in fold(text).split() if w not in ("truoc", "ngay", "bao", "cao")]


@handles(Route.FACT)
def answer_fact(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    slots = plan.fact_slots
    if (set(plan.subject) <= _TABLE_SUBJECT and not (plan.rows or plan.units or ctx.preferred or plan.quarter)
            and (column := _column_summary(ctx, plan, doc_ids)) is not None):
        return column
    if slots[:1] == (Slot.LEAD,) and _FOCAL_RE.search(plan.folded) and len(plan.subject) <= 2 and doc_ids:
        return _focal_unit(ctx, plan, doc_ids)  # 'cơ quan nào là đầu mối triển khai kế hoạch'
    if not (plan.subject or plan.rows or plan.units or ctx.preferred or plan.quarter):
        if slots == (Slot.VALUE,):  # 'kế hoạch đặt mục tiêu gì': the plan's goals, from its text
            return not_found(Route.FACT)
        return not_found(Route.FACT, "Câu hỏi chưa nêu nhiệm vụ, chỉ tiêu hay nội dung nào.")
    matches = rank_facts(kb, plan, doc_ids, kinds_for(slots))
    # a follow-up ('Đơn vị phối hợp là ai?') is about the fact the previous answer gave, when it says so
    followed = [m for m in matches if m.fact in ctx.preferred and holds(m.fact, slots[0], plan)]
    chosen, missing = (followed[0], None) if followed else choose(matches, plan)
    pinned = bool(followed)  # the fact is what is asked: no near-miss check second-guesses it
    if not pinned and Slot.DEADLINE in slots and _REPORT_ASKED_RE.search(plan.folded) and doc_ids is not None:
        # 'báo cáo quý … hạn chót khi nào': the reporting rule that sets that report's deadline, if the plan has one
        reports = [f for f in kb.facts(doc_ids, {FactKind.REPORT}) if f.attrs.get("deadlines") and report_deadline(f, plan)]
        if reports and (chosen is None or chosen.fact not in reports):
            ranked = {id(m.fact): m for m in matches}
            best = max(reports, key=lambda f: ranked[id(f)].score if id(f) in ranked else 0.0)
            chosen, missing = ranked.get(id(best)) or score_fact(kb, plan, best, plan.subject), None
            pinned = True  # the report is what is asked, however few of the question's words it holds
    if chosen is None and missing is not None and confident(missing) and (others := _co_leads(missing.fact, plan)):
        # 'ngoài phòng X còn ai': the plan names the other units beside X in the same cell
        result = Result(Route.FACT, True, confidence=min(1.0, missing.score))
        n = result.cite(fact_source(kb, missing.fact, missing.score))
        result.lines.append(f"{capitalize(subject_label(missing.fact, 220))} ({place(kb, missing.fact.doc_id)}) — "
                            f"cùng với {', '.join(plan.units)}: {unit_names(others)} [{n}].")
        return result
    if (chosen is None and missing is not None and confident(missing) and slots == (Slot.PARTNER,)
            and not plan.units and len(missing.fact.leads) >= 2 and not missing.fact.partners):
        # 'do ai theo dõi, những đơn vị nào cùng tham gia': the units the plan names together in the row's cell
        result = Result(Route.FACT, True, confidence=min(1.0, missing.score))
        n = result.cite(fact_source(kb, missing.fact, missing.score))
        result.lines.append(f"{capitalize(subject_label(missing.fact, 220))} ({place(kb, missing.fact.doc_id)}) — "
                            f"các đơn vị cùng đảm nhận: {unit_names(missing.fact.leads)} (kế hoạch không ghi đơn vị "
                            f"phối hợp riêng) [{n}].")
        return result
    if chosen is None and missing is not None and confident(missing) and slots == (Slot.VALUE,) and (
            counted := _COUNTED_IN_NAME_RE.search(plan.folded)) and re.search(
            rf"\b\d+\s*{counted.group(1)}\b", fold(missing.fact.subject)):  # 'OCOP mấy sao': '… OCOP 3 sao trở lên'
        result = Result(Route.FACT, True, confidence=min(1.0, missing.score), facts=[missing.fact])
        n = result.cite(fact_source(kb, missing.fact, missing.score))
        result.lines.append(f"{capitalize(subject_label(missing.fact, 220))} ({place(kb, missing.fact.doc_id)}) [{n}].")
        return result
    if chosen is None:
        if missing is not None and confident(missing):
            what = " và ".join(SLOT_LABELS[s] for s in slots)
            reason = (f"Kế hoạch của {place(kb, missing.fact.doc_id)} có nội dung «{shorten(missing.fact.subject, 120)}» "
                      f"nhưng không ghi {what}.")
            return not_found(Route.FACT, reason, [subject_label(missing.fact, 120)], [fact_source(kb, missing.fact)])
        return not_found(Route.FACT, None, [subject_label(m.fact, 120) for m in matches[:3]])
    if (group := _named_group(ctx, plan, doc_ids, chosen)) is not None:
        return group
    if (code := _missing_code(plan, chosen)) and not pinned:  # '6G' asked, the row says '5G'
        reason = (f"Kế hoạch của {place(kb, chosen.fact.doc_id)} có nội dung «{subject_label(chosen.fact, 120)}» nhưng "
                  f"không nêu {code.upper()}.")
        return not_found(Route.FACT, reason, [subject_label(chosen.fact, 120)], [fact_source(kb, chosen.fact)])
    if _MONEY_ASKED_RE.search(plan.folded) and not _MONEY_RE.search(fact_text(chosen.fact)) and not pinned:
        reason = (f"Kế hoạch của {place(kb, chosen.fact.doc_id)} có nội dung «{subject_label(chosen.fact, 120)}» nhưng "
                  f"không ghi số tiền.")  # 'bao nhiêu tỷ đồng': a rate of GRDP is no amount
        return not_found(Route.FACT, reason, [subject_label(chosen.fact, 120)], [fact_source(kb, chosen.fact)])
    if (scattered(chosen, plan) or misnamed(kb, chosen, plan)) and not pinned:
        return not_found(Route.FACT, None, [subject_label(m.fact, 120) for m in matches[:3]])
    if (elsewhere := _sent_elsewhere(chosen.fact, plan)) and not pinned:  # 'báo cáo gửi Sở KH&CN', the row: VH-XH
        reason = (f"Theo kế hoạch của {place(kb, chosen.fact.doc_id)}, «{subject_label(chosen.fact, 120)}» gửi "
                  f"{elsewhere}, không nêu gửi {', '.join(plan.recipients)}.")
        return not_found(Route.FACT, reason, [subject_label(chosen.fact, 120)], [fact_source(kb, chosen.fact)])
    if years := _years_missing(chosen.fact, plan, plan_period(kb, chosen.fact.doc_id)):
        given = ", ".join(k for k in chosen.fact.targets if k)
        asked = ", ".join(str(y) for y in years)
        reason = (f"«{subject_label(chosen.fact, 120)}» ({place(kb, chosen.fact.doc_id)}) chỉ có chỉ tiêu cho các năm "
                  f"{given}; không có năm {asked}." if given else
                  f"«{subject_label(chosen.fact, 120)}» ({place(kb, chosen.fact.doc_id)}) không ghi chỉ tiêu riêng cho "
                  f"năm {asked}, năm nằm ngoài thời gian của kế hoạch.")
        return not_found(Route.FACT, reason, [subject_label(chosen.fact, 120)], [fact_source(kb, chosen.fact)])
    answers = [chosen] if doc_ids is not None or pinned else _equally_good_per_plan(chosen, matches, plan)
    if _EACH_RE.search(plan.folded) and not pinned:  # 'hai chỉ tiêu …: A và B, ai chủ trì từng cái'
        answers += [m for m in matches if m is not chosen and m.score >= chosen.score - FAIR_GAP and confident(m)
                    and all(holds(m.fact, s, plan) for s in slots)][: MAX_EACH - 1]
    result = Result(Route.FACT, True, confidence=min(1.0, chosen.score), facts=[m.fact for m in answers])
    if len({m.fact.doc_id for m in answers}) > 1:
        result.lines.append("Câu hỏi chưa nêu xã; các kế hoạch có nội dung này:")
    task_asked = bool(_TASK_ASKED_RE.search(plan.folded))
    for match in answers:
        n = result.cite(fact_source(kb, match.fact, match.score))
        line = fact_line(place(kb, match.fact.doc_id), match.fact, plan, n, 220 if len(answers) == 1 else 100)
        line = with_task(line, match.fact, TASK_CHARS if len(answers) == 1 else 100) if task_asked else line
        result.lines.append(line if len(answers) == 1 else f"- {line}")
    return result


# 'nhiệm vụ cụ thể … là gì', 'giao nhiệm vụ gì', 'phải làm những việc gì': the row's task is asked beside its units
TASK_CHARS = 420
_TASK_ASKED_RE = re.compile(r"\bnhiem vu(?: cu the)?(?: (?!ai\b)\w+){0,12} gi\b|\bnhiem vu (?:cu the )?nao\b|\b(?:phai )?lam (?:nhung )?(?:viec )?gi\b")


def with_task(line: str, fact: Record, chars: int = TASK_CHARS) -> str:
    """A table row's line with the task its row gives ('Quản trị điện tử: Đẩy mạnh …'), after its name."""
    name, _, task = fact.subject.partition(":")
    if task.strip() and fold(name) in fold(line):
        return line.replace(" — ", f" — nội dung: {shorten(task.strip(), chars).rstrip('.')}; ", 1)
    return line


_TABLE_SUBJECT = frozenset({"cot", "ghi", "bang", "dong", "tung", "hang"})  # words that name a table's parts
_TABLE_WORDS_RE = re.compile(r"\b(?:phu luc|bang|cot|cac (?:nhiem vu|chi tieu|chi so|dong))\b")


_CODE_RE = re.compile(r"\b\d{1,2}[A-Z]{1,2}\b")  # '5G', '6G', '4G': names that differ by one sign ('15t' is a typo)


# 'mấy sao', 'bao nhiêu sản phẩm': a count a row may state in its own name
_COUNTED_IN_NAME_RE = re.compile(r"\b(?:may|bao nhieu) (sao|san pham|mo hinh|sang kien|lop|cuoc thi|tieu chi)\b")
_FOCAL_RE = re.compile(r"\bdau moi\b|\bthuong truc\b")


def _focal_unit(ctx: Context, plan: QuestionPlan, doc_ids: set[str]) -> Result:
    """The unit a plan names its focal point ('là cơ quan đầu mối …'): the duty that says so, per plan; not found
    when the plan says it of no unit or of several."""
    kb = ctx.kb
    result = Result(Route.FACT, False, confidence=0.9)
    for doc_id in sorted(doc_ids):
        said = [f for f in kb.facts({doc_id}, {FactKind.DUTY, *TABLE_FACT_KINDS})
                if _FOCAL_RE.search(fold(f.subject)) and f.leads]
        if len({u.name for f in said for u in f.leads}) != 1:
            continue
        n = result.cite(fact_source(kb, said[0]))
        result.lines.append(fact_line(place(kb, doc_id), said[0], plan, n))
        result.facts.append(said[0])
        result.found = True
    return result if result.found else not_found(
        Route.FACT, f"Kế hoạch của {places(kb, doc_ids)} không nêu rõ một cơ quan đầu mối.")


def _sent_elsewhere(fact: Record, plan: QuestionPlan) -> str | None:
    """Where a report goes, when the question names a recipient that the report does not: None otherwise."""
    to = fact.attrs.get("to") or ""
    if fact.kind is not FactKind.REPORT or not plan.recipients or not to:
        return None
    named = {u.name for u in find_units(to)}
    return None if any(r in named or fold(r) in fold(to) for r in plan.recipients) else to


_MONEY_ASKED_RE = re.compile(r"\b(?:bao nhieu|may) (?:ty|trieu|nghin|tram trieu) (?:dong|vnd)\b|\bbao nhieu tien\b")
_MONEY_RE = re.compile(r"\b(?:tỷ|triệu|nghìn|ngàn|trăm) đồng\b|\bVN[DĐ]\b|\bđồng/", re.IGNORECASE)  # as written: 'tỷ lệ'


def _missing_code(plan: QuestionPlan, chosen: FactMatch) -> str | None:
    """A code the question names ('phủ sóng 6G') that the chosen fact does not hold anywhere: a near miss."""
    held = set(fold(fact_text(chosen.fact)).split())
    return next((c for c in _CODE_RE.findall(plan.text) if c.lower() not in held), None)


def _column_summary(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result | None:
    """'Trong phụ lục …, cột đơn vị phối hợp ghi là ai?': what a table's lead or partner column holds, row count
    by row count, in the plan asked about."""
    slot = plan.fact_slots[0] if len(plan.fact_slots) == 1 else None
    if doc_ids is None or len(doc_ids) != 1 or slot not in (Slot.LEAD, Slot.PARTNER) or not _TABLE_WORDS_RE.search(plan.folded):
        return None
    rows = [f for f in ctx.kb.facts(doc_ids, TABLE_FACT_KINDS) if f.is_table_row]
    if plan.appendix:
        rows = [f for f in rows if (a := appendix_of(f)) and same_number(a, plan.appendix)]
    tables = {f.section.split(" > ")[0] for f in rows}
    if len(tables) != 1:
        return None
    counts: dict[str, list[Record]] = {}
    for fact in rows:
        counts.setdefault(slot_value(fact, slot, plan) or "(không ghi)", []).append(fact)
    result = Result(Route.FACT, True, confidence=0.8, facts=rows)
    label = SLOT_LABELS[slot]
    result.lines.append(f"Cột {label} trong «{shorten(tables.pop(), 90)}» ({place(ctx.kb, rows[0].doc_id)}):")
    for value, facts in sorted(counts.items(), key=lambda item: len(item[1]), reverse=True)[:6]:
        n = result.cite(fact_source(ctx.kb, facts[0]))
        result.lines.append(f"- {value}: {len(facts)}/{len(rows)} dòng [{n}]")
    return result


def _named_group(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None, chosen: FactMatch) -> Result | None:
    """The question names a group of a table word for word ('trụ cột Cơ sở hạ tầng') and no row as well: one row's
    lead or deadline is no answer for the whole group; the group's rows are, each with what is asked."""
    if "head" in chosen.notes or "row" in chosen.notes or plan.quarter or plan.years or ctx.preferred:
        return None  # 'quý III năm 2027' names the roadmap's rows by their time, not a group
    groups = rank_facts(ctx.kb, plan, doc_ids, {FactKind.GROUP}, use_dense=False)
    if not groups or "head" not in groups[0].notes or groups[0].coverage < chosen.coverage - 0.05:
        return None
    group = groups[0].fact
    rows = [f for f in group_members(ctx.kb, group) if all(holds(f, s, plan) for s in plan.fact_slots)]
    what = " và ".join(SLOT_LABELS[s] for s in plan.fact_slots)
    if not rows:
        reason = f"«{shorten(group.subject, 120)}» là một nhóm trong bảng của {place(ctx.kb, group.doc_id)}; kế hoạch không ghi {what} cho nhóm."
        return not_found(Route.FACT, reason, [], [fact_source(ctx.kb, group)])
    result = Result(Route.FACT, True, confidence=groups[0].score, facts=rows)
    result.lines.append(f"«{shorten(group.subject, 100)}» ({place(ctx.kb, group.doc_id)}) không ghi {what} chung cho cả "
                        f"nhóm; từng dòng của nhóm:")
    for fact in rows[:6]:
        n = result.cite(fact_source(ctx.kb, fact))
        pieces = "; ".join(f"{SLOT_LABELS[s]}: {slot_value(fact, s, plan)}" for s in plan.fact_slots)
        result.lines.append(f"- {subject_label(fact, 70)} — {pieces} [{n}]")
    return result


def _equally_good_per_plan(chosen: FactMatch, matches: list[FactMatch], plan: QuestionPlan) -> list[FactMatch]:
    """A question that names no plan, answered as well by other plans: the best fact of each, best first
    (one plan's row alone would pass for the answer when the officer's own plan says otherwise)."""
    answers, seen = [chosen], {chosen.fact.doc_id}
    for match in matches:
        if len(answers) >= MAX_PLANS_UNSCOPED:
            break
        if match.fact.doc_id in seen or match.score < chosen.score - NEAR_BEST or not confident(match):
            continue
        if all(holds(match.fact, s, plan) for s in plan.fact_slots):
            answers.append(match)
            seen.add(match.fact.doc_id)
    return answers
