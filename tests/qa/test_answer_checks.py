"""The expected answer types (answer_checks.toml), table-driven: each check's examples ask for it, its counter
examples do not, and an answer without what is asked is reported as missing it."""

from __future__ import annotations

import pytest

from assistant.qa.answer_checks import checks, unanswered

TABLE, NOUNS = checks()


@pytest.mark.parametrize(("check_id", "question"), [(c.id, q) for c in TABLE for q in c.examples])
def test_examples_ask_for_their_type(check_id: str, question: str) -> None:
    check = next(c for c in TABLE if c.id == check_id)
    assert check.asked(question), f"{check_id} should fire on {question!r}"


@pytest.mark.parametrize(("check_id", "question"), [(c.id, q) for c in TABLE for q in c.counter])
def test_counter_examples_do_not(check_id: str, question: str) -> None:
    check = next(c for c in TABLE if c.id == check_id)
    assert not check.asked(question), f"{check_id} should not fire on {question!r}"


@pytest.mark.parametrize(
    ("question", "answer", "missing"),
    [
        ("Sơ kết 2 năm vào quý nào, năm nào?", "Sơ kết 2 năm (xã A) — thời gian: Năm 2026 [1].", ["quý"]),
        ("Sơ kết 2 năm vào quý nào, năm nào?", "Sơ kết 2 năm (xã A) — thời gian: Quý IV/2027 [1].", []),
        ("Có bao nhiêu nhiệm vụ, chia mấy nhóm?", "Phụ lục II (xã A): 19 nhiệm vụ [1].", ["số lượng (nhom)"]),
        ("Có bao nhiêu nhiệm vụ, chia mấy nhóm?", "Phụ lục II (xã A): 19 nhiệm vụ, chia thành 4 nhóm [1].", []),
        ("Có bao nhiêu chỉ số?", "Bảng (xã A): 7 chỉ tiêu [1].", []),  # an equivalent noun counts
        ("Tỷ lệ 5G đạt bao nhiêu, phòng nào theo dõi?", "Tỷ lệ 5G — chỉ tiêu: 60% [1].", []),  # 'phòng' is not counted
        ("Báo cáo quý gửi trước ngày mấy?", "Nơi nhận: Sở KH&CN [1] [2].", ["ngày"]),  # citations are no date
        ("Báo cáo 6 tháng gửi trước ngày mấy?", "Báo cáo 6 tháng trước ngày 10/6 [1].", []),
        ("Tỷ lệ phải đạt bao nhiêu phần trăm?", "Tỷ lệ — chỉ tiêu: năm 2026: ≥ 80% [1].", []),
        ("Khi nào phải hoàn thành?", "Nhiệm vụ — thời gian: Sau khi có văn bản của Trung ương [1].", []),
        ("Ai chủ trì nhiệm vụ này?", "Nhiệm vụ — đơn vị chủ trì: Phòng Kinh tế [1].", []),
    ],
)
def test_unanswered(question: str, answer: str, missing: list[str]) -> None:
    assert unanswered(question, answer) == missing
