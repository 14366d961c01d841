"""PDF pages read by their layout (pdfplumber, MIT): characters with their positions and the drawn
rules, rebuilt as text lines and tables (``ingest.grid``), then written as lines by
``ingest.table_text.TableWriter`` so that a table continued over pages is one table.

Scanned pages arrive here too, already read by ``ingest.ocr`` as the same ``PageItems``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from ingest.grid import Segment, Word, find_tables, text_lines, to_text_table
from ingest.table_text import TableWriter, TextCell, TextTable

CELL_PAD_PT = 5.4  # Word's and LibreOffice's default left/right cell margin (0.19 cm)
RULE_TOL_PT = 2.0
RULE_GAP_PT = 3.0
MIN_CELL_PT = 4.0
THIN_PT = 2.5  # a filled rectangle thinner than this is a rule


@dataclass
class PageItems:
    """One page: text lines and tables, each with its top (in the page's own unit), in reading order."""

    number: int
    items: list[tuple[float, str | TextTable]] = field(default_factory=list)
    ocr: bool = False
    confidence: float | None = None  # OCR: mean word confidence, 0..100

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "ocr": self.ocr,
            "confidence": self.confidence,
            "items": [
                [top, item] if isinstance(item, str) else [top, _table_json(item)] for top, item in self.items
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageItems:
        items: list[tuple[float, str | TextTable]] = [
            (top, item if isinstance(item, str) else _table_from_json(item)) for top, item in data["items"]
        ]
        return cls(data["number"], items, data.get("ocr", False), data.get("confidence"))


def _table_json(table: TextTable) -> dict[str, Any]:
    return {
        "n_rows": table.n_rows, "n_cols": table.n_cols, "row_pages": table.row_pages,
        "cells": [[c.row, c.col, c.rowspan, c.colspan, c.paragraphs] for c in table.cells],
    }


def _table_from_json(data: dict[str, Any]) -> TextTable:
    cells = [TextCell(r, c, list(paragraphs), rs, cs) for r, c, rs, cs, paragraphs in data["cells"]]
    return TextTable(data["n_rows"], data["n_cols"], cells, list(data["row_pages"]))


# --- one page ------------------------------------------------------------------------------------------


def page_segments(page: Any) -> list[Segment]:
    """Ruling lines of a pdfplumber page: stroked lines, thin filled rectangles, rectangle borders.
    Large filled rectangles without a border are shading, not rules."""
    segments: list[Segment] = []
    for line in page.lines:
        x0, x1, top, bottom = line["x0"], line["x1"], line["top"], line["bottom"]
        if bottom - top <= 1.0 and x1 - x0 > 1.0:
            segments.append(Segment(True, (top + bottom) / 2, x0, x1))
        elif x1 - x0 <= 1.0 and bottom - top > 1.0:
            segments.append(Segment(False, (x0 + x1) / 2, top, bottom))
    for rect in page.rects:
        x0, x1, top, bottom = rect["x0"], rect["x1"], rect["top"], rect["bottom"]
        width, height = x1 - x0, bottom - top
        if height <= THIN_PT and width > height:
            segments.append(Segment(True, (top + bottom) / 2, x0, x1))
        elif width <= THIN_PT and height > width:
            segments.append(Segment(False, (x0 + x1) / 2, top, bottom))
        elif rect.get("stroke"):
            segments += [
                Segment(True, top, x0, x1), Segment(True, bottom, x0, x1),
                Segment(False, x0, top, bottom), Segment(False, x1, top, bottom),
            ]
    return segments


def page_words(page: Any) -> list[Word]:
    words = page.extract_words(x_tolerance=1.5, y_tolerance=2.5, keep_blank_chars=False, use_text_flow=False)
    return [Word(w["text"], w["x0"], w["x1"], w["top"], w["bottom"]) for w in words if w["text"].strip()]


def read_page(page: Any, number: int) -> PageItems:
    """A text page: its tables (from the drawn rules) and the lines of text around them."""
    page = page.dedupe_chars()
    words = page_words(page)
    return layout_items(number, words, page_segments(page), unit_per_pt=1.0)


def layout_items(
    number: int, words: list[Word], segments: list[Segment], unit_per_pt: float,
    rule_tol_pt: float = RULE_TOL_PT, rule_gap_pt: float = RULE_GAP_PT,
) -> PageItems:
    """Words and rules of a page (in any unit, ``unit_per_pt`` of them per PDF point) -> items.
    Scans pass a wider tolerance and gap: their rules are uneven and broken by the binarisation."""
    tables = find_tables(
        segments, tol=rule_tol_pt * unit_per_pt, gap=rule_gap_pt * unit_per_pt, min_size=MIN_CELL_PT * unit_per_pt
    )
    items: list[tuple[float, str | TextTable]] = []
    rest = list(words)
    for table in tables:
        inside = [w for w in rest if table.contains(w)]
        if not inside:
            continue  # a frame around nothing (a drawn box, a signature line)
        ids = {id(w) for w in inside}
        rest = [w for w in rest if id(w) not in ids]
        items.append((table.top, to_text_table(table, inside, CELL_PAD_PT * unit_per_pt, number)))
    if rest:
        height = statistics.median(w.height for w in rest)
        items += [(top, text) for top, text in text_lines(rest, column_gap=1.8 * height)]
    items.sort(key=lambda item: item[0])
    return PageItems(number, items)


def is_image_only(page: Any) -> bool:
    """A page to read by OCR: a scan ((almost) no characters, images covering much of it), or a page
    whose characters cannot be read (fonts without a Unicode map: '(cid:12)', private-use codes)."""
    chars = page.chars
    if len(chars) > 10:
        unreadable = sum(
            1 for c in chars if c["text"].startswith("(cid:") or any("\ue000" <= ch <= "\uf8ff" for ch in c["text"])
        )
        return unreadable > 0.3 * len(chars)
    area = float(page.width * page.height) or 1.0
    covered = sum(max(0.0, (i["x1"] - i["x0"]) * (i["bottom"] - i["top"])) for i in page.images)
    return covered >= 0.3 * area


# --- all pages ----------------------------------------------------------------------------------------

_PAGE_NUMBER_RE = re.compile(r"^\s*(?:-\s*)?(?:Trang\s+)?\d{1,3}(?:\s*/\s*\d{1,3})?(?:\s*-)?\s*$", re.IGNORECASE)


def _margins(pages: list[PageItems]) -> set[str]:
    """Running headers and footers: lines repeated at the top or bottom of most pages."""
    if len(pages) < 3:
        return set()
    counts: dict[str, int] = {}
    for page in pages:
        texts = [" ".join(t.split()) for _, t in page.items if isinstance(t, str) and t.strip()]
        for text in set(texts[:2] + texts[-2:]):
            if not _PAGE_NUMBER_RE.match(text):
                counts[text] = counts.get(text, 0) + 1
    return {text for text, n in counts.items() if n >= max(3, len(pages) // 2)}


def assemble(pages: list[PageItems]) -> tuple[list[str], list[int | None]]:
    """Pages -> (lines, page of every line); page furniture (running headers, page numbers) dropped."""
    repeated = _margins(pages)
    writer = TableWriter()
    for page in pages:
        items = [(top, item) for top, item in page.items if not (isinstance(item, str) and not item.strip())]
        for index, (_, item) in enumerate(items):
            if isinstance(item, TextTable):
                writer.add_table(item)
                continue
            text = " ".join(item.split())
            at_edge = index == 0 or index == len(items) - 1
            if text in repeated or (at_edge and _PAGE_NUMBER_RE.match(text)):
                continue
            if page.ocr and sum(ch.isalnum() for ch in text) < 3 and not _PAGE_NUMBER_RE.match(text):
                continue  # specks read as a letter or a mark, outside any table
            writer.add_line(item, page.number)
    return writer.result()
