"""The shared, incremental store, in process (hash embedder, SQLite): what one process commits,
another sees (at its next request, or from its watcher); a refresh re-reads only the documents
that changed; an unchanged file is not parsed again; old catalogs are migrated, newer ones and
unreachable databases refused in Vietnamese. The same behaviour on a real PostgreSQL and a real
``chroma run`` server is in ``test_shared_servers.py``."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from corpus import HOA_DIEN, VINH_THUAN, copy_plan, hash_settings
from fastapi.testclient import TestClient
from servers import wait_for

import assistant.indexing
from assistant.api.app import create_app
from assistant.services import Services
from vectorstore.catalog import SCHEMA_VERSION, Catalog, CatalogError


def test_what_one_process_commits_the_other_sees(tmp_path: Path) -> None:
    writer = Services(hash_settings(tmp_path / "data"))
    reader = Services(hash_settings(tmp_path / "data"))
    assert reader.store.snapshot.documents == {}

    writer.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    assert set(writer.store.snapshot.documents) == {HOA_DIEN}  # its own write: at once
    assert reader.store.snapshot.documents == {}  # the other process: not until it looks
    assert reader.store.refresh_if_changed()
    assert set(reader.store.snapshot.documents) == {HOA_DIEN}
    assert reader.qa.ask("Ai ký kế hoạch của xã Hòa Điền?").found
    assert not reader.store.refresh_if_changed()  # nothing new: no rebuild

    writer.ingestor.remove(HOA_DIEN)
    assert reader.store.refresh_if_changed()
    assert reader.store.snapshot.documents == {}
    assert not reader.store.snapshot.records


def test_a_watching_process_follows_without_being_asked(tmp_path: Path) -> None:
    writer = Services(hash_settings(tmp_path / "data"))
    watcher = Services(hash_settings(tmp_path / "data", store_watch_interval_s=0.05))
    watcher.store  # noqa: B018 - start watching before the write
    writer.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    assert wait_for(lambda: HOA_DIEN in watcher.store.snapshot.documents, timeout_s=10)
    watcher.store.close()


def test_a_refresh_rereads_only_the_documents_that_changed(tmp_path: Path) -> None:
    services = Services(hash_settings(tmp_path / "data"))
    services.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    before = services.store.snapshot
    services.ingestor.ingest_paths([copy_plan(VINH_THUAN, tmp_path / "in")])
    after = services.store.snapshot
    assert after.generation > before.generation
    assert after.segments[HOA_DIEN] is before.segments[HOA_DIEN]  # reused whole, term counts included
    assert set(after.documents) == {HOA_DIEN, VINH_THUAN}
    # every document's chunks are one contiguous range: filters need no documents x chunks masks
    for doc_id, (start, end) in after.doc_range.items():
        assert {c.doc_id for c in after.chunks[start:end]} == {doc_id}
    mask = after.mask_for({VINH_THUAN})
    assert mask is not None and mask.sum() == sum(c.doc_id == VINH_THUAN for c in after.chunks)
    assert after.kind_mask({"record"}).sum() == sum(c.kind == "record" for c in after.chunks)
    # the same answers as a snapshot built from nothing
    fresh = Services(hash_settings(tmp_path / "data"))
    question = "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?"
    assert services.qa.ask(question).answer == fresh.qa.ask(question).answer


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services(hash_settings(tmp_path / "data"))
    source = copy_plan(HOA_DIEN, tmp_path / "in")
    assert services.ingestor.ingest_paths([source]).count("added") == 1

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(assistant.indexing, "parse_file", no_parsing)
    again = services.ingestor.ingest_paths([source]).results[0]
    assert (again.status, again.chunks_added, again.chunks_unchanged) == ("unchanged", 0, len(
        services.store.catalog.chunk_ids(HOA_DIEN)))
    monkeypatch.undo()

    # another chunking (another pipeline signature) re-reads the file and rebuilds its chunks
    rechunked = Services(hash_settings(tmp_path / "data", chunk_max_tokens=128))
    assert rechunked.ingestor.ingest_paths([source]).count("updated") == 1
    # an edited file is read again even under the same pipeline
    source.write_text(source.read_text(encoding="utf-8") + "\nGhi chú: bổ sung.\n", encoding="utf-8")
    assert rechunked.ingestor.ingest_paths([source]).count("updated") == 1


SCHEMA_1 = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, filename TEXT NOT NULL, source_path TEXT NOT NULL,
    sha256 TEXT NOT NULL, metadata TEXT NOT NULL, lines TEXT NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, kind TEXT NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, body TEXT NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, record_id TEXT);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE records (record_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
INSERT INTO documents (doc_id, filename, source_path, sha256, metadata, lines)
    VALUES ('ke-hoach-cu', 'ke-hoach-cu.txt', '/nowhere', 'abc', '{"commune": "Tân Lập"}', '[]');
INSERT INTO chunks VALUES ('c1', 'ke-hoach-cu', 0, 'text', 'I', 'Nội dung', 'Nội dung', 1, 2, NULL);
"""


def test_a_catalog_of_schema_1_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_1)
    catalog = Catalog(f"sqlite:///{path}")
    [row] = catalog.documents()
    assert (row.doc_id, row.commune, row.n_chunks, row.revision, row.pipeline) == ("ke-hoach-cu", "Tân Lập", 1, 0, "")
    assert catalog.generation() == 0
    catalog.remove_document("ke-hoach-cu")
    assert catalog.generation() == 1 and catalog.all_chunk_ids() == set()
    catalog.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM store_state WHERE name = 'schema_version'").fetchone() == (
            SCHEMA_VERSION,)


def test_a_newer_schema_is_refused_in_vietnamese(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    Catalog(url).close()
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as conn:
        conn.execute("UPDATE store_state SET value = ? WHERE name = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(CatalogError, match="mới hơn phiên bản"):
        Catalog(url)


def test_an_unreachable_database_is_a_vietnamese_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="không truy cập được cơ sở dữ liệu") as caught:
        settings = hash_settings(tmp_path / "data", database_url="postgresql+psycopg://plans:secret@127.0.0.1:1/plans")
        Catalog(settings.catalog_url)
    assert "secret" not in str(caught.value)  # the password is never shown


def test_a_request_sees_what_another_process_committed_before_it(tmp_path: Path) -> None:
    server = Services(hash_settings(tmp_path / "data"))  # no watcher: the request itself looks
    other = Services(hash_settings(tmp_path / "data"))
    with TestClient(create_app(server)) as client:
        assert wait_for(lambda: client.get("/ready").status_code == 200)
        assert client.get("/api/documents").json() == []
        other.ingestor.ingest_paths([copy_plan(VINH_THUAN, tmp_path / "in")])
        assert [d["id"] for d in client.get("/api/documents").json()] == [VINH_THUAN]
        answer = client.post("/api/ask", json={"question": "Ai ký kế hoạch của xã Vĩnh Thuận?"}).json()
        assert answer["found"]


def test_a_database_gone_away_is_a_503_in_vietnamese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services(hash_settings(tmp_path / "data"))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        assert wait_for(lambda: client.get("/ready").status_code == 200)

        def gone() -> int:
            raise CatalogError("không truy cập được cơ sở dữ liệu (postgresql://db/plans): connection refused")

        monkeypatch.setattr(services.store.catalog, "generation", gone)
        response = client.get("/api/documents")
        assert response.status_code == 503
        assert "Kho dữ liệu tạm thời không truy cập được" in response.json()["detail"]


def test_a_replica_without_the_source_files_reindexes_from_the_catalog(tmp_path: Path) -> None:
    first = Services(hash_settings(tmp_path / "data"))
    first.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    for copy in (tmp_path / "data" / "sources").iterdir():  # another machine: same database, no such files
        copy.unlink()
    (tmp_path / "in" / f"{HOA_DIEN}.txt").unlink()
    replica = Services(hash_settings(tmp_path / "data", chunk_max_tokens=128))  # and a new chunking to apply
    report = replica.ingestor.reindex()
    assert [(r.status, r.error) for r in report.results] == [("updated", None)]
    assert replica.qa.ask("Ai ký kế hoạch của xã Hòa Điền?").found
    replica.ingestor.remove(HOA_DIEN)
    assert replica.store.catalog.source(HOA_DIEN) is None  # removed with every other trace


def test_a_request_wakes_the_watcher_and_waits_for_its_rebuild(tmp_path: Path) -> None:
    server = Services(hash_settings(tmp_path / "data", store_watch_interval_s=60))  # it would not look for a minute
    other = Services(hash_settings(tmp_path / "data"))
    server.store  # noqa: B018
    other.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    assert server.store.snapshot.documents == {}
    server.store.sync()
    assert set(server.store.snapshot.documents) == {HOA_DIEN}
    server.store.close()


def test_a_new_snapshot_is_prepared_before_it_serves_and_reuses_each_plans_part(tmp_path: Path) -> None:
    services = Services(hash_settings(tmp_path / "data"))
    services.qa  # noqa: B018 - the QA service asks the store to prepare every snapshot
    services.ingestor.ingest_paths([copy_plan(HOA_DIEN, tmp_path / "in")])
    first = services.store.snapshot
    assert "knowledge" in first.cache  # computed before publication, not by the first question
    part = first.segments[HOA_DIEN].cache["knowledge"]
    services.ingestor.ingest_paths([copy_plan(VINH_THUAN, tmp_path / "in")])
    second = services.store.snapshot
    assert "knowledge" in second.cache and second.cache["knowledge"] is not first.cache["knowledge"]
    assert second.segments[HOA_DIEN].cache["knowledge"] is part  # the unchanged plan's part is reused


def test_leftovers_of_killed_uploads_are_swept_at_start_but_not_fresh_ones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_source = data / "sources" / ".incoming-abc"
    old_upload = data / "uploads" / ".upload-xyz"
    fresh_upload = data / "uploads" / ".upload-now"  # a sibling worker's upload in flight
    kept_source = data / "sources" / "ke-hoach.txt"
    for path in (old_upload, fresh_upload):
        path.mkdir(parents=True)
        (path / "plan.docx").write_bytes(b"x")
    old_source.parent.mkdir(parents=True)
    old_source.write_bytes(b"half")
    kept_source.write_bytes(b"plan")
    long_ago = time.time() - 2 * 3600
    for path in (old_source, old_upload):
        os.utime(path, (long_ago, long_ago))
    services = Services(hash_settings(data))
    assert services.ingestor.swept == 2
    assert not old_source.exists() and not old_upload.exists()
    assert fresh_upload.exists() and kept_source.exists()


def test_the_store_under_test_is_the_one_the_run_asks_for(fast_services: Services,
                                                          request: pytest.FixtureRequest) -> None:
    """`pytest --store shared` runs the suite on PostgreSQL and a Chroma server, not silently on SQLite."""
    shared = request.config.getoption("--store") == "shared"
    store = fast_services.store
    assert store.catalog.engine.dialect.name == ("postgresql" if shared else "sqlite")
    assert fast_services.settings.chroma_mode == ("http" if shared else "embedded")
    assert store.dense.collection.count() == len(store.catalog.all_chunk_ids())
