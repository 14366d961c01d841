"""A draft as a Word document laid out as Nghị định 30/2020/NĐ-CP (Phụ lục I) asks, in Word and LibreOffice.

A4 portrait, margins top/bottom 2 cm, left 3 cm, right 2 cm; Times New Roman. The header is a
borderless two-column table whose grid columns equal its cell widths (LibreOffice lays tables out
by the grid, Word by the cells): issuing body (13 pt bold) with a short rule under it and the
number; national title (13 pt bold) and motto (14 pt bold) with a rule as long as the motto, and
the place and date (14 pt italic). "KẾ HOẠCH" and the title summary bold and centred, a rule under
the summary; the legal bases in italics; body 14 pt, first-line indent 1 cm, 6 pt between
paragraphs. "Nơi nhận:" 12 pt bold italic, its list 11 pt, beside the signature. Page numbers top
centre, from page 2. Every appendix on landscape pages of its own section, numbered from 1, with
fixed column widths and a repeated header row. Document properties name the commune's People's
Committee, the plan's title and the time it was drafted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from assistant.drafting.model import PLAN_TYPES, Appendix, Block, Draft

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 13  # issuing body, number, national title (Decree 30: 12–13)
MOTTO_PT = 14  # motto (13–14)
RECIPIENTS_HEADING_PT = 12
RECIPIENTS_PT = 11
TABLE_PT = 12
PAGE_NUMBER_PT = 13
MARGINS_CM = {"top": 2.0, "bottom": 2.0, "left": 3.0, "right": 2.0}
A4_CM = (21.0, 29.7)
TEXT_WIDTH_CM = A4_CM[0] - MARGINS_CM["left"] - MARGINS_CM["right"]  # 16 cm
LANDSCAPE_WIDTH_CM = A4_CM[1] - MARGINS_CM["left"] - MARGINS_CM["right"]  # 24.7 cm
HEADER_WIDTHS_CM = (6.0, 10.0)
CLOSING_WIDTHS_CM = (7.5, 8.5)
HEADER_CELL_MARGIN_CM = 0.05
TABLE_CELL_MARGIN_CM = 0.1
MOTTO_RULE_CM = 6.1  # "Độc lập - Tự do - Hạnh phúc" at 14 pt bold
INDENT_CM = 1.0
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def text_width_cm(text: str, size: float, bold: bool = False) -> float:
    """A rough width of a line of Times New Roman (capitals are wider): enough to size a rule."""
    em = sum(0.72 if ch.isupper() else 0.25 if ch == " " else 0.5 for ch in text)
    return em * size / 72 * 2.54 * (1.05 if bold else 1.0)


# --- runs, paragraphs, tables ------------------------------------------------------------------


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


def _format(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH, before: float = 0, after: float = 0,
            line: float | None = None) -> None:
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    if line is not None:
        fmt.line_spacing = line


def _paragraph(
    container: DocumentObject | _Cell,
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    before: float = 0,
    after: float = 6,
) -> Paragraph:
    paragraph = container.add_paragraph()
    _format(paragraph, align, before, after, 1.15)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(INDENT_CM)
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _cell_paragraph(cell: _Cell, text: str, *, size: float = HEADER_PT, bold: bool = False, italic: bool = False,
                    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER, before: float = 0,
                    after: float = 0) -> Paragraph:
    """The first paragraph of a cell is reused (a new cell already has an empty one)."""
    first = cell.paragraphs[0]
    paragraph = first if not first.text and not first.runs and first._p.pPr is None else cell.add_paragraph()
    _format(paragraph, align, before, after, 1.0)
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _rule(paragraph: Paragraph, length_cm: float, width_cm: float) -> None:
    """A centred horizontal line ``length_cm`` long: the bottom border of an empty, tiny paragraph
    indented from both sides (Word and LibreOffice draw it alike; no drawing objects)."""
    _format(paragraph, WD_ALIGN_PARAGRAPH.CENTER, 0, 0)
    side = max(0.0, (width_cm - length_cm) / 2)
    paragraph.paragraph_format.left_indent = Cm(side)
    paragraph.paragraph_format.right_indent = Cm(side)
    fmt = paragraph.paragraph_format
    fmt.line_spacing = Pt(2)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    # pBdr comes before spacing/ind/jc in CT_PPr's sequence
    anchor = next((ppr.find(qn(tag)) for tag in ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc")
                   if ppr.find(qn(tag)) is not None), None)
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        ppr.append(borders)
    mark = paragraph._p.get_or_add_pPr()
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "4")
    rpr.append(size)
    mark.append(rpr)


def _cell_rule(cell: _Cell, length_cm: float, cell_width_cm: float, cell_margin_cm: float) -> None:
    _rule(cell.add_paragraph(), length_cm, cell_width_cm - 2 * cell_margin_cm)


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


def _twips(cm: float) -> str:
    return str(round(cm / 2.54 * 1440))


def _set_pr(parent: object, tag: str, **attrs: str) -> None:
    element = parent.find(qn(tag))  # type: ignore[attr-defined]
    if element is None:
        element = OxmlElement(tag)
        parent.append(element)  # type: ignore[attr-defined]
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)


def set_widths(table: Table, widths_cm: tuple[float, ...], cell_margin_cm: float = TABLE_CELL_MARGIN_CM) -> None:
    """Fixed column widths that Word (cell widths) and LibreOffice (the grid) both honour."""
    table.autofit = False
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    _set_pr(tbl_pr, "w:tblW", w=str(sum(int(_twips(width)) for width in widths_cm)), type="dxa")
    _set_pr(tbl_pr, "w:tblLayout", type="fixed")
    margins = tbl_pr.find(qn("w:tblCellMar"))
    if margins is None:
        margins = OxmlElement("w:tblCellMar")
        tbl_pr.append(margins)
    for edge in ("left", "right"):
        _set_pr(margins, f"w:{edge}", w=_twips(cell_margin_cm), type="dxa")
    twips = [int(_twips(width)) for width in widths_cm]
    grid = tbl.tblGrid
    for col in list(grid):
        grid.remove(col)
    for width in twips:
        col = OxmlElement("w:gridCol")
        col.set(qn("w:w"), str(width))
        grid.append(col)
    for tr in tbl.tr_lst:
        column = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc_pr = tc.get_or_add_tcPr()
            _set_pr(tc_pr, "w:tcW", w=str(sum(twips[column:column + span])), type="dxa")
            column += span


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _keep_rows_whole(table: Table) -> None:
    for row in table.rows:
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.insert(0, OxmlElement("w:cantSplit"))


# --- page setup, numbers, properties -------------------------------------------------------------


def _page(section: Section, landscape: bool = False) -> None:
    width, height = (A4_CM[1], A4_CM[0]) if landscape else A4_CM
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(width), Cm(height)
    section.top_margin = Cm(MARGINS_CM["top"])
    section.bottom_margin = Cm(MARGINS_CM["bottom"])
    section.left_margin = Cm(MARGINS_CM["left"])
    section.right_margin = Cm(MARGINS_CM["right"])
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)
    section.different_first_page_header_footer = True  # no number on the first page


def _restart_numbering(section: Section) -> None:
    """Decree 30: an appendix is numbered on its own, from 1."""
    sect_pr = section._sectPr
    existing = sect_pr.find(qn("w:pgNumType"))
    if existing is not None:
        sect_pr.remove(existing)
    numbering = OxmlElement("w:pgNumType")
    numbering.set(qn("w:start"), "1")
    anchor = next((sect_pr.find(qn(tag)) for tag in ("w:cols", "w:titlePg", "w:docGrid")
                   if sect_pr.find(qn(tag)) is not None), None)
    if anchor is not None:
        anchor.addprevious(numbering)
    else:
        sect_pr.append(numbering)


def _page_number_header(section: Section) -> None:
    """The page number, top centre, in the header of every page but the first."""
    paragraph = section.header.paragraphs[0]
    _format(paragraph, WD_ALIGN_PARAGRAPH.CENTER)
    run = paragraph.add_run()
    _font(run, PAGE_NUMBER_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
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
    for empty in (section.first_page_header, section.footer, section.first_page_footer):
        empty.is_linked_to_previous = False


def _language(document: DocumentObject) -> None:
    """Vietnamese as the proofing language of the whole document."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
    if rpr is not None:
        _set_pr(rpr, "w:lang", val="vi-VN", eastAsia="vi-VN", bidi="ar-SA")


def _properties(document: DocumentObject, draft: Draft) -> None:
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    author = f"Ủy ban nhân dân xã {draft.commune}"
    props = document.core_properties
    props.title = f"Kế hoạch {draft.title[:1].lower()}{draft.title[1:]}"
    props.subject = PLAN_TYPES.get(draft.request.plan_type, "")
    props.author = author
    props.last_modified_by = author
    props.created = now
    props.modified = now
    props.revision = 1
    props.comments = ""
    props.keywords = ""
    props.category = "Kế hoạch"
    props.content_status = "Dự thảo"
    props.language = "vi-VN"
    props.identifier = ""
    props.version = ""


def _drop_thumbnail(document: DocumentObject) -> None:
    """The template's preview picture is not this document's."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rel_id)


def _setup(document: DocumentObject, draft: Draft) -> None:
    _drop_thumbnail(document)
    section = document.sections[0]
    _page(section)
    _font(document.styles["Normal"], BODY_PT)
    _language(document)
    _page_number_header(section)
    _properties(document, draft)


# --- parts of the plan ------------------------------------------------------------------------------


def _header(document: DocumentObject, draft: Draft) -> None:
    left_w, right_w = HEADER_WIDTHS_CM
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(table)
    left, right = table.rows[0].cells
    agency = ("ỦY BAN NHÂN DÂN", f"XÃ {draft.commune.upper()}")
    for line in agency:
        _cell_paragraph(left, line, bold=True)
    longest = max(text_width_cm(line, HEADER_PT, bold=True) for line in agency)
    _cell_rule(left, min(max(0.4 * longest, 1.5), 3.0), left_w, HEADER_CELL_MARGIN_CM)
    _cell_paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True)
    _cell_paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=MOTTO_PT, bold=True)
    _cell_rule(right, MOTTO_RULE_CM, right_w, HEADER_CELL_MARGIN_CM)
    number, place = table.rows[1].cells
    _cell_paragraph(number, draft.number, before=6)
    _cell_paragraph(place, draft.place_date, size=BODY_PT, italic=True, before=6)
    set_widths(table, HEADER_WIDTHS_CM, HEADER_CELL_MARGIN_CM)


def _title(document: DocumentObject, draft: Draft) -> None:
    _paragraph(document, "KẾ HOẠCH", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=18, after=0)
    _paragraph(document, draft.title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    width = min(text_width_cm(draft.title, BODY_PT, bold=True), TEXT_WIDTH_CM)
    _rule(document.add_paragraph(), min(max(0.4 * width, 2.5), 0.4 * TEXT_WIDTH_CM), TEXT_WIDTH_CM)
    document.paragraphs[-1].paragraph_format.space_after = Pt(12)


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
    recipients, signature = table.rows[0].cells
    _cell_paragraph(recipients, "Nơi nhận:", size=RECIPIENTS_HEADING_PT, bold=True, italic=True,
                    align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in draft.recipients:
        _cell_paragraph(recipients, f"- {line}", size=RECIPIENTS_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in draft.signature_lines:
        _cell_paragraph(signature, line, size=BODY_PT, bold=True)
    for _ in range(4):
        _cell_paragraph(signature, "", size=BODY_PT).add_run().add_break()
    _cell_paragraph(signature, draft.signer, size=BODY_PT, bold=True)
    set_widths(table, CLOSING_WIDTHS_CM, HEADER_CELL_MARGIN_CM)


def _appendix(document: DocumentObject, appendix: Appendix) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _page(section, landscape=True)
    _restart_numbering(section)
    _paragraph(document, appendix.label, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(document, appendix.title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(document, appendix.note, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _rule(document.add_paragraph(), 4.0, LANDSCAPE_WIDTH_CM)
    document.paragraphs[-1].paragraph_format.space_after = Pt(10)
    columns = appendix.columns
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, (header, _, _) in zip(table.rows[0].cells, columns, strict=True):
        _cell_paragraph(cell, header, size=TABLE_PT, bold=True, before=2, after=2)
    _repeat_header(table)
    centred = {"stt", "deadline", "score"}
    for row in appendix.rows:
        cells = table.add_row().cells
        if row.group:
            _cell_paragraph(cells[0], row.stt, size=TABLE_PT, bold=True, before=2, after=2)
            merged = cells[1].merge(cells[-1])
            for extra in merged.paragraphs[1:]:
                extra._element.getparent().remove(extra._element)
            _cell_paragraph(merged, row.task, size=TABLE_PT, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=2,
                            after=2)
            continue
        for cell, (_, field, _) in zip(cells, columns, strict=True):
            align = WD_ALIGN_PARAGRAPH.CENTER if field in centred else WD_ALIGN_PARAGRAPH.LEFT
            _cell_paragraph(cell, str(getattr(row, field) or ""), size=TABLE_PT, align=align, before=2, after=2)
    _keep_rows_whole(table)
    set_widths(table, tuple(width for _, _, width in columns))
    if appendix.remark:
        _paragraph(document, appendix.remark, size=TABLE_PT, italic=True, before=6, after=0)


def build_document(draft: Draft) -> DocumentObject:
    document = Document()
    _setup(document, draft)
    _header(document, draft)
    _title(document, draft)
    for base in draft.bases:
        _paragraph(document, base, italic=True, indent=True)
    _paragraph(document, draft.intro, indent=True)
    for section in draft.sections:
        _paragraph(document, section.heading, bold=True, indent=True)
        _blocks(document, section.blocks)
    _paragraph(document, draft.closing, indent=True, after=12)
    _closing_block(document, draft)
    for appendix in draft.appendices:
        if appendix.rows:
            _appendix(document, appendix)
    return document


def to_docx(draft: Draft) -> bytes:
    buffer = BytesIO()
    build_document(draft).save(buffer)
    return buffer.getvalue()


def write_docx(draft: Draft, path: Path) -> Path:
    path.write_bytes(to_docx(draft))
    return path
