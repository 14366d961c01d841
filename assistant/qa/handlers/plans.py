"""Questions over several plans: every plan ("xã nào …", "bao nhiêu xã …") or the communes named.

Over every plan, each plan is judged on its own (its header, the documents it cites, its facts), and
every plan that matches is listed with a citation of its own; a count of communes counts that list.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from assistant.qa.evidence import MIN_FACT_COVERAGE, confident, coverage, rank_facts, recalls
from assistant.qa.fact_index import fact_words_of
from assistant.qa.handlers.base import (
    Context,
    Handler,
    Result,
    Route,
    chunk_source,
    fact_source,
    handles,
    not_found,
    place,
)
from assistant.qa.handlers.document import (
    PLAN_TYPE_LABELS,
    header_source,
    matching_references,
    province_label,
    reference_line,
    signer_text,
)
from assistant.qa.handlers.facts import plan_period
from assistant.qa.handlers.lists import section_by_heading_words
from assistant.qa.plan import DocField, QuestionPlan, Scope, Slot
from assistant.qa.render import capitalize, shorten, subject_label, value_text
from assistant.qa.types import Source
from core.model import FactKind, Record
from core.normalize import fold
from ingest.units import find_units
from vectorstore.knowledge import KnowledgeView, fact_words

MIN_PLAN_EVIDENCE = 0.6
MIN_PASSAGE_EVIDENCE = 0.9  # a plan that only mentions the subject in prose must hold nearly all its words
PASSAGE_EVIDENCE_MAX = 1.0  # a passage's evidence is its share of the subject
HEADING_EVIDENCE = MIN_PLAN_EVIDENCE + 0.2  # a plan with a heading naming the subject
NEAR_BEST_PLAN = 0.1
_Evidence = tuple[float, str, Source | None]  # (score, what matched, its source)
_DOCUMENT_WORDS = {"van", "ban", "cu", "the", "ro", "day", "du"}  # 'số hiệu văn bản cụ thể': the plan's own field
_PART_RE = re.compile(r"\b(?:muc|phan|chuong|de muc)\b")
_REACH_WORDS = {"toi", "tan", "den", "dat", "co", "keo", "dai", "moc", "nam", "xa"}  # 'đặt chỉ tiêu tới tận năm …'
# 'những xã nào (có, làm, xây dựng) kế hoạch (triển khai, cải thiện) …': words that only say a plan was made
_MAKING_A_PLAN = {"co", "lam", "lap", "xay", "dung", "ban", "hanh", "trien", "khai", "thuc", "hien", "cai", "thien", "nang",
                  "cao", "nq", "tw", "ve", "rieng", "chinh"}
_TAKING_PART = {"tham", "gia", "co", "thuc", "hien", "phan", "cong"}


def _sentence_with(body: str, words: tuple[str, ...]) -> str:
    """The sentence of a passage that holds most of the words asked about."""
    sentences = [s.strip() for s in re.split(r"(?<=[.;:])\s+|\n(?=\s*[-+•])", body) if s.strip()]
    wanted, pairs = set(words), set(zip(words, words[1:], strict=False))

    def held(sentence: str) -> int:
        own = fact_words(sentence)
        return len(wanted & set(own)) + 2 * len(pairs & set(zip(own, own[1:], strict=False)))

    best = " ".join(max(sentences, key=held, default=body).split())
    if len(best) <= 160 or not words:
        return shorten(best, 160)
    tokens = best.split()
    at = next((i for i, t in enumerate(tokens) if fact_words(t)[:1] == (words[0],)), 0)
    start = max(0, at - 6)
    return ("… " if start else "") + shorten(" ".join(tokens[start:]), 150)


def _header_text(kb: KnowledgeView, doc_id: str) -> str:
    meta = kb.documents[doc_id].metadata
    signer = next(iter(kb.facts({doc_id}, {FactKind.SIGNER})), None)
    return " ".join([
        meta.get("title") or "", PLAN_TYPE_LABELS.get(meta.get("plan_type") or "", ""),
        meta.get("province") or "", signer_text(signer) if signer else "",
    ])


def _facts_that_can_answer(kb: KnowledgeView, plan: QuestionPlan) -> dict[str, list[Record]] | None:
    """Per plan, the facts that can pass ``confident`` for the question: those holding at least MIN_FACT_COVERAGE of
    its subject, or named in it (their name's first two words in the question, as a row named word for word is);
    found in every plan at once. None when the question names rows (a row named by its number may hold less)."""
    if plan.rows:
        return None
    index = fact_words_of(kb)
    held = recalls(kb, plan.subject, index.holding, plan.phrase, plan.context)
    asked = fact_words(plan.folded)
    named = index.named_from(set(zip(asked, asked[1:], strict=False)))
    out: dict[str, list[Record]] = {}
    for i in np.flatnonzero((held >= MIN_FACT_COVERAGE) | named):
        fact = index.facts[i]
        if fact.kind not in (FactKind.GROUP, FactKind.RECIPIENT):
            out.setdefault(fact.doc_id, []).append(fact)
    return out


def _plan_evidence(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, facts: list[Record] | None = None
                   ) -> _Evidence | None:
    """(score, what matched, its source) of one plan for a question over every plan, from its header, facts, the
    documents it cites and its recipients (``facts``: the plan's facts that can answer, when known; else all of
    them are scored). Below MIN_PLAN_EVIDENCE its passages and headings may say more (``_said_elsewhere``)."""
    if plan.numbers:
        refs = matching_references(kb, plan.numbers, {doc_id})
        if refs:
            return 1.0, reference_line(refs[0]), fact_source(kb, refs[0])
        return None
    receivers = plan.recipients or (plan.units if DocField.RECIPIENTS in plan.fields else ())
    if receivers:  # 'bao nhiêu xã gửi kế hoạch cho Sở KH&CN', 'KH nào có Công an xã ở nơi nhận'
        sent = [r for r, named in kb.recipients(doc_id) if set(receivers) & named]
        return (1.0, f"nơi nhận có {sent[0].subject.rstrip(' ;.')}", fact_source(kb, sent[0])) if sent else None
    words = plan.subject
    if plan.years and set(words) <= _REACH_WORDS:  # 'kế hoạch của xã nào đặt chỉ tiêu tới tận năm 2045'
        wanted = {str(y) for y in plan.years}
        dated = [f for f in kb.facts({doc_id}) if wanted & set(f.targets) or f.year in plan.years]
        return (1.0, f"{subject_label(dated[0], 120)}: {value_text(dated[0], plan.years)}",
                fact_source(kb, dated[0])) if dated else None
    if not words:
        return None
    if _PART_RE.search(plan.folded) and (heading := section_by_heading_words(kb, plan, doc_id)):  # 'mục Kinh phí'
        return 1.0, f"mục «{heading[0].split(' > ')[-1]}»", chunk_source(kb, heading[1])
    header, _ = coverage(kb, words, fact_words(_header_text(kb, doc_id)), context=plan.context)
    best: tuple[float, str, Source | None] = (header, shorten(kb.documents[doc_id].metadata.get("title") or "", 160), None)
    kinds: set[FactKind] = {k for k in FactKind if k not in (FactKind.GROUP, FactKind.RECIPIENT)}
    matches = rank_facts(kb, plan, {doc_id}, kinds, use_dense=False, among=facts)
    if matches and confident(matches[0]) and (not plan.units or "unit" in matches[0].notes):
        top = matches[0]
        if top.coverage >= best[0] or plan.units:
            what = subject_label(top.fact, 160, focus=plan.subject)
            if plan.asks(Slot.VALUE) and (value := value_text(top.fact, plan.years)):  # 'mỗi xã đặt mức bao nhiêu'
                what += f": {value}"
            best = (max(top.coverage, top.score - 0.2), what, fact_source(kb, top.fact))
    if plan.units and set(words) <= _TAKING_PART:  # 'xã nào có Trạm y tế tham gia': the unit is the subject
        taking_part = [f for f in kb.facts({doc_id}) if set(plan.units) & {u.name for u in (*f.leads, *f.partners)}]
        if taking_part:
            return 1.0, subject_label(taking_part[0], 160), fact_source(kb, taking_part[0])
        for chunk in kb.chunks(doc_id, {"text", "table"}):
            if any(unit.name in plan.units for unit in find_units(chunk.body)):
                return 1.0, _sentence_with(chunk.body, tuple(fact_words(" ".join(plan.units)))), chunk_source(kb, chunk)
        return None
    return best


def _said_elsewhere(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, best: _Evidence, floor: float,
                    in_prose: set[str]) -> tuple[float, str, Source] | None:
    """A plan's evidence with its source: when its header and facts fall short (below MIN_PLAN_EVIDENCE), a passage
    holding the subject, else a heading naming it, each looked for only when it could reach ``floor`` (the least
    evidence a plan listed needs) and, for a passage, when the plan has one that may hold the subject
    (``in_prose``); without a source of its own, the plan's first passage."""
    words = plan.subject
    if best[0] < MIN_PLAN_EVIDENCE and floor <= PASSAGE_EVIDENCE_MAX and doc_id in in_prose:
        for hit in kb.search_chunks(" ".join(plan.phrase), {doc_id}, {"text", "table"}, k=3, dense=False):
            held, in_order = coverage(kb, words, fact_words(hit.chunk.body))  # 'xã nào có nhắc tới sản phẩm OCOP'
            if held >= MIN_PASSAGE_EVIDENCE and (len(words) < 2 or in_order >= 0.5) and held > best[0]:
                best = (held, _sentence_with(hit.chunk.body, words), chunk_source(kb, hit.chunk))
    if best[0] < MIN_PLAN_EVIDENCE and floor <= HEADING_EVIDENCE and (
            heading := section_by_heading_words(kb, plan, doc_id)):  # 'có lộ trình'
        best = (HEADING_EVIDENCE, f"mục «{heading[0].split(' > ')[-1]}»", chunk_source(kb, heading[1]))
    if best[2] is not None:
        return best[0], best[1], best[2]
    chunks = kb.chunks(doc_id, {"text"})
    return (best[0], best[1], chunk_source(kb, chunks[0])) if chunks else None


def _plans_saying_in_prose(kb: KnowledgeView, plan: QuestionPlan) -> set[str]:
    """The plans with a passage that may hold MIN_PASSAGE_EVIDENCE of the subject (read from the lexical index, for
    every plan at once: an upper bound of each passage's ``coverage``)."""
    rows = recalls(kb, plan.subject, kb.passages_holding) >= MIN_PASSAGE_EVIDENCE
    rows &= kb.snapshot.kind_mask({"text", "table"})
    return {kb.snapshot.chunks[i].doc_id for i in np.flatnonzero(rows)}


# 'có kế hoạch của bao nhiêu xã', 'những tỉnh nào', 'kho tài liệu đang có mấy bản kế hoạch': the plans loaded
_CATALOG_ASKED_RE = re.compile(r"\b(?:bao nhieu|may|nhung|cac)(?: ban)? (?:xa|ke hoach|kh|tinh|thanh pho|dia phuong)\b"
                               r"|\b(?:xa|tinh|thanh pho|dia phuong) nao\b")
_PROVINCES_ASKED_RE = re.compile(r"\b(?:tinh|thanh pho)(?: \w+){0,2} nao\b|\b(?:bao nhieu|may|nhung|cac) (?:tinh|thanh pho)\b")
# the words of such a question besides the asking: the loaded collection, plans, places
_CATALOG_WORDS = frozenset(fact_words("hiện nay hệ thống dữ liệu kho tài liệu nạp tải lên đang bản cấp có tỉnh thành phố "
                                      "xã tổng cộng được địa phương trong trên thuộc đã kế hoạch kh"))


def asks_catalog(plan: QuestionPlan) -> bool:
    """Whether the question asks which plans (communes, provinces) are loaded, not what any plan says."""
    return bool(_CATALOG_ASKED_RE.search(plan.folded)) and set(plan.subject) <= _CATALOG_WORDS and not (
        plan.units or plan.numbers or set(plan.fields) - {DocField.PROVINCE} or plan.communes or plan.years or plan.rows or plan.group or plan.recipients
        or plan.fact_slots)


@handles(Route.CATALOG)
def answer_catalog(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    """The plans loaded (of the province and kind named), one line each: commune, province, number, title."""
    kb = ctx.kb
    docs = kb.docs_where(provinces=plan.provinces, plan_type=plan.plan_type) & set(doc_ids or kb.documents)
    if not docs:
        return not_found(Route.CATALOG, "Chưa có kế hoạch nào như vậy được nạp.")
    ordered = sorted(docs, key=lambda d: (kb.documents[d].metadata.get("province") or "", kb.documents[d].commune))
    communes = {kb.documents[d].commune or d for d in ordered}
    result = Result(Route.CATALOG, True, short=False, confidence=1.0)
    if _PROVINCES_ASKED_RE.search(plan.folded):
        by_province: dict[str, list[str]] = {}
        for d in ordered:
            by_province.setdefault(province_label(kb.documents[d].metadata), []).append(kb.documents[d].commune or d)
        result.lines.append(f"Các kế hoạch đã nạp thuộc {len(by_province)} tỉnh, thành phố: " + "; ".join(
            f"{capitalize(province)} ({', '.join(names)})" for province, names in by_province.items()) + ".")
    result.lines.append(f"Có {len(communes)} xã có kế hoạch đã nạp ({len(ordered)} kế hoạch):" if plan.counted == "xa" else
                        f"Hiện có {len(ordered)} kế hoạch của {len(communes)} xã đã nạp:")
    for d in ordered:
        meta = kb.documents[d].metadata
        number = f"Kế hoạch số {meta['number']}" if meta.get("number") else "Kế hoạch (chưa ghi số)"
        date = meta.get("date") or ""
        date = f" ngày {date}" if date[:1].isdigit() else f", {date}" if date else ""  # 'tháng 2 năm 2026': no day
        n = result.cite(header_source(kb, d, (meta.get("title") or "")[:40]))
        result.lines.append(f"- {capitalize(place(kb, d))} ({province_label(meta)}): {number}{date} — "
                            f"{shorten(meta.get('title') or '', 120)} [{n}]")
    return result


@handles(Route.CROSS_PLAN)
def answer_cross_plan(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    inner = replace(plan, scope=Scope.ONE)
    if plan.field in _SIGNER_FIELDS:  # 'kế hoạch của xã nào do Chủ tịch ký trực tiếp'
        return _signers(ctx, plan, sorted(doc_ids or kb.documents))
    described = bool(plan.plan_type or plan.provinces)  # 'các xã ở An Giang có KH PII, căn cứ văn bản nào'
    filtered_by_recipient = DocField.RECIPIENTS in plan.fields and bool(plan.recipients or plan.units)
    if (plan.fields and set(plan.subject) <= _DOCUMENT_WORDS | (_MAKING_A_PLAN if described else set())
            and not filtered_by_recipient):  # 'mấy kế hoạch có Công an xã ở nơi nhận': those plans, counted
        asked = set(doc_ids or kb.documents)  # 'xã nào ghi số hiệu (văn bản)': each plan's field
        if described:
            asked &= kb.docs_where(provinces=plan.provinces, plan_type=plan.plan_type)
        return _field_of_each(ctx, inner, sorted(asked))
    if _HORIZON_RE.search(plan.folded):  # 'xã nào có KH kéo dài nhiều năm (tới 2030 trở đi)', 'xa nhất, tới năm nào'
        return _horizons(ctx, sorted(doc_ids or kb.documents), max(plan.years, default=0))
    scored: list[tuple[float, str, str, Source | None]] = []
    if plan.plan_type or plan.provinces:  # 'xã nào có kế hoạch PII', 'các xã của tỉnh Đồng Nai'
        doc_ids = kb.docs_where(provinces=plan.provinces, plan_type=plan.plan_type) & (doc_ids or set(kb.documents))
        if set(plan.subject) <= _MAKING_A_PLAN and not plan.numbers:  # 'xã nào làm kế hoạch cải thiện PII'
            for doc_id in sorted(doc_ids):
                title = shorten(kb.documents[doc_id].metadata.get("title") or "", 160)
                chunks = kb.chunks(doc_id, {"text"})
                scored.append((1.0, doc_id, title, chunk_source(kb, chunks[0]) if chunks else None))
    if not scored:
        scored = _every_plan_evidence(kb, inner, sorted(doc_ids or kb.documents))
    scored.sort(key=lambda item: item[0], reverse=True)
    if not scored or scored[0][0] < MIN_PLAN_EVIDENCE:
        return not_found(Route.CROSS_PLAN, None, [f"xã {kb.documents[d].commune}: {w}" for _, d, w, _ in scored[:2]])
    top = scored[0][0]
    kept = [item for item in scored if item[0] >= max(MIN_PLAN_EVIDENCE, top - NEAR_BEST_PLAN)]
    result = Result(Route.CROSS_PLAN, True, short=False, confidence=top)
    counting = plan.counted in ("xa", "ke hoach")
    unit = "kế hoạch" if plan.counted == "ke hoach" else "xã"  # 'bao nhiêu kế hoạch gửi Sở KH&CN'
    result.lines.append(f"Có {len(kept)} {unit}:" if counting else "Các xã có nội dung phù hợp:")
    for _, doc_id, what, source in kept:
        cited = f" [{result.cite(source)}]" if source is not None else ""
        result.lines.append(f"- {capitalize(place(kb, doc_id))}: {what}{cited}")
    if _ASKS_THE_OTHERS_RE.search(plan.folded):  # 'xã nào gửi Sở KH&CN? có xã nào không gửi không?'
        matched = {doc_id for _, doc_id, _, _ in kept}
        others = sorted(kb.documents[d].commune or kb.documents[d].filename
                        for d in (doc_ids or kb.documents) if d not in matched)
        result.lines.append(f"Kế hoạch của các xã còn lại ({', '.join(others)}) không có nội dung này."
                            if others else "Không có xã nào khác.")
    return result


def _every_plan_evidence(kb: KnowledgeView, plan: QuestionPlan, doc_ids: list[str]
                         ) -> list[tuple[float, str, str, Source | None]]:
    """(score, plan, what matched, its source) of each plan with evidence. Plans are judged from their headers and
    facts first; a plan whose evidence falls short looks further (passages, headings) only when what it may find
    there could still be listed beside the best plan's (at least ``max(MIN_PLAN_EVIDENCE, best - NEAR_BEST_PLAN)``)."""
    answering = _facts_that_can_answer(kb, plan)
    judged = {d: _plan_evidence(kb, plan, d, None if answering is None else answering.get(d, [])) for d in doc_ids}
    best = max((e[0] for e in judged.values() if e is not None and e[0] >= MIN_PLAN_EVIDENCE), default=0.0)
    floor = max(MIN_PLAN_EVIDENCE, best - NEAR_BEST_PLAN)
    short = [d for d, e in judged.items() if e is not None and e[0] < MIN_PLAN_EVIDENCE]
    in_prose = _plans_saying_in_prose(kb, plan) if short and floor <= PASSAGE_EVIDENCE_MAX else set()
    scored: list[tuple[float, str, str, Source | None]] = []
    for doc_id, judged_evidence in judged.items():
        if judged_evidence is not None and (evidence := _said_elsewhere(kb, plan, doc_id, judged_evidence, floor,
                                                                        in_prose)) is not None:
            scored.append((evidence[0], doc_id, evidence[1], evidence[2]))
    return scored


# 'kéo dài nhiều năm', 'xa nhất, tới năm nào': how far each plan's targets and stages reach
_HORIZON_RE = re.compile(r"\b(?:keo dai|nhieu nam|xa nhat|(?:toi|den|toi tan) nam nao|dai han)\b")


def _horizons(ctx: Context, doc_ids: list[str], at_least: int = 0) -> Result:
    """The plans whose targets or stages reach beyond their first year (and to ``at_least``), farthest first:
    the last year each names, with the row (or the title) that names it."""
    kb = ctx.kb
    reach: list[tuple[int, int, str, Source]] = []
    for doc_id in doc_ids:
        period = plan_period(kb, doc_id)
        dated = [(max(int(y) for y in f.targets if y.isdigit()), f) for f in kb.facts({doc_id})
                 if any(y.isdigit() for y in f.targets)]
        last, fact = max(dated, key=lambda item: item[0], default=(max(period, default=0), None))
        if period and max(period) >= last:
            last, fact = max(period), None
        first = min(period, default=last)
        if last <= first or last < at_least:
            continue
        chunks = kb.chunks(doc_id, {"text"})
        source = fact_source(kb, fact) if fact is not None else chunk_source(kb, chunks[0]) if chunks else None
        if source is not None:
            reach.append((last, first, doc_id, source))
    if not reach:
        return not_found(Route.CROSS_PLAN, "Không kế hoạch nào nêu chỉ tiêu hay giai đoạn quá năm đầu của nó.")
    result = Result(Route.CROSS_PLAN, True, short=False, confidence=0.9)
    result.lines.append("Các kế hoạch có chỉ tiêu, giai đoạn kéo dài nhiều năm (xa nhất trước):")
    for last, first, doc_id, source in sorted(reach, key=lambda item: -item[0]):
        result.lines.append(f"- {capitalize(place(kb, doc_id))}: từ {first} tới năm {last} [{result.cite(source)}]")
    return result


# 'có xã nào không gửi …', 'xã nào chưa …', 'những xã còn lại': the plans without the content are asked too
_ASKS_THE_OTHERS_RE = re.compile(r"\bxa nao (?:khong|chua) (?!\|)\w|\bxa (?:con lai|khac) (?:nao|thi)\b")


_SIGNER_FIELDS = (DocField.SIGNER, DocField.SIGNER_ROLE, DocField.SIGN_MODE)
_DIRECT_RE = re.compile(r"\b(?:truc tiep|khong (?:phai )?(?:ky thay|kt)|chinh chu tich)\b")
_ON_BEHALF_RE = re.compile(r"\b(?:ky thay|kt|pho chu tich)\b")


def _signers(ctx: Context, plan: QuestionPlan, doc_ids: list[str]) -> Result:
    """Each plan's signer; only those signing directly, or on behalf, when the question asks which."""
    kb = ctx.kb
    direct = bool(_DIRECT_RE.search(plan.folded))
    on_behalf = not direct and bool(_ON_BEHALF_RE.search(plan.folded))
    result = Result(Route.CROSS_PLAN, False, short=False, confidence=1.0)
    for doc_id in doc_ids:
        signer = next(iter(kb.facts({doc_id}, {FactKind.SIGNER})), None)
        if signer is None:
            continue
        behalf = "KT." in (signer.attrs.get("mode") or "")
        if (direct and behalf) or (on_behalf and not behalf):
            continue
        n = result.cite(fact_source(kb, signer))
        result.lines.append(f"- {capitalize(place(kb, doc_id))}: {signer_text(signer)} [{n}]")
    if not result.lines:
        return not_found(Route.CROSS_PLAN, "Không kế hoạch nào có người ký như câu hỏi nêu.")
    result.found = True
    result.lines.insert(0, f"Có {len(result.lines)} kế hoạch:" if direct or on_behalf else "Người ký các kế hoạch:")
    return result


def _field_of_each(ctx: Context, plan: QuestionPlan, doc_ids: list[str]) -> Result:
    """The plans that state the field asked, with its value each; the others are named as not stating it."""
    from assistant.qa.handlers.document import answer_field

    result = Result(Route.CROSS_PLAN, False, short=False, confidence=1.0)
    lacking = []
    for doc_id in doc_ids:
        one = answer_field(ctx, plan, {doc_id})
        if not one.found:
            lacking.append(ctx.kb.documents[doc_id].commune or ctx.kb.documents[doc_id].filename)
            continue
        text = result.recite(" ".join(one.lines), one.sources)
        result.lines.append(f"- {capitalize(place(ctx.kb, doc_id))}: {text}")
    if not result.lines:
        return not_found(Route.CROSS_PLAN, "Không kế hoạch nào nêu thông tin này.")
    result.found = True
    counted = "xã" if plan.counted == "xa" else "kế hoạch"  # 'có mấy xã …, thuộc tỉnh nào'
    result.lines.insert(0, f"Có {len(result.lines)} {counted} nêu thông tin này:")
    if lacking:
        result.lines.append(f"Kế hoạch của các xã {', '.join(lacking)} không ghi thông tin này.")
    return result


def answer_compare(ctx: Context, plan: QuestionPlan, route_one: Handler) -> Result:
    """The same question for each commune named, one line each."""
    kb = ctx.kb
    result = Result(Route.COMPARE, False, short=False)
    found_any = False
    for commune in plan.communes:
        single = replace(plan, communes=(commune,), scope=Scope.ONE)
        doc_ids = kb.docs_where(communes=(commune,))
        sub = route_one(ctx, single, doc_ids)
        if sub.found:
            found_any = True
            own = [line.removeprefix("- ") for line in sub.lines if not line.startswith("Theo kế hoạch của")]
            result.lines.append(f"- Xã {commune}: {result.recite(' '.join(own), sub.sources)}")
        else:
            result.lines.append(f"- Xã {commune}: không tìm thấy thông tin tương ứng.")
    if found_any and _SAME_OR_NOT_RE.search(plan.folded) and (verdict := _same_or_not(result.lines, plan)):
        result.lines.append(verdict)
    result.found = found_any
    result.confidence = 0.8 if found_any else 0.0
    return result


# 'có khác nhau không', 'giống nhau không', 'có chênh không', 'có cùng một phòng không', 'so sánh': the answer says
# whether the values (or the lead units, when the question asks who leads) are the same
_SAME_OR_NOT_RE = re.compile(r"\b(?:(?:khac|giong|nhu|bang|trung|chenh) nhau|so sanh|chenh(?: lech)?|khac gi|"
                             r"co (?:khac|giong|cung)|giong (?:khong|ko|k|hay|hoac)|khac (?:khong|ko|k))\b")
_VALUE_IN_LINE_RE = re.compile(r"[≥≤<>=]?\s*\d+(?:[.,]\d+)?\s*%")
_LEAD_IN_LINE_RE = re.compile(r"đơn vị chủ trì: (.+?)(?: \(|;| \[|\.? ?$)")


def _same_or_not(lines: list[str], plan: QuestionPlan) -> str | None:
    """'Mức như nhau ở các xã: …' or 'Mức của các xã khác nhau: …' from each commune's line: its percentage for
    the year asked (its first one when no year is asked), or its lead unit when the question asks who leads;
    None when a line has none."""
    by_unit = Slot.LEAD in plan.slots
    values = []
    for line in lines:
        text = line
        if not by_unit and plan.years and (year := re.search(rf"năm {plan.years[0]}: ([^;]+)", line)):
            text = year.group(1)
        found = (_LEAD_IN_LINE_RE if by_unit else _VALUE_IN_LINE_RE).search(text)
        if not found:
            return None
        value = found.group(1) if by_unit else found.group(0)
        values.append((line.removeprefix("- ").split(":", 1)[0], re.sub(r"\s+", " ", value).strip()))
    what = "Đơn vị chủ trì" if by_unit else "Mức"
    if len({fold(v).replace(" ", "") for _, v in values}) == 1:
        return f"{what} như nhau ở các xã: {values[0][1]}."
    return f"{what} của các xã khác nhau: " + "; ".join(f"{who} {v}" for who, v in values) + "."
