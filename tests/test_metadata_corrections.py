"""Officers' corrections of a plan's parsed metadata (hash embedder, SQLite, in process): kept in the
catalog, winning wherever the metadata is read (snapshot, listings, QA's communes, facts), kept across
re-ingests of the same file, removed with the plan; refused in Vietnamese when they cannot be kept;
``PATCH /api/documents/{id}/metadata`` protected like the other writes."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import HOA_DIEN, VINH_THUAN, copy_plan, hash_settings
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.indexing import MetadataCorrectionError, check_correction
from assistant.services import Services
from vectorstore.catalog import SCHEMA_VERSION, Catalog

PARSED = "Hòa Điền"
CORRECTED = "Tân Lập Mới"



@pytest.fixture()
def services(tmp_path: Path) -> Services:
    services = Services(hash_settings(tmp_path / "data"))
    report = services.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in"), copy_plan(VINH_THUAN, tmp_path / "in")])
    assert not report.failed
    return services


def test_a_correction_wins_everywhere(services: Services) -> None:
    row = services.ingestor.correct_metadata(HOA_DIEN, {"commune": f"xã {CORRECTED}", "date": "12-03-2026"})
    assert row is not None
    assert (row.commune, row.metadata["date"]) == (CORRECTED, "12/3/2026")  # cleaned: 'xã' and the date form
    assert row.corrected_fields == ["commune", "date"] and row.parsed["commune"] == PARSED
    snapshot = services.store.snapshot
    assert CORRECTED in snapshot.communes and PARSED not in snapshot.communes
    assert snapshot.documents[HOA_DIEN].commune == CORRECTED
    assert {r.commune for r in snapshot.records if r.doc_id == HOA_DIEN} <= {CORRECTED}
    assert services.store.catalog.document(HOA_DIEN).commune == CORRECTED  # the listing
    result = services.qa.ask(f"Ai ký kế hoạch của xã {CORRECTED}?")
    assert result.found and {s.doc_id for s in result.sources} == {HOA_DIEN}
    assert services.store.snapshot.documents[VINH_THUAN].corrections == {}  # the others untouched


def test_a_correction_survives_reingest_and_reindex_and_goes_with_the_plan(services: Services, tmp_path: Path) -> None:
    services.ingestor.correct_metadata(HOA_DIEN, {"commune": CORRECTED, "signer": "Trần Thị B"})
    changed = tmp_path / "in" / f"{HOA_DIEN}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nNội dung bổ sung.\n", encoding="utf-8")
    assert services.ingestor.ingest_file(changed).status == "updated"
    row = services.store.snapshot.documents[HOA_DIEN]
    assert (row.commune, row.metadata["signer"]) == (CORRECTED, "Trần Thị B")
    services.ingestor.reindex()
    assert services.store.snapshot.documents[HOA_DIEN].commune == CORRECTED
    assert services.ingestor.remove(HOA_DIEN)
    assert services.store.catalog.corrections() == {}
    assert services.ingestor.ingest_file(changed).status == "added"  # a new plan of the same name: as parsed
    assert services.store.snapshot.documents[HOA_DIEN].commune == PARSED


def test_dropping_a_correction_restores_the_parsed_value(services: Services) -> None:
    services.ingestor.correct_metadata(HOA_DIEN, {"commune": CORRECTED, "plan_type": "nq57"})
    row = services.ingestor.correct_metadata(HOA_DIEN, {"commune": None, "plan_type": "pii"})  # pii: as parsed
    assert row is not None and row.commune == PARSED and row.corrections == {}
    assert services.store.catalog.corrections() == {}


def test_another_process_sees_a_correction(services: Services) -> None:
    other = Services(services.settings)
    assert PARSED in other.store.snapshot.communes
    services.ingestor.correct_metadata(HOA_DIEN, {"commune": CORRECTED})
    assert other.store.refresh_if_changed()
    assert CORRECTED in other.store.snapshot.communes


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("mayor", "x", "không sửa được"),
        ("date", "31/2/2026", "không có thật"),
        ("date", "hôm qua", "không đúng dạng"),
        ("plan_type", "khác", "không hợp lệ"),
        ("number", "KH-UBND", "bắt đầu bằng số"),
        ("signer", "Nguyễn 123", "không có chữ số"),
        ("commune", "<script>", "không hợp lệ"),
        ("commune", "x" * 101, "quá dài"),
        ("province", 12, "chuỗi ký tự"),
    ],
)
def test_values_that_cannot_be_kept_are_refused_in_vietnamese(name: str, value: object, message: str) -> None:
    with pytest.raises(MetadataCorrectionError, match=message):
        check_correction(name, value)


def test_unknown_plan_and_empty_corrections(services: Services) -> None:
    assert services.ingestor.correct_metadata("khong-co", {"commune": CORRECTED}) is None
    with pytest.raises(MetadataCorrectionError, match="Chưa có trường nào"):
        services.ingestor.correct_metadata(HOA_DIEN, {})


def test_a_schema_2_catalog_gets_the_corrections_table(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:  # as version 2 left it
        conn.execute("DROP TABLE corrections")
        conn.execute("UPDATE store_state SET value = 2 WHERE name = 'schema_version'")
        conn.execute(
            "INSERT INTO documents (doc_id, filename, source_path, sha256, metadata, lines, ingested_at) "
            "VALUES ('kh', 'kh.txt', '/nowhere', 'abc', '{\"commune\": \"Tân Lập\"}', '[]', 'now')"
        )
    catalog = Catalog(f"sqlite:///{path}")
    assert catalog.correct_metadata("kh", {"commune": "Tân Lập Mới"})
    [row] = catalog.documents()
    assert (row.commune, row.parsed, row.revision) == ("Tân Lập Mới", {"commune": "Tân Lập"}, catalog.generation())
    catalog.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM store_state WHERE name = 'schema_version'").fetchone() == (
            SCHEMA_VERSION,)


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture()
def client(services: Services) -> Iterator[TestClient]:
    services.settings.api_keys = ["k"]
    with TestClient(create_app(services)) as client:
        deadline = time.monotonic() + 30
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the index did not load"
            time.sleep(0.05)
        yield client


KEY = {"Authorization": "Bearer k"}


def test_patch_corrects_and_every_read_shows_it(client: TestClient) -> None:
    response = client.patch(f"/api/documents/{HOA_DIEN}/metadata", json={"commune": CORRECTED}, headers=KEY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metadata"]["commune"] == CORRECTED
    assert body["corrected_fields"] == ["commune"] and body["parsed"] == {"commune": PARSED}
    one = client.get(f"/api/documents/{HOA_DIEN}").json()
    assert one["metadata"]["commune"] == CORRECTED and one["corrected_fields"] == ["commune"]
    listed = {d["id"]: d for d in client.get("/api/documents").json()}
    assert listed[HOA_DIEN]["metadata"]["commune"] == CORRECTED
    assert listed[VINH_THUAN]["corrected_fields"] == []
    answer = client.post("/api/ask", json={"question": f"Ai ký kế hoạch của xã {CORRECTED}?"}).json()
    assert answer["found"] and answer["sources"][0]["commune"] == CORRECTED


def test_patch_needs_a_key_when_keys_are_set(client: TestClient, services: Services) -> None:
    response = client.patch(f"/api/documents/{HOA_DIEN}/metadata", json={"commune": CORRECTED})
    assert response.status_code == 401 and response.json()["detail"]
    wrong = client.patch(
        f"/api/documents/{HOA_DIEN}/metadata", json={"commune": CORRECTED}, headers={"Authorization": "Bearer x"}
    )
    assert wrong.status_code == 401
    assert services.store.catalog.corrections() == {}  # nothing changed


def test_patch_errors_are_vietnamese(client: TestClient) -> None:
    missing = client.patch("/api/documents/khong-co/metadata", json={"commune": CORRECTED}, headers=KEY)
    assert missing.status_code == 404 and "Không có kế hoạch" in missing.json()["detail"]
    url = f"/api/documents/{HOA_DIEN}/metadata"
    for body, words in (
        ({"mayor": "x"}, "không được phép"),
        ({"plan_type": "khác"}, "phải là một trong"),
        ({"date": "31/2/2026"}, "không có thật"),
        ({"signer": "Nguyễn 123"}, "không có chữ số"),
        ({}, "Chưa có trường nào"),
        ({"commune": "x" * 101}, "quá dài"),
        ([1, 2], "đối tượng JSON"),
    ):
        response = client.patch(url, json=body, headers=KEY)
        assert response.status_code == 422, (body, response.text)
        text = str(response.json())
        assert words in text, (body, text)


def test_openapi_declares_the_patch(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/documents/{doc_id}/metadata"]["patch"]
    assert operation["security"] == [{"HTTPBearer": []}]
    body = schema["components"]["schemas"]["MetadataCorrection"]
    assert body["additionalProperties"] is False and body["minProperties"] == 1
    assert set(body["properties"]) >= {"commune", "province", "plan_type", "number", "date", "signer"}
    assert body["properties"]["commune"]["anyOf"][0]["maxLength"] == 100
