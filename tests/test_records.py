"""Records from the five real plans (counts and rows checked by reading them), a .docx plan with a
real table, a layout not seen in the corpus, and odd input."""

from __future__ import annotations

import random
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from corpus import HA_DONG, HOA_DIEN, PHUOC_AN, PLANS, VINH_THUAN, VU_QUANG

from core.model import FactKind, ParsedDocument, PlanMetadata, Record, SourceLine
from core.normalize import normalize_line
from ingest.parse import parse_file
from ingest.records import extract_records

VHXH = "Phòng Văn hóa - Xã hội"
KT = "Phòng Kinh tế"
HCC = "Trung tâm Phục vụ hành chính công"
VP = "Văn phòng HĐND và UBND"
ALL_UNITS = "Các phòng, ban, ngành xã"
VILLAGES = "Các thôn, ấp"


@cache
def all_facts_of(stem: str) -> tuple[Record, ...]:
    return tuple(extract_records(parse_file(PLANS / f"{stem}.txt")))




def records_of(stem: str) -> tuple[Record, ...]:
    """The table rows and assigned duties (the facts read from prose are tested in tests/test_facts.py)."""
    return tuple(r for r in all_facts_of(stem) if is_row_or_duty(r))


def is_row_or_duty(record: Record) -> bool:
    return record.is_table_row or record.kind is FactKind.DUTY


def find(stem: str, kind: str, line_start: int) -> Record:
    [record] = [r for r in records_of(stem) if r.kind == kind and r.line_start == line_start]
    return record


def names(units: list) -> list[str]:
    return [u.name for u in units]


def make_doc(text: str, commune: str | None = "Thử") -> ParsedDocument:
    raws = text.splitlines()
    lines = [SourceLine(no=i + 1, text=normalize_line(raw), raw=raw) for i, raw in enumerate(raws)]
    return ParsedDocument("thu", "thu.txt", "0", lines, [() for _ in lines], PlanMetadata(commune=commune))


# --- counts per plan and kind ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "counts"),
    [
        (HA_DONG, {"schedule": 63, "kpi": 28, "duty": 28}),
        (HOA_DIEN, {"duty": 13}),
        (PHUOC_AN, {"target": 40, "duty": 9}),
        (VINH_THUAN, {"indicator": 15, "duty": 21}),
        (VU_QUANG, {"target": 27, "task": 19, "duty": 57}),
    ],
)
def test_record_counts(stem: str, counts: dict[str, int]) -> None:
    assert Counter(r.kind for r in records_of(stem)) == counts


@pytest.mark.parametrize(
    ("stem", "group", "count"),
    [
        (PHUOC_AN, "I. Về phát triển hạ tầng (02)", 2),
        (PHUOC_AN, "II. Về Phát triển nguồn lực (04)", 4),
        (PHUOC_AN, "III. Về Phát triển khoa học, công nghệ (01)", 1),
        (PHUOC_AN, "IV. Về phát triển hệ sinh thái đổi mới sáng tạo (03)", 3),
        (PHUOC_AN, "V. Về phát triển chuyển đổi số", 30),
        (VINH_THUAN, "I. THỂ CHẾ", 3),
        (VINH_THUAN, "II. VỐN CON NGƯỜI VÀ NGHIÊN CỨU & PHÁT TRIỂN", 2),
        (VINH_THUAN, "III. CƠ SỞ HẠ TẦNG", 3),
        (VINH_THUAN, "IV. TRÌNH ĐỘ PHÁT TRIỂN CỦA THỊ TRƯỜNG", 1),
        (VINH_THUAN, "V. TRÌNH ĐỘ PHÁT TRIỂN CỦA DOANH NGHIỆP", 1),
        (VINH_THUAN, "VI. TÁC ĐỘNG", 5),
        (HA_DONG, "II. CƠ CẤU BỘ CHỈ SỐ", 5),
        (HA_DONG, "1. Nhóm 1: Nhận thức, điều hành (15 điểm)", 4),
        (HA_DONG, "2. Nhóm 2: Hạ tầng số, dữ liệu (20 điểm)", 5),
        (HA_DONG, "3. Nhóm 3: Ứng dụng trong quản lý nhà nước (20 điểm)", 4),
        (HA_DONG, "4. Nhóm 4: Đổi mới sáng tạo trong kinh tế - xã hội (30 điểm)", 6),
        (HA_DONG, "5. Nhóm 5: Người dân, doanh nghiệp tham gia (15 điểm)", 4),
    ],
)
def test_rows_per_table_group(stem: str, group: str, count: int) -> None:
    assert sum(group in r.group_path for r in records_of(stem) if r.kind != "duty") == count


def test_schedule_rows_per_year() -> None:
    years = Counter(r.year for r in records_of(HA_DONG) if r.kind == "schedule")
    assert years == {2026: 16, 2027: 12, 2028: 12, 2029: 12, 2030: 11}


def test_task_rows_per_group() -> None:
    groups = Counter(r.group_path[0][:4] for r in records_of(VU_QUANG) if r.kind == "task")
    assert groups == {"I. N": 11, "II. ": 3, "III.": 2, "IV. ": 3}


# --- flattened PDF tables ---------------------------------------------------------------------------------


def test_pii_row_with_a_lead_split_over_lines() -> None:
    record = find(VINH_THUAN, "indicator", 317)
    assert record.row_no == "3" and record.group_path == ["I. THỂ CHẾ"]
    assert record.subject.startswith("Cải cách hành chính: Thực hiện theo Kế hoạch của Ủy ban nhân dân tỉnh")
    assert record.subject.endswith("Chỉ số hiệu quả quản trị và hành chính công cấp huyện (PAPI).")
    assert names(record.leads) == [VHXH, HCC]
    assert [u.written for u in record.leads] == [
        "Phòng Văn hóa - Xã hội",
        "Trung tâm Phục vụ hành chính công",
    ]
    assert names(record.partners) == [ALL_UNITS]
    assert record.commune == "Vĩnh Thuận"


def test_pii_row_continued_after_a_repeated_page_header() -> None:
    record = find(VINH_THUAN, "indicator", 501)
    assert record.row_no == "2" and record.group_path == ["VI. TÁC ĐỘNG"]
    assert record.subject.startswith("Tốc độ giảm nghèo: Thực hiện mục tiêu giảm nghèo đa chiều")
    assert "nâng cao chất lượng cuộc sống, thoát khỏi tình trạng nghèo" in record.subject
    assert record.subject.endswith("nhân rộng các mô hình giảm nghèo.")
    assert "STT" not in record.subject and "Đơn vị chủ trì" not in record.subject
    assert names(record.leads) == [KT] and names(record.partners) == [ALL_UNITS]
    assert record.line_end == 527


@pytest.mark.parametrize(
    ("line", "subject", "leads"),
    [
        (289, "Thiết chế pháp lý và an ninh trật tự; Chính sách hỗ trợ doanh nghiệp: Thực hiện theo", [KT]),
        (343, "Tham gia các khóa đào tạo, bồi dưỡng nâng cao nhận thức trách nhiệm", [VHXH]),
        (394, "Quản trị điện tử: Đẩy mạnh nghiên cứu, đề xuất các giải pháp cải thiện", [HCC]),
        (
            444,
            "Vay tài chính vi mô/GRDP: Tham mưu các chính sách tín dụng",
            [KT, "Ngân hàng Chính sách xã hội"],
        ),
        (564, "Chỉ số phát triển con người: Tập trung thực hiện có hiệu quả", [KT, VHXH]),
    ],
)
def test_pii_rows(line: int, subject: str, leads: list[str]) -> None:
    record = find(VINH_THUAN, "indicator", line)
    assert record.subject.startswith(subject)
    assert names(record.leads) == leads


def test_target_row_values_by_year() -> None:
    record = find(VU_QUANG, "target", 809)
    assert record.subject == "Tỷ lệ phủ sóng 5G trên địa bàn"
    assert record.targets == {
        "2026": "≥ 60%",
        "2030": "100%",
        "2035": "6G (50%)",
        "2040": "6G (80%)",
        "2045": "6G (100%)",
    }
    assert names(record.leads) == [VHXH]


@pytest.mark.parametrize(
    ("line", "row_no", "targets", "leads"),
    [
        (834, "3", ["65%", "≥ 90%", "≥ 98%", "≥ 98%", "≥ 98%"], ["Ngân hàng Nhà nước chi nhánh Khu vực"]),
        (844, "4", ["70%", "≥ 95%", "≥ 98%", "≥ 100%", "≥ 100%"], [VHXH]),
        (846, "5", ["≥ 1,0%", "≥ 1,5%", "≥ 2%", "≥ 2,5%", "≥ 3%"], [KT]),
        (852, "6", ["đạt 2% GRDP"] + ["đạt 3% GRDP"] * 4, [VHXH]),
        (896, "10", ["ứng dụng"] * 5, [VHXH]),
        (898, "11", ["≥ 75%"] + ["100%"] * 4, [VP, HCC]),
        (1016, "19", ["≥ 70%", "≥ 80%", "≥ 90%", "100%", "100%"], ["Công an xã"]),
        (1024, "21", ["15% GRDP", "20% GRDP", "30% GRDP", "45% GRDP", "50% GRDP"], [KT]),
    ],
)
def test_target_rows(line: int, row_no: str, targets: list[str], leads: list[str]) -> None:
    record = find(VU_QUANG, "target", line)
    assert record.row_no == row_no
    assert list(record.targets.values()) == targets
    assert list(record.targets) == ["2026", "2030", "2035", "2040", "2045"]
    assert names(record.leads) == leads


def test_sub_rows_inherit_their_parents_lead() -> None:
    parent = find(VU_QUANG, "target", 938)
    assert parent.row_no == "15" and parent.targets == {}
    assert [u.written for u in parent.leads] == ["Văn phòng HĐND-UBND", "TT HCC xã"]
    subs = [r for r in records_of(VU_QUANG) if (r.row_no or "").startswith("15.")]
    assert [r.row_no for r in subs] == ["15.1", "15.2", "15.3", "15.4", "15.5", "15.6"]
    for sub in subs:
        assert names(sub.leads) == [VP, HCC], sub.row_no
        assert len(sub.targets) == 5
    assert subs[3].subject == (
        "Tỷ lệ xử lý văn bản, hồ sơ công việc toàn trình trên môi trường điện tử "
        "của các cơ quan hành chính nhà nước"
    )
    assert subs[1].targets["2035"] == "≥ 95%"


@pytest.mark.parametrize(
    ("line", "row_no", "leads", "partners", "deadline"),
    [
        (1076, "1", [ALL_UNITS, VILLAGES], [VHXH], "Thường xuyên"),
        (1096, "2", [ALL_UNITS, VILLAGES], [VHXH], "Định kỳ hàng năm"),
        (1123, "3", [ALL_UNITS], [VHXH], "Thường xuyên"),
        (
            1148,
            "4",
            [VHXH],
            [
                "Cổng thông tin điện tử xã",
                "Hệ thống thông tin cơ sở",
                "Ủy ban Mặt trận Tổ quốc Việt Nam xã",
                "Các tổ chức chính trị - xã hội",
                ALL_UNITS,
                VILLAGES,
            ],
            "Thường xuyên",
        ),
        (1193, "6", ["Các trường học"], [VHXH], "Thường xuyên"),
        (1233, "8", [VHXH], [ALL_UNITS, VILLAGES], None),
        (1262, "9", [VHXH], [ALL_UNITS, VILLAGES], "Sau khi có văn bản của Trung ương, của tỉnh"),
        (1381, "14", [VP, HCC], [ALL_UNITS], "Thường xuyên"),
        (1426, "16", ["Công an xã"], [ALL_UNITS], "Thường xuyên"),
        (1445, "17", [ALL_UNITS], [VHXH], "Năm 2026 và những năm tiếp theo"),
        (1486, "19", [VHXH], [ALL_UNITS], "Năm 2026 và những năm tiếp theo"),
    ],
)
def test_task_rows(
    line: int, row_no: str, leads: list[str], partners: list[str], deadline: str | None
) -> None:
    record = find(VU_QUANG, "task", line)
    assert record.row_no == row_no
    assert names(record.leads) == leads
    assert names(record.partners) == partners
    assert record.deadline == deadline


def test_task_row_text_is_one_clean_sentence() -> None:
    record = find(VU_QUANG, "task", 1233)
    assert record.subject == (
        "Đề xuất UBND xã đưa kết quả thực hiện Nghị quyết 57-NQ/TW, Nghị quyết 71/NQ-CP, Chương trình hành "
        "động 42-CTr/TU, Chương trình hành động 01-CTr/ĐU vào tiêu chí đánh giá, xếp loại, thi đua, khen "
        "thưởng cán bộ, công chức, viên chức hằng năm"
    )
    assert find(VU_QUANG, "task", 1486).subject == "Đẩy mạnh cải cách hành chính"
    assert find(VU_QUANG, "task", 1486).year == 2026


# --- markdown tables -------------------------------------------------------------------------------------


def test_markdown_target_row() -> None:
    record = find(PHUOC_AN, "target", 64)
    assert record.row_no == "1"
    assert record.group_path == ["2. Mục tiêu cụ thể", "I. Về phát triển hạ tầng (02)"]
    assert record.subject == "Tỉ lệ phủ sóng 5G trên địa bàn"
    assert record.unit_of_measure == "%"
    assert record.targets == {"2026": "≥ 60%"}
    assert [(u.name, u.written) for u in record.leads] == [(VHXH, "Phòng VHXXH")]
    assert record.commune == "Phước An"


def test_markdown_row_split_across_a_page_break() -> None:
    record = find(PHUOC_AN, "target", 70)
    assert record.subject == (
        "Tỉ lệ dân số trưởng thành tiếp cận dịch vụ số trong y tế, giáo dục, bảo hiểm, giao thông"
    )
    assert names(record.leads) == [VHXH, "Trạm Y tế", "Tổ công nghệ số cộng đồng"]
    assert record.targets == {"2026": "≥ 90%"}
    assert (record.line_start, record.line_end) == (70, 74)

    lgsp = find(PHUOC_AN, "target", 102)
    assert lgsp.row_no == "18" and lgsp.line_end == 106
    assert lgsp.subject.endswith("được tích hợp với trực liên thông dữ liệu tỉnh (LGSP)")


@pytest.mark.parametrize(
    ("line", "row_no", "target", "leads"),
    [
        (67, "1", "100%", [VHXH, ALL_UNITS]),
        (69, "3", "100%", [VHXH, "Các trường học"]),
        (78, "1", "≥ 10%", [VHXH]),
        (90, "6", "100%", [HCC]),
        (97, "13", "100%", [VP]),
        (111, "23", "15-17%", [KT]),
        (114, "26", "≥ 95%", ["Ngân hàng Nhà nước chi nhánh Khu vực"]),
        (118, "30", "100%", ["Công an xã"]),
    ],
)
def test_markdown_rows(line: int, row_no: str, target: str, leads: list[str]) -> None:
    record = find(PHUOC_AN, "target", line)
    assert (record.row_no, record.targets, names(record.leads)) == (row_no, {"2026": target}, leads)


# --- tab-separated tables ------------------------------------------------------------------------------


def test_schedule_units_come_from_the_quarters_first_line() -> None:
    rows = [r for r in records_of(HA_DONG) if r.kind == "schedule" and r.year == 2026 and r.quarter == "II"]
    assert len(rows) == 8
    assert rows[0].subject == "Ban hành Kế hoạch triển khai mô hình “Xã đổi mới sáng tạo”"
    assert rows[1].subject == "Thành lập Ban Chỉ đạo, Tổ giúp việc"
    for row in rows[:4]:
        assert names(row.leads) == [VHXH]
        assert names(row.partners) == [VP, ALL_UNITS]
        assert row.deadline == "Quý II/2026"
    for row in rows[4:]:  # a new lead and partner from 'Tổ chức hội nghị triển khai toàn xã' on
        assert names(row.leads) == [VHXH]
        assert names(row.partners) == [VILLAGES, "Trung tâm Dịch vụ sự nghiệp công"]
    assert rows[0].group_path == ["1. Năm 2026 (Giai đoạn khởi động, thiết lập nền tảng)", "Quý II"]


@pytest.mark.parametrize(
    ("year", "quarter", "count", "leads", "partners"),
    [
        (2026, "IV", 4, ["UBND xã"], [ALL_UNITS]),
        (2027, "III", 3, [KT], ["Các hợp tác xã"]),
        (2028, "I", 3, [VHXH], [VP]),
        (2029, "I", 3, [VP], [VHXH]),
        (2029, "II", 3, [HCC], [VILLAGES]),
        (2029, "III", 3, [VHXH], ["Các tổ chức chính trị - xã hội"]),
        (2030, "I", 2, [VHXH], [ALL_UNITS]),
    ],
)
def test_schedule_quarters(
    year: int, quarter: str, count: int, leads: list[str], partners: list[str]
) -> None:
    rows = [r for r in records_of(HA_DONG) if r.kind == "schedule" and (r.year, r.quarter) == (year, quarter)]
    assert len(rows) == count
    assert all(names(r.leads) == leads and names(r.partners) == partners for r in rows)
    assert all(r.deadline == f"Quý {quarter}/{year}" for r in rows)


def test_kpi_rows() -> None:
    weight = find(HA_DONG, "kpi", 436)
    assert (weight.row_no, weight.subject, weight.max_score) == (
        "Nhóm 4",
        "Đổi mới sáng tạo trong kinh tế - xã hội",
        "30 điểm",
    )
    row = find(HA_DONG, "kpi", 473)
    assert (row.row_no, row.subject, row.method, row.max_score) == (
        "5",
        "Thanh toán không tiền mặt",
        "≥ 50% giao dịch",
        "5",
    )
    assert row.group_path == ["4. Nhóm 4: Đổi mới sáng tạo trong kinh tế - xã hội (30 điểm)"]
    assert find(HA_DONG, "kpi", 444).method == "Có/không"


# --- duties in prose ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "per_lead"),
    [
        (
            HOA_DIEN,
            {
                VHXH: 4,
                VP: 2,
                KT: 3,
                "Công an xã": 1,
                HCC: 1,
                "Ủy ban Mặt trận Tổ quốc Việt Nam xã": 1,
                "Các tổ chức chính trị - xã hội": 1,
                VILLAGES: 1,
            },
        ),
        (PHUOC_AN, {ALL_UNITS: 3, VHXH: 4, KT: 1, "Các doanh nghiệp": 1}),
        (VINH_THUAN, {ALL_UNITS: 2, VHXH: 8, KT: 10, "Các trường học": 1}),
        (
            HA_DONG,
            {ALL_UNITS: 2, VHXH: 6, VP: 4, KT: 4, HCC: 4, "Trung tâm Dịch vụ sự nghiệp công": 4, VILLAGES: 5},
        ),
    ],
)
def test_duties_per_lead(stem: str, per_lead: dict[str, int]) -> None:
    leads = Counter(name for r in records_of(stem) if r.kind == "duty" for name in names(r.leads))
    assert leads == per_lead


def test_duty_wrapped_over_a_page_break_is_joined() -> None:
    record = find(HOA_DIEN, "duty", 81)
    assert record.line_end == 83
    assert "ứng dụng khoa học, công nghệ trên hệ thống truyền thanh và các hội nghị của xã" in record.subject
    assert record.group_path == ["V. TỔ CHỨC THỰC HIỆN", "1. Phòng Văn hóa – Xã hội"]
    assert record.row_no == "1"
    assert find(HOA_DIEN, "duty", 109).subject.endswith("các mục tiêu đã đề ra trong năm 2026.")


def test_duty_partners_after_phoi_hop() -> None:
    assert names(find(HOA_DIEN, "duty", 89).partners) == [VHXH]
    assert names(find(HOA_DIEN, "duty", 115).partners) == ["Tổ công nghệ số cộng đồng"]
    record = find(PHUOC_AN, "duty", 210)
    assert names(record.leads) == [VHXH]
    assert names(record.partners) == ["Văn phòng Đảng ủy", ALL_UNITS]


def test_duty_lead_from_chu_tri_sentence() -> None:
    record = find(VU_QUANG, "duty", 717)
    assert record.row_no == "3"
    assert [(u.name, u.written) for u in record.leads] == [(KT, "Phòng kinh tế")]
    assert names(record.partners) == [VHXH, ALL_UNITS, VILLAGES]
    assert record.subject.startswith(
        "Phòng kinh tế chủ trì, phối hợp với Phòng Văn hóa - Xã hội, các cơ quan"
    )


def test_duties_of_wrapped_pdf_prose() -> None:
    duties = [r for r in records_of(VU_QUANG) if r.kind == "duty"]
    inline = find(VU_QUANG, "duty", 165)  # '1.1. Các phòng, ban, ngành đoàn thể, các thôn: Tổ chức …'
    assert names(inline.leads) == [ALL_UNITS, "Các tổ chức chính trị - xã hội", VILLAGES]
    assert inline.subject.startswith(
        "Tổ chức tuyên truyền thường xuyên, sâu rộng nội dung Nghị quyết 57-NQ/TW"
    )
    assert inline.subject.endswith("định kỳ đo lường và công bố kết quả.")
    assert sum(r.row_no == "1.2" for r in duties) == 12
    heads = find(VU_QUANG, "duty", 694)  # under '1. Thủ trưởng … thuộc' + 'xã, các thôn' (a wrapped heading)
    assert names(heads.leads) == [ALL_UNITS, VILLAGES]
    assert heads.deadline == "Trước ngày 20 hằng tháng"
    assert names(find(VU_QUANG, "duty", 496).partners) == ["Sở Khoa học và Công nghệ"]


def test_duty_deadline() -> None:
    record = find(PHUOC_AN, "duty", 200)
    assert (record.deadline, record.year) == ("Hoàn thành trước ngày 31/3/2026", 2026)


# --- record fields ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", [HA_DONG, HOA_DIEN, PHUOC_AN, VINH_THUAN, VU_QUANG])
def test_record_fields(stem: str) -> None:
    records = records_of(stem)
    doc = parse_file(PLANS / f"{stem}.txt")
    raw = {line.no: line.raw for line in doc.lines}
    assert len({r.record_id for r in records}) == len(records)
    for record in records:
        assert record.doc_id == doc.doc_id and record.commune == doc.metadata.commune
        assert record.subject and record.subject == " ".join(record.subject.split())
        assert record.line_start <= record.line_end
        assert record.raw.split("\n")[0] == raw[record.line_start]
        assert record.raw.split("\n")[-1] == raw[record.line_end]
        assert not {u.name for u in record.leads} & {u.name for u in record.partners}
        if record.kind != "kpi":
            assert record.leads, (record.kind, record.line_start)
    assert [r.record_id for r in extract_records(doc) if is_row_or_duty(r)] == [r.record_id for r in records]


# --- other layouts -----------------------------------------------------------------------------------------


def test_docx_plan_with_a_real_table(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for text in ("ỦY BAN NHÂN DÂN", "XÃ AN PHÚ", "KẾ HOẠCH", "Chuyển đổi số năm 2026", "II. NHIỆM VỤ CỤ THỂ"):
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=5)
    header = ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành"]
    rows = [
        ["1", "Số hóa hồ sơ thủ tục hành chính", "TT PVHCC", "Phòng VH-XH; Công an xã", "Quý III/2026"],
        [
            "2",
            "Tuyên truyền chuyển đổi số\ntrên hệ thống truyền thanh",
            "Phòng Văn hóa - Xã hội",
            "Các thôn",
            "Thường xuyên",
        ],
    ]
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    document.add_paragraph("III. TỔ CHỨC THỰC HIỆN")
    document.add_paragraph("1. Phòng Kinh tế")
    document.add_paragraph("- Tham mưu bố trí kinh phí thực hiện Kế hoạch.")
    path = tmp_path / "ke-hoach-an-phu.docx"
    document.save(str(path))

    records = [r for r in extract_records(parse_file(path)) if is_row_or_duty(r)]
    assert [r.kind for r in records] == ["task", "task", "duty"]
    first, second, duty = records
    assert (first.row_no, first.subject, first.deadline, first.quarter, first.year) == (
        "1",
        "Số hóa hồ sơ thủ tục hành chính",
        "Quý III/2026",
        "III",
        2026,
    )
    assert names(first.leads) == [HCC] and names(first.partners) == [VHXH, "Công an xã"]
    assert second.subject == "Tuyên truyền chuyển đổi số trên hệ thống truyền thanh"
    assert (names(second.leads), names(second.partners), second.deadline) == (
        [VHXH],
        [VILLAGES],
        "Thường xuyên",
    )
    assert (duty.subject, names(duty.leads)) == ("Tham mưu bố trí kinh phí thực hiện Kế hoạch.", [KT])
    assert {r.commune for r in records} == {"An Phú"}


UNSEEN = """KẾ HOẠCH
Chuyển đổi số năm 2026

I. NHIỆM VỤ

TT\tNội dung công việc\tCơ quan chủ trì\tCơ quan phối hợp\tThời hạn hoàn thành
1\tXây dựng cơ sở dữ liệu đất đai\tPhòng KT\tVP HĐND-UBND\tTháng 6/2026
2\tRà soát thủ tục hành chính\tTT HCC xã\tCác phòng, ban, ngành\tQuý IV/2026

II. CHỈ TIÊU

| TT | Chỉ tiêu | Năm 2026 | Năm 2030 | Cơ quan chủ trì |
|---|---|---|---|---|
| 1 | Tỷ lệ hộ gia đình có cáp quang | 70% | 95% | Phòng VH-XH |

PHỤ LỤC

STT
Nội dung công việc
Đơn vị chủ trì
Đơn vị phối hợp
Thời hạn

1
Triển khai nền tảng số
quản lý thôn
Phòng Văn hóa - Xã hội
Các thôn
Quý II/2026
2
Tập huấn kỹ năng số cho người
dân
Tổ công nghệ số cộng
đồng
Trung tâm Dịch vụ sự nghiệp
công
Thường xuyên

IV. TỔ CHỨC THỰC HIỆN
1. Công an xã: Bảo đảm an toàn thông tin mạng.
"""


def test_unseen_layouts() -> None:
    records = [r for r in extract_records(make_doc(UNSEEN)) if is_row_or_duty(r)]
    got = [(r.kind, r.row_no, r.subject, names(r.leads), names(r.partners), r.deadline) for r in records]
    assert got == [
        ("task", "1", "Xây dựng cơ sở dữ liệu đất đai", [KT], [VP], "Tháng 6/2026"),
        ("task", "2", "Rà soát thủ tục hành chính", [HCC], [ALL_UNITS], "Quý IV/2026"),
        ("target", "1", "Tỷ lệ hộ gia đình có cáp quang", [VHXH], [], None),
        ("task", "1", "Triển khai nền tảng số quản lý thôn", [VHXH], [VILLAGES], "Quý II/2026"),
        (
            "task",
            "2",
            "Tập huấn kỹ năng số cho người dân",
            ["Tổ công nghệ số cộng đồng"],
            ["Trung tâm Dịch vụ sự nghiệp công"],
            "Thường xuyên",
        ),
        ("duty", "1", "Bảo đảm an toàn thông tin mạng.", ["Công an xã"], [], None),
    ]
    assert records[2].targets == {"2026": "70%", "2030": "95%"}
    assert records[0].group_path == ["I. NHIỆM VỤ"] and records[0].year == 2026
    assert {r.commune for r in records} == {"Thử"}


def test_a_plan_without_tables_yields_only_duties() -> None:
    text = "V. TỔ CHỨC THỰC HIỆN\n\n1. Phòng Kinh tế\n\n- Tham mưu kinh phí.\n\n- Hướng dẫn hợp tác xã.\n"
    records = extract_records(make_doc(text, commune=None))
    assert [(r.kind, r.subject, names(r.leads)) for r in records] == [
        ("duty", "Tham mưu kinh phí.", [KT]),
        ("duty", "Hướng dẫn hợp tác xã.", [KT]),
    ]
    assert records[0].commune is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "STT\nNhiệm vụ\nĐơn vị chủ trì\n",
        "STT\tNhiệm vụ\tĐơn vị chủ trì\n",
        "| STT | Nhiệm vụ | Đơn vị chủ trì |\n|---|---|---|\n| | | |\n| 1 |\n",
        "1. Phòng Kinh tế:\n- \n+ thêm\nTỔ CHỨC THỰC HIỆN\n- Các thôn\n",
        "TT Chỉ tiêu Năm 2026 Cơ quan chủ trì\n1\n2\nI\n1.1\n",
    ],
)
def test_odd_input_does_not_crash(text: str, caplog: pytest.LogCaptureFixture) -> None:
    for record in extract_records(make_doc(text)):
        assert record.subject
    assert not caplog.records  # no extractor failed (failures are logged, not raised)


def test_shuffled_corpus_lines_do_not_crash(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(7)
    stems = (VU_QUANG, HA_DONG, PHUOC_AN, VINH_THUAN)
    lines = [line.raw for stem in stems for line in parse_file(PLANS / f"{stem}.txt").lines]
    for _ in range(10):
        extract_records(make_doc("\n".join(rng.sample(lines, 300))))
    assert not caplog.records
