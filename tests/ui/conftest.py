"""UI fixtures: small stand-in services for the handler tests, and a real server for the browser test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from assistant.qa.types import Answer, Source
from core.config import Settings
from core.model import Record, UnitRef
from vectorstore.catalog import DocumentRow
from vectorstore.chroma_store import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"  # each tab at laptop and phone size, for review
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 300


# --- stand-in services (handlers only turn service results into widgets) -------------------------


def _doc(doc_id: str, commune: str, province: str, plan_type: str, title: str) -> DocumentRow:
    return DocumentRow(
        doc_id=doc_id,
        filename=f"{doc_id}.txt",
        source_path=f"/nowhere/{doc_id}.txt",
        sha256="0" * 64,
        metadata={
            "commune": commune,
            "province": province,
            "plan_type": plan_type,
            "title": title,
            "number": None,
            "date": "2026",
        },
        ingested_at="",
        n_chunks=10,
        n_records=2,
    )


def _record(
    doc_id: str, subject: str, lead: str, partner: str | None, year: int, kind: str = "task"
) -> Record:
    return Record(
        doc_id=doc_id,
        kind=kind,
        subject=subject,
        line_start=10,
        line_end=11,
        raw=subject,
        leads=[UnitRef(lead, lead)],
        partners=[UnitRef(partner, partner)] if partner else [],
        deadline=f"Quý II/{year}",
        year=year,
        record_id=f"{doc_id}-{subject[:8]}",
    )


@dataclass
class FakeSnapshot:
    documents: dict[str, DocumentRow]
    records: list[Record]

    @property
    def communes(self) -> list[str]:
        return sorted({d.commune for d in self.documents.values() if d.commune})


@dataclass
class FakeQA:
    answer: Answer
    calls: list[dict[str, Any]] = field(default_factory=list)

    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        commune: str | None = None,
        top_k: int | None = None,
    ) -> Answer:
        self.calls.append({"question": question, "history": history, "commune": commune})
        return self.answer


@dataclass
class FakeIngestor:
    results: dict[str, SimpleNamespace] = field(default_factory=dict)  # file name -> FileResult-like
    removed: list[str] = field(default_factory=list)

    forced: list[bool] = field(default_factory=list)

    def ingest_file(
        self, path: Path, filename: str | None = None, progress: object = None, force: bool = False
    ) -> SimpleNamespace:
        self.forced.append(force)
        result = self.results[filename or path.name]
        result.__dict__.setdefault("warnings", [])
        for done in range(1, getattr(result, "scanned_pages", 0) + 1):  # a scan: OCR progress per page
            progress(done, result.scanned_pages)  # type: ignore[operator]
        return result

    def remove(self, doc_id: str) -> bool:
        self.removed.append(doc_id)
        return True


def make_source(text: str, commune: str = "Vĩnh Thuận") -> Source:
    return Source(
        document="xa-vinh-thuan.txt",
        doc_id="vt",
        commune=commune,
        province="An Giang",
        plan_title="Kế hoạch PII năm 2026",
        section="III. CƠ SỞ HẠ TẦNG",
        text=text,
        score=0.9,
        kind="record",
        line_start=394,
        line_end=410,
    )


@pytest.fixture()
def source_factory() -> Any:
    return make_source


@pytest.fixture()
def fake_services(tmp_path: Path) -> SimpleNamespace:
    documents = {
        "vt": _doc("vt", "Vĩnh Thuận", "An Giang", "pii", "Kế hoạch PII năm 2026"),
        "vq": _doc("vq", "Vũ Quang", "Hà Tĩnh", "nq57", "Triển khai Nghị quyết 57"),
    }
    records = [
        _record(
            "vt",
            "Hạ tầng số: thực hiện theo kế hoạch chuyển đổi số",
            "Phòng Văn hóa - Xã hội",
            None,
            2026,
            kind="indicator",
        ),
        _record(
            "vt", "Quản trị điện tử", "Trung tâm Phục vụ hành chính công", "Phòng Văn hóa - Xã hội", 2026
        ),
        _record("vq", "Tỷ lệ phủ sóng 5G", "Phòng Kinh tế", None, 2030, kind="target"),
    ]
    answer = Answer(
        answer="Chỉ số Hạ tầng số do Phòng Văn hóa - Xã hội chủ trì (xã Vĩnh Thuận) [1].",
        found=True,
        sources=[
            make_source("Chỉ số 1: Hạ tầng số <script>alert('x')</script> | Đơn vị chủ trì: Phòng Văn hóa")
        ],
    )
    return SimpleNamespace(
        settings=Settings(data_dir=tmp_path / "data"),
        store=SimpleNamespace(snapshot=FakeSnapshot(documents, records)),
        qa=FakeQA(answer),
        ingestor=FakeIngestor(),
    )


# --- the real server, for the browser test -----------------------------------------------------------


@dataclass
class RunningServer:
    url: str
    log: Path


@pytest.fixture(scope="module")
def ui_server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The real app (``assistant.server``) in a uvicorn subprocess, over a copy of the ingested corpus.

    ``PLAN_ASSISTANT_UI_TEST_URL`` points the test at a server already running (over the default
    corpus) instead, to iterate on the UI without ingesting the corpus again.
    """
    running = os.environ.get("PLAN_ASSISTANT_UI_TEST_URL")
    if running:
        yield RunningServer(running.rstrip("/"), Path(os.devnull))
        return
    data_dir = request.getfixturevalue("corpus_data_copy")()
    port = free_port()
    log = tmp_path_factory.mktemp("ui-server") / "server.log"
    env = {
        **os.environ,
        "PLAN_ASSISTANT_DATA_DIR": str(data_dir),
        "PLAN_ASSISTANT_MODELS_DIR": str(models_dir),
        "PLAN_ASSISTANT_LLM_BASE_URL": "",  # extractive answers: the test must not depend on an LLM
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "assistant.server:app_factory",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server was not ready in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield RunningServer(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture()
def artifacts() -> Path:
    """test-artifacts/ui (git-ignored), emptied of the previous run's screenshots."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture()
def screenshots() -> Path:
    """test-artifacts/screenshots (git-ignored), emptied of the previous run's screenshots."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (install it with `apt-get install -y chromium`); CI installs it")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
