"""A draft as a Word document laid out as Nghị định 30/2020/NĐ-CP asks of administrative documents.

A4, margins top/bottom 2 cm, left 3 cm, right 2 cm; Times New Roman 13–14 pt everywhere; the header
(issuing body | national title and motto, number | place and date) as a borderless two-column
table; "KẾ HOẠCH" and the title bold and centred; headings bold; the recipients and the signature
side by side (borderless); the appendix as a real Word table with a repeated header row; page
numbers in the footer through a PAGE field.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from assistant.drafting.markdown_export import (
    APPENDIX_HEADER,
    REFERENCES_NOTE,
    REFERENCES_TITLE,
    reference_lines,
)
from assistant.drafting.model import Block, Draft

FONT = "Times New Roman"
BODY_PT = 14
SMALL_PT = 13  # header, recipients, appendix table, footer (the smallest size Decree 30 allows for text)
MARGINS_CM = {"top": 2.0, "bottom": 2.0, "left": 3.0, "right": 2.0}
APPENDIX_WIDTHS_CM = (1.1, 6.4, 3.1, 2.9, 2.5)  # 16 cm: the text width of A4 with 3 + 2 cm margins
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _font(run_or_style: object, size: float, bold: bool = False, italic: bool = False) -> None:
    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = FONT
    font.size = Pt(size)
    font.bold = bold
    font.italic = italic
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _paragraph(
    container: DocumentObject | _Cell,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    after: float = 6,
) -> Paragraph:
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.15
    if indent:
        fmt.first_line_indent = Cm(1.0)
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _cell_paragraph(cell: _Cell, text: str, *, size: float = SMALL_PT, bold: bool = False, italic: bool = False,
                    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
    """The first paragraph of a cell is reused (a new cell already has an empty one)."""
    paragraph = cell.paragraphs[0] if not cell.paragraphs[0].text and not cell.paragraphs[0].runs else cell.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.space_before = Pt(0)
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _borderless(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    existing = tbl_pr.find(qn("w:tblBorders"))
    if existing is not None:
        tbl_pr.remove(existing)
    tbl_pr.append(borders)


def _widths(table: Table, widths_cm: tuple[float, ...]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(width)


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _page_number_footer(document: DocumentObject) -> None:
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _font(run, SMALL_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == " PAGE ":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


def _setup(document: DocumentObject) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = Cm(MARGINS_CM["top"])
    section.bottom_margin = Cm(MARGINS_CM["bottom"])
    section.left_margin = Cm(MARGINS_CM["left"])
    section.right_margin = Cm(MARGINS_CM["right"])
    normal = document.styles["Normal"]
    _font(normal, BODY_PT)
    _page_number_footer(document)


def _header(document: DocumentObject, draft: Draft) -> None:
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    _widths(table, (6.0, 10.0))
    left, right = table.rows[0].cells
    _cell_paragraph(left, "ỦY BAN NHÂN DÂN")
    _cell_paragraph(left, f"XÃ {draft.commune.upper()}", bold=True)
    _cell_paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True)
    _cell_paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=BODY_PT, bold=True)
    number, place = table.rows[1].cells
    _cell_paragraph(number, draft.number)
    _cell_paragraph(place, draft.place_date, size=BODY_PT, italic=True)


def _blocks(document: DocumentObject, blocks: list[Block]) -> None:
    for block in blocks:
        if block.kind == "heading":
            _paragraph(document, block.text, bold=True, indent=True)
        elif block.kind == "bullet":
            _paragraph(document, f"- {block.text}", indent=True)
        else:
            _paragraph(document, block.text, indent=True)


def _closing_block(document: DocumentObject, draft: Draft) -> None:
    table = document.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (8.0, 8.0))
    recipients, signature = table.rows[0].cells
    _cell_paragraph(recipients, "Nơi nhận:", bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in draft.recipients:
        _cell_paragraph(recipients, f"- {line}", align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in draft.signature_lines:
        _cell_paragraph(signature, line, size=BODY_PT, bold=True)
    for _ in range(3):
        _cell_paragraph(signature, "", size=BODY_PT).add_run().add_break()
    _cell_paragraph(signature, draft.signer, size=BODY_PT, bold=True)


def _appendix(document: DocumentObject, draft: Draft) -> None:
    _paragraph(document, after=0).add_run().add_break(WD_BREAK.PAGE)
    _paragraph(document, "PHỤ LỤC", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, draft.appendix_title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, draft.appendix_note, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    table = document.add_table(rows=1, cols=len(APPENDIX_HEADER))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, APPENDIX_HEADER, strict=True):
        _cell_paragraph(cell, text, bold=True)
    _repeat_header(table)
    for row in draft.appendix_rows:
        cells = table.add_row().cells
        values = (row.stt, row.task, row.lead, row.partners, row.deadline)
        for i, (cell, text) in enumerate(zip(cells, values, strict=True)):
            align = WD_ALIGN_PARAGRAPH.CENTER if i in (0, 4) else WD_ALIGN_PARAGRAPH.LEFT
            _cell_paragraph(cell, text, bold=row.group, align=align)
        if row.group:
            merged = cells[1].merge(cells[4])
            for extra in merged.paragraphs[1:]:
                extra._element.getparent().remove(extra._element)
    _widths(table, APPENDIX_WIDTHS_CM)


def _references(document: DocumentObject, draft: Draft) -> None:
    _paragraph(document, after=0).add_run().add_break(WD_BREAK.PAGE)
    _paragraph(document, REFERENCES_TITLE.upper(), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, REFERENCES_NOTE, size=SMALL_PT, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    for line in reference_lines(draft):
        _paragraph(document, f"- {line}", size=SMALL_PT)


def build_document(draft: Draft) -> DocumentObject:
    document = Document()
    _setup(document)
    _header(document, draft)
    _paragraph(document, after=0)
    _paragraph(document, "KẾ HOẠCH", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(document, draft.title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    for base in draft.bases:
        _paragraph(document, base, indent=True)
    _paragraph(document, draft.intro, indent=True)
    for section in draft.sections:
        _paragraph(document, section.heading, bold=True, indent=True)
        _blocks(document, section.blocks)
    _paragraph(document, draft.closing, indent=True, after=12)
    _closing_block(document, draft)
    _appendix(document, draft)
    _references(document, draft)
    return document


def to_docx(draft: Draft) -> bytes:
    buffer = BytesIO()
    build_document(draft).save(buffer)
    return buffer.getvalue()


def write_docx(draft: Draft, path: Path) -> Path:
    path.write_bytes(to_docx(draft))
    return path
