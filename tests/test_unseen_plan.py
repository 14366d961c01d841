"""A plan in a layout the corpus does not have (markdown task table, short duty blocks) is
extracted and answered like the corpus plans: nothing in the pipeline is written for five files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.services import Services

PLAN = Path(__file__).parent / "fixtures" / "xa-tan-lap-dong-nai-pii-2027.md"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, base_services: Services) -> Services:
    from tests.conftest import make_settings

    services = Services(make_settings(tmp_path_factory.mktemp("unseen"), models_dir))
    services.__dict__["embedder"] = base_services.embedder
    report = services.ingestor.ingest_paths([PLAN])
    assert [r.status for r in report.results] == ["added"]
    return services


def test_metadata_of_an_unseen_plan(services: Services) -> None:
    meta = services.store.snapshot.documents["xa-tan-lap-dong-nai-pii-2027"].metadata
    assert (meta["commune"], meta["province"], meta["number"], meta["date"]) == (
        "Tân Lập", "Đồng Nai", "45/KH-UBND", "12/3/2027")
    assert (meta["signer"], meta["signer_role"], meta["plan_type"]) == ("Phạm Văn Bình", "Chủ tịch", "pii")


@pytest.mark.parametrize(
    ("question", "expected", "absent"),
    [
        ("Xây dựng cơ sở dữ liệu nông nghiệp số ở Tân Lập do ai chủ trì, thời hạn khi nào?",
         ["Phòng Kinh tế", "Quý III/2027"], []),
        ("Cuộc thi ý tưởng khởi nghiệp cho thanh niên ở Tân Lập có đơn vị nào phối hợp?",
         ["Phòng Văn hóa - Xã hội"], ["Phòng Kinh tế"]),
        ("thanh toan khong dung tien mat tai cho xa tan lap do ai phoi hop",
         ["Ngân hàng Chính sách xã hội", "Công an xã"], []),
        ("Phòng Văn hóa - Xã hội xã Tân Lập phải báo cáo UBND xã trước ngày nào?", ["15/12/2027"], []),
        ("Tân Lập phấn đấu tỷ lệ hộ sản xuất nông nghiệp ứng dụng công nghệ cao đạt bao nhiêu?", ["25%"], []),
        ("Ai ký kế hoạch của xã Tân Lập?", ["Phạm Văn Bình", "Chủ tịch"], ["Phó Chủ tịch"]),
        ("Đoàn Thanh niên xã Tân Lập có nhiệm vụ gì?", ["Tổ công nghệ số cộng đồng", "khởi nghiệp"], []),
    ],
)
def test_questions_on_an_unseen_plan(services: Services, question: str, expected: list[str], absent: list[str]) -> None:
    answer = services.qa.ask(question)
    assert answer.found, answer.answer
    for text in expected:
        assert text in answer.answer, answer.answer
    for text in absent:
        assert text not in answer.answer, answer.answer
    assert answer.sources and answer.sources[0].commune == "Tân Lập"


@pytest.mark.parametrize(
    "question",
    [
        "Tỷ lệ hộ sản xuất nông nghiệp ứng dụng công nghệ cao của Tân Lập năm 2030 là bao nhiêu?",
        "Ngân sách dành cho kế hoạch của Tân Lập là bao nhiêu tỷ đồng?",
    ],
)
def test_what_the_unseen_plan_does_not_say_is_not_found(services: Services, question: str) -> None:
    assert services.qa.ask(question).found is False
