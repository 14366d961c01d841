"""Extraction report on generated plans (prints figures; not a test).

For every plan (the canonical one and its variants, ``tests/fixtures/plan_docs.py``): the Word file,
the PDF LibreOffice prints from it and a scan of that print, each parsed and turned into records;
then rows, cells, lead units and groups right out of the 14 task rows, per source, and the OCR
seconds per page (at the scan's own 200 dpi, and with ``--dpi300`` also rendered at 300 dpi).

    python benchmarks/extraction.py [--seeds 0 1 2 3] [--dpi300] [--keep DIR] [--qa]

``--qa`` also ingests the canonical plan's three files into stores of their own and asks the 16
questions of ``QUESTIONS`` (needs the embedding model: PLAN_ASSISTANT_MODELS_DIR).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.plan_docs import QUESTIONS, ExtractionScore, build_plan_files, score_tasks, variant  # noqa: E402

from ingest import ocr  # noqa: E402
from ingest.loaders import LoadLimits  # noqa: E402
from ingest.parse import parse_file  # noqa: E402
from ingest.records import extract_records  # noqa: E402


def add(total: ExtractionScore, score: ExtractionScore) -> None:
    for name in ("rows_right", "rows_total", "cells_right", "cells_total", "leads_right", "groups_right"):
        setattr(total, name, getattr(total, name) + getattr(score, name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--dpi300", action="store_true", help="also read the scans rendered at 300 dpi")
    parser.add_argument("--keep", type=Path, help="write the generated files here (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="print the rows that are not right")
    parser.add_argument("--qa", action="store_true", help="ask the 16 questions of the canonical plan")
    args = parser.parse_args()
    if ocr.missing_engine():
        print(f"OCR engine missing: {ocr.missing_engine()}; scans are skipped")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="extraction-"))
    totals: dict[str, ExtractionScore] = {}
    ocr_runs: dict[str, list[tuple[float, int]]] = {}
    for seed in args.seeds:
        spec = variant(seed)
        files = build_plan_files(workdir / f"seed{seed}", spec)
        sources = [("docx", files.docx, None), ("pdf", files.pdf, None)]
        if files.scan is not None and not ocr.missing_engine():
            sources.append(("scan 200", files.scan, 200))
            if args.dpi300:
                sources.append(("scan 300", files.scan, 300))
        for name, path, dpi in sources:
            if path is None:
                continue
            limits = LoadLimits()
            ocr.MIN_DPI = dpi or 200  # at least this resolution: 300 renders a 200 dpi scan larger
            started = time.perf_counter()
            doc = parse_file(path, limits=limits)
            seconds = time.perf_counter() - started
            score = score_tasks(extract_records(doc), spec)
            if dpi:
                ocr_runs.setdefault(name, []).append((seconds, len(doc.metadata.ocr_pages)))
            print(score.line(f"{name} #{seed}") + f"  ({seconds:.1f} s)")
            if args.verbose:
                for wrong in score.wrong:
                    print("     ", wrong)
            add(totals.setdefault(name, ExtractionScore()), score)
    print("\nTotals")
    for name, total in totals.items():
        print(total.line(name))
    for name, runs in ocr_runs.items():
        seconds = sum(s for s, _ in runs)
        pages = sum(p for _, p in runs)
        print(f"OCR {name}: {seconds / max(1, pages):.2f} s/page over {pages} pages "
              f"({LoadLimits().ocr_jobs} pages at once, {os.cpu_count()} CPUs)")
    if args.qa:
        print("\nQuestions (canonical plan)")
        ask_questions(workdir / "seed0", args.verbose)
    print(f"\nFiles: {workdir}")


def ask_questions(directory: Path, verbose: bool) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.services import Services
    from core.config import Settings

    embedder = None
    for path in sorted(directory.glob("*.docx")) + sorted(directory.glob("*.pdf")):
        data = Path(tempfile.mkdtemp(prefix="extraction-qa-"))
        services = Services(Settings(data_dir=data))
        if embedder is not None:
            services.__dict__["embedder"] = embedder
        embedder = services.embedder
        result = services.ingestor.ingest_file(path)
        right = 0
        for question, expected in QUESTIONS:
            answer = services.qa.ask(question)
            ok = answer.found and all(text in answer.answer for text in expected)
            right += ok
            if verbose and not ok:
                print(f"      ✗ {question} -> {answer.answer[:150]!r}")
        print(f"{path.name:<32} {right:>2}/{len(QUESTIONS)} answered right ({result.status})")


if __name__ == "__main__":
    main()
