"""HTML rendering: everything from a plan is escaped; highlights mark the question's phrases."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ui import render
from ui.theme import (
    CITE_COLOUR,
    CITE_DARK_COLOUR,
    CITE_DARK_HOVER_COLOUR,
    CITE_HOVER_COLOUR,
    CITE_SCRIPT,
    HEAD,
)

QUESTION = "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"


def test_highlight_escapes_markup_before_marking() -> None:
    html = render.highlight("Hạ tầng số <script>alert('x')</script> & <b>đậm</b>", QUESTION)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&amp;" in html
    assert html.startswith("<mark>Hạ tầng số</mark>")


def test_highlight_marks_phrases_not_lone_syllables() -> None:
    html = render.highlight("Duy trì sự đồng thuận; đơn vị chủ trì: xã Vĩnh Thuận.", QUESTION)
    assert "<mark>chủ trì</mark>" in html
    assert "<mark>xã Vĩnh Thuận</mark>" in html
    assert "Duy trì" in html and "đồng thuận" in html  # 'trì', 'thuận' alone are not the question's words
    assert "<mark>đơn vị</mark>" not in html.lower()  # two function words are no phrase


def test_highlight_without_diacritics_and_codes() -> None:
    html = render.highlight("Tỷ lệ phủ sóng 5G năm 2026 đạt 100%; sở y tế", "ty le phu song 5g nam 2026")
    assert html.startswith("<mark>Tỷ lệ phủ sóng 5G năm 2026</mark>")
    assert "sở y tế" in html


def test_highlight_with_diacritics_is_exact() -> None:
    assert "<mark>" not in render.highlight("Sở Khoa học", "số khoa")  # 'số' is not 'Sở'


def test_source_card_escapes_every_field(source_factory: Any) -> None:
    source = source_factory("Nội dung <script>alert(1)</script>")
    source.section = "<img src=x onerror=alert(1)>"
    source.plan_title = "Kế hoạch <i>PII</i>"
    html = render.sources_html([source], QUESTION)
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert "Xã Vĩnh Thuận (An Giang)" in html
    assert html.count("<details") == 1
    assert "dòng 394–410" in html


def test_sources_html_empty() -> None:
    assert render.sources_html([], QUESTION) == ""


def test_safe_markdown_shows_markup_as_text() -> None:
    assert render.safe_markdown("a <script>x</script> **b**") == "a &lt;script&gt;x&lt;/script&gt; **b**"


def test_not_found_hint_names_what_the_corpus_covers(fake_services: Any) -> None:
    hint = render.not_found_hint(fake_services.store.snapshot.documents, "Vũ Quang")
    assert "2 kế hoạch" in hint
    assert "Vĩnh Thuận (An Giang)" in hint and "Nghị quyết 57-NQ/TW" in hint
    assert "Tất cả" in hint
    assert "Tài liệu" in render.not_found_hint({})


def test_header_says_what_the_corpus_holds(fake_services: Any) -> None:
    snap = fake_services.store.snapshot
    html = render.header_html(snap.documents, snap.communes, llm_enabled=False, llm_model="m")
    assert "2 kế hoạch · 2 xã" in html and "chưa cấu hình" in html
    html = render.header_html(snap.documents, snap.communes, llm_enabled=True, llm_model="<m>")
    assert "đã cấu hình (&lt;m&gt;)" in html


def _sources(source_factory: Any, n: int) -> list[Any]:
    return [source_factory(f"Nội dung nguồn {i}") for i in range(1, n + 1)]


def _card_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-pa-src="(\d+)"', html)]


def test_cited_indices_keep_citation_order_and_existing_sources() -> None:
    assert render.cited_indices("A [3], B [1]; lại [3] và [9], [0], [x].", 4) == [3, 1]
    assert render.cited_indices("Không trích dẫn.", 4) == []


def test_cited_cards_come_first_and_the_rest_are_folded(source_factory: Any) -> None:
    html = render.sources_html(
        _sources(source_factory, 5), QUESTION, answer="Chủ trì [3], phối hợp [1]; xem [3], [7].", prefix="pa-a2"
    )
    assert _card_order(html) == [3, 1, 2, 4, 5]
    cited, folded = html.split('<details class="pa-src-more">')
    assert _card_order(cited) == [3, 1] and _card_order(folded) == [2, 4, 5]
    assert "Nguồn trích dẫn (2)" in cited
    assert folded.startswith("<summary>Các đoạn liên quan khác (3)</summary>")  # closed: no " open"
    assert html.count("<details") == 6 and " open" not in html
    # every card carries the id its "[n]" links to, under the answer's prefix
    assert re.findall(r'<details class="pa-src" id="([^"]+)"', html) == [
        f"pa-a2-src-{i}" for i in (3, 1, 2, 4, 5)
    ]
    assert 'data-pa-answer="pa-a2"' in html and 'id="pa-a2-src-7"' not in html  # no card 7


def test_card_ids_are_unique_per_answer(source_factory: Any) -> None:
    sources = _sources(source_factory, 3)
    page = "".join(
        render.sources_html(sources, QUESTION, answer="[1] [2]", prefix=prefix) for prefix in ("pa-a2", "pa-a5")
    )
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == 6 and len(set(ids)) == 6


def test_answer_citing_all_or_none_has_no_fold(source_factory: Any) -> None:
    sources = _sources(source_factory, 2)
    for answer in ("[2] và [1]", "Không trích dẫn nguồn nào."):
        html = render.sources_html(sources, QUESTION, answer=answer)
        assert "pa-src-more" not in html and "Nguồn trích dẫn (2)" in html
    assert _card_order(render.sources_html(sources, QUESTION, answer="Không trích dẫn.")) == [1, 2]


def test_closest_passages_of_a_not_found_answer_are_unchanged(source_factory: Any) -> None:
    html = render.sources_html(_sources(source_factory, 3), QUESTION, found=False, answer="[2]", prefix="pa-a2")
    assert "Các đoạn gần nhất (không chứa câu trả lời) (3)" in html
    assert "pa-src-more" not in html and "data-pa-answer" not in html  # no fold, nothing to link to
    assert " id=" not in html and re.findall(r'pa-src-no">(\d+)<', html) == ["1", "2", "3"]


def test_cited_cards_still_escape_every_field(source_factory: Any) -> None:
    sources = _sources(source_factory, 2)
    sources[1].text = "Nội dung <script>alert(1)</script>"
    sources[1].commune = '"><img src=x onerror=alert(1)>'
    html = render.sources_html(sources, QUESTION, answer="[2] <b>[1]</b>", prefix='x"><script>')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="x&quot;&gt;&lt;script&gt;-src-2"' in html


def test_citation_links_are_made_in_the_browser_from_the_cards() -> None:
    """The answer message stays plain text (the chat's copy button copies it as sent; its sanitizer
    drops aria-label): the head's script links "[n]" to the card named ``data-pa-src="n"``."""
    assert CITE_SCRIPT in HEAD
    for needed in ('details.pa-src[data-pa-src="${n}"]', "`Mở nguồn ${n}`", '"pa-src-hit"', "[data-pa-answer]"):
        assert needed in CITE_SCRIPT


@pytest.mark.parametrize(
    ("text", "background"),
    [
        (CITE_COLOUR, "#ffffff"),
        (CITE_COLOUR, "#f8fafc"),  # the bot message (slate-50)
        (CITE_HOVER_COLOUR, "#f8fafc"),
        ("#ffffff", CITE_COLOUR),  # the opened card's number
        (CITE_DARK_COLOUR, "#0f172a"),  # dark mode: the bot message (slate-900)
        (CITE_DARK_HOVER_COLOUR, "#0f172a"),
    ],
)
def test_citation_colours_read_at_aa_contrast(text: str, background: str) -> None:
    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(text), luminance(background)), reverse=True)
    assert (high + 0.05) / (low + 0.05) >= 4.5
