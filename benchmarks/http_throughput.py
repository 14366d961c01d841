"""HTTP throughput of `plan-assistant serve --workers N` under C concurrent clients (prints figures; not a test).

    PLAN_ASSISTANT_MODELS_DIR=/work/models-cache python benchmarks/http_throughput.py \\
        --data-dir /path/to/ingested/data --workers 1 4 --clients 16 --seconds 30

Each run copies the data directory (so the original is never changed), starts the server on a free
port, waits until every worker has started, then C clients ask the probe questions
(``tests/probes/probes_officers.jsonl``) in a loop on ``/api/ask`` for the given time; with ``--churn``
one more client uploads and deletes a plan every few seconds meanwhile. Prints requests per second,
p50/p95/max latency and errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vectorstore.chroma_store import free_port  # noqa: E402

QUESTIONS = ROOT / "tests" / "probes" / "probes_officers.jsonl"
CHURN_PLAN = ROOT / "tests" / "fixtures" / "unseen"


def officer_questions() -> list[str]:
    """The officers' probe questions that stand alone (not follow-ups)."""
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [item["question"] for item in items if not item.get("history")]


def _start(data: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PLAN_ASSISTANT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        started = log.read_text(errors="replace").count("Application startup complete")
        try:
            if started >= workers and httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit("server not ready after 600 s")


def run(source: Path, workers: int, clients: int, seconds: float, churn: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="pa-throughput-"))
    data = work / "data"
    shutil.copytree(source, data)
    process, url = _start(data, workers, work / "server.log")
    questions = officer_questions()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            i = offset
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    response = http.post("/api/ask", json={"question": questions[i % len(questions)]})
                    ok = response.status_code == 200
                except httpx.HTTPError as exc:
                    ok, response = False, exc  # type: ignore[assignment]
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    (latencies.append(elapsed) if ok else errors.append(str(response)[:200]))
                i += clients

    def churner() -> None:
        plans = sorted(p for p in CHURN_PLAN.iterdir() if p.suffix in (".md", ".txt", ".docx"))[:1]
        with httpx.Client(base_url=url, timeout=300) as http:
            while plans and time.monotonic() < stop:
                files = {"file": (plans[0].name, plans[0].read_bytes(), "application/octet-stream")}
                upload = http.post("/api/documents", files=files)
                if upload.status_code == 201:
                    http.delete(f"/api/documents/{upload.json()['id']}")
                else:
                    with lock:
                        errors.append(f"upload {upload.status_code}")
                time.sleep(2)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    if churn:
        threads.append(threading.Thread(target=churner))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    process.terminate()
    process.wait(timeout=60)
    shutil.rmtree(work, ignore_errors=True)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    print(f"workers {workers}  clients {clients}{' + churn' if churn else ''}  {len(latencies)} answers in "
          f"{wall:.0f} s = {len(latencies) / wall:6.1f} req/s  p50 {statistics.median(latencies):6.1f} ms  "
          f"p95 {p95:7.1f} ms  max {latencies[-1]:7.1f} ms  errors {len(errors)}", flush=True)
    for error in errors[:5]:
        print("   ", error)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an ingested data directory (copied)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--churn", action="store_true", help="upload and delete a plan meanwhile")
    args = parser.parse_args()
    print(f"CPUs: {os.cpu_count()}; questions: {QUESTIONS.name}")
    for workers in args.workers:
        run(args.data_dir, workers, args.clients, args.seconds, args.churn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
