"""Real server processes for the API tests: uvicorn on a free port over a copy of the ingested corpus.

Two servers start in parallel on first use: an open one (no API keys) and a key-protected one
(API keys and protect_reads). Each has its own copy of the data, so uploads and deletions in one
do not affect the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from servers import MAX_UPLOAD_MB, ServerProcess

API_KEY = "secret-key"


@pytest.fixture(scope="session")
def _servers(
    corpus_data_copy: Callable[[], Path], models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ServerProcess]]:
    logs = tmp_path_factory.mktemp("server-logs")
    servers: dict[str, ServerProcess] = {}
    try:
        servers["open"] = ServerProcess(corpus_data_copy(), models_dir, logs / "open.log")
        servers["secure"] = ServerProcess(
            corpus_data_copy(),
            models_dir,
            logs / "secure.log",
            api_keys=f'["{API_KEY}"]',
            protect_reads="true",
        )
        servers["writes"] = ServerProcess(
            corpus_data_copy(), models_dir, logs / "writes.log", api_keys=f'["{API_KEY}"]', protect_reads="false"
        )
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def api_url(_servers: dict[str, ServerProcess]) -> str:
    """An open server (no API keys) over the default corpus."""
    return _servers["open"].wait_ready()


@pytest.fixture(scope="session")
def secure_url(_servers: dict[str, ServerProcess]) -> str:
    """A server with API keys and protect_reads: every endpoint but /health and /ready needs the key."""
    return _servers["secure"].wait_ready()


@pytest.fixture(scope="session")
def writes_url(_servers: dict[str, ServerProcess]) -> str:
    """A server with API keys but open reads: only changes need the key."""
    return _servers["writes"].wait_ready()


@pytest.fixture(scope="session")
def max_upload_mb() -> float:
    return MAX_UPLOAD_MB


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=120) as c:
        yield c
