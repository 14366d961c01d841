"""In-process evaluation on a gold file, with the same rules as the shared grader.

An answerable item passes when the answer contains one string of every ``must_include``
group, none of ``must_not_include``, says found, and stays under the length cap of its kind;
an unanswerable item passes when found is false. Source hit: one of the first k sources names
every expected commune. Matching ignores case, diacritics and punctuation.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.qa.service import QAService
from core.normalize import fold

SHORT_KINDS = {"lead", "partner", "target", "deadline", "metadata", "nodiacritics"}
SHORT_CAP, LONG_CAP = 600, 2500


def _padded(text: str) -> str:
    return f" {fold(text)} "


def contains(haystack: str, needle: str) -> bool:
    folded = fold(needle)
    return bool(folded) and f" {folded} " in haystack


@dataclass
class ItemResult:
    id: str
    kind: str
    answer_ok: bool
    source_ok: bool | None
    latency_ms: float
    answer: str = ""
    missing: list = field(default_factory=list)


def grade(item: dict, answer: str, found: bool, sources: list[dict], k: int = 5) -> tuple[bool, bool | None, list]:
    if item["kind"] == "unanswerable":
        return not found, None, []
    text = _padded(answer)
    missing = [g for g in item["must_include"] if not any(contains(text, s) for s in g)]
    wrong = [g for g in item.get("must_not_include", []) if any(contains(text, s) for s in g)]
    cap = SHORT_CAP if item["kind"] in SHORT_KINDS else LONG_CAP
    ok = found and not missing and not wrong and len(answer) <= cap
    top = " ".join(_padded(s.get("commune", "")) + _padded(s.get("document", "")) for s in sources[:k])
    communes = item.get("communes") or []
    source_ok = all(contains(top, c) for c in communes) if communes else None
    return ok, source_ok, missing + wrong


def evaluate(qa: QAService, gold: Path, k: int = 5) -> list[ItemResult]:
    items = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    if items:  # warm-up: the first query pays for lazy initialisation
        qa.ask(items[0]["question"])
    results = []
    for item in items:
        started = time.perf_counter()
        answer = qa.ask(item["question"])
        latency = (time.perf_counter() - started) * 1000
        ok, source_ok, missing = grade(item, answer.answer, answer.found, [s.to_dict() for s in answer.sources], k)
        results.append(ItemResult(item["id"], item["kind"], ok, source_ok, latency, answer.answer, missing))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def summary(results: list[ItemResult]) -> dict:
    kinds = sorted({r.kind for r in results})
    per_kind = {}
    for kind in kinds:
        rs = [r for r in results if r.kind == kind]
        src = [r.source_ok for r in rs if r.source_ok is not None]
        per_kind[kind] = {
            "n": len(rs),
            "answer": sum(r.answer_ok for r in rs) / len(rs),
            "source": sum(src) / len(src) if src else None,
        }
    src_all = [r.source_ok for r in results if r.source_ok is not None]
    latencies = [r.latency_ms for r in results]
    return {
        "per_kind": per_kind,
        "accuracy": sum(r.answer_ok for r in results) / len(results) if results else 0.0,
        "source_hit": sum(src_all) / len(src_all) if src_all else None,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": percentile(latencies, 0.95),
    }
