"""Answers over the five plans, in the fast tier (the hash embedder, no model): the probe sets written blind from
the plans as a regression gate, and behaviours an officer relies on — near misses are not found, two-part
questions get both parts, questions over every plan list every plan, counts come with what they count,
follow-ups carry context only when elliptical, and every answer can explain its decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import grade
from assistant.qa.service import QAService
from assistant.qa.types import Answer
from assistant.services import Services
from core.normalize import fold

PROBES = Path(__file__).parent / "probes"


@pytest.fixture(scope="module")
def qa(fast_services: Services) -> QAService:
    return fast_services.qa


def ask(qa: QAService, question: str, *earlier: str) -> Answer:
    history: list[dict[str, str]] = []
    for turn in earlier:
        answer = qa.ask(turn, history=history or None)
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": answer.answer}]
    return qa.ask(question, history=history or None, explain=True)


def has(answer: Answer, *needles: str) -> bool:
    text = f" {fold(answer.answer)} "
    return all(f" {fold(n)} " in text for n in needles)


# --- the probe sets (written blind from the plans; kept apart from the shared gold set) ----------------------


# Every probe file: probes_blind_* were written by reviewers from the plans alone, without the code, and each was
# measured once before any change it prompted (first-run scores in the issue notes); the others were written for
# one behaviour each, in officers' varied wording, before that behaviour was built. All are kept as regression sets.
PROBE_SETS = sorted(path.name for path in PROBES.glob("probes_*.jsonl"))


@pytest.mark.parametrize(("name", "min_accuracy"), [(name, 0.9) for name in PROBE_SETS])
def test_probe_sets(qa: QAService, name: str, min_accuracy: float) -> None:
    items = [json.loads(line) for line in (PROBES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    failures, wrong = [], 0
    for item in items:
        answer = ask(qa, item["question"], *item.get("history", []))
        ok, _, missing = grade(item, answer.answer, answer.found, [s.to_dict() for s in answer.sources])
        if not ok:
            failures.append((item["id"], item["question"][:70], answer.answer[:120], missing))
            wrong += answer.found
    accuracy = 1 - len(failures) / len(items)
    assert accuracy >= min_accuracy, failures
    assert wrong / len(items) <= 0.05, failures  # a confident wrong answer is the worst outcome


# --- near misses: the plan does not say it, so the answer is not found ----------------------------------------


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("Tỷ lệ người dân có chữ ký số ở Vũ Quang năm 2050 là bao nhiêu?", "2050"),  # a year the row lacks
        ("Kế hoạch PII của xã Vĩnh Thuận số mấy?", "để trống"),  # a number left blank
        ("Phụ lục III của kế hoạch Vũ Quang có nội dung gì?", "Phụ lục III"),  # no such appendix
        ("Nhóm 6 trong bộ KPI của Hà Đông gồm những chỉ số nào?", "nhóm 6"),  # no such group
        ("Ở Hà Đông, Công an xã được giao nhiệm vụ gì?", "Công an xã"),  # a unit with no duty there
        ("Công an xã Vũ Quang chủ trì nhiệm vụ thương mại điện tử nào?", "thuong mai dien tu"),
        ("Vĩnh Thuận: chỉ số hạ tầng số trong phụ lục có thời hạn hoàn thành khi nào?", "thoi gian"),
        ("Quý I năm 2026 Hà Đông triển khai những nhiệm vụ gì theo bảng tiến độ?", "Quý I/2026"),
        ("Tham mưu khen thưởng phong trào thi đua ĐMST, CĐS ở Vũ Quang phải xong vào quý nào?", "quý"),  # no quarter
    ],
)
def test_near_misses_are_not_found_and_say_why(qa: QAService, question: str, why: str) -> None:
    answer = ask(qa, question)
    assert answer.found is False, answer.answer
    assert fold(why) in fold(answer.answer), answer.answer


def test_not_found_offers_the_closest_candidates(qa: QAService) -> None:
    answer = ask(qa, "Chỉ tiêu tỷ lệ người dân có tài khoản VNeID ở Vũ Quang năm 2050 là bao nhiêu?")
    assert not answer.found and "Có phải anh/chị hỏi về" in answer.answer and "VNeID" in answer.answer


def test_an_unknown_commune_is_not_found_with_the_known_ones(qa: QAService) -> None:
    answer = ask(qa, "Xã Tân Lập giao đơn vị nào chủ trì tuyên truyền về chuyển đổi số?")
    assert not answer.found and "Tân Lập" in answer.answer and answer.sources == []
    assert all(c in answer.answer for c in ("Hà Đông", "Hòa Điền", "Phước An", "Vĩnh Thuận", "Vũ Quang"))


# --- every slot asked -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "needles"),
    [
        ("Tỷ lệ phủ sóng 5G của Phước An đặt bao nhiêu, phòng nào theo dõi?", ["60%", "Phòng Văn hóa - Xã hội"]),
        ("Sơ kết 2 năm thực hiện kế hoạch ở Hà Đông làm lúc nào, ai chủ trì?", ["Quý IV/2027", "UBND xã"]),
        ("Năm 2028 Hà Đông đẩy mạnh thanh toán không tiền mặt: ai chủ trì, ai phối hợp?", ["Phòng Kinh tế", "Các thôn"]),
        ("Vũ Quang: báo cáo 6 tháng nộp trước ngày nào?", ["10/6"]),
        ("Kế hoạch của Phước An do ai ký, ký thay hay ký trực tiếp?", ["Huỳnh Minh Đức", "Chủ tịch", "ký trực tiếp"]),
        ("Kế hoạch số 68/KH-UBND được nhắc trong kế hoạch Hòa Điền ban hành ngày nào?", ["09/02/2026"]),
        ("Hòa Điền gửi kế hoạch cho những nơi nào?", ["Sở Khoa học và Công nghệ", "Trưởng các ấp"]),
    ],
)
def test_answers_give_every_part_asked(qa: QAService, question: str, needles: list[str]) -> None:
    answer = ask(qa, question)
    assert answer.found and has(answer, *needles), answer.answer


def test_a_partner_question_names_the_lead_unit_and_gets_its_partners(qa: QAService) -> None:
    answer = ask(qa, "Trung tâm Phục vụ hành chính công xã Vũ Quang phối hợp với ai để rà soát, đơn giản hóa TTHC?")
    assert answer.found and has(answer, "Văn phòng HĐND và UBND"), answer.answer


# --- scope: several plans, every plan -------------------------------------------------------------------------------


def test_which_communes_lists_each_with_its_own_citation(qa: QAService) -> None:
    answer = ask(qa, "Những xã nào làm kế hoạch PII theo Kế hoạch 68 của UBND tỉnh An Giang?")
    assert answer.found and has(answer, "Hòa Điền") and has(answer, "Vĩnh Thuận")
    assert {s.commune for s in answer.sources[:2]} == {"Hòa Điền", "Vĩnh Thuận"}
    assert not has(answer, "Vũ Quang") and not has(answer, "Phước An")


def test_how_many_communes_counts_them(qa: QAService) -> None:
    answer = ask(qa, "Có bao nhiêu xã có kế hoạch triển khai Nghị quyết 57?")
    assert answer.found and "Có 2 xã" in answer.answer and has(answer, "Phước An") and has(answer, "Vũ Quang")


def test_a_plan_named_by_province_or_number(qa: QAService) -> None:
    assert has(ask(qa, "KH NQ57 của xã bên Hà Tĩnh đặt chỉ tiêu người dân có chữ ký số năm 2026 là bao nhiêu?"), "5%")
    answer = ask(qa, "KH 128/KH-UBND là của xã nào, nói về cái gì?")
    assert has(answer, "Hòa Điền") and has(answer, "đổi mới sáng tạo")


def test_compare_two_communes(qa: QAService) -> None:
    answer = ask(qa, "So sánh chỉ tiêu tỷ lệ người dân có tài khoản VNeID năm 2026 của Phước An và Vũ Quang.")
    assert answer.found and has(answer, "80%") and has(answer, "70%")
    assert answer.answer.index("Phước An") < answer.answer.index("Vũ Quang")


# --- counts and structure -------------------------------------------------------------------------------------------


def test_a_count_comes_with_what_it_counts(qa: QAService) -> None:
    answer = ask(qa, "Phụ lục II của kế hoạch Vũ Quang có bao nhiêu nhiệm vụ?")
    assert answer.found and has(answer, "19 nhiệm vụ", "chia thành 4 nhóm") and has(answer, "và 16 mục khác")
    listed = ask(qa, "Phụ lục II của kế hoạch Vũ Quang có bao nhiêu nhiệm vụ, kể ra những nhiệm vụ nào?")
    assert listed.found and has(listed, "19 nhiệm vụ") and listed.answer.count("[") >= 10


def test_a_count_stated_by_the_plan_comes_first_with_the_rows_it_lists(qa: QAService) -> None:
    answer = ask(qa, "Theo tiêu đề bảng mục tiêu cụ thể, Phước An đặt bao nhiêu chỉ tiêu?")
    assert has(answer, "54 chỉ tiêu theo tiêu đề") and has(answer, "bảng liệt kê 40")  # the heading's and the rows'
    assert answer.answer.index("54") < answer.answer.index("40")


def test_the_rows_of_a_group(qa: QAService) -> None:
    answer = ask(qa, "Trụ cột Cơ sở hạ tầng trong phụ lục của Vĩnh Thuận gồm những chỉ số nào?")
    assert has(answer, "Hạ tầng số") and has(answer, "Quản trị điện tử") and has(answer, "Quản trị Môi trường")


def test_the_stages_of_a_roadmap(qa: QAService) -> None:
    answer = ask(qa, "Giai đoạn 2027-2028 trong lộ trình của Hà Đông là giai đoạn gì?")
    assert has(answer, "mở rộng") and not has(answer, "khởi động")


# --- conversation ---------------------------------------------------------------------------------------------------


def test_an_elliptical_question_takes_the_previous_commune_and_subject(qa: QAService) -> None:
    answer = ask(qa, "Còn xã Vũ Quang thì sao?", "Tỷ lệ người dân có tài khoản định danh điện tử năm 2026 ở Phước An?")
    assert has(answer, "Vũ Quang") and has(answer, "70%"), answer.answer
    year = ask(qa, "Năm 2030 thì bao nhiêu?", "Ở Vũ Quang, chỉ tiêu tỷ lệ phủ sóng 5G năm 2026 là bao nhiêu?")
    assert has(year, "100%"), year.answer


def test_a_complete_question_does_not_inherit_the_previous_commune(qa: QAService) -> None:
    answer = ask(qa, "Ai ký kế hoạch của xã Phước An?", "Vĩnh Thuận giao Phòng Kinh tế những việc gì?")
    assert has(answer, "Huỳnh Minh Đức") and "Vĩnh Thuận" not in answer.answer
    assert {s.commune for s in answer.sources} == {"Phước An"}


def test_the_partner_follow_up_stays_on_the_same_row(qa: QAService) -> None:
    answer = ask(qa, "Thế đơn vị phối hợp là ai?",
                 "Nhiệm vụ xây dựng kế hoạch Bình dân học vụ số ở Vũ Quang do cơ quan nào chủ trì?")
    assert has(answer, "Mặt trận Tổ quốc") and has(answer, "các tổ chức chính trị - xã hội"), answer.answer


# --- the decision path --------------------------------------------------------------------------------------------------


def test_explain_returns_the_plan_route_and_confidence(qa: QAService) -> None:
    answer = qa.ask("Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?", explain=True)
    assert answer.found and has(answer, "Phòng Văn hóa - Xã hội")
    trace = answer.explain
    assert trace and trace["route"] == "fact" and trace["plan"]["slots"] == ["lead"]
    assert trace["plan"]["communes"] == ["Vĩnh Thuận"] and 0 < trace["confidence"] <= 1
    assert qa.ask("Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?").explain is None
