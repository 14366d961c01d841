"""The QA service: question -> grounded Vietnamese answer with citations.

Structured questions (who leads, coordinates, by when, to what target) are answered from
records; metadata questions from the plan's header; free questions from the most relevant
sentences. An LLM, when configured, rewrites the answer from the same sources and falls
back to the extractive answer on any error.
"""

from __future__ import annotations

import re
import time
import unicodedata

from assistant.config import Settings
from assistant.qa.extractive import (
    LONG_CAP,
    RECORD_MIN_COVERAGE,
    SENTENCE_MIN_COVERAGE,
    SHORT_CAP,
    Draft,
    answer_from_record,
    answer_from_sentences,
    best_sentences,
    capitalize,
    coverage,
    find_records,
    idf_of,
    make_source,
    other_hits,
    record_source,
    shorten,
    where,
)
from assistant.qa.retriever import hybrid_search
from assistant.qa.types import Answer, Source
from assistant.qa.understand import Question, analyze, find_communes
from ingest.model import Chunk, Record, UnitRef
from ingest.normalize import fold
from ingest.parse import heading_level
from ingest.record_text import KIND_LABELS, TABLE_KINDS, unit_label, unit_names
from vectorstore.store import Snapshot, Store

SHORT_INTENTS = {"lead", "partner", "deadline", "target", "metadata"}


def not_found_message(snapshot: Snapshot, question: Question, detail: str | None = None) -> str:
    communes = ", ".join(snapshot.communes) or "chưa có kế hoạch nào"
    subject = detail or "nội dung này"
    return (
        f"Không tìm thấy thông tin về {subject} trong các kế hoạch hiện có. "
        f"Các kế hoạch đã nạp thuộc các xã: {communes}."
    )


class QAService:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.llm = None
        if settings.llm_enabled:
            from assistant.qa.llm import LLMAnswerer

            self.llm = LLMAnswerer(settings)

    # --- public API ------------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, commune: str | None = None) -> list[Source]:
        snapshot = self.store.snapshot
        doc_ids = self._doc_ids(snapshot, [commune]) if commune else None
        hits = hybrid_search(self.store, snapshot, query, k=k, doc_ids=doc_ids)
        return other_hits(snapshot, hits)

    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        commune: str | None = None,
        top_k: int | None = None,
    ) -> Answer:
        started = time.perf_counter()
        snapshot = self.store.snapshot
        question = unicodedata.normalize("NFC", question).strip()
        text = resolve_follow_up(question, history or [], snapshot.communes)
        q = analyze(text, snapshot.communes)
        if commune:
            matched = find_communes(fold(commune), snapshot.communes)
            if not matched:
                q.unknown_commune, q.communes = commune, []
            else:
                q.communes = matched
        answer = self._answer(snapshot, q)
        if self.llm is not None and answer.found:
            answer = self.llm.rewrite(q, answer)
        k = max(1, min(top_k or self.settings.default_top_k, self.settings.max_top_k))
        if not (q.unknown_commune and not q.communes):  # nothing to show for a commune we do not have
            answer.sources = self._pad_sources(snapshot, q, answer.sources, k)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer

    # --- composition -------------------------------------------------------------------------------

    def _answer(self, snapshot: Snapshot, q: Question) -> Answer:
        if not snapshot.documents:
            return Answer("Chưa có kế hoạch nào trong chỉ mục. Hãy tải lên hoặc nạp kế hoạch trước.", False, intent=q.intent)
        if q.unknown_commune and not q.communes:
            return Answer(not_found_message(snapshot, q, f"xã {q.unknown_commune}"), False, intent=q.intent)
        doc_ids = self._doc_ids(snapshot, q.communes) if q.communes else None
        draft = Draft()
        if q.intent == "compare":
            self._compare(snapshot, q, draft)
        elif q.intent == "metadata":
            self._metadata(snapshot, q, doc_ids, draft)
        elif q.intent in ("lead", "partner", "deadline", "target"):
            self._structured(snapshot, q, doc_ids, draft)
        elif q.intent == "duty":
            self._duties(snapshot, q, doc_ids, draft)
        elif q.intent == "list":
            self._list(snapshot, q, doc_ids, draft)
        elif q.intent == "count":
            self._count(snapshot, q, doc_ids, draft)
        else:
            self._passages(snapshot, q, doc_ids, draft, limit=4)
        if not draft.found or not draft.parts:
            return Answer(not_found_message(snapshot, q), False, draft.sources, intent=q.intent)
        cap = SHORT_CAP if q.intent in SHORT_INTENTS else LONG_CAP
        return Answer(shorten_answer(draft.text, cap), True, draft.sources, intent=q.intent)

    def _doc_ids(self, snapshot: Snapshot, communes: list[str]) -> set[str]:
        wanted = {fold(c) for c in communes}
        return {d.doc_id for d in snapshot.documents.values() if fold(d.commune or "") in wanted}

    def _structured(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> None:
        candidates = [c for c in find_records(self.store, snapshot, q, doc_ids) if c.coverage >= RECORD_MIN_COVERAGE]
        if q.intent == "target" and candidates:
            # a target sentence in the plan's text may match the question better than any table row
            stated = best_sentences(self.store, snapshot, q, doc_ids, limit=1, need_number=True)
            if stated and stated[0].coverage > candidates[0].coverage + 0.15 and not q.years:
                answer_from_sentences(snapshot, stated, draft, SHORT_CAP)
                return
        for rank, candidate in enumerate(candidates[:3]):
            if answer_from_record(snapshot, q, candidate, draft):
                return
            if rank == 0 and q.intent == "target" and q.years:
                # the indicator exists but not for the year asked: say so, don't guess
                draft.found = False
                return
        sentences = best_sentences(self.store, snapshot, q, doc_ids, limit=2, need_number=q.intent == "target",
                                   need_unit=q.intent in ("lead", "partner"))
        if q.intent == "target" and q.years:
            sentences = [s for s in sentences if any(str(y) in s.text for y in q.years) or len(q.years) == 1
                         and _plan_years(snapshot, s.chunk.doc_id) == {q.years[0]}]
        sentences = [s for s in sentences if s.coverage >= SENTENCE_MIN_COVERAGE]
        if not sentences:
            draft.found = False
            return
        answer_from_sentences(snapshot, sentences[:1], draft, SHORT_CAP)

    def _duties(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> None:
        units = set(q.units)
        led = [
            r for r in snapshot.records
            if (doc_ids is None or r.doc_id in doc_ids) and any(u.name in units for u in r.leads)
        ]
        # assigned duties first, then the table rows the unit leads
        duties = sorted(led, key=lambda r: r.kind != "duty")
        if not duties:
            self._passages(snapshot, q, doc_ids, draft, limit=4)
            return
        place = where(snapshot, duties[0].doc_id)
        draft.parts.append(f"Nhiệm vụ của {unit_names(duties[0].leads[:1])} ({place}):")
        _record_items(snapshot, duties, draft, item_chars=500)

    def _list(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> None:
        in_scope = [r for r in snapshot.records if doc_ids is None or r.doc_id in doc_ids]
        if q.wants_units:
            units: dict[str, tuple[UnitRef, Record]] = {}
            for record in in_scope:
                if record.kind == "duty":
                    for unit in record.leads:
                        units.setdefault(unit.name, (unit, record))
            if units:
                place = where(snapshot, next(iter(units.values()))[1].doc_id)
                draft.parts.append(f"Các cơ quan, đơn vị được phân công ({place}):")
                for unit, record in units.values():
                    n = draft.cite(record_source(snapshot, record, 1.0))
                    draft.parts.append(f"- {unit_label(unit)} [{n}]")
                return
        if q.units:
            wanted_kind = next((kind for word, kind in _KIND_BY_WORD_LIST if word in q.folded), None)
            chosen = [
                r for r in in_scope
                if any(u.name in q.units for u in r.leads)
                and (r.kind in TABLE_KINDS if wanted_kind or "phu luc" in q.folded else True)
                and (wanted_kind is None or r.kind == wanted_kind or r.kind in ("indicator", "target"))
            ]
            if chosen:
                draft.parts.append(f"Các nội dung do {', '.join(q.units)} chủ trì ({where(snapshot, chosen[0].doc_id)}):")
                _record_items(snapshot, chosen, draft, item_chars=220)
                return
        # a list written as prose: the items of the best-matching passage
        sentences = best_sentences(self.store, snapshot, q, doc_ids, limit=1)
        if not sentences or sentences[0].coverage < SENTENCE_MIN_COVERAGE:
            draft.found = False
            return
        chunk = sentences[0].chunk
        # numbered items are sub-sections of their own: read the whole parent section
        path = chunk.section.split(" > ")
        parent = " > ".join(path[:-1]) if len(path) > 1 and re.match(r"^\d+\.", path[-1]) else chunk.section
        _section_items(snapshot, chunk, parent, draft, sentences[0].score, heading_max=60)

    def _count(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> None:
        """'Có bao nhiêu chỉ tiêu về X?': the count the plan states for the group, else the rows counted."""
        idf = idf_of(snapshot)
        groups: dict[tuple[str, tuple[str, ...]], list[Record]] = {}
        for record in snapshot.records:
            if (doc_ids is None or record.doc_id in doc_ids) and record.kind in TABLE_KINDS and record.group_path:
                groups.setdefault((record.doc_id, tuple(record.group_path)), []).append(record)
        scored = sorted(
            ((coverage(q, f"{path[-1]} {KIND_LABELS.get(rows[0].kind, '')} {rows[0].kind}", idf), key, rows)
             for key, rows in groups.items() for path in [key[1]]),
            key=lambda item: item[0], reverse=True,
        )
        if scored and scored[0][0] >= SENTENCE_MIN_COVERAGE:
            _, (doc_id, path), rows = scored[0]
            label = path[-1]
            stated = re.search(r"\((\d+)\)", label)
            count = int(stated.group(1)) if stated else len(rows)
            n = draft.cite(record_source(snapshot, rows[0], 1.0))
            draft.parts.append(f"{capitalize(label)} ({where(snapshot, doc_id)}): {count} {q.counted_label} [{n}].")
            _record_items(snapshot, rows, draft, item_chars=160)
            return
        # else a count stated in the text ('… (54 chỉ tiêu)')
        sentences = best_sentences(self.store, snapshot, q, doc_ids, limit=3, need_number=True)
        sentences = [s for s in sentences if s.coverage >= SENTENCE_MIN_COVERAGE]
        if not sentences:
            draft.found = False
            return
        answer_from_sentences(snapshot, sentences[:1], draft, SHORT_CAP)

    def _passages(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft, limit: int) -> None:
        if len(q.content_words) <= 3 and self._named_section(snapshot, q, doc_ids, draft):
            return
        sentences = best_sentences(self.store, snapshot, q, doc_ids, limit=limit)
        if not sentences or sentences[0].coverage < SENTENCE_MIN_COVERAGE:
            if not self._named_section(snapshot, q, doc_ids, draft):
                draft.found = False
            return
        answer_from_sentences(snapshot, sentences, draft, LONG_CAP)

    def _named_section(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> bool:
        """'Mục tiêu cụ thể của kế hoạch là gì?': the question names a section; answer with its text."""
        if not doc_ids or len(doc_ids) != 1:
            return False
        padded = f" {q.folded} "
        best: tuple[int, str, Chunk] | None = None
        for chunk in snapshot.chunks:
            if chunk.doc_id not in doc_ids or chunk.kind != "text" or not chunk.section:
                continue
            path = chunk.section.split(" > ")
            for depth in range(min(2, len(path))):
                name = re.sub(r"^(?:[ivx]+|\d+)\s+", "", fold(path[depth]))
                if len(name.split()) >= 2 and f" {name} " in padded and (best is None or len(name) > best[0]):
                    best = (len(name), " > ".join(path[: depth + 1]), chunk)
        if best is None:
            return False
        _, prefix, chunk = best
        _section_items(snapshot, chunk, prefix, draft, 1.0, heading_max=90)
        return True

    def _metadata(self, snapshot: Snapshot, q: Question, doc_ids: set[str] | None, draft: Draft) -> None:
        docs = [snapshot.documents[d] for d in sorted(doc_ids)] if doc_ids else []
        if not docs:
            hits = hybrid_search(self.store, snapshot, q.text, k=1)
            docs = [snapshot.documents[snapshot.chunks[hits[0].chunk_index].doc_id]] if hits else []
        for doc in docs:
            meta = doc.metadata
            place = where(snapshot, doc.doc_id)
            field = q.metadata_field
            lines: list[str] = []
            if field in ("number", "date"):
                if meta.get("number"):
                    lines.append(f"Kế hoạch số {meta['number']}")
                if meta.get("date") and (meta.get("number") or field == "date"):
                    lines.append(f"ban hành ngày {meta['date']}" if "/" in meta["date"] else f"ban hành {meta['date']}")
            elif field == "signer" and meta.get("signer"):
                lines.append(f"{meta['signer']}, {meta.get('signer_role') or 'người ký'} UBND {place}")
            elif field == "province" and meta.get("province"):
                lines.append(f"{capitalize(place)} thuộc {_province_label(doc.metadata)}")
            elif field == "period":
                period = re.search(r"(?:giai đoạn|năm)\s+\d{4}(?:\s*[-–]\s*\d{4})?(?:[^.;]*?tiếp theo)?", meta.get("title") or "")
                if period:
                    lines.append(f"Kế hoạch triển khai {period.group(0)}")
            elif field == "bases":
                bases = _matching_bases(q, meta.get("legal_bases") or [])
                lines.extend(f"- {_basis_head(b)}" for b in bases)
            if not lines:
                continue
            chunk = _chunk_with(snapshot, doc.doc_id, _metadata_evidence(field, meta))
            n = draft.cite(make_source(snapshot, chunk, chunk.body, 1.0))
            if field == "bases":
                draft.parts.append(f"Kế hoạch của {place} căn cứ/thực hiện các văn bản sau [{n}]:")
                draft.parts.extend(lines)
            else:
                draft.parts.append(f"{capitalize(', '.join(lines))} ({place}) [{n}].")
        if not draft.parts:
            draft.found = False

    def _compare(self, snapshot: Snapshot, q: Question, draft: Draft) -> None:
        if len(q.communes) >= 2:
            for commune in q.communes:
                text = _without_other_communes(q.text, commune, q.communes)
                text = re.sub(r"(?i)\b(so sánh|so sanh|lần lượt|lan luot)\b", " ", text)
                single = analyze(text, snapshot.communes)
                single.communes = [commune]
                if single.intent == "compare":
                    single.intent = "target" if single.years or "bao nhieu" in single.folded else "content"
                sub = Draft(sources=draft.sources)
                self._structured(snapshot, single, self._doc_ids(snapshot, [commune]), sub) if single.intent in (
                    "lead", "partner", "deadline", "target") else self._passages(
                    snapshot, single, self._doc_ids(snapshot, [commune]), sub, limit=2)
                if sub.parts:
                    draft.parts.append(f"- Xã {commune}: " + " ".join(sub.parts))
                else:
                    draft.parts.append(f"- Xã {commune}: không tìm thấy thông tin tương ứng.")
            return
        # "which communes …": plans whose title/bases match the question
        scored = []
        for doc in snapshot.documents.values():
            text = " ".join([doc.metadata.get("title") or "", " ".join(doc.metadata.get("legal_bases") or [])])
            scored.append((coverage(q, doc.metadata.get("title") or "") * 0.7 + coverage(q, text) * 0.3, doc))
        scored.sort(key=lambda s: s[0], reverse=True)
        best = scored[0][0] if scored else 0
        chosen = [doc for score, doc in scored if score >= max(SENTENCE_MIN_COVERAGE, best - 0.1)]
        if not chosen:
            draft.found = False
            return
        draft.parts.append("Các xã có kế hoạch phù hợp:")
        for doc in chosen:
            n = draft.cite(make_source(snapshot, _header_chunk(snapshot, doc.doc_id), _metadata_text(doc.metadata), 1.0))
            draft.parts.append(f"- Xã {doc.commune}: {shorten(doc.metadata.get('title') or doc.filename, 220)} [{n}]")

    def _pad_sources(self, snapshot: Snapshot, q: Question, sources: list[Source], k: int) -> list[Source]:
        """Cited sources first, then the next best passages of the same communes, up to k."""
        if len(sources) >= k:
            return sources[:max(k, len(sources))]
        doc_ids = self._doc_ids(snapshot, q.communes) if q.communes else None
        if doc_ids is None and sources:
            doc_ids = {s.doc_id for s in sources}
        seen = {(s.doc_id, s.line_start, s.kind) for s in sources}
        padded = list(sources)
        for hit in hybrid_search(self.store, snapshot, q.text, k=k * 2, doc_ids=doc_ids, use_dense=False):
            chunk = snapshot.chunks[hit.chunk_index]
            key = (chunk.doc_id, chunk.line_start, chunk.kind)
            if key in seen:
                continue
            seen.add(key)
            padded.append(make_source(snapshot, chunk, chunk.body, hit.score))
            if len(padded) >= k:
                break
        return padded


def _section_items(
    snapshot: Snapshot, chunk: Chunk, prefix: str, draft: Draft, score: float, heading_max: int
) -> None:
    """The lines of a whole section (``prefix`` and below) as cited bullets, within the long cap;
    short headings are left out."""
    bodies = [c.body for c in snapshot.chunks if c.doc_id == chunk.doc_id and c.kind == "text"
              and (c.section == prefix or c.section.startswith(prefix + " > "))] or [chunk.body]
    n = draft.cite(make_source(snapshot, chunk, chunk.body, score))
    draft.parts.append(f"Theo {where(snapshot, chunk.doc_id)}, mục {prefix or 'phần đầu'} [{n}]:")
    used = 0
    for line in "\n".join(bodies).split("\n"):
        line = line.strip(" -+•")
        if not line or heading_level(line) is not None and len(line) < heading_max:
            continue
        if used + len(line) > LONG_CAP - 300:
            break
        draft.parts.append(f"- {capitalize(shorten(line, 500))}")
        used += len(line) + 3


def _record_items(snapshot: Snapshot, records: list[Record], draft: Draft, item_chars: int) -> None:
    """One cited bullet per record subject, within the long-answer cap."""
    used = 0
    for record in records:
        text = shorten(record.subject, item_chars)
        if used + len(text) > LONG_CAP - 200:
            break
        n = draft.cite(record_source(snapshot, record, 1.0))
        draft.parts.append(f"- {capitalize(text)} [{n}]")
        used += len(text) + 10


_KIND_BY_WORD_LIST = [("chi tieu", "target"), ("chi so", "indicator"), ("nhiem vu", "task")]


def shorten_answer(text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    kept: list[str] = []
    for line in text.split("\n"):
        if len("\n".join([*kept, line])) > cap:
            break
        kept.append(line)
    return "\n".join(kept) if kept else shorten(text, cap)


def _plan_years(snapshot: Snapshot, doc_id: str) -> set[int]:
    title = snapshot.documents[doc_id].metadata.get("title") or ""
    return {int(y) for y in re.findall(r"\b(20\d\d)\b", title)}


def _province_label(meta: dict) -> str:
    province = meta.get("province") or ""
    bases = " ".join(meta.get("legal_bases") or []) + " " + (meta.get("title") or "")
    return f"thành phố {province}" if f"thành phố {province}" in bases else f"tỉnh {province}"


def _matching_bases(q: Question, bases: list[str]) -> list[str]:
    """Bases of the kind asked ('quyết định nào' -> only Quyết định …), else all of them."""
    for word in ("quyet dinh", "nghi quyet", "chuong trinh", "ke hoach"):
        if f"{word} nao" in q.folded:
            return [b for b in bases if word in fold(b)]
    return bases


def _basis_head(basis: str) -> str:
    """'Căn cứ Kế hoạch số 92/KH-UBND ngày 15/9/2025 của UBND tỉnh … về việc …' -> up to 'về'."""
    head = re.sub(r"^(Căn cứ|Thực hiện)\s+", "", basis)
    head = re.split(r"\s+(?:về|triển khai|sửa đổi|thực hiện)\s|\s+“|\s+\(", head, maxsplit=1)[0]
    return shorten(head, 140)


def _metadata_text(meta: dict) -> str:
    parts = [
        f"Kế hoạch: {meta.get('title') or ''}",
        f"Số: {meta.get('number') or '…'}",
        f"Ngày: {meta.get('date') or '…'}",
        f"Người ký: {meta.get('signer') or '…'} ({meta.get('signer_role') or ''})",
    ]
    if meta.get("legal_bases"):
        parts.append("Căn cứ: " + "; ".join(meta["legal_bases"]))
    return "\n".join(parts)


def _metadata_evidence(field: str | None, meta: dict) -> list[str]:
    """Strings whose chunk proves a metadata answer (so the citation points at the right lines)."""
    bases = meta.get("legal_bases") or []
    return {
        "number": [meta.get("number") or "", "Số:"],
        "date": [str(meta.get("date") or "").split(" năm")[0], "ngày"],
        "signer": [meta.get("signer") or ""],
        "province": [meta.get("province") or ""],
        "bases": [b[:40] for b in bases[:1]],
        "period": [(meta.get("title") or "")[:40]],
    }.get(field or "", [])


def _chunk_with(snapshot: Snapshot, doc_id: str, needles: list[str]):
    """The first text chunk of a document that holds one of ``needles`` (else its first chunk)."""
    chunks = [c for c in snapshot.chunks if c.doc_id == doc_id and c.kind != "record"]
    folded_needles = [" ".join(fold(n).split()) for n in needles if n and n.strip()]
    for needle in folded_needles:
        for chunk in chunks:
            if needle and needle in " ".join(fold(chunk.body).split()):
                return chunk
    return chunks[0] if chunks else _header_chunk(snapshot, doc_id)


def _header_chunk(snapshot: Snapshot, doc_id: str):
    return next(c for c in snapshot.chunks if c.doc_id == doc_id)


def _without_other_communes(text: str, keep: str, communes: list[str]) -> str:
    for commune in communes:
        if commune != keep:
            text = re.sub(re.escape(commune), "", text, flags=re.IGNORECASE)
    return text


# --- conversation -------------------------------------------------------------------------------

_FOLLOW_UP_RE = re.compile(r"^(còn|thế còn|vậy còn|con|the con|vay con)\b", re.IGNORECASE)


def resolve_follow_up(question: str, history: list[dict], communes: list[str]) -> str:
    """'Còn xã Vũ Quang thì sao?' after a question about another commune -> that question,
    asked about Vũ Quang; 'Đơn vị phối hợp là ai?' -> the previous subject, asking for partners."""
    previous = next((m.get("content", "") for m in reversed(history) if m.get("role") == "user"), "")
    if not previous:
        return question
    current = analyze(question, communes)
    before = analyze(previous, communes)
    content = current.content_words  # commune names are not content words
    short = len(question.split()) <= 9 or bool(_FOLLOW_UP_RE.match(question.strip()))
    if not short or len(content) > 3:
        return question
    if current.communes and not content:
        # the same question, about another commune
        if not before.communes:
            return f"{previous} (xã {current.communes[0]})"
        text = previous
        for old in before.communes:
            text = re.sub(re.escape(old), current.communes[0], text, flags=re.IGNORECASE)
            text = re.sub(re.escape(fold(old)), current.communes[0], text, flags=re.IGNORECASE)
        return text
    # a new ask ('Đơn vị phối hợp là ai?') about the previous subject
    return f"{question} — {previous}"
