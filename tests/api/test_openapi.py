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
    # the part's file name decides the type: the example names one the server takes
    disposition = form["encoding"]["file"]["headers"]["Content-Disposition"]["example"]
    assert disposition.startswith('form-data; name="file"; filename="') and disposition.endswith('.md"')


def _value_schema(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` followed and its null branch dropped (``anyOf: [X, null]`` -> X)."""
    while True:
        if "$ref" in node:
            target: Any = schema
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif "anyOf" in node and len(branches := [b for b in node["anyOf"] if b.get("type") != "null"]) == 1:
            node = branches[0]
        else:
            return node


def _at_pointer(schema: dict[str, Any], node: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the value at the JSON pointer ``pointer`` of an instance of ``node``."""
    for part in pointer.removeprefix("/").split("/"):
        node = _value_schema(schema, node)
        node = node["items"] if part.isdigit() else node["properties"][part]
    return _value_schema(schema, node)


def test_links_lead_to_operations_that_take_their_values(open_client: TestClient) -> None:
    """Every link names an operation of the document, parameters that operation has, and a value the source
    response holds with the type the parameter takes."""
    schema = open_client.get("/openapi.json").json()
    followed = set()
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            for status, response in operation["responses"].items():
                for name, link in response.get("links", {}).items():
                    pointer, _, target_method = link["operationRef"].removeprefix("#/paths/").rpartition("/")
                    target_path = pointer.replace("~1", "/").replace("~0", "~")
                    target = schema["paths"][target_path][target_method]
                    parameters = {p["name"]: p for p in target.get("parameters", [])}
                    body = response["content"]["application/json"]["schema"]
                    for parameter, expression in link["parameters"].items():
                        assert expression.startswith("$response.body#/"), (path, name, expression)
                        value = _at_pointer(schema, body, expression.removeprefix("$response.body#"))
                        taken = _value_schema(schema, parameters[parameter]["schema"])
                        assert value["type"] == taken["type"] == "string", (path, status, name, parameter)
                    followed.add((method.upper(), path, status, target_method.upper(), target_path))
    # the workflows: an upload leads to its plan (and to its deletion), or to its job, and the job to the plan
    assert {
        ("POST", "/api/documents", "201", "DELETE", "/api/documents/{doc_id}"),
        ("POST", "/api/documents", "200", "PATCH", "/api/documents/{doc_id}/metadata"),
        ("POST", "/api/documents", "202", "GET", "/api/jobs/{job_id}"),
        ("GET", "/api/jobs/{job_id}", "200", "GET", "/api/documents/{doc_id}"),
        ("GET", "/v1/models", "200", "GET", "/v1/models/{model_id}"),
    } <= followed


def test_a_csv_named_after_any_filter_downloads(open_client: TestClient) -> None:
    """The file name follows the filter, whose characters need not fit an HTTP header (Latin-1)."""
    response = open_client.get("/api/records", params={"format": "csv", "unit": "B\x85~𓎳æ\x18", "year": 2043})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="phan-cong-') and ".csv\"; filename*=UTF-8''" in disposition
    plain = open_client.get("/api/records", params={"format": "csv", "year": 2026})
    assert plain.headers["content-disposition"] == 'attachment; filename="phan-cong-2026.csv"'


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
