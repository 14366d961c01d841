"""Real server processes for the API tests: uvicorn on a free port over a copy of the ingested corpus.

Two servers start in parallel on first use: an open one (no API keys) and a key-protected one
(API keys and protect_reads). Each has its own copy of the data, so uploads and deletions in one
do not affect the other.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_S = 180.0
API_KEY = "secret-key"
MAX_UPLOAD_MB = 1.0  # small, so the 413 test sends little


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`uvicorn assistant.server:app_factory --factory` in a subprocess, with its log in a file."""

    def __init__(self, data_dir: Path, models_dir: Path, log_path: Path, **settings: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PLAN_ASSISTANT_")}
        env = {
            **inherited,
            "PLAN_ASSISTANT_DATA_DIR": str(data_dir),
            "PLAN_ASSISTANT_MODELS_DIR": str(models_dir),
            "PLAN_ASSISTANT_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            **{f"PLAN_ASSISTANT_{k.upper()}": v for k, v in settings.items()},
        }
        command = [
            sys.executable, "-m", "uvicorn", "assistant.server:app_factory", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=data_dir.parent
        )
        self._ready = False

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> str:
        """Wait until /health and then /ready answer 200; the URL."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._ready and time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    self._ready = httpx.get(f"{self.url}/ready", timeout=5).status_code == 200
            except httpx.TransportError:
                pass
            if not self._ready:
                time.sleep(0.5)
        if not self._ready:
            pytest.fail(f"server not ready after {STARTUP_TIMEOUT_S:.0f} s:\n{self._log_tail()}")
        return self.url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


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
