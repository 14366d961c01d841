"""How well a fact or a sentence answers a question: subject matching and its confidence.

A fact's subject (an indicator, a task, a duty, a cited document …) is matched with the question's
subject words lexically (IDF-weighted recall, with the domain's abbreviations and synonyms as data)
and, when the lexical evidence is not decisive, densely (the e5 cosine of the question with the
fact's indexed text). Filters the question names (row, year, quarter, unit, group, appendix) move a
fact up or down. The weights are named settings of this module, calibrated on the dev set and the
probe sets in tests/probes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from assistant.qa.plan import SYNONYMS_PATH, DocField, QuestionPlan, Slot
from core.model import FactKind, Record
from core.normalize import abbreviation_at, fold
from ingest.record_text import KIND_LABELS
from vectorstore.knowledge import KnowledgeView, _spelling, fact_words

# --- weights (calibrated; see the module docstring) ----------------------------------------------------
W_COVERAGE = 0.6  # share of the question's subject words found in the fact
W_PHRASE = 0.25  # share of the question's consecutive word pairs found in the fact
W_HEAD = 0.15  # share of the fact's head (its name) found in the question
W_CONTEXT = 0.3  # weight of the question's cue, boilerplate and unit words beside its subject words
W_DENSE = 0.35  # weight of the e5 cosine above its floor
DENSE_FLOOR = 0.80  # e5 cosines below this carry no evidence
BONUS_ROW, PENALTY_ROW = 0.5, 0.35
BONUS_YEAR, PENALTY_YEAR = 0.15, 0.3
BONUS_QUARTER, PENALTY_QUARTER = 0.2, 0.35
BONUS_UNIT = 0.2
BONUS_NAMED_LEAD = 0.3  # a partner question names the lead unit: facts it leads, and only those
BONUS_KIND = 0.05
BONUS_HEAD_PHRASE = 0.3  # the question names the fact's head word for word ('chỉ số Hạ tầng số')
BONUS_SLOT = 0.05  # the fact holds what is asked
PENALTY_VALUE_KIND = 0.4  # the question wants money, the fact gives a percentage …
# --- thresholds ----------------------------------------------------------------------------------------
MIN_FACT_COVERAGE = 0.55  # below: the fact is not about what is asked
MIN_FACT_SCORE = 0.55
CONFIDENT_SCORE = 0.8  # no dense check needed above this
MIN_PREFIX_RECALL = 0.6  # a fact named by its first words must also hold this share of the question's subject
MIN_ROW_COVERAGE = 0.3  # a row named by its number must share this much of the question's subject
NEAR_BEST = 0.08  # facts within this of the best are equally good answers
MIN_SENTENCE_COVERAGE = 0.5
SCATTERED_MIN_WORDS, SCATTERED_MAX_PHRASE, SCATTERED_MAX_HEAD = 3, 0.3, 0.2  # see ``scattered``


@lru_cache(maxsize=1)
def synonyms() -> list[tuple[tuple[str, ...], ...]]:
    """Groups of folded phrases that mean the same thing in the plans ('danh tính số' ~ 'định danh điện tử')."""
    data = json.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))
    return [tuple(tuple(fact_words(p)) for p in group) for group in data["groups"]]


def _alternatives(words: tuple[str, ...]) -> list[tuple[tuple[str, ...], ...]]:
    """Each subject word with the ways a text may hold it: an abbreviation ('dvctt') counts once, found when the
    text has the abbreviation or its whole full form; the words of a full form written out count each."""
    out: list[tuple[tuple[str, ...], ...]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if "_" in word:  # a synonym phrase put in for another: found whole or not at all
            out.append((tuple(_spelling(t) for t in word.split("_")),))
            i += 1
            continue
        n, full = abbreviation_at(words, i)  # 'kt xh' is one unit, found as such or as 'kinh te xa hoi'
        own = tuple(_spelling(t) for t in words[i : i + n])  # spelled as the texts' words are ('chữ ký' -> 'chu ki')
        out.append((own, tuple(_spelling(t) for t in full.split())) if full else (own,))
        i += n
    return out


def _synonym_variants(words: tuple[str, ...]) -> list[tuple[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]] | None]]:
    """The subject with each synonym phrase it holds replaced by the other phrases of its group, each with the
    (phrase, replacement) it made (None: the subject itself)."""
    variants: list[tuple[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]] | None]] = [(words, None)]
    text = f" {' '.join(words)} "
    for group in synonyms():
        for phrase in group:
            key = f" {' '.join(phrase)} "
            if phrase and key in text:
                for other in group:
                    if other != phrase:
                        variants.append((tuple(text.replace(key, f" {'_'.join(other)} ").split()), (phrase, other)))
    return variants


@dataclass(frozen=True)
class _Variant:
    words: tuple[str, ...]
    units: list[tuple[tuple[str, ...], ...]]
    own_pairs: list[tuple[str, str]] | None  # a synonym's consecutive words (None: the subject itself)


@lru_cache(maxsize=512)
def _prepared(
    words: tuple[str, ...], phrase: tuple[str, ...] | None, context: tuple[str, ...]
) -> tuple[list[tuple[str, str]], list[_Variant], list[tuple[tuple[str, ...], ...]]]:
    """What ``coverage`` needs of a question, computed once per question (it scores every candidate text):
    the phrase's consecutive pairs, the synonym variants with their word alternatives, the context's."""
    ordered = fact_words(" ".join(phrase)) if phrase else fact_words(" ".join(words))
    pairs = list(zip(ordered, ordered[1:], strict=False))
    variants = []
    for variant, replaced in _synonym_variants(words):
        own = None
        if replaced is not None:  # the question's words in order with the synonym put in, as the subject itself
            phrase_text, key = f" {' '.join(ordered)} ", f" {' '.join(replaced[0])} "
            spelled = tuple((phrase_text.replace(key, f" {' '.join(replaced[1])} ") if key in phrase_text else
                             " ".join(w for token in variant for w in token.split("_"))).split())
            own = list(zip(spelled, spelled[1:], strict=False))
        variants.append(_Variant(variant, _alternatives(variant), own))
    return pairs, variants, _alternatives(context)


def coverage(
    kb: KnowledgeView, words: tuple[str, ...], text_words: tuple[str, ...], phrase: tuple[str, ...] | None = None,
    context: tuple[str, ...] = (),
) -> tuple[float, float]:
    """(IDF-weighted recall of ``words`` in the text, share of the consecutive pairs of ``phrase`` (the
    question's words in order; ``words`` when not given) found in it), the best over synonym variants."""
    if not words and not context:
        return 0.0, 0.0
    tokens = set(text_words)
    pairs_in_text = set(zip(text_words, text_words[1:], strict=False))
    pairs, variants, extra = _prepared(words, phrase, context)
    pair_share = sum(p in pairs_in_text for p in pairs) / len(pairs) if pairs else None
    best = (0.0, 0.0)
    extra_weights = [W_CONTEXT * kb.idf_of(unit[0][0]) for unit in extra]
    extra_hits = sum(w for w, unit in zip(extra_weights, extra, strict=True)
                     if any(all(t in tokens for t in alt) for alt in unit))
    for variant in variants:
        units = variant.units
        weights = [max(kb.idf_of(t) for t in unit[0]) for unit in units]
        total = (sum(weights) + sum(extra_weights)) or 1.0
        hits = sum(w for w, unit in zip(weights, units, strict=True) if any(all(t in tokens for t in alt) for alt in unit))
        # the context's words can only help, and only a text that holds some of the subject
        recall = max((hits + extra_hits) / total, hits / (sum(weights) or 1.0) if weights else 0.0)
        if weights and not hits:
            recall = 0.0
        share = pair_share if pair_share is not None else recall
        if variant.own_pairs is not None:  # a synonym's words come in its own order
            own = variant.own_pairs
            share = max(share, sum(p in pairs_in_text for p in own) / len(own) if own else recall)
        if (recall, share) > best:
            best = (recall, share)
    return best


def recalls(
    kb: KnowledgeView, words: tuple[str, ...], holding: Callable[[tuple[str, ...]], np.ndarray],
    phrase: tuple[str, ...] | None = None, context: tuple[str, ...] = (),
) -> np.ndarray:
    """``coverage(…)[0]`` of many texts at once, the same floats: ``holding(tokens)`` tells which texts hold every
    one of the tokens (a boolean per text)."""
    _, variants, extra = _prepared(words, phrase, context)
    held: dict[tuple[str, ...], np.ndarray] = {}

    def found(unit: tuple[tuple[str, ...], ...]) -> np.ndarray:
        out = np.zeros(0, dtype=bool)
        for alternative in unit:
            if alternative not in held:
                held[alternative] = holding(alternative)
            out = held[alternative] if not out.size else out | held[alternative]
        return out

    size = len(holding(()))
    best = np.zeros(size)
    if not words and not context:
        return best
    extra_weights = [W_CONTEXT * kb.idf_of(unit[0][0]) for unit in extra]
    extra_hits = np.zeros(size)
    for weight, unit in zip(extra_weights, extra, strict=True):
        extra_hits = extra_hits + weight * found(unit)
    for variant in variants:
        weights = [max(kb.idf_of(t) for t in unit[0]) for unit in variant.units]
        total = (sum(weights) + sum(extra_weights)) or 1.0
        hits = np.zeros(size)
        for weight, unit in zip(weights, variant.units, strict=True):
            hits = hits + weight * found(unit)
        recall = np.maximum((hits + extra_hits) / total, hits / (sum(weights) or 1.0) if weights else 0.0)
        if weights:
            recall[hits == 0] = 0.0
        best = np.maximum(best, recall)
    return best


# --- facts -------------------------------------------------------------------------------------------------


def _section_words(fact: Record) -> str:
    """The section a fact sits in: its own heading; for prose in an appendix, the appendix's title as well ('Bộ
    chỉ số đánh giá … (KPIs) > V. Tổ chức đánh giá')."""
    labels = fact.section.split(" > ") if fact.section else []
    if not labels:
        return ""
    if len(labels) > 1 and not fact.is_table_row and fold(labels[0]).startswith("phu luc"):
        return f"{labels[0]} {labels[-1]}"
    return labels[-1]


def fact_text(fact: Record) -> str:
    """What a fact is about, as matched against questions."""
    attrs = " ".join(v for k, v in fact.attrs.items() if k in ("about", "issuer", "doc_type", "number", "name",
                                                                "period", "items", "grade", "to", "frequency"))
    return " ".join([fact.subject, " ".join(fact.group_path), _section_words(fact),
                     fact.method or "", " ".join(fact.targets.values()), attrs, KIND_LABELS.get(fact.kind, ""),
                     fact.row_no or ""])


_ENUMERATION_RE = re.compile(r"^\s*(?:(?:\d{1,2}|[IVX]{1,4})(?:\.\d{1,2})*[.)]|[a-zđ]\))\s+")


def fact_head(fact: Record) -> str:
    """The fact's name: an indicator before its task, a duty's first clause, a target's wording."""
    head = _ENUMERATION_RE.sub("", fact.subject)  # '2.1. Năm 2026 …' is named 'Năm 2026 …', not '2'
    head = head.split(":")[0] if fact.kind in (FactKind.INDICATOR, FactKind.TARGET) else head
    head = re.split(r"[;.]", head)[0]
    return " ".join(head.split()[:14])


@lru_cache(maxsize=8192)  # the facts of about 80 plans: a question over 1,000 plans does not keep all 100,000
def _words_of(text: str) -> tuple[str, ...]:
    return fact_words(text)


def has_slot(fact: Record, slot: Slot) -> bool:
    if slot is Slot.LEAD:
        return bool(fact.leads)
    if slot is Slot.PARTNER:
        return bool(fact.partners)
    if slot is Slot.DEADLINE:
        return bool(fact.deadline or fact.quarter or fact.attrs.get("deadlines") or fact.kind is FactKind.STAGE)
    if slot is Slot.VALUE:
        return bool(fact.targets or fact.max_score or fact.method or fact.attrs.get("value"))
    return True


@dataclass
class FactMatch:
    fact: Record
    coverage: float
    phrase: float
    head: float
    dense: float = 0.0
    score: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> float:
        """Subject evidence alone (no filters, no slots)."""
        return W_COVERAGE * self.coverage + W_PHRASE * self.phrase + W_HEAD * self.head


def _head_score(fact: Record, plan: QuestionPlan) -> tuple[float, bool, bool]:
    """(share of the fact's name found in the question, whether the question names it word for word, whether it
    names its first five words or more)."""
    words = list(_words_of(fact_head(fact)))[:12]
    if not words:
        return 0.0, False, False
    asked = f" {' '.join(_words_of(plan.folded))} "
    inside = sum(f" {w} " in asked for w in words) / len(words)
    run = 0
    for size in range(len(words), 1, -1):
        if f" {' '.join(words[:size])} " in asked:
            run = size
            break
    whole = run == len(words) and run >= 2
    if run >= 5 and not whole:  # 'Tổ đổi mới sáng tạo cộng đồng' goes on otherwise than 'Tổ … sáng tạo hoạt động'
        after = asked.split(f" {' '.join(words[:run])} ", 1)[1].split()
        if after and after[0] != words[run] and after[0] not in _AFTER_A_NAME:
            return inside, whole, False
    return inside, whole, run >= 5


# Words that may follow a name in a question without making it another name ('… là bao nhiêu', '… của xã')
_AFTER_A_NAME = frozenset({"la", "co", "cua", "o", "tai", "trong", "thi", "va", "nam", "nao", "gi", "bao", "may",
                           "do", "duoc", "phai", "dat", "xa", "ai", "den", "toi", "theo", "voi"})


_ROW_LABEL_RE = re.compile(r"^(?:giai doan|buoc|dot)\s+(?=\d)")


def row_key(row_no: str) -> str:
    """A row's number as questions name it: '15.3', 'II', and '2' for 'Giai đoạn 2' (a roadmap's rows)."""
    return _ROW_LABEL_RE.sub("", fold(row_no)) if _ROW_LABEL_RE.match(fold(row_no)) else row_no


def appendix_of(fact: Record) -> str | None:
    match = re.search(r"\bphu luc\s+(\d|[ivx]{1,4})\b", fold(fact.section or " ".join(fact.group_path)))
    return match.group(1) if match else None


ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9", "x": "10"}


def same_number(a: str, b: str) -> bool:
    return ROMAN.get(a, a) == ROMAN.get(b, b)


def score_fact(kb: KnowledgeView, plan: QuestionPlan, fact: Record, words: tuple[str, ...]) -> FactMatch:
    text_words = _words_of(fact_text(fact))
    recall, phrase = coverage(kb, words, text_words, plan.phrase, plan.context)
    head, whole_name, long_prefix = _head_score(fact, plan)
    match = FactMatch(fact, recall, phrase, head)
    score = match.evidence
    # a long name's first words name it only when the question says little else ('Tỷ lệ người dân có …' opens
    # many rows: the words after it decide)
    if whole_name or (long_prefix and recall >= MIN_PREFIX_RECALL):
        score += BONUS_HEAD_PHRASE
        match.notes.append("head")
    if plan.rows and fact.row_no:
        if row_key(fact.row_no) in plan.rows:
            score += BONUS_ROW
            if len(words) <= 2 or recall >= MIN_ROW_COVERAGE:  # a row number names a row; words that say
                match.notes.append("row")  # something else make it a coincidence ('mục 2' beside another task)
        elif fact.kind in (FactKind.INDICATOR, FactKind.TARGET, FactKind.TASK, FactKind.KPI):
            score -= PENALTY_ROW
    if plan.years:
        years = {str(y) for y in plan.years}
        keyed = {k for k in fact.targets if k}
        if fact.year is not None and fact.kind in (FactKind.SCHEDULE, FactKind.STAGE):
            score += BONUS_YEAR if str(fact.year) in years else -PENALTY_YEAR
        elif keyed:
            score += BONUS_YEAR if keyed & years else 0.0
    if plan.quarter and fact.quarter:
        score += BONUS_QUARTER if fact.quarter == plan.quarter else -PENALTY_QUARTER
    if plan.units:
        leads = {u.name for u in fact.leads}
        partners = {u.name for u in fact.partners}
        if Slot.PARTNER in plan.slots and not plan.asks(Slot.LEAD):
            # 'X phối hợp với ai': X leads the fact asked about
            score += BONUS_NAMED_LEAD if leads & set(plan.units) else -BONUS_NAMED_LEAD
            if leads & set(plan.units):
                match.notes.append("unit")
        elif leads & set(plan.units) or partners & set(plan.units):
            score += BONUS_UNIT
            match.notes.append("unit")
    if plan.recipients:
        to = fold(fact.attrs.get("to", ""))
        if any(word in to for name in plan.recipients for word in [fold(name).split()[-1]]):
            score += BONUS_UNIT
    if plan.appendix and (appendix := appendix_of(fact)):
        score += 0.15 if same_number(appendix, plan.appendix) else -0.3
    if plan.kinds and fact.kind in plan.kinds:
        score += BONUS_KIND
    if asks_rate(plan) and not _is_rate(fact, text_words):  # 'chỉ tiêu tỷ lệ X': a task about X is no rate
        score -= PENALTY_VALUE_KIND
        match.notes.append("not-a-rate")
    if plan.value_kind and Slot.VALUE in plan.slots and not _value_fits(fact, plan.value_kind):
        score -= PENALTY_VALUE_KIND
        match.notes.append("value-kind")
    if any(has_slot(fact, s) for s in plan.fact_slots):
        score += BONUS_SLOT
    match.score = score
    return match


def pairs(words: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def asks_rate(plan: QuestionPlan) -> bool:
    """The question is about a rate ('chỉ tiêu tỷ lệ …'): a fact or sentence without one does not answer it."""
    return ("ti", "le") in pairs(fact_words(" ".join(plan.phrase)))


def _is_rate(fact: Record, text_words: tuple[str, ...]) -> bool:
    return ("ti", "le") in pairs(text_words) or "%" in " ".join(
        [*fact.targets.values(), fact.unit_of_measure or "", fact.attrs.get("value", "")])


def _value_fits(fact: Record, kind: str) -> bool:
    text = " ".join([*fact.targets.values(), fact.max_score or "", fact.method or "", fact.attrs.get("value", ""),
                     fact.unit_of_measure or ""]).lower()
    if kind == "percent":
        return "%" in text
    if kind == "money":
        return bool(re.search(r"tỷ|triệu|nghìn|đồng", text))
    if kind == "score":
        return bool(fact.max_score) or "điểm" in text
    return True


def candidate_facts(
    kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None, kinds: frozenset[FactKind] | set[FactKind]
) -> list[Record]:
    """Facts worth scoring: all of the scoped plans when they are few, else the top lexical and dense hits."""
    if kb.count_facts(doc_ids, kinds) <= 800:
        return kb.facts(doc_ids, kinds)
    hits = kb.search_facts(plan.text, doc_ids, kinds, k=60, dense=True)
    return [h.fact for h in hits]


def rank_facts(
    kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None, kinds: frozenset[FactKind] | set[FactKind],
    words: tuple[str, ...] | None = None, use_dense: bool = True, among: list[Record] | None = None,
) -> list[FactMatch]:
    """The facts ranked best first (``among``: only these, else the candidates of the plans and kinds)."""
    words = words if words is not None else plan.subject
    facts = among if among is not None else candidate_facts(kb, plan, doc_ids, kinds)
    matches = [score_fact(kb, plan, fact, words) for fact in facts]
    matches.sort(key=lambda m: m.score, reverse=True)
    if use_dense and matches and (matches[0].score < CONFIDENT_SCORE or _close_call(matches)):
        top = matches[:40]
        cosines = kb.dense_scores(plan.text, [m.fact for m in top])
        for m in top:
            m.dense = cosines.get(m.fact.record_id, 0.0)
            m.score += W_DENSE * max(0.0, m.dense - DENSE_FLOOR) / (1 - DENSE_FLOOR)
        matches.sort(key=lambda m: m.score, reverse=True)
    return matches


def _close_call(matches: list[FactMatch]) -> bool:
    return len(matches) > 1 and matches[0].score - matches[1].score < NEAR_BEST


def scattered(match: FactMatch, plan: QuestionPlan) -> bool:
    """The fact holds the question's words only apart from each other, and its own name is not in the question: a
    long text that happens to share the words ('chỉ số Sản phẩm tri thức …' against a duty on 'sản phẩm chủ lực').
    Calibrated on the probe sets: 2 of 549 answers from facts look like this."""
    return (len(plan.subject) >= SCATTERED_MIN_WORDS and not {"head", "row", "unit"} & set(match.notes)
            and match.phrase < SCATTERED_MAX_PHRASE and match.head < SCATTERED_MAX_HEAD)


NAMED_KIND_RE = re.compile(r"\b(?:chi so|chi tieu|tieu chi)\b")  # a row named by its kind
MISNAMED_COVERAGE, MISNAMED_MAX_PHRASE = 0.4, 0.5  # of the indicator named, in the name of the fact answering


def misnamed(kb: KnowledgeView, match: FactMatch, plan: QuestionPlan) -> bool:
    """The question names an indicator ('chỉ số Đầu tư cho nghiên cứu và phát triển') and the fact answering has a
    name of its own (a row's name, a duty's first clause) holding little of it, nor the name as a phrase: another
    row or duty whose longer text shares the words."""
    fact = match.fact
    named = re.search(rf"(?<!dat ){NAMED_KIND_RE.pattern}(?: \w+){{0,2}} {plan.subject[0]}\b", plan.folded) if (
        plan.subject) else None  # 'chỉ số (Đầu) tư cho nghiên cứu …': the indicator is named right after its kind
    if (len(plan.subject) < SCATTERED_MIN_WORDS or not named or Slot.VALUE in plan.slots or "row" in match.notes
            or match.phrase >= MISNAMED_MAX_PHRASE):  # a value asked of 'chỉ tiêu …' reads the row's figures
        return False
    head = fact_head(fact)
    if fold(head) == fold(fact.subject):  # the fact is its name
        return False
    return coverage(kb, plan.subject, _words_of(head))[0] < MISNAMED_COVERAGE


def confident(match: FactMatch) -> bool:
    strong_name = "head" in match.notes or "row" in match.notes
    return (match.coverage >= MIN_FACT_COVERAGE and match.score >= MIN_FACT_SCORE) or (
        strong_name and match.score >= MIN_FACT_SCORE
    )


# --- sentences ---------------------------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ\-–•+])|\n")
TABLE_SHARE = 0.5  # a passage mostly read from a table is answered from its facts, not quoted
_RECIPIENTS_HEAD_RE = re.compile(r"(?i)^n[ơo]i nh[ậa]n\b")


@dataclass
class SentenceMatch:
    text: str
    chunk_index: int
    order: int
    coverage: float
    phrase: float
    score: float
    chunk: object = None


def rank_sentences(
    kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None, words: tuple[str, ...] | None = None,
    k: int = 8, need: re.Pattern[str] | None = None,
) -> list[SentenceMatch]:
    """Sentences of the best passages, scored by the subject's coverage (with the section's title)."""
    words = words if words is not None else plan.subject
    asks_recipients = DocField.RECIPIENTS in plan.fields
    hits = kb.search_chunks(plan.text, doc_ids, {"text", "table"}, k=k + 4, dense=True)
    out: list[SentenceMatch] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        table = kb.table_lines(chunk.doc_id)
        span = range(chunk.line_start, chunk.line_end + 1)
        if table and sum(n in table for n in span) > TABLE_SHARE * len(span):
            continue
        parts = chunk.section.split(" > ") if chunk.section else [""]
        # the heading; in an appendix, the appendix's title as well ('Bộ chỉ số … (KPIs)' > 'V. Tổ chức đánh giá')
        section = " ".join([parts[-1], *(parts[:1] if len(parts) > 1 and fold(parts[0]).startswith("phu luc") else [])])
        pieces = _SENTENCE_SPLIT.split(chunk.body)
        recipients = False  # in the plan's 'Nơi nhận:' list: whom it is sent to, not what anyone must do
        for i, piece in enumerate(pieces):
            bullet = piece.strip().startswith(("-", "+", "•"))
            piece = piece.strip(" -+•\t")
            recipients = (recipients and bullet) or bool(_RECIPIENTS_HEAD_RE.match(piece) and not asks_recipients)
            if (len(piece) < 15 and not piece.endswith(":")) or piece.isupper() or recipients:
                continue
            if need is not None and not need.search(piece):
                continue
            matched = f"{piece} {section}"
            if piece.endswith(":"):  # a list's lead-in is matched with the items under it
                matched += " " + " ".join(p for p in pieces[i + 1 : i + 12] if p.strip().startswith(("-", "+", "•")))
            recall, phrase = coverage(kb, words, _words_of(matched), plan.phrase, plan.context)
            score = W_COVERAGE * recall + W_PHRASE * phrase + 0.1 / (1 + rank)
            out.append(SentenceMatch(piece, rank, i, recall, phrase, score, chunk))
    out.sort(key=lambda s: s.score, reverse=True)
    return out


MAX_LIST_ITEMS = 10


def list_under(sentence: SentenceMatch) -> list[str]:
    """The bullets that follow a lead-in line ('Lĩnh vực cụ thể:') in its passage."""
    lines = str(getattr(sentence.chunk, "body", "")).split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip(" -+•").startswith(sentence.text.strip()[:40])), None)
    if start is None:
        return []
    items = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith(("-", "+", "•")):
            break
        items.append(line.strip(" -+•"))
    return items[:MAX_LIST_ITEMS]
