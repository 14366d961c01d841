"""Shared fixtures: the real default embedding model, a real Chroma, the default corpus ingested once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    return Settings(data_dir=data_dir, PLAN_ASSISTANT_MODELS_DIR=models_dir, **overrides)


@pytest.fixture(scope="session")
def fast_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The default corpus ingested with the deterministic hash embedder (no model): the fast tier's QA runs in
    seconds. Treat as read-only."""
    data = tmp_path_factory.mktemp("fast")
    services = Services(Settings(data_dir=data, PLAN_ASSISTANT_MODELS_DIR=data / "models", embedding_backend="hash"))
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
