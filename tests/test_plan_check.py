"""Uploads an officer can check: a file that does not look like a plan (a recipe, a news article, a list,
a CV) is refused unless confirmed (``force``), while every plan of the corpus, of the fixtures and of the
tests passes. The ingestion and the API (in process, hash embedder) refuse with code 'not_a_plan'."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from corpus import PLANS, STEMS
from docx import Document
from fastapi.testclient import TestClient
from fixtures.plan_docs import build_plan_files, shared_ocr_cache, shared_plan, variant
from servers import wait_for
from test_ingestion import SMALL_PLAN
from typer.testing import CliRunner

from assistant import cli
from assistant.api.app import create_app
from assistant.services import Services
from core.config import Settings
from core.model import ParsedDocument
from ingest.loaders import LoadLimits
from ingest.ocr import missing_engine
from ingest.parse import parse_file
from ingest.plan_check import NotAPlanError, check_plan, not_a_plan_message, plan_likeness

FIXTURES = Path(__file__).parent / "fixtures"

# --- small plans written in the tests (they are ingested or uploaded there) ------------------------------

API_PLAN = (  # tests/api/test_api.py
    "ỦY BAN NHÂN DÂN XÃ THỬ NGHIỆM\n\nKẾ HOẠCH\nThử nghiệm tải lên năm 2026\n\n"
    "I. MỤC ĐÍCH\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền chuyển đổi số cho người dân.\n"
)
AUTH_PLAN = (  # tests/api/test_auth.py: no letterhead at all
    "KẾ HOẠCH\nThử khóa API năm 2026\nI. MỤC ĐÍCH\n1. Phòng Kinh tế chủ trì thử nghiệm khóa API.\n"
)
CLI_PLAN = (  # tests/test_cli.py
    "ỦY BAN NHÂN DÂN\nXÃ TÂN LẬP\n\nKẾ HOẠCH\nTập huấn kỹ năng số năm 2026\n\n"
    "I. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa - Xã hội\n- Tổ chức tập huấn kỹ năng số cho người dân.\n"
)
OFFICE_NAME_PLAN = (  # tests/test_parse.py: only a plan number, a title and one section
    "Số: /KH-UBND\n\nTrung Thạnh, ngày tháng 05 năm 2026\n\nKẾ HOẠCH\n"
    "Triển khai mô hình “Xã Trung Thạnh đổi mới sáng tạo” giai đoạn 2026 – 2030\n\n"
    "I. MỤC ĐÍCH\nTrung tâm Phục vụ hành chính công xã Trung Thạnh hướng dẫn người dân.\n"
)
UI_PLAN = [  # tests/ui/test_ui_e2e.py, uploaded as .docx
    "ỦY BAN NHÂN DÂN", "XÃ AN PHÚ", "Số: 21/KH-UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc", "An Phú, ngày 12 tháng 3 năm 2026", "KẾ HOẠCH",
    "Triển khai Nghị quyết số 57-NQ/TW trên địa bàn xã An Phú năm 2026", "I. MỤC ĐÍCH, YÊU CẦU",
    "Đẩy mạnh chuyển đổi số, phát triển hạ tầng số và nâng cao kỹ năng số cho người dân.",
    "II. NHIỆM VỤ, GIẢI PHÁP",
]
MY_LOC = [  # the letterhead's two columns as one tab-separated paragraph each
    "ỦY BAN NHÂN DÂN\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "XÃ MỸ LỘC\tĐộc lập - Tự do - Hạnh phúc",
    "Số: 15/KH-UBND\tMỹ Lộc, ngày 10 tháng 3 năm 2026",
    "KẾ HOẠCH",
    "Chuyển đổi số xã Mỹ Lộc năm 2026",
    "I. MỤC ĐÍCH, YÊU CẦU",
    "1. Mục đích",
    "Nâng cao kỹ năng số cho cán bộ, công chức và người dân.",
]

# --- not plans ----------------------------------------------------------------------------------------

RECIPE = """Cách nấu phở bò Hà Nội
Nguyên liệu cho 4 người:
- 500 g bánh phở
- 300 g thịt bò thăn
- 1 kg xương bò, gừng, hành tím, hoa hồi, quế
1. Sơ chế nguyên liệu
Xương bò rửa sạch, chần qua nước sôi rồi ninh lửa nhỏ trong 6 tiếng.
2. Nấu nước dùng
Nướng gừng và hành tím cho thơm, cho vào nồi cùng hoa hồi, quế; nêm nước mắm vừa ăn.
3. Hoàn thành
Trụng bánh phở, xếp thịt bò lên trên, chan nước dùng thật nóng.
Chúc các bạn thành công!
"""
NEWS = """Xã Tân Lập đẩy mạnh chuyển đổi số
Thứ Hai, 12/05/2026 08:30
(Báo Đồng Nai) - UBND xã Tân Lập vừa ban hành Kế hoạch số 07/KH-UBND nâng cao Chỉ số đổi mới sáng tạo năm 2026, \
đặt mục tiêu 100% hồ sơ thủ tục hành chính được tiếp nhận trực tuyến.
Theo ông Phạm Văn An, Chủ tịch UBND xã, kế hoạch tập trung vào ba nhóm nhiệm vụ: chính quyền số, kinh tế số và xã hội số.
Trong quý I/2026, xã đã tổ chức 12 lớp tập huấn kỹ năng số cho hơn 600 người dân.
Nguyễn Hà
"""
SHOPPING = """Danh sách đi chợ cuối tuần
1. Gạo tẻ 10 kg
2. Nước mắm 2 chai
3. Thịt ba chỉ 1 kg
4. Rau muống, cải ngọt
5. Trứng gà 20 quả
Tổng dự kiến: 650.000 đồng
"""
CV = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
SƠ YẾU LÝ LỊCH
I. THÔNG TIN BẢN THÂN
Họ và tên: Nguyễn Văn Bình
Ngày sinh: 15/08/1995
Quê quán: xã Tân Lập, tỉnh Đồng Nai
II. QUÁ TRÌNH HỌC TẬP VÀ CÔNG TÁC
1. 2013 - 2017: Sinh viên Trường Đại học Nông Lâm
2. 2017 - nay: Kỹ thuật viên, Công ty TNHH Nông nghiệp Xanh
III. KỸ NĂNG
Tin học văn phòng, tiếng Anh giao tiếp.
Tôi xin cam đoan những lời khai trên là đúng sự thật.
"""
PROSE = """Hôm nay trời trong xanh, gió nhẹ thổi qua những hàng tre đầu làng.
Bọn trẻ rủ nhau ra đồng thả diều, còn các bà, các mẹ ngồi nhặt rau bên hiên nhà.
Chiều xuống, khói bếp lan trên mái rạ, mùi cơm mới thơm cả xóm nhỏ.
"""


def write(tmp_path: Path, name: str, text: str | list[str]) -> Path:
    path = tmp_path / name
    if path.suffix == ".docx":
        document = Document()
        for line in text if isinstance(text, list) else text.splitlines():
            document.add_paragraph(line)
        buffer = io.BytesIO()
        document.save(buffer)
        path.write_bytes(buffer.getvalue())
    else:
        path.write_text(text if isinstance(text, str) else "\n".join(text), encoding="utf-8")
    return path


def parsed(tmp_path: Path, name: str, text: str | list[str]) -> ParsedDocument:
    return parse_file(write(tmp_path, name, text))


# --- plan_likeness ----------------------------------------------------------------------------------------

FILE_PLANS = [PLANS / f"{stem}.txt" for stem in STEMS] + sorted(
    p for p in FIXTURES.rglob("*") if p.suffix in (".txt", ".md", ".docx")
)


@pytest.mark.parametrize("path", FILE_PLANS, ids=lambda p: p.name)
def test_every_plan_file_looks_like_a_plan(path: Path) -> None:
    likeness = plan_likeness(parse_file(path))
    assert likeness.looks_like_plan, likeness
    assert "title" in likeness.found and "sections" in likeness.found


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("small.txt", SMALL_PLAN),
        ("api.txt", API_PLAN),
        ("api.docx", API_PLAN),
        ("auth.txt", AUTH_PLAN),
        ("cli.txt", CLI_PLAN),
        ("office-name.txt", OFFICE_NAME_PLAN),
        ("ui.docx", UI_PLAN),
        ("my-loc.docx", MY_LOC),
        ("my-loc.txt", MY_LOC),
        ("small.md", SMALL_PLAN.replace("KẾ HOẠCH", "# KẾ HOẠCH").replace("I. ", "## I. ")),
    ],
)
def test_small_plans_of_the_tests_look_like_plans(tmp_path: Path, name: str, text: str | list[str]) -> None:
    likeness = plan_likeness(parsed(tmp_path, name, text))
    assert likeness.looks_like_plan, likeness


def test_generated_word_plans_look_like_plans(tmp_path: Path) -> None:
    for seed in (1, 2, 3):  # 1: the letterhead in text boxes
        files = build_plan_files(tmp_path / str(seed), variant(seed), pdf=False)
        assert plan_likeness(parse_file(files.docx)).found == ["letterhead", "title", "sections"]


def test_generated_pdf_and_scan_look_like_plans() -> None:
    plan = shared_plan()
    if plan.pdf is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    assert plan_likeness(parse_file(plan.pdf)).looks_like_plan
    if plan.scan is not None and missing_engine() is None:
        scan = parse_file(plan.scan, limits=LoadLimits(ocr_cache_dir=shared_ocr_cache()))
        assert plan_likeness(scan).looks_like_plan


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("pho-bo.txt", RECIPE, ["sections"]),  # numbered steps alone
        ("tin-tuc.txt", NEWS, []),  # names a plan and its number in prose
        ("di-cho.txt", SHOPPING, ["sections"]),
        ("ly-lich.txt", CV, ["letterhead", "sections"]),  # the national motto is on every form
        ("ly-lich.docx", CV, ["letterhead", "sections"]),
        ("van-xuoi.md", PROSE, []),
    ],
)
def test_non_plans_do_not_look_like_plans(tmp_path: Path, name: str, text: str, found: list[str]) -> None:
    likeness = plan_likeness(parsed(tmp_path, name, text))
    assert not likeness.looks_like_plan
    assert likeness.found == found
    assert "title" in likeness.missing
    with pytest.raises(NotAPlanError) as refused:
        check_plan(parsed(tmp_path, name, text))
    assert refused.value.code == "not_a_plan"
    assert "tiêu đề KẾ HOẠCH" in str(refused.value) and "force=true" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two of the three signals
        ("ỦY BAN NHÂN DÂN\nXÃ AN PHÚ\nKẾ HOẠCH\nNội dung.\n", True),
        ("KẾ HOẠCH\nTập huấn năm 2026\nI. MỤC ĐÍCH\n1. Mục đích\nNội dung.\n", True),
        ("UBND XÃ AN PHÚ\nBÁO CÁO\nI. KẾT QUẢ\nII. PHƯƠNG HƯỚNG\n", True),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nKẾ HOẠCH\nNội dung.\n", True),
        # a strong sign alone: the plan's number
        ("Số: 12/KH-UBND\nVề việc tập huấn kỹ năng số.\n", True),
        # one signal
        ("KẾ HOẠCH\nĐi du lịch Đà Lạt cùng gia đình.\n", False),
        ("ỦY BAN NHÂN DÂN\nXÃ AN PHÚ\nThông báo lịch tiếp dân.\n", False),
        ("Ủy ban nhân dân xã An Phú thông báo lịch tiếp dân.\n1. Thứ Hai\n2. Thứ Năm\n", False),
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nĐƠN XIN VIỆC\nI. BẢN THÂN\nII. NGUYỆN VỌNG\n",
         False),
        ("Kế hoạch số 12/KH-UBND của UBND xã đã được triển khai.\n", False),
    ],
)
def test_the_rule(tmp_path: Path, text: str, expected: bool) -> None:
    assert plan_likeness(parsed(tmp_path, "x.txt", text)).looks_like_plan is expected


def test_the_message_names_what_is_missing(tmp_path: Path) -> None:
    message = not_a_plan_message(plan_likeness(parsed(tmp_path, "pho-bo.txt", RECIPE)))
    assert message.startswith("Tệp không giống một kế hoạch (thiếu: quốc hiệu/tiêu ngữ hoặc tên cơ quan ban hành, "
                              "tiêu đề KẾ HOẠCH).")


def test_a_tab_separated_docx_letterhead_names_the_commune(tmp_path: Path) -> None:
    meta = parsed(tmp_path, "my-loc.docx", MY_LOC).metadata
    assert (meta.commune, meta.number, meta.date) == ("Mỹ Lộc", "15/KH-UBND", "10/3/2026")


# --- ingestion and API (hash embedder, in process) ---------------------------------------------------------


def hash_services(data: Path) -> Services:
    return Services(Settings(data_dir=data, PLAN_ASSISTANT_MODELS_DIR=data / "models", embedding_backend="hash",
                             store_watch_interval_s=0))


def test_ingestion_refuses_a_non_plan_unless_forced(tmp_path: Path) -> None:
    services = hash_services(tmp_path / "data")
    plan = write(tmp_path, "tan-lap.txt", SMALL_PLAN)
    recipe = write(tmp_path, "pho-bo.txt", RECIPE)
    report = services.ingestor.ingest_paths([plan, recipe])
    status = {Path(r.path).name: r for r in report.results}
    assert status["tan-lap.txt"].status == "added" and status["tan-lap.txt"].code is None
    refused = status["pho-bo.txt"]
    assert (refused.status, refused.code) == ("failed", "not_a_plan")
    assert refused.error is not None and refused.error.startswith("Tệp không giống một kế hoạch")
    store = services.store
    chunks = store.catalog.all_chunk_ids()
    assert [d.doc_id for d in store.catalog.documents()] == ["tan-lap"]
    assert store.dense.ids() == chunks
    assert not (services.ingestor.sources_dir / "pho-bo.txt").exists()

    result = services.ingestor.ingest_file(recipe, force=True)
    assert (result.status, result.code) == ("added", None)
    assert {d.doc_id for d in store.catalog.documents()} == {"tan-lap", "pho-bo"}
    # confirmed once, a forced document is kept by a reindex
    assert not services.ingestor.reindex().failed


def test_api_refuses_a_non_plan_with_422_and_stores_it_when_forced(tmp_path: Path) -> None:
    services = hash_services(tmp_path / "data")
    with TestClient(create_app(services)) as client:
        assert wait_for(lambda: client.get("/ready").status_code == 200)
        upload = {"file": ("pho-bo.txt", RECIPE.encode(), "text/plain")}
        refused = client.post("/api/documents", files=upload)
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["detail"].startswith("Không nạp tệp 'pho-bo.txt': Tệp không giống một kế hoạch (thiếu:")
        assert "force=true" in body["detail"]
        assert body["errors"][0]["type"] == "not_a_plan"
        assert client.get("/api/documents").json() == []

        forced = client.post("/api/documents", files=upload, data={"force": "true"})
        assert forced.status_code == 201, forced.text
        assert forced.json()["id"] == "pho-bo"
        news = client.post("/api/documents?force=true", files={"file": ("tin-tuc.txt", NEWS.encode(), "text/plain")})
        assert news.status_code == 201, news.text
        assert {d["id"] for d in client.get("/api/documents").json()} == {"pho-bo", "tin-tuc"}

        plan = client.post("/api/documents", files={"file": ("tan-lap.txt", SMALL_PLAN.encode(), "text/plain")},
                           data={"force": "false"})
        assert plan.status_code == 201, plan.text
        bad = client.post("/api/documents", files=upload, data={"force": "có lẽ"})
        assert bad.status_code == 422 and "force" in bad.json()["detail"]


def test_openapi_documents_force(tmp_path: Path) -> None:
    schema = create_app(hash_services(tmp_path / "data")).openapi()
    post = schema["paths"]["/api/documents"]["post"]
    assert "not_a_plan" in post["description"]
    assert any(p["name"] == "force" and p["in"] == "query" for p in post["parameters"])
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["force"]["type"] == "boolean" and "KẾ HOẠCH" in form["force"]["description"]


def test_cli_ingest_refuses_a_non_plan_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = hash_services(tmp_path / "data")
    monkeypatch.setattr(cli, "_services", lambda: services)
    recipe = write(tmp_path, "pho-bo.txt", RECIPE)
    runner = CliRunner()
    refused = runner.invoke(cli.app, ["ingest", str(recipe)], env={"COLUMNS": "300"})
    assert refused.exit_code == 1
    assert "pho-bo.txt: Tệp không giống một kế hoạch (thiếu:" in refused.output
    assert "chạy lại lệnh với --force" in refused.output
    assert services.store.catalog.documents() == []
    forced = runner.invoke(cli.app, ["ingest", "--force", str(recipe)], env={"COLUMNS": "300"})
    assert forced.exit_code == 0, forced.output
    assert "pho-bo.txt: added" in forced.output
    assert "--force" in runner.invoke(cli.app, ["ingest", "--help"]).output
