"""The records query API, on hand-made records (no server)."""

from __future__ import annotations

import csv
import io

import pytest

from assistant.records_query import (
    CSV_HEADERS,
    RecordFilter,
    RecordQueryError,
    export_filename,
    export_table,
    normalize_kind,
    query_records,
    safe_cell,
    to_csv,
)
from core.model import Record, UnitRef
from vectorstore.catalog import DocumentRow


def _doc(doc_id: str, commune: str) -> DocumentRow:
    return DocumentRow(doc_id, f"{doc_id}.txt", "", "", {"commune": commune}, "")


DOCS = {"hd": _doc("hd", "Hòa Điền"), "vq": _doc("vq", "Vũ Quang")}
RECORDS = [
    Record(
        "hd",
        "task",
        "Đẩy mạnh dịch vụ công trực tuyến toàn trình",
        10,
        10,
        "raw",
        commune="Hòa Điền",
        leads=[UnitRef("Trung tâm Phục vụ hành chính công", "TT PVHCC")],
        year=2026,
        record_id="r1",
    ),
    Record(
        "hd",
        "target",
        "Tỷ lệ hồ sơ được số hóa",
        20,
        21,
        "raw",
        leads=[UnitRef("Phòng Kinh tế", "Phòng KT")],
        partners=[UnitRef("Phòng Văn hóa - Xã hội", "Phòng VH-XH")],
        targets={"2027": "80%"},
        record_id="r2",
    ),
    Record(
        "vq",
        "duty",
        "Tuyên truyền về chuyển đổi số",
        5,
        5,
        "raw",
        commune="Vũ Quang",
        leads=[UnitRef("Phòng Văn hóa - Xã hội", "Phòng Văn hóa và Xã hội")],
        deadline="Quý II/2026",
        record_id="r3",
    ),
]


def ids(flt: RecordFilter) -> list[str]:
    return [m.record.record_id for m in query_records(RECORDS, DOCS, flt)]


def test_commune_without_diacritics_and_from_the_document() -> None:
    assert ids(RecordFilter(commune="hoa dien")) == ["r1", "r2"]  # r2 has no commune: taken from its plan
    assert ids(RecordFilter(commune="Xã Vũ Quang")) == ["r3"]
    assert ids(RecordFilter(commune="Hòa")) == ["r1", "r2"]
    assert ids(RecordFilter(commune="Điền Hòa")) == []


def test_unit_canonical_or_written_without_diacritics() -> None:
    assert ids(RecordFilter(unit="Phòng VH-XH")) == ["r2", "r3"]  # lead or partner
    assert ids(RecordFilter(unit="phong van hoa xa hoi")) == ["r2", "r3"]
    assert ids(RecordFilter(unit="tt pvhcc")) == ["r1"]
    assert ids(RecordFilter(unit="Phòng Tư pháp")) == []


def test_kind_accepts_vietnamese_labels_and_rejects_unknown() -> None:
    assert normalize_kind("Nhiệm vụ") == "task"
    assert normalize_kind("chi tieu") == "target"
    assert ids(RecordFilter(kind="duty")) == ["r3"]
    with pytest.raises(RecordQueryError, match="không hợp lệ"):
        normalize_kind("cake")


def test_year_from_year_targets_or_deadline() -> None:
    assert ids(RecordFilter(year=2026)) == ["r1", "r3"]
    assert ids(RecordFilter(year=2027)) == ["r2"]


def test_subject_fuzzy_with_or_without_diacritics() -> None:
    assert ids(RecordFilter(q="dich vu cong truc tuyen")) == ["r1"]
    assert ids(RecordFilter(q="dịch vụ công trực tuyến mức độ cao")) == ["r1"]  # most words suffice
    assert ids(RecordFilter(q="so hoa")) == ["r2"]
    assert ids(RecordFilter(q="xây dựng cầu đường")) == []


def test_filters_combine() -> None:
    assert ids(RecordFilter(commune="hoa dien", unit="Phòng Văn hóa - Xã hội")) == ["r2"]
    assert ids(RecordFilter(commune="vu quang", kind="task")) == []


def test_csv_has_bom_vietnamese_headers_and_one_row_per_record() -> None:
    text = to_csv(query_records(RECORDS, DOCS))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Mã kế hoạch", "Tệp", "Xã", "Loại"]
    assert len(rows) == 4
    assert rows[2][2] == "Hòa Điền" and any("Phòng Văn hóa - Xã hội" in cell for cell in rows[2])


def test_prose_facts_are_filtered_by_kind_and_exported_with_their_own_fields() -> None:
    reference = Record(
        "vq", "reference", "Nghị quyết số 57-NQ/TW", 3, 3, "raw", commune="Vũ Quang", section="Căn cứ",
        attrs={"doc_type": "Nghị quyết", "number": "57-NQ/TW", "issuer": "Bộ Chính trị"}, record_id="r4",
    )  # fmt: skip
    records = [*RECORDS, reference]
    assert [m.record.record_id for m in query_records(records, DOCS, RecordFilter(kind="văn bản được trích dẫn"))] == [
        "r4"
    ]
    rows = list(csv.reader(io.StringIO(to_csv(query_records(records, DOCS, RecordFilter(kind="reference")), bom=False))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Loại"] == "Văn bản được trích dẫn" and row["Mục"] == "Căn cứ"
    assert row["Chi tiết"] == "Loại văn bản: Nghị quyết | Số: 57-NQ/TW | Cơ quan ban hành: Bộ Chính trị"


def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe() -> None:
    for text in ("=1+1", "+7", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Phòng Văn hóa - Xã hội") == "Phòng Văn hóa - Xã hội" and safe_cell(-5) == -5
    record = Record("hd", "task", '=HYPERLINK("http://x")', 1, 1, "raw", commune="@Hòa Điền", record_id="r9")
    rows = list(csv.reader(io.StringIO(to_csv(query_records([record], DOCS), bom=False))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Nội dung"] == '\'=HYPERLINK("http://x")' and row["Xã"] == "'@Hòa Điền"


def test_export_table_is_the_csv() -> None:
    matches = query_records(RECORDS, DOCS)
    headers, rows = export_table(matches)
    assert headers == list(CSV_HEADERS) and len(rows) == 3
    assert rows[0][headers.index("Năm")] == 2026  # a number for Excel
    parsed = list(csv.reader(io.StringIO(to_csv(matches, bom=False))))
    assert parsed == [headers, *([str(c) for c in row] for row in rows)]


def test_export_filename_follows_the_filter_without_diacritics() -> None:
    assert export_filename(RecordFilter(commune="Vĩnh Thuận", year=2026), "xlsx") == "phan-cong-vinh-thuan-2026.xlsx"
    assert export_filename(RecordFilter(commune="Xã Hòa Điền"), "csv") == "phan-cong-hoa-dien.csv"
    assert export_filename(RecordFilter(), "csv") == "phan-cong-tat-ca.csv"
    assert export_filename(RecordFilter(kind="target", unit="Phòng Kinh tế"), "csv") == "phan-cong-chi-tieu-phong-kinh-te.csv"
    assert export_filename(RecordFilter(q="chuyển đổi số"), "csv") == "phan-cong-loc.csv"
    assert len(export_filename(RecordFilter(unit="Đơn vị " * 40), "csv")) <= 84
