"""UI handlers over stand-in services: what an officer sees for each service result."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gradio.context import LocalContext
from openpyxl import load_workbook

from assistant.qa.types import Answer
from assistant.records_query import CSV_HEADERS
from ui import app as ui_app
from ui import render
from ui.app import ALL, FAVICON, RECORD_COLUMNS, PlanUI, build_ui, mount_ui
from ui.theme import HEAD


@pytest.fixture()
def ui(fake_services: Any, monkeypatch: pytest.MonkeyPatch) -> PlanUI:
    monkeypatch.setattr(ui_app, "STREAM_SECONDS", 0.0)
    return PlanUI(fake_services)


def run(ui: PlanUI, question: str, chat: list | None = None, history: list | None = None, commune: str = ALL):
    return list(ui.answer(question, chat, history, commune))


def test_answer_streams_then_shows_source_cards(ui: PlanUI, fake_services: Any) -> None:
    steps = run(ui, "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?")
    answer = fake_services.qa.answer.answer
    texts = [chat[1]["content"] for chat, _ in steps[1:-1]]
    assert steps[0][0][1]["content"].startswith("_Đang tìm")  # shown while the service works
    assert len(texts) > 3 and all(answer.startswith(t) for t in texts)  # progressive prefixes
    assert [len(t) for t in texts] == sorted(len(t) for t in texts)
    chat, history = steps[-1]
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


def test_source_cards_are_named_per_answer(ui: PlanUI, fake_services: Any, source_factory: Any) -> None:
    fake_services.qa.answer = Answer(
        answer="Chủ trì [2], phối hợp [1].",
        found=True,
        sources=[source_factory(f"Đoạn {i}") for i in (1, 2, 3)],
    )
    chat, history = run(ui, "Câu một?")[-1]
    chat, _ = run(ui, "Câu hai?", chat, history)[-1]
    assert chat[1]["content"] == chat[4]["content"] == "Chủ trì [2], phối hợp [1]."  # links: in the browser
    first, second = chat[2]["content"].value, chat[5]["content"].value
    ids = re.findall(r'<details class="pa-src" id="([^"]+)"', first + second)
    assert ids[:3] == ["pa-a2-src-2", "pa-a2-src-1", "pa-a2-src-3"]  # cited first, the third folded
    assert len(ids) == len(set(ids)) == 6
    assert 'data-pa-answer="pa-a2"' in first and 'data-pa-answer="pa-a5"' in second
    assert "Các đoạn liên quan khác (1)" in first


def test_follow_up_passes_history_and_commune(ui: PlanUI, fake_services: Any) -> None:
    chat, history = run(ui, "Ai chủ trì chỉ số Hạ tầng số?")[-1]
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
    chat, _ = run(ui, "Tỷ lệ hộ nghèo năm 2050?")[-1]
    assert chat[1]["content"].startswith("Không tìm thấy")
    hint = chat[2]["content"].value
    assert "Gợi ý" in hint and "Vĩnh Thuận (An Giang)" in hint and "Vũ Quang (Hà Tĩnh)" in hint
    assert "Các đoạn gần nhất (không chứa câu trả lời) (1)" in hint and "Nguồn trích dẫn" not in hint


def test_empty_and_failing_questions(ui: PlanUI, fake_services: Any) -> None:
    assert run(ui, "   ") == []
    assert ui.take("   ") == ("", "") and ui.waiting_text("") == ""  # nothing queued
    fake_services.qa.ask = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    chat, history = run(ui, "Câu hỏi")[-1]
    assert "đã có lỗi" in chat[-1]["content"] and "boom" not in chat[-1]["content"]
    assert chat[0]["content"] == "Câu hỏi" and history == []  # the question stays in the chat, to resend


def test_question_is_taken_once_and_one_sent_while_streaming_waits_its_turn(ui: PlanUI) -> None:
    assert ui.take("  Câu thứ nhất?  ") == ("", "Đang chờ trả lời 1 câu hỏi (theo thứ tự): “Câu thứ nhất?”.")
    loop = ui.answer_waiting([], [], ALL)
    first = [next(loop) for _ in range(3)]  # streaming the first answer
    # the loop writes chat, its state copy, history and the waiting line, never the input box
    assert all(len(step) == 4 and step[0] is step[1] for step in first)
    assert ui.take("Câu thứ hai?")[0] == ""  # sent mid-stream: taken, the box cleared once
    assert list(ui.answer_waiting([], [], ALL)) == [(gr.skip(),) * 4]  # its own loop leaves it to this one
    steps = [*first, *loop]
    assert "Câu thứ hai" in steps[3][3]  # the waiting line shows it while the first answer streams
    chat, state, history, line = steps[-2]
    assert [m["content"] for m in chat if m["role"] == "user"] == ["Câu thứ nhất?", "Câu thứ hai?"]
    assert [m["content"] for m in history if m["role"] == "user"] == ["Câu thứ nhất?", "Câu thứ hai?"]
    assert steps[-1][3] == "" and ui.waiting_text("") == ""
    assert ui.take("Câu thứ ba?")[0] == "" and len(list(ui.answer_waiting(state, history, ALL))) > 2  # a new loop


def test_too_long_question_stays_in_the_box(ui: PlanUI, fake_services: Any) -> None:
    question = "x" * (fake_services.settings.max_question_chars + 1)
    box, line = ui.take(question)
    assert box == question and "quá dài" in line
    assert list(ui.answer_waiting([], [], ALL)) == [(gr.skip(),) * 4]  # the warning stays


def test_new_conversation_drops_waiting_questions_and_stops_the_answer(ui: PlanUI) -> None:
    ui.take("Câu một?")
    ui.take("Câu hai?")
    loop = ui.answer_waiting([], [], ALL)
    next(loop)
    assert ui.clear_chat() == ([], [], [], "")
    assert [step[0] for step in loop] == [gr.skip()]  # nothing more is written into the new chat
    assert ui.waiting_text("") == ""
    ui.forget()
    assert ui._cleared == {} and ui._waiting == {}


def test_chat_events_take_every_question_and_never_write_the_box(fake_services: Any) -> None:
    config = build_ui(fake_services).get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    by_fn: dict[str, list[dict[str, Any]]] = {}
    for dep in config["dependencies"]:  # api names: take, take_1, ...
        by_fn.setdefault(dep["api_name"].rstrip("_0123456789"), []).append(dep)
    takes = by_fn["take"]
    assert len(takes) == 2 and all(d["trigger_mode"] == "multiple" for d in takes)
    assert {t[0] for d in takes for t in d["targets"]} == {ids["qa-input"], ids["qa-send"]}
    loops = by_fn["answer_waiting"]
    assert len(loops) == 3 and all(d["trigger_mode"] == "multiple" for d in loops)
    assert all(ids["qa-input"] not in d["outputs"] for d in loops)


def test_records_filter_by_unit_and_text(ui: PlanUI) -> None:
    frame, count, csv_path, xlsx_path, _ = ui.filter_records(ALL, ALL, ALL, ALL, "")
    assert list(frame.columns) == RECORD_COLUMNS and len(frame) == 3
    assert "**3** / 3" in count
    frame, count, csv_path, xlsx_path, _ = ui.filter_records(ALL, ALL, "Phòng Văn hóa - Xã hội", ALL, "")
    assert len(frame) == 2 and set(frame["Xã"]) == {"Vĩnh Thuận"}
    frame, *_ = ui.filter_records(ALL, ALL, ALL, ALL, "ha tang so")  # without diacritics
    assert list(frame["Nội dung"]) == ["Hạ tầng số: thực hiện theo kế hoạch chuyển đổi số"]
    frame, *_ = ui.filter_records("Vũ Quang", "target", ALL, "2030", "")
    assert list(frame["Đơn vị chủ trì"]) == ["Phòng Kinh tế"]
    frame, count, csv_path, xlsx_path, cards = ui.filter_records("Vũ Quang", "task", ALL, ALL, "")
    assert frame.empty and "Không có bản ghi" in count and csv_path is None and xlsx_path is None
    assert cards == ""


def test_a_new_draft_scrolls_its_preview_into_view(fake_services: Any) -> None:
    """After "Soạn dự thảo" (and only then) the page runs the script that scrolls to the preview."""
    config = build_ui(fake_services).get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    deps = config["dependencies"]
    draft = next(d for d in deps if [ids["draft-go"], "click"] in map(list, d["targets"]))
    scrolls = [d for d in deps if d.get("js") == ui_app.SHOW_PREVIEW_JS]
    assert len(scrolls) == 1 and scrolls[0]["trigger_after"] == draft["id"]
    assert "pa-draft-preview" in ui_app.SHOW_PREVIEW_JS and "scrollIntoView" in ui_app.SHOW_PREVIEW_JS


def test_records_as_cards_for_phones(ui: PlanUI) -> None:
    """One card per row, in the table's order: content, lead and partner units, deadline, commune."""
    frame, _, _, _, cards = ui.filter_records(ALL, ALL, "Phòng Văn hóa - Xã hội", ALL, "", "Nội dung", False)
    items = re.findall(r'<li class="pa-rec-card">(.*?)</li>', cards)
    assert len(items) == len(frame) == 2
    for item, (_, row) in zip(items, frame.iterrows(), strict=True):
        assert html.escape(row["Nội dung"]) in item
        lead = re.search(r'<dd class="pa-rec-lead">(.*?)</dd>', item)
        assert lead and lead.group(1) == html.escape(row["Đơn vị chủ trì"])
        assert f'<dd class="pa-rec-commune">{row["Xã"]}</dd>' in item
        assert f'<dd class="pa-rec-deadline">{row["Thời gian"]}</dd>' in item
    assert '<dd class="pa-rec-partners">Phòng Văn hóa - Xã hội</dd>' in items[1]  # "Quản trị …" after "Hạ tầng …"
    assert '<dd class="pa-rec-partners">—</dd>' in items[0]


def test_record_cards_escape_and_stop_at_a_limit() -> None:
    row = {"Xã": "Vĩnh Thuận", "Loại": "Nhiệm vụ", "Nội dung": "<script>x</script>", "Đơn vị chủ trì": "A & B",
           "Đơn vị phối hợp": "", "Thời gian": "", "Năm": 2026}
    cards = render.record_cards_html([row], 1)
    assert "<script>" not in cards and "&lt;script&gt;" in cards and "A &amp; B" in cards
    assert '<dd class="pa-rec-deadline">2026</dd>' in cards  # no deadline: the year
    many = render.record_cards_html([row] * (render.RECORD_CARDS_MAX + 5), render.RECORD_CARDS_MAX + 5)
    assert many.count("<li") == render.RECORD_CARDS_MAX and f"trên tổng số {render.RECORD_CARDS_MAX + 5}" in many


def test_records_downloads(ui: PlanUI) -> None:
    _, _, csv_path, xlsx_path, _ = ui.filter_records(ALL, ALL, "Phòng Văn hóa - Xã hội", ALL, "")
    text = Path(csv_path).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # Excel reads the diacritics
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "Xã" in rows[0] and len(rows) == 3
    sheet = load_workbook(xlsx_path).active
    assert [c.value for c in sheet[1]] == rows[0] == list(CSV_HEADERS)  # the same columns in both
    assert sheet.max_row == 3 and sheet["C2"].value == "Vĩnh Thuận"
    cells = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells == rows[1:]


def test_exports_do_not_run_formulas(ui: PlanUI, fake_services: Any) -> None:
    record = fake_services.store.snapshot.records[0]
    record.subject = '=HYPERLINK("http://x","bấm")'
    record.leads[0] = type(record.leads[0])("@SUM(A1)", "@SUM(A1)")
    record.deadline = "-2+3"
    _, _, csv_path, xlsx_path, _ = ui.filter_records(ALL, "indicator", ALL, ALL, "")
    rows = list(csv.reader(io.StringIO(Path(csv_path).read_text(encoding="utf-8").lstrip("\ufeff"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Nội dung"] == '\'=HYPERLINK("http://x","bấm")'
    assert row["Đơn vị chủ trì"] == "'@SUM(A1)" and row["Thời gian"] == "'-2+3"
    assert row["Xã"] == "Vĩnh Thuận" and row["Năm"] == "2026"
    sheet = load_workbook(xlsx_path).active
    cells = {h.value: c for h, c in zip(sheet[1], sheet[2], strict=True)}
    assert cells["Nội dung"].value == row["Nội dung"] and cells["Nội dung"].data_type == "s"
    assert cells["Đơn vị chủ trì"].value == "'@SUM(A1)" and cells["Thời gian"].value == "'-2+3"
    assert cells["Năm"].value == 2026  # numbers stay numbers


def test_download_names_follow_the_filter(ui: PlanUI) -> None:
    _, _, csv_path, xlsx_path, _ = ui.filter_records("Vĩnh Thuận", ALL, ALL, "2026", "")
    assert Path(csv_path).name == "phan-cong-vinh-thuan-2026.csv"
    assert Path(xlsx_path).name == "phan-cong-vinh-thuan-2026.xlsx"
    _, _, csv_path, xlsx_path, _ = ui.filter_records(ALL, ALL, ALL, ALL, "")
    assert Path(xlsx_path).name == "phan-cong-tat-ca.xlsx" and Path(csv_path).name == "phan-cong-tat-ca.csv"


def update_props(component: Any) -> dict[str, Any]:
    """What a component returned by a handler updates (in an event, Gradio keeps only these)."""
    return {k: v for args in component._constructor_args for k, v in args.items()}


def test_choosing_a_commune_narrows_kind_unit_and_year(ui: PlanUI) -> None:
    token = LocalContext.in_event_listener.set(True)  # as in a running event: updates, not components
    try:
        kind, unit, year, frame, *_ = ui.choose_commune("Vũ Quang", ALL, "Phòng Văn hóa - Xã hội", ALL, "")
        kept = ui.choose_commune("Vĩnh Thuận", "task", "Phòng Văn hóa - Xã hội", "2026", "")
    finally:
        LocalContext.in_event_listener.reset(token)
    assert update_props(unit)["choices"] == [ALL, "Phòng Kinh tế"] and update_props(unit)["value"] == ALL
    assert update_props(kind)["choices"] == [(ALL, ALL), ("Chỉ tiêu", "target")]
    assert update_props(year)["choices"] == [ALL, "2030"]
    assert list(frame["Xã"]) == ["Vũ Quang"]  # the unit no longer offered is no longer applied
    assert [update_props(c)["value"] for c in kept[:3]] == ["task", "Phòng Văn hóa - Xã hội", "2026"]
    assert list(kept[3]["Nội dung"]) == ["Quản trị điện tử"]  # still offered, still applied


def test_reset_button_clears_every_filter(ui: PlanUI, fake_services: Any) -> None:
    commune, kind, unit, year, text, sort, desc, frame, count, csv_path, xlsx_path, cards = ui.reset_records()
    assert (commune.value, kind.value, unit.value, year.value, text, sort, desc) == (ALL, ALL, ALL, ALL, "", "", False)
    assert len(frame) == 3 and Path(xlsx_path).name == "phan-cong-tat-ca.xlsx" and cards.count("<li") == 3
    assert ("Phòng Kinh tế", "Phòng Kinh tế") in unit.choices
    config = build_ui(fake_services).get_config_file()
    assert any(c.get("props", {}).get("value") == "Xóa bộ lọc" for c in config["components"])


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


def test_a_file_that_is_no_plan_is_kept_out_until_the_officer_confirms(
    ui: PlanUI, fake_services: Any, tmp_path: Path
) -> None:
    refused = SimpleNamespace(status="failed", error="Tệp không giống một kế hoạch … (force=true)",
                              code="not_a_plan", chunks_added=0, records=0)
    fake_services.ingestor.results = {"cong-thuc.txt": refused}
    html = ui.upload([str(tmp_path / "cong-thuc.txt")])
    assert "không giống một kế hoạch" in html and "đánh dấu ô «Xác nhận nạp cả tệp không giống kế hoạch»" in html
    assert "force=true" not in html  # the API's wording is not shown to the officer
    fake_services.ingestor.results = {"cong-thuc.txt": SimpleNamespace(
        status="added", error=None, chunks_added=3, records=0)}
    assert "✓ <b>cong-thuc.txt</b>" in ui.upload([str(tmp_path / "cong-thuc.txt")], force=True)
    assert fake_services.ingestor.forced == [False, True]


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


def test_page_is_vietnamese_and_has_an_icon(fake_services: Any) -> None:
    assert 'document.documentElement.lang = "vi"' in HEAD and 'rel="icon"' in HEAD
    app = FastAPI()
    mount_ui(app, fake_services)
    with TestClient(app) as client:
        assert 'document.documentElement.lang = "vi"' in client.get("/ui/config").json()["head"]
        for path in ("/favicon.ico", "/ui/favicon.ico"):
            icon = client.get(path)
            assert icon.status_code == 200 and icon.content == FAVICON.read_bytes(), path


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


def test_upload_card_shows_the_parsed_metadata_and_keeps_a_correction(
    ui: PlanUI, fake_services: Any, tmp_path: Path
) -> None:
    from assistant.indexing import check_corrections

    documents = fake_services.store.snapshot.documents
    fake_services.ingestor.results = {"vt.txt": SimpleNamespace(
        status="added", error=None, chunks_added=3, records=2, doc_id="vt")}
    saved: list[dict[str, Any]] = []

    def correct(doc_id: str, changes: dict[str, Any]) -> Any:
        checked = check_corrections(changes)  # the service's own checks
        saved.append(checked)
        doc = documents[doc_id]
        doc.parsed = {name: doc.metadata.get(name) for name in checked}
        doc.corrections = {k: v for k, v in checked.items() if v is not None}
        doc.metadata = {**doc.metadata, **doc.corrections}
        return doc

    fake_services.ingestor.correct_metadata = correct
    html, stored = ui.upload_results([str(tmp_path / "vt.txt")])
    assert "✓" in html and stored == ["vt"]
    group, info, pick, commune, province, plan_type, number, date, signer, message = ui.card("vt")
    assert group.visible and pick.value == "vt"
    assert (commune, province, plan_type.value, date) == ("Vĩnh Thuận", "An Giang", "pii", "2026")
    assert "Xã: <b>Vĩnh Thuận</b>" in info and "dòng bảng" in info and "2 dữ kiện" in info

    out = ui.save_corrections("vt", "Tân Lập", province, "pii", number, date, signer)
    assert saved == [{"commune": "Tân Lập"}]  # only what changed
    assert "Đã lưu chỉnh sửa (xã)" in out[-1] and out[3] == "Tân Lập"
    assert "đọc được từ tệp: Vĩnh Thuận" in out[1]
    assert "Không có thay đổi" in ui.save_corrections("vt", "Tân Lập", province, "pii", number, date, signer)[-1]
    bad = ui.save_corrections("vt", "Tân Lập", province, "pii", number, "31/2/2026", signer)[-1]
    assert "pa-err" in bad and "không có thật" in bad

    fake_services.settings.api_keys = ["k"]  # with keys, no session: refused, nothing saved
    refused = ui.save_corrections("vt", "Hòa Bình", province, "pii", number, date, signer)[-1]
    assert "Đăng nhập bằng khóa API" in refused and len(saved) == 1
