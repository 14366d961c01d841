"""UI handlers over stand-in services: what an officer sees for each service result."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from ui import app as ui_app
from ui.app import ALL, RECORD_COLUMNS, PlanUI, build_ui, mount_ui


@pytest.fixture()
def ui(fake_services: Any, monkeypatch: pytest.MonkeyPatch) -> PlanUI:
    monkeypatch.setattr(ui_app, "STREAM_SECONDS", 0.0)
    return PlanUI(fake_services)


def run(ui: PlanUI, question: str, chat: list | None = None, history: list | None = None, commune: str = ALL):
    return list(ui.answer(question, chat, history, commune))


def test_answer_streams_then_shows_source_cards(ui: PlanUI, fake_services: Any) -> None:
    steps = run(ui, "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?")
    answer = fake_services.qa.answer.answer
    texts = [chat[1]["content"] for chat, _, _ in steps[1:-1]]
    assert steps[0][0][1]["content"].startswith("_Đang tìm")  # shown while the service works
    assert len(texts) > 3 and all(answer.startswith(t) for t in texts)  # progressive prefixes
    assert [len(t) for t in texts] == sorted(len(t) for t in texts)
    chat, history, box = steps[-1]
    assert box == ""
    assert chat[0] == {"role": "user", "content": "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"}
    assert chat[1] == {"role": "assistant", "content": answer}  # plain text: the copy button copies it
    cards = chat[2]["content"]
    assert isinstance(cards, gr.HTML)
    assert "Xã Vĩnh Thuận (An Giang)" in cards.value and "&lt;script&gt;" in cards.value
    assert "<script>" not in cards.value
    assert history == [
        {"role": "user", "content": chat[0]["content"]},
        {"role": "assistant", "content": answer},
    ]
    assert fake_services.qa.calls == [{"question": chat[0]["content"], "history": None, "commune": None}]


def test_follow_up_passes_history_and_commune(ui: PlanUI, fake_services: Any) -> None:
    chat, history, _ = run(ui, "Ai chủ trì chỉ số Hạ tầng số?")[-1]
    run(ui, "Còn xã Vũ Quang thì sao?", chat, history, commune="Vũ Quang")
    call = fake_services.qa.calls[-1]
    assert call["commune"] == "Vũ Quang"
    assert call["history"] == history and len(history) == 2


def test_not_found_says_so_and_suggests_the_corpus(
    ui: PlanUI, fake_services: Any, source_factory: Any
) -> None:
    fake_services.qa.answer = SimpleNamespace(
        answer="Không tìm thấy thông tin về nội dung này.",
        found=False,
        sources=[source_factory("Giảm nghèo")],
    )
    chat, _, _ = run(ui, "Tỷ lệ hộ nghèo năm 2050?")[-1]
    assert chat[1]["content"].startswith("Không tìm thấy")
    hint = chat[2]["content"].value
    assert "Gợi ý" in hint and "Vĩnh Thuận (An Giang)" in hint and "Vũ Quang (Hà Tĩnh)" in hint
    assert "Các đoạn gần nhất (không chứa câu trả lời) (1)" in hint and "Nguồn trích dẫn" not in hint


def test_empty_and_failing_questions(ui: PlanUI, fake_services: Any) -> None:
    assert run(ui, "   ") == [([], [], "")]
    fake_services.qa.ask = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    chat, history, box = run(ui, "Câu hỏi")[-1]
    assert "đã có lỗi" in chat[-1]["content"] and "boom" not in chat[-1]["content"]
    assert history == [] and box == "Câu hỏi"  # the question stays, to retry


def test_records_filter_by_unit_and_text(ui: PlanUI) -> None:
    frame, count, csv_path, xlsx_path = ui.filter_records(ALL, ALL, ALL, ALL, "")
    assert list(frame.columns) == RECORD_COLUMNS and len(frame) == 3
    assert "**3** / 3" in count
    frame, count, csv_path, xlsx_path = ui.filter_records(ALL, ALL, "Phòng Văn hóa - Xã hội", ALL, "")
    assert len(frame) == 2 and set(frame["Xã"]) == {"Vĩnh Thuận"}
    frame, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "ha tang so")  # without diacritics
    assert list(frame["Nội dung"]) == ["Hạ tầng số: thực hiện theo kế hoạch chuyển đổi số"]
    frame, *_ = ui.filter_records("Vũ Quang", "target", ALL, "2030", "")
    assert list(frame["Đơn vị chủ trì"]) == ["Phòng Kinh tế"]
    frame, count, csv_path, xlsx_path = ui.filter_records("Vũ Quang", "task", ALL, ALL, "")
    assert frame.empty and "Không có bản ghi" in count and csv_path is None and xlsx_path is None


def test_records_downloads(ui: PlanUI) -> None:
    _, _, csv_path, xlsx_path = ui.filter_records(ALL, ALL, "Phòng Văn hóa - Xã hội", ALL, "")
    text = Path(csv_path).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # Excel reads the diacritics
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "Xã" in rows[0] and len(rows) == 3
    sheet = load_workbook(xlsx_path).active
    assert [c.value for c in sheet[1]] == RECORD_COLUMNS
    assert sheet.max_row == 3 and sheet["A2"].value == "Vĩnh Thuận"


def test_record_filter_choices(ui: PlanUI) -> None:
    commune, kind, unit, year = ui.record_filter_choices()
    assert commune.choices[0] == (ALL, ALL) and ("Vũ Quang", "Vũ Quang") in commune.choices
    assert ("Chỉ tiêu", "target") in kind.choices and ("Nhiệm vụ được giao", "duty") not in kind.choices
    assert ("Phòng Văn hóa - Xã hội", "Phòng Văn hóa - Xã hội") in unit.choices
    assert [c[0] for c in year.choices] == [ALL, "2030", "2026"]


def test_upload_reports_each_file_in_vietnamese(ui: PlanUI, fake_services: Any, tmp_path: Path) -> None:
    fake_services.ingestor.results = {
        "tot.docx": SimpleNamespace(status="added", error=None, chunks_added=12, records=4),
        "hong<b>.pdf": SimpleNamespace(status="failed", error="tệp rỗng", chunks_added=0, records=0),
        "cu.txt": SimpleNamespace(status="unchanged", error=None, chunks_added=0, records=2),
    }
    paths = [str(tmp_path / name) for name in fake_services.ingestor.results]
    html = ui.upload(paths)
    assert "✓ <b>tot.docx</b>: đã thêm mới (12 đoạn mới, 4 bản ghi phân công)" in html
    assert "✗ <b>hong&lt;b&gt;.pdf</b>: không nạp được — tệp rỗng" in html
    assert "không thay đổi" in html
    assert "Chưa chọn tệp" in ui.upload(None)


def test_delete_and_documents_table(ui: PlanUI, fake_services: Any) -> None:
    table = ui.documents_table()
    assert list(table["Xã"]) == ["Vĩnh Thuận", "Vũ Quang"]
    assert list(table["Loại kế hoạch"]) == ["Chỉ số đổi mới sáng tạo (PII)", "Nghị quyết 57-NQ/TW"]
    assert "Đã xóa kế hoạch <b>vq.txt</b>" in ui.delete("vq")
    assert fake_services.ingestor.removed == ["vq"]
    assert "Chưa chọn" in ui.delete(None)


def test_example_questions_follow_the_corpus(ui: PlanUI) -> None:
    questions = ui.example_questions()
    assert "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?" in questions
    assert any("Vũ Quang" in q for q in questions)
    assert any(q == q.encode("ascii", "ignore").decode() for q in questions)  # one typed without diacritics


def test_mount_serves_the_ui(fake_services: Any) -> None:
    assert isinstance(build_ui(fake_services), gr.Blocks)
    app = FastAPI()
    mount_ui(app, fake_services)
    with TestClient(app) as client:
        page = client.get("/ui/")
        assert page.status_code == 200
        config = client.get("/ui/config").json()
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    assert {"Hỏi đáp", "Bảng phân công", "Tài liệu", "Soạn thảo"} <= labels
    assert config["title"] == "Trợ lý Kế hoạch cấp xã"


def test_draft_shows_the_drafters_message_on_bad_input(ui: PlanUI, fake_services: Any) -> None:
    from assistant.drafting.model import DraftInputError

    def refuse(**fields: Any) -> None:
        raise DraftInputError("Thiếu tên xã: vui lòng nhập tên xã <b>cần soạn</b>.")

    fake_services.drafter = SimpleNamespace(draft=refuse)
    preview, path = ui.draft("", None, "pii", "2026", "", "", "", "", "Chủ tịch")
    assert preview.startswith("**Chưa soạn được kế hoạch:** Thiếu tên xã")
    assert "&lt;b&gt;" in preview and path is None


def test_records_sorting(ui: PlanUI) -> None:
    frame, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "", "Năm", True)
    assert list(frame["Năm"]) == [2030, 2026, 2026]
    frame, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "", "Đơn vị chủ trì", False)
    assert list(frame["Đơn vị chủ trì"]) == [
        "Phòng Kinh tế",
        "Phòng Văn hóa - Xã hội",
        "Trung tâm Phục vụ hành chính công",
    ]
    frame, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "", "Đơn vị phối hợp", True)
    assert list(frame["Đơn vị phối hợp"])[-1] == ""  # empty cells stay last
    plan_order, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "", "", False)
    reverse, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "", "", True)
    assert list(reverse["Nội dung"]) == list(plan_order["Nội dung"])[::-1]


def test_upload_of_a_scan_shows_its_pages_and_warnings(ui: PlanUI, fake_services: Any, tmp_path: Path) -> None:
    warning = "Bản quét khó đọc ở trang 2 (55%): nên kiểm tra lại nội dung các trang này."
    fake_services.ingestor.results = {
        "scan.pdf": SimpleNamespace(status="added", error=None, chunks_added=9, records=14, scanned_pages=3,
                                    warnings=[warning]),
    }
    calls: list[tuple[tuple[int, int], str]] = []
    html = ui.upload([str(tmp_path / "scan.pdf")], progress=lambda value, desc="", unit="": calls.append((value, desc)))
    assert f"⚠ {warning}" in html
    assert [value for value, desc in calls if "OCR" in desc] == [(1, 3), (2, 3), (3, 3)]
