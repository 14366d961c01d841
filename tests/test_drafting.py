"""Drafting new commune plans from the example plans (issue 7)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.api.errors import install_error_handlers
from assistant.api.routers import draft as draft_router
from assistant.drafting import DraftInputError, DraftService
from assistant.drafting.docx_export import write_docx
from assistant.drafting.markdown_export import sources_markdown, to_markdown
from assistant.drafting.model import Draft
from assistant.services import Services
from ingest.normalize import fold

COMMUNE, PROVINCE, YEAR = "Tân Lập", "Đồng Nai", 2027
PLAN_TYPES = ("pii", "nq57", "innovative")
SECTION_ORDER = [
    "ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số:",
    f"{COMMUNE}, ngày", "KẾ HOẠCH", "Căn cứ", "I. MỤC ĐÍCH, YÊU CẦU", "II. MỤC TIÊU", "III. NHIỆM VỤ, GIẢI PHÁP",
    "IV. KINH PHÍ THỰC HIỆN", "V. TỔ CHỨC THỰC HIỆN", "Trên đây là Kế hoạch", "Nơi nhận", "CHỦ TỊCH", "PHỤ LỤC",
]


# --- helpers -------------------------------------------------------------------------------------


def body_texts(document: DocumentObject) -> list[str]:
    """Every paragraph of the body in order, table cells included (row by row)."""
    texts: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            texts.append(Paragraph(child, document).text)
        elif child.tag == qn("w:tbl"):
            for row in Table(child, document).rows:
                for cell in row.cells:
                    texts.extend(p.text for p in cell.paragraphs)
    return texts


def all_paragraphs(document: DocumentObject) -> Iterator[Paragraph]:
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
    for section in document.sections:
        yield from section.footer.paragraphs
        yield from section.header.paragraphs


def forbidden_names(services: Services) -> list[str]:
    """Communes, provinces and signers of the corpus, except the new commune and its province."""
    allowed = {fold(COMMUNE), fold(PROVINCE)}
    names = set()
    for doc in services.store.snapshot.documents.values():
        for key in ("commune", "province", "signer"):
            value = doc.metadata.get(key)
            if value and fold(value) not in allowed:
                names.add(value)
    return sorted(names)


def named(text: str, name: str) -> bool:
    return f" {fold(name)} " in f" {fold(text)} "


@pytest.fixture(scope="module")
def drafts(corpus_services: Services, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Draft, Path]]:
    out = tmp_path_factory.mktemp("drafts")
    made = {}
    for plan_type in PLAN_TYPES:
        result = corpus_services.drafter.draft(commune=COMMUNE, province=PROVINCE, plan_type=plan_type, year=YEAR)
        made[plan_type] = (result, write_docx(result, out / f"{plan_type}.docx"))
    return made


@pytest.fixture(params=PLAN_TYPES)
def drafted(request: pytest.FixtureRequest, drafts: dict[str, tuple[Draft, Path]]) -> tuple[Draft, DocumentObject]:
    result, path = drafts[request.param]
    return result, Document(str(path))


# --- content -------------------------------------------------------------------------------------


def test_every_section_in_order(drafted: tuple[Draft, DocumentObject]) -> None:
    _, document = drafted
    texts = body_texts(document)
    position = 0
    for marker in SECTION_ORDER:
        found = next((i for i in range(position, len(texts)) if texts[i].startswith(marker) or
                      (marker in ("Số:", "CHỦ TỊCH") and marker in texts[i])), None)
        assert found is not None, f"'{marker}' missing or out of order"
        position = found + 1


def test_commune_in_header_and_title(drafted: tuple[Draft, DocumentObject]) -> None:
    result, document = drafted
    header = document.tables[0]
    assert f"XÃ {COMMUNE.upper()}" in header.rows[0].cells[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header.rows[0].cells[1].text
    assert header.rows[1].cells[0].text.startswith("Số:") and "/KH-UBND" in header.rows[1].cells[0].text
    texts = [p.text for p in document.paragraphs]
    title = texts[texts.index("KẾ HOẠCH") + 1]
    assert COMMUNE in title and title == result.title
    assert str(YEAR) in title


def test_no_other_commune_or_province_named(drafted: tuple[Draft, DocumentObject], corpus_services: Services) -> None:
    result, document = drafted
    texts = [p.text for p in all_paragraphs(document)]
    forbidden = forbidden_names(corpus_services)
    assert forbidden, "the corpus metadata names communes"
    leaks = [(name, text[:120]) for text in texts for name in forbidden if named(text, name)]
    assert not leaks, leaks
    markdown = to_markdown(result)
    assert not [name for name in forbidden if named(markdown, name)]


def test_appendix_table(drafted: tuple[Draft, DocumentObject]) -> None:
    result, document = drafted
    table = next(t for t in document.tables if len(t.columns) == 5 and "Đơn vị chủ trì" in t.rows[0].cells[2].text)
    assert table.style.name == "Table Grid"
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    tasks = [r for r in rows if r[0].isdigit()]
    assert len(tasks) >= 10
    assert all(r[1].strip() and r[2].strip() for r in tasks), "every task row has a task and a lead unit"
    leads = {u for r in result.appendix_rows if not r.group for u in r.lead.split("; ")}
    partners = {u for r in result.appendix_rows for u in r.partners.split("; ") if u}
    assert leads | partners <= _draft_units(result), (leads | partners) - _draft_units(result)


def _draft_units(result: Draft) -> set[str]:
    """The units of the commune: the blocks of section V."""
    organization = next(s for s in result.sections if s.key == "organization")
    return {b.text.split(". ", 1)[1] for b in organization.blocks if b.kind == "heading"}


def test_organization_has_one_block_per_unit(drafted: tuple[Draft, DocumentObject]) -> None:
    result, _ = drafted
    organization = next(s for s in result.sections if s.key == "organization")
    headings = [b.text for b in organization.blocks if b.kind == "heading"]
    assert len(headings) >= 4
    assert headings[0] == "1. Các phòng, ban, ngành xã"
    assert any("Phòng Văn hóa - Xã hội" in h for h in headings)


def test_text_reads_as_a_plan(drafted: tuple[Draft, DocumentObject]) -> None:
    result, _ = drafted
    for section in result.sections:
        assert section.blocks, section.heading
        for block in section.blocks:
            if block.kind == "heading":
                continue
            assert "..." not in block.text and not block.text.rstrip(".").endswith("…"), block.text
            assert block.text[0].isupper() or not block.text[0].isalpha(), block.text
            assert block.text.endswith((".", ")", "]", ":", ".)")), block.text


def test_provenance_is_a_separate_file(drafted: tuple[Draft, DocumentObject], corpus_services: Services) -> None:
    """The document to be signed names no source; the provenance names examples by file name and lines."""
    result, document = drafted
    assert result.references
    for section in result.sections:
        assert section.sources, f"{section.heading} has no source"
        assert all(ref.doc_id in {r.doc_id for r in result.references} for ref in section.sources)
        assert all(ref.lines for ref in section.sources), section.heading
    assert result.appendix_sources
    texts = " ".join(body_texts(document))
    assert "NGUỒN THAM KHẢO" not in texts.upper() and "Nguồn tham khảo" not in to_markdown(result)
    sources = sources_markdown(result)
    files = {d.filename for d in corpus_services.store.snapshot.documents.values()}
    used = [line for line in sources.splitlines() if line.startswith("- I. MỤC ĐÍCH, YÊU CẦU: ")]
    assert used and any(f"{name}, dòng " in used[0] for name in files), used


def test_bases_are_proposed_and_marked(drafts: dict[str, tuple[Draft, Path]]) -> None:
    nq57, _ = drafts["nq57"]
    assert any("57-NQ/TW" in b for b in nq57.bases)
    assert all(b.startswith("Căn cứ") for b in nq57.bases)
    assert any("[cần kiểm tra]" in b for b in nq57.bases)
    pii, _ = drafts["pii"]
    assert all(PROVINCE in b or "57-NQ/TW" in b or "[…]" in b for b in pii.bases)


def test_given_bases_units_focus_and_signer(corpus_services: Services) -> None:
    result = corpus_services.drafter.draft(
        commune="xã Tân Lập", province="tỉnh Đồng Nai", plan_type="PII", year="2027",
        bases=["Kế hoạch số 12/KH-UBND ngày 10/01/2027 của UBND tỉnh Đồng Nai"],
        units=["Phòng VHXH", "Phòng Kinh tế", "Công an xã", "Ban quản lý chợ"],
        focus=["du lịch"], signer="Nguyễn Văn A", role="Phó Chủ tịch",
    )
    assert result.request.commune == "Tân Lập" and result.request.province == "Đồng Nai"
    assert result.bases == ["Căn cứ Kế hoạch số 12/KH-UBND ngày 10/01/2027 của UBND tỉnh Đồng Nai"]
    units = _draft_units(result)
    assert units == {"Các phòng, ban, ngành xã", "Phòng Văn hóa - Xã hội", "Phòng Kinh tế", "Công an xã",
                     "Ban quản lý chợ"}
    assert {u for r in result.appendix_rows if not r.group for u in r.lead.split("; ")} <= units
    assert result.signer == "Nguyễn Văn A" and result.signature_lines[-2:] == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    tasks = next(s for s in result.sections if s.key == "tasks")
    assert any("du lịch" in b.text.lower() for b in tasks.blocks)


def test_innovative_period(drafts: dict[str, tuple[Draft, Path]]) -> None:
    result, _ = drafts["innovative"]
    assert "giai đoạn 2027 – 2030" in result.title
    assert not any("2026" in r.deadline for r in result.appendix_rows)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"commune": "", "plan_type": "pii", "year": 2027}, "Thiếu tên xã"),
        ({"commune": None, "plan_type": "pii", "year": 2027}, "Thiếu tên xã"),
        ({"commune": "   ", "plan_type": "pii", "year": 2027}, "Thiếu tên xã"),
        ({"commune": "Tân Lập", "plan_type": "abc", "year": 2027}, "Loại kế hoạch không hợp lệ"),
        ({"commune": "Tân Lập", "plan_type": None, "year": 2027}, "Thiếu loại kế hoạch"),
        ({"commune": "Tân Lập", "plan_type": "pii", "year": "năm sau"}, "Năm không hợp lệ"),
        ({"commune": "Tân Lập", "plan_type": "pii", "year": None}, "Thiếu năm"),
        ({"commune": "Tân Lập", "plan_type": "pii", "year": "2030-2027"}, "Năm không hợp lệ"),
        ({"commune": "x" * 201, "plan_type": "pii", "year": 2027}, "quá dài"),
        ({"commune": "Tân Lập", "plan_type": "pii", "year": 2027, "units": ["y" * 300]}, "quá dài"),
        ({"commune": "Tân Lập", "plan_type": "pii", "year": 2027, "role": "Bí thư"}, "Chức vụ"),
    ],
)
def test_bad_input(corpus_services: Services, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(DraftInputError, match=message):
        corpus_services.drafter.draft(**fields)


def test_long_lists_are_bounded(corpus_services: Services) -> None:
    result = corpus_services.drafter.draft(
        commune="Tân Lập", province=PROVINCE, plan_type="nq57", year=YEAR,
        units=[f"Tổ công tác số {i}" for i in range(30)], focus=[f"lĩnh vực {i}" for i in range(15)],
    )
    assert len(result.request.units) == 20 and len(result.request.focus) == 10
    assert sum("chỉ dùng" in w for w in result.warnings) == 2


def test_province_without_examples_warns(corpus_services: Services) -> None:
    result = corpus_services.drafter.draft(commune="Tân Lập", province="Lai Châu", plan_type="pii", year=YEAR)
    assert any("Lai Châu" in w for w in result.warnings)
    assert any("Lai Châu" in b for b in result.bases)
    assert not [n for n in ("An Giang", "Hải Phòng", "Hà Tĩnh", "Đồng Nai") if named(to_markdown(result), n)]


def test_type_without_examples_uses_the_closest(fresh_services: Services) -> None:
    report = fresh_services.ingestor.ingest_paths([Path(__file__).parent.parent / "data" / "plans" /
                                                   "xa-hoa-dien-an-giang-kh128-pii-2026.txt"])
    assert not report.failed
    result = fresh_services.drafter.draft(commune="Tân Lập", province=PROVINCE, plan_type="innovative", year=YEAR)
    assert any("Chưa có kế hoạch mẫu loại “innovative”" in w for w in result.warnings)
    assert all(s.blocks for s in result.sections)
    assert len([r for r in result.appendix_rows if not r.group]) >= 10
    assert not named(to_markdown(result), "Hòa Điền")


def test_empty_store_gives_a_frame(fresh_services: Services) -> None:
    result = fresh_services.drafter.draft(commune="Tân Lập", province=PROVINCE, plan_type="pii", year=YEAR)
    assert any("chưa có kế hoạch mẫu nào" in w.lower() for w in result.warnings)
    assert [s.heading for s in result.sections][0] == "I. MỤC ĐÍCH, YÊU CẦU"


# --- formatting ------------------------------------------------------------------------------------


def test_docx_formatting(drafted: tuple[Draft, DocumentObject]) -> None:
    """Decree 30/2020/NĐ-CP: margins, fonts and sizes, italic bases, recipients 12/11 pt, page number top centre
    from page 2, document properties of the commune."""
    result, document = drafted
    section = document.sections[0]
    assert abs(section.top_margin.cm - 2.0) < 0.01 and abs(section.bottom_margin.cm - 2.0) < 0.01
    assert abs(section.left_margin.cm - 3.0) < 0.01
    assert 1.5 - 0.01 <= section.right_margin.cm <= 2.0 + 0.01
    runs = [run for p in all_paragraphs(document) for run in p.runs if run.text.strip()]
    assert {run.font.name for run in runs} == {"Times New Roman"}
    sizes = {run.text: run.font.size.pt for run in runs}
    assert sizes["Nơi nhận:"] == 12 and sizes["KẾ HOẠCH"] == 14
    assert all(size == 11 for text, size in sizes.items() if text.startswith("- Lưu"))
    body = [run for p in document.paragraphs for run in p.runs if run.text.strip()]
    assert all(13 <= run.font.size.pt <= 14 for run in body if run.text not in {r.remark for r in result.appendices}), {
        run.font.size.pt for run in body}
    header = document.tables[0]
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and {edge.get(qn("w:val")) for edge in borders} == {"nil"}
    texts = [p.text for p in document.paragraphs]
    title = document.paragraphs[texts.index("KẾ HOẠCH") + 1]
    assert title.alignment == 1 and all(run.font.bold for run in title.runs)  # 1 = centre
    bases = [p for p in document.paragraphs if p.text.startswith("Căn cứ")]
    assert bases and all(run.font.italic for p in bases for run in p.runs)
    assert section.different_first_page_header_footer
    header_xml = section.header._element.xml
    assert "PAGE" in header_xml and "fldChar" in header_xml
    assert "PAGE" not in section.footer._element.xml and "PAGE" not in section.first_page_header._element.xml
    props = document.core_properties
    assert props.author == f"Ủy ban nhân dân xã {COMMUNE}" and props.last_modified_by == props.author
    assert props.title and COMMUNE in props.title
    assert props.created is not None and props.created.year >= 2025


def test_docx_rules_and_grid(drafted: tuple[Draft, DocumentObject]) -> None:
    """Rules under the issuing body, the motto and the title summary; every table's grid columns equal its cell
    widths (LibreOffice lays out by the grid); appendices on landscape pages numbered from 1."""
    _, document = drafted

    def ruled(paragraphs: list[Paragraph]) -> int:
        return sum(p._p.pPr is not None and p._p.pPr.find(qn("w:pBdr")) is not None for p in paragraphs)

    left, right = document.tables[0].rows[0].cells
    assert ruled(left.paragraphs) == 1 and ruled(right.paragraphs) == 1
    texts = [p.text for p in document.paragraphs]
    title_at = texts.index("KẾ HOẠCH")
    assert ruled(document.paragraphs[title_at:title_at + 3]) == 1
    for table in document.tables:
        grid = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        for tr in table._tbl.tr_lst:
            widths = [int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in tr.tc_lst]
            spans = [tc.grid_span for tc in tr.tc_lst]
            expected, at = [], 0
            for span in spans:
                expected.append(sum(grid[at:at + span]))
                at += span
            assert widths == expected, (widths, expected)
    appendix_sections = document.sections[1:]
    assert appendix_sections
    for section in appendix_sections:
        assert section.page_width > section.page_height
        numbering = section._sectPr.find(qn("w:pgNumType"))
        assert numbering is not None and numbering.get(qn("w:start")) == "1"


@pytest.fixture(scope="module")
def rendered(drafts: dict[str, tuple[Draft, Path]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every plan type converted by LibreOffice in one call: the text of each page (pdftotext -layout)."""
    missing = [tool for tool in ("soffice", "pdftotext") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' và '.join(missing)} chưa được cài (Debian: libreoffice-writer-nogui, poppler-utils)")
    out = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("lo-profile")
    paths = [path for _, path in drafts.values()]
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, paths)], check=True, timeout=240, capture_output=True)
    pages: dict[str, list[str]] = {}
    for plan_type, (_, path) in drafts.items():
        pdf = out / (path.stem + ".pdf")
        assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), f"LibreOffice did not convert {path.name}"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        pages[plan_type] = text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    return pages


@pytest.mark.parametrize("plan_type", PLAN_TYPES)
def test_libreoffice_layout(rendered: dict[str, list[str]], plan_type: str) -> None:
    pages = rendered[plan_type]
    first = [line.strip() for line in pages[0].splitlines() if line.strip()]
    for header_line in ("ỦY BAN NHÂN DÂN", f"XÃ {COMMUNE.upper()}", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                        "Độc lập - Tự do - Hạnh phúc", f"{COMMUNE}, ngày … tháng … năm"):
        assert any(header_line in line for line in first[:4]), (header_line, first[:4])
    assert not first[0].isdigit(), "no page number on page 1"
    assert pages[1].strip().splitlines()[0].strip() == "2", "page number top centre from page 2"
    appendix = next(i for i, page in enumerate(pages) if re.match(r"\s*PHỤ LỤC", page.strip()) and i > 0)
    limit = 12 if plan_type == "pii" else 14
    assert appendix <= limit, f"{plan_type}: body runs {appendix} pages"
    assert all("NGUỒN THAM KHẢO" not in page.upper() for page in pages)


# --- the "see how others wrote it" view -------------------------------------------------------------


def test_examples_view(corpus_services: Services) -> None:
    found = corpus_services.drafter.examples("KINH PHÍ", plan_type="nq57")
    assert len(found) >= 2
    assert all(e.section == "budget" and "KINH PHÍ" in e.heading for e in found)
    assert found[0].plan_type == "nq57"
    assert all(e.text.strip() and e.commune for e in found)
    by_heading = corpus_services.drafter.examples("lo trinh thuc hien")
    assert by_heading and "Lộ trình" in by_heading[0].text
    bases = corpus_services.drafter.examples("Căn cứ", province="Đồng Nai")
    assert bases[0].province == "Đồng Nai" and "Căn cứ" in bases[0].text
    with pytest.raises(DraftInputError):
        corpus_services.drafter.examples("  ")


# --- HTTP API ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(corpus_services: Services) -> TestClient:
    app = FastAPI()
    app.state.services = corpus_services
    app.state.ready = True
    install_error_handlers(app)
    app.include_router(draft_router.router)
    return TestClient(app)


def test_api_draft_json(client: TestClient) -> None:
    response = client.post("/api/draft", json={"commune": COMMUNE, "province": PROVINCE, "plan_type": "nq57",
                                               "year": YEAR, "focus": ["nông nghiệp"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["markdown"].startswith("| ỦY BAN NHÂN DÂN")
    keys = [s["key"] for s in body["sections"]]
    assert keys == ["bases", "purpose", "objectives", "tasks", "budget", "organization", "appendix"]
    assert all(s["sources"] for s in body["sections"] if s["key"] not in ("bases",))
    assert body["provenance"] and body["provenance"][0]["ref"] == "M1"
    assert len([r for r in body["appendix"] if not r["group"]]) >= 10
    assert isinstance(body["warnings"], list)


def test_api_draft_docx(client: TestClient, tmp_path: Path) -> None:
    response = client.post("/api/draft?format=docx",
                           json={"commune": COMMUNE, "province": PROVINCE, "plan_type": "pii", "year": YEAR})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    path = tmp_path / "x.docx"
    path.write_bytes(response.content)
    assert "KẾ HOẠCH" in [p.text for p in Document(str(path)).paragraphs]


@pytest.mark.parametrize(
    "payload",
    [{"plan_type": "pii", "year": YEAR}, {"commune": COMMUNE, "plan_type": "xyz", "year": YEAR}],
)
def test_api_draft_bad_input(client: TestClient, payload: dict[str, Any]) -> None:
    response = client.post("/api/draft", json=payload)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "Thiếu tên xã" in detail or "Loại kế hoạch không hợp lệ" in detail


def test_api_examples(client: TestClient) -> None:
    response = client.get("/api/draft/examples", params={"section": "KINH PHÍ"})
    assert response.status_code == 200
    items = response.json()
    assert items and all("KINH PHÍ" in item["heading"] for item in items)
    assert client.get("/api/draft/examples", params={"section": " "}).status_code == 422
    assert client.get("/api/draft/examples").status_code == 422


# --- LLM rewrite (a stub OpenAI-compatible server) ---------------------------------------------------


class _StubLLM(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"].split("Nội dung cần biên tập:", 1)[1].strip()
        lines = text.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("- "))
        lines[first] = lines[first].rstrip(".") + " (đã biên tập)."
        reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": "\n".join(lines)}}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def stub_llm() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _StubLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_llm_rewrites_sections(corpus_services: Services, stub_llm: str) -> None:
    settings = corpus_services.settings.model_copy(update={"llm_base_url": stub_llm, "llm_timeout_s": 10.0})
    result = DraftService(settings, corpus_services.store).draft(commune=COMMUNE, province=PROVINCE,
                                                                 plan_type="pii", year=YEAR)
    assert result.used_llm
    assert all(s.used_llm for s in result.sections)
    assert all(any("(đã biên tập)" in b.text for b in s.blocks) for s in result.sections)


def test_llm_failure_falls_back(corpus_services: Services) -> None:
    settings = corpus_services.settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1",
                                                           "llm_timeout_s": 2.0})
    result = DraftService(settings, corpus_services.store).draft(commune=COMMUNE, province=PROVINCE,
                                                                 plan_type="pii", year=YEAR)
    assert not result.used_llm
    assert any("Không biên tập được bằng LLM" in w for w in result.warnings)
    assert all(s.blocks for s in result.sections)


# --- CLI -----------------------------------------------------------------------------------------------


@pytest.fixture()
def cli(corpus_services: Services, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    from assistant import cli_draft

    monkeypatch.setattr(cli_draft, "get_services", lambda: corpus_services)
    app = typer.Typer()
    app.command()(cli_draft.draft)
    return app


def test_cli_writes_docx_and_markdown(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "ke-hoach.docx"
    result = runner.invoke(cli, ["--commune", COMMUNE, "--province", PROVINCE, "--type", "nq57", "--year", "2027",
                                 "--focus", "nông nghiệp", "--signer", "Nguyễn Văn A", "--role", "Phó Chủ tịch",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "Đã soạn" in result.output
    assert "Nguyễn Văn A" in [p.text for p in all_paragraphs(Document(str(out)))]
    md = tmp_path / "ke-hoach.md"
    result = runner.invoke(cli, ["-c", COMMUNE, "-p", PROVINCE, "-t", "pii", "-y", "2027", "-o", str(md)])
    assert result.exit_code == 0, result.output
    assert "### V. TỔ CHỨC THỰC HIỆN" in md.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "pii", "--year", "2027"], "Thiếu tên xã"),
        (["--commune", COMMUNE, "--type", "abc", "--year", "2027"], "Loại kế hoạch không hợp lệ"),
        (["--commune", COMMUNE, "--type", "pii", "--year", "2027", "--out", "x.pdf"], ".docx hoặc .md"),
    ],
)
def test_cli_errors(cli: typer.Typer, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.output
