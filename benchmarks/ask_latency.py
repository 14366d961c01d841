"""In-process answer latency over the dev questions, after warm-up (prints figures; not a test).

    python benchmarks/ask_latency.py [GOLD.jsonl] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.evaluation import percentile  # noqa: E402
from assistant.services import Services  # noqa: E402
from core.config import get_settings  # noqa: E402

DEFAULT_GOLD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.gold.read_text(encoding="utf-8").splitlines() if line]

    services = Services(get_settings())
    started = time.perf_counter()
    services.ensure_corpus()
    qa = services.qa
    for question in questions:  # warm-up: lazy initialisation and query-embedding cache excluded below
        qa.ask(question)
    print(f"warm-up (load + ingest if needed + one pass): {time.perf_counter() - started:.1f} s")

    latencies = []
    for _ in range(args.rounds):
        services.embedder._query_cache.clear()  # measure real query embeddings, not the cache
        for question in questions:
            t0 = time.perf_counter()
            qa.ask(question)
            latencies.append((time.perf_counter() - t0) * 1000)
    print(f"questions: {len(questions)} x {args.rounds} rounds")
    print(f"latency ms: p50 {statistics.median(latencies):.1f}  p95 {percentile(latencies, 0.95):.1f}  "
          f"max {max(latencies):.1f}  mean {statistics.mean(latencies):.1f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
