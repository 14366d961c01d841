"""Unit names: canonical forms, splitting cells into units, matching users' questions."""

from __future__ import annotations

import pytest

from ingest.units import canonical_unit, find_units, known_units, leading_units, split_units, unit_matches

VHXH = "Phòng Văn hóa - Xã hội"
HCC = "Trung tâm Phục vụ hành chính công"
VP = "Văn phòng HĐND và UBND"


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("Phòng VH-XH", VHXH),
        ("Phòng VHXH", VHXH),
        ("Phòng VHXXH", VHXH),
        ("Phòng Văn hóa – Xã hội", VHXH),
        ("phòng văn hoá - xã hội", VHXH),
        ("TT PVHCC", HCC),
        ("Trung tâm HCC", HCC),
        ("TT HCC xã", HCC),
        ("Trung tâm PVHCC", HCC),
        ("Trung tâm phục vụ hành chính công", HCC),
        ("VP HĐND-UBND", VP),
        ("VP HĐND - UBND xã", VP),
        ("Văn phòng HĐND- UBND", VP),
        ("Văn phòng HDND-UBND", VP),
        ("Văn phòng HĐND và UBND", VP),
        ("Phòng KT", "Phòng Kinh tế"),
        ("Phòng kinh tế", "Phòng Kinh tế"),
        ("TT DVSN công", "Trung tâm Dịch vụ sự nghiệp công"),
        ("Công an xã", "Công an xã"),
        ("Ngân hàng chính sách xã hội", "Ngân hàng Chính sách xã hội"),
        ("Ngân hàng Nhà nước chi nhánh Khu vực 8", "Ngân hàng Nhà nước chi nhánh Khu vực"),
        ("Chi nhánh Ngân hàng nhà nước", "Ngân hàng Nhà nước chi nhánh Khu vực"),
        ("Các Trường học trên địa bàn", "Các trường học"),
        ("Các đơn vị trường học", "Các trường học"),
        ("trạm Y Tế", "Trạm Y tế"),
        ("Các Trạm y tế", "Trạm Y tế"),
        ("Các thôn", "Các thôn, ấp"),
        ("Trưởng các ấp trên địa bàn xã", "Các thôn, ấp"),
        ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam xã"),
        ("các tổ chức đoàn thể", "Các tổ chức chính trị - xã hội"),
        ("UBND xã", "UBND xã"),
        ("Văn phòng Đảng ủy xã", "Văn phòng Đảng ủy"),
        ("Các phòng, ban, ngành xã", "Các phòng, ban, ngành xã"),
        ("Các cơ quan, ban ngành", "Các phòng, ban, ngành xã"),
        ("Tổ công nghệ số cộng đồng", "Tổ công nghệ số cộng đồng"),
        ("Các HTX", "Các hợp tác xã"),
        ("Các doanh nghiệp, đơn vị kinh tế trên địa bàn", "Các doanh nghiệp"),
    ],
)
def test_canonical_unit_keeps_the_written_form(written: str, name: str) -> None:
    unit = canonical_unit(written)
    assert unit.name == name
    assert unit.written == " ".join(written.split())


def test_unknown_units_are_kept_as_written() -> None:
    unit = canonical_unit("  ban quản lý dự án  ,")
    assert (unit.name, unit.written) == ("Ban quản lý dự án", "ban quản lý dự án")


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Phòng Văn hóa - Xã hội; Trung tâm Phục vụ hành chính công", [VHXH, HCC]),
        ("Phòng Kinh tế, Phòng Văn hóa - Xã hội", ["Phòng Kinh tế", VHXH]),
        ("Phòng VHXXH, các Trường học trên địa bàn", [VHXH, "Các trường học"]),
        ("Văn phòng HĐND- UBND; TT HCC xã", [VP, HCC]),
        ("Phòng Văn hóa - Xã\nhội; Trung tâm Phục\nvụ hành chính công", [VHXH, HCC]),
        (
            "Phòng VHXXH, trạm Y Tế và Tổ công nghệ số cộng đồng",
            [VHXH, "Trạm Y tế", "Tổ công nghệ số cộng đồng"],
        ),
        ("VP HĐND-UBND, các đơn vị", [VP, "Các phòng, ban, ngành xã"]),
        ("Các thôn, TT DVSN công", ["Các thôn, ấp", "Trung tâm Dịch vụ sự nghiệp công"]),
        ("Ban Quản lý dự án, Phòng KT", ["Ban Quản lý dự án", "Phòng Kinh tế"]),
        (
            "Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam xã và các tổ chức chính trị - xã hội",
            ["Ủy ban Mặt trận Tổ quốc Việt Nam xã", "Các tổ chức chính trị - xã hội"],
        ),
        (
            "Thủ trưởng các phòng ban, trung tâm các cơ quan, đơn vị thuộc xã, các thôn",
            ["Các phòng, ban, ngành xã", "Các thôn, ấp"],
        ),
    ],
)
def test_split_units(cell: str, names: list[str]) -> None:
    assert [u.name for u in split_units(cell)] == names


@pytest.mark.parametrize(
    "cell",
    [
        "Các phòng, ban, ngành xã",
        "Văn phòng HĐND và UBND",
        "Các phòng, ban, ngành, trung tâm, cơ quan, đơn vị",
        "Các Phòng, ban, ngành cấp xã và các cơ quan đơn vị",
        "Sở Xây dựng và Giao thông",
    ],
)
def test_one_unit_stays_one(cell: str) -> None:
    assert len(split_units(cell)) == 1


def test_split_units_of_an_empty_cell() -> None:
    assert split_units("") == []
    assert split_units(" ; , ") == []


def test_find_units_gives_spans() -> None:
    text = "Tỷ lệ hồ sơ 70% ≥ 95% Phòng Văn hóa - Xã hội"
    [span] = find_units(text)
    assert (span.name, text[span.start : span.end]) == (VHXH, "Phòng Văn hóa - Xã hội")


def test_leading_units_stop_at_the_verb() -> None:
    units, end = leading_units("Phòng kinh tế chủ trì, phối hợp với Phòng Văn hóa - Xã hội")
    assert [u.name for u in units] == ["Phòng Kinh tế"] and end == len("Phòng kinh tế")
    units, _ = leading_units("Phòng Văn hóa - Xã hội, các cơ quan, đơn vị liên quan và các thôn hướng dẫn")
    assert [u.name for u in units] == [VHXH, "Các phòng, ban, ngành xã", "Các thôn, ấp"]
    assert leading_units("Tăng cường công tác") == ([], 0)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("phong vh-xh", [VHXH]),
        ("văn hóa xã hội phụ trách việc gì?", [VHXH]),
        ("Trung tâm HCC và công an xã", [HCC, "Công an xã"]),
        ("VP HĐND-UBND chủ trì những nhiệm vụ nào", [VP]),
        ("kế hoạch năm 2026 có bao nhiêu chỉ tiêu", []),
    ],
)
def test_unit_matches(query: str, names: list[str]) -> None:
    assert unit_matches(query) == names


def test_alias_table_is_consistent() -> None:
    table = known_units()
    assert len(table) >= 25
    for name, forms in table.items():
        for form in forms:
            assert canonical_unit(form).name == name, form


def test_a_unit_label_keeps_the_number_its_canonical_name_leaves_out() -> None:
    from core.model import UnitRef
    from ingest.record_text import unit_label

    written = "Ngân hàng Nhà nước chi nhánh Khu vực 8"
    assert unit_label(UnitRef("Ngân hàng Nhà nước chi nhánh Khu vực", written)) == written
    assert unit_label(UnitRef("Phòng Văn hóa - Xã hội", "Phòng VH-XH")) == "Phòng Văn hóa - Xã hội (Phòng VH-XH)"
    assert unit_label(UnitRef("Công an xã", "Công an xã")) == "Công an xã"
