"""What keeps questions fast over many plans, checked on the five plans (fast tier, the hash embedder): the facts
of every plan are matched with a question's words at once (``recalls``, the very floats ``coverage`` gives one
text at a time), a question over every plan scores only the facts that can answer it (never one that could pass
``confident``), and a question that names no commune among many plans reads the plans that match it best."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.qa.evidence import _words_of, confident, coverage, fact_head, fact_text, rank_facts, recalls
from assistant.qa.fact_index import fact_words_of
from assistant.qa.handlers.base import Route
from assistant.qa.handlers.plans import _facts_that_can_answer
from assistant.qa.plan import Scope
from assistant.qa.service import QAService, choose_route
from assistant.services import Services
from core.model import FactKind
from vectorstore.knowledge import fact_words

PROBES = Path(__file__).parent / "probes"


def _probe_questions(every: int = 1) -> list[str]:
    questions = [json.loads(line)["question"] for path in sorted(PROBES.glob("probes_*.jsonl"))
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return questions[::every]


def test_the_facts_words_are_matched_at_once_as_one_at_a_time(fast_services: Services) -> None:
    qa = fast_services.qa
    kb = qa.view()
    index = fact_words_of(kb)
    assert len(index) == len(kb.facts()) > 400
    different = []
    for question in _probe_questions(every=12):
        plan = qa.plan(question, kb=kb)
        at_once = recalls(kb, plan.subject, index.holding, plan.phrase, plan.context)
        for fact, held in zip(index.facts, at_once, strict=True):
            if coverage(kb, plan.subject, _words_of(fact_text(fact)), plan.phrase, plan.context)[0] != held:
                different.append((question, fact.subject[:60]))
    assert not different, different[:5]


def test_a_question_over_every_plan_keeps_every_fact_that_can_answer(fast_services: Services) -> None:
    qa = fast_services.qa
    kb = qa.view()
    kinds = {k for k in FactKind if k not in (FactKind.GROUP, FactKind.RECIPIENT)}
    asked, dropped = 0, []
    for question in _probe_questions():
        plan = qa.plan(question, kb=kb)
        if plan.scope is not Scope.ALL or choose_route(plan) is not Route.CROSS_PLAN or not plan.subject:
            continue
        asked += 1
        kept = _facts_that_can_answer(kb, plan)
        for doc_id in kb.documents:
            for match in rank_facts(kb, plan, {doc_id}, kinds, use_dense=False):
                if confident(match) and (kept is not None and match.fact not in kept.get(doc_id, [])):
                    dropped.append((question, match.fact.subject[:60]))
    assert asked >= 60
    assert not dropped, dropped[:5]


@pytest.fixture(scope="module")
def narrow(fast_services: Services) -> QAService:
    """QA over the five plans as if they were many: a question naming no commune reads the best two."""
    return QAService(fast_services.settings.model_copy(update={"unscoped_plans": 2}), fast_services.store)


@pytest.mark.parametrize(("question", "commune"), [
    ("Chỉ tiêu 15 gồm những chỉ tiêu con nào?", "Vũ Quang"),  # the last plan by name: read because it matches
    ("Trạm y tế được giao nhiệm vụ gì?", "Vũ Quang"),
    ("Giai đoạn 2027-2028 trong lộ trình là giai đoạn gì?", "Hà Đông"),
])
def test_a_question_naming_no_commune_among_many_plans_reads_those_that_match(
    narrow: QAService, question: str, commune: str
) -> None:
    kb = narrow.view()
    closest = narrow._closest_plans(kb, narrow.plan(question, kb=kb))
    assert closest is not None and len(closest) <= 2
    answer = narrow.ask(question)
    assert answer.found and f"xã {commune}" in answer.answer


def test_a_question_over_every_plan_still_reads_them_all(narrow: QAService, fast_services: Services) -> None:
    question = "Những xã nào có nhiệm vụ về chuyển đổi số?"
    answer = narrow.ask(question)
    assert answer.answer == fast_services.qa.ask(question).answer
    assert answer.found and answer.answer.count("\n- ") > 2


def test_a_fact_named_in_a_question_is_found_by_its_names_first_words(fast_services: Services) -> None:
    index = fact_words_of(fast_services.qa.view())
    named = [(i, (name[0], name[1])) for i, f in enumerate(index.facts) if len(name := fact_words(fact_head(f))) >= 2]
    assert len(named) > 400
    for i, pair in named[::7]:
        flagged = index.named_from({pair})
        assert flagged[i]
        assert all(fact_words(fact_head(index.facts[j]))[:2] == pair for j in flagged.nonzero()[0])
    assert not index.named_from(set()).any()


def test_a_passage_is_never_missed_by_the_lexical_index(fast_services: Services) -> None:
    """``passages_holding`` is a superset: the share of a subject it finds in a passage is never below the share
    ``coverage`` finds in the passage's own words."""
    qa = fast_services.qa
    kb = qa.view()
    chunks = [(i, c) for i, c in enumerate(kb.snapshot.chunks) if c.kind in ("text", "table")]
    under = []
    for question in _probe_questions(every=25):
        plan = qa.plan(question, kb=kb)
        bound = recalls(kb, plan.subject, kb.passages_holding)
        for i, chunk in chunks:
            if coverage(kb, plan.subject, fact_words(chunk.body))[0] > bound[i]:
                under.append((question, chunk.body[:60]))
    assert not under, under[:5]


def test_plans_listed_over_every_plan_are_those_every_lookup_finds(fast_services: Services) -> None:
    """The plans listed are the same when every plan looks at its passages and headings as when only those that
    could be listed do."""
    from assistant.qa.handlers import plans

    qa = fast_services.qa
    kb = qa.view()

    def listed(scored: list[tuple[float, str, str, object]]) -> list[tuple[str, str]]:
        top = max((s[0] for s in scored), default=0.0)
        return [(d, w) for s, d, w, _ in scored if s >= max(plans.MIN_PLAN_EVIDENCE, top - plans.NEAR_BEST_PLAN)]

    compared = 0
    for question in _probe_questions():
        plan = qa.plan(question, kb=kb)
        if plan.scope is not Scope.ALL or choose_route(plan) is not Route.CROSS_PLAN or not plan.subject:
            continue
        docs = sorted(kb.documents)
        every = []
        for doc_id in docs:
            judged = plans._plan_evidence(kb, plan, doc_id)
            found = judged and plans._said_elsewhere(kb, plan, doc_id, judged, plans.MIN_PLAN_EVIDENCE, set(docs))
            if found:
                every.append((found[0], doc_id, found[1], found[2]))
        assert listed(plans._every_plan_evidence(kb, plan, docs)) == listed(every), question  # type: ignore[arg-type]
        compared += 1
    assert compared >= 60
