"""The QA service: question -> one typed plan -> a handler chosen by an ordered route table -> a result
with its confidence -> a Vietnamese answer with citations.

An LLM, when configured, rewrites a found answer from the same sources and falls back to the
extractive answer on any error. The decision path (plan, route, confidence, candidates) is logged and
returned with the answer when asked (``explain``).
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant.qa.answer_checks import unanswered
from assistant.qa.conversation import resolve_with_previous
from assistant.qa.evidence import ROMAN, appendix_of, coverage, fact_head, row_key, same_number
from assistant.qa.fact_index import prepare as prepare_fact_words
from assistant.qa.handlers import HANDLERS, Context, Result, Route, not_found
from assistant.qa.handlers.base import places
from assistant.qa.handlers.document import matching_references
from assistant.qa.handlers.facts import plan_period
from assistant.qa.handlers.lists import grading_scale, group_number
from assistant.qa.handlers.passages import names_a_row, numbered_section
from assistant.qa.handlers.plans import answer_compare, asks_catalog
from assistant.qa.plan import (
    FACT_SLOTS,
    CorpusTerms,
    DocField,
    QuestionParser,
    QuestionPlan,
    Scope,
    Slot,
    find_communes,
)
from assistant.qa.render import LONG_CAP, SHORT_CAP, fit, not_found_text, shorten
from assistant.qa.types import Answer, Source
from core.config import Settings
from core.model import TABLE_FACT_KINDS, FactKind
from core.normalize import abbreviations, fold
from ingest.units import find_units
from vectorstore.knowledge import KnowledgeView, fact_words
from vectorstore.knowledge import prepare as prepare_knowledge
from vectorstore.store import Store

log = logging.getLogger(__name__)


# --- the route table: ordered, declarative; the first route whose condition holds answers -------------------


@dataclass(frozen=True)
class RouteRule:
    route: Route
    when: Callable[[QuestionPlan], bool]


# 'Chương trình 42-CTr/TU là ngày nào': the date of a document named by its number
_DOC_DATE_RE = re.compile(r"\b(?:ngay|thang) (?:nao|may|bn|bao nhieu)\b|\bngay thang nam nao\b")

ROUTES: tuple[RouteRule, ...] = (
    RouteRule(Route.CATALOG, asks_catalog),  # 'có kế hoạch của bao nhiêu xã': the plans loaded
    RouteRule(Route.CROSS_PLAN, lambda p: p.scope is Scope.ALL),
    RouteRule(Route.COMPARE, lambda p: len(p.communes) > 1),
    RouteRule(Route.REFERENCE, lambda p: (bool(p.numbers) or _cites(p)) and not p.asks(Slot.COUNT) and ((
        p.field in (DocField.DATE, DocField.TITLE, DocField.ISSUER, DocField.NUMBER, None)
        and not (p.field is None and any(p.asks(s) for s in (Slot.PARTNER, Slot.LEAD, Slot.DEADLINE, Slot.VALUE))))
        or (p.field is DocField.BASES and bool(p.numbers) and len(p.fields) > 1)  # 'KH 91 làm căn cứ … ngày nào'
        or (any("/" in n for n in p.numbers) and bool(_DOC_DATE_RE.search(p.folded))))),  # '42-CTr/TU là ngày nào'
    RouteRule(Route.DOC_FIELD, lambda p: p.field is not None and p.asks(Slot.FIELD)),
    RouteRule(Route.COUNT, lambda p: p.asks(Slot.COUNT)),
    RouteRule(Route.PASSAGE, lambda p: bool(p.heading) and not p.fact_slots),  # 'những nguồn kinh phí nào': its section
    # 'mục 5.2 giao những việc gì', 'mục III.4 giao những ai làm gì': what a numbered heading holds
    RouteRule(Route.SECTION, lambda p: bool(p.section) and not any(p.asks(s) for s in (Slot.DEADLINE, Slot.PARTNER,
                                                                                       Slot.VALUE))),
    # 'những lĩnh vực nào', 'chỉ số Quản trị môi trường giao làm gì': a section or a row named whole, if any
    RouteRule(Route.SECTION, lambda p: p.asks(Slot.ITEMS) and not p.fact_slots and not p.units and not p.group
              and not p.appendix and not p.rows),
    # 'chỉ số Quản trị môi trường phải làm những việc gì và phòng nào lo': the row named, its task and units
    RouteRule(Route.FACT, lambda p: p.asks(Slot.ITEMS) and bool(p.fact_slots) and names_a_row(p) and not p.group
              and not p.appendix and not p.rows and not p.units),
    RouteRule(Route.DUTIES, lambda p: p.asks(Slot.DUTIES) and not p.group),  # 'nhóm III gồm những việc gì'
    RouteRule(Route.ITEMS, lambda p: p.asks(Slot.DUTIES) and bool(p.group)),
    RouteRule(Route.UNITS, lambda p: p.asks(Slot.UNITS)),
    RouteRule(Route.ITEMS, lambda p: p.asks(Slot.ITEMS)),
    # 'quý II năm 2026 triển khai nhiệm vụ gì (, ai chủ trì)': the roadmap rows of that time
    RouteRule(Route.ITEMS, lambda p: bool(p.quarter) and not p.subject and not p.asks(Slot.VALUE)),
    RouteRule(Route.FACT, lambda p: any(s in FACT_SLOTS for s in p.slots)),
    RouteRule(Route.PASSAGE, lambda p: True),
)
# When a route finds nothing, the next route worth trying (never a route that could answer a different
# question: a lead question never falls back to a free passage that names no unit).
FALLBACKS: dict[Route, Route] = {
    Route.REFERENCE: Route.DOC_FIELD,
    Route.SECTION: Route.ITEMS,  # 'mục 5' of a table rather than a heading; no section or row named whole
    Route.ITEMS: Route.PASSAGE,
    Route.UNITS: Route.PASSAGE,
    Route.COUNT: Route.ITEMS,
    Route.FACT: Route.PASSAGE,  # a sentence that names what is asked (a unit, a date, a value), or nothing
}


# A document the plan cites, described rather than numbered: 'Nghị quyết HĐND xã … mà kế hoạch viện dẫn'.
_CITED_DOC_RE = re.compile(
    r"\b(?:nghi quyet|quyet dinh|chi thi|nghi dinh|thong tu|chuong trinh hanh dong|cong van|luat|de an|van ban)\b"
    r".*\b(?:vien dan|can cu|trich dan|dan chieu|duoc neu|de cap|duoc dan)\b"
    r"|\bke hoach\b.*\b(?:vien dan|trich dan|dan chieu|duoc dan|nhac (?:toi|den)|de cap)\b"  # 'kế hoạch CCHC … được dẫn là KH số mấy'
    r"|\b(?:nhac|de cap|vien dan|dan chieu)\b.*\b(?:ke hoach|kh)\b"  # 'KH PII có nhắc KH CCHC, KH đó số mấy'
    # a document of another kind than a plan ('CTr hành động của Đảng ủy xã số mấy'), not a plan's type ('KH NQ 57')
    r"|\b(?:chuong trinh hanh dong|ctr|nghi quyet|nq|quyet dinh|qd|chi thi|nghi dinh|thong tu|cong van|de an|ket luan)\b"
    r"(?! ?(?:so )?\d)"
    # a plan issued above the commune ('làm theo KH của UBND tỉnh số mấy')
    r"|\b(?:ke hoach|kh) (?:\w+ ){0,4}?(?:cua|do) (?:(?:ubnd|uy ban nhan dan) (?:tinh|thanh pho|huyen)|tinh uy|dang uy|"
    r"ban thuong vu|ban chap hanh|bch|ban chi dao)\b"
)


_EACH_SUBJECT_RE = re.compile(r"\b(?:va|vs)\b.*\b(?:lan luot|moi cai|tung cai|tuong ung|rieng tung|moi chi tieu)\b")
# 'tỷ lệ X và tỷ lệ Y đạt bao nhiêu': the head word said again after 'và' starts a second subject
_SAME_HEAD_RE = re.compile(r"\b(ty le|ti le|so luong|chi tieu|muc)\b.*\bva (?:\1)\b")
_COMPARED_RE = re.compile(r"\bso voi\b|\b(?:cao|thap|nhieu|it) hon\b|\bchenh\b")

# 'X trước ngày mấy, còn Y thì sao / trước ngày mấy?': a second question after 'còn'
_SECOND_CLAUSE_RE = re.compile(r"[,;?.]\s*(?:còn|con|và|va|rồi|roi|sau đó|sau do|riêng|rieng|trong đó|trong do)\s+(?=\S)",
                               re.IGNORECASE)  # '…, riêng nhóm I có mấy': a second question about a part
_SECOND_SENTENCE_RE = re.compile(r"\?\s*(?=\w)")


_BARE_COUNT_RE = re.compile(r"\b(?:co )?(?:may|bao nhieu|bn)\W*$")  # 'có mấy?', 'bao nhiêu?': what is counted, unsaid
_ASKS_RE = re.compile(r"\b(?:ai|nao|gi|sao|bao nhieu|may|bao gio|o dau|the nao)\b")


def _short_subject(line: str, chars: int = 120) -> str:
    """A fact line's subject cut to ``chars`` (two answers must fit where one did)."""
    match = re.match(r"(.*?)( \((?:xã|phường) [^)]*\) — .*)$", line, re.DOTALL)
    return shorten(match.group(1), chars) + match.group(2) if match and len(match.group(1)) > chars else line


_NAMED_GROUP_RE = re.compile(r"\b[Nn]hóm\s+(?:[\"“«]\s*)?[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ][^\W\d]")


def _cites(plan: QuestionPlan) -> bool:
    return bool(_CITED_DOC_RE.search(plan.folded)) and plan.field in (DocField.NUMBER, DocField.DATE, DocField.ISSUER)


# Routes that read every plan whatever their number: questions over every plan, the catalog, a document question
# (the one plan its title names) and a fact (its handler scores the best facts of every plan, not each plan's)
_EVERY_PLAN_ROUTES = frozenset({Route.CROSS_PLAN, Route.CATALOG, Route.DOC_FIELD, Route.FACT})


def choose_route(plan: QuestionPlan) -> Route:
    return next(rule.route for rule in ROUTES if rule.when(plan))




def _named_pillar(plan: QuestionPlan) -> tuple[str, ...]:
    """The subject words that follow 'trụ cột' in the question, or 'nhóm' before a capitalized name: the pillar or
    group it names ('trụ cột Tác động', 'nhóm Sản phẩm tri thức')."""
    words = plan.phrase
    if re.search(r"\b(?:cac|nhung|moi|tung|may|bao nhieu)\s+(?:nhom\s+)?(?:tru cot|nhom)\b", plan.folded):
        return ()  # 'các trụ cột', 'mấy nhóm trụ cột': none named
    named_group = bool(_NAMED_GROUP_RE.search(plan.text))
    for i in range(len(words) - 1):
        if words[i : i + 2] == ("tru", "cot") or (named_group and words[i] == "nhom"):
            head = ("tru", "cot") if words[i] == "tru" else ("nhom",)
            named = []
            written = iter(_words_written_after(plan.text, head))
            for word in words[i + len(head) :]:
                if word not in plan.subject or word not in written:  # ('in' reads the written words on to it)
                    break
                named.append(word)
            return tuple(named)
    return ()


ROW_NAMED_AS_GROUP = 0.8  # of a pillar's or group's name in a row's: the row the question calls a group

_NAME_END_RE = re.compile(r"[,;:?!()\[\]”»]|\.(?!\d)")  # where a name written in a question ends


def _words_written_after(text: str, head: tuple[str, ...]) -> tuple[str, ...]:
    """The words the question writes after its first ``head`` ('trụ cột') up to a punctuation mark: the name it
    gives ends there ('trụ cột Thể chế, dòng Cải cách hành chính' names 'Thể chế')."""
    for clause in _NAME_END_RE.split(text):
        said = tuple(fold(clause).split())  # spelled as the question's phrase is
        for j in range(len(said) - len(head) + 1):
            if said[j : j + len(head)] == head:
                return said[j + len(head) :]
    return tuple(fold(text).split())


# A word no Vietnamese syllable spells (f, j, w, z): a foreign name or term ('wifi', 'Zalo', 'Facebook')
_FOREIGN_TERM_RE = re.compile(r"\b(?=\w*[fjwz])[a-z][a-z0-9]{2,}\b")


_APPENDIX_NAMED_RE = re.compile(r"\b(?:trong|o|tai|theo) (?:cac |bang )?phu luc\b")


def _part_labels(kb: KnowledgeView, docs: list[str]) -> set[str]:
    """The top-level parts the plans' passages sit in, folded ('phu luc 2: bo chi so …', 'ii. muc tieu')."""
    return {fold(c.section.split(" > ")[0]) for d in docs for c in kb.chunks(d)}


def missing_part(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> str | None:
    """A near miss: the question names an appendix, a group or a row that the plans asked about do not have."""
    docs = sorted(doc_ids if doc_ids is not None else kb.documents)
    if not docs or plan.scope is Scope.ALL:
        return None
    where = places(kb, docs)
    for term in _FOREIGN_TERM_RE.findall(fold(plan.text)):  # 'wifi', 'Zalo': a thing the plan would have to name
        if term in plan.phrase and not any(kb.mentions(d, term) for d in docs):
            written = re.search(rf"\b{term}\b", plan.text, re.IGNORECASE)
            return (f"{f'Kế hoạch của {where}' if doc_ids is not None else 'Các kế hoạch đã nạp'} không nhắc tới "
                    f"«{written.group(0) if written else term}».")
    for number in (n for n in plan.numbers if "/" in n):  # 'căn cứ Quyết định 999/QĐ-UBND': one no plan here cites
        own = {fold(kb.documents[d].metadata.get("number") or "") for d in docs}
        if not matching_references(kb, (number,), set(docs)) and fold(number) not in own:
            return (f"{f'Kế hoạch của {where}' if doc_ids is not None else 'Các kế hoạch đã nạp'} không nhắc tới "
                    f"văn bản số {number}.")
    for unit in plan.unlisted_units:
        spelled_out = " ".join(abbreviations().get(w, w) for w in fold(unit).split())  # 'Tổ ĐMST'
        if not any(kb.mentions(d, unit) or kb.mentions(d, spelled_out) for d in docs):
            return f"{f'Kế hoạch của {where}' if doc_ids is not None else 'Các kế hoạch đã nạp'} không nêu {unit}."
    if not plan.appendix and _APPENDIX_NAMED_RE.search(plan.folded) and doc_ids is not None:
        # 'trong phụ lục bảng chỉ số của KH 128' of a plan with no appendix and no table at all
        table_rows = [f for f in kb.facts(set(docs), TABLE_FACT_KINDS) if f.is_table_row]
        if not any(label.startswith("phu luc") for label in _part_labels(kb, docs)) and not table_rows:
            return f"Kế hoạch của {where} không có phụ lục hay bảng chỉ tiêu nào."
    if plan.appendix:
        wanted = ROMAN.get(plan.appendix, plan.appendix)
        labels = _part_labels(kb, docs)
        numbers = {ROMAN.get(m.group(1), m.group(1)) for label in labels
                   for m in re.finditer(r"\bphu luc\s+(\d|[ivx]{1,4})\b", label)}
        unnumbered = any(re.match(r"phu luc\b(?!\s+(?:\d|[ivx]{1,4})\b)", label) for label in labels)
        if wanted not in numbers and not (unnumbered and wanted == "1"):
            return f"Kế hoạch của {where} không có Phụ lục {plan.appendix.upper()}."
    if plan.group:
        facts = kb.facts(set(docs), {FactKind.GROUP, FactKind.KPI})
        numbers = {n for f in facts for label in (f.subject, f.row_no or "", *f.group_path) if (n := group_number(label))}
        if facts and ROMAN.get(plan.group, plan.group) not in numbers:
            return f"Kế hoạch của {where} không có nhóm {plan.group.upper()}."
    if pillar := _named_pillar(plan):
        groups = kb.facts(set(docs), {FactKind.GROUP})
        if groups and max(coverage(kb, pillar, fact_words(g.subject))[0] for g in groups) < 0.5 and not any(
                coverage(kb, pillar, fact_words(fact_head(f)))[0] >= ROW_NAMED_AS_GROUP
                for f in kb.facts(set(docs), TABLE_FACT_KINDS) if f.is_table_row):
            return f"Bảng của kế hoạch {where} không có trụ cột như câu hỏi nêu."  # nor a row so named ('nhóm …')
    if plan.quarter and doc_ids is not None:  # 'quý I năm 2026' that the roadmap does not have
        timed = [f for f in kb.facts(set(docs), {FactKind.SCHEDULE}) if f.quarter]
        in_quarter = [f for f in timed if f.quarter == plan.quarter and (not plan.years or f.year in plan.years)]
        if timed and not in_quarter:
            when = f"Quý {plan.quarter}" + (f"/{plan.years[0]}" if plan.years else "")
            return f"Bảng tiến độ của kế hoạch {where} không có nhiệm vụ nào cho {when}."
    if plan.rows and doc_ids is not None and not (plan.section and numbered_section(kb, plan.section, doc_ids)):
        facts = kb.facts(set(docs), TABLE_FACT_KINDS)
        if plan.appendix:  # 'nhiệm vụ số 20 trong Phụ lục II': the rows of that appendix
            facts = [f for f in facts if (a := appendix_of(f)) and same_number(a, plan.appendix)] or facts
        rows = {row_key(f.row_no) for f in facts if f.row_no}
        def present(row: str) -> bool:  # '15.7': the row itself; its parent only where sub-rows are not numbered
            parent = row.split(".")[0]
            return row in rows or (parent in rows and not any(x.startswith(parent + ".") for x in rows))

        if rows and not any(present(r) for r in plan.rows):
            where_rows = f"Phụ lục {plan.appendix.upper()} của kế hoạch {where}" if plan.appendix else f"Bảng của kế hoạch {where}"
            return f"{where_rows} không có dòng số {', '.join(plan.rows)}."
    return None


def unsaid_years(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> str | None:
    """'giai đoạn 2031–2035' of a plan for 2026–2030 that never names those years (a value asked for such a
    year is left to the fact route, which offers the closest rows)."""
    asked = sorted({*plan.years, *(y for period in plan.periods for y in period)})
    if not asked or not doc_ids or any(y in plan_period(kb, d) or kb.mentions(d, str(y)) for y in asked for d in doc_ids):
        return None
    return f"Kế hoạch của {places(kb, doc_ids)} không nêu nội dung nào cho năm {', '.join(str(y) for y in asked)}."


PROSE_VALUE_COVERAGE = 0.8  # of the question's subject, in the sentence that states a value the row lacks
REPEATED_CHARS = 40  # of a fact's subject found again in a passage: the same statement


def _same_evidence(first: Result, second: Result, same_facts: bool = True) -> bool:
    """The second answer repeats the first, and its question has no answer of its own: it stands on the same
    facts (when ``same_facts``; two slots of one row are two answers), or it is a passage that states one of the
    first's facts again."""
    if first.facts and first.facts == second.facts:
        return same_facts
    stated = [fold(f.subject)[:REPEATED_CHARS] for f in first.facts if len(f.subject) >= REPEATED_CHARS]
    return not second.facts and any(s in fold(line) for s in stated for line in second.lines)


class QAService:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.parser = QuestionParser()
        store.add_snapshot_hook(prepare_knowledge)  # statistics ready before a snapshot's first question
        store.add_snapshot_hook(prepare_fact_words(store))  # and every fact's words, for questions over every plan
        self.llm = None
        if settings.llm_enabled:
            from assistant.qa.llm import LLMAnswerer

            self.llm = LLMAnswerer(settings)

    def view(self) -> KnowledgeView:
        return KnowledgeView(self.store, self.store.snapshot)

    def terms(self, kb: KnowledgeView) -> CorpusTerms:
        numbers = tuple(sorted({(d.metadata.get("number") or "").split("/")[0] for d in kb.documents.values()} - {""}))
        titles = tuple(fold(d.metadata.get("title") or "") for d in kb.documents.values())
        units = tuple(kb.unit_names.items())
        return CorpusTerms(tuple(kb.communes), tuple(kb.provinces), numbers, titles, units)

    # --- public API ------------------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, commune: str | None = None) -> list[Source]:
        from assistant.qa.handlers.base import chunk_source

        kb = self.view()
        doc_ids = kb.docs_where(communes=(commune,)) if commune else None
        return [chunk_source(kb, h.chunk, score=h.score) for h in kb.search_chunks(query, doc_ids, None, k=k)]

    def plan(self, question: str, history: list[dict] | None = None, kb: KnowledgeView | None = None) -> QuestionPlan:
        return self._plans(question, history, kb or self.view())[0]

    def _plans(
        self, question: str, history: list[dict] | None, kb: KnowledgeView
    ) -> tuple[QuestionPlan, QuestionPlan | None]:
        text = unicodedata.normalize("NFC", question).strip()
        return resolve_with_previous(self.parser, text, history or [], self.terms(kb))

    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        commune: str | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> Answer:
        started = time.perf_counter()
        kb = self.view()
        plan, previous = self._plans(question, history, kb)
        if commune:
            matched = find_communes(fold(commune), kb.communes) or find_communes(
                fold(commune).removeprefix("xa ").strip(), kb.communes)
            plan = replace(plan, communes=tuple(matched), unknown_commune=None if matched else commune,
                           scope=Scope.ONE if matched and plan.scope is Scope.ALL else plan.scope)
        preferred = self._answer(kb, previous).facts if previous is not None and plan.same_subject else []
        result = self._answer(kb, plan, preferred)
        if result.found and (missing := unanswered(plan.text, "\n".join(result.lines))):
            result = self._partial(result, missing)
        answer = self._render(kb, plan, result)
        if self.llm is not None and answer.found:
            answer = self.llm.rewrite(plan, answer)
        k = max(1, min(top_k or self.settings.default_top_k, self.settings.max_top_k))
        if plan.unknown_commune and not plan.communes:
            answer.sources = []  # nothing to show for a commune we do not have
        else:
            answer.sources = self._pad_sources(kb, plan, answer.sources, k)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        trace = {"plan": plan.explain(), "route": result.route.value, "found": result.found,
                 "confidence": round(result.confidence, 3), "reason": result.reason, "candidates": result.candidates}
        log.info("qa %s", trace)
        if explain:
            answer.explain = trace
        return answer

    # --- composition ------------------------------------------------------------------------------------------

    def _scope(self, kb: KnowledgeView, plan: QuestionPlan) -> set[str] | None:
        """The plans the question is about; None for all of them."""
        if plan.communes or plan.provinces or plan.plan_number or (plan.plan_type and plan.scope is not Scope.ALL):
            docs = kb.docs_where(plan.communes, plan.provinces, plan.plan_number,
                                 plan.plan_type if not plan.communes else None)
            if docs or plan.communes:
                return docs
            return kb.docs_where(plan.communes, plan.provinces, plan.plan_number)
        return None

    def _answer(self, kb: KnowledgeView, plan: QuestionPlan, preferred: list | None = None) -> Result:
        if not kb.documents:
            return not_found(Route.EMPTY, "Chưa có kế hoạch nào trong chỉ mục. Hãy tải lên hoặc nạp kế hoạch trước.")
        if plan.unknown_commune and not plan.communes:
            return not_found(Route.UNKNOWN_COMMUNE, f"Chưa có kế hoạch của xã {plan.unknown_commune} trong kho.")
        if plan.unknown_province and not plan.communes:
            return not_found(Route.UNKNOWN_COMMUNE, f"Chưa có kế hoạch nào của tỉnh {plan.unknown_province} trong kho.")
        route = choose_route(plan)
        doc_ids = self._scope(kb, plan)
        if doc_ids is None and route not in _EVERY_PLAN_ROUTES and (closest := self._closest_plans(kb, plan)) is not None:
            kb = kb.within(closest)  # still a question naming no plan, answered from the plans that match it best
        if reason := missing_part(kb, plan, doc_ids):
            return not_found(Route.ITEMS, reason)
        if route is not Route.FACT and (reason := unsaid_years(kb, plan, doc_ids)):
            return not_found(route, reason)
        ctx = Context(kb, self.settings, preferred or [])
        if route is Route.COMPARE:
            if plan.slots == (Slot.TEXT,) and _COMPARED_RE.search(plan.folded):  # 'quy mô … của xã A so với xã B'
                plan = replace(plan, slots=(Slot.VALUE,))
            return answer_compare(ctx, plan, self._route_one)
        if route is Route.FACT and (scale := grading_scale(kb, plan, doc_ids)) is not None:
            return scale
        if route is Route.FACT and (both := self._each_clause(ctx, kb, plan, doc_ids)) is not None:
            return both
        if route is Route.FACT and (pair := self._each_subject(ctx, kb, plan, doc_ids)) is not None:
            return pair
        if (parts := self._two_questions(kb, plan, route)) is not None:
            return self._both(ctx, *parts, doc_ids)
        result = self._run(ctx, plan, route, doc_ids)
        if (result.found and route is Route.COUNT and plan.asks(Slot.VALUE) and Slot.VALUE not in result.answered
                and (clause := self._clause_plan(kb, plan, Slot.VALUE)) is not None):
            value = HANDLERS[Route.FACT](ctx, clause, doc_ids)
            if value.found:
                for line in value.lines:
                    result.lines.insert(1, result.recite(line, value.sources))
        return result

    def _each_clause(self, ctx: Context, kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None
                     ) -> Result | None:
        """'Các đơn vị gửi Phòng VH-XH trước ngày mấy, còn Phòng VH-XH báo cáo UBND xã trước ngày mấy?': two
        questions in one, each answered on its own about the plans the whole names."""
        parts = [p for p in _SECOND_CLAUSE_RE.split(plan.text) if p.strip()]
        by_comma = len(parts) != 2
        if by_comma:  # 'tổng bao nhiêu điểm, nhóm ĐMST chiếm bao nhiêu điểm': two questions, one comma
            parts = next(([plan.text[: m.start()], plan.text[m.end() :]] for m in re.finditer(r",\s*", plan.text)
                          if _ASKS_RE.search(fold(plan.text[: m.start()])) and _ASKS_RE.search(fold(plan.text[m.end() :]))),
                         [])
            if len(parts) != 2:
                return None
        results = []
        first: QuestionPlan | None = None
        for part in parts:
            sub = self.parser.parse(part, self.terms(kb))
            if not sub.subject and not sub.units:  # 'ai chủ trì, và ai phối hợp?' is one question about one thing
                return None
            if by_comma and first is not None and len(set(sub.subject) - set(first.subject)) < 3 and not sub.units:
                return None  # ', đến 2030 nâng lên mức nào?': the same subject asked again
            if not any(s in FACT_SLOTS for s in sub.slots):
                if first is None:
                    return None
                sub = replace(sub, slots=first.fact_slots)  # 'Còn báo cáo 6 tháng?': asks what the first asked
            first = first or sub
            sub = _within(sub, plan)
            results.append(self._run(ctx, sub, choose_route(sub), doc_ids))
        if all(r.found for r in results) and _same_evidence(results[0], results[1], same_facts=False):
            results[1] = not_found(results[1].route)  # the second only repeats the first's evidence
        if not all(r.found for r in results):
            separator = _SECOND_CLAUSE_RE.search(plan.text)
            two_questions = by_comma or separator is not None and (fold(separator.group(0)).strip(" ,;?.") != "va" or all(
                _ASKS_RE.search(fold(part)) for part in parts))  # 'A là ai, và B thì xử lý ra sao?'
            if any(r.found for r in results) and two_questions:  # 'X trước ngày mấy, còn/rồi Y trước ngày mấy'
                return self._half(results)
            return None
        combined = Result(Route.FACT, True, confidence=min(r.confidence for r in results))
        for sub_result in results:
            for line in sub_result.lines:
                combined.lines.append(_short_subject(combined.recite(line, sub_result.sources)))
        return combined

    def _two_questions(self, kb: KnowledgeView, plan: QuestionPlan, route: Route
                       ) -> tuple[QuestionPlan, QuestionPlan] | None:
        """Two questions in one, each parsed alone; None for one question:
        - joined by ', và/còn/rồi', each with its own question word ('KPI xây dựng theo những nguyên tắc nào, và
          kết quả dùng làm căn cứ cho việc gì?'), unless one fact is asked several things;
        - two sentences ('… là bao nhiêu? Phòng nào chủ trì chỉ tiêu Y?'), each with its own question word, the
          second with a subject of its own (a sentence without one asks more of the same fact).
        A bare comma is not split on: 'mấy nhóm, nhóm nào nhiều điểm nhất' and 'quy định thế nào, gửi qua phòng
        nào' ask of one thing."""
        separators = [] if route is Route.FACT else [(_SECOND_CLAUSE_RE.search(plan.text), False)]
        separators += [(m, True) for m in _SECOND_SENTENCE_RE.finditer(plan.text)]
        for separator, own_subjects in separators:
            if separator is None:
                continue
            first_text, second_text = plan.text[: separator.start()], plan.text[separator.end() :]
            if not (_ASKS_RE.search(fold(first_text)) and _ASKS_RE.search(fold(second_text))):
                continue
            first, second = (_within(self.parser.parse(t, self.terms(kb)), plan) for t in (first_text, second_text))
            if first.asks(Slot.COUNT) and not second.asks(Slot.COUNT) and _BARE_COUNT_RE.search(fold(second_text)):
                # '…, riêng nhóm I có mấy?': the second counts what the first counts, in its part
                second = replace(second, slots=first.slots, counted=first.counted, kinds=first.kinds)
            if own_subjects and len(set(second.subject) - set(first.phrase)) < 2:
                continue
            if len(set(second.phrase) - set(first.phrase)) < 2 and not set(second.units) - set(first.units):
                continue  # 'ai chủ trì, và ai phối hợp?': one thing asked twice
            # the second goes on about the first's topic ('Bộ KPI xếp loại thế nào, và kết quả dùng để làm gì?')
            return first, replace(second, context=tuple(dict.fromkeys((*second.context, *first.subject, *first.context))))
        return None

    def _both(self, ctx: Context, first: QuestionPlan, second: QuestionPlan, doc_ids: set[str] | None) -> Result:
        """Both questions answered, one after the other; or not found, what was found shown as the closest (a
        confident half answer misleads)."""
        results = [self._run(ctx, part, choose_route(part), doc_ids) for part in (first, second)]
        if all(r.found for r in results) and not _same_evidence(results[0], results[1]):
            combined = results[0]
            combined.lines = _listed_briefly(combined.lines)
            for line in _listed_briefly(results[1].lines):
                combined.lines.append(combined.recite(line, results[1].sources))
            return combined
        return self._half(results) if any(r.found for r in results) else results[0]

    def _half(self, results: list[Result]) -> Result:
        """Two questions of which one was answered: not found, the answered one shown as the closest."""
        found = next(r for r in results if r.found)
        return self._partial(found, ["phần thứ hai của câu hỏi" if results[0].found else "phần đầu của câu hỏi"])

    @staticmethod
    def _partial(result: Result, missing: list[str]) -> Result:
        """A found answer that lacks what the question asks explicitly: not found, its content the closest."""
        closest = shorten(re.sub(r"\s*\[\d+\]", "", result.lines[0] if len(result.lines) == 1 else
                                 " ".join(result.lines[:2])), 200)
        reason = f"Nội dung tìm được không nêu {' và '.join(missing)} như câu hỏi hỏi. Nội dung gần nhất: {closest}"
        return replace(result, found=False, reason=reason, candidates=[], lines=[])

    def _each_subject(self, ctx: Context, kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None
                      ) -> Result | None:
        """'Chỉ tiêu VNeID và chữ ký số năm 2026 lần lượt là bao nhiêu?', 'tỷ lệ X và tỷ lệ Y đạt mức nào?': two
        subjects joined by 'và' and asked each ('lần lượt', 'mỗi', 'từng', or the head word said again): each
        answered on its own; both must be found, from different rows."""
        text = re.sub(r"^[^:]{0,60}:\s*", "", plan.text)  # 'Phước An: …' names the plan, kept by the whole plan
        again = None
        if _EACH_SUBJECT_RE.search(plan.folded):
            parts = [p for p in re.split(r"\s+(?:và|va)\s+", text, maxsplit=1) if p.strip()]
        elif (again := _SAME_HEAD_RE.search(fold(text))) is not None:  # 'tỷ lệ X và tỷ lệ Y': split where it recurs
            joints = [m for m in re.finditer(r"\s+(?:và|va)\s+", text, re.IGNORECASE)
                      if fold(text[m.end() :]).startswith(again.group(1))]
            parts = [text[: joints[0].start()], text[joints[0].end() :]] if joints else []
        else:
            return None
        if len(parts) != 2:
            return None
        results: list[Result] = []
        for part in parts:
            sub = self.parser.parse(part, self.terms(kb))
            if not sub.subject:
                return None
            sub = replace(_within(sub, plan), slots=plan.fact_slots or sub.slots, years=sub.years or plan.years)
            if not sub.fact_slots:
                return None
            results.append(self._run(ctx, sub, Route.FACT, doc_ids))
        if not all(r.found and r.facts for r in results) or results[0].facts[0] is results[1].facts[0]:
            if again is not None and any(r.found for r in results) and not all(r.found for r in results):
                return self._half(results)  # one of two subjects the plan has: a half answer would mislead
            return None
        combined = Result(Route.FACT, True, confidence=min(r.confidence for r in results),
                          facts=[f for r in results for f in r.facts])
        for sub_result in results:  # each subject's own row (its first line)
            line = combined.recite(sub_result.lines[0].removeprefix("- "), sub_result.sources)
            combined.lines.append("- " + _short_subject(line, 100))
        return combined

    def _clause_plan(self, kb: KnowledgeView, plan: QuestionPlan, slot: Slot) -> QuestionPlan | None:
        """The part of a two-part question that asks ``slot``, parsed alone, about the plans the whole names; None
        when no part asks it alone ('bao nhiêu chỉ tiêu phấn đấu đến 2026' asks one thing)."""
        for part in (p for p in re.split(r"[,;]", plan.text) if p.strip()):
            sub = self.parser.parse(part, self.terms(kb))
            if slot in sub.slots and Slot.COUNT not in sub.slots:
                return replace(sub, slots=(slot,), communes=plan.communes, provinces=plan.provinces,
                               plan_type=plan.plan_type, plan_number=plan.plan_number)
        return None

    def _route_one(self, ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
        return self._run(ctx, plan, choose_route(replace(plan, scope=Scope.ONE)), doc_ids)

    def _run(self, ctx: Context, plan: QuestionPlan, route: Route, doc_ids: set[str] | None) -> Result:
        if route is Route.DOC_FIELD and doc_ids is None:
            doc_ids = self._likely_plan(ctx.kb, plan)
        result = HANDLERS[route](ctx, plan, doc_ids)
        if (route is Route.FACT and not result.found and result.reason and plan.subject
                and (plan.asks(Slot.PARTNER) or plan.asks(Slot.VALUE))):
            said = HANDLERS[Route.PASSAGE](ctx, plan, doc_ids)  # the row has no partner or value; a sentence may say
            if said.found and (plan.asks(Slot.PARTNER) or coverage(
                    ctx.kb, plan.subject, fact_words(" ".join(said.lines)))[0] >= PROSE_VALUE_COVERAGE):
                return said  # a value only from a sentence about the very subject asked ('tăng trưởng GRDP … cao hơn')
        tried = {route}
        while not result.found and not result.reason and (fallback := FALLBACKS.get(route)) and fallback not in tried:
            route = fallback
            tried.add(route)
            retry = HANDLERS[route](ctx, plan, doc_ids if route is not Route.DOC_FIELD or doc_ids else
                                    self._likely_plan(ctx.kb, plan))
            if retry.found or (retry.reason and not result.reason):
                result = retry
        return result

    def _closest_plans(self, kb: KnowledgeView, plan: QuestionPlan) -> set[str] | None:
        """A question that names no plan, among more plans than ``unscoped_plans``: the plans of its best passages
        and facts, that many (the handlers read each plan they are given: among 1,000 plans reading them all would
        take seconds, to show the first few). None (all plans) when they are few."""
        wanted = self.settings.unscoped_plans
        if len(kb.documents) <= wanted:
            return None
        closest: list[str] = []
        for hit in kb.search_chunks(plan.text, None, None, k=4 * wanted, dense=True):
            if hit.chunk.doc_id not in closest:
                closest.append(hit.chunk.doc_id)
        return set(closest[:wanted]) or None

    def _likely_plan(self, kb: KnowledgeView, plan: QuestionPlan) -> set[str] | None:
        """A document question that names no commune: the plan whose title the question matches."""
        if len(kb.documents) == 1:
            return set(kb.documents)
        if not plan.subject:
            return None
        hits = kb.search_chunks(plan.text, None, {"text"}, k=3, dense=False)
        return {hits[0].chunk.doc_id} if hits else None

    def _render(self, kb: KnowledgeView, plan: QuestionPlan, result: Result) -> Answer:
        if not result.found or not result.lines:
            subject = (f"xã {plan.unknown_commune}" if plan.unknown_commune else f"tỉnh {plan.unknown_province}"
                       ) if result.route is Route.UNKNOWN_COMMUNE else None
            reason = None if result.route is Route.UNKNOWN_COMMUNE else result.reason
            text = not_found_text(kb.communes, reason, result.candidates, subject)
            return Answer(text, False, result.sources, intent=_intent(plan, result))
        cap = SHORT_CAP if result.short else LONG_CAP
        lines = result.lines
        if _confirms(plan, result):  # 'có đề nghị MTTQ giám sát … không?': say yes before what the plan says
            lines = [f"Có. {lines[0]}", *lines[1:]]
        return Answer(fit(lines, cap), True, result.sources, intent=_intent(plan, result))

    def _pad_sources(self, kb: KnowledgeView, plan: QuestionPlan, sources: list[Source], k: int) -> list[Source]:
        """Cited sources first, then the next best passages of the same plans, up to k."""
        from assistant.qa.handlers.base import chunk_source

        if len(sources) >= k:
            return sources
        doc_ids = self._scope(kb, plan)
        if doc_ids is None and sources:
            doc_ids = {s.doc_id for s in sources}
        seen = {(s.doc_id, s.line_start, s.kind) for s in sources}
        padded = list(sources)
        for hit in kb.search_chunks(plan.text, doc_ids, {"text", "table"}, k=k * 2, dense=False):
            key = (hit.chunk.doc_id, hit.chunk.line_start, hit.chunk.kind)
            if key in seen:
                continue
            seen.add(key)
            padded.append(chunk_source(kb, hit.chunk, score=hit.score))
            if len(padded) >= k:
                break
        return padded


# 'Kế hoạch có … không?' (not 'có phải … không', 'đúng không': those may be answered otherwise than asked)
_YES_NO_RE = re.compile(r"\bco\b(?!.*\bco phai\b)(?!.*\bdung (?:khong|ko)\b).*\b(?:khong|ko|chua)\W*$")


def _confirms(plan: QuestionPlan, result: Result) -> bool:
    """A yes/no question answered by what the plan says of it (a passage, a duty, a section), every unit it names
    in the answer: the answer is yes."""
    if result.route not in (Route.PASSAGE, Route.DUTIES, Route.SECTION) or not _YES_NO_RE.search(plan.folded):
        return False
    named = {u.name for u in find_units(" ".join(result.lines))}
    return not result.lines[0].startswith("Có") and set(plan.units) <= named


BRIEF_LIST_ITEMS = 2  # items of a list kept when it is one of two answers
_MORE_ITEMS_RE = re.compile(r"- … và (\d+)")


def _listed_briefly(lines: list[str]) -> list[str]:
    """One answer of two: its head line and its first list items, the rest counted (two must fit where one did)."""
    items = [i for i, line in enumerate(lines) if line.startswith("- ")]
    if len(items) <= BRIEF_LIST_ITEMS + 1:
        return lines
    kept = set(items[:BRIEF_LIST_ITEMS])
    rest = 0
    for i in items[BRIEF_LIST_ITEMS:]:  # an item, or a line that already counts several ('- … và 37 mục khác.')
        more = _MORE_ITEMS_RE.match(lines[i])
        rest += int(more.group(1)) if more else 1
    return [line for i, line in enumerate(lines) if i not in items or i in kept] + [f"- … và {rest} mục khác."]


def _within(part: QuestionPlan, whole: QuestionPlan) -> QuestionPlan:
    """A part of a question, parsed alone, about the plans the whole question names."""
    return replace(part, communes=part.communes or whole.communes, provinces=part.provinces or whole.provinces,
                   plan_number=part.plan_number or whole.plan_number, scope=Scope.ONE)


def _intent(plan: QuestionPlan, result: Result) -> str:
    if result.route is Route.FACT and plan.fact_slots:
        return plan.fact_slots[0].value
    return result.route.value
