"""HTML and text rendering for the UI. All document text is escaped with ``html.escape``.

Highlighting works on the raw text split into word and non-word runs: every run is escaped on
its own and matching words are wrapped in ``<mark>`` afterwards, so markup in a plan (``<script>``)
is shown as text and a highlight never cuts through an HTML entity.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.qa.types import Source
from core.normalize import fold, strip_diacritics, words

# Question words that carry no topic: never highlighted.
_STOPWORDS = (
    "ai nào gì là của ở và các những có được cho trong với về theo thì mà này đó bao nhiêu khi đâu "
    "như thế sao hãy biết tôi xin hỏi không giao đơn vị xã kế hoạch năm"
)
_QUESTION_STOPWORDS = frozenset(fold(w) for w in _STOPWORDS.split())

_TOKEN_RE = re.compile(r"\w+|\W+", re.UNICODE)
_WORD_RE = re.compile(r"\w+", re.UNICODE)  # as ``core.normalize.words`` splits
CITATION_RE = re.compile(r"\[(\d+)\]")  # "[2]" in an answer: its second source

SOURCE_KIND_LABELS = {"text": "Đoạn văn", "table": "Bảng", "record": "Bản ghi"}
PLAN_TYPE_LABELS = {
    "pii": "Chỉ số đổi mới sáng tạo (PII)",
    "nq57": "Nghị quyết 57-NQ/TW",
    "innovative": "Xã đổi mới sáng tạo",
}


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


@dataclass(frozen=True)
class _Word:
    """A question word: typed with diacritics it matches only itself ('số' not 'sở'); typed
    without ('so') it matches any of its accented forms."""

    lower: str
    folded: str
    loose: bool
    stop: bool

    def matches(self, token: str) -> bool:
        return fold(token) == self.folded if self.loose else token.lower() == self.lower


def _question_words(question: str) -> list[_Word]:
    out = []
    for word in words(question):
        folded = fold(word)
        out.append(_Word(word, folded, strip_diacritics(word) == word, folded in _QUESTION_STOPWORDS))
    return out


def _standalone(word: str) -> bool:
    """Codes and numbers that mean something alone: '5G', 'VNeID', 'LGSP', '2026'."""
    has_digit = any(ch.isdigit() for ch in word)
    return len(word) >= 2 and (
        (has_digit and (len(word) >= 4 or not word.isdigit())) or sum(ch.isupper() for ch in word) >= 2
    )


def highlight(text: str, question: str) -> str:
    """``text`` escaped, with the question's phrases wrapped in ``<mark>``.

    Vietnamese words are mostly two syllables, so single syllables are not matched ('trì' in
    'duy trì' for 'chủ trì'): two adjacent words of the text must be two adjacent words of the
    question (not both function words). Codes and numbers ('5G', 'VNeID', '2026') match alone.
    """
    asked = _question_words(question)
    singles = [w for w, raw in zip(asked, _WORD_RE.findall(question), strict=True) if _standalone(raw)]
    tokens = _TOKEN_RE.findall(text)
    word_at = [i for i, t in enumerate(tokens) if t[0].isalnum() or t[0] == "_"]
    marked: set[int] = set()
    for a, b in zip(word_at, word_at[1:], strict=False):
        if b != a + 2 or not tokens[a + 1].isspace():
            continue
        for q1, q2 in zip(asked, asked[1:], strict=False):
            if not (q1.stop and q2.stop) and q1.matches(tokens[a]) and q2.matches(tokens[b]):
                marked.update((a, b))
                break
    for i in word_at:
        if any(w.matches(tokens[i]) for w in singles):
            marked.add(i)
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        if i not in marked:
            parts.append(html.escape(tokens[i]))
            i += 1
            continue
        end = i  # extend the run over whitespace between marked words
        while end + 2 < len(tokens) and end + 2 in marked and tokens[end + 1].isspace():
            end += 2
        parts.append(f"<mark>{html.escape(''.join(tokens[i : end + 1]))}</mark>")
        i = end + 1
    return "".join(parts)


def source_title(source: Source) -> str:
    place = source.commune or "Không rõ xã"
    if source.province:
        place = f"{place} ({source.province})"
    return f"Xã {place}" if source.commune else place


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word end before ``limit`` characters (with '…')."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def cited_indices(answer: str, n_sources: int) -> list[int]:
    """The source numbers ``answer`` cites ('… [2] … [1] … [2]' -> [2, 1]), in order of first
    citation; numbers without a source ('[9]' of 3) are left out."""
    cited: list[int] = []
    for match in CITATION_RE.finditer(answer):
        n = int(match.group(1))
        if 1 <= n <= n_sources and n not in cited:
            cited.append(n)
    return cited


def card_id(prefix: str, index: int) -> str:
    """The id of card ``index`` under the answer ``prefix`` (several answers share the page)."""
    return f"{prefix}-src-{index}"


def source_card(
    index: int, source: Source, question: str, open_: bool = False, id_: str | None = None
) -> str:
    """One expandable card: commune, section and the start of the cited text in the summary;
    the plan, the whole cited text (question words highlighted) and where it stands inside."""
    kind = SOURCE_KIND_LABELS.get(source.kind, "Đoạn văn")
    lines = (
        f"dòng {source.line_start}"
        if source.line_start == source.line_end
        else f"dòng {source.line_start}–{source.line_end}"
    )
    if source.page:
        lines = f"trang {source.page}, {lines}"
    section = (
        f'<span class="pa-src-section">{esc(shorten(source.section, 90))}</span>' if source.section else ""
    )
    title = source.plan_title or source.document
    anchor = f' id="{esc(id_)}" data-pa-src="{index}"' if id_ else ""  # the target of "[index]"
    body_section = f'<div class="pa-src-section">Mục: {esc(source.section)}</div>' if source.section else ""
    return (
        f'<details class="pa-src"{anchor}{" open" if open_ else ""}>'
        f'<summary><span class="pa-src-no">{index}</span>'
        f'<span class="pa-src-commune">{esc(source_title(source))}</span>{section}'
        f'<span class="pa-src-snippet">{highlight(shorten(source.text, 160), question)}</span></summary>'
        f'<div class="pa-src-body"><div class="pa-src-plan">Kế hoạch: {esc(title)}</div>'
        f"{body_section}"
        f'<blockquote class="pa-src-text">{highlight(source.text, question)}</blockquote>'
        f'<div class="pa-src-meta">{esc(kind)} · {esc(source.document)} · {esc(lines)}</div>'
        f"</div></details>"
    )


def sources_html(
    sources: Sequence[Source], question: str, found: bool = True, answer: str = "", prefix: str = "pa-a"
) -> str:
    """The cards under an answer, all closed (the summary already names commune and section).

    With an answer, the cards it cites come first, in citation order, each with an id under
    ``prefix`` (unique per answer in the chat) that its "[n]" in the answer links to (``CITE_SCRIPT`` in
    ``ui.theme``); the others are folded under one closed "Các đoạn liên quan khác". An answer that
    cites none shows them all. Without an answer they are only the closest passages, and say so."""
    if not sources:
        return ""
    if not found:
        cards = "".join(source_card(i, s, question) for i, s in enumerate(sources, 1))
        title = "Các đoạn gần nhất (không chứa câu trả lời)"
        head = f'<div class="pa-sources-head">{title} ({len(sources)}) — bấm vào để xem nguyên văn</div>'
        return f'<div class="pa-sources">{head}{cards}</div>'
    cited = cited_indices(answer, len(sources)) or list(range(1, len(sources) + 1))
    others = [i for i in range(1, len(sources) + 1) if i not in cited]

    def cards_of(indices: list[int]) -> str:
        return "".join(source_card(i, sources[i - 1], question, id_=card_id(prefix, i)) for i in indices)

    head = f'<div class="pa-sources-head">Nguồn trích dẫn ({len(cited)}) — bấm vào để xem nguyên văn</div>'
    more = (
        f'<details class="pa-src-more"><summary>Các đoạn liên quan khác ({len(others)})</summary>'
        f"{cards_of(others)}</details>"
        if others
        else ""
    )
    return f'<div class="pa-sources" data-pa-answer="{esc(prefix)}">{head}{cards_of(cited)}{more}</div>'


def safe_markdown(text: str) -> str:
    """Markdown whose text comes from plans (answers, drafts): HTML markup in it is shown as text."""
    return html.escape(text, quote=False)


def corpus_summary(documents: Mapping[str, Any]) -> str:
    """'Hòa Điền (An Giang), Vĩnh Thuận (An Giang), …' from snapshot documents."""
    places: dict[str, str] = {}
    for doc in documents.values():
        meta = doc.metadata
        commune = meta.get("commune")
        if commune and commune not in places:
            places[commune] = f"{commune} ({meta['province']})" if meta.get("province") else commune
    return ", ".join(places[c] for c in sorted(places))


def not_found_hint(documents: Mapping[str, Any], commune: str | None = None) -> str:
    """What to suggest when the plans say nothing about a question (HTML)."""
    if not documents:
        return '<div class="pa-hint">Chưa có kế hoạch nào. Hãy tải kế hoạch lên ở thẻ <b>Tài liệu</b>.</div>'
    types = sorted(
        {
            PLAN_TYPE_LABELS[t]
            for d in documents.values()
            if (t := d.metadata.get("plan_type")) in PLAN_TYPE_LABELS
        }
    )
    covers = f" ({esc(', '.join(types))})" if types else ""
    scope = (
        f" Bạn đang giới hạn tìm trong xã <b>{esc(commune)}</b>; chọn “Tất cả” ở Phạm vi xã để tìm rộng hơn."
        if commune
        else ""
    )
    return (
        f'<div class="pa-hint"><b>Gợi ý:</b> kho có {len(documents)} kế hoạch{covers} của các xã '
        f"{esc(corpus_summary(documents))}. Hãy hỏi về đơn vị chủ trì, đơn vị phối hợp, chỉ tiêu, thời hạn "
        f"hoặc nội dung nhiệm vụ của một xã cụ thể.{scope}</div>"
    )


def header_html(
    documents: Mapping[str, Any], communes: Iterable[str], llm_enabled: bool, llm_model: str
) -> str:
    n_docs = len(documents)
    n_communes = len(list(communes))
    if llm_enabled:
        llm = f'<span class="pa-chip pa-chip-ok">Mô hình ngôn ngữ: đã cấu hình ({esc(llm_model)})</span>'
    else:
        llm = '<span class="pa-chip">Mô hình ngôn ngữ: chưa cấu hình — trả lời trích từ văn bản</span>'
    summary = esc(corpus_summary(documents)) or "chưa có kế hoạch nào"
    return (
        '<div class="pa-header"><h1 class="pa-title">Trợ lý Kế hoạch cấp xã</h1>'
        '<div class="pa-subtitle">Hỏi đáp, tra cứu phân công và soạn thảo kế hoạch '
        "chuyển đổi số, đổi mới sáng tạo</div>"
        f'<div class="pa-chips"><span class="pa-chip pa-chip-main">{n_docs} kế hoạch · {n_communes} xã</span>'
        f"{llm}</div>"
        f'<div class="pa-corpus">{summary}</div></div>'
    )


RECORD_CARDS_MAX = 100  # cards on a phone; the CSV and Excel files hold every row


def record_cards_html(rows: Sequence[Mapping[str, Any]], total: int) -> str:
    """The records as cards (phones): content, lead and partner units, deadline, commune; ``rows``
    are the table's rows by column title, ``total`` how many passed the filters."""
    items = []
    for row in rows[:RECORD_CARDS_MAX]:
        fields = [
            ("Chủ trì", row.get("Đơn vị chủ trì"), "pa-rec-lead"),
            ("Phối hợp", row.get("Đơn vị phối hợp"), "pa-rec-partners"),
            ("Thời hạn", row.get("Thời gian") or row.get("Năm"), "pa-rec-deadline"),
            ("Xã", row.get("Xã"), "pa-rec-commune"),
        ]
        body = "".join(
            f'<dt>{label}</dt><dd class="{css}">{esc(value) or "—"}</dd>' for label, value, css in fields
        )
        kind = f'<span class="pa-rec-kind">{esc(row["Loại"])}</span>' if row.get("Loại") else ""
        items.append(
            f'<li class="pa-rec-card"><p class="pa-rec-title">{kind}{esc(row.get("Nội dung"))}</p>'
            f'<dl class="pa-rec-fields">{body}</dl></li>'
        )
    more = (
        f'<p class="pa-rec-more">Đang hiển thị {RECORD_CARDS_MAX} bản ghi đầu tiên trên tổng số {total}; '
        "lọc thêm hoặc tải CSV/Excel để xem đủ.</p>"
        if total > RECORD_CARDS_MAX
        else ""
    )
    return f'<ul class="pa-rec-cards" aria-label="Bản ghi phân công">{"".join(items)}</ul>{more}'
