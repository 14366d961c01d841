"""Free questions: the few sentences that answer them, or the items of the section the question names.

No section is pasted whole: at most a handful of sentences or items, each cited, within the long cap;
below the coverage threshold the answer is "not found" with the closest passages offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from assistant.qa.evidence import (
    MIN_SENTENCE_COVERAGE,
    NAMED_KIND_RE,
    SentenceMatch,
    appendix_of,
    asks_rate,
    coverage,
    has_slot,
    list_under,
    pairs,
    rank_facts,
    rank_sentences,
    row_key,
    same_number,
)
from assistant.qa.handlers.base import (
    Context,
    Result,
    Route,
    chunk_source,
    fact_source,
    handles,
    not_found,
    place,
)
from assistant.qa.handlers.facts import fact_line, with_task
from assistant.qa.plan import QuestionPlan, Slot
from assistant.qa.render import LONG_CAP, capitalize, shorten
from core.model import TABLE_FACT_KINDS, Chunk
from core.normalize import abbreviations, fold
from ingest.units import find_units, starts_with_unit
from vectorstore.knowledge import KnowledgeView, fact_words

MAX_SENTENCES = 4
MAX_SECTION_ITEMS = 16
SENTENCE_CHARS = 420
ITEM_CHARS = 230
_HEADING_RE = re.compile(r"^(?:[IVXivx]+|\d+(?:\.\d+)*)[.)\-]?\s+")


def _section_name(label: str) -> str:
    return fold(_HEADING_RE.sub("", label.strip())).strip()


def _headings(kb: KnowledgeView, doc_ids: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """Every heading of the plans' text, once, in each plan's order: (doc id, the path down to it)."""
    for doc_id in sorted(doc_ids):
        seen: set[str] = set()
        for chunk in kb.chunks(doc_id, {"text"}):
            parts = chunk.section.split(" > ") if chunk.section else []
            for depth in range(len(parts)):
                path = parts[: depth + 1]
                if (key := " > ".join(path)) not in seen:
                    seen.add(key)
                    yield doc_id, path


def _in_section(section: str, prefix: str) -> bool:
    return section == prefix or section.startswith(prefix + " > ")


def _section_chunks(kb: KnowledgeView, doc_id: str, prefix: str) -> list[Chunk]:
    return [c for c in kb.chunks(doc_id, {"text"}) if _in_section(c.section, prefix)]


def named_section(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str]) -> tuple[str, str] | None:
    """(doc id, section path) of the section whose title the question names ('mục tiêu cụ thể')."""
    best: tuple[int, str, str] | None = None
    padded = f" {plan.folded} "
    for doc_id, path in _headings(kb, doc_ids):
        name = _section_name(path[-1])
        if len(name.split()) >= 2 and f" {name} " in padded and (best is None or len(name) > best[0]):
            best = (len(name), doc_id, " > ".join(path))
    return (best[1], best[2]) if best else _paraphrased_section(kb, plan, doc_ids)


_HEADING_FILLER = frozenset({"ve", "cua", "xa", "cac", "va", "trong", "cho", "tai", "nhung"})
PARAPHRASED_HEADING_SHARE = 0.75
_QUESTION_FILLER = frozenset({"co", "nhung", "nao", "gi", "la", "cac", "cua", "va", "o", "thi", "ve", "cho", "trong",
                              "duoc", "nam", "xa", "bo"})  # words a question uses anyway ('có' is no 'cơ cấu')


def _paraphrased_section(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str]) -> tuple[str, str] | None:
    """The one section whose heading's words the question holds nearly all of, in another order or wording
    ('những chương trình, đề án, KH lớn nào của xã' for '2. Về xây dựng chương trình, đề án, kế hoạch lớn của xã')."""
    asked = set(" ".join(abbreviations().get(w, w) for w in fold(plan.text).split()).split()) - _QUESTION_FILLER
    found = []
    for doc_id, path in _headings(kb, doc_ids):
        words = [w for w in _section_name(path[-1]).split() if w not in _HEADING_FILLER]
        share = sum(w in asked for w in words) / max(1, len(words))  # a short heading: every word asked
        if len(path) > 1 and ((len(words) >= 5 and share >= PARAPHRASED_HEADING_SHARE) or (len(words) >= 3 and share == 1)):
            found.append((len(asked & set(words)), doc_id, " > ".join(path)))
    found.sort(reverse=True)  # of several, the one that holds the most of the question's words, if one does
    if not found or (len(found) > 1 and found[0][0] == found[1][0]):
        return None
    return found[0][1], found[0][2]


_NUMBERED_RE = re.compile(r"^([IVX]+|\d+(?:\.\d+)*)[.)]?\s")


def numbered_section(kb: KnowledgeView, number: str, doc_ids: set[str]) -> tuple[str, str] | None:
    """(doc id, section path) of the one heading numbered as asked: '5.2' is a heading '5.2.', 'III.2' the
    heading '2.' under 'III.', 'IV' the heading 'IV.'; None when no plan asked about has it, or several do."""
    found = []
    for doc_id, path in _headings(kb, doc_ids):
        own, parent = (_heading_number(h) for h in (path[-1], path[-2] if len(path) > 1 else ""))
        if own and number in (own, f"{parent}.{own}" if parent else own):
            found.append((doc_id, " > ".join(path)))
    return found[0] if len(found) == 1 else None


def _heading_number(heading: str) -> str:
    return m.group(1) if (m := _NUMBERED_RE.match(heading.strip())) else ""


@handles(Route.SECTION)
def answer_section(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    """A heading named by its number, a section whose heading names what a list question asks ('những lĩnh
    vực nào'), or a table row named in full ('chỉ số Quản trị môi trường giao làm gì'); else not found."""
    if plan.section:
        section = numbered_section(ctx.kb, plan.section, doc_ids) if doc_ids else None
    elif doc_ids and len(doc_ids) == 1:  # 'những lĩnh vực nào', or a heading paraphrased: its section
        section = listing_section(ctx.kb, plan, next(iter(doc_ids))) or _paraphrased_section(ctx.kb, plan, doc_ids)
    else:
        section = None
    if section is not None and (answer := _section_answer(ctx.kb, plan, *section)).found:
        return answer
    if not plan.section and (row := named_row(ctx.kb, plan, doc_ids)) is not None:
        return row
    return not_found(Route.SECTION)


def _items(chunks: list[Chunk]) -> list[tuple[Chunk, str]]:
    """A section's items with their chunk: its lines, a line that goes on from a wrapped one (lower case
    after no stop, in the same chunk or the next) joined back to it."""
    items: list[tuple[Chunk, str]] = []
    for chunk in chunks:
        for raw in chunk.body.split("\n"):
            line = raw.strip()
            text = line.strip(" -+•")
            if not text:
                continue
            if (items and text[:1].islower() and not line.startswith(("-", "+", "•"))
                    and not items[-1][1].endswith((".", ";", ":", "!", "?"))):
                items[-1] = (items[-1][0], f"{items[-1][1]} {text}")
            else:
                items.append((chunk, text))
    return items


ELSEWHERE_COVERAGE = 0.75
# A question of this many subject words about a section is answered by the one item holding this much of them, when
# no other item comes within the margin ('Phòng Kinh tế triển khai KH phát triển nông nghiệp … giai đoạn nào').
SPECIFIC_WORDS, SPECIFIC_ITEM_COVERAGE, SPECIFIC_ITEM_MARGIN = 4, 0.8, 0.3
_MANY_ASKED_RE = re.compile(r"\b(?:nhung|cac|khac nhau|giong nhau|so sanh)\b")  # 'những mục đích gì': the section whole


def _holds(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, prefix: str) -> bool:
    """The section named answers the question, unless the question's words besides the section's name
    ('mục tiêu tăng trưởng GRDP' asks more than 'mục tiêu') are in none of its items and well said elsewhere."""
    name = {w for part in prefix.split(" > ") for w in _section_name(part).split()}  # its parents name it too
    name |= {w[:-1] for w in name if len(w) > 3 and w.endswith("s")}  # '(KPIs)' names the KPI
    rest = tuple(w for w in plan.subject if w not in name)
    if not rest:
        return True
    if any(coverage(kb, rest, fact_words(text))[0] >= MIN_SENTENCE_COVERAGE
           for _, text in _items(_section_chunks(kb, doc_id, prefix))):
        return True
    if len(rest) >= 4:  # much more is asked than the section's name, and none of its items says it
        return False
    elsewhere = [s for s in rank_sentences(kb, plan, {doc_id})  # the whole question is said outside the section
                 if not _in_section(s.chunk.section, prefix)]  # type: ignore[attr-defined]
    return not (elsewhere and elsewhere[0].coverage >= ELSEWHERE_COVERAGE)


def _section_answer(kb: KnowledgeView, plan: QuestionPlan, doc_id: str, prefix: str,
                    focus: re.Pattern[str] | None = None) -> Result:
    """The section's items (those most about the question when they are many, or those that hold ``focus``
    when some do); not found when its text has none of its own (a heading over a table)."""
    result = Result(Route.PASSAGE, True, short=False, confidence=0.8)
    words = plan.subject
    lines = [(c, t) for c, t in _items(_section_chunks(kb, doc_id, prefix)) if fold(t) != fold(prefix.split(" > ")[-1])]
    lines = [(c, t) for c, t in lines if (len(t) > 20 or _NUMBERED_RE.match(t) or t.endswith(":")) and not t.isupper()]
    if focus is not None and (focused := [(c, t) for c, t in lines if focus.search(t)]):
        lines = focused  # 'mấy tháng một lần': the items that say how often
    specific = len(words) >= SPECIFIC_WORDS and not plan.asks(Slot.ITEMS) and not _MANY_ASKED_RE.search(plan.folded)
    if specific and len(lines) > 1:  # a specific question: the one item that says it, if one does
        scored = sorted(((coverage(kb, words, fact_words(t))[0], i) for i, (_, t) in enumerate(lines)), reverse=True)
        if scored[0][0] >= SPECIFIC_ITEM_COVERAGE and scored[1][0] <= scored[0][0] - SPECIFIC_ITEM_MARGIN:
            chunk, text = lines[scored[0][1]]
            n = result.cite(chunk_source(kb, chunk))
            result.short = True
            result.lines.append(f"Theo kế hoạch của {place(kb, doc_id)}, mục «{prefix.split(' > ')[-1]}»: "
                                f"{capitalize(shorten(text, SENTENCE_CHARS))} [{n}]")
            return result
    if len(lines) > MAX_SECTION_ITEMS and words:  # keep the items most about the question, in the plan's order
        ranked = sorted(lines, key=lambda ct: coverage(kb, words, fact_words(ct[1]))[0], reverse=True)
        keep = {id(x) for x in ranked[:MAX_SECTION_ITEMS]}
        lines = [x for x in lines if id(x) in keep]
    result.lines.append(f"Theo kế hoạch của {place(kb, doc_id)}, mục «{prefix.split(' > ')[-1]}»:")
    used = 0
    room = max(ITEM_CHARS, (LONG_CAP - 300) // max(1, min(len(lines), MAX_SECTION_ITEMS)))
    for chunk, text in lines[:MAX_SECTION_ITEMS]:
        text = shorten(text, room)
        if used + len(text) > LONG_CAP - 200:
            break
        n = result.cite(chunk_source(kb, chunk))
        result.lines.append(f"- {capitalize(text)} [{n}]")
        used += len(text) + 8
    return result if len(result.lines) > 1 else not_found(Route.PASSAGE)


_DATE_RE = re.compile(r"trước ngày|\bngày\s+\d|\d{1,2}/\d{1,2}|\bquý\s+[IV1-4]|\btháng\s+\d|\bnăm\s+20\d\d|thường xuyên|"
                      r"hằng (?:tháng|năm|quý)|hàng (?:tháng|năm|quý)", re.IGNORECASE)
_VALUE_RE = re.compile(r"\d\s*%|\b\d+\s+(?:mô hình|sản phẩm|sáng kiến|điểm|tỷ|triệu)|(?:ít nhất|tối thiểu)\s+\d", re.I)
FACT_FALLBACK_COVERAGE = 0.6


def _evidence_of(plan: QuestionPlan) -> re.Pattern[str] | None:
    """What a sentence must hold to answer a fact question that no fact answered (a value stated in prose is
    already a fact: a sentence with some figure is no answer to it)."""
    slots = plan.fact_slots
    if not slots:
        return None
    if slots[0] in (Slot.LEAD, Slot.PARTNER):
        return _UNIT_HINT_RE
    return _DATE_RE if slots[0] is Slot.DEADLINE else _COMPARED_RE


# a target stated by comparison, with no figure of its own ('tăng trưởng GRDP … cao hơn năm 2025')
_COMPARED_RE = re.compile(r"\b(?:cao|thấp|nhiều|ít|lớn|nhỏ) hơn\b|\bso với (?:năm|cùng kỳ)\b", re.IGNORECASE)


_PARTNERING_RE = re.compile(r"\b(?:phoi hop|cung voi|ket hop voi|lien ket voi)\b")
_ASKED_HEAD_RE = re.compile(r"\b(so|bo|ngan hang|truong|tram) nao\b")


def _owner(section: str) -> str | None:
    """The unit whose duties a section lists, when its heading is one ('5. Trưởng các ấp')."""
    heading = _HEADING_RE.sub("", section.split(" > ")[-1].strip()).strip(" :.") if section else ""
    return heading if heading and len(heading) < 80 and starts_with_unit(heading) else None


def _owned(text: str, owner: str | None) -> str:
    """A sentence with the unit whose duty it is put first, unless the sentence names it."""
    return f"{owner}: {text}" if owner and fold(owner) not in fold(text) else text


_UNIT_HINT_RE = re.compile(r"\b(?:Phòng|Văn phòng|Trung tâm|Công an|Ủy ban|UBND|Ban|Hội|Đoàn|Trạm|Ngân hàng|Sở|Tổ)\s+\S")


_ASKED_LIST_RE = re.compile(r"\b(?:nhung|cac) (\w+ \w+)\b(?=.*\b(?:nao|gi)\b)")


def listing_section(kb: KnowledgeView, plan: QuestionPlan, doc_id: str) -> tuple[str, str] | None:
    """(doc id, path) of the one section whose heading names the things a list question asks ('những lĩnh vực
    nào' -> '4. Thúc đẩy đổi mới sáng tạo trong các lĩnh vực') and that has sub-sections of its own."""
    asked = _ASKED_LIST_RE.search(plan.folded)
    if not asked:
        return None
    noun = asked.group(1)
    prefixes = [" > ".join(path) for _, path in _headings(kb, {doc_id})]
    found = [prefix for prefix in prefixes if f" cac {noun}" in f" {_section_name(prefix.split(' > ')[-1])}"
             and any(p.startswith(prefix + " > ") for p in prefixes)]
    return (doc_id, found[0]) if len(found) == 1 else None


def headed_section(kb: KnowledgeView, words: str, doc_id: str) -> str | None:
    """The path of the plan's first section whose heading starts with ``words`` ('kinh phi': 'IV. KINH PHÍ
    THỰC HIỆN')."""
    return next((" > ".join(path) for _, path in _headings(kb, {doc_id}) if _section_name(path[-1]).startswith(words)),
                None)


def _holds_pair(sentence: SentenceMatch, words: tuple[str, ...]) -> bool:
    """The sentence (or its section's title) holds the two words side by side, in either order (as written, or
    with its abbreviations spelled out)."""
    text = f"{sentence.text} {getattr(sentence.chunk, 'section', '')}"
    said = f" {fold(text)} {' '.join(fact_words(text))} "
    return any(f" {a} {b} " in said for a, b in (words, words[::-1]))


@handles(Route.PASSAGE)
def answer_passage(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    need = _evidence_of(plan)
    if plan.heading and doc_ids and len(doc_ids) == 1:  # 'tiền đâu để làm kế hoạch': the funding section
        doc_id = next(iter(doc_ids))
        if prefix := headed_section(kb, plan.heading, doc_id):
            return _section_answer(kb, plan, doc_id, prefix, plan.focus)
    if plan.heading:  # no such section: the sentences must be about what it is about
        plan = replace(plan, subject=tuple(dict.fromkeys((*plan.heading.split(), *plan.subject))))
    named = need is None or not (plan.subject or plan.units)  # 'kế hoạch đặt mục tiêu gì': the section it names
    if named and doc_ids and len(doc_ids) <= 2 and (section := named_section(kb, plan, doc_ids)) and _holds(
            kb, plan, *section) and (answer := _section_answer(kb, plan, *section)).found:
        return answer
    if (named and doc_ids and len(doc_ids) == 1 and (section := listing_section(kb, plan, next(iter(doc_ids))))
            and (answer := _section_answer(kb, plan, *section)).found):
        return answer  # 'những lĩnh vực nào': the section 'trong các lĩnh vực'
    if plan.rows and not plan.subject and not plan.units and doc_ids and len(doc_ids) == 1:
        return numbered_row(kb, plan, doc_ids)  # 'chỉ tiêu số 3 của phụ lục I là gì': that row, not the table's text
    if not plan.subject and not plan.context:
        return not_found(Route.PASSAGE)
    if need is None and not plan.units and (row := named_row(kb, plan, doc_ids, by_name=names_a_row(plan))) is not None:
        return row
    if not plan.subject:  # 'Kế hoạch nói gì về hợp tác xã?': the units named are the subject
        unit_words = tuple(w for name in plan.units for w in fold(name).split() if w not in ("cac", "xa"))
        plan = replace(plan, subject=unit_words or plan.context, context=())
    if need is not None:  # a fact question answered by one sentence that holds the fact
        found = [s for s in rank_sentences(kb, plan, doc_ids, need=need) if s.coverage >= FACT_FALLBACK_COVERAGE
                 and (not asks_rate(plan) or ("ti", "le") in pairs(fact_words(s.text)) or "%" in s.text)]
        if plan.fact_slots[0] is Slot.PARTNER:  # a partner is named as one: 'phối hợp với Công an tỉnh'
            found = [s for s in found if _PARTNERING_RE.search(fold(s.text))]
        owners: dict[int, str | None] = {}
        if need is _UNIT_HINT_RE:  # 'who' is answered by a unit besides those the question names
            asked = set(plan.units)
            for s in found:
                owners[id(s)] = _owner(s.chunk.section)  # type: ignore[attr-defined]
            head = _ASKED_HEAD_RE.search(plan.folded)  # 'phối hợp với sở nào': a Sở, not any unit
            found = [s for s in found if any(not head or fold(name).startswith(head.group(1) + " ") for name in
                                             {u.name for u in find_units(f"{owners[id(s)] or ''} {s.text}")} - asked)]
        if not found:
            return not_found(Route.PASSAGE)
        best = found[0]
        result = Result(Route.PASSAGE, True, confidence=best.coverage)
        n = result.cite(chunk_source(kb, best.chunk, score=best.score))  # type: ignore[arg-type]
        where = place(kb, best.chunk.doc_id)  # type: ignore[attr-defined]
        text = capitalize(shorten(best.text, SENTENCE_CHARS))
        text = _owned(text, owners.get(id(best)))  # a duty under its unit's heading: name the unit
        result.lines.append(f"{text} ({where}) [{n}]")
        return result
    sentences = rank_sentences(kb, plan, doc_ids)
    if len(plan.subject) == 2:  # a word of two syllables ('Đảng ủy'): held as such, not as 'đa dạng' … 'Ủy ban'
        sentences = [s for s in sentences if _holds_pair(s, plan.subject)]
    if not sentences or sentences[0].coverage < MIN_SENTENCE_COVERAGE:
        return not_found(Route.PASSAGE, None, [shorten(s.text, 100) for s in sentences[:2]])
    best = sentences[0]
    chosen = [s for s in sentences[:12] if s.coverage >= max(MIN_SENTENCE_COVERAGE, best.coverage - 0.25)]
    doc_id = best.chunk.doc_id  # type: ignore[attr-defined]
    chosen = [s for s in chosen if s.chunk.doc_id == doc_id][:MAX_SENTENCES]  # type: ignore[attr-defined]
    chosen.sort(key=lambda s: (s.chunk.line_start, s.order))  # type: ignore[attr-defined]
    result = Result(Route.PASSAGE, True, short=False, confidence=best.coverage)
    if best.text.rstrip().endswith(":"):  # a list's lead-in: the answer is the list under it
        items = list_under(best)
        if items:
            n = result.cite(chunk_source(kb, best.chunk, score=best.score))  # type: ignore[arg-type]
            result.lines.append(f"{capitalize(best.text.rstrip())} ({place(kb, doc_id)}) [{n}]")
            result.lines.extend(f"- {capitalize(shorten(item, ITEM_CHARS))}" for item in items)
            return result
    listed = len(chosen) > 1
    if listed:
        result.lines.append(f"Theo kế hoạch của {place(kb, doc_id)}:")
    for sentence in chosen:
        n = result.cite(chunk_source(kb, sentence.chunk, score=sentence.score))  # type: ignore[arg-type]
        text = capitalize(shorten(sentence.text, SENTENCE_CHARS))
        if plan.units:  # 'có đề nghị MTTQ giám sát không': whose duty it is
            text = _owned(text, _owner(sentence.chunk.section))  # type: ignore[attr-defined]
        cited = _DOCUMENT_RE.findall(sentence.text) if _ASKS_DOCUMENTS_RE.search(plan.folded) else []
        if len(sentence.text) > SENTENCE_CHARS and len(cited) > 1:  # 'nêu những nghị quyết nào': all of them
            by_number: dict[str, str] = {}
            for written in cited:  # one per number, as first written
                by_number.setdefault(re.findall(r"\d+", written)[0], " ".join(written.split()))
            text = f"{text} Các văn bản được nêu: {'; '.join(by_number.values())}."
        result.lines.append(f"- {text} [{n}]" if listed else f"{text} ({place(kb, doc_id)}) [{n}]")
    return result


def numbered_row(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str]) -> Result:
    """The table row a question names by its number alone (in the appendix it names, of the kind it names); when
    several tables or groups have a row of that number, not found with each of them offered."""
    wanted = {row_key(r) for r in plan.rows}
    rows = [f for f in kb.facts(doc_ids, TABLE_FACT_KINDS) if f.is_table_row and row_key(f.row_no or "") in wanted]
    if plan.appendix:
        rows = [f for f in rows if same_number(appendix_of(f) or "", plan.appendix)]
    if plan.kinds:
        rows = [f for f in rows if f.kind in plan.kinds] or rows
    if len(rows) != 1:
        reason = (f"Kế hoạch có {len(rows)} dòng số {', '.join(plan.rows)} (ở các bảng, nhóm khác nhau)." if rows
                  else f"Bảng của kế hoạch không có dòng số {', '.join(plan.rows)}.")
        return not_found(Route.PASSAGE, reason, [f"{' > '.join(f.group_path[-1:])}: {shorten(f.subject, 90)}"
                                                 for f in rows[:4]])
    fact = rows[0]
    result = Result(Route.FACT, True, confidence=0.9, facts=[fact])
    n = result.cite(fact_source(kb, fact))
    shown = replace(plan, slots=(Slot.VALUE,)) if has_slot(fact, Slot.VALUE) else plan  # the row whole: its target too
    result.lines.append(fact_line(place(kb, fact.doc_id), fact, shown, n))
    return result


ROW_RIVAL_COVERAGE = 0.8  # another row this close makes the row named ambiguous


def named_row(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None, by_name: bool = False) -> Result | None:
    """A free question about a table row it names in full ('chỉ số Quản trị môi trường: nhiệm vụ cụ thể là gì'):
    the row, with its tasks, units and targets; None unless exactly one row holds the whole subject in order
    (``by_name``: in its name; rows whose text merely mentions the subject are no rivals)."""
    if doc_ids is None or len(plan.subject) < 2:
        return None
    matches = [m for m in rank_facts(kb, plan, doc_ids, TABLE_FACT_KINDS) if m.fact.is_table_row]
    whole = [m for m in matches if m.coverage >= 0.99 and m.head >= 0.99]
    if len(whole) != 1 or sum((m.head if by_name else m.coverage) >= ROW_RIVAL_COVERAGE for m in matches) > 1:
        return None
    fact = whole[0].fact
    result = Result(Route.FACT, True, confidence=whole[0].coverage, facts=[fact])
    n = result.cite(fact_source(kb, fact, whole[0].score))
    result.lines.append(with_task(fact_line(place(kb, fact.doc_id), fact, plan, n), fact))
    return result


def names_a_row(plan: QuestionPlan) -> bool:
    """The question names a row by its kind and then its name ('chỉ số Hạ tầng số'): rows whose tasks merely
    mention the name are no rivals of it."""
    return bool(plan.subject) and any(
        plan.folded[m.end():].split()[:1] == list(plan.subject[:1]) for m in NAMED_KIND_RE.finditer(plan.folded))


_ASKS_DOCUMENTS_RE = re.compile(r"\b(?:nghi quyet|chuong trinh|van ban|quyet dinh|chi thi|nghi dinh)\b[^|]*\bnao\b")
_DOCUMENT_RE = re.compile(r"(?:Nghị quyết|Chương trình hành động|Chương trình|Kế hoạch|Quyết định|Chỉ thị|Nghị định|Thông tư)"
                          r"\s+(?:số\s+)?\d{1,4}[-/][\w/\-Đđ]+(?:\s*,?\s*ngày\s+\d{1,2}/\d{1,2}/\d{4})?")


