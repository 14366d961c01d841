"""Answers without an LLM: from records, plan metadata, or the most relevant sentences.

Every fact in an answer comes from one cited source ([n]); when the evidence does not cover
the question well enough, the answer is "not found" rather than a guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.qa.retriever import hybrid_search
from assistant.qa.types import Hit, Source
from assistant.qa.understand import STOPWORDS, Question
from ingest.model import Chunk, Record, page_of_line
from ingest.normalize import abbreviations, expand_abbreviations, fold
from ingest.parse import heading_level
from ingest.record_text import KIND_LABELS, TABLE_KINDS, record_sentence, unit_names
from ingest.units import find_units
from vectorstore.store import Snapshot, Store

# Coverage of the question's content words needed to trust a record / a sentence.
RECORD_MIN_COVERAGE = 0.5
SENTENCE_MIN_COVERAGE = 0.45
SHORT_CAP = 560
LONG_CAP = 2300


@dataclass
class Draft:
    """An answer under construction: text with [n] markers and the sources they point to."""

    parts: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    found: bool = True

    def cite(self, source: Source) -> int:
        for i, existing in enumerate(self.sources, start=1):
            if (existing.doc_id, existing.line_start, existing.text) == (source.doc_id, source.line_start, source.text):
                return i
        self.sources.append(source)
        return len(self.sources)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def _norm_token(token: str) -> str:
    # 'tỉ lệ' and 'tỷ lệ' are the same word: fold i/y spellings of short syllables
    return token[:-1] + "i" if len(token) <= 3 and token.endswith("y") and token[0] in "tkmlshq" else token


@lru_cache(maxsize=32768)
def text_words(text: str) -> tuple[str, ...]:
    """Folded, abbreviation-expanded, spelling-normalized words of a text (cached: chunk and
    record texts are scored again for every question)."""
    return tuple(_norm_token(t) for t in expand_abbreviations(fold(text)).split())


def token_set(text: str) -> set[str]:
    return set(text_words(text))


_IDF_CACHE: dict[int, tuple[Snapshot, dict[str, float]]] = {}


def idf_of(snapshot: Snapshot) -> dict[str, float]:
    """Inverse document frequency of folded words over the snapshot's chunks (cached per snapshot)."""
    cached = _IDF_CACHE.get(id(snapshot))
    if cached and cached[0] is snapshot:
        return cached[1]
    counts: dict[str, int] = {}
    for chunk in snapshot.chunks:
        for token in token_set(chunk.body):
            counts[token] = counts.get(token, 0) + 1
    n = max(1, len(snapshot.chunks))
    idf = {t: math.log(1 + n / c) for t, c in counts.items()}
    _IDF_CACHE.clear()
    _IDF_CACHE[id(snapshot)] = (snapshot, idf)
    return idf


def _expansion_in(word: str, tokens: set[str]) -> bool:
    """An abbreviation in the question ('dvctt') is found when the text has its full form."""
    full = abbreviations().get(word)
    return bool(full) and all(_norm_token(t) in tokens for t in full.split())


def coverage(question: Question, text: str, idf: dict[str, float] | None = None) -> float:
    """Share of the question's content words (IDF-weighted) found in ``text``, with a phrase bonus."""
    words = {_norm_token(w) for w in question.content_words}
    if not words:
        return 0.0
    tokens = token_set(text)
    default = max(idf.values()) if idf else 1.0
    weight = {w: (idf.get(w, default) if idf else 1.0) for w in words}
    total = sum(weight.values())
    hit_weight = sum(weight[w] for w in words if w in tokens or _expansion_in(w, tokens))
    # consecutive pairs reward phrases over scattered words
    folded = [_norm_token(w) for w in question.folded.split() if w not in STOPWORDS]
    pairs = list(zip(folded, folded[1:], strict=False))
    words_of_text = text_words(text)
    text_pairs = set(zip(words_of_text, words_of_text[1:], strict=False))
    pair_cov = sum(1 for p in pairs if p in text_pairs) / len(pairs) if pairs else hit_weight / total
    return 0.7 * hit_weight / total + 0.3 * pair_cov


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def make_source(snapshot: Snapshot, chunk: Chunk, text: str, score: float) -> Source:
    doc = snapshot.documents[chunk.doc_id]
    meta = doc.metadata
    return Source(
        document=doc.filename, doc_id=doc.doc_id, commune=meta.get("commune") or "",
        province=meta.get("province") or "", plan_title=meta.get("title") or "", section=chunk.section,
        text=text, score=round(float(score), 4), kind=chunk.kind, line_start=chunk.line_start, line_end=chunk.line_end,
        page=page_of_line(meta, chunk.line_start),
    )


def record_source(snapshot: Snapshot, record: Record, score: float) -> Source:
    index = snapshot.record_chunk.get(record.record_id)
    chunk = snapshot.chunks[index] if index is not None else Chunk(
        "", record.doc_id, "", "", " > ".join(record.group_path), "record", record.line_start, record.line_end
    )
    return make_source(snapshot, chunk, record_sentence(record), score)


def where(snapshot: Snapshot, doc_id: str) -> str:
    commune = snapshot.documents[doc_id].commune
    return f"xã {commune}" if commune else snapshot.documents[doc_id].filename


# --- records -----------------------------------------------------------------------------------


@dataclass
class ScoredRecord:
    record: Record
    score: float
    coverage: float


# Lexical evidence this strong needs no dense retrieval (which costs a query embedding).
CONFIDENT_COVERAGE = 0.75


def find_records(
    store: Store, snapshot: Snapshot, question: Question, doc_ids: set[str] | None, limit: int = 8
) -> list[ScoredRecord]:
    scored = _score_records(store, snapshot, question, doc_ids, use_dense=False)
    if not scored or scored[0].coverage < CONFIDENT_COVERAGE:
        scored = _score_records(store, snapshot, question, doc_ids, use_dense=True)
    return scored[:limit]


def _score_records(
    store: Store, snapshot: Snapshot, question: Question, doc_ids: set[str] | None, use_dense: bool
) -> list[ScoredRecord]:
    hits = hybrid_search(store, snapshot, question.text, k=30, doc_ids=doc_ids, kinds={"record"}, use_dense=use_dense)
    records = {r.record_id: r for r in snapshot.records}
    idf = idf_of(snapshot)
    scored: list[ScoredRecord] = []
    for rank, hit in enumerate(hits):
        chunk = snapshot.chunks[hit.chunk_index]
        record = records.get(chunk.metadata.get("record_id", ""))
        if record is None:
            continue
        title = snapshot.documents[record.doc_id].metadata.get("title") or ""
        appendix = "phụ lục bảng" if record.kind in TABLE_KINDS else ""
        targets = " ".join(record.targets.values())
        kind_words = KIND_LABELS.get(record.kind, "") + (" kpi điểm tối đa" if record.max_score else "")
        text = " ".join([record.subject, " ".join(record.group_path), record.method or "", targets, title,
                         appendix, kind_words, record.row_no or ""])
        cov = coverage(question, text, idf)
        score = cov + 0.15 / (1 + rank)
        if record.row_no and record.row_no in question.row_numbers:
            score += 0.6
        if _names_subject(question, record):
            score += 0.3
        if question.years and record.year is not None:
            score += 0.25 if record.year in question.years else -0.3
        if question.quarter and record.quarter:
            score += 0.25 if record.quarter == question.quarter else -0.3
        if question.intent in ("lead", "partner", "deadline", "target") and record.kind in TABLE_KINDS:
            score += 0.05
        if question.intent == "target" and (record.targets or record.method or record.max_score):
            score += 0.1
        if question.intent == "deadline" and record.deadline:
            score += 0.1
        if question.units and question.intent in ("partner",) and any(u.name in question.units for u in record.leads):
            score += 0.1
        scored.append(ScoredRecord(record, score, cov))
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


def _names_subject(question: Question, record: Record) -> bool:
    """The question names the row's indicator itself ('chỉ số Quản trị Môi trường')."""
    if record.kind not in TABLE_KINDS:
        return False
    head = record.subject.split(":")[0]
    head_words = [w for w in fold(head).split() if w not in STOPWORDS]
    return 0 < len(head_words) <= 12 and f" {' '.join(fold(head).split())} " in f" {question.folded} "


def _subject(record: Record, limit: int = 260) -> str:
    return capitalize(shorten(record.subject.rstrip(" .;"), limit))


def answer_from_record(snapshot: Snapshot, question: Question, best: ScoredRecord, draft: Draft) -> bool:
    """Compose a one-record answer; False when the record cannot answer (e.g. a missing year)."""
    record = best.record
    n = draft.cite(record_source(snapshot, record, best.score))
    place = where(snapshot, record.doc_id)
    subject = _subject(record)
    leads, partners = unit_names(record.leads), unit_names(record.partners)
    intent = question.intent
    if intent == "target":
        value = _target_value(record, question)
        if value is None:
            return False
        text = f"{subject} ({place}): {value}"
        if leads:
            text += f"; đơn vị chủ trì theo dõi: {leads}"
        draft.parts.append(f"{text} [{n}].")
        return True
    if intent == "deadline" and not record.deadline:
        return False
    pieces = []
    if intent == "deadline":
        pieces.append(f"thời gian thực hiện: {record.deadline}")
    if leads:
        pieces.append(f"đơn vị chủ trì: {leads}")
    if partners:
        pieces.append(f"đơn vị phối hợp: {partners}")
    if intent != "deadline" and record.deadline:
        pieces.append(f"thời gian: {record.deadline}")
    if not leads and not partners and intent in ("lead", "partner"):
        return False
    if intent == "partner" and not partners:
        # a duty written as prose: the partners are inside the sentence itself
        pieces.append(f"nội dung: {shorten(record.subject, 300)}")
    draft.parts.append(f"{subject} ({place}) — " + "; ".join(pieces) + f" [{n}].")
    return True


def _target_value(record: Record, question: Question) -> str | None:
    if record.targets:
        years = [str(y) for y in question.years]
        keyed = {k: v for k, v in record.targets.items() if k}
        if years and keyed:
            found = [f"năm {y}: {keyed[y]}" for y in years if y in keyed]
            return "; ".join(found) if found else None
        return "; ".join(f"năm {k}: {v}" if k else v for k, v in record.targets.items())
    if record.max_score:
        score = record.max_score if "điểm" in record.max_score else f"{record.max_score} điểm"
        detail = f"cách tính: {record.method}; " if record.method else ""
        return f"{detail}điểm tối đa {score}"
    if record.method:
        return record.method
    return None


# --- passages ----------------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.;!?])\s+(?=[A-ZĐÀ-Ỹ-])|\n")


_VALUE_RE = re.compile(
    r"(?:(?:≥|≤|>|<|=|đạt|tối thiểu|ít nhất|trên|dưới|khoảng|phấn đấu|tăng|giảm)\s*(\d+(?:[.,]\d+)?))"
    r"|(?:(?<![\w/.,-])(\d+(?:[.,]\d+)?)\s*(?:%|điểm|tỷ|triệu|nghìn|người|hộ|mô hình|sản phẩm|sáng kiến|chỉ tiêu"
    r"|chỉ số|cuộc|lớp|doanh nghiệp|bài báo|ứng dụng|thôn|ấp|km|ha)\b)",
    re.IGNORECASE,
)


def value_numbers(text: str) -> set[str]:
    """Numbers written as values ('≥ 60%', 'tối thiểu 03 mô hình', '54 chỉ tiêu'): not dates,
    years, row numbers or document numbers."""
    found = {a or b for a, b in _VALUE_RE.findall(text)}
    return {n for n in found if not re.fullmatch(r"(19|20)\d\d", n)}


@dataclass
class Sentence:
    text: str
    chunk: Chunk
    score: float
    coverage: float
    order: tuple[int, int]


def best_sentences(
    store: Store, snapshot: Snapshot, question: Question, doc_ids: set[str] | None, limit: int,
    need_number: bool = False,
    need_unit: bool = False,
) -> list[Sentence]:
    sentences = _score_sentences(store, snapshot, question, doc_ids, need_number, need_unit, use_dense=False)
    if not sentences or sentences[0].coverage < CONFIDENT_COVERAGE:
        sentences = _score_sentences(store, snapshot, question, doc_ids, need_number, need_unit, use_dense=True)
    return [s for s in sentences[:limit] if s.coverage >= SENTENCE_MIN_COVERAGE * 0.6]


def _score_sentences(
    store: Store, snapshot: Snapshot, question: Question, doc_ids: set[str] | None,
    need_number: bool, need_unit: bool, use_dense: bool,
) -> list[Sentence]:
    hits = hybrid_search(store, snapshot, question.text, k=8, doc_ids=doc_ids, kinds={"text", "table"},
                         use_dense=use_dense)
    idf = idf_of(snapshot)
    sentences: list[Sentence] = []
    for rank, hit in enumerate(hits):
        chunk = snapshot.chunks[hit.chunk_index]
        for i, piece in enumerate(_SENTENCE_SPLIT.split(chunk.body)):
            piece = piece.strip(" -+•\t")
            if len(piece) < 12:
                continue
            if need_number and not value_numbers(piece) - value_numbers(question.text):
                continue  # a target needs a value the question does not already state
            if need_unit and not find_units(piece):
                continue
            if heading_level(piece) is not None and len(piece) < 90 or piece.isupper():
                continue  # a heading is not an answer
            cov = coverage(question, piece + " " + chunk.section, idf)
            sentences.append(Sentence(piece, chunk, cov + 0.1 / (1 + rank), cov, (hit.chunk_index, i)))
    sentences.sort(key=lambda s: s.score, reverse=True)
    return sentences


def table_row_text(text: str) -> str:
    """A table row (tab-separated or markdown) read as text: its non-empty cells joined by ' — '."""
    if "\t" in text or text.startswith("|"):
        cells = [c.strip() for c in re.split(r"\t|\|", text) if c.strip()]
        return " — ".join(cells)
    return text


def answer_from_sentences(snapshot: Snapshot, sentences: list[Sentence], draft: Draft, cap: int) -> None:
    used = 0
    for sentence in sorted(sentences, key=lambda s: s.order):
        text = shorten(table_row_text(sentence.text), min(700, cap))
        if used + len(text) > cap:
            break
        n = draft.cite(make_source(snapshot, sentence.chunk, sentence.chunk.body, sentence.score))
        prefix = "- " if len(sentences) > 1 else ""
        draft.parts.append(f"{prefix}{capitalize(text)} [{n}]")
        used += len(text) + 8


def other_hits(snapshot: Snapshot, hits: list[Hit]) -> list[Source]:
    return [make_source(snapshot, snapshot.chunks[h.chunk_index], snapshot.chunks[h.chunk_index].body, h.score)
            for h in hits]
