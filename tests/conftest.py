"""Shared fixtures: the real default embedding model, a real Chroma, the default corpus ingested once."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.services import Services  # noqa: E402
from core.config import DEFAULT_CORPUS_DIR, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = DEFAULT_CORPUS_DIR
SHARED_EVAL = ROOT.parent / "shared" / "eval" / "dev.jsonl"


# Fixtures that load the real embedding model (or start servers over it): a test using one is end-to-end.
REAL_MODEL_FIXTURES = frozenset({"models_dir", "base_services", "corpus_services", "fresh_services", "corpus_data_copy",
                                 "postgres_url", "chroma_port"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store", choices=("embedded", "shared"), default="embedded",
                     help="shared: every store the tests build lives on a throwaway PostgreSQL cluster and a "
                          "`chroma run` server (a schema and a collection of its own per store)")


_SHARED: dict[str, object] = {}  # the servers of a --store shared run
_NAMES = itertools.count()


def store_overrides() -> dict[str, object]:
    """Settings that put a new store on the shared servers (a fresh schema and collection); {} when the
    run is on the embedded default."""
    if not _SHARED:
        return {}
    name = f"t{os.getpid()}_{next(_NAMES)}"
    with _SHARED["admin"].connect() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))  # a schema per store: much cheaper than a database
    url = sa.make_url(str(_SHARED["url"])).update_query_dict({"options": f"-csearch_path={name}"})
    return {"database_url": url.render_as_string(hide_password=False), "chroma_mode": "http",
            "chroma_port": _SHARED["port"], "collection_name": name}


@pytest.fixture(scope="session", autouse=True)
def shared_servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """With --store shared: a PostgreSQL cluster and a Chroma server for the whole session."""
    if request.config.getoption("--store") != "shared":
        yield
        return
    from servers import postgres_bin, postgres_cluster

    from vectorstore.chroma_store import start_chroma_server

    if postgres_bin() is None:
        pytest.skip("--store shared needs PostgreSQL (Debian package postgresql; .ci/run installs it)")
    with postgres_cluster() as url:
        process, port = start_chroma_server(tmp_path_factory.mktemp("chroma-server"))
        _SHARED.update(url=url, port=port, admin=sa.create_engine(url, isolation_level="AUTOCOMMIT"))
        try:
            yield
        finally:
            _SHARED.clear()
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(autouse=True)
def _store_under_test() -> Iterator[None]:
    """With --store shared, a store a test builds from settings of its own is on the shared servers too (its
    own MonkeyPatch: a test that undoes its patches keeps these)."""
    if not _SHARED:
        yield
        return
    environment = pytest.MonkeyPatch()
    for key, value in store_overrides().items():
        environment.setenv(f"PLAN_ASSISTANT_{key.upper()}", str(value))
    yield
    environment.undo()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the real model ``e2e``: ``pytest -m "not e2e"`` is the fast tier."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted models, shared by every test (PLAN_ASSISTANT_MODELS_DIR reuses a cache across runs)."""
    configured = os.environ.get("PLAN_ASSISTANT_MODELS_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("models")


def make_settings(data_dir: Path, models_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, PLAN_ASSISTANT_MODELS_DIR=models_dir, **{**store_overrides(), **overrides})


@pytest.fixture(scope="session")
def fast_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The default corpus ingested with the deterministic hash embedder (no model): the fast tier's QA runs in
    seconds. Treat as read-only."""
    data = tmp_path_factory.mktemp("fast")
    services = Services(Settings(data_dir=data, PLAN_ASSISTANT_MODELS_DIR=data / "models", embedding_backend="hash",
                                 **store_overrides()))
    report = services.ingestor.ingest_paths([CORPUS])
    assert not report.failed, report.failed
    return services


@pytest.fixture(scope="session")
def base_services(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Services:
    """One embedder for the whole session (models load once)."""
    return Services(make_settings(tmp_path_factory.mktemp("base"), models_dir))


@pytest.fixture(scope="session")
def corpus_services(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, base_services: Services) -> Services:
    """The default corpus ingested once; treat as read-only."""
    services = Services(make_settings(tmp_path_factory.mktemp("corpus"), models_dir))
    services.__dict__["embedder"] = base_services.embedder
    report = services.ingestor.ingest_paths([CORPUS])
    assert not report.failed, report.failed
    return services


@pytest.fixture()
def fresh_services(tmp_path: Path, models_dir: Path, base_services: Services) -> Iterator[Services]:
    """An empty store of its own (shares the session's embedder)."""
    services = Services(make_settings(tmp_path / "data", models_dir))
    services.__dict__["embedder"] = base_services.embedder
    yield services


@pytest.fixture(scope="session")
def corpus_data_copy(tmp_path_factory: pytest.TempPathFactory, corpus_services: Services):
    """A function that copies the ingested data dir (for a server process of its own)."""

    def copy() -> Path:
        target = tmp_path_factory.mktemp("server-data") / "data"
        shutil.copytree(corpus_services.settings.data_dir, target)
        return target

    return copy
