"""The body of a Word document as lines, read from its XML: paragraphs (line breaks, tabs, fields,
tracked insertions; deleted text left out), text boxes (a letterhead in two text boxes), content
controls, and tables as Word makes them: merged cells (``w:gridSpan``, ``w:vMerge``), nested
tables, header rows (``w:tblHeader``), a table continued as a second table after a page break.
Tables are written by ``ingest.table_text.TableWriter``, like PDF and scanned tables.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.table_text import TableWriter, TextCell, TextTable

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = (f"{W}{t}" for t in ("p", "tbl", "tr", "tc", "sdt", "sdtContent"))
_TXBX = f"{W}txbxContent"
_WRAPPERS = {f"{W}customXml", f"{W}smartTag", f"{W}ins", f"{W}moveTo", f"{W}hyperlink", f"{W}fldSimple",
             f"{W}r", f"{W}dir", f"{W}bdo"}
_SKIP = {_TXBX, f"{MC}Fallback", f"{W}del", f"{W}moveFrom", f"{W}delText", f"{W}instrText", f"{W}rPr",
         f"{W}pPr", f"{W}footnoteReference", f"{W}endnoteReference", f"{W}commentReference"}
_NUMBERING_RE = re.compile(r"^(?:[IVX]{1,5}|\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.)]?$")


def read_body(body: Any) -> tuple[list[str], list[int | None]]:
    writer = TableWriter()
    _walk(body, writer)
    return writer.result()


def _walk(container: Any, writer: TableWriter) -> None:
    for child in container:
        tag = child.tag
        if tag == _P:
            for box in _text_boxes(child):
                _walk(box, writer)
            for line in paragraph_lines(child, split_tabs=True):
                writer.add_line(line)
        elif tag == _TBL:
            writer.add_table(read_table(child))
        elif tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                _walk(content, writer)
        elif tag in _WRAPPERS:
            _walk(child, writer)


def _text_boxes(paragraph: Any) -> list[Any]:
    """The outermost text boxes anchored in a paragraph (the fallback copy of a drawing skipped)."""
    boxes: list[Any] = []

    def visit(element: Any) -> None:
        for child in element:
            if child.tag == _TXBX:
                boxes.append(child)
            elif child.tag != f"{MC}Fallback":
                visit(child)

    visit(paragraph)
    return boxes


def _runs_text(element: Any, out: list[str]) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == f"{W}t":
            out.append(child.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            out.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            out.append("\n")
        elif tag == f"{W}noBreakHyphen":
            out.append("-")
        elif tag == f"{W}softHyphen":
            continue
        else:
            _runs_text(child, out)


def paragraph_lines(paragraph: Any, split_tabs: bool) -> list[str]:
    """A paragraph's lines (one per line break). In running text a tab between two pieces of text
    separates two things set side by side ('Số: 12/KH-UBND<tab>Hòa Điền, ngày …'): they become two
    lines, except after a list number ('1.<tab>Phòng …'). Inside a table cell a tab is a space."""
    parts: list[str] = []
    _runs_text(paragraph, parts)
    text = "".join(parts)
    lines: list[str] = []
    for line in text.split("\n"):
        pieces = [" ".join(p.split()) for p in line.split("\t")]
        pieces = [p for p in pieces if p]
        if not split_tabs or len(pieces) <= 1:
            lines.append(" ".join(pieces))
            continue
        merged: list[str] = []
        for piece in pieces:
            if merged and _NUMBERING_RE.match(merged[-1]):
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
        lines.extend(merged)
    return lines


def _cell_paragraphs(cell: Any) -> list[str]:
    out: list[str] = []
    for child in cell:
        if child.tag == _P:
            for box in _text_boxes(child):
                out.extend(_cell_paragraphs(box))
            out.extend(line for line in paragraph_lines(child, split_tabs=False) if line)
        elif child.tag == _TBL:  # a nested table: its cells' paragraphs, row by row
            for row in _children(child, _TR):
                for nested in _children(row, _TC):
                    out.extend(_cell_paragraphs(nested))
        elif child.tag == _SDT or child.tag in _WRAPPERS:
            content = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if content is not None:
                out.extend(_cell_paragraphs(content))
    return out


def _children(element: Any, tag: str) -> list[Any]:
    """Children with ``tag``, looking through content controls and custom XML wrappers."""
    found: list[Any] = []
    for child in element:
        if child.tag == tag:
            found.append(child)
        elif child.tag in (_SDT, _SDT_CONTENT, f"{W}customXml"):
            found.extend(_children(child, tag))
    return found


def _val(element: Any, path: str) -> str | None:
    node = element.find(path)
    if node is None:
        return None
    return node.get(f"{W}val", "")


def read_table(tbl: Any) -> TextTable:
    grid = tbl.find(f"{W}tblGrid")
    n_cols = len(grid.findall(f"{W}gridCol")) if grid is not None else 0
    cells: list[TextCell] = []
    open_merges: dict[int, TextCell] = {}
    rows = _children(tbl, _TR)
    header_rows = 0
    for r, tr in enumerate(rows):
        if header_rows == r and _val(tr, f"{W}trPr/{W}tblHeader") not in (None, "0", "false", "off"):
            header_rows += 1
        before = _val(tr, f"{W}trPr/{W}gridBefore")
        col = int(before) if before and before.isdigit() else 0
        for tc in _children(tr, _TC):
            span_value = _val(tc, f"{W}tcPr/{W}gridSpan")
            span = int(span_value) if span_value and span_value.isdigit() and int(span_value) > 0 else 1
            merge = _val(tc, f"{W}tcPr/{W}vMerge")
            above = open_merges.get(col)
            if merge is not None and merge != "restart" and above is not None:
                above.rowspan = r - above.row + 1  # continues the cell above (vMerge="continue")
            else:
                cell = TextCell(r, col, _cell_paragraphs(tc), 1, span)
                cells.append(cell)
                if merge == "restart":
                    open_merges[col] = cell
                else:
                    open_merges.pop(col, None)
            col += span
        n_cols = max(n_cols, col)
    return TextTable(len(rows), n_cols, cells, [None] * len(rows), header_rows)
