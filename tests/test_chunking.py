"""Chunking of the five real plans with the real tokenizer of the default embedding model: context
prefixes, section boundaries, the model's 512-token window, whole table rows with a repeated
header, every line covered, and content-hash ids."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus import HA_DONG, HOA_DIEN, PHUOC_AN, PLANS, STEMS, VINH_THUAN, VU_QUANG

from assistant.services import Services
from core.model import Chunk, ParsedDocument, PlanMetadata, SourceLine
from core.normalize import normalize_line
from ingest.chunking import approx_tokens, chunk_document, context_prefix, is_table_line, join_wrapped
from ingest.parse import parse_file, section_paths
from vectorstore.embeddings import MAX_TOKENS as ONNX_WINDOW
from vectorstore.embeddings import resolve_model_path

MODEL_WINDOW = 512


@pytest.fixture(scope="module")
def count_tokens(base_services: Services) -> Callable[[str], int]:
    return base_services.embedder.count_tokens


@pytest.fixture(scope="module")
def chunked(base_services: Services, count_tokens) -> dict[str, tuple[ParsedDocument, list[Chunk]]]:
    budget = base_services.settings.chunk_max_tokens
    out = {}
    for stem in STEMS:
        doc = parse_file(PLANS / f"{stem}.txt")
        out[stem] = (doc, chunk_document(doc, max_tokens=budget, count_tokens=count_tokens))
    return out


def sections_by_line(doc: ParsedDocument) -> dict[int, str]:
    return {line.no: " > ".join(path) for line, path in zip(doc.lines, doc.sections, strict=True)}


def make_doc(lines: list[str], commune: str | None = "Thử Nghiệm", doc_id: str = "thu") -> ParsedDocument:
    source = [SourceLine(no=i + 1, text=normalize_line(raw), raw=raw) for i, raw in enumerate(lines)]
    meta = PlanMetadata(commune=commune, province="Lâm Đồng", title="Kế hoạch thử nghiệm năm 2026")
    return ParsedDocument(doc_id, f"{doc_id}.txt", "0", source, section_paths(source), meta)


# --- prefixes and sections -------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_every_chunk_names_its_commune_and_section(chunked, stem: str) -> None:
    doc, chunks = chunked[stem]
    meta = doc.metadata
    assert chunks
    for chunk in chunks:
        prefix, body = chunk.text.split("\n", 1)
        assert prefix.startswith(f"[xã {meta.commune}, {meta.province}] ")
        assert prefix == context_prefix(doc, chunk.section)
        assert body == chunk.body
        if chunk.section:
            assert prefix.endswith(f" | {chunk.section}")
        assert chunk.doc_id == stem


def test_prefix_example(chunked) -> None:
    doc, chunks = chunked[HOA_DIEN]
    chunk = next(c for c in chunks if "Tham mưu bố trí kinh phí" in c.body)
    assert chunk.text.startswith(
        "[xã Hòa Điền, An Giang] Triển khai thực hiện Cải thiện và nâng cao Chỉ số đổi mới sáng tạo năm 2026 "
        "trên địa bàn xã Hòa Điền | V. TỔ CHỨC THỰC HIỆN > 3. Phòng Kinh tế\n"
    )


def test_prefix_without_commune_uses_the_file_name() -> None:
    doc = make_doc(["Nội dung không rõ xã."], commune=None)
    assert context_prefix(doc, "I. MỤC ĐÍCH").startswith("[thu.txt, Lâm Đồng] ")


@pytest.mark.parametrize("stem", STEMS)
def test_a_chunk_never_crosses_a_section_boundary(chunked, stem: str) -> None:
    doc, chunks = chunked[stem]
    section = sections_by_line(doc)
    for chunk in chunks:
        for line in doc.lines:
            if chunk.line_start <= line.no <= chunk.line_end and line.text:
                own = section[line.no]
                # the lines' own section, or a heading merged into the chunk of its first sub-section
                assert chunk.section == own or chunk.section.startswith(own + " > "), (chunk.line_start, own)


@pytest.mark.parametrize("stem", STEMS)
def test_every_line_of_the_plan_is_in_a_chunk(chunked, stem: str) -> None:
    doc, chunks = chunked[stem]
    for line in doc.lines:
        if not line.text.strip():
            continue
        covering = [c for c in chunks if c.line_start <= line.no <= c.line_end]
        assert any(line.text.strip() in c.body for c in covering), (stem, line.no, line.text)


# --- the model window --------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_chunks_fit_the_embedding_window(chunked, count_tokens, stem: str) -> None:
    _, chunks = chunked[stem]
    sizes = [count_tokens(c.text) for c in chunks]
    assert max(sizes) <= MODEL_WINDOW, max(sizes)


def test_the_tokenizer_is_the_real_one(count_tokens, base_services: Services) -> None:
    model_dir = Path(resolve_model_path(base_services.settings))
    assert json.loads((model_dir / "config.json").read_text())["max_position_embeddings"] == MODEL_WINDOW
    assert ONNX_WINDOW == MODEL_WINDOW  # the default backend truncates where the model's window ends
    assert count_tokens("") == 5  # '<s>', '▁passage', ':', '▁', '</s>'
    assert count_tokens("Phòng Văn hóa - Xã hội") > count_tokens("Phòng")


def test_text_chunks_stay_within_the_budget() -> None:
    long_a = "- " + " ".join(["tuyên truyền phổ biến nâng cao nhận thức"] * 18) + "."
    long_b = "- " + " ".join(["tập huấn kỹ năng số"] * 20) + "."
    doc = make_doc(["I. NHIỆM VỤ", "1. Tuyên truyền", long_a, long_b])
    prefix = approx_tokens(context_prefix(doc, "I. NHIỆM VỤ > 1. Tuyên truyền"))
    assert approx_tokens(long_a) + approx_tokens(long_b) + prefix > 380  # they cannot share a chunk
    assert approx_tokens(long_a) + prefix < 300 and approx_tokens(long_b) + prefix < 300  # each fits alone
    chunks = chunk_document(doc, max_tokens=380, count_tokens=approx_tokens)
    assert all(approx_tokens(c.text) <= 380 for c in chunks), [approx_tokens(c.text) for c in chunks]


def test_a_long_section_is_split_into_several_chunks(chunked) -> None:
    _, chunks = chunked[VU_QUANG]
    sections = [c.section for c in chunks if c.kind == "text"]
    assert len(sections) > len(set(sections))  # at least one section needed more than one chunk


# --- tables ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stem", "min_pieces"), [(PHUOC_AN, 3), (HA_DONG, 1)])
def test_table_chunks_keep_rows_whole_and_repeat_the_header(chunked, stem: str, min_pieces: int) -> None:
    doc, chunks = chunked[stem]
    text_of = {line.no: line.text for line in doc.lines}
    tables = [c for c in chunks if c.kind == "table"]
    assert tables
    by_table: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in tables:
        lines = chunk.body.split("\n")
        assert all(is_table_line(line) for line in lines)
        # every line of the chunk is a whole source line: no row is cut
        in_range = [text_of[no] for no in range(chunk.line_start, chunk.line_end + 1) if text_of.get(no)]
        assert set(lines) <= set(in_range)
        by_table.setdefault((chunk.section, lines[0]), []).append(chunk)
    assert max(len(group) for group in by_table.values()) >= min_pieces
    section = sections_by_line(doc)
    for (where, header), group in by_table.items():
        first = group[0].body.split("\n")
        is_markdown = header.startswith("|")
        for chunk in group[1:]:
            lines = chunk.body.split("\n")
            assert lines[0] == header  # the header row is repeated
            if is_markdown:
                assert lines[1] == first[1]  # and the markdown rule under it
        # the rows after the header, over all pieces, are the table's rows: each once, in order
        skip = 2 if is_markdown else 1
        rows = [row for chunk in group for row in chunk.body.split("\n")[skip:]]
        start, end = group[0].line_start, group[-1].line_end
        source_rows = [
            line.text for line in doc.lines
            if start <= line.no <= end and section[line.no] == where and is_table_line(line.text)
        ][skip:]
        assert rows == source_rows


def test_a_synthetic_table_is_split_on_row_boundaries() -> None:
    header = "STT\tNhiệm vụ\tĐơn vị chủ trì\tThời gian"
    rows = [f"{i}\tNhiệm vụ số {i} về chuyển đổi số và đổi mới sáng tạo\tPhòng Văn hóa - Xã hội\tQuý II/2026"
            for i in range(1, 61)]
    doc = make_doc(["I. NHIỆM VỤ", header, *rows])
    chunks = [c for c in chunk_document(doc, max_tokens=200, count_tokens=approx_tokens) if c.kind == "table"]
    assert len(chunks) > 3
    seen = []
    for chunk in chunks:
        lines = chunk.body.split("\n")
        assert lines[0] == header
        assert all(line in rows for line in lines[1:])
        assert approx_tokens(chunk.text) <= 200
        seen.extend(lines[1:])
    assert seen == rows


def test_a_markdown_table_repeats_header_and_rule() -> None:
    header, rule = "| STT | Chỉ tiêu | Năm 2026 |", "|---|---|---|"
    rows = [f"| {i} | Tỷ lệ hồ sơ trực tuyến nhóm {i} | ≥ {i}% |" for i in range(1, 41)]
    doc = make_doc(["II. MỤC TIÊU", header, rule, *rows])
    chunks = [c for c in chunk_document(doc, max_tokens=150, count_tokens=approx_tokens) if c.kind == "table"]
    assert len(chunks) > 2
    assert all(c.body.split("\n")[:2] == [header, rule] for c in chunks)
    assert [r for c in chunks for r in c.body.split("\n")[2:]] == rows


# --- ids -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_ids_are_content_hashes(chunked, stem: str) -> None:
    _, chunks = chunked[stem]
    ids = [c.chunk_id for c in chunks]
    assert len(ids) == len(set(ids))
    for chunk in chunks:
        assert chunk.chunk_id == hashlib.sha256(f"{stem}\x00{chunk.text}".encode()).hexdigest()[:32]


def test_ids_are_stable_across_runs(chunked, base_services: Services, count_tokens) -> None:
    _, first = chunked[HOA_DIEN]
    again = chunk_document(
        parse_file(PLANS / f"{HOA_DIEN}.txt"),
        max_tokens=base_services.settings.chunk_max_tokens,
        count_tokens=count_tokens,
    )
    assert [c.chunk_id for c in again] == [c.chunk_id for c in first]


def test_an_appended_line_changes_only_the_last_chunk(chunked, base_services: Services, count_tokens, tmp_path) -> None:
    _, before = chunked[HOA_DIEN]
    path = tmp_path / f"{HOA_DIEN}.txt"
    path.write_text((PLANS / f"{HOA_DIEN}.txt").read_text(encoding="utf-8") + "\nGhi chú bổ sung cuối kế hoạch.\n",
                    encoding="utf-8")
    after = chunk_document(parse_file(path), max_tokens=base_services.settings.chunk_max_tokens,
                           count_tokens=count_tokens)
    old, new = {c.chunk_id for c in before}, {c.chunk_id for c in after}
    assert len(old - new) == 1 and len(new - old) == 1
    [changed] = [c for c in after if c.chunk_id not in old]
    assert "Ghi chú bổ sung cuối kế hoạch." in changed.body


def test_same_text_in_two_plans_gets_two_ids() -> None:
    lines = ["I. MỤC ĐÍCH", "Nâng cao nhận thức về đổi mới sáng tạo cho cán bộ, công chức và người dân trên địa bàn xã."]
    a = chunk_document(make_doc(lines, doc_id="a"))
    b = chunk_document(make_doc(lines, doc_id="b"))
    assert [c.body for c in a] == [c.body for c in b]
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in b}


# --- paragraphs ------------------------------------------------------------------------------------------


def test_wrapped_pdf_lines_are_joined_into_sentences() -> None:
    lines = [
        SourceLine(1, "1. Mục đích", "1. Mục đích"),
        SourceLine(2, "Nâng cao nhận thức, vai trò và trách nhiệm của các phòng, ban, ngành",
                   "Nâng cao nhận thức, vai trò và trách nhiệm của các phòng, ban, ngành"),
        SourceLine(3, "trên địa bàn xã về Chỉ số đổi mới sáng tạo.", "trên địa bàn xã về Chỉ số đổi mới sáng tạo."),
        SourceLine(4, "- Tổ chức tập huấn", "- Tổ chức tập huấn"),
        SourceLine(5, "", ""),
        SourceLine(6, "- Khen thưởng kịp thời;", "- Khen thưởng kịp thời;"),
    ]
    assert join_wrapped(lines) == (
        "1. Mục đích\n"
        "Nâng cao nhận thức, vai trò và trách nhiệm của các phòng, ban, ngành trên địa bàn xã về Chỉ số đổi mới "
        "sáng tạo.\n- Tổ chức tập huấn\n- Khen thưởng kịp thời;"
    )


def test_vinh_thuan_paragraphs_are_rejoined(chunked) -> None:
    _, chunks = chunked[VINH_THUAN]
    # raw lines 'Nâng cao nhận thức, vai trò và trách nhiệm của các phòng, ban, ngành ' / 'trên địa bàn xã …'
    assert any("các phòng, ban, ngành trên địa bàn xã" in c.body for c in chunks)


def test_chunk_line_numbers_point_into_the_source(chunked) -> None:
    for stem, (doc, chunks) in chunked.items():
        numbers = {line.no for line in doc.lines}
        raw = (PLANS / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
        for chunk in chunks:
            assert chunk.line_start in numbers and chunk.line_end in numbers
            assert chunk.line_start <= chunk.line_end <= len(raw)
            first_body_line = chunk.body.split("\n")[0]
            assert normalize_line(raw[chunk.line_start - 1]).strip() in first_body_line or chunk.kind == "table"
