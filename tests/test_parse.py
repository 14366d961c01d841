"""Parsing: the metadata of the five real plans (every value checked by reading the file), section
paths, heading levels and document ids."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from corpus import HA_DONG, HOA_DIEN, PHUOC_AN, PLANS, VINH_THUAN, VU_QUANG

from core.model import ParsedDocument
from ingest.parse import document_id, heading_level, parse_file, plan_type_of, section_label


@cache
def doc(stem: str) -> ParsedDocument:
    return parse_file(PLANS / f"{stem}.txt")


def line_no(stem: str, startswith: str) -> int:
    """The number of the first raw line that starts with the given text (to find lines by reading)."""
    for no, raw in enumerate((PLANS / f"{stem}.txt").read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip().startswith(startswith):
            return no
    raise AssertionError(f"{startswith!r} not in {stem}")


def section_of(stem: str, no: int) -> tuple[str, ...]:
    d = doc(stem)
    [index] = [i for i, line in enumerate(d.lines) if line.no == no]
    return d.sections[index]


# --- metadata ---------------------------------------------------------------------------------------

# (commune, province, number, date, plan_type, signer, signer_role)
EXPECTED = {
    # 'Số: /KH-UBND', 'Hà Đông, ngày tháng 05 năm 2026', signed 'TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH /
    # PHÓ CHỦ TỊCH / Lê Văn Đạt'; the province is named as 'thành phố Hải Phòng'
    HA_DONG: ("Hà Đông", "Hải Phòng", None, "tháng 5 năm 2026", "innovative", "Lê Văn Đạt", "Phó Chủ tịch"),
    # 'Số: 128 /KH-UBND', 'Hòa Điền, ngày 20 tháng 5 năm 2026', '**KT. CHỦ TỊCH / PHÓ CHỦ TỊCH**'
    HOA_DIEN: ("Hòa Điền", "An Giang", "128/KH-UBND", "20/5/2026", "pii", "Hồ Thành Trương", "Phó Chủ tịch"),
    # 'Số: /KH-UBND', 'Phước An, ngày tháng năm 2026', 'CHỦ TỊCH / Huỳnh Minh Đức'
    PHUOC_AN: ("Phước An", "Đồng Nai", None, "năm 2026", "nq57", "Huỳnh Minh Đức", "Chủ tịch"),
    # no header block; the appendix says 'Kèm theo Kế hoạch số /KH-UBND ngày tháng 02 năm 2026'
    VINH_THUAN: ("Vĩnh Thuận", "An Giang", None, "tháng 2 năm 2026", "pii", "Nguyễn Thanh Trung", "Phó Chủ tịch"),
    # 'Số: /KH-UBND Vũ Quang, ngày tháng 01 năm 2026'
    VU_QUANG: ("Vũ Quang", "Hà Tĩnh", None, "tháng 1 năm 2026", "nq57", "Trần Văn Trà", "Phó Chủ tịch"),
}


@pytest.mark.parametrize("stem", list(EXPECTED))
def test_plan_metadata(stem: str) -> None:
    meta = doc(stem).metadata
    got = (meta.commune, meta.province, meta.number, meta.date, meta.plan_type, meta.signer, meta.signer_role)
    assert got == EXPECTED[stem]


@pytest.mark.parametrize(
    ("stem", "title"),
    [
        (HA_DONG, "Triển khai mô hình “Xã Hà Đông đổi mới sáng tạo” giai đoạn 2026 – 2030"),
        (
            HOA_DIEN,
            "Triển khai thực hiện Cải thiện và nâng cao Chỉ số đổi mới sáng tạo năm 2026 trên địa bàn xã Hòa Điền",
        ),
        (
            VINH_THUAN,
            "Cải thiện và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương năm 2026 trên địa bàn xã Vĩnh Thuận",
        ),
        (
            VU_QUANG,
            "Triển khai thực hiện Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển "
            "khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia trên địa bàn xã Vũ Quang năm 2026 "
            "và những năm tiếp theo",
        ),
    ],
)
def test_titles_are_joined_over_wrapped_lines(stem: str, title: str) -> None:
    assert doc(stem).metadata.title == title


def test_phuoc_an_legal_bases() -> None:
    bases = doc(PHUOC_AN).metadata.legal_bases
    assert len(bases) == 5
    assert all(b.startswith("Căn cứ ") for b in bases)
    for number, basis in zip(["57-NQ/TW", "469-KH/TU", "92/KH-UBND", "03-KH/BCĐ", "91/KH-UBND"], bases, strict=True):
        assert number in basis
    assert bases[1] == (
        "Căn cứ Kế hoạch hành động số 469-KH/TU ngày 16/5/2025 của Ban Thường vụ Tỉnh ủy Đồng Nai về thực hiện "
        "Nghị quyết số 57-NQ/TW"
    )
    assert bases[4] == (
        "Căn cứ Kế hoạch số 91/KH-UBND ngày 12/02/2026 của Ủy ban nhân dân tỉnh Đồng Nai triển khai Nghị quyết "
        "số 57-NQ/TW trên địa bàn tỉnh Đồng Nai năm 2026"
    )


def test_vinh_thuan_legal_basis_joins_its_wrapped_lines() -> None:
    assert doc(VINH_THUAN).metadata.legal_bases == [
        "Thực hiện Kế hoạch số 68/KH-UBND ngày 09 tháng 02 năm 2026 của Ủy ban nhân dân tỉnh An Giang về cải thiện "
        "và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương năm 2026 trên địa bàn tỉnh An Giang"
    ]


def test_hoa_dien_legal_basis_stops_before_the_enacting_sentence() -> None:
    [basis] = doc(HOA_DIEN).metadata.legal_bases
    assert basis.startswith("Căn cứ Kế hoạch số 68/KH-UBND ngày 09 tháng 02 năm 2026")
    assert "ban hành Kế hoạch" not in basis


def test_vu_quang_preamble_lists_each_document() -> None:
    bases = doc(VU_QUANG).metadata.legal_bases
    assert [next(n for n in ("71/NQ-CP", "42-CTr/TU", "231/KH-UBND", "01-CTr/ĐU") if n in b) for b in bases] == [
        "71/NQ-CP", "42-CTr/TU", "231/KH-UBND", "01-CTr/ĐU",
    ]
    assert not any("Ủy ban nhân dân xã Vũ Quang ban hành" in b for b in bases)


def test_ha_dong_has_no_legal_basis() -> None:
    assert doc(HA_DONG).metadata.legal_bases == []


@pytest.mark.parametrize(
    ("stem", "recipients"),
    [
        (
            HOA_DIEN,
            ["Sở Khoa học và Công nghệ", "TT.ĐU, TT. HĐND xã (b/c)", "UBND xã", "CT và các PCT. UBND xã (b/c)",
             "Các cơ quan, đơn vị thuộc xã", "Công an xã", "Trưởng các ấp", "Lưu: VT"],
        ),
        (
            HA_DONG,
            ["Sở Nội vụ Thành phố", "Thường trực Đảng ủy xã", "Thường trực HĐND xã",
             "Chủ tịch, các Phó Chủ tịch UBND xã", "Các phòng, cơ quan, đơn vị", "Lưu: VT, VHXXH"],
        ),
        (
            VINH_THUAN,
            ["Sở KH và CN", "CT và các PCT UBND xã", "Các phòng, ban, ngành xã", "Các trường trên địa bàn xã",
             "LĐVP, CVNC", "Lưu: VT"],
        ),
    ],
)
def test_recipients(stem: str, recipients: list[str]) -> None:
    assert doc(stem).metadata.recipients == recipients


def test_recipients_of_phuoc_an_and_vu_quang() -> None:
    assert len(doc(PHUOC_AN).metadata.recipients) == 8
    assert doc(PHUOC_AN).metadata.recipients[-1] == "Lưu: VT, VHXH"
    assert doc(VU_QUANG).metadata.recipients[0] == "Sở KH&CN (b/c)"
    assert "Các thôn" in doc(VU_QUANG).metadata.recipients


def test_metadata_of_an_unknown_layout(tmp_path: Path) -> None:
    text = (
        "ỦY BAN NHÂN DÂN\nXÃ TÂN LẬP\n\nSố: 07/KH-UBND\n\nTân Lập, ngày 3 tháng 4 năm 2026\n\nKẾ HOẠCH\n"
        "Nâng cao Chỉ số đổi mới sáng tạo (PII) năm 2026\n\nCăn cứ Kế hoạch số 12/KH-UBND của UBND tỉnh Lâm Đồng;\n\n"
        "I. MỤC ĐÍCH\nNội dung.\n\nNơi nhận:\n- Như trên;\n- Lưu: VT.\n\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\nPhạm Văn An\n"
    )
    path = tmp_path / "tan-lap.txt"
    path.write_text(text, encoding="utf-8")
    meta = parse_file(path).metadata
    assert (meta.commune, meta.province, meta.number, meta.date) == ("Tân Lập", "Lâm Đồng", "07/KH-UBND", "3/4/2026")
    assert (meta.plan_type, meta.signer, meta.signer_role) == ("pii", "Phạm Văn An", "Chủ tịch")
    assert meta.legal_bases == ["Căn cứ Kế hoạch số 12/KH-UBND của UBND tỉnh Lâm Đồng"]
    assert meta.recipients == ["Như trên", "Lưu: VT"]


@pytest.mark.parametrize("commune", ["Trung Thạnh", "Thành Lợi", "Công Hải", "Văn Giang"])
def test_a_commune_whose_name_starts_like_an_office(tmp_path: Path, commune: str) -> None:
    """'Trung', 'Thành', 'Công', 'Văn' start 'Trung tâm', 'Thành phố' …, and communes' names too."""
    text = (f"Số: /KH-UBND\n\n{commune}, ngày tháng 05 năm 2026\n\nKẾ HOẠCH\n"
            f"Triển khai mô hình “Xã {commune} đổi mới sáng tạo” giai đoạn 2026 – 2030\n\n"
            f"I. MỤC ĐÍCH\nTrung tâm Phục vụ hành chính công xã {commune} hướng dẫn người dân.\n")
    path = tmp_path / "ke-hoach.txt"
    path.write_text(text, encoding="utf-8")
    assert parse_file(path).metadata.commune == commune


def test_a_plan_without_header_or_closing(tmp_path: Path) -> None:
    path = tmp_path / "ghi-chu.txt"
    path.write_text("Một vài ghi chú không có cấu trúc kế hoạch.\nDòng thứ hai.\n", encoding="utf-8")
    meta = parse_file(path).metadata
    assert (meta.number, meta.date, meta.title, meta.signer, meta.plan_type) == (None, None, None, None, None)
    assert meta.legal_bases == [] and meta.recipients == []


@pytest.mark.parametrize(
    ("title", "plan_type"),
    [
        ("Triển khai mô hình “Xã Hà Đông đổi mới sáng tạo” giai đoạn 2026 – 2030", "innovative"),
        ("Triển khai Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị", "nq57"),
        ("Cải thiện và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương năm 2026", "pii"),
        ("Kế hoạch nâng cao chỉ số PII", "pii"),
        ("Kế hoạch phòng chống thiên tai năm 2026", None),
    ],
)
def test_plan_type(title: str, plan_type: str | None) -> None:
    assert plan_type_of(title) == plan_type


# --- sections -------------------------------------------------------------------------------------------


def test_a_duty_line_lies_under_its_unit_heading() -> None:
    no = line_no(HOA_DIEN, "- Cung cấp thông tin, số liệu và tài liệu minh chứng")
    assert section_of(HOA_DIEN, no) == ("V. TỔ CHỨC THỰC HIỆN", "1. Phòng Văn hóa – Xã hội")
    no = line_no(HOA_DIEN, "- Tham mưu bố trí kinh phí")
    assert section_of(HOA_DIEN, no) == ("V. TỔ CHỨC THỰC HIỆN", "3. Phòng Kinh tế")


def test_three_level_sections() -> None:
    no = line_no(HA_DONG, "1.3. Phòng Kinh tế") + 2
    assert section_of(HA_DONG, no) == ("V. TỔ CHỨC THỰC HIỆN", "1. Phân công nhiệm vụ", "1.3. Phòng Kinh tế")
    no = line_no(HA_DONG, "IV. KINH PHÍ") + 2
    assert section_of(HA_DONG, no) == ("IV. KINH PHÍ THỰC HIỆN",)


def test_roman_numerals_with_a_hyphen() -> None:
    no = line_no(PHUOC_AN, "III- GIẢI PHÁP") + 2
    assert section_of(PHUOC_AN, no)[0] == "III- GIẢI PHÁP"


def test_lettered_sub_sections() -> None:
    no = line_no(PHUOC_AN, "b) Chuyển đổi số") + 2
    path = section_of(PHUOC_AN, no)
    assert path[0] == "III- GIẢI PHÁP" and path[-1] == "b) Chuyển đổi số" and len(path) == 3


def test_long_headings_are_shortened() -> None:
    for d in map(doc, EXPECTED):
        assert all(len(label) <= 90 for path in d.sections for label in path)


def test_the_closing_block_is_its_own_section() -> None:
    no = line_no(HOA_DIEN, "- Trưởng các ấp;")
    assert section_of(HOA_DIEN, no) == ("Nơi nhận",)


def test_text_before_the_first_heading_has_no_section() -> None:
    assert section_of(HOA_DIEN, line_no(HOA_DIEN, "KẾ HOẠCH")) == ()


def test_short_appendix_titles_are_kept() -> None:
    no = line_no(VU_QUANG, "TT Chỉ tiêu")
    assert section_of(VU_QUANG, no) == ("Phụ lục I: DANH MỤC CÁC CHỈ TIÊU CỤ THỂ",)
    no = line_no(VU_QUANG, "TT Tên nhiệm vụ")
    assert section_of(VU_QUANG, no) == ("Phụ lục II: DANH MỤC CÁC NHIỆM VỤ",)


def test_appendix_sub_sections() -> None:
    no = line_no(HA_DONG, "Quý II\t- Ban hành Kế hoạch")
    path = section_of(HA_DONG, no)
    assert path[0].startswith("PHỤ LỤC 1")
    assert path[1] == "1. Năm 2026 (Giai đoạn khởi động, thiết lập nền tảng)"


@pytest.mark.parametrize(
    ("stem", "startswith", "label"),
    [
        (HA_DONG, "I. NGUYÊN TẮC XÂY DỰNG", "PHỤ LỤC 2: Bộ chỉ số đánh giá"),
        (HA_DONG, "Quý II\t- Ban hành Kế hoạch", "PHỤ LỤC 1: Bảng tiến độ triển khai"),
        (VINH_THUAN, "STT", "PHỤ LỤC: Nhiệm vụ cụ thể thực hiện kế hoạch"),
    ],
)
def test_long_appendix_labels_keep_their_title(stem: str, startswith: str, label: str) -> None:
    path = section_of(stem, line_no(stem, startswith))
    assert path[0].startswith(label)
    assert len(path[0]) <= 90


def test_a_numbered_table_row_is_not_a_heading() -> None:
    no = line_no(VU_QUANG, "15.4")
    assert section_of(VU_QUANG, no) == ("Phụ lục I: DANH MỤC CÁC CHỈ TIÊU CỤ THỂ",)


def test_section_label_of_a_long_heading() -> None:
    label = section_label("2. Hoàn thiện thể chế, chính sách về KH, CN, ĐMST và CDS; Nhiệm vụ, giải pháp về thực "
                          "hiện chuyển đổi số và đổi mới sáng tạo trong các cơ quan nhà nước")
    assert len(label) <= 90 and label.endswith("…") and label.startswith("2. Hoàn thiện thể chế")
    assert section_label("Nơi nhận:") == "Nơi nhận"
    assert section_label("1. Mục đích: Quán triệt") == "1. Mục đích: Quán triệt"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I. MỤC ĐÍCH, YÊU CẦU", 1),
        ("II- NHIỆM VỤ TRỌNG TÂM NĂM 2026", 1),
        ("III. NHIỆM VỤ CỤ THỂ (phụ lục đính kèm)", 1),
        ("I. Mục đích của kế hoạch", None),  # not an upper-case section title
        ("1. Mục đích", 2),
        ("1.1. Phòng Văn hóa – Xã hội", 3),
        ("4.1. Nông nghiệp", 3),
        ("1.1.1. Tập huấn", 4),
        ("a) Hoàn thiện thể chế", 4),
        ("đ) Nội dung khác", 4),
        ("PHỤ LỤC 2", 0),
        ("Phụ lục I", 0),
        ("PHỤ LỤC", 0),
        ("Nơi nhận:", 0),
        ("1\tTuyên truyền\tPhòng VH-XH", None),  # a table row
        ("| 1 | Tỷ lệ | % |", None),
        ("- Tổ chức tập huấn", None),
        ("2026", None),
        ("", None),
    ],
)
def test_heading_level(text: str, level: int | None) -> None:
    assert heading_level(text) == level


# --- ids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "doc_id"),
    [
        ("xa-hoa-dien-an-giang-kh128-pii-2026.txt", "xa-hoa-dien-an-giang-kh128-pii-2026"),
        ("Kế hoạch Xã Hòa Điền (bản cuối).docx", "ke-hoach-xa-hoa-dien-ban-cuoi"),
        ("KH 128_UBND.PDF", "kh-128-ubnd"),
    ],
)
def test_document_id_from_the_file_name(filename: str, doc_id: str) -> None:
    assert document_id(filename) == doc_id


def test_document_id_is_never_empty() -> None:
    assert document_id("《》.txt") and document_id("《》.txt") == document_id("《》.txt")
    assert document_id("《》.txt") != document_id("【】.txt")


def test_parse_is_deterministic_and_keeps_raw_lines() -> None:
    a = parse_file(PLANS / f"{HOA_DIEN}.txt")
    b = parse_file(PLANS / f"{HOA_DIEN}.txt")
    assert a.sha256 == b.sha256 and a.lines == b.lines and a.sections == b.sections
    assert a.doc_id == HOA_DIEN and a.filename == f"{HOA_DIEN}.txt"
    header = next(line for line in a.lines if line.text == "KT. CHỦ TỊCH")
    assert header.raw == "**KT. CHỦ TỊCH"


def test_parse_uses_the_given_filename(tmp_path: Path) -> None:
    path = tmp_path / ".incoming-x1y2"
    path.write_bytes((PLANS / f"{HOA_DIEN}.txt").read_bytes())
    # an upload is stored under a temporary name: the id must come from the officer's file name
    d = parse_file(path.rename(tmp_path / "tmp123.txt"), filename="Kế hoạch Hòa Điền.txt")
    assert d.doc_id == "ke-hoach-hoa-dien" and d.filename == "Kế hoạch Hòa Điền.txt"


@pytest.mark.parametrize("suffix", [".docx", ".txt"])
@pytest.mark.parametrize(
    "letterhead",
    [
        ["ỦY BAN NHÂN DÂN\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "XÃ MỸ LỘC\tĐộc lập - Tự do - Hạnh phúc"],
        ["ỦY BAN NHÂN DÂN\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "XÃ MỸ LỘC\t\tĐỘC LẬP - TỰ DO - HẠNH PHÚC"],
        ["ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "XÃ MỸ LỘC ĐỘC LẬP - TỰ DO - HẠNH PHÚC"],
        ["ỦY BAN NHÂN DÂN XÃ MỸ LỘC. CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    ],
)
def test_a_one_paragraph_letterhead_names_only_the_commune(tmp_path: Path, letterhead: list[str], suffix: str) -> None:
    """The letterhead's two columns in one paragraph, split by tabs or spaces: the commune stops at the motto."""
    lines = [*letterhead, "Số: 15/KH-UBND\tMỹ Lộc, ngày 10 tháng 3 năm 2026", "KẾ HOẠCH", "Chuyển đổi số năm 2026",
             "I. MỤC ĐÍCH, YÊU CẦU", "Nâng cao kỹ năng số cho người dân."]
    path = tmp_path / f"my-loc{suffix}"
    if suffix == ".docx":
        from docx import Document

        document = Document()
        for line in lines:
            document.add_paragraph(line)
        document.save(str(path))
    else:
        path.write_text("\n".join(lines), encoding="utf-8")
    meta = parse_file(path).metadata
    assert (meta.commune, meta.number, meta.issuer) == ("Mỹ Lộc", "15/KH-UBND", "Ủy ban nhân dân xã Mỹ Lộc")
