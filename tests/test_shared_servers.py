"""The store on real servers: a PostgreSQL cluster and a ``chroma run`` server (the several-machine
set-up), and `plan-assistant serve --workers 2` on one data directory (the one-machine set-up).

- the corpus ingested into PostgreSQL + Chroma server holds what the embedded store holds, and
  answers the probe questions the same way (real embedding model);
- the ingestion life cycle (unchanged, remove, a second process following) on those servers;
- two API replicas over one database: an upload to one is answered by the other at once;
- two workers on one data directory: every request, whichever worker takes it, sees an upload."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from corpus import HOA_DIEN, PLANS, VINH_THUAN
from servers import ServerProcess, postgres_bin, postgres_cluster, wait_for

from assistant.evaluation import grade
from assistant.services import Services
from core.config import Settings
from core.model import Chunk
from vectorstore.catalog import Catalog, DocumentRow
from vectorstore.chroma_store import start_chroma_server
from vectorstore.embeddings import TextEmbedder

PROBES = Path(__file__).resolve().parent / "probes" / "probes_officers.jsonl"
SMALL_PLAN = re.search(
    r'SMALL_PLAN = """(.*?)"""', (Path(__file__).parent / "test_ingestion.py").read_text(encoding="utf-8"), re.S
)
assert SMALL_PLAN is not None
TAN_LAP = SMALL_PLAN.group(1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
    with postgres_cluster() as url:
        yield url


def new_database(server_url: str, name: str) -> str:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    process, port = start_chroma_server(tmp_path_factory.mktemp("chroma-server"))
    yield port
    process.terminate()
    process.wait(timeout=30)


def server_settings(data: Path, models: Path, database_url: str, chroma_port: int, collection: str,
                    **overrides: object) -> Settings:
    return Settings(
        data_dir=data, PLAN_ASSISTANT_MODELS_DIR=models, database_url=database_url, chroma_mode="http",
        chroma_port=chroma_port, collection_name=collection, **overrides,
    )


class RecordedEmbedder:
    """The real model, answering passages it already embedded for the session's corpus from their stored
    vectors (the same model gave them): the shared store is filled without paying the embedding twice."""

    def __init__(self, model: TextEmbedder, embedded: Services) -> None:
        self.model = model
        stored = embedded.store.dense.collection.get(include=["embeddings"])
        texts = {c.chunk_id: c.text for c in embedded.store.catalog.chunks()}
        self.vectors = {texts[i]: np.asarray(v, dtype=np.float32)
                        for i, v in zip(stored["ids"], stored["embeddings"], strict=True) if i in texts}

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.model.embed_passages(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts]) if texts else self.model.embed_passages([])

    def __getattr__(self, name: str) -> object:  # queries, token counts, dimension: the model's own
        return getattr(self.model, name)


@pytest.fixture(scope="session")
def recorded_embedder(base_services: Services, corpus_services: Services) -> RecordedEmbedder:
    return RecordedEmbedder(base_services.embedder, corpus_services)


@pytest.fixture(scope="session")
def shared_services(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, recorded_embedder: RecordedEmbedder,
    postgres_url: str, chroma_port: int,
) -> Iterator[Services]:
    """The default corpus in PostgreSQL and a Chroma server, with the real embedding model."""
    settings = server_settings(tmp_path_factory.mktemp("shared"), models_dir, new_database(postgres_url, "corpus"),
                               chroma_port, "corpus")
    services = Services(settings)
    services.__dict__["embedder"] = recorded_embedder
    report = services.ingestor.ingest_paths([PLANS])
    assert not report.failed, report.failed
    yield services
    services.store.close()


def test_the_shared_store_holds_what_the_embedded_store_holds(
    shared_services: Services, corpus_services: Services
) -> None:
    shared, embedded = shared_services.store, corpus_services.store
    assert shared.catalog.engine.dialect.name == "postgresql"
    assert set(shared.snapshot.documents) == set(embedded.snapshot.documents)
    assert [c.chunk_id for c in shared.snapshot.chunks] == [c.chunk_id for c in embedded.snapshot.chunks]
    assert [r.record_id for r in shared.snapshot.records] == [r.record_id for r in embedded.snapshot.records]
    assert shared.dense.ids() == shared.catalog.all_chunk_ids()  # the Chroma server holds every chunk once


def test_probe_questions_are_answered_alike_on_both_stores(
    shared_services: Services, corpus_services: Services
) -> None:
    items = [json.loads(line) for line in PROBES.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [item for item in items if not item.get("history")]
    differ, passed = [], 0
    for item in items:
        shared = shared_services.qa.ask(item["question"])
        embedded = corpus_services.qa.ask(item["question"])
        passed += grade(item, shared.answer, shared.found, [s.to_dict() for s in shared.sources])[0]
        if (shared.answer, shared.found) != (embedded.answer, embedded.found):
            differ.append((item["id"], shared.answer[:80], embedded.answer[:80]))
    assert len(differ) <= 0.02 * len(items), differ
    assert passed >= 0.9 * len(items)


def test_life_cycle_on_postgres_and_the_chroma_server(
    tmp_path: Path, models_dir: Path, recorded_embedder: RecordedEmbedder, postgres_url: str, chroma_port: int
) -> None:
    url = new_database(postgres_url, "life_cycle")
    writer = Services(server_settings(tmp_path / "a", models_dir, url, chroma_port, "life_cycle"))
    reader = Services(server_settings(tmp_path / "b", models_dir, url, chroma_port, "life_cycle",
                                      store_watch_interval_s=0.1))
    for services in (writer, reader):
        services.__dict__["embedder"] = recorded_embedder
    reader.store  # noqa: B018 - watching before the writes
    first = writer.ingestor.ingest_paths([PLANS / f"{HOA_DIEN}.txt", PLANS / f"{VINH_THUAN}.txt"])
    assert first.count("added") == 2
    again = writer.ingestor.ingest_paths([PLANS / f"{HOA_DIEN}.txt", PLANS / f"{VINH_THUAN}.txt"])
    assert (again.count("unchanged"), again.chunks_added, again.chunks_removed) == (2, 0, 0)
    assert wait_for(lambda: set(reader.store.snapshot.documents) == {HOA_DIEN, VINH_THUAN}, timeout_s=10)
    assert reader.qa.ask("Ai ký kế hoạch của xã Vĩnh Thuận?").found

    assert writer.ingestor.remove(VINH_THUAN)
    assert writer.store.catalog.chunk_ids(VINH_THUAN) == set()
    assert writer.store.dense.ids() == writer.store.catalog.all_chunk_ids()
    assert wait_for(lambda: set(reader.store.snapshot.documents) == {HOA_DIEN}, timeout_s=10)
    assert not reader.qa.ask("Ai ký kế hoạch của xã Vĩnh Thuận?").found
    writer.store.close()
    reader.store.close()


def test_two_replicas_over_one_database_answer_each_others_uploads(
    tmp_path: Path, models_dir: Path, postgres_url: str, chroma_port: int
) -> None:
    """Two API processes on two data directories (two machines), one PostgreSQL, one Chroma server."""
    url = new_database(postgres_url, "replicas")
    empty = tmp_path / "no-corpus"
    empty.mkdir()
    shared = {"database_url": url, "chroma_mode": "http", "chroma_port": str(chroma_port),
              "collection_name": "replicas", "corpus_dir": str(empty), "embedding_backend": "hash"}
    replicas = [ServerProcess(_data(tmp_path / name), models_dir, tmp_path / f"{name}.log", **shared)
                for name in ("a", "b")]
    try:
        a, b = (httpx.Client(base_url=r.wait_ready(), timeout=60) for r in replicas)
        upload = a.post("/api/documents", files={"file": ("tan-lap.txt", TAN_LAP.encode(), "text/plain")})
        assert upload.status_code == 201, upload.text
        answer = b.post("/api/ask", json={"question": "Ai ký kế hoạch của xã Tân Lập?"}).json()
        assert answer["found"] and "Phạm Văn An" in answer["answer"]
        assert b.delete("/api/documents/tan-lap").status_code == 200
        assert a.get("/api/documents").json() == []
        assert not a.post("/api/ask", json={"question": "Ai ký kế hoạch của xã Tân Lập?"}).json()["found"]
    finally:
        for replica in replicas:
            replica.stop()


def _data(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_serve_with_two_workers_shares_one_data_directory(tmp_path: Path, models_dir: Path) -> None:
    corpus = _data(tmp_path / "corpus")
    (corpus / f"{HOA_DIEN}.txt").write_bytes((PLANS / f"{HOA_DIEN}.txt").read_bytes())
    data = _data(tmp_path / "data")
    server = ServerProcess(data, models_dir, tmp_path / "serve.log", workers=2, corpus_dir=str(corpus),
                           embedding_backend="hash")
    try:
        client = httpx.Client(base_url=server.wait_ready(), timeout=60)
        def log() -> str:
            return server.log_path.read_text(errors="replace")

        assert "Chroma chạy ở chế độ máy chủ" in log()
        assert wait_for(lambda: log().count("Application startup complete") == 2, timeout_s=120), log()[-2000:]
        upload = client.post("/api/documents", files={"file": ("tan-lap.txt", TAN_LAP.encode(), "text/plain")})
        assert upload.status_code == 201, upload.text
        # new connections, spread over both workers: each one sees the upload at once
        for _ in range(20):
            with httpx.Client(base_url=server.url, timeout=60) as fresh:
                answer = fresh.post("/api/ask", json={"question": "Ai ký kế hoạch của xã Tân Lập?"}).json()
                assert answer["found"], answer
                assert len(fresh.get("/api/documents").json()) == 2
    finally:
        server.stop()
    time.sleep(1)
    leftover = subprocess.run(["pgrep", "-f", f"chroma run --path {data / 'chroma'}"], capture_output=True)
    assert leftover.returncode == 1, "the Chroma server outlived `serve`"


def test_concurrent_writers_on_postgres_never_collide(postgres_url: str) -> None:
    """Replicas that start together migrate once; two writers replacing the same plan at once both
    succeed, one after the other, and the generation counts every write."""
    url = new_database(postgres_url, "writers")
    with ThreadPoolExecutor(4) as pool:
        catalogs = list(pool.map(lambda _: Catalog(url), range(4)))
    chunk = Chunk("c-1", "ke-hoach", "Nội dung", "Nội dung", "I", "text", 1, 2, {})

    def write(catalog: Catalog, n: int) -> None:
        row = DocumentRow("ke-hoach", "ke-hoach.txt", "/nowhere", f"sha-{n}", {"commune": "Tân Lập"}, "")
        catalog.replace_document(row, [chunk], [], source=b"plan")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, catalogs * 5, range(20)))
    [row] = catalogs[0].documents()
    assert catalogs[0].generation() == 20 and row.n_chunks == 1
    for catalog in catalogs:
        catalog.close()
