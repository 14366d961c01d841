"""Questions over several plans: every plan ("xã nào …", "bao nhiêu xã …") or the communes named.

Over every plan, each plan is judged on its own (its header, the documents it cites, its facts), and
every plan that matches is listed with a citation of its own; a count of communes counts that list.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.qa.evidence import confident, coverage, rank_facts
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
from assistant.qa.handlers.document import PLAN_TYPE_LABELS, matching_references, reference_line, signer_text
from assistant.qa.plan import QuestionPlan, Scope
from assistant.qa.render import shorten, subject_label
from ingest.model import FactKind
from vectorstore.knowledge import KnowledgeView, fact_words

MIN_PLAN_EVIDENCE = 0.6
NEAR_BEST_PLAN = 0.1


def _header_text(kb: KnowledgeView, doc_id: str) -> str:
    meta = kb.documents[doc_id].metadata
    signer = next(iter(kb.facts({doc_id}, {FactKind.SIGNER})), None)
    return " ".join([
        meta.get("title") or "", PLAN_TYPE_LABELS.get(meta.get("plan_type") or "", ""),
        meta.get("province") or "", signer_text(signer) if signer else "",
    ])


def _plan_evidence(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[float, str, object] | None:
    """(score, what matched, its source) of one plan for a question over every plan."""
    if plan.numbers:
        refs = matching_references(kb, plan.numbers, {doc_id})
        if refs:
            return 1.0, reference_line(refs[0]), fact_source(kb, refs[0])
        return None
    words = plan.subject
    if not words:
        return None
    header, _ = coverage(kb, words, fact_words(_header_text(kb, doc_id)), context=plan.context)
    best = (header, shorten(kb.documents[doc_id].metadata.get("title") or "", 160), None)
    kinds = {k for k in FactKind if k not in (FactKind.GROUP, FactKind.RECIPIENT)}
    matches = rank_facts(kb, plan, {doc_id}, kinds, use_dense=False)
    if matches and confident(matches[0]) and (not plan.units or "unit" in matches[0].notes):
        top = matches[0]
        if top.coverage >= best[0] or plan.units:
            best = (max(top.coverage, top.score - 0.2), subject_label(top.fact, 160), fact_source(kb, top.fact))
    if best[2] is None:
        chunks = kb.chunks(doc_id, {"text"})
        if not chunks:
            return None
        best = (best[0], best[1], chunk_source(kb, chunks[0]))
    return best


@handles(Route.CROSS_PLAN)
def answer_cross_plan(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    inner = replace(plan, scope=Scope.ONE)
    scored = []
    if plan.plan_type or plan.provinces:  # 'xã nào có kế hoạch PII', 'các xã của tỉnh Đồng Nai'
        doc_ids = kb.docs_where(provinces=plan.provinces, plan_type=plan.plan_type) & (doc_ids or set(kb.documents))
        if not plan.subject and not plan.numbers:
            for doc_id in sorted(doc_ids):
                title = shorten(kb.documents[doc_id].metadata.get("title") or "", 160)
                chunks = kb.chunks(doc_id, {"text"})
                scored.append((1.0, doc_id, title, chunk_source(kb, chunks[0]) if chunks else None))
    for doc_id in sorted(doc_ids or kb.documents) if not scored else []:
        evidence = _plan_evidence(kb, inner, doc_id)
        if evidence is not None:
            scored.append((evidence[0], doc_id, evidence[1], evidence[2]))
    scored.sort(key=lambda item: item[0], reverse=True)
    if not scored or scored[0][0] < MIN_PLAN_EVIDENCE:
        return not_found(Route.CROSS_PLAN, None, [f"xã {kb.documents[d].commune}: {w}" for _, d, w, _ in scored[:2]])
    top = scored[0][0]
    kept = [item for item in scored if item[0] >= max(MIN_PLAN_EVIDENCE, top - NEAR_BEST_PLAN)]
    result = Result(Route.CROSS_PLAN, True, short=False, confidence=top)
    counting = plan.counted == "xa"
    result.lines.append(f"Có {len(kept)} xã:" if counting else "Các xã có nội dung phù hợp:")
    for _, doc_id, what, source in kept:
        n = result.cite(source)  # type: ignore[arg-type]
        result.lines.append(f"- {place(kb, doc_id).capitalize()}: {what} [{n}]")
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
            text = " ".join(sub.lines)
            for i, source in enumerate(sub.sources, start=1):  # renumber the sub-answer's citations
                text = text.replace(f"[{i}]", f"[#{result.cite(source)}]")
            result.lines.append(f"- Xã {commune}: {text.replace('[#', '[')}")
        else:
            result.lines.append(f"- Xã {commune}: không tìm thấy thông tin tương ứng.")
    result.found = found_any
    result.confidence = 0.8 if found_any else 0.0
    return result
