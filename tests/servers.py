"""Real database and vector servers for the end-to-end tier: a throwaway PostgreSQL cluster
(Debian's ``postgresql`` binaries, run as the ``postgres`` user when the tests run as root) and a
``chroma run`` server. Each starts in a temporary directory and is stopped by its fixture."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vectorstore.chroma_store import free_port


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
