"""Uploads as background jobs: ``POST /api/documents?async=true`` answers 202 and ``GET /api/jobs/{id}``
tells queued | running | done | failed (in process, hash embedder: the fast tier)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from servers import app_client

import assistant.indexing

PLAN_TEXT = (
    "ỦY BAN NHÂN DÂN XÃ TÂN LẬP\n\nKẾ HOẠCH\nThử nghiệm tải lên nền năm 2026\n\n"
    "I. MỤC ĐÍCH\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền chuyển đổi số cho người dân.\n"
)
RECIPE_TEXT = "Phở bò\nNguyên liệu: bánh phở, thịt bò, hành, gừng.\nNinh xương bò trong 6 giờ.\n"
JOB_STATES = {"queued", "running", "done", "failed"}



@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path) as c:
        yield c


def upload_async(client: TestClient, name: str, text: str, **params: str) -> httpx.Response:
    return client.post(
        "/api/documents", params={"async": "true", **params}, files={"file": (name, text.encode(), "text/plain")}
    )


def wait_job(client: TestClient, location: str, until: set[str], timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(location)
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["status"] in JOB_STATES
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def document_ids(client: TestClient) -> list[str]:
    return sorted(d["id"] for d in client.get("/api/documents").json())


def leftovers(client: TestClient) -> list[Path]:
    uploads = client.app.state.services.settings.uploads_dir  # type: ignore[attr-defined]
    return list(uploads.glob(".upload-*")) if uploads.is_dir() else []


def test_upload_without_async_stays_synchronous(client: TestClient) -> None:
    response = client.post("/api/documents", files={"file": ("dong-bo.txt", PLAN_TEXT.encode(), "text/plain")})
    assert response.status_code == 201, response.text
    assert "location" not in response.headers
    assert response.json()["id"] == "dong-bo" and response.json()["status"] == "added"
    assert document_ids(client) == ["dong-bo"]


def test_async_upload_answers_202_and_the_job_reports_the_document(client: TestClient) -> None:
    response = upload_async(client, "nen-tan-lap.txt", PLAN_TEXT)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] in {"queued", "running", "done"} and accepted["filename"] == "nen-tan-lap.txt"
    assert response.headers["location"] == f"/api/jobs/{accepted['id']}"

    job = wait_job(client, response.headers["location"], {"done", "failed"})
    assert job["status"] == "done", job
    assert job["error"] is None and job["started_at"] and job["finished_at"]
    document = job["document"]
    assert document["id"] == "nen-tan-lap" and document["status"] == "added"
    assert document["metadata"]["commune"] == "Tân Lập" and document["chunks"] >= 1
    assert document_ids(client) == ["nen-tan-lap"]
    assert leftovers(client) == []  # the saved upload is removed once ingested


def test_a_failed_job_says_why_in_vietnamese_and_stores_nothing(client: TestClient) -> None:
    response = upload_async(client, "pho-bo.txt", RECIPE_TEXT)
    assert response.status_code == 202
    job = wait_job(client, response.headers["location"], {"done", "failed"})
    assert job["status"] == "failed" and job["code"] == "not_a_plan" and job["document"] is None
    assert job["error"].startswith("Không nạp tệp 'pho-bo.txt'")
    assert document_ids(client) == [] and leftovers(client) == []

    forced = upload_async(client, "pho-bo.txt", RECIPE_TEXT, force="true")
    assert wait_job(client, forced.headers["location"], {"done", "failed"})["status"] == "done"
    assert document_ids(client) == ["pho-bo"]


def test_an_invalid_force_field_is_refused_even_with_force_in_the_query(client: TestClient) -> None:
    for params in ({}, {"force": "true"}, {"force": "true", "async": "true"}):
        response = client.post(
            "/api/documents",
            params=params,
            data={"force": "-349"},
            files={"file": ("pho-bo.txt", RECIPE_TEXT.encode(), "text/plain")},
        )
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"] == "Trường 'force' phải là true hoặc false."
    assert document_ids(client) == [] and leftovers(client) == []


def test_type_and_size_are_checked_before_a_job_is_queued(tmp_path: Path) -> None:
    with app_client(tmp_path, max_upload_mb=0.01) as client:
        wrong = upload_async(client, "chuong-trinh.exe", PLAN_TEXT)
        assert wrong.status_code == 415 and "không được hỗ trợ" in wrong.json()["detail"]
        large = upload_async(client, "lon.txt", PLAN_TEXT + "x" * 20_000)
        assert large.status_code == 413 and "Tệp quá lớn" in large.json()["detail"]
        assert "location" not in large.headers and leftovers(client) == []


def test_jobs_run_one_at_a_time(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    parse_file = assistant.indexing.parse_file

    def gated_parse(*args: Any, **kwargs: Any) -> Any:
        release.wait(20)
        return parse_file(*args, **kwargs)

    monkeypatch.setattr(assistant.indexing, "parse_file", gated_parse)
    first = upload_async(client, "thu-nhat.txt", PLAN_TEXT)
    second = upload_async(client, "thu-hai.txt", PLAN_TEXT.replace("TÂN LẬP", "HÒA ĐIỀN"))
    try:
        assert wait_job(client, first.headers["location"], {"running"})["status"] == "running"
        assert client.get(second.headers["location"]).json()["status"] == "queued"
    finally:
        release.set()
    assert wait_job(client, second.headers["location"], {"done", "failed"})["status"] == "done"
    assert client.get(first.headers["location"]).json()["status"] == "done"
    assert document_ids(client) == ["thu-hai", "thu-nhat"]


def test_unknown_job_is_404_in_vietnamese(client: TestClient) -> None:
    response = client.get("/api/jobs/khong-co-cong-viec-nay")
    assert response.status_code == 404
    body = response.json()
    assert body["detail"].startswith("Không có công việc mã 'khong-co-cong-viec-nay'")
    assert body["errors"][0]["type"] == "job_not_found"
    assert client.get("/api/jobs/" + "x" * 65).status_code == 422


def test_jobs_follow_the_api_key_rules(tmp_path: Path) -> None:
    with app_client(tmp_path, api_keys=["k"], protect_reads=True) as client:
        refused = upload_async(client, "khoa.txt", PLAN_TEXT)
        assert refused.status_code == 401 and "location" not in refused.headers
        key = {"Authorization": "Bearer k"}
        response = client.post(
            "/api/documents", params={"async": "true"}, files={"file": ("khoa.txt", PLAN_TEXT.encode())}, headers=key
        )
        assert response.status_code == 202
        location = response.headers["location"]
        assert client.get(location).status_code == 401  # a read, protected by protect_reads
        client.headers.update(key)
        assert wait_job(client, location, {"done", "failed"})["status"] == "done"
    with app_client(tmp_path / "writes", api_keys=["k"]) as client:  # reads open, writes need the key
        assert upload_async(client, "khoa.txt", PLAN_TEXT).status_code == 401
        assert client.get("/api/jobs/abc").status_code == 404


def test_openapi_declares_the_job_flow(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    upload = schema["paths"]["/api/documents"]["post"]
    params = {p["name"]: p for p in upload["parameters"]}
    assert params["async"]["in"] == "query" and params["async"]["schema"]["type"] == "boolean"
    accepted = upload["responses"]["202"]
    assert "Location" in accepted["headers"] and "bộ nhớ" in accepted["description"]
    assert accepted["content"]["application/json"]["schema"]["$ref"].endswith("/JobOut")
    job = schema["components"]["schemas"]["JobOut"]["properties"]
    assert set(job["status"]["enum"]) == JOB_STATES
    get_job = schema["paths"]["/api/jobs/{job_id}"]["get"]
    assert "bộ nhớ" in get_job["description"] and "4XX" in get_job["responses"]
    assert "/api/jobs/{job_id}" in schema["info"]["description"]
