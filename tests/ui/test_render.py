"""HTML rendering: everything from a plan is escaped; highlights mark the question's phrases."""

from __future__ import annotations

from typing import Any

from ui import render

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
