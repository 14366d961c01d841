"""The one query layer over the plan knowledge base: documents, typed facts, passages.

QA, the records API and CLI, the UI and drafting read through a ``KnowledgeView``: a consistent view
of the store taken at the start of a request (a query sees the old or the new state of a plan, never
half of it). Every query touches only what it asks for: facts of given documents and kinds, top-k
lexical and dense candidates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from core.model import TABLE_FACT_KINDS, Chunk, FactKind, Record
from core.normalize import expand_abbreviations, fold
from ingest.units import find_units
from vectorstore.catalog import DocumentRow
from vectorstore.store import DocSegment, Snapshot, Store

T = TypeVar("T")


def fact_words(text: str) -> tuple[str, ...]:
    """Folded, abbreviation-expanded words of a text ('tỉ lệ' and 'tỷ lệ' meet: short syllables'
    i/y spellings are folded to i)."""
    return tuple(_spelling(t) for t in expand_abbreviations(fold(text)).split())


_Y_SPELLED = "tkmlshq"  # short syllables whose final y is also written i ('tỷ'/'tỉ', 'kỳ'/'kì')


def _spelling(token: str) -> str:
    return token[:-1] + "i" if len(token) <= 3 and token.endswith("y") and token[0] in _Y_SPELLED else token


@dataclass(frozen=True)
class ChunkHit:
    chunk: Chunk
    score: float  # fused rank score
    lexical: float = 0.0
    dense: float = 0.0


@dataclass(frozen=True)
class FactHit:
    fact: Record
    lexical: float
    dense: float
    rank: int


@dataclass(frozen=True)
class _PlanStatistics:
    """One plan's share of the statistics, computed once per revision of the plan (kept on its segment)."""

    unit_names: dict[str, str]
    word_counts: Counter[str]  # texts (passages and fact subjects) holding each folded word
    texts: int


def _cached(cache: dict[str, object], key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per cache (a snapshot's or a plan segment's: both immutable in what they hold)."""
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[return-value]


def _plan_statistics(segment: DocSegment) -> _PlanStatistics:
    return _cached(segment.cache, "knowledge", lambda: _compute_plan_statistics(segment))


def _compute_plan_statistics(segment: DocSegment) -> _PlanStatistics:
    # every unit the plan names, as written and canonical (a question may name one the alias table lacks)
    unit_names: dict[str, str] = {}
    for record in segment.records:
        for unit in (*record.leads, *record.partners):
            for form in (unit.name, unit.written):
                key = fold(form)
                if len(key.split()) >= 2 and len(key) <= 60:
                    unit_names.setdefault(key, unit.name)
    texts = [c.body for c in segment.chunks if c.kind != "record"] + [r.subject for r in segment.records]
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(fact_words(text)))
    return _PlanStatistics(unit_names, counts, len(texts))


class _Derived:
    """What the views of one snapshot share (fact maps, statistics), computed once per snapshot from
    each plan's own part, which is computed once per revision of the plan."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.facts_by_doc: dict[str, list[Record]] = {d: s.records for d, s in snapshot.segments.items()}
        self.facts_by_id = {r.record_id: r for r in snapshot.records}
        self.chunks_by_doc: dict[str, list[Chunk]] = {d: s.chunks for d, s in snapshot.segments.items()}
        self.unit_names: dict[str, str] = {}
        counts: Counter[str] = Counter()
        texts = 0
        for segment in snapshot.segments.values():
            part = _plan_statistics(segment)
            for key, name in part.unit_names.items():
                self.unit_names.setdefault(key, name)
            counts.update(part.word_counts)
            texts += part.texts
        n = max(1, texts)
        self.idf = {t: math.log(1 + n / c) for t, c in counts.items()}
        self.max_idf = max(self.idf.values(), default=1.0)


def _derived(snapshot: Snapshot) -> _Derived:
    return _cached(snapshot.cache, "knowledge", lambda: _Derived(snapshot))


def prepare(snapshot: Snapshot) -> None:
    """Compute a new snapshot's shared statistics before it serves its first question."""
    _derived(snapshot)


class KnowledgeView:
    def __init__(self, store: Store, snapshot: Snapshot, only: frozenset[str] | None = None) -> None:
        self.store = store
        self.snapshot = snapshot
        self._d = _derived(snapshot)
        self._only = only
        self._documents = snapshot.documents if only is None else {
            d: row for d, row in snapshot.documents.items() if d in only}

    def within(self, doc_ids: set[str]) -> KnowledgeView:
        """The same view with only these plans (documents, facts and searches; the statistics stay those of every
        plan, and ``communes`` still names every commune loaded)."""
        return KnowledgeView(self.store, self.snapshot, frozenset(doc_ids))

    def _asked(self, doc_ids: set[str] | None) -> set[str] | None:
        """The plans a query asks for: those given, else the view's own (None: every plan)."""
        return doc_ids if doc_ids is not None or self._only is None else set(self._only)

    # --- documents ----------------------------------------------------------------------------------

    @property
    def documents(self) -> dict[str, DocumentRow]:
        return self._documents

    @property
    def communes(self) -> list[str]:
        return self.snapshot.communes

    @cached_property
    def provinces(self) -> list[str]:
        return sorted({str(d.metadata["province"]) for d in self.documents.values() if d.metadata.get("province")})

    def docs_where(
        self,
        communes: tuple[str, ...] = (),
        provinces: tuple[str, ...] = (),
        plan_number: str | None = None,
        plan_type: str | None = None,
    ) -> set[str]:
        """Documents matching every filter given (all documents when none is given)."""
        wanted_communes = {fold(c) for c in communes}
        wanted_provinces = {fold(p) for p in provinces}
        out = set()
        for doc in self.documents.values():
            meta = doc.metadata
            if wanted_communes and fold(meta.get("commune") or "") not in wanted_communes:
                continue
            if wanted_provinces and fold(meta.get("province") or "") not in wanted_provinces:
                continue
            if plan_number and (meta.get("number") or "").split("/")[0] != plan_number:
                continue
            if plan_type and meta.get("plan_type") != plan_type:
                continue
            out.add(doc.doc_id)
        return out

    # --- facts ---------------------------------------------------------------------------------------

    @property
    def _facts_by_doc(self) -> dict[str, list[Record]]:
        return self._d.facts_by_doc

    @property
    def _facts_by_id(self) -> dict[str, Record]:
        return self._d.facts_by_id

    def facts(self, doc_ids: set[str] | None = None, kinds: set[FactKind] | frozenset[FactKind] | None = None
              ) -> list[Record]:
        asked = self._asked(doc_ids)
        docs = sorted(asked if asked is not None else self._facts_by_doc)
        return [r for d in docs for r in self._facts_by_doc.get(d, []) if kinds is None or r.kind in kinds]

    def count_facts(self, doc_ids: set[str] | None = None, kinds: set[FactKind] | frozenset[FactKind] | None = None
                    ) -> int:
        """``len(self.facts(doc_ids, kinds))``, without listing them (each plan's count by kind is kept with it)."""
        asked = self._asked(doc_ids)
        total = 0
        for doc_id in asked if asked is not None else self._facts_by_doc:
            by_kind = self._fact_kinds(doc_id)
            total += sum(by_kind.values()) if kinds is None else sum(by_kind[k] for k in kinds)
        return total

    def _fact_kinds(self, doc_id: str) -> Counter[FactKind]:
        return self.per_plan(doc_id, "fact_kinds", lambda: Counter(r.kind for r in self._facts_by_doc.get(doc_id, [])))

    def fact(self, record_id: str) -> Record | None:
        return self._facts_by_id.get(record_id)

    def fact_chunk(self, record: Record) -> Chunk | None:
        index = self.snapshot.record_chunk.get(record.record_id)
        return self.snapshot.chunks[index] if index is not None else None

    def search_facts(
        self, query: str, doc_ids: set[str] | None, kinds: set[FactKind] | frozenset[FactKind] | None,
        k: int = 30, dense: bool = True,
    ) -> list[FactHit]:
        """Facts ranked by lexical (BM25 over their text) and dense (e5 over their chunk) evidence."""
        hits = self.search_chunks(query, doc_ids, {"record"}, k=k * 2, dense=dense)
        out: list[FactHit] = []
        for hit in hits:
            record = self._facts_by_id.get(hit.chunk.metadata.get("record_id", ""))
            if record is None or (kinds is not None and record.kind not in kinds):
                continue
            out.append(FactHit(record, hit.lexical, hit.dense, len(out)))
            if len(out) >= k:
                break
        return out

    def dense_scores(self, query: str, records: list[Record]) -> dict[str, float]:
        """Cosine of the question with each of ``records`` (their chunks' vectors, from Chroma)."""
        if not records:
            return {}
        chunks = self.snapshot.chunks
        wanted = {chunks[i].chunk_id: r.record_id for r in records
                  if (i := self.snapshot.record_chunk.get(r.record_id)) is not None}
        return {wanted[i]: cosine for i, cosine in self.store.cosines(query, sorted(wanted)).items()}

    def mentions(self, doc_id: str, phrase: str) -> bool:
        """The plan's text holds the phrase (folded, whole words)."""
        return f" {fold(phrase)} " in self.per_plan(doc_id, "folded_text", lambda: (
            " " + " ".join(fold(c.body) for c in self.chunks(doc_id) if c.kind != "record") + " "))

    def recipients(self, doc_id: str) -> list[tuple[Record, frozenset[str]]]:
        """The plan's 'Nơi nhận' lines with the units each names (read once per revision of the plan)."""
        return self.per_plan(doc_id, "recipients", lambda: [
            (r, frozenset(u.name for u in find_units(r.subject))) for r in self.facts({doc_id}, {FactKind.RECIPIENT})])

    def table_lines(self, doc_id: str) -> set[int]:
        """Lines of the plan that its table facts were read from."""
        return self.per_plan(doc_id, "table_lines", lambda: {
            n for r in self.facts({doc_id}, TABLE_FACT_KINDS) if r.is_table_row
            for n in range(r.line_start, r.line_end + 1)})

    def per_plan(self, doc_id: str, key: str, compute: Callable[[], T]) -> T:
        """What is derived from one plan alone, kept with the plan's segment (computed once per revision)."""
        segment = self.snapshot.segments.get(doc_id)
        return compute() if segment is None else _cached(segment.cache, key, compute)

    def per_snapshot(self, key: str, compute: Callable[[], T]) -> T:
        """What is derived from every plan, kept with this snapshot (computed once per snapshot)."""
        return _cached(self.snapshot.cache, key, compute)

    # --- passages ------------------------------------------------------------------------------------

    def chunks(self, doc_id: str, kinds: set[str] | None = None) -> list[Chunk]:
        return [c for c in self._d.chunks_by_doc.get(doc_id, []) if kinds is None or c.kind in kinds]

    def passages_holding(self, words: tuple[str, ...]) -> np.ndarray:
        """Which chunks may hold every one of ``words`` (as ``fact_words`` spells them; a boolean per chunk of the
        snapshot): read from the lexical index's folded words, a superset (a short syllable spelled with 'i' may be
        written with 'y')."""
        held = np.ones(len(self.snapshot.chunks), dtype=bool)
        for word in words:
            forms = [f"~{word}"]
            if len(word) <= 3 and word.endswith("i") and word[0] in _Y_SPELLED:
                forms.append(f"~{word[:-1]}y")
            held &= self.snapshot.lexical.holding_any(forms)
        return held

    def search_chunks(
        self, query: str, doc_ids: set[str] | None, kinds: set[str] | None, k: int = 10, dense: bool = True
    ) -> list[ChunkHit]:
        from vectorstore.hybrid import hybrid_search

        return [
            ChunkHit(self.snapshot.chunks[h.chunk_index], h.score, h.lexical, h.dense)
            for h in hybrid_search(self.store, self.snapshot, query, k=k, kinds=kinds, use_dense=dense,
                                   doc_ids=self._asked(doc_ids))
        ]

    # --- statistics ------------------------------------------------------------------------------------

    @property
    def idf(self) -> dict[str, float]:
        """Inverse document frequency of folded words over passages and facts."""
        return self._d.idf

    @property
    def unit_names(self) -> dict[str, str]:
        """Folded unit names the plans use -> their canonical names."""
        return self._d.unit_names

    def idf_of(self, word: str) -> float:
        return self.idf.get(word, self.max_idf)

    @property
    def max_idf(self) -> float:
        return self._d.max_idf
