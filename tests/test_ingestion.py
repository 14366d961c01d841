"""Incremental, idempotent ingestion into a real Chroma with real embeddings (``fresh_services``):
add / unchanged / updated / remove, mixed batches with bad files, no duplicate ids, reindex, and
``Store.reconcile`` repairing a Chroma that lost (or gained) vectors.

Embedding is the slow part, so the life-cycle runs on the two smallest plans, in one scenario."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from assistant.services import Services
from vectorstore.store import Store

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
HOA_DIEN = "xa-hoa-dien-an-giang-kh128-pii-2026"
VINH_THUAN = "xa-vinh-thuan-an-giang-pii-2026"

SMALL_PLAN = """ỦY BAN NHÂN DÂN
XÃ TÂN LẬP

Số: 07/KH-UBND

Tân Lập, ngày 3 tháng 4 năm 2026

KẾ HOẠCH
Nâng cao Chỉ số đổi mới sáng tạo (PII) năm 2026 trên địa bàn xã Tân Lập

I. MỤC ĐÍCH, YÊU CẦU
Nâng cao nhận thức của cán bộ, công chức và người dân về đổi mới sáng tạo.

II. TỔ CHỨC THỰC HIỆN
1. Phòng Văn hóa - Xã hội
- Chủ trì tổ chức tập huấn kỹ năng số cho người dân, hoàn thành trong Quý III/2026.
2. Phòng Kinh tế
- Tham mưu bố trí kinh phí thực hiện Kế hoạch.

Nơi nhận:
- Như trên;
- Lưu: VT.

CHỦ TỊCH

Phạm Văn An
"""


def copy_plans(target: Path, *stems: str) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        shutil.copyfile(PLANS / f"{stem}.txt", target / f"{stem}.txt")
    return target


def chroma_ids(services: Services) -> set[str]:
    return services.store.dense.ids()


def catalog_ids(services: Services) -> set[str]:
    return services.store.catalog.all_chunk_ids()


def assert_consistent(services: Services) -> None:
    """Chroma holds exactly the catalog's chunks, once each; the snapshot is the catalog."""
    store = services.store
    ids = catalog_ids(services)
    assert chroma_ids(services) == ids
    assert store.dense.collection.count() == len(ids)
    chunks = store.catalog.chunks()
    assert len(chunks) == len({c.chunk_id for c in chunks}) == len(ids)
    assert {c.chunk_id for c in store.snapshot.chunks} == ids
    assert set(store.snapshot.documents) == {d.doc_id for d in store.catalog.documents()}


def test_life_cycle_add_unchanged_update_remove(fresh_services: Services, tmp_path: Path) -> None:
    services = fresh_services
    store, ingestor = services.store, services.ingestor
    corpus = copy_plans(tmp_path / "plans", HOA_DIEN, VINH_THUAN)

    # 1. first ingestion: both added, every chunk embedded once
    report = ingestor.ingest_paths([corpus])
    assert [(r.doc_id, r.status) for r in report.results] == [(HOA_DIEN, "added"), (VINH_THUAN, "added")]
    assert not report.failed
    assert all(r.chunks_added > 0 and r.records > 0 and r.chunks_removed == 0 for r in report.results)
    assert report.chunks_added == len(catalog_ids(services))
    assert_consistent(services)
    counts = {d.doc_id: (d.n_chunks, d.n_records) for d in store.catalog.documents()}
    assert set(counts) == {HOA_DIEN, VINH_THUAN}
    first_ids = catalog_ids(services)
    hoa_dien_first = store.catalog.chunk_ids(HOA_DIEN)
    sources = services.settings.data_dir / "sources"
    assert sorted(p.name for p in sources.iterdir()) == [f"{HOA_DIEN}.txt", f"{VINH_THUAN}.txt"]
    assert store.snapshot.communes == ["Hòa Điền", "Vĩnh Thuận"]

    # 2. the same files again: nothing added, updated or removed
    again = ingestor.ingest_paths([corpus])
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert (again.chunks_added, again.chunks_removed, again.count("added"), again.count("updated")) == (0, 0, 0, 0)
    assert again.chunks_unchanged == len(first_ids)
    assert catalog_ids(services) == first_ids
    assert {d.doc_id: (d.n_chunks, d.n_records) for d in store.catalog.documents()} == counts
    assert_consistent(services)

    # 3. one plan edited (a line appended): only that plan is updated, only its changed chunks move
    edited = corpus / f"{VINH_THUAN}.txt"
    with edited.open("a", encoding="utf-8") as handle:
        handle.write("\nGhi chú: Phòng Văn hóa – Xã hội tổng hợp báo cáo kết quả thực hiện trước ngày 15/12/2026.\n")
    update = ingestor.ingest_paths([corpus])
    by_doc = {r.doc_id: r for r in update.results}
    assert by_doc[HOA_DIEN].status == "unchanged" and by_doc[HOA_DIEN].chunks_added == 0
    changed = by_doc[VINH_THUAN]
    assert changed.status == "updated"
    assert changed.chunks_added > 0
    assert changed.chunks_unchanged > 0  # the rest of the plan kept its vectors
    assert changed.chunks_added + changed.chunks_unchanged == len(store.catalog.chunk_ids(VINH_THUAN))
    assert changed.chunks_added < len(store.catalog.chunk_ids(VINH_THUAN)) / 2
    assert store.catalog.chunk_ids(HOA_DIEN) == hoa_dien_first  # the other plan did not move
    assert len(first_ids - catalog_ids(services)) == changed.chunks_removed
    assert_consistent(services)
    assert any("trước ngày 15/12/2026" in c.body for c in store.snapshot.chunks if c.doc_id == VINH_THUAN)
    stored = store.catalog.document(VINH_THUAN, with_lines=True)
    assert stored.lines[-1][1].endswith("trước ngày 15/12/2026.")
    assert (sources / f"{VINH_THUAN}.txt").read_bytes() == edited.read_bytes()

    # 4. reindex re-parses the private copies (even when the originals are gone): nothing changes
    shutil.rmtree(corpus)
    reindexed = ingestor.reindex()
    assert [r.status for r in reindexed.results] == ["unchanged", "unchanged"]
    assert_consistent(services)

    # 4b. after an upgrade, start-up re-reads only the plans stored by another pipeline
    store.catalog.set_pipeline(HOA_DIEN, "older")
    assert [r.doc_id for r in ingestor.reindex(stale_only=True).results] == [HOA_DIEN]
    store.catalog.set_pipeline(HOA_DIEN, "older")
    services.ensure_corpus()
    assert {d.doc_id: d.pipeline for d in store.catalog.documents()} == {
        HOA_DIEN: ingestor.pipeline, VINH_THUAN: ingestor.pipeline}
    assert ingestor.reindex(stale_only=True).results == []
    assert_consistent(services)

    # 5. remove deletes every trace of one plan, and nothing of the other
    hoa_dien_ids = store.catalog.chunk_ids(HOA_DIEN)
    vinh_thuan_ids = store.catalog.chunk_ids(VINH_THUAN)
    assert ingestor.remove(VINH_THUAN) is True
    assert store.catalog.document(VINH_THUAN) is None
    assert store.catalog.chunk_ids(VINH_THUAN) == set()
    assert not [r for r in store.catalog.records() if r.doc_id == VINH_THUAN]
    assert not chroma_ids(services) & vinh_thuan_ids
    assert chroma_ids(services) == hoa_dien_ids
    assert not list(sources.glob(f"{VINH_THUAN}.*"))
    assert VINH_THUAN not in store.snapshot.documents
    assert not [c for c in store.snapshot.chunks if c.doc_id == VINH_THUAN]
    assert not [r for r in store.snapshot.records if r.doc_id == VINH_THUAN]
    assert store.snapshot.communes == ["Hòa Điền"]
    assert_consistent(services)
    assert ingestor.remove(VINH_THUAN) is False
    assert ingestor.remove("khong-co-ke-hoach-nay") is False

    # 6. a new Store on the same directory sees the same state (the catalog is the truth)
    reopened = Store(services.settings, services.embedder)
    assert reopened.repaired == 0
    assert set(reopened.snapshot.documents) == {HOA_DIEN}
    assert reopened.dense.ids() == hoa_dien_ids


def test_reconcile_repairs_a_chroma_missing_vectors(fresh_services: Services, tmp_path: Path) -> None:
    services = fresh_services
    plan = tmp_path / "tan-lap.txt"
    plan.write_text(SMALL_PLAN, encoding="utf-8")
    report = services.ingestor.ingest_paths([plan])
    assert report.count("added") == 1
    wanted = catalog_ids(services)
    assert len(wanted) >= 6
    lost = sorted(wanted)[:3]
    collection = services.store.dense.collection
    before = collection.get(ids=lost, include=["embeddings", "metadatas"])
    services.store.dense.delete(lost)
    stray = "stray-vector-from-an-old-run"
    collection.upsert(ids=[stray], embeddings=[np.ones(services.embedder.dimension, dtype=np.float32)],
                      metadatas=[{"doc_id": "old"}])
    assert chroma_ids(services) == (wanted - set(lost)) | {stray}

    repaired = Store(services.settings, services.embedder)  # a restart
    assert repaired.repaired == len(lost) + 1
    assert repaired.dense.ids() == wanted
    after = repaired.dense.collection.get(ids=lost, include=["embeddings", "metadatas"])
    order = {i: n for n, i in enumerate(after["ids"])}
    for n, chunk_id in enumerate(before["ids"]):
        assert after["metadatas"][order[chunk_id]] == before["metadatas"][n]
        # the same text embedded again (int8 dynamic quantization depends a little on the batch it is in)
        a, b = np.asarray(after["embeddings"][order[chunk_id]]), np.asarray(before["embeddings"][n])
        assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) >= 0.99
    # and the repaired vectors are found again by dense search
    chunk = next(c for c in repaired.snapshot.chunks if c.chunk_id == lost[0])
    hits = repaired.dense_search(chunk.text, 3, repaired.snapshot)
    assert lost[0] in [repaired.snapshot.chunks[index].chunk_id for index, _ in hits]
    assert Store(services.settings, services.embedder).repaired == 0


def test_mixed_batch_ingests_the_good_files_and_reports_the_bad(fresh_services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "tan-lap.txt").write_text(SMALL_PLAN, encoding="utf-8")
    (folder / "tan-lap-bom.md").write_bytes(b"\xef\xbb\xbf" + SMALL_PLAN.replace("Tân Lập", "Tân Hòa").replace("TÂN LẬP", "TÂN HÒA").encode("utf-8"))
    (folder / "rong.txt").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(bytes(range(256)) * 8)
    (folder / "hong.docx").write_bytes(b"PK\x03\x04" + bytes(500))
    (folder / "cu.txt").write_bytes(("Céng hoµ x· héi chñ nghÜa ViÖt Nam\n§éc lËp - Tù do - H¹nh phóc\n" * 15)
                                    .encode("latin-1"))
    (folder / "bang.xlsx").write_bytes(b"PK")  # not a plan format: skipped when scanning a folder
    missing = tmp_path / "khong-ton-tai.txt"

    report = fresh_services.ingestor.ingest_paths([folder, missing])
    status = {Path(r.path).name: r for r in report.results}
    assert "bang.xlsx" not in status
    assert status["tan-lap.txt"].status == "added"
    assert status["tan-lap-bom.md"].status == "added"
    failed = {name: r.error for name, r in status.items() if r.status == "failed"}
    assert set(failed) == {"rong.txt", "scan.pdf", "hong.docx", "cu.txt", "khong-ton-tai.txt"}
    assert "rỗng" in failed["rong.txt"]
    assert "PDF" in failed["scan.pdf"]
    assert ".docx" in failed["hong.docx"]
    assert "TCVN3" in failed["cu.txt"]
    assert "không tìm thấy" in failed["khong-ton-tai.txt"]
    assert all(r.path.endswith(name) for name, r in status.items())  # every result names its file
    assert {d.doc_id for d in fresh_services.store.catalog.documents()} == {"tan-lap", "tan-lap-bom"}
    assert fresh_services.store.snapshot.communes == ["Tân Hòa", "Tân Lập"]
    assert_consistent(fresh_services)
    # an explicitly named unsupported file is reported, not silently skipped
    [result] = fresh_services.ingestor.ingest_paths([folder / "bang.xlsx"]).results
    assert result.status == "failed" and "không được hỗ trợ" in result.error


def test_identical_content_under_two_names_never_shares_ids(fresh_services: Services, tmp_path: Path) -> None:
    a = tmp_path / "ke-hoach-a.txt"
    b = tmp_path / "ke-hoach-b.txt"
    a.write_text(SMALL_PLAN, encoding="utf-8")
    b.write_text(SMALL_PLAN, encoding="utf-8")
    report = fresh_services.ingestor.ingest_paths([a, b])
    assert report.count("added") == 2
    store = fresh_services.store
    ids_a, ids_b = store.catalog.chunk_ids("ke-hoach-a"), store.catalog.chunk_ids("ke-hoach-b")
    assert ids_a and len(ids_a) == len(ids_b) and not ids_a & ids_b
    assert_consistent(fresh_services)
    # the same file given twice in one batch is stored once
    twice = fresh_services.ingestor.ingest_paths([a, a])
    assert [r.status for r in twice.results] == ["unchanged", "unchanged"]
    assert_consistent(fresh_services)


def test_an_upload_keeps_the_officers_file_name(fresh_services: Services, tmp_path: Path) -> None:
    temp = tmp_path / "tmp-3f9a.txt"  # the API stores an upload under a temporary name
    temp.write_text(SMALL_PLAN, encoding="utf-8")
    result = fresh_services.ingestor.ingest_file(temp, filename="Kế hoạch Tân Lập.txt")
    assert (result.status, result.doc_id) == ("added", "ke-hoach-tan-lap")
    doc = fresh_services.store.snapshot.documents["ke-hoach-tan-lap"]
    assert doc.filename == "Kế hoạch Tân Lập.txt"
    assert Path(doc.source_path).name == "ke-hoach-tan-lap.txt" and Path(doc.source_path).exists()
    assert fresh_services.store.snapshot.communes == ["Tân Lập"]
    # the file changes but keeps its name: same document, updated in place
    temp.write_text(SMALL_PLAN.replace("Quý III/2026", "Quý IV/2026"), encoding="utf-8")
    result = fresh_services.ingestor.ingest_file(temp, filename="Kế hoạch Tân Lập.txt")
    assert (result.status, result.chunks_removed > 0, result.chunks_added > 0) == ("updated", True, True)
    assert len(fresh_services.store.snapshot.documents) == 1
    assert any("Quý IV/2026" in c.body for c in fresh_services.store.snapshot.chunks)
    assert not any("Quý III/2026" in c.body for c in fresh_services.store.snapshot.chunks)
    assert_consistent(fresh_services)


def test_a_failed_file_leaves_the_store_untouched(fresh_services: Services, tmp_path: Path) -> None:
    good = tmp_path / "tan-lap.txt"
    good.write_text(SMALL_PLAN, encoding="utf-8")
    fresh_services.ingestor.ingest_paths([good])
    before = catalog_ids(fresh_services)
    # the same document id, now unreadable: the stored version must survive
    good.write_bytes(bytes(range(256)) * 4)
    result = fresh_services.ingestor.ingest_file(good)
    assert result.status == "failed" and "nhị phân" in result.error
    assert catalog_ids(fresh_services) == before
    assert_consistent(fresh_services)


def test_ingest_paths_of_an_empty_folder(fresh_services: Services, tmp_path: Path) -> None:
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    report = fresh_services.ingestor.ingest_paths([empty])
    assert report.results == [] and report.chunks_added == 0
    assert fresh_services.store.snapshot.documents == {}


def test_a_question_never_waits_for_an_upload_embedding(base_services: Services) -> None:
    """Passages (ingestion) run on a model instance of their own: while an upload holds it, a question is
    embedded all the same, and both sides give the model's vectors."""
    import threading


    embedder = base_services.embedder
    before = embedder.embed_passages(["Phòng Kinh tế chủ trì chuyển đổi số"])
    asked: list[np.ndarray] = []
    with embedder._passage_lock:  # an upload in the middle of embedding its passages
        worker = threading.Thread(target=lambda: asked.append(embedder.embed_query("Ai chủ trì chuyển đổi số?")))
        worker.start()
        worker.join(timeout=60)
        assert asked, "the question waited for the upload"
    assert float(before[0] @ asked[0]) > 0.8  # the same model on both sides


def test_a_folder_is_embedded_in_one_call_and_a_file_given_twice_is_stored_once(
    fresh_services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("xa-a", "xa-b", "xa-c"):
        (folder / f"{name}.txt").write_text(SMALL_PLAN.replace("Tân Lập", name.upper()), encoding="utf-8")
    embedder = fresh_services.store.embedder
    original, calls = embedder.embed_passages, []

    def counted(texts: list[str], show_progress: bool = False) -> np.ndarray:
        calls.append(len(texts))
        return original(texts, show_progress)

    embedder.embed_passages = counted  # type: ignore[method-assign]
    try:
        report = fresh_services.ingestor.ingest_paths([folder, folder / "xa-a.txt"])
    finally:
        embedder.embed_passages = original  # type: ignore[method-assign]
    # small plans, one group: their new chunks embedded together, each chunk once
    assert [r.status for r in report.results] == ["added", "added", "added", "unchanged"]
    assert calls == [sum(r.chunks_added for r in report.results)]
    assert_consistent(fresh_services)
