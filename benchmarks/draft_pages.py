"""Drafts of every plan type rendered by LibreOffice, read like a clerk would (prints figures; not a test).

    PLAN_ASSISTANT_DATA_DIR=/tmp/pa-bench PLAN_ASSISTANT_MODELS_DIR=/work/models-cache \\
        python benchmarks/draft_pages.py [--out DIR] [--commune "Tân Lập"] [--province "Đồng Nai"]

For each plan type and each period (a single year and 2027–2030) it drafts a plan, writes the .docx,
converts all of them to PDF in one LibreOffice call, and prints: total pages, body pages (up to the
signature), appendix pages, pages after the appendix, whether the header lines fit on one line each,
the body's length against the examples of the same type, duplicated paragraphs, years outside the
period, and appendix rows.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.drafting.docx_export import write_docx  # noqa: E402
from assistant.drafting.model import Draft  # noqa: E402
from assistant.services import Services  # noqa: E402
from core.config import get_settings  # noqa: E402
from core.normalize import fold  # noqa: E402

PLAN_TYPES = ("pii", "nq57", "innovative")
HEADER_LINES = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
_BODY_START = re.compile(r"^\s*I\.\s+MỤC ĐÍCH")
_BODY_END = re.compile(r"^\s*(?:\*\*)?Nơi nhận")
_YEAR = re.compile(r"(?<![\d/])(20\d\d)(?!\d)")


def example_body_chars(services: Services) -> dict[str, list[int]]:
    """Characters of the body (I. MỤC ĐÍCH … up to Nơi nhận) of every example, by plan type."""
    out: dict[str, list[int]] = {}
    for doc in services.store.snapshot.documents.values():
        path = services.settings.corpus_dir / doc.filename
        if not path.exists():
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if _BODY_START.match(line)), 0)
        end = next((i for i, line in enumerate(lines) if i > start and _BODY_END.match(line)), len(lines))
        out.setdefault(doc.metadata.get("plan_type") or "?", []).append(len(" ".join(lines[start:end])))
    return out


def body_text(draft: Draft) -> list[str]:
    return [b.text for s in draft.sections for b in s.blocks if b.kind != "heading"] + [draft.closing]


def duplicates(draft: Draft) -> int:
    counts = Counter(fold(t) for t in body_text(draft) if len(t) > 40)
    return sum(n - 1 for n in counts.values() if n > 1)


def stray_years(draft: Draft) -> list[str]:
    """Years outside the period (those of documents, covering programmes and horizons excepted, when the
    drafting package can tell them apart)."""
    start, end = draft.request.start_year, draft.request.end_year
    texts = [draft.title, *body_text(draft)]
    texts += [f"{r.task} {r.deadline}" for r in draft.appendix_rows]
    try:
        from assistant.drafting.facts import stray_years as strays
    except ImportError:  # before issue 12: every year outside the period counts
        return sorted({y for t in texts for y in _YEAR.findall(t) if not start <= int(y) <= end})
    return sorted({str(y) for t in texts for y in strays(t, start, end)})


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "draft-pages")
    parser.add_argument("--commune", default="Tân Lập")
    parser.add_argument("--province", default="Đồng Nai")
    parser.add_argument("--periods", nargs="+", default=["2027", "2027-2030"])
    args = parser.parse_args()
    if not shutil.which("soffice"):
        sys.exit("soffice (LibreOffice) is not installed")
    args.out.mkdir(parents=True, exist_ok=True)

    services = Services(get_settings())
    services.ensure_corpus()
    examples = example_body_chars(services)
    drafts: dict[str, tuple[Draft, Path]] = {}
    for period in args.periods:
        for plan_type in PLAN_TYPES:
            name = f"{plan_type}-{period}"
            draft = services.drafter.draft(commune=args.commune, province=args.province, plan_type=plan_type,
                                           year=period)
            drafts[name] = (draft, write_docx(draft, args.out / f"{name}.docx"))

    started = time.perf_counter()
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(args.out), *[str(p) for _, p in drafts.values()]],
                   check=True, capture_output=True, timeout=600)
    shutil.rmtree(profile, ignore_errors=True)
    print(f"LibreOffice: {len(drafts)} drafts converted in {time.perf_counter() - started:.1f} s ({args.out})")
    print()
    head = (f"{'draft':<21}{'pages':>6}{'body':>6}{'appx':>6}{'after':>6}  {'header':<7}{'body chars':>11}"
            f"{'examples':>10}{'ratio':>7}{'own':>6}{'dups':>6}{'rows':>9}  stray years")
    print(head)
    print("-" * len(head))
    for name, (draft, path) in drafts.items():
        pages = pdf_pages(path.with_suffix(".pdf"))
        appendix = next((i for i, p in enumerate(pages) if re.search(r"^\s*PHỤ LỤC", p, re.M) and i > 0), len(pages))
        after = next((i for i, p in enumerate(pages) if "NGUỒN THAM KHẢO" in p), len(pages))
        lines = [line.strip() for line in pages[0].splitlines()]
        header_ok = all(any(h in line for line in lines) for h in HEADER_LINES)
        body = len(" ".join(body_text(draft)))
        same = examples.get(draft.request.plan_type, [])
        mean = sum(same) / len(same) if same else 0
        rows = sum(not r.group for r in draft.appendix_rows)
        groups = sum(r.group for r in draft.appendix_rows)
        own = getattr(getattr(draft, "length", None), "ratio", None)
        print(f"{name:<21}{len(pages):>6}{appendix:>6}{after - appendix:>6}{len(pages) - after:>6}  "
              f"{'ok' if header_ok else 'WRAPS':<7}{body:>11}{mean:>10.0f}{body / mean if mean else 0:>7.2f}"
              f"{own if own is not None else '-':>6}{duplicates(draft):>6}{f'{rows}+{groups}g':>9}  "
              f"{' '.join(stray_years(draft)) or '-'}")
    print()
    print("body = pages before the appendix; appx = appendix pages; after = pages after the appendix (the sources "
          "annex); examples = mean body characters (I. MỤC ĐÍCH … Nơi nhận, tables included) of the examples of the "
          "same type; own = the draft's own report (text only, tables excluded on both sides)")


if __name__ == "__main__":
    main()
