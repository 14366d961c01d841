"""A synchronous upload whose client goes away before ingestion ends is not kept: a real uvicorn server
(in a thread, hash embedder, ingestion slowed down) and a raw socket that sends the whole upload, then
closes before the answer. The fast tier."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import assistant.indexing
from assistant.api.app import create_app
from assistant.indexing import FileResult
from assistant.services import Services
from core.config import Settings
from vectorstore.chroma_store import free_port

PLAN_TEXT = (
    "ỦY BAN NHÂN DÂN XÃ TÂN LẬP\n\nKẾ HOẠCH\nThử nghiệm ngắt kết nối năm 2026\n\n"
    "I. MỤC ĐÍCH\n1. Phòng Văn hóa - Xã hội chủ trì tuyên truyền chuyển đổi số cho người dân.\n"
)
PARSE_DELAY_S = 1.5  # ingestion still running well after the client has gone
BOUNDARY = "plan-assistant-disconnect"


@dataclass
class LiveServer:
    url: str
    port: int
    services: Services
    parse_started: threading.Event
    results: list[FileResult]
    ingested: threading.Event

    def documents(self) -> dict[str, str]:
        """id -> sha256 of every stored plan."""
        response = httpx.get(f"{self.url}/api/documents", timeout=10)
        assert response.status_code == 200
        return {d["id"]: self.services.store.catalog.document(d["id"]).sha256 for d in response.json()}

    def leftovers(self) -> list[Path]:
        settings = self.services.settings
        sources = settings.data_dir / "sources"
        return [
            *(settings.uploads_dir.glob(".upload-*") if settings.uploads_dir.is_dir() else []),
            *(sources.glob(".incoming-*") if sources.is_dir() else []),
        ]


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        PLAN_ASSISTANT_MODELS_DIR=tmp_path / "models",
        embedding_backend="hash",
        store_watch_interval_s=0,
    )
    services = Services(settings)
    parse_started, ingested = threading.Event(), threading.Event()
    results: list[FileResult] = []
    parse_file = assistant.indexing.parse_file

    def slow_parse(*args: Any, **kwargs: Any) -> Any:
        parse_started.set()
        time.sleep(PARSE_DELAY_S)
        return parse_file(*args, **kwargs)

    ingest_file = services.ingestor.ingest_file

    def recording_ingest(*args: Any, **kwargs: Any) -> FileResult:
        result = ingest_file(*args, **kwargs)
        results.append(result)
        ingested.set()
        return result

    monkeypatch.setattr(assistant.indexing, "parse_file", slow_parse)
    monkeypatch.setattr(services.ingestor, "ingest_file", recording_ingest)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield LiveServer(url, port, services, parse_started, results, ingested)
    finally:
        server.should_exit = True
        thread.join(15)


def raw_upload(port: int, filename: str, text: str) -> bytes:
    """The bytes of a complete HTTP/1.1 multipart upload to POST /api/documents."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + text.encode() + f"\r\n--{BOUNDARY}--\r\n".encode()
    head = (
        f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def upload_then_hang_up(live: LiveServer, filename: str, text: str) -> None:
    """Send the whole upload, wait until the server is ingesting it, close the connection unanswered."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(raw_upload(live.port, filename, text))
        assert live.parse_started.wait(10), "the server never started ingesting"
    # the socket is closed here, while the plan is still being parsed


def assert_unchanged_for(live: LiveServer, before: dict[str, str], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert live.documents() == before
        time.sleep(0.2)


def test_a_disconnected_upload_is_not_kept(live: LiveServer) -> None:
    before = live.documents()
    upload_then_hang_up(live, "ngat-ket-noi.txt", PLAN_TEXT)
    assert live.ingested.wait(PARSE_DELAY_S + 10), "ingestion never ended"
    assert [(r.code, r.status) for r in live.results] == [("cancelled", "failed")]
    assert_unchanged_for(live, before)
    assert "ngat-ket-noi" not in live.documents()
    assert not list((live.services.settings.data_dir / "sources").glob("ngat-ket-noi.*"))
    assert live.leftovers() == []


def test_a_disconnected_update_keeps_the_previous_version(live: LiveServer) -> None:
    first = httpx.post(
        f"{live.url}/api/documents", files={"file": ("cap-nhat.txt", PLAN_TEXT.encode())}, timeout=30
    )
    assert first.status_code == 201, first.text
    before = live.documents()
    live.parse_started.clear()
    live.ingested.clear()
    upload_then_hang_up(live, "cap-nhat.txt", PLAN_TEXT + "2. Công an xã phối hợp thực hiện.\n")
    assert live.ingested.wait(PARSE_DELAY_S + 10)
    assert live.results[-1].code == "cancelled"
    assert_unchanged_for(live, before)  # still the first version, wholly
    lines = httpx.get(f"{live.url}/api/documents/cap-nhat", timeout=10).json()["lines"]
    assert not any("Công an xã" in line["text"] for line in lines)


def test_a_client_that_waits_gets_its_plan(live: LiveServer) -> None:
    """The same slowed ingestion, answered: the rollback is about the hang-up, not the delay."""
    response = httpx.post(
        f"{live.url}/api/documents", files={"file": ("cho-doi.txt", PLAN_TEXT.encode())}, timeout=30
    )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["commune"] == "Tân Lập"
    assert "cho-doi" in live.documents() and live.leftovers() == []
