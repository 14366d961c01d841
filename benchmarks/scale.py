"""How the store grows: synthetic corpora of N plans (the five real plans recombined under generated commune
and province names), ingested into a fresh data directory (prints figures; not a test).

    PLAN_ASSISTANT_MODELS_DIR=/work/models-cache python benchmarks/scale.py --plans 5 50 100 [--backend hash]

For each N: ingestion wall and CPU time, split into embedding and the rest of the pipeline (parse, facts,
catalog, lexical index); chunks; disk; peak RSS; ask p50/p95 in process over questions naming generated
communes; the time for one more plan to become visible; and the serving RSS, measured in a fresh process
(so that ingestion's peaks do not count) after imports, after loading the snapshot and after the questions.
``--backend hash`` measures the pipeline without the model (the embedding cost is then the model's measured
chunks/s times the chunks). ``--serve-only DATA_DIR`` measures only the serving RSS of a kept data directory.

The real model's serving RSS without hours of embedding: ``--stand-in`` ingests with ``ModelShapedStandIn`` (the
model's tokenizer counts tokens, vectors hashed at the model's dimension: the data directory a real ingestion
leaves, up to the vectors' values) and serves with ``--backend`` / each of ``--serve-backends``:

    python benchmarks/scale.py --plans 1000 --stand-in --backend sentence-transformers \
        --serve-backends sentence-transformers onnx --keep --work-dir /tmp

The serving line breaks the RSS down by stage (imports, runtime, model, Chroma, snapshot, QA statistics,
questions), each stage's growth in MiB after the heap is trimmed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.services import Services  # noqa: E402
from core.config import DEFAULT_CORPUS_DIR, Settings, get_settings  # noqa: E402
from core.process import release_memory  # noqa: E402
from vectorstore.chroma_store import ChromaIndex  # noqa: E402
from vectorstore.embeddings import HashEmbedder, ModelTokenizer, make_embedder, resolve_model_path  # noqa: E402

SYLLABLES = ("An", "Bình", "Hòa", "Phú", "Tân", "Long", "Thạnh", "Mỹ", "Đông", "Tây", "Hưng", "Lộc", "Phước",
             "Vĩnh", "Quang", "Thuận", "Hải", "Sơn", "Trung", "Nghĩa", "Xuân", "Thọ", "Điền", "Lợi")
QUESTIONS = ("Ai ký kế hoạch của xã {c}?", "Đơn vị nào chủ trì công tác tuyên truyền ở xã {c}?",
             "Kế hoạch của xã {c} có những nhóm nhiệm vụ, giải pháp nào?", "Xã {c} gửi kế hoạch cho những nơi nào?")
_COMMUNE_RE = re.compile(r"^xa-([a-z-]+?)-(an-giang|dong-nai|ha-tinh|hai-phong)")


def _commune_of(text: str, filename: str) -> tuple[str, str]:
    """The commune and province names as the plan writes them (read from its letterhead lines)."""
    match = re.search(r"(?:XÃ|xã)\s+([A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*)?)", text)
    commune = (match.group(1) if match else filename).title()  # 'HÒA ĐIỀN' -> 'Hòa Điền'
    province = next((p for p in ("An Giang", "Đồng Nai", "Hà Tĩnh", "Hải Phòng") if p in text), "An Giang")
    return commune.strip(), province


def synthetic_corpus(target: Path, n: int, seed: int = 0) -> list[str]:
    """N plans: the real ones in turn, each under a new commune name (and province, in upper case too)."""
    rng = random.Random(seed)
    originals = sorted(DEFAULT_CORPUS_DIR.glob("*.txt"))
    used: set[str] = set()
    communes = []
    for i in range(n):
        source = originals[i % len(originals)]
        text = source.read_text(encoding="utf-8")
        commune, province = _commune_of(text, source.stem)
        size = 2 if len(used) < 400 else 3  # 24 syllables give 552 two-syllable names
        while True:
            parts = rng.sample(SYLLABLES, size)
            name = " ".join(parts)
            if name not in used:
                break
        used.add(name)
        new_province = f"Tỉnh Mẫu {i // 20 + 1}"
        for old, new in ((commune, name), (commune.upper(), name.upper()), (province, new_province),
                         (province.upper(), new_province.upper())):
            text = text.replace(old, new)
        (target / f"xa-mau-{i:04d}.txt").write_text(text, encoding="utf-8")
        communes.append(name)
    return communes


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_mib() -> float:
    """This process's own peak RSS since it started its program (VmHWM). ru_maxrss would not do in the serving
    subprocess: Linux carries the peak of the forked copy of the ingesting parent across exec into it."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _ask_all(services: Services, communes: list[str]) -> list[float]:
    """Latencies (ms, sorted) of the benchmark questions over a sample of at most 25 communes."""
    latencies = []
    for commune in communes[:: max(1, len(communes) // 25)]:
        for question in QUESTIONS:
            start = time.perf_counter()
            services.qa.ask(question.format(c=commune))
            latencies.append((time.perf_counter() - start) * 1000)
    return sorted(latencies)


def _percentiles(latencies: list[float]) -> str:
    return (f"ask p50 {statistics.median(latencies):5.1f} ms "
            f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:6.1f} ms")


UNSCOPED = ("Tỷ lệ người dân có chữ ký số năm 2026 là bao nhiêu?", "Xã nào gửi kế hoạch cho Sở Khoa học và Công nghệ?")
RUNTIMES = {"sentence-transformers": ("torch", "sentence_transformers"), "onnx": ("onnxruntime", "tokenizers"),
            "hash": ()}


class ModelShapedStandIn(HashEmbedder):
    """Ingestion without the model that leaves the data directory a real ingestion would: the model's own
    tokenizer counts tokens (so the chunks, facts and lexical index are the same) and the vectors, hashed, have
    the model's dimension (so Chroma holds as many floats, in an index of the same shape: hnswlib allocates a
    fixed size per element and draws levels at random, whatever the values). Only the vectors' values differ;
    the serving process then loads the real model over it (``--stand-in``)."""

    model_name = "hash (model-shaped)"

    def __init__(self, settings: Settings) -> None:
        model_dir = Path(resolve_model_path(settings))
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        super().__init__(settings, dimension=int(pooling.get("embedding_dimension") or pooling["word_embedding_dimension"]))
        self._tokenizer = ModelTokenizer(model_dir)
        self._prefix = settings.embedding_passage_prefix

    def count_tokens(self, text: str) -> int:
        return self._tokenizer.count(self._prefix + text)


def serve_only(data: Path, base: Settings, backend: str) -> None:
    """Serving memory of a data directory, stage by stage in this fresh process: the interpreter with the
    project's serving modules and Chroma imported, the backend's runtime imported, the model loaded (one query
    embedded), Chroma's collection opened and its index loaded (one unfiltered search), the store's snapshot
    (catalog rows, chunks, lexical index, facts), the statistics QA derives from it, and the benchmark questions
    plus two over every plan."""
    settings = Settings(**{**base.model_dump(), "data_dir": data, "embedding_backend": backend})
    stages: list[tuple[str, float]] = [("python+project", _current_rss_mib())]
    peaks: list[str] = []

    def stage(name: str) -> None:
        release_memory()
        stages.append((name, _current_rss_mib()))
        peaks.append(f"{name} {_peak_rss_mib():.0f}")

    import chromadb  # noqa: F401

    import assistant.qa.service  # noqa: F401
    import vectorstore.store  # noqa: F401
    stage("chromadb+qa imports")
    for module in RUNTIMES[backend]:
        importlib.import_module(module)
    stage("+".join(RUNTIMES[backend]) or "no runtime")
    embedder = make_embedder(settings)
    embedder.embed_query("khởi động")
    stage("model")
    index = ChromaIndex(settings, embedder)
    index.ids()
    index.query(embedder.embed_query("kế hoạch"), 10)
    stage("chroma")
    services = Services(settings)
    services.embedder = embedder
    snapshot = services.store.snapshot
    stage("snapshot")
    services.qa  # noqa: B018  (its snapshot hook derives the QA statistics)
    stage("qa statistics")
    latencies = _ask_all(services, [c for c in snapshot.communes if c])
    unscoped = []
    for question in UNSCOPED:
        start = time.perf_counter()
        services.qa.ask(question)
        unscoped.append(f"{(time.perf_counter() - start) * 1000:.0f}")
    stage("questions")
    from http_throughput import officer_questions  # a sibling script (imported here: not counted in a stage)

    probe_ms = []
    for question in officer_questions():  # the five plans' communes are not among the generated ones: many run over every plan
        start = time.perf_counter()
        services.qa.ask(question)
        probe_ms.append((time.perf_counter() - start) * 1000)
    probe_ms.sort()
    lexical_mib = sum(b.rows.nbytes + b.counts.nbytes + b.indptr.nbytes for b in snapshot.lexical._blocks) / 2**20
    print(f"serving RSS ({backend}): {stages[-1][1]:5.0f} MiB, peak {_peak_rss_mib():5.0f} MiB  "
          f"({len(snapshot.documents)} plans, {len(snapshot.chunks)} chunks, {len(snapshot.records)} records;"
          f" {_percentiles(latencies)}; over every plan {', '.join(unscoped)} ms)", flush=True)
    print("    " + "  ".join(f"{name} {rss - before:+.0f}" for (_, before), (name, rss) in zip(stages, stages[1:],
                                                                                           strict=False))
          + f"  (from {stages[0][1]:.0f} MiB; lexical postings {lexical_mib:.0f} MiB)", flush=True)
    print("    peak RSS after each stage (MiB): " + ", ".join(peaks), flush=True)
    print(f"    the officers' {len(probe_ms)} probe questions: {_percentiles(probe_ms)}, max {probe_ms[-1]:.0f} ms, "
          f"{sum(ms > 1000 for ms in probe_ms)} over 1 s (peak RSS then {_peak_rss_mib():.0f} MiB)", flush=True)


def _serve_in_subprocess(data: Path, backend: str) -> None:
    subprocess.run([sys.executable, __file__, "--serve-only", str(data), "--backend", backend], check=False)


def run(n: int, base: Settings, backend: str, keep: bool = False, stand_in: bool = False,
        serve_backends: list[str] | None = None, work_dir: Path | None = None, raw_sample: float = 1.0) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"pa-scale-{n}-", dir=work_dir))
    corpus, data = work / "plans", work / "data"
    corpus.mkdir()
    communes = synthetic_corpus(corpus, n + 1)
    extra = corpus / f"xa-mau-{n:04d}.txt"
    held_out = work / extra.name
    shutil.move(extra, held_out)
    settings = Settings(**{**base.model_dump(), "data_dir": data, "embedding_backend": backend})
    services = Services(settings)
    if stand_in:
        services.embedder = ModelShapedStandIn(settings)
    embedder = services.embedder
    embed_seconds = 0.0
    original = embedder.embed_passages
    embedded: list[str] = []

    def timed(texts: list[str], show_progress: bool = False):
        nonlocal embed_seconds
        embedded.extend(texts)
        start = time.perf_counter()
        try:
            return original(texts, show_progress)
        finally:
            embed_seconds += time.perf_counter() - start

    embedder.embed_passages = timed  # type: ignore[method-assign]
    cpu, wall = time.process_time(), time.perf_counter()
    report = services.ingestor.ingest_paths([corpus])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"    ingested in {wall:.0f} s; the model alone on the same texts next", file=sys.stderr, flush=True)
    step = max(1, round(1 / raw_sample))
    reference = embedded[::step]  # every step-th text: a sample of the same length distribution
    raw = time.perf_counter()
    original(reference)  # the model alone on the same texts, in one call: its raw throughput
    raw = (time.perf_counter() - raw) * len(embedded) / len(reference)
    snapshot = services.store.snapshot
    chunks = sum(c.kind != "record" for c in snapshot.chunks)
    disk = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 1024 / 1024
    latencies = _ask_all(services, communes[:n])
    for serving in serve_backends or [backend]:
        _serve_in_subprocess(data, serving)
    start = time.perf_counter()
    services.ingestor.ingest_file(held_out)
    one_more = time.perf_counter() - start
    visible = communes[n] in services.store.snapshot.communes
    print(f"N={n:5d}  files {report.count('added'):5d}  chunks {chunks:6d}  records {len(snapshot.records):6d}  "
          f"ingest wall {wall:7.1f} s (embedding {embed_seconds:6.1f} s, rest {wall - embed_seconds:6.1f} s)  "
          f"CPU {cpu:7.1f} s  disk {disk:6.1f} MiB  peak RSS {_rss_mib():6.0f} MiB  "
          f"{_percentiles(latencies)}  "
          f"one more plan {one_more:5.1f} s (visible: {visible})", flush=True)
    print(f"    {len(embedded)} texts embedded: ingestion {len(embedded) / wall:6.1f} texts/s = "
          f"{100 * raw / wall:4.0f}% of the model's raw {len(embedded) / raw:6.1f} texts/s on the same texts"
          + (f" (timed on 1 text in {step})" if step > 1 else ""), flush=True)
    if keep:
        print(f"    data kept in {data}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, nargs="+", default=[5, 50, 100])
    parser.add_argument("--backend", default=None, help="sentence-transformers | onnx | hash (default: settings)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (to profile it)")
    parser.add_argument("--serve-only", type=Path, metavar="DATA_DIR", help="only the serving RSS of a data directory")
    parser.add_argument("--stand-in", action="store_true",
                        help="ingest with the model-shaped stand-in (the model's tokenizer, hashed vectors of its "
                             "dimension), serve with --backend: the real model's serving RSS without hours of embedding")
    parser.add_argument("--serve-backends", nargs="+", help="measure serving with each of these (default: --backend)")
    parser.add_argument("--work-dir", type=Path, help="parent of the temporary data directories")
    parser.add_argument("--raw-sample", type=float, default=1.0,
                        help="time the model's raw throughput on this share of the texts (every k-th; default all)")
    args = parser.parse_args()
    base = get_settings()
    backend = args.backend or base.embedding_backend
    if args.serve_only:
        for serving in args.serve_backends or [backend]:
            _serve_in_subprocess(args.serve_only, serving) if args.serve_backends else serve_only(
                args.serve_only, base, serving)
        return 0
    print(f"backend: {backend}{' (ingested by the model-shaped stand-in)' if args.stand_in else ''}; "
          f"CPUs: {os.cpu_count()}")
    for n in args.plans:
        run(n, base, backend, args.keep, args.stand_in, args.serve_backends, args.work_dir, args.raw_sample)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
