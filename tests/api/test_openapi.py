"""The OpenAPI document says what this server does (in process, hash embedder): security only where the
settings require a key, the limits the server enforces, and a 405 that names every allowed method."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servers import app_client

WRITES = {
    ("post", "/api/documents"),
    ("delete", "/api/documents/{doc_id}"),
    ("patch", "/api/documents/{doc_id}/metadata"),
    ("post", "/api/documents/reindex"),
}
ALWAYS_OPEN = {("get", "/health"), ("get", "/ready")}



@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path) as client:
        yield client


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, ops in schema["paths"].items() for method, op in ops.items()}


def secured(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {key for key, op in operations(schema).items() if op.get("security")}


def test_without_keys_no_operation_asks_for_one(open_client: TestClient) -> None:
    schema = open_client.get("/openapi.json").json()
    assert len(operations(schema)) >= 11
    assert secured(schema) == set()
    assert "securitySchemes" not in schema.get("components", {})
    assert "Máy chủ này** không yêu cầu khóa API" in schema["info"]["description"]


def test_with_keys_only_writes_need_one(tmp_path: Path) -> None:
    with app_client(tmp_path, api_keys=["k"]) as client:
        schema = client.get("/openapi.json").json()
        assert secured(schema) == WRITES
        assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        assert operations(schema)[("post", "/api/documents")]["security"] == [{"HTTPBearer": []}]


def test_with_keys_and_protected_reads_everything_but_health_needs_one(tmp_path: Path) -> None:
    with app_client(tmp_path, api_keys=["k"], protect_reads=True) as client:
        schema = client.get("/openapi.json").json()
        everything = set(operations(schema))
        assert everything > WRITES and ("post", "/api/draft") in everything
        assert secured(schema) == everything - ALWAYS_OPEN


def test_limits_come_from_the_settings(tmp_path: Path) -> None:
    with app_client(tmp_path, max_question_chars=321, max_top_k=7) as client:
        schema = client.get("/openapi.json").json()
        ask = schema["components"]["schemas"]["AskRequest"]["properties"]
        assert ask["question"]["maxLength"] == 321 and ask["question"]["minLength"] == 1
        top_k = next(b for b in ask["top_k"]["anyOf"] if b["type"] == "integer")
        assert (top_k["minimum"], top_k["maximum"]) == (1, 7)
        params = {p["name"]: p["schema"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
        assert params["q"]["maxLength"] == 321
        assert (params["k"]["minimum"], params["k"]["maximum"]) == (1, 7)
        assert "x-settings-limit" not in str(schema)
        # the server enforces what the schema says, with its own Vietnamese message
        too_long = client.post("/api/ask", json={"question": "x" * 322})
        assert too_long.status_code == 422 and "tối đa 321" in too_long.json()["detail"]
        assert client.get("/api/search", params={"q": "x", "k": 8}).status_code == 422
        chat = client.post(
            "/v1/chat/completions",
            json={"model": "plan-assistant", "messages": [{"role": "user", "content": "x" * 322}]},
        )
        assert chat.status_code == 400 and "tối đa 321" in chat.json()["error"]["message"]


def test_fixed_sets_and_upload_types_are_declared(open_client: TestClient) -> None:
    schema = open_client.get("/openapi.json").json()
    draft = schema["components"]["schemas"]["DraftIn"]
    assert set(draft["properties"]["plan_type"]["enum"]) == {"pii", "nq57", "innovative"}
    assert {"commune", "plan_type", "year"} <= set(
        draft["required"]
    )  # required by the service, not by pydantic
    examples = {p["name"]: p["schema"] for p in schema["paths"]["/api/draft/examples"]["get"]["parameters"]}
    assert set(next(b for b in examples["plan_type"]["anyOf"] if "enum" in b)["enum"]) == {
        "pii",
        "nq57",
        "innovative",
    }
    form = schema["paths"]["/api/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "application/pdf" in form["encoding"]["file"]["contentType"]
    description = form["schema"]["properties"]["file"]["description"]
    assert all(suffix in description for suffix in (".txt", ".md", ".docx", ".pdf")) and "MB" in description


def allow(response: Any) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


def test_405_names_every_method_of_the_path(open_client: TestClient) -> None:
    response = open_client.put("/api/documents")
    assert response.status_code == 405 and allow(response) >= {"GET", "POST"}
    assert response.json()["detail"]  # the Vietnamese error body
    one = open_client.put("/api/documents/some-id")
    assert one.status_code == 405 and allow(one) >= {"GET", "DELETE"}
    options = open_client.options("/api/documents")
    assert options.status_code in (204, 405) and allow(options) >= {"GET", "POST"}
    chat = open_client.get("/v1/chat/completions")
    assert chat.status_code == 405 and allow(chat) == {"POST"} and "error" in chat.json()
