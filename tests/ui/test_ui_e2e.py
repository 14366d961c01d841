"""End to end: the real server (``assistant.server``) driven in headless Chromium.

Every step is saved as a screenshot at laptop (1280 px) and phone (390 px) width under
``test-artifacts/ui/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

QUESTION = "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"
UNIT = "Phòng Văn hóa - Xã hội"
NEW_COMMUNE = "Tân Lập"
CORRECTED_COMMUNE = "Phú Lộc"  # the officer's correction of the uploaded plan's commune
CORRECTED_QUESTION = f"Đơn vị nào chủ trì tập huấn kỹ năng số cho người dân ở xã {CORRECTED_COMMUNE}?"
UPLOAD_NAME = "ke-hoach-tan-lap-2026.docx"
WIDTHS = (1280, 390)
FIRST_SCREENS = ((1280, 800), (390, 844))
SLOW_MS = 180_000  # the first answer loads the models


def build_plan_docx(path: Path) -> Path:
    """A small plan as a commune writes it: header, title, a task table, assignments."""
    from docx import Document

    doc = Document()
    for line in (
        "ỦY BAN NHÂN DÂN",
        f"XÃ {NEW_COMMUNE.upper()}",
        "Số: 21/KH-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        f"{NEW_COMMUNE}, ngày 12 tháng 3 năm 2026",
        "KẾ HOẠCH",
        f"Triển khai Nghị quyết số 57-NQ/TW trên địa bàn xã {NEW_COMMUNE} năm 2026",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Đẩy mạnh chuyển đổi số, phát triển hạ tầng số và nâng cao kỹ năng số cho người dân.",
        "II. NHIỆM VỤ, GIẢI PHÁP",
    ):
        doc.add_paragraph(line)
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(
        table.rows[0].cells,
        ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện"),
        strict=True,
    ):
        cell.text = text
    for row in (
        ("1", "Phủ sóng 5G tại các thôn", "Phòng Kinh tế", "Công an xã", "Quý II/2026"),
        ("2", "Tập huấn kỹ năng số cho người dân", UNIT, "Đoàn Thanh niên xã", "Quý III/2026"),
    ):
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    for line in (
        "III. TỔ CHỨC THỰC HIỆN",
        f"1. {UNIT}: chủ trì tham mưu UBND xã triển khai Kế hoạch; tổng hợp báo cáo định kỳ.",
        "2. Phòng Kinh tế: tham mưu bố trí kinh phí thực hiện Kế hoạch.",
        "CHỦ TỊCH",
        "Nguyễn Văn A",
    ):
        doc.add_paragraph(line)
    doc.save(path)
    return path


class Shots:
    """Screenshots of every step at each width (the page is resized, then restored)."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.saved: list[Path] = []

    def take(self, step: str) -> None:
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.wait_for_timeout(400)  # layout settles (tabs overflow, rows wrap)
            path = self.folder / f"{step}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.saved.append(path)
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        self.page.wait_for_timeout(200)


def open_tab(page: Any, label: str) -> None:
    page.locator("[role=tablist] button[role=tab]", has_text=label).click()


def choose(page: Any, elem_id: str, value: str) -> None:
    """Pick ``value`` in a Gradio dropdown by typing part of it and clicking the option."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(value[:12])
    page.get_by_role("option", name=value, exact=True).click()


def test_officer_journey(chromium: Any, ui_server: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect  # installed: the chromium fixture skips without it

    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shots = Shots(page, artifacts)
    try:
        # 1. the page opens on the corpus overview
        page.goto(f"{ui_server.url}/ui/", wait_until="domcontentloaded")
        header = page.locator("#pa-header")
        header.get_by_text(re.compile(r"\d+ kế hoạch · \d+ xã")).wait_for(timeout=SLOW_MS)
        assert "5 kế hoạch · 5 xã" in header.inner_text()
        page.locator("#pa-chat button.example").first.wait_for()
        assert page.evaluate("document.documentElement.lang") == "vi"
        for width, height in FIRST_SCREENS:  # the input and an example question without scrolling
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(400)
            for selector in ("#qa-input textarea", "#qa-send", "#pa-chat button.example"):
                box = page.locator(selector).first.bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, (width, selector, box)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        shots.take("01-home")

        # 2. a question: a streamed answer, then source cards naming the commune
        page.locator("#qa-input textarea").fill(QUESTION)
        page.locator("#qa-send").click()
        cards = page.locator("#pa-chat details.pa-src")
        cards.first.wait_for(timeout=SLOW_MS)
        bot = page.locator('#pa-chat [data-testid="bot"]')
        answer = bot.first.inner_text().strip()
        assert answer and "Đang tìm" not in answer, answer
        assert "Vĩnh Thuận" in cards.first.locator("summary").inner_text()
        assert cards.count() >= 1
        cards.first.locator("summary").click()  # the card opens on the cited text
        assert cards.first.locator("blockquote.pa-src-text").is_visible()
        cards.first.locator("summary").click()
        # "[1]" in the answer is a link that opens card 1, scrolled into view and ringed
        cite = bot.first.locator("a.pa-cite", has_text="[1]").first
        cite.wait_for()
        assert cite.get_attribute("aria-label") == "Mở nguồn 1"
        card = page.locator(f"#pa-chat details.pa-src{cite.get_attribute('href')}")
        assert card.get_attribute("data-pa-src") == "1" and not card.evaluate("card => card.open")
        page.locator("#pa-chat [data-testid='bot']").first.evaluate("answer => answer.scrollIntoView()")
        cite.click()
        expect(card).to_have_class(re.compile(r"\bpa-src-hit\b"))
        expect(card.locator("blockquote.pa-src-text")).to_be_visible()
        expect(card).to_be_in_viewport()
        assert page.evaluate("location.hash") == ""  # handled in the page: Gradio's URL is left alone
        shots.take("02-answer")

        # a new conversation; an example question is asked with one click
        page.locator("#qa-clear").click()
        cards.first.wait_for(state="detached")
        example = page.locator("#pa-chat button.example").first
        asked = example.inner_text().strip()
        example.click()
        cards.first.wait_for(timeout=SLOW_MS)
        assert page.locator('#pa-chat [data-testid="user"]').first.inner_text().strip() == asked

        # 3. the records table, filtered by a unit
        open_tab(page, "Bảng phân công")
        count = page.locator("#rec-count")
        count.get_by_text("Hiển thị").wait_for()
        total = int(re.search(r"/ (\d+)", count.inner_text()).group(1))
        choose(page, "rec-unit", UNIT)
        page.wait_for_function(
            "total => { const m = document.querySelector('#rec-count').innerText.match(/Hiển thị (\\d+)/);"
            " return m && Number(m[1]) < total && Number(m[1]) > 0; }",
            arg=total,
        )
        table_text = page.locator("#rec-table").inner_text()
        assert UNIT in table_text
        with page.expect_download() as download:
            page.locator("#rec-xlsx").click()
        assert download.value.suggested_filename == "phan-cong-phong-van-hoa-xa-hoi.xlsx"
        shots.take("03-records")

        # 4. upload a .docx plan and see it listed
        open_tab(page, "Tài liệu")
        page.locator("#doc-table").get_by_text("Vĩnh Thuận").filter(visible=True).first.wait_for()
        plan = build_plan_docx(tmp_path / UPLOAD_NAME)
        # the UploadButton's file input stands just before the button
        page.locator("#doc-upload").locator(
            "xpath=preceding-sibling::input[@type='file'][1]"
        ).set_input_files(str(plan))
        result = page.locator("#doc-result")
        result.locator("li", has_text=UPLOAD_NAME).wait_for(timeout=SLOW_MS)
        assert "✓" in result.inner_text(), result.inner_text()
        page.locator("#doc-table").get_by_text(UPLOAD_NAME).filter(visible=True).first.wait_for(
            timeout=30_000
        )
        assert NEW_COMMUNE in page.locator("#doc-table").inner_text()
        header.get_by_text("6 kế hoạch").wait_for()
        # the card shows what was read from the plan, for the officer to check
        page.locator("#doc-card-info").get_by_text("Thông tin đọc được").wait_for()
        commune_box = page.locator("#card-commune input, #card-commune textarea").first
        expect(commune_box).to_have_value(NEW_COMMUNE)
        assert page.locator("#card-number input, #card-number textarea").first.input_value() == "21/KH-UBND"
        info = page.locator("#doc-card-info").inner_text()
        assert f"Xã: {NEW_COMMUNE}" in info and "dòng bảng" in info and "dữ kiện" in info, info
        shots.take("04-documents")

        # 5. a draft for the new commune: preview and .docx download
        open_tab(page, "Soạn thảo")
        commune = page.locator("#draft-commune input")
        commune.fill(NEW_COMMUNE)
        commune.press("Enter")
        page.locator("#draft-province textarea").fill("Lâm Đồng")
        page.locator("#draft-focus textarea").fill("Hạ tầng số\nKỹ năng số cho người dân")
        page.locator("#draft-go").click()
        download_button = page.locator("#draft-docx")
        download_button.wait_for(timeout=SLOW_MS)
        preview = page.locator("#pa-draft-preview").inner_text()
        assert "KẾ HOẠCH" in preview and f"XÃ {NEW_COMMUNE.upper()}" in preview
        with page.expect_download() as download:
            download_button.click()
        assert download.value.suggested_filename.endswith(".docx")
        shots.take("05-drafting")

        # 6. the officer corrects the plan's commune on its card; the chat then uses the correction
        open_tab(page, "Tài liệu")
        commune_box.fill(CORRECTED_COMMUNE)
        page.locator("#card-save").click()
        saved = page.locator("#card-result .pa-results")
        saved.wait_for(timeout=60_000)
        assert "Đã lưu chỉnh sửa" in saved.inner_text(), saved.inner_text()
        page.locator("#doc-table").get_by_text(CORRECTED_COMMUNE).filter(visible=True).first.wait_for(
            timeout=30_000
        )
        assert "đọc được từ tệp: " + NEW_COMMUNE in page.locator("#doc-card-info").inner_text()
        header.get_by_text("6 kế hoạch · 6 xã").wait_for()
        shots.take("06-corrected")
        open_tab(page, "Hỏi đáp")
        page.locator("#qa-clear").click()
        cards.first.wait_for(state="detached")
        page.locator("#qa-input textarea").fill(CORRECTED_QUESTION)
        page.locator("#qa-send").click()
        cards.first.wait_for(timeout=SLOW_MS)
        corrected_answer = bot.first.inner_text()
        assert CORRECTED_COMMUNE in cards.first.locator("summary").inner_text()
        assert UNIT in corrected_answer, corrected_answer
        shots.take("07-corrected-answer")

        # 7. the uploaded plan is deleted again (after a confirmation)
        open_tab(page, "Tài liệu")
        choose(page, "doc-pick", f"{CORRECTED_COMMUNE} — {UPLOAD_NAME}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#doc-delete").click()
        page.locator("#doc-manage-result").get_by_text("Đã xóa kế hoạch").wait_for(timeout=60_000)
        header.get_by_text("5 kế hoạch").wait_for()
        assert UPLOAD_NAME not in page.locator("#doc-table").inner_text()
        assert not errors, errors
    finally:
        if errors:
            page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
        context.close()
    assert all(p.stat().st_size > 10_000 for p in shots.saved)
