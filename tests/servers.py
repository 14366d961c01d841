"""Real servers for the end-to-end tier: a throwaway PostgreSQL cluster (Debian's ``postgresql``
binaries, run as the ``postgres`` user when the tests run as root) and Plan Assistant's own server
processes. Each starts in a temporary directory and is stopped by its fixture."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from vectorstore.chroma_store import free_port

STARTUP_TIMEOUT_S = 180.0
READY_TIMEOUT_S = 30.0
MAX_UPLOAD_MB = 1.0  # small, so the 413 test sends little


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's binaries directory (with initdb and pg_ctl)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as ``postgres`` then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A fresh cluster listening on 127.0.0.1; yields a SQLAlchemy URL to its ``plans`` database. Its
    directory sits directly in the temporary directory (the ``postgres`` user cannot enter pytest's)."""
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql)")
    base = Path(tempfile.mkdtemp(prefix="plan-assistant-pg-"))
    data = base / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        _as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "plans", "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )
    log = base / "postgres.log"
    subprocess.run(
        _as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                   "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
        check=True, capture_output=True,
    )
    try:
        subprocess.run(
            _as_owner([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "plans", "plans"]),
            check=True, capture_output=True,
        )
        yield f"postgresql+psycopg://plans@127.0.0.1:{port}/plans"
    finally:
        subprocess.run(
            _as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def wait_for(predicate: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.1) -> bool:
    """Poll ``predicate()`` until it is true or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False


class ServerProcess:
    """`uvicorn assistant.server:app_factory --factory` in a subprocess (or, with ``workers``, the
    `plan-assistant serve --workers N` command), with its log in a file."""

    def __init__(
        self, data_dir: Path, models_dir: Path, log_path: Path, workers: int | None = None, **settings: str
    ) -> None:
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
        ] if workers is None else [
            sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--workers", str(workers),
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


@contextmanager
def app_client(tmp_path: Path, **overrides: Any) -> Iterator[Any]:
    """The API in process (FastAPI's TestClient, hash embedder) over a fresh data directory under
    ``tmp_path``, once its index has loaded; ``overrides`` are settings."""
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.services import Services
    from core.config import Settings

    settings = Settings(
        data_dir=tmp_path / "data",
        PLAN_ASSISTANT_MODELS_DIR=tmp_path / "models",
        embedding_backend="hash",
        store_watch_interval_s=0,
        **overrides,
    )
    with TestClient(create_app(Services(settings))) as client:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the index did not load"
            time.sleep(0.05)
        yield client
