"""The /api endpoints and every limit, against a real server process."""

from __future__ import annotations

import io
import threading
import time

import httpx
import pytest
from docx import Document

from assistant.api.routers.documents import safe_filename
from core.normalize import fold

SOURCE_FIELDS = {
    "document",
    "doc_id",
    "commune",
    "province",
    "plan_title",
    "section",
    "text",
    "score",
    "kind",
    "line_start",
    "line_end",
}
PLAN_TEXT = (
    "ỦY BAN NHÂN DÂN XÃ THỬ NGHIỆM\n\nKẾ HOẠCH\nThử nghiệm tải lên năm 2026\n\n"
    "I. MỤC ĐÍCH\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền chuyển đổi số cho người dân.\n"
)


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def assert_error(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


# --- health, docs ---------------------------------------------------------------------------------


def test_health_ready_docs_and_root(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["ready"] is True and ready["documents"] >= 5 and ready["chunks"] > 0
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "Trợ lý" in schema["info"]["title"]
    ask = schema["paths"]["/api/ask"]["post"]
    assert ask["summary"] == "Hỏi đáp về các kế hoạch"
    root = client.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/ui"


def test_unknown_route_and_method_get_vietnamese_errors(client: httpx.Client) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "Không tìm thấy")
    assert_error(client.put("/api/ask", json={}), 405)


# --- ask ------------------------------------------------------------------------------------------


def test_ask_answers_with_sources(client: httpx.Client) -> None:
    response = client.post(
        "/api/ask",
        json={
            "question": "Kế hoạch nâng cao Chỉ số đổi mới sáng tạo năm 2026 của xã Hòa Điền có số hiệu gì?",
            "history": [
                {"role": "user", "content": "Xin chào"},
                {"role": "assistant", "content": "Chào bạn"},
            ],
            "top_k": 3,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["answer"], str) and body["answer"]
    assert body["found"] is True
    assert 1 <= len(body["sources"]) <= 3
    assert set(body["sources"][0]) >= SOURCE_FIELDS
    assert isinstance(body["latency_ms"], float)


def test_ask_explains_its_decision_only_when_asked(client: httpx.Client) -> None:
    question = "Ai chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"
    plain = client.post("/api/ask", json={"question": question}).json()
    assert plain["explain"] is None
    body = client.post("/api/ask", json={"question": question, "explain": True}).json()
    trace = body["explain"]
    assert trace["found"] is body["found"] is True
    assert trace["route"] == "fact"
    assert "lead" in trace["plan"]["slots"]
    assert 0 < trace["confidence"] <= 1


def test_ask_filters_by_commune_without_diacritics(client: httpx.Client) -> None:
    response = client.post("/api/ask", json={"question": "Ai chủ trì chuyển đổi số?", "commune": "vu quang"})
    assert response.status_code == 200, response.text
    for source in response.json()["sources"]:
        assert fold(source["commune"]) == "vu quang"


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_ask_rejects_empty_question(client: httpx.Client, question: str) -> None:
    assert_error(client.post("/api/ask", json={"question": question}), 422, "trống")


def test_ask_rejects_overlong_question(client: httpx.Client) -> None:
    body = assert_error(client.post("/api/ask", json={"question": "chuyển đổi số " * 200}), 422, "quá dài")
    assert body["errors"][0]["loc"] == ["body", "question"]


@pytest.mark.parametrize("top_k", [0, -1, 21, 10**9, "năm", 2.5])
def test_ask_rejects_bad_top_k(client: httpx.Client, top_k: object) -> None:
    body = assert_error(client.post("/api/ask", json={"question": "Chỉ tiêu?", "top_k": top_k}), 422)
    assert any("top_k" in item["loc"] for item in body["errors"])


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"[]",
        b'{"question": 42}',
        b'{"question": "a", "history": [{"role": "system", "content": "x"}]}',
        b'{"question": "a", "history": "x"}',
        '{"question": "\ud800"}'.encode("utf-8", "surrogatepass"),
    ],
)
def test_ask_rejects_malformed_bodies(client: httpx.Client, payload: bytes) -> None:
    response = client.post("/api/ask", content=payload, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "không hợp lệ")


def test_json_body_too_large(client: httpx.Client) -> None:
    assert_error(client.post("/api/ask", json={"question": "x" * 2_000_000}), 413, "quá lớn")


def test_body_too_large_without_content_length(client: httpx.Client) -> None:
    def chunks():  # chunked transfer: no Content-Length, the server counts bytes
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "quá lớn")


# --- search ----------------------------------------------------------------------------------------


def test_search_returns_sources(client: httpx.Client) -> None:
    response = client.get("/api/search", params={"q": "chuyen doi so", "k": 3})
    assert response.status_code == 200, response.text
    sources = response.json()
    assert 1 <= len(sources) <= 3 and set(sources[0]) >= SOURCE_FIELDS


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x", "k": 0}, {"q": "x", "k": 1000}, {"q": "x", "k": "a"}]
)
def test_search_rejects_bad_parameters(client: httpx.Client, params: dict) -> None:
    assert_error(client.get("/api/search", params=params), 422)


# --- records ---------------------------------------------------------------------------------------


def test_records_json_filtered_by_commune(client: httpx.Client) -> None:
    response = client.get("/api/records", params={"commune": "hoa dien"})
    assert response.status_code == 200, response.text
    records = response.json()
    assert records
    assert {fold(r["commune"]) for r in records} == {"hoa dien"}
    assert {"subject", "leads", "kind", "line_start", "document"} <= set(records[0])


def test_records_csv_download_with_bom(client: httpx.Client) -> None:
    response = client.get("/api/records", params={"commune": "Hòa Điền", "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã kế hoạch,Tệp,Xã,")
    assert len(lines) == 1 + len(client.get("/api/records", params={"commune": "hoa dien"}).json())


@pytest.mark.parametrize("params", [{"kind": "cake"}, {"year": "abc"}, {"year": 99999}, {"format": "xml"}])
def test_records_reject_bad_parameters(client: httpx.Client, params: dict) -> None:
    assert_error(client.get("/api/records", params=params), 422)


# --- documents -------------------------------------------------------------------------------------


def test_documents_list_and_detail(client: httpx.Client) -> None:
    documents = client.get("/api/documents").json()
    assert len(documents) >= 5
    first = documents[0]
    assert {"id", "filename", "metadata", "chunks", "records", "ingested_at"} <= set(first)
    detail = client.get(f"/api/documents/{first['id']}").json()
    assert detail["id"] == first["id"] and detail["lines"] and {"no", "text"} <= set(detail["lines"][0])


@pytest.mark.parametrize("doc_id", ["no-such-plan", "*", "..", "%2e%2e%2f%2e%2e%2fetc"])
def test_unknown_document_is_404_and_deletes_nothing(client: httpx.Client, doc_id: str) -> None:
    before = len(client.get("/api/documents").json())
    assert client.get(f"/api/documents/{doc_id}").status_code == 404
    assert client.delete(f"/api/documents/{doc_id}").status_code == 404
    assert len(client.get("/api/documents").json()) == before


def test_upload_docx_list_then_delete(client: httpx.Client) -> None:
    data = docx_bytes(PLAN_TEXT.splitlines())
    files = {"file": ("ke-hoach-thu-nghiem-api.docx", data, "application/octet-stream")}
    response = client.post("/api/documents", files=files)
    assert response.status_code in (200, 201), response.text
    uploaded = response.json()
    assert uploaded["filename"] == "ke-hoach-thu-nghiem-api.docx" and uploaded["chunks"] >= 1
    doc_id = uploaded["id"]
    assert doc_id in {d["id"] for d in client.get("/api/documents").json()}
    again = client.post("/api/documents", files=files)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert client.delete(f"/api/documents/{doc_id}").json() == {"id": doc_id, "deleted": True}
    assert doc_id not in {d["id"] for d in client.get("/api/documents").json()}
    assert client.get(f"/api/documents/{doc_id}").status_code == 404


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.txt", "..\\..\\windows\\evil.md", "/abs/../x/../../a b<>|.txt"]
)
def test_upload_file_name_is_sanitized(client: httpx.Client, name: str) -> None:
    response = client.post("/api/documents", files={"file": (name, PLAN_TEXT.encode(), "text/plain")})
    assert response.status_code in (200, 201), response.text
    stored = response.json()["filename"]
    assert "/" not in stored and "\\" not in stored and not stored.startswith(".")
    assert client.delete(f"/api/documents/{response.json()['id']}").status_code == 200


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\Users\\x\\Kế hoạch 128.DOCX") == "Kế hoạch 128.docx"
    assert safe_filename("....txt") == "ke-hoach.txt"
    assert safe_filename("") == "ke-hoach"


def test_upload_unsupported_type_is_415(client: httpx.Client) -> None:
    for name in ("virus.exe", "no-suffix", "table.xlsx"):
        response = client.post(
            "/api/documents", files={"file": (name, b"MZ\x00\x01", "application/octet-stream")}
        )
        assert_error(response, 415, "không được hỗ trợ")


def test_upload_corrupt_docx_is_422_and_nothing_ingested(client: httpx.Client) -> None:
    before = {d["id"] for d in client.get("/api/documents").json()}
    files = {"file": ("hong.docx", b"PK\x03\x04 this is not really a docx", "application/octet-stream")}
    body = assert_error(client.post("/api/documents", files=files), 422, "hong.docx")
    assert len(body["detail"]) > len("Không nạp được tệp 'hong.docx': ")  # the reason is given
    assert {d["id"] for d in client.get("/api/documents").json()} == before


def test_upload_empty_file_is_422(client: httpx.Client) -> None:
    assert_error(client.post("/api/documents", files={"file": ("rong.txt", b"", "text/plain")}), 422)


def test_upload_without_file_is_422(client: httpx.Client) -> None:
    assert_error(client.post("/api/documents", data={"other": "x"}), 422, "file")
    assert_error(client.post("/api/documents", json={"file": "x"}), 422)


def test_upload_too_large_is_413(client: httpx.Client, max_upload_mb: float) -> None:
    data = b"a" * int((max_upload_mb + 0.5) * 1024 * 1024)
    response = client.post("/api/documents", files={"file": ("lon.txt", data, "text/plain")})
    assert_error(response, 413, "quá lớn")


def test_reindex_keeps_documents_and_server_stays_responsive(client: httpx.Client) -> None:
    before = len(client.get("/api/documents").json())
    result: dict = {}

    def run() -> None:
        result["response"] = client.post("/api/documents/reindex")

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert client.get("/health").status_code == 200
    assert time.monotonic() - started < 2.0  # blocking work runs in the threadpool
    worker.join(timeout=300)
    response = result["response"]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["documents"] == before and body["failed"] == []


def test_cors_is_off_by_default(client: httpx.Client) -> None:
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/documents", headers=origin).headers
    preflight = client.options("/api/ask", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


# --- uploads that do not look like a plan ------------------------------------------------------------------

RECIPE_TEXT = (
    "Cách nấu phở bò\nNguyên liệu: bánh phở, thịt bò, xương bò, gừng, hành.\n"
    "1. Sơ chế\nXương bò rửa sạch, ninh trong 6 tiếng.\n2. Hoàn thành\nTrụng bánh phở, chan nước dùng.\n"
)


def test_upload_of_a_non_plan_is_422_unless_forced(client: httpx.Client) -> None:
    files = {"file": ("pho-bo-api.txt", RECIPE_TEXT.encode(), "text/plain")}
    body = assert_error(client.post("/api/documents", files=files), 422, "không giống một kế hoạch", "force=true")
    assert body["errors"][0]["type"] == "not_a_plan"
    assert "pho-bo-api" not in {d["id"] for d in client.get("/api/documents").json()}
    forced = client.post("/api/documents", files=files, data={"force": "true"})
    assert forced.status_code == 201, forced.text
    assert client.delete("/api/documents/pho-bo-api").status_code == 200
