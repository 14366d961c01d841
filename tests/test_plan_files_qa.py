"""Questions about the generated plan (``tests/fixtures/plan_docs.py``) as it arrives: from the Word
file, the PDF printed from it and its scan, each ingested into a store of its own. The issue's bar:
>= 14 of 16 questions answered right from the PDF, >= 13 from the scan. Sources from a PDF name their
page; a scan's pages and confidences reach the documents list; the upload reports OCR progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.plan_docs import QUESTIONS, PlanFiles, shared_ocr_cache, shared_plan, soffice

from assistant.services import Services
from ingest.ocr import missing_engine


def ingested(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, base_services: Services,
             path: Path | None) -> Services:
    from tests.conftest import make_settings

    if path is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    data = tmp_path_factory.mktemp("qa-" + path.suffix.strip("."))
    (data / "ocr-cache").symlink_to(shared_ocr_cache(), target_is_directory=True)
    services = Services(make_settings(data, models_dir))
    services.__dict__["embedder"] = base_services.embedder
    progress: list[tuple[int, int]] = []
    result = services.ingestor.ingest_file(path, progress=lambda done, total: progress.append((done, total)))
    assert result.status == "added", result.error
    services.__dict__["progress"] = progress
    return services


@pytest.fixture(scope="module")
def plan() -> PlanFiles:
    return shared_plan()


def answered(services: Services) -> list[str]:
    """The questions not answered right."""
    wrong = []
    for question, expected in QUESTIONS:
        answer = services.qa.ask(question)
        if not answer.found or any(text not in answer.answer for text in expected):
            wrong.append(f"{question} -> {answer.answer[:160]!r}")
    return wrong


def test_questions_on_the_word_file(tmp_path_factory, models_dir, base_services, plan) -> None:
    services = ingested(tmp_path_factory, models_dir, base_services, plan.docx)
    wrong = answered(services)
    assert len(wrong) <= 2, wrong


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_questions_on_the_pdf_and_pages_in_sources(tmp_path_factory, models_dir, base_services, plan) -> None:
    services = ingested(tmp_path_factory, models_dir, base_services, plan.pdf)
    wrong = answered(services)
    assert len(wrong) <= 2, wrong  # the issue: >= 14 of 16
    answer = services.qa.ask(QUESTIONS[0][0])
    assert answer.sources and all(s.page for s in answer.sources)
    assert answer.sources[0].page >= 3  # the appendix
    meta = services.store.catalog.documents()[0].metadata
    assert meta["pages"] >= 5 and meta["ocr_pages"] == [] and meta["page_starts"][0] == [1, 1]


@pytest.mark.skipif(soffice() is None or missing_engine() is not None, reason="LibreOffice or Tesseract missing")
def test_questions_on_the_scan(tmp_path_factory, models_dir, base_services, plan) -> None:
    services = ingested(tmp_path_factory, models_dir, base_services, plan.scan)
    progress = services.__dict__["progress"]
    assert progress[-1][0] == progress[-1][1] >= 5  # pages reported as they are read (or from the cache)
    wrong = answered(services)
    assert len(wrong) <= 3, wrong  # the issue: >= 13 of 16
    [row] = services.store.catalog.documents()
    assert row.metadata["ocr_pages"] and set(row.metadata["ocr_confidence"]) == {str(p) for p in row.metadata["ocr_pages"]}
