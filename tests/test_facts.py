"""Facts read from a plan's prose (goals, reports, references, closing), on small hand-written plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.model import FactKind, Record
from ingest.parse import parse_file
from ingest.records import extract_records

PLAN = """ỦY BAN NHÂN DÂN
XÃ TÂN MỸ
Số: 12/KH-UBND
Tân Mỹ, ngày 05 tháng 3 năm 2026
KẾ HOẠCH
Nâng cao Chỉ số đổi mới sáng tạo năm 2026
Căn cứ Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển khoa học, công nghệ;
I. MỤC TIÊU
2. Mục tiêu cụ thể
a) Trong năm 2026: 100% cán bộ, công chức xã được bồi dưỡng kỹ năng số; tỷ lệ hồ sơ trực tuyến đạt từ 70% trở lên; 03 sản phẩm OCOP được gắn mã QR. b) Đến hết năm 2027: tỷ lệ hồ sơ trực tuyến đạt từ 85% trở lên; có ít nhất 01 hợp tác xã ứng dụng công nghệ số toàn diện.
II. TỔ CHỨC THỰC HIỆN
1. Phòng Văn hóa - Xã hội
Tổng hợp, báo cáo UBND xã kết quả thực hiện định kỳ 6 tháng (trước ngày 10/6) và hằng năm (trước ngày 10/11).
Nơi nhận:
- UBND tỉnh;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Nguyễn Văn An
"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    path = tmp_path_factory.mktemp("plan") / "xa-tan-my-kh12-2026.txt"
    path.write_text(PLAN, encoding="utf-8")
    return extract_records(parse_file(path))


def of(facts: list[Record], kind: FactKind) -> list[Record]:
    return [f for f in facts if f.kind is kind]


@pytest.mark.parametrize(
    ("starts", "targets"),
    [
        ("100% cán bộ", {"2026": "100%"}),
        ("tỷ lệ hồ sơ trực tuyến đạt từ 70%", {"2026": "từ 70%"}),  # the lead-in's year holds for every clause
        ("03 sản phẩm OCOP", {"2026": "03 sản phẩm"}),  # a count at a clause's start
        ("b) Đến hết năm 2027: tỷ lệ hồ sơ", {"2027": "từ 85%"}),  # '. b)' starts a new clause
        ("có ít nhất 01 hợp tác xã", {"2027": "ít nhất 01 hợp tác xã"}),
    ],
)
def test_goals_stated_in_prose_with_their_years(facts: list[Record], starts: str, targets: dict[str, str]) -> None:
    [goal] = [f for f in of(facts, FactKind.TARGET) if starts in f.subject[: len(starts) + 20]]
    assert goal.targets == targets and goal.attrs["source"] == "prose" and not goal.is_table_row


def test_reporting_obligation_with_its_deadlines(facts: list[Record]) -> None:
    [report] = of(facts, FactKind.REPORT)
    assert "6 tháng" in report.attrs["frequency"] and "10/11" in report.attrs["deadlines"]
    assert report.attrs["to"] == "UBND xã"
    assert [u.name for u in report.leads] == ["Phòng Văn hóa - Xã hội"]


def test_where_problems_are_reported(tmp_path: Path) -> None:
    closing = ("Trên đây là Kế hoạch của xã. Trong quá trình thực hiện, nếu phát sinh khó khăn, vướng mắc, các cơ quan, "
               "đơn vị phản ánh về UBND xã (qua Phòng Văn hóa – Xã hội) để xem xét, giải quyết./.\n")
    path = tmp_path / "xa-tan-my-kh12-2026.txt"
    path.write_text(PLAN.replace("Nơi nhận:", closing + "Nơi nhận:"), encoding="utf-8")
    escalation = [f for f in of(extract_records(parse_file(path)), FactKind.REPORT) if "vướng mắc" in f.subject]
    assert [(f.attrs["frequency"], f.attrs["to"]) for f in escalation] == [
        ("khi có khó khăn, vướng mắc", "UBND xã (qua Phòng Văn hóa – Xã hội)")]


def test_cited_basis_signer_and_recipients(facts: list[Record]) -> None:
    [basis] = of(facts, FactKind.REFERENCE)
    assert (basis.attrs["number"], basis.attrs["issuer"], basis.attrs["cited_as"]) == ("57-NQ/TW", "Bộ Chính trị", "basis")
    [signer] = of(facts, FactKind.SIGNER)
    assert signer.subject == "Nguyễn Văn An" and signer.attrs["role"] == "Chủ tịch" and "TM." in signer.attrs["mode"]
    assert [r.subject for r in of(facts, FactKind.RECIPIENT)] == ["UBND tỉnh", "Lưu: VT"]


def test_no_table_row_is_read_from_prose(facts: list[Record]) -> None:
    assert not [f for f in facts if f.is_table_row]


def test_plan_file_name_is_free(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.txt"
    path.write_text(PLAN, encoding="utf-8")
    assert parse_file(path).metadata.commune == "Tân Mỹ"


def test_documents_listed_under_one_type_word() -> None:
    from ingest.facts import _mentions

    text = ("Tiếp tục thực hiện các Nghị quyết: số 09-NQ/TU ngày 03/02/2015 của Ban Chấp hành Đảng bộ tỉnh về "
            "khoa học và công nghệ; số 05-NQ/TU ngày 22/10/2021 của Ban Chấp hành Đảng bộ tỉnh về chuyển đổi số.")
    found = [(m.group("type"), m.group("number"), m.group("date"), m.group("issuer")) for _, m in _mentions(text)]
    assert found == [("Nghị quyết", "09-NQ/TU", "03/02/2015", "Ban Chấp hành Đảng bộ tỉnh"),
                     ("Nghị quyết", "05-NQ/TU", "22/10/2021", "Ban Chấp hành Đảng bộ tỉnh")]


@pytest.mark.parametrize(("text", "number", "about_has", "about_lacks"), [
    # a subject that stops on the document it is about goes on over it, to the end of the clause
    ("Tham mưu thực hiện Kế hoạch số 132/KH-UBND ngày 07/10/2025 của UBND tỉnh về việc Triển khai thực hiện Nghị "
     "quyết số 71/NQ-CP ngày 01/4/2025 của Chính phủ và Chương trình hành động số 02-CTr/TU ngày 22/8/2025 của Ban "
     "Chấp hành Đảng bộ tỉnh; phối hợp các ngành.", "132/KH-UBND", ["71/NQ-CP", "02-CTr/TU"], ["phối hợp các ngành"]),
    # a subject of its own is not extended over the next document
    ("Thực hiện Kế hoạch số 10/KH-UBND ngày 19/01/2026 của UBND xã về công tác cải cách hành chính năm 2026 và "
     "Kế hoạch số 11/KH-UBND ngày 20/01/2026 của UBND xã về chuyển đổi số.", "10/KH-UBND",
     ["cải cách hành chính"], ["11/KH-UBND"]),
])
def test_a_cited_documents_subject(text: str, number: str, about_has: list[str], about_lacks: list[str]) -> None:
    from ingest.duties import Paragraph
    from ingest.facts import references

    refs = {r.attrs["number"]: r for r in references([Paragraph(0, 0, text)], first_section=0)}
    about = refs[number].attrs["about"]
    assert all(part in about for part in about_has) and not any(part in about for part in about_lacks), about
    assert len(refs) >= 2  # the documents it is about are cited in their own right too
