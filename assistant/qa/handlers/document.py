"""Fields of the plan document itself (number, date, signer, bases, recipients …) and the documents it cites.

A field the plan leaves blank ("Số: /KH-UBND", "ngày … tháng … năm 2026") is reported as blank, not
found: the officer learns that the plan does not say it, rather than reading a neighbouring date.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.qa.evidence import coverage
from assistant.qa.handlers.base import (
    Context,
    Result,
    Route,
    chunk_source,
    fact_source,
    handles,
    line_source,
    not_found,
    place,
)
from assistant.qa.handlers.passages import answer_passage, named_row
from assistant.qa.plan import DocField, QuestionPlan, Slot
from assistant.qa.render import SHORT_CAP, capitalize, shorten
from assistant.qa.types import Source
from core.model import FactKind, Record
from core.normalize import fold
from ingest.units import find_units
from vectorstore.knowledge import KnowledgeView, fact_words

PLAN_TYPE_LABELS = {
    "pii": "kế hoạch cải thiện, nâng cao Chỉ số đổi mới sáng tạo cấp địa phương (PII)",
    "nq57": "kế hoạch triển khai Nghị quyết 57-NQ/TW về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo "
    "và chuyển đổi số",
    "innovative": "kế hoạch triển khai mô hình xã đổi mới sáng tạo",
}
_DOC_TYPE_WORDS = {
    "nghi quyet": "Nghị quyết", "ke hoach": "Kế hoạch", "chuong trinh": "Chương trình", "quyet dinh": "Quyết định",
    "nghi dinh": "Nghị định", "chi thi": "Chỉ thị", "thong tu": "Thông tư", "ket luan": "Kết luận",
    "nq": "Nghị quyết", "kh": "Kế hoạch", "ctr": "Chương trình", "qd": "Quyết định", "cong van": "Công văn",
    "de an": "Đề án",
}
_CENTRAL_RE = re.compile(r"\b(?:bo chinh tri|chinh phu|quoc hoi|thu tuong|trung uong|ban bi thu|(?<!dang )bo (?!tinh\b)[a-z]+)\b")
_COMMUNE_RE = re.compile(r"\b(?:xa|dang uy xa|ubnd xa)\b")
_EXAMPLES_RE = re.compile(r"\.\.\.|…|\bv\.v\b|\bvv\b|\bchẳng hạn\b|\bví dụ\b|\bnhư là\b", re.IGNORECASE)


def issuer_level(ref: Record) -> str:
    """central | province | commune: who issued a cited document (from its issuer and its number's code)."""
    issuer = fold(ref.attrs.get("issuer", ""))
    number = ref.attrs.get("number", "")
    if _CENTRAL_RE.search(issuer) or number.endswith(("/TW", "-CP", "/QH", "-TTg")):
        return "central"
    if number.endswith("/ĐU") or (_COMMUNE_RE.search(issuer) and "tinh" not in issuer):
        return "commune"
    return "province"


def asked_levels(plan: QuestionPlan) -> set[str]:
    """The issuers' levels the question names ('văn bản nào của tỉnh và Đảng ủy xã' -> province, commune)."""
    text = plan.folded
    levels: set[str] = set()
    if _EXAMPLES_RE.search(plan.text):  # '(NQ của CP, KH của UBND tỉnh...)': examples of what is asked, no filter
        return levels
    if _CENTRAL_RE.search(text) or re.search(r"\b(?:cua|nq|nghi quyet) cp\b", text):
        levels.add("central")
    if re.search(r"\b(?:ubnd|uy ban nhan dan|dang uy|hdnd) xa\b|\bcap xa\b", text):
        levels.add("commune")
    if re.search(r"\b(?:cua|do|va) (?:ubnd |uy ban nhan dan |ban thuong vu |ban chi dao )?(?:tinh|thanh pho)\b|"
                 r"\btinh uy\b|\bcap tinh\b|\bdang bo tinh\b", text):
        levels.add("province")
    return levels


def header_source(kb: KnowledgeView, doc_id: str, needle: str) -> Source:
    """The first passage of a plan holding ``needle`` (a header field), else its first passage."""
    needle = " ".join(fold(needle).split())
    chunks = kb.chunks(doc_id, {"text", "table"})
    for chunk in chunks:
        if needle and needle in " ".join(fold(chunk.body).split()):
            return chunk_source(kb, chunk)
    if chunks:
        return chunk_source(kb, chunks[0])
    title = kb.documents[doc_id].metadata.get("title") or kb.documents[doc_id].filename
    return line_source(kb, doc_id, 1, 1, title)


def _date_parts(date: str | None) -> tuple[bool, bool, bool]:
    """(day known, month known, year known) of a metadata date ('20/5/2026', 'tháng 5 năm 2026', 'năm 2026')."""
    if not date:
        return False, False, False
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", date):
        return True, True, True
    return False, "tháng" in date, "năm" in date


def _asks_day(plan: QuestionPlan) -> bool:
    return bool(re.search(r"\bngay (?:nao|may|bao nhieu|bn)\b|\bngay thang\b|\bngay ban hanh\b|\bngay ky\b", plan.folded))


def _asks_month(plan: QuestionPlan) -> bool:
    return bool(re.search(r"\bthang (?:may|nao)\b|\bngay (?:may|nao),? thang\b", plan.folded))


_KINDS = "|".join(_DOC_TYPE_WORDS)
# 'những nghị quyết nào', 'những nghị quyết, chương trình hành động nào': each kind of the list asked
_KINDS_ASKED_RE = re.compile(rf"\b(?:(?:{_KINDS})(?: hanh dong)?(?: so)?(?: ?,)? (?:va |hoac )?)*(?:{_KINDS})"
                             rf"(?: hanh dong)?(?: so)? (?:nao|gi|may|bao nhieu)\b")


def _filter_references(plan: QuestionPlan, refs: list[Record]) -> list[Record]:
    """The cited documents of the type and issuer the question names ('nghị quyết nào của Bộ Chính trị')."""
    out = refs
    asked = " ".join(m.group(0) for m in _KINDS_ASKED_RE.finditer(plan.folded))
    types = [label for word, label in _DOC_TYPE_WORDS.items() if re.search(rf"\b{word}\b", asked)]
    if types:
        typed = [r for r in out if any(r.attrs.get("doc_type", "").startswith(t) for t in types)]
        out = typed or out if len(types) > 1 else typed
    if levels := asked_levels(plan):
        out = [r for r in out if issuer_level(r) in levels]
    return out


_TOPIC_FILLER = frozenset(fact_words("phần nội dung nêu ghi đề cập nhắc mục đoạn ví dụ chẳng hạn như"))
_ISSUER_WORDS = frozenset(fact_words("ủy ban nhân dân UBND hội đồng HĐND tỉnh ủy thành ủy đảng ủy ban chấp hành thường vụ "
                                     "đảng bộ chính phủ thủ tướng trung ương bộ chính trị tỉnh xã thành phố"))
REF_TOPIC_COVERAGE = 0.6  # of the question's topic, in the sentence that cites the document
TOPIC_WORDS = 4  # a question's words beside the document's that name the topic without a part word
REF_ABOUT_COVERAGE = 0.8  # of such a topic, in what a cited document is about
_PART_NAMED_RE = re.compile(r"\b(?:phan|muc|doan|noi dung|khi)\b")  # 'phần tuyên truyền', 'khi tuyên truyền về …'


def _named_where(kb: KnowledgeView, plan: QuestionPlan, refs: list[Record]) -> list[Record]:
    """The cited documents named where the plan speaks of the question's topic ('khi tuyên truyền về PII, kế hoạch
    nêu những nghị quyết nào': those in the sentence on propaganda); [] when the question names no topic or no
    citing sentence holds it."""
    topic = tuple(w for w in plan.subject if w not in _DOCUMENT_WORDS and w not in _TOPIC_FILLER
                  and w not in _ISSUER_WORDS)  # 'của Ban Chấp hành Đảng bộ tỉnh' names who issued, not a topic
    # a part named ('phần tuyên truyền'), or a topic long enough to be one ('để tháo gỡ vướng mắc đầu tư CNTT …')
    if len(topic) < 2 or (len(topic) < TOPIC_WORDS and not _PART_NAMED_RE.search(plan.folded)):
        return []
    cited_there = [r for r in refs if coverage(kb, topic, fact_words(_citing_sentence(kb, r)))[0] >= REF_TOPIC_COVERAGE
                   and coverage(kb, topic, _reference_words(r))[0] < REF_TOPIC_COVERAGE]  # cited there, not about it
    if cited_there or len(topic) < TOPIC_WORDS:
        return cited_there
    # 'về chính sách thu hút người có tài năng, căn cứ văn bản nào': the document about that topic
    return [r for r in refs if coverage(kb, topic, _reference_words(r))[0] >= REF_ABOUT_COVERAGE]


def _citing_sentence(kb: KnowledgeView, ref: Record) -> str:
    """The line of the plan that cites ``ref`` (its paragraph as the chunk holds it), with the lines a wrapped
    paragraph goes on with (up to the line that ends it)."""
    key = fold(ref.subject)[:30]
    for chunk in kb.chunks(ref.doc_id):
        if chunk.line_start <= ref.line_start <= chunk.line_end:
            lines = chunk.body.split("\n")
            at = next((i for i, line in enumerate(lines) if key in fold(line)), None)
            if at is None:
                return chunk.body
            taken = [lines[at]]
            for line in lines[at + 1 : at + 6]:
                if taken[-1].rstrip().endswith((".", ";", ":")) or line.lstrip().startswith(("-", "+", "•")):
                    break
                taken.append(line)
            return " ".join(t.strip() for t in taken if t.strip())
    return ""


def reference_line(ref: Record, about_chars: int = 160) -> str:
    attrs = ref.attrs
    text = f"{attrs.get('doc_type', '')} số {attrs.get('number', '')}"
    if attrs.get("date"):
        text += f" ngày {attrs['date']}"
    if attrs.get("issuer"):
        text += f" của {attrs['issuer']}"
    if attrs.get("about") and about_chars >= 20:
        text += f" {shorten(attrs['about'], about_chars)}"
    return text.strip()


def _cited_line(kb: KnowledgeView, ref: Record, n: int, where: str = "trong") -> str:
    """A cited document's answer line: the document, where the plan names it ('trong phần căn cứ'), its citation."""
    return f"{capitalize(reference_line(ref))} (được nêu {where} kế hoạch của {place(kb, ref.doc_id)}) [{n}]."


def _answer_one(ctx: Context, plan: QuestionPlan, doc_id: str, field: DocField, result: Result) -> bool:
    kb = ctx.kb
    doc = kb.documents[doc_id]
    meta = doc.metadata
    where = place(kb, doc_id)
    if field is DocField.NUMBER:
        if not meta.get("number"):
            result.reason = f"Kế hoạch của {where} để trống số văn bản (chưa ghi số)."
            return False
        n = result.cite(header_source(kb, doc_id, meta["number"].split("/")[0] + " /"))
        date = f", ban hành ngày {meta['date']}" if meta.get("date") and "/" in meta["date"] else ""
        result.lines.append(f"Kế hoạch của {where} có số {meta['number']}{date} [{n}].")
        return True
    if field is DocField.DATE:
        day, month, year = _date_parts(meta.get("date"))
        if not year or (_asks_day(plan) and not day) or (_asks_month(plan) and not month):
            known = f" (kế hoạch chỉ ghi «{meta['date']}»)" if meta.get("date") else ""
            result.reason = f"Kế hoạch của {where} để trống ngày ban hành{known}."
            return False
        n = result.cite(header_source(kb, doc_id, meta["date"].split(" năm")[0].split("/")[0]))
        written = f"ngày {meta['date']}" if day else meta["date"]
        number = f" (số {meta['number']})" if meta.get("number") else ""
        result.lines.append(f"Kế hoạch của {where}{number} ban hành {written} [{n}].")
        return True
    if field in (DocField.SIGNER, DocField.SIGNER_ROLE, DocField.SIGN_MODE):
        signer = next(iter(kb.facts({doc_id}, {FactKind.SIGNER})), None)
        if signer is None:
            result.reason = f"Không đọc được khối chữ ký của kế hoạch {where}."
            return False
        n = result.cite(fact_source(kb, signer))
        result.lines.append(f"{signer_text(signer)} ({where}) [{n}].")
        return True
    if field is DocField.PROVINCE:
        if not meta.get("province"):
            return False
        n = result.cite(header_source(kb, doc_id, meta["province"]))
        result.lines.append(f"{capitalize(where)} thuộc {province_label(meta)} [{n}].")
        return True
    if field is DocField.PERIOD:
        title = meta.get("title") or ""
        period = re.search(r"(?:giai đoạn|năm)\s+\d{4}(?:\s*[-–]\s*\d{4})?(?:[^.;]*?tiếp theo)?", title)
        if not period:
            return False
        n = result.cite(header_source(kb, doc_id, title[:40]))
        result.lines.append(f"Kế hoạch của {where} triển khai {period.group(0)} [{n}].")
        return True
    if field in (DocField.TITLE, DocField.PLAN_TYPE, DocField.ISSUER):
        n = result.cite(header_source(kb, doc_id, (meta.get("title") or "")[:40]))
        kind = PLAN_TYPE_LABELS.get(meta.get("plan_type") or "", "kế hoạch")
        number = f" số {meta['number']}" if meta.get("number") else ""
        issuer = meta.get("issuer") or f"Ủy ban nhân dân {where}"
        result.lines.append(f"Kế hoạch{number} của {issuer} là {kind}: «{shorten(meta.get('title') or '', 260)}» [{n}].")
        return True
    if field is DocField.BASES:
        refs = kb.facts({doc_id}, {FactKind.REFERENCE})
        bases = [r for r in refs if r.attrs.get("cited_as") == "basis"]
        mentioned = bool(_MENTIONS_ASKED_RE.search(plan.folded))  # 'nhắc đến những văn bản nào': all it cites
        body = [r for r in refs if r not in bases]
        on_topic = _named_where(kb, plan, bases + body)  # 'phần tuyên truyền nêu những nghị quyết nào'
        chosen = (_filter_references(plan, on_topic) if on_topic else []) or (
            _filter_references(plan, bases + body) if mentioned else
            _filter_references(plan, bases) or _filter_references(plan, body))
        mentioned = mentioned or bool(on_topic)
        if not chosen:
            result.reason = (f"Kế hoạch của {where} không nêu văn bản căn cứ nào như vậy."
                             if bases else f"Kế hoạch của {where} không có phần căn cứ.")
            return False
        chosen = chosen[:MAX_LISTED_REFERENCES]
        verb = "nhắc đến" if mentioned else "căn cứ/thực hiện"
        result.lines.append(f"Kế hoạch của {where} {verb} các văn bản:" if len(chosen) > 1 else "")
        # a list of bases is read as a short answer: the subjects get what the numbers and issuers leave
        room = (SHORT_CAP - 80) // len(chosen)
        for ref in chosen:
            n = result.cite(fact_source(kb, ref))
            prefix = "- " if len(chosen) > 1 else f"Kế hoạch của {where} {verb} "
            about = min(160, room - len(reference_line(ref, 0)) - 8)
            result.lines.append(f"{prefix}{reference_line(ref, about)} [{n}]")
        result.lines = [line for line in result.lines if line]
        result.short = False
        return True
    if field is DocField.RECIPIENTS:
        recipients = kb.facts({doc_id}, {FactKind.RECIPIENT})
        if not recipients:
            return False
        n = result.cite(line_source(kb, doc_id, recipients[0].line_start, recipients[-1].line_end,
                                    "\n".join(f"- {r.subject}" for r in recipients), "Nơi nhận"))
        listed = "; ".join(r.subject for r in recipients)
        yes_no = re.search(r"\b(?:khong|ko|chua)\W*$", fold(plan.text))
        asked = plan.recipients or (plan.units if yes_no else ())
        if asked:  # 'có gửi Ủy ban MTTQ xã không?', 'nơi nhận có Ban CHQS xã không?'
            named = {u.name for r in recipients for u in find_units(r.subject)}
            held = [u for u in asked if u in named]
            if held:
                result.lines.append(f"Có. Nơi nhận kế hoạch của {where} có {', '.join(held)}; gồm: {listed} [{n}].")
            else:
                result.lines.append(f"Không. Nơi nhận kế hoạch của {where} không có {', '.join(asked)}; "
                                    f"gồm: {listed} [{n}].")
            result.short = False
            return True
        result.lines.append(f"Nơi nhận kế hoạch của {where} [{n}]: {listed}.")
        result.short = False
        return True
    return False


def signer_text(signer: Record) -> str:
    role = signer.attrs.get("role") or "người ký"
    mode = signer.attrs.get("mode") or ""
    if "KT." in mode:
        how = f"ký thay (KT. Chủ tịch){', thay mặt Ủy ban nhân dân (TM.)' if 'TM.' in mode else ''}"
    elif "TM." in mode:
        how = "ký thay mặt Ủy ban nhân dân (TM.)"
    else:
        how = "ký trực tiếp"
    return f"{signer.subject}, {role} UBND xã, {how}"


# The centrally-run cities (thành phố trực thuộc Trung ương) since the 2025 reorganisation: a 'thành phố', not a 'tỉnh'
CENTRAL_CITIES = frozenset(fold(c) for c in ("Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế"))


def province_label(meta: dict) -> str:
    province = meta.get("province") or ""
    bases = " ".join(meta.get("legal_bases") or []) + " " + (meta.get("title") or "")
    city = f"thành phố {province}" in bases or fold(province) in CENTRAL_CITIES
    return f"thành phố {province}" if city else f"tỉnh {province}"


@handles(Route.DOC_FIELD)
def answer_field(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    result = Result(Route.DOC_FIELD, False, confidence=1.0)
    targets = sorted(doc_ids) if doc_ids else []
    if not targets:
        return not_found(Route.DOC_FIELD, "Câu hỏi chưa nêu kế hoạch của xã nào.", [f"Kế hoạch của xã {c}" for c in kb.communes])
    if (set(plan.fields) <= {DocField.NUMBER, DocField.DATE} and (cited := _another_plan(kb, plan, targets))):
        return cited  # 'KH về công tác CCHC năm 2026 của UBND xã số mấy': a plan it cites, not itself
    if plan.fields == (DocField.PERIOD,) and (period := _period_of_something_else(ctx, plan, targets)):
        return period  # 'tiếp tục thực hiện chương trình CCHC giai đoạn nào': that programme's period
    if plan.fields == (DocField.BASES,) and (other := _bases_of_something_else(ctx, plan, set(targets))):
        return other
    answered = 0
    for field in _distinct(plan.fields):
        answered += sum(_answer_one(ctx, plan, d, field, result) for d in targets)
    if not answered:
        return not_found(Route.DOC_FIELD, result.reason, [], result.sources)
    if result.reason:  # another field asked is left blank or missing: said, not silently dropped
        result.lines.append(result.reason)
    result.found = True
    result.short = result.short and answered == 1
    return result


def _bases_of_something_else(ctx: Context, plan: QuestionPlan, doc_ids: set[str]) -> Result | None:
    """A 'theo / căn cứ văn bản nào' question that is not about the plan's own bases; None when it is."""
    kb = ctx.kb
    if (row := _row_basis(kb, plan, doc_ids)) is not None:
        return row  # 'chỉ số Hạ tầng số thực hiện theo KH nào': the row says which plan
    if (about := _implementing(kb, plan, doc_ids)) is not None:
        return about  # 'KH nào của UBND tỉnh về triển khai NQ 71/NQ-CP': a document the plan cites, about N
    named = matching_references(kb, plan.numbers, doc_ids) if plan.numbers else []
    if named and all(r.attrs.get("cited_as") != "basis" for r in named):
        return answer_reference(ctx, plan, doc_ids)  # 'nhắc đến KH 482/KH-UBND, KH đó về việc gì': that one
    if _asked_dates(kb, plan, doc_ids):
        return answer_reference(ctx, plan, doc_ids)  # 'thực hiện KH số mấy của UBND tỉnh ngày 07/10/2025'
    doers = [u for u in plan.units if not _ISSUER_RE.match(fold(u))]  # 'KH nào của UBND tỉnh' names an issuer
    if doers and not _NUMBER_ASKED_RE.search(plan.folded) and (duty := answer_passage(ctx, plan, doc_ids)).found:
        return duty  # 'Công an xã được giao thực hiện kế hoạch gì để hình thành công dân số': the unit's duty
    return None


_ISSUER_RE = re.compile(r"(?:ubnd|uy ban nhan dan|hdnd|hoi dong nhan dan|tinh uy|thanh uy|dang uy|ban chap hanh|"
                        r"chinh phu|thu tuong|bo )")
_NUMBER_ASKED_RE = re.compile(r"\bso (?:may|bao nhieu|nao|hieu|ky hieu)\b|\bngay (?:nao|may|bao nhieu)\b")


_CITES_RE = re.compile(r"\b(?:ke hoach|chuong trinh|nghi quyet|de an|quyet dinh|chi thi)\b")


def _row_basis(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str]) -> Result | None:
    """A 'theo kế hoạch nào' question about a table row it names in full, whose text names the document it
    follows: that row (its content and units); None otherwise."""
    row = named_row(kb, replace(plan, slots=(Slot.TEXT, *plan.fact_slots), fields=()), doc_ids, by_name=True)
    if row is None or not _CITES_RE.search(fold(row.lines[0].partition(" — ")[2])):
        return None
    return row


def _implementing(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str]) -> Result | None:
    """The documents the plan cites whose subject names a document the question names, of the kind and level
    asked ('kế hoạch nào của UBND tỉnh về triển khai NQ 71/NQ-CP'); None when none does, or when the plan's own
    bases already name it (then the bases answer)."""
    keys = [_number_key(n) for n in plan.numbers if "/" in n or "-" in n]  # a whole number, not a bare '71' …
    bare = [n for n in plan.numbers if n.isdigit() and re.search(rf"\b(?:nghi quyet|nq|chuong trinh|ctr|quyet dinh|qd)"
                                                                  rf"(?: so)? {n}\b", plan.folded)]  # … unless its kind is
    if not keys and not bare:
        return None
    refs = [r for r in kb.facts(doc_ids, {FactKind.REFERENCE})
            if _number_key(r.attrs.get("number", "")) not in keys
            and not any(re.match(rf"{n}\b", r.attrs.get("number", "")) for n in bare)
            and (any(k in _number_key(r.attrs.get("about", "")) for k in keys)
                 or any(re.search(rf"\b(?:so )?{n}\b", fold(r.attrs.get("about", ""))) for n in bare))]
    if any(r.attrs.get("cited_as") == "basis" for r in refs):
        return None
    refs = _filter_references(plan, refs)
    if not refs:
        return None
    result = Result(Route.REFERENCE, True, confidence=0.9)
    for ref in refs[:MAX_LISTED_REFERENCES]:
        n = result.cite(fact_source(kb, ref))
        result.lines.append(_cited_line(kb, ref, n))
    return result


def _reference_words(ref: Record) -> tuple[str, ...]:
    """The words a cited document is described by: its mention and what was read of it (kind, issuer, subject)."""
    return fact_words(" ".join([ref.subject, *ref.attrs.values()]))


OWN_TITLE_COVERAGE = 0.5  # below: the plan a number question describes is not the plan itself
CITED_TOPIC_COVERAGE = 0.75  # … and one document it cites holds this much of the topic


def _about_something_else(kb: KnowledgeView, plan: QuestionPlan, doc_ids: list[str]) -> bool:
    """Whether a question that asks a field of one plan describes a topic its own title does not have (two words
    at least, an abbreviation counting for its full form: 'KH CCHC' is no PII plan)."""
    if len(fact_words(" ".join(plan.subject))) < 2 or len(doc_ids) != 1:
        return False
    title = fact_words(kb.documents[doc_ids[0]].metadata.get("title") or "")
    return coverage(kb, plan.subject, title)[0] < OWN_TITLE_COVERAGE


_PERIOD_IN_TEXT_RE = re.compile(r"\b(?:giai đoạn|đến năm)\s*\d{4}", re.IGNORECASE)


def _period_of_something_else(ctx: Context, plan: QuestionPlan, doc_ids: list[str]) -> Result | None:
    """A period asked of something the plan names besides itself ('chương trình CCHC giai đoạn nào'): the plan's
    sentence about it that states a period; None otherwise (then the plan's own period answers)."""
    if not _about_something_else(ctx.kb, plan, doc_ids):
        return None
    said = answer_passage(ctx, replace(plan, slots=(Slot.TEXT,), fields=()), set(doc_ids))
    return said if said.found and _PERIOD_IN_TEXT_RE.search(" ".join(said.lines)) else None


def _another_plan(kb: KnowledgeView, plan: QuestionPlan, doc_ids: list[str]) -> Result | None:
    """A number or date asked of a plan described by a topic the plan's own title does not have, when one
    document it cites is about that topic: that document's line; None otherwise."""
    if not _about_something_else(kb, plan, doc_ids):
        return None
    refs = [r for r in kb.facts(set(doc_ids), {FactKind.REFERENCE})
            if coverage(kb, plan.subject, _reference_words(r))[0] >= CITED_TOPIC_COVERAGE]
    if len(refs) != 1:
        return None
    result = Result(Route.REFERENCE, True, confidence=0.9)
    n = result.cite(fact_source(kb, refs[0]))
    result.lines.append(_cited_line(kb, refs[0], n))
    return result


def _distinct(fields: tuple[DocField, ...]) -> list[DocField]:
    """The fields asked, once each (the signer's answer already says the role and how they sign)."""
    signer = {DocField.SIGNER, DocField.SIGNER_ROLE, DocField.SIGN_MODE}
    out: list[DocField] = []
    for field in fields:
        if field in signer and any(f in signer for f in out):
            continue
        out.append(field)
    return out


def _number_key(number: str) -> str:
    return re.sub(r"[\W_]+", "", fold(number))


def matching_references(kb: KnowledgeView, numbers: tuple[str, ...], doc_ids: set[str] | None) -> list[Record]:
    """Cited documents whose number is one the question names ('68' finds '68/KH-UBND')."""
    keys = [_number_key(n) for n in numbers]
    out = []
    for ref in kb.facts(doc_ids, {FactKind.REFERENCE}):
        key = _number_key(ref.attrs.get("number", ""))
        digits = re.match(r"\d+", ref.attrs.get("number", ""))
        if any(k == key or (k.isdigit() and digits and digits.group(0) == k) for k in keys):
            out.append(ref)
    return out


MIN_REFERENCE_COVERAGE = 0.6  # a cited document named by its words (no number) must match this well


MIN_TYPED_COVERAGE = 0.3  # … or this well, when its kind and its issuer's level are the ones the question names


_MENTIONS_ASKED_RE = re.compile(r"\b(?:nhac (?:den|toi)|de cap(?: den| toi)?|vien dan|dan chieu|trich dan)\b")
MAX_LISTED_REFERENCES = 8
_BASIS_ASKED_RE = re.compile(r"\b(?:can cu|tren co so|dua vao|dua tren|thuc hien theo|lam theo)\b")
_NUMBER_SUFFIX_RE = re.compile(r"\b(\d+) (?:nq|kh|ctr|qd|nd|tt|ct|cv|kl)(?: [a-z]+)?\b")


def _described_types(plan: QuestionPlan) -> set[str]:
    """The kinds of document the question describes besides the plan itself: kinds other than a plan (not
    a plan's type such as 'KH NQ 57'), or a plan when two are named ('KH PII có nhắc KH CCHC')."""
    folded = _NUMBER_SUFFIX_RE.sub(r"\1", plan.folded)  # '57-NQ/TW' is a number, not a 'NQ' described
    types = {label for word, label in _DOC_TYPE_WORDS.items() if label != "Kế hoạch"
             and re.search(rf"\b{word}\b(?! ?(?:so )?\d)", folded)}
    if not types and len(re.findall(r"\b(?:ke hoach|kh)\b", folded)) > 1:
        types.add("Kế hoạch")
    return types


def described_references(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> list[Record]:
    """Cited documents the question describes by their kind, issuer and subject ('Nghị quyết HĐND xã về dự
    toán ngân sách 2026', 'CTr hành động của Đảng ủy xã'): the best match, when it covers most of the
    question's subject, or enough of it once the kind and the issuer's level named narrow the candidates."""
    types, levels = _described_types(plan), asked_levels(plan)
    scored = []
    for ref in kb.facts(doc_ids, {FactKind.REFERENCE}):
        own = _reference_words(ref)
        score = coverage(kb, plan.subject, own, plan.phrase, plan.context)[0] if plan.subject else 0.0
        if (not types or any(ref.attrs.get("doc_type", "").startswith(t) for t in types)) and (
                not levels or issuer_level(ref) in levels):  # of the kind and the issuer named, if any
            scored.append((score, ref.attrs.get("cited_as") == "basis", ref))
    if _BASIS_ASKED_RE.search(plan.folded):  # 'ban hành trên cơ sở / dựa vào KH số mấy': a basis first
        scored.sort(key=lambda item: (item[1], item[0]), reverse=True)
    else:
        scored.sort(key=lambda item: item[:2], reverse=True)
    least = MIN_TYPED_COVERAGE if types or levels else MIN_REFERENCE_COVERAGE
    good = [x for x in scored if x[0] >= least]
    if not good and len(scored) == 1 and types and levels:  # the one document of that kind and issuer
        good = scored
    if not good:
        return []
    return [x[2] for x in good if x[0] >= good[0][0] - 0.05][:3]


def names_the_plan_itself(kb: KnowledgeView, refs: list[Record]) -> bool:
    """The document described is the one the plan's own title implements ('KH triển khai Nghị quyết 57 của
    xã Phước An số mấy' asks the plan's number, not the resolution's)."""
    for ref in refs:
        title = fold(kb.documents[ref.doc_id].metadata.get("title") or "")
        number = re.match(r"\d+", ref.attrs.get("number", ""))
        if number and re.search(rf"\b{number.group(0)}\b", title) and fold(ref.attrs.get("doc_type", "")) in title:
            return True
    return False


# 'kế hoạch nào … triển khai NQ 71/NQ-CP': another document is asked, the one named is what it is about
_ASKS_ANOTHER_RE = re.compile(r"\b(?:ke hoach|kh|chuong trinh|ctr|van ban|quyet dinh|de an)(?: \w+){0,2} nao\b"
                              # '(nhắc tới) KH của UBND tỉnh về triển khai NQ 71, kế hoạch đó số mấy'
                              r"|\bve (?:viec )?(?:trien khai|thuc hien)(?: \w+){0,2} (?:nghi quyet|nq|chuong trinh|ctr|"
                              r"quyet dinh|qd)(?: so)? \d.*\b(?:ke hoach|kh|chuong trinh|ctr|van ban|quyet dinh|de an) "
                              r"(?:do|nay|ay) (?:la )?(?:so may|so bao nhieu|ngay nao|ngay may|ban hanh ngay)")


# Words a question about a cited document itself may hold besides the document's own: its kind, what it is
# called, and the words of asking about its content ('NQ 57 về lĩnh vực gì', 'tên đầy đủ của KH 68').
_DOCUMENT_WORDS = frozenset(fact_words(
    "số kế hoạch nghị quyết quyết định chỉ thị chương trình hành động nghị định thông tư công văn đề án kết luận "
    "văn bản tên gọi đầy đủ trích yếu viết tắt lĩnh vực vấn đề chủ đề mục đích nhằm ngày tháng năm cấp cơ quan"))


_DATE_RE = re.compile(r"(?<![\d/])(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\b")
_WORDS_DATE_RE = re.compile(r"\bngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})\b")


def _dates(text: str) -> set[tuple[int, int, int]]:
    """The whole dates written in ``text``: '07/10/2025', 'ngày 7 tháng 10 năm 2025'."""
    found = [*_DATE_RE.findall(text), *_WORDS_DATE_RE.findall(fold(text))]
    return {(int(day), int(month), int(year)) for day, month, year in found}


def _asked_dates(kb: KnowledgeView, plan: QuestionPlan, doc_ids: set[str] | None) -> set[tuple[int, int, int]]:
    """Whole dates the question names other than the plans' own (those describe a cited document)."""
    own = {d for doc_id in doc_ids or () for d in _dates(kb.documents[doc_id].metadata.get("date") or "")}
    return _dates(plan.text) - own


def _dated(kb: KnowledgeView, plan: QuestionPlan, refs: list[Record], doc_ids: set[str] | None,
           asked: set[tuple[int, int, int]]) -> list[Record]:
    """The documents the question describes by the dates ``asked`` ('KH số mấy của UBND tỉnh ngày 07/10/2025'):
    those of ``refs`` issued that day, else any the plan cites of that day (of the kind and issuer asked); [] when
    the plan cites none of that day (a near miss, not the nearest document)."""
    on_day = [r for r in refs if _dates(r.attrs.get("date", "")) & asked]
    if on_day:
        return on_day
    return _filter_references(plan, [r for r in kb.facts(doc_ids, {FactKind.REFERENCE})
                                     if _dates(r.attrs.get("date", "")) & asked])


# 'NQ 04/2025 được nhắc tới để làm gì', 'KH 132 nêu với mục đích gì': what the plan says where it cites it
_PURPOSE_ASKED_RE = re.compile(
    r"\b(?:de lam gi|lam gi|nham (?:muc dich )?(?:gi|nao)|voi muc dich (?:gi|nao)|muc dich (?:gi|nao|la gi)"
    r"|(?:trong|o|cho|gan voi|lien quan (?:den|toi)) (?:viec|noi dung|boi canh|nhiem vu|cho) (?:gi|nao))\b")


def _said_with(kb: KnowledgeView, refs: list[Record]) -> Result:
    """The plan's sentences that cite ``refs``: why the plan names them (a basis is named as the plan's basis)."""
    result = Result(Route.REFERENCE, True, confidence=0.9)
    seen: set[str] = set()
    for ref in refs:
        sentence = " ".join(_citing_sentence(kb, ref).split()).strip(" -+•")
        if not sentence or sentence in seen:
            continue
        seen.add(sentence)
        n = result.cite(fact_source(kb, ref))
        named = capitalize(reference_line(ref, 0))
        if ref.attrs.get("cited_as") == "basis":
            result.lines.append(f"{named} là căn cứ ban hành kế hoạch của {place(kb, ref.doc_id)}: "
                                f"«{shorten(sentence, 400)}» [{n}].")
        else:
            result.lines.append(f"Kế hoạch của {place(kb, ref.doc_id)} nêu {named} ở nội dung: "
                                f"«{shorten(sentence, 400)}» [{n}].")
        if len(result.lines) >= 3:
            break
    result.short = len(result.lines) == 1
    return result


def _asks_beyond(plan: QuestionPlan, refs: list[Record]) -> bool:
    """Whether a question that names a cited document by its number asks about something the plan says of it
    (how it is made known, what it requires) rather than about the document: a word of its subject
    is neither the document's own words nor words of asking about a document."""
    own = {w for ref in refs for w in _reference_words(ref)} | _DOCUMENT_WORDS
    numbers = {w for n in plan.numbers for w in fact_words(n)}
    beyond = {w for w in plan.subject if w not in own and w not in numbers and not w.isdigit()}
    return bool(beyond)


@handles(Route.REFERENCE)
def answer_reference(ctx: Context, plan: QuestionPlan, doc_ids: set[str] | None) -> Result:
    kb = ctx.kb
    if doc_ids and _ASKS_ANOTHER_RE.search(plan.folded) and (about := _implementing(kb, plan, doc_ids)):
        return about
    refs = matching_references(kb, plan.numbers, doc_ids) if plan.numbers else described_references(kb, plan, doc_ids)
    if asked := _asked_dates(kb, plan, doc_ids):
        refs = _dated(kb, plan, refs, doc_ids, asked)
        if not refs:
            day = ", ".join(f"{d:02d}/{m:02d}/{y}" for d, m, y in sorted(asked))
            return not_found(Route.REFERENCE, f"Không thấy văn bản nào ban hành ngày {day} được nêu trong kế hoạch.")
    if not refs or (not plan.numbers and names_the_plan_itself(kb, refs)):
        return not_found(Route.REFERENCE)
    if plan.numbers and _PURPOSE_ASKED_RE.search(plan.folded):
        return _said_with(kb, refs)  # 'NĐ 73/2023 được nhắc tới để làm gì': the plan's sentence that cites it
    if plan.numbers and plan.field in (None, DocField.BASES) and _asks_beyond(plan, refs):
        return answer_passage(ctx, plan, doc_ids)  # 'tuyên truyền KH 68 qua kênh nào': the plan's sentence on it
    result = Result(Route.REFERENCE, True, confidence=0.9)
    seen: set[str] = set()
    for ref in refs:
        key = _number_key(ref.attrs.get("number", "")) + ref.attrs.get("date", "")
        if key in seen:
            continue
        seen.add(key)
        n = result.cite(fact_source(kb, ref))
        cited = "trong phần căn cứ" if ref.attrs.get("cited_as") == "basis" else "trong nội dung"
        result.lines.append(_cited_line(kb, ref, n, cited))
        if len(result.lines) >= 4:
            break
    result.short = len(result.lines) == 1
    return result
