"""Question latency while a plan is being uploaded (prints figures; not a test).

    plan-assistant serve --port 8765 &   # the real model, the default corpus
    python benchmarks/ask_during_upload.py --url http://127.0.0.1:8765 [--api-key KEY]

Uploads a new plan (by default the largest corpus plan under another commune's name, so that every
chunk is embedded anew), and while the upload runs asks questions one after another; prints the
latency of each question before, during and after the upload, then deletes the uploaded plan.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBES = ROOT / "tests" / "probes" / "probes_officers.jsonl"


def questions() -> list[str]:
    """Distinct questions (the server caches a repeated question's embedding, which would hide a wait)."""
    return [json.loads(line)["question"] for line in PROBES.read_text(encoding="utf-8").splitlines() if line.strip()]


def request(url: str, method: str, api_key: str | None, body: bytes | None = None, ctype: str = "") -> dict:
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    if api_key:
        req.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.loads(resp.read().decode("utf-8"))


def ask(base: str, question: str, api_key: str | None) -> float:
    start = time.perf_counter()
    request(base + "/api/ask", "POST", api_key, json.dumps({"question": question}).encode(), "application/json")
    return (time.perf_counter() - start) * 1000


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def default_upload() -> tuple[str, bytes]:
    plans = sorted((ROOT / "data" / "plans").glob("*.txt"), key=lambda p: p.stat().st_size)
    text = plans[-1].read_text(encoding="utf-8")
    commune = "Thử Nghiệm " + uuid.uuid4().hex[:6]
    for name in ("Vũ Quang", "VŨ QUANG", "Hà Đông", "HÀ ĐÔNG"):
        text = text.replace(name, commune)
    return f"xa-thu-nghiem-{commune[-6:]}.txt", text.encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--api-key")
    parser.add_argument("--file", type=Path, help="plan to upload (default: a renamed corpus plan)")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    filename, data = (args.file.name, args.file.read_bytes()) if args.file else default_upload()

    pool = questions()
    before = [ask(base, q, args.api_key) for q in pool[:10]]
    result: dict = {}

    def upload() -> None:
        body, ctype = multipart(filename, data)
        start = time.perf_counter()
        result.update(request(base + "/api/documents", "POST", args.api_key, body, ctype))
        result["seconds"] = time.perf_counter() - start

    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(0.5)
    during: list[float] = []
    index = 10
    while worker.is_alive():
        question = pool[index % len(pool)] + ("" if index < len(pool) else f" ({index})")
        during.append(ask(base, question, args.api_key))
        index += 1
    worker.join()
    after = [ask(base, q + " (sau)", args.api_key) for q in pool[:10]]

    def line(name: str, values: list[float]) -> str:
        if not values:
            return f"{name:>7}: (none)"
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return f"{name:>7}: n={len(values):3d}  median {statistics.median(values):7.0f} ms  p95 {p95:7.0f} ms  max {max(values):7.0f} ms"

    print(f"upload of {filename} ({len(data) / 1024:.0f} KB): {result.get('seconds', 0):.1f} s, "
          f"{result.get('chunks_added', '?')} chunks")
    for name, values in (("before", before), ("during", during), ("after", after)):
        print(line(name, values))
    if result.get("id"):
        request(f"{base}/api/documents/{result['id']}", "DELETE", args.api_key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
