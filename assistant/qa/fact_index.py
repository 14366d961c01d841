"""The words of every fact of every plan, as token ids, for questions over every plan.

A question over 1,000 plans ('xã nào giao … lo tuyên truyền') must not score each of their 100,000 facts one
by one: ``FactWords`` tells at once which facts hold a set of words and which facts' names start with a pair of
words, so that only the facts that can answer are scored. Each plan's part is computed once per revision of the
plan (kept with its segment); the parts are joined once per snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.qa.evidence import fact_head, fact_text
from core.model import Record
from vectorstore.knowledge import KnowledgeView, fact_words
from vectorstore.lexical import Vocabulary
from vectorstore.store import Snapshot, Store

WORDS = Vocabulary()  # a fact's words (as ``fact_words`` spells them) -> id, shared by every snapshot
NAME_PAIRS = Vocabulary()  # the first two words of a fact's name -> id
NO_PAIR = np.iinfo(np.int32).max  # a name of one word


@dataclass(frozen=True)
class _PlanFactWords:
    """One plan's facts, in reading order: the ids of each fact's words (``indptr`` delimits them) and of its
    name's first two words."""

    indptr: np.ndarray  # int32, one more than the facts
    ids: np.ndarray  # int32, sorted within a fact
    name_pairs: np.ndarray  # int32 per fact (NO_PAIR: a name of one word)


def _plan_part(facts: list[Record]) -> _PlanFactWords:
    indptr, ids, pairs = [0], [], []
    for fact in facts:
        words = sorted(set(WORDS.ids(list(fact_words(fact_text(fact))))))
        ids.extend(words)
        indptr.append(len(ids))
        name = fact_words(fact_head(fact))[:2]
        pairs.append(NAME_PAIRS.ids([" ".join(name)])[0] if len(name) == 2 else NO_PAIR)
    narrow = np.uint16 if len(WORDS) <= np.iinfo(np.uint16).max else np.int32  # most vocabularies fit 16 bits
    return _PlanFactWords(np.array(indptr, dtype=np.int32), np.array(ids, dtype=narrow), np.array(pairs, dtype=np.int32))


def _part_of(kb: KnowledgeView, doc_id: str) -> _PlanFactWords:
    return kb.per_plan(doc_id, "fact_words", lambda: _plan_part(kb.facts({doc_id})))


def _by_word(parts: list[_PlanFactWords], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The facts holding each word (all of them, in order), as one array and each word's start in it: the parts'
    postings placed plan by plan (a counting sort; no sort of them all, nor a copy of them all)."""
    counts = np.zeros(width, dtype=np.int64)
    for part in parts:
        words, per_word = np.unique(part.ids, return_counts=True)
        np.add.at(counts, words.astype(np.int64), per_word)
    starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
    filled = starts[:-1].copy()
    facts = np.empty(int(starts[-1]), dtype=np.int32)
    first_fact = 0
    for part in parts:
        order = np.argsort(part.ids, kind="stable")
        words, per_word = np.unique(part.ids[order], return_counts=True)
        words = words.astype(np.int64)
        owner = np.repeat(np.arange(first_fact, first_fact + len(part.indptr) - 1, dtype=np.int32), np.diff(part.indptr))
        # each posting's place: its word's next free slot, then its rank among the part's postings of that word
        rank = np.arange(len(order)) - np.repeat(np.cumsum(per_word) - per_word, per_word)
        facts[np.repeat(filled[words], per_word) + rank] = owner[order]
        filled[words] += per_word
        first_fact += len(part.indptr) - 1
    return facts, starts


class FactWords:
    """Every fact of a snapshot (by plan, in reading order) with its words, queried by word."""

    def __init__(self, kb: KnowledgeView) -> None:
        docs = sorted(kb.snapshot.documents)  # every plan, whatever the view's own
        parts = [_part_of(kb, d) for d in docs]
        self.facts: list[Record] = kb.facts(set(docs))
        self._facts_by_word, self._word_starts = _by_word(parts, len(WORDS))
        self._name_pairs = np.concatenate([p.name_pairs for p in parts]) if parts else np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.facts)

    def holding(self, words: tuple[str, ...]) -> np.ndarray:
        """Which facts hold every one of ``words`` (a boolean per fact)."""
        held = np.ones(len(self.facts), dtype=bool)
        for word in words:
            held &= self._with_word(word)
        return held

    def _with_word(self, word: str) -> np.ndarray:
        out = np.zeros(len(self.facts), dtype=bool)
        ids = WORDS.known([word])
        if ids and ids[0] < len(self._word_starts) - 1:
            out[self._facts_by_word[self._word_starts[ids[0]]:self._word_starts[ids[0] + 1]]] = True
        return out

    def named_from(self, pairs: set[tuple[str, str]]) -> np.ndarray:
        """Which facts' names start with one of ``pairs`` of words (a boolean per fact)."""
        ids = NAME_PAIRS.known([" ".join(pair) for pair in pairs])
        return np.isin(self._name_pairs, np.array(ids, dtype=np.int32))


def fact_words_of(kb: KnowledgeView) -> FactWords:
    """The snapshot's ``FactWords`` (built once per snapshot, from the parts its plans keep)."""
    return kb.per_snapshot("fact_words", lambda: FactWords(kb))


def prepare(store: Store) -> Callable[[Snapshot], None]:
    """A snapshot hook: the snapshot's ``FactWords`` built before its first question (at 1,000 plans the parts of
    every plan take seconds at start-up; a new plan's part, milliseconds)."""
    def hook(snapshot: Snapshot) -> None:
        fact_words_of(KnowledgeView(store, snapshot))

    return hook
