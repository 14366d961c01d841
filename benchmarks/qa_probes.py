"""Answer quality on gold/probe sets, in process, with the grader's rules (prints figures; not a test).

    python benchmarks/qa_probes.py [FILE.jsonl ...] [--extra-docs DIR] [--out failures.jsonl]

Default files: the shared dev set and every ``tests/probes/*.jsonl``. Items may carry ``history``
(earlier user questions): they are asked first, in the same conversation, and only the last
question is graded. ``--extra-docs`` ingests further plans (e.g. ``tests/fixtures/unseen``) into
the data directory first. Prints per file and per kind: accuracy and the wrong-answer rate (answers
that say found=true but fail), the figure that matters most.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.evaluation import grade, percentile  # noqa: E402
from assistant.services import Services  # noqa: E402
from core.config import get_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [ROOT.parent / "shared" / "eval" / "dev.jsonl", *sorted((ROOT / "tests" / "probes").glob("*.jsonl"))]


def ask_item(services: Services, item: dict) -> tuple[dict, float]:
    history: list[dict[str, str]] = []
    for earlier in item.get("history") or []:
        answer = services.qa.ask(earlier, history=history or None)
        history += [{"role": "user", "content": earlier}, {"role": "assistant", "content": answer.answer}]
    started = time.perf_counter()
    answer = services.qa.ask(item["question"], history=history or None)
    return answer.to_dict(), (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--extra-docs", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, help="write every failing item here (JSON lines)")
    parser.add_argument("--kind", action="append", help="only items of these kinds/categories")
    args = parser.parse_args()

    services = Services(get_settings())
    services.ensure_corpus()
    if args.extra_docs:
        report = services.ingestor.ingest_paths(args.extra_docs)
        for failed in report.failed:
            print(f"not ingested: {failed.path}: {failed.error}")
    failures = []
    totals = {"n": 0, "ok": 0, "wrong": 0}
    latencies: list[float] = []
    for path in args.files or DEFAULT_FILES:
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if args.kind:
            items = [i for i in items if i["kind"] in args.kind or i.get("category") in args.kind]
        by_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for item in items:
            data, ms = ask_item(services, item)
            latencies.append(ms)
            ok, _source_ok, missing = grade(item, data["answer"], data["found"], data["sources"])
            wrong = data["found"] and not ok
            by_kind[item.get("category") or item["kind"]].append((ok, wrong))
            if not ok:
                failures.append({"file": path.name, "id": item["id"], "kind": item["kind"],
                                 "category": item.get("category"), "question": item["question"],
                                 "history": item.get("history"), "found": data["found"], "wrong": wrong,
                                 "answer": data["answer"][:700], "missing": missing,
                                 "must_include": item.get("must_include"), "evidence": item.get("evidence")})
        n = sum(len(v) for v in by_kind.values())
        ok = sum(o for v in by_kind.values() for o, _ in v)
        wrong = sum(w for v in by_kind.values() for _, w in v)
        totals["n"] += n
        totals["ok"] += ok
        totals["wrong"] += wrong
        print(f"\n{path.name}: accuracy {100 * ok / max(n, 1):.1f}% ({ok}/{n}), "
              f"wrong answers {wrong} ({100 * wrong / max(n, 1):.1f}%)")
        for kind in sorted(by_kind):
            rs = by_kind[kind]
            print(f"  {kind:<18}{len(rs):>4}  ok {sum(o for o, _ in rs):>4}  wrong {sum(w for _, w in rs):>3}")
    n = max(totals["n"], 1)
    print(f"\nALL: accuracy {100 * totals['ok'] / n:.1f}% ({totals['ok']}/{totals['n']}), "
          f"wrong {totals['wrong']} ({100 * totals['wrong'] / n:.1f}%)")
    if latencies:
        print(f"latency ms: p50 {percentile(latencies, 0.5):.1f}  p95 {percentile(latencies, 0.95):.1f}")
    if args.out:
        args.out.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures), encoding="utf-8")


if __name__ == "__main__":
    main()
