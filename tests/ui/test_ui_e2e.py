"""End to end: the real server (``assistant.server``) driven in headless Chromium.

Every step is saved as a screenshot at laptop (1280×800) and phone (390×844) size under
``test-artifacts/ui/``; on each tab the page is checked for accessibility at both sizes (axe-core, no
English name) and saved for review under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from a11y import axe_violations, english_names

from ui.theme import GRADIO_VI

pytestmark = pytest.mark.browser

QUESTION = "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"
UNIT = "Phòng Văn hóa - Xã hội"
NEW_COMMUNE = "Tân Lập"
CORRECTED_COMMUNE = "Phú Lộc"  # the officer's correction of the uploaded plan's commune
CORRECTED_QUESTION = f"Đơn vị nào chủ trì tập huấn kỹ năng số cho người dân ở xã {CORRECTED_COMMUNE}?"
UPLOAD_NAME = "ke-hoach-tan-lap-2026.docx"
WIDTHS = (1280, 390)
FIRST_SCREENS = ((1280, 800), (390, 844))  # laptop, phone
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
    """Screenshots of every step at each size (the page is resized, then restored). A step on a tab
    (``tab``) is also checked for accessibility at each size, and its screen (from ``focus`` when given)
    saved for review as ``<tab>-<width>x<height>.png``."""

    def __init__(self, page: Any, folder: Path, review: Path) -> None:
        self.page = page
        self.folder = folder
        self.review = review
        self.saved: list[Path] = []
        self.problems: list[str] = []  # accessibility problems, reported at the end of the journey

    def take(self, step: str, tab: str | None = None, focus: str | None = None) -> None:
        for width, height in FIRST_SCREENS:
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.wait_for_timeout(400)  # layout settles (tabs overflow, rows wrap)
            path = self.folder / f"{step}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.saved.append(path)
            if tab:
                review = self.review / f"{tab}-{width}x{height}.png"  # the screen as the officer sees it
                if focus:
                    self.page.locator(focus).evaluate("el => el.scrollIntoView({ block: 'start' })")
                self.page.screenshot(path=str(review))
                self.saved.append(review)
                where = f"{tab} at {width}×{height}"
                self.problems += [f"{where}: axe {v}" for v in axe_violations(self.page)]
                self.problems += [f"{where}: English name {n}" for n in english_names(self.page)]
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


def put_preview_out_of_view(page: Any) -> None:
    """Scroll the page so that the draft preview's top is off screen: just below the window when the
    page is long enough above it (phone: the form is above), else above it (laptop: beside the form)."""
    page.evaluate(
        """() => {
          const top = document.getElementById("pa-draft-preview").getBoundingClientRect().top + scrollY;
          const below = top - innerHeight - 10;
          window.scrollTo({ top: below >= 0 ? below : top + 60, behavior: "instant" });
        }"""
    )
    top = page.locator("#pa-draft-preview").evaluate("el => el.getBoundingClientRect().top")
    assert not 0 <= top < page.viewport_size["height"], top


def preview_top_in_view(page: Any) -> None:
    """Wait until the top of the draft preview is in the window (it scrolls there smoothly)."""
    page.wait_for_function(
        """() => { const top = document.getElementById("pa-draft-preview").getBoundingClientRect().top;
                   return top >= 0 && top < innerHeight - 80; }""",
        timeout=30_000,  # the draft itself is ready by then on a laptop; a phone waits for its second one
    )


def test_officer_journey(
    chromium: Any, ui_server: Any, artifacts: Path, screenshots: Path, tmp_path: Path
) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect  # installed: the chromium fixture skips without it

    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shots = Shots(page, artifacts, screenshots)
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
        shots.take("01-home", tab="hoi-dap-mo-dau")

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
        assert not page.locator(f'#pa-chat button[aria-label="{GRADIO_VI["Clear"]}"]').is_visible()  # "Hội thoại mới" does it
        shots.take("02-answer", tab="hoi-dap")

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
        with Path(download.value.path()).open("rb") as xlsx:  # saved without its .xlsx name
            sheet = load_workbook(xlsx).active
        first = {h.value: c.value for h, c in zip(sheet[1], sheet[2], strict=True)}
        # on a phone the rows are cards: the first row's lead unit on screen, no sideways scrolling
        page.set_viewport_size({"width": 390, "height": 844})
        expect(page.locator("#rec-table")).to_be_hidden()
        card = page.locator("#rec-cards li.pa-rec-card").first
        expect(card.locator(".pa-rec-title")).to_contain_text(first["Nội dung"][:60])
        lead = card.locator(".pa-rec-lead")
        expect(lead).to_have_text(first["Đơn vị chủ trì"] or "—")
        lead.scroll_into_view_if_needed()
        box = lead.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and 0 <= box["y"] <= 844 - box["height"], box
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        expect(page.locator("#rec-cards")).to_be_hidden()
        expect(page.locator("#rec-table")).to_be_visible()
        shots.take("03-records", tab="bang-phan-cong")

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
        shots.take("04-documents", tab="tai-lieu")

        # 5. a draft for the new commune: preview (scrolled into view, laptop and phone) and .docx download
        open_tab(page, "Soạn thảo")
        commune = page.locator("#draft-commune input")
        commune.fill(NEW_COMMUNE)
        commune.press("Enter")
        page.locator("#draft-province textarea").fill("Lâm Đồng")
        page.locator("#draft-focus textarea").fill("Hạ tầng số\nKỹ năng số cho người dân")
        download_button = page.locator("#draft-docx")
        for number, (width, height) in enumerate(FIRST_SCREENS, 1):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            put_preview_out_of_view(page)
            page.locator("#draft-go").dispatch_event("click")  # as a click, without scrolling to the button
            download_button.wait_for(timeout=SLOW_MS)
            preview_top_in_view(page)
            if number == 1:
                preview = page.locator("#pa-draft-preview").inner_text()
                assert "KẾ HOẠCH" in preview and f"XÃ {NEW_COMMUNE.upper()}" in preview
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        with page.expect_download() as download:
            download_button.click()
        assert download.value.suggested_filename.endswith(".docx")
        shots.take("05-drafting", tab="soan-thao", focus="#pa-draft-preview")
        assert not shots.problems, "\n".join(shots.problems)

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
