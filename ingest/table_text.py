"""Tables, however they were read (Word XML, PDF rules and characters, OCR of a scan), written as the
lines ``ingest.tables`` reads: one line per row, cells separated by TABs.

``TableWriter`` receives the text lines and the tables of a document in reading order and decides:

* a data table (a header row with column words: 'STT', 'Nhiệm vụ', 'Đơn vị chủ trì', …) is written
  as its header once (a header of several rows becomes one line, the lowest label of each column)
  then one line per row; the column-number row '(1) (2) (3)' is dropped;
* a table with no column words and at most three columns is layout (the letterhead, the
  signature block): its cells are written as ordinary lines, left cell first;
* a table that follows the previous one with nothing but page furniture between them, with as many
  columns, continues it: a header repeated on the new page is dropped, and a first row without a
  number (a row the page break split) is joined to the last row;
* a row that is one merged cell 'I. CHÍNH QUYỀN SỐ' (or 'I' + a merged title) is written as
  'I<TAB>CHÍNH QUYỀN SỐ<TAB>…', the group of the rows under it; a merged row without a Roman
  number is written as a plain line;
* a vertically merged cell (one deadline for two rows) is repeated in every row it covers;
* paragraphs of a cell are joined by a space, and by '; ' where they are unit names stacked in one
  cell ('Phòng Kinh tế' / 'Công an xã' -> 'Phòng Kinh tế; Công an xã').
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.normalize import fold
from ingest.units import find_units


@dataclass
class TextCell:
    row: int
    col: int
    paragraphs: list[str]
    rowspan: int = 1
    colspan: int = 1

    @property
    def text(self) -> str:
        return join_paragraphs(self.paragraphs)


@dataclass
class TextTable:
    n_rows: int
    n_cols: int
    cells: list[TextCell]  # one per merged cell, at its top-left slot
    row_pages: list[int | None] = field(default_factory=list)
    header_rows: int = 0  # rows Word marks as a repeated header (w:tblHeader); 0 = find them by their words


# --- cell text ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _head_words() -> tuple[str, ...]:
    data = json.loads(Path(__file__).with_name("unit_aliases.json").read_text(encoding="utf-8"))
    return tuple(sorted((fold(w) for w in data.get("head_words", [])), key=len, reverse=True))


def looks_like_unit(text: str) -> bool:
    """A short paragraph that names a unit: a known one, or one starting with a unit's head word
    ('Phòng …', 'Trung tâm …', 'Ban …') written with a capital."""
    text = text.strip().lstrip("-+•* ").strip()
    if not text or len(text) > 80:
        return False
    spans = find_units(text)
    if spans and spans[0].start == 0:
        return True
    folded = fold(text)
    return text[0].isupper() and any(folded == w or folded.startswith(w + " ") for w in _head_words())


def _ends_with_unit(text: str) -> bool:
    spans = find_units(text)
    return bool(spans) and not text[spans[-1].end :].strip(" .") or looks_like_unit(text)


def join_paragraphs(paragraphs: list[str]) -> str:
    """Paragraphs of one cell -> one line: '; ' between stacked unit names, else a space."""
    out = ""
    for paragraph in (" ".join(p.split()) for p in paragraphs):
        if not paragraph:
            continue
        if not out:
            out = paragraph
        elif out.endswith((",", ";", "-")) or re.search(r"\bvà$", out):
            out = f"{out} {paragraph}"
        elif looks_like_unit(paragraph) and _ends_with_unit(out):
            out = f"{out.rstrip('.')}; {paragraph.lstrip('-+•* ')}"
        else:
            out = f"{out} {paragraph}"
    return out


def join_split(first: str, second: str) -> str:
    """A cell's text cut by a page break, joined again."""
    if not first or not second:
        return first or second
    if looks_like_unit(second) and _ends_with_unit(first) and not first.endswith((",", ";", "-")):
        return f"{first}; {second}"
    glue = "" if first.endswith("-") and not first.endswith(" -") else " "
    return f"{first}{glue}{second}"


# --- column words ---------------------------------------------------------------------------------------

_HEADER_WORDS = (
    "stt", "tt", "so tt", "nhiem vu", "noi dung", "chi tieu", "chi so", "don vi", "chu tri", "phoi hop",
    "thoi gian", "thoi han", "tien do", "ket qua", "san pham", "ghi chu", "ke hoach", "thuc hien", "muc tieu",
    "giai phap", "hoat dong", "kinh phi", "nguon von", "cach tinh", "diem", "tieu chi", "tru cot",
    "cong viec", "lo trinh", "trach nhiem", "co quan", "dvt", "nhom",
)
_HEADER_RE = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _HEADER_WORDS) + r")\b|\bnam 20\d\d\b")
_SUBJECT_RE = re.compile(
    r"\b(?:nhiem vu|noi dung|chi tieu|chi so|ten|hoat dong|giai phap|cong viec|tieu chi|tru cot)\b"
)
_NUMBER_RE = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*\.?|[IVXL]{1,6}\.?|[a-zđ]\)|\(\d{1,3}\))$")
_COLUMN_NO_RE = re.compile(r"^\(?(\d{1,2}|[A-Z])\)?$")
_ROMAN_TITLE_RE = re.compile(r"^(?P<num>[IVX]{1,5})\s*(?:[.\-/):]\s*|\s+)(?P<title>\S.*)$")
_ROMAN_RE = re.compile(r"^[IVX]{1,5}\.?$")
# a group number as written or as OCR misreads it: '1', '2', 'H' (II), 'l', 'Il', '11'
_GROUP_NO_RE = re.compile(r"^(?:\d{1,2}|[IVXlH1|!]{1,5})$")
_GROUP_TITLE_RE = re.compile(r"^(?P<num>\d{1,2}|[IVXlH1|!]{1,5})\s*[.\-/):]\s*(?P<title>\S.*)$")
_ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")


def _is_header_cell(text: str) -> bool:
    folded = fold(text)
    return bool(folded) and len(folded) <= 60 and bool(_HEADER_RE.search(folded))


def _is_column_numbers(cells: list[str]) -> bool:
    """'(1) (2) (3) …' or '1 2 3 …': the row numbering the columns under a header."""
    filled = [c for c in cells if c]
    matches = [m for c in filled if (m := _COLUMN_NO_RE.match(c))]
    others = [c for c in filled if not _COLUMN_NO_RE.match(c)]
    if len(matches) < 3 or len(matches) < 0.6 * len(cells) or any(len(c) > 3 for c in others):
        return False  # (a scan may misread one or two of them, as 'f0' for '(3)')
    digits = [int(m.group(1)) for m in matches if m.group(1).isdigit()]
    steps = [b - a for a, b in zip(digits, digits[1:], strict=False)]
    return len(digits) >= 3 and digits[0] == 1 and all(1 <= step <= 2 for step in steps)


def _squash(text: str) -> str:
    return fold(text).replace(" ", "")


# --- the writer -------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    cell: TextCell
    row: int
    col: int

    @property
    def origin(self) -> bool:  # the merged cell's top-left slot
        return self.row == self.cell.row and self.col == self.cell.col

    @property
    def same_row(self) -> bool:  # the slot is in the cell's first row
        return self.row == self.cell.row


@dataclass
class _Current:
    n_cols: int
    header: list[str]  # folded, squashed header texts (to recognise a repeat)
    no_col: int | None
    subject_col: int
    last_row: list[str] | None = None
    last_group: int = 0  # the last group's Roman number, as a value


@dataclass
class _Entry:
    text: str | None  # a text line, or None for a table row
    page: int | None
    cells: list[str] | None = None
    table: _Current | None = None  # the table a row belongs to


class TableWriter:
    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._current: _Current | None = None
        self._adjacent = False  # nothing but blank lines since the last table

    # --- input ----------------------------------------------------------------------------------------

    def add_line(self, text: str, page: int | None = None) -> None:
        self._entries.append(_Entry(text, page))
        if text.strip():
            self._adjacent = False

    def add_table(self, table: TextTable) -> None:
        grid = _slots(table)
        rows = [r for r in range(table.n_rows) if any(s and s.cell.text for s in grid[r])]
        if not rows:
            return
        pages = table.row_pages or [None] * table.n_rows
        while len(rows) > 1 and table.n_cols > 1 and _caption(grid[rows[0]], table.n_cols):
            # a title merged over the whole first row ('BẢNG PHÂN CÔNG NHIỆM VỤ'): a line above the table
            self.add_line(_text(grid[rows[0]][0]), pages[rows[0]])
            rows = rows[1:]
        header_count = _header_rows(table, grid, rows)
        current = self._current
        continues = (
            self._adjacent and current is not None and current.n_cols == table.n_cols
            and (header_count == 0 or _same_header(_header_key(grid, rows[:header_count]), current.header))
        )
        if continues and current is not None:
            body = rows[header_count:]
            self._drop_trailing_blank()
        elif header_count or (table.n_cols >= 4 and len(rows) >= 2):
            labels = _header_labels(grid, rows[:header_count], table.n_cols) if header_count else None
            body = rows[header_count:]
            current = self._start(table, grid, rows[:header_count], labels, pages[rows[0]], body)
        else:
            self._layout(grid, rows, pages)
            return
        first_body = True
        for r in body:
            texts = [_text(s) for s in grid[r]]
            if first_body and header_count and _is_column_numbers(texts):
                continue
            self._body_row(current, grid[r], texts, pages[r], split_candidate=continues and first_body)
            first_body = False
        self._entries.append(_Entry("", None))
        self._adjacent = True

    # --- output ---------------------------------------------------------------------------------------

    def result(self) -> tuple[list[str], list[int | None]]:
        self._mend_row_numbers()
        lines: list[str] = []
        pages: list[int | None] = []
        for entry in self._entries:
            text = entry.text if entry.text is not None else "\t".join(_cell_line(c) for c in entry.cells or [])
            lines.append(text)
            pages.append(entry.page)
        return lines, pages

    # --- internals ------------------------------------------------------------------------------------

    def _mend_row_numbers(self) -> None:
        """A row number out of a run that counts up by one around it ('4, 2, 6', a misread '5')
        takes its place in the run."""
        rows: dict[int, list[list[str]]] = {}
        for entry in self._entries:
            if entry.cells is not None and entry.table is not None and entry.table.no_col == 0:
                rows.setdefault(id(entry.table), []).append(entry.cells)
        for all_rows in rows.values():
            table_rows = [cells for cells in all_rows if not _ROMAN_RE.match(cells[0])]  # not the group rows
            numbers = [cells[0] for cells in table_rows]
            for k in range(1, len(numbers) - 1):
                before, here, after = numbers[k - 1], numbers[k], numbers[k + 1]
                if before.isdigit() and after.isdigit() and int(after) == int(before) + 2 and here != str(int(before) + 1):
                    table_rows[k][0] = numbers[k] = str(int(before) + 1)

    def _drop_trailing_blank(self) -> None:
        while self._entries and self._entries[-1].text is not None and not self._entries[-1].text.strip():
            self._entries.pop()

    def _start(
        self, table: TextTable, grid: list[list[_Slot | None]], header_rows: list[int], labels: list[str] | None,
        page: int | None, body: list[int],
    ) -> _Current:
        folded = [fold(label) for label in labels] if labels else []
        no_col = 0 if folded and (folded[0].split() or [""])[0] in ("stt", "tt", "so") else None
        if labels and no_col is None and _holds_row_numbers(grid, body):
            # the first column holds row numbers whatever its header says ('ST', 'Số', a misreading)
            no_col, labels[0] = 0, "STT"
        subject = next((i for i, f in enumerate(folded) if _SUBJECT_RE.search(f) and i != no_col), None)
        if subject is None:
            subject = 1 if table.n_cols > 1 else 0
        current = _Current(table.n_cols, _header_key(grid, header_rows), no_col, subject)
        if labels:
            self._entries.append(_Entry(None, page, labels))
        self._current = current
        return current

    def _layout(self, grid: list[list[_Slot | None]], rows: list[int], pages: list[int | None]) -> None:
        """A table used for layout: every cell's paragraphs as lines, left cell first."""
        for r in rows:
            for slot in grid[r]:
                if slot and slot.origin:
                    for paragraph in slot.cell.paragraphs:
                        for part in paragraph.split("\n"):
                            self._entries.append(_Entry(" ".join(part.split()), pages[r]))
        self._current = None
        self._adjacent = False

    def _body_row(
        self, current: _Current, slots: list[_Slot | None], texts: list[str], page: int | None, split_candidate: bool
    ) -> None:
        group = _group_row(slots, texts, current)
        if group is not None:
            if isinstance(group, str):
                self._entries.append(_Entry(group, page))
                self._entries.append(_Entry("", None))
                current.last_row = None
                return
            texts = group
            no_col = current.no_col if current.no_col is not None else 0
            value = _ROMANS.index(texts[no_col]) + 1 if texts[no_col] in _ROMANS else 0
            if 0 < value <= current.last_group < len(_ROMANS):
                # groups count up within a table: a repeated or smaller number is a misreading ('II' for 'III')
                value = current.last_group + 1
                texts[no_col] = _ROMANS[value - 1]
            current.last_group = value or current.last_group
        elif (
            split_candidate and current.no_col is not None and not texts[current.no_col]
            and current.last_row is not None
        ):
            # the rest of the last row, cut by the page break
            for i, text in enumerate(texts):
                current.last_row[i] = join_split(current.last_row[i], text)
            return
        cells = list(texts)
        self._entries.append(_Entry(None, page, cells, current))
        current.last_row = cells


def _upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def _cell_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _slots(table: TextTable) -> list[list[_Slot | None]]:
    grid: list[list[_Slot | None]] = [[None] * table.n_cols for _ in range(table.n_rows)]
    for cell in table.cells:
        for r in range(cell.row, min(table.n_rows, cell.row + cell.rowspan)):
            for c in range(cell.col, min(table.n_cols, cell.col + cell.colspan)):
                grid[r][c] = _Slot(cell, r, c)
    return grid


def _text(slot: _Slot | None) -> str:
    """A slot's text: the cell's text in its first column, repeated down a vertical merge."""
    if slot is None or slot.col != slot.cell.col:
        return ""
    return slot.cell.text


def _header_rows(table: TextTable, grid: list[list[_Slot | None]], rows: list[int]) -> int:
    """How many of the first rows are the header (a count of rows in ``rows``)."""
    count = 0
    for r in rows[:3]:
        origins = [s.cell for s in grid[r] if s and s.origin and s.cell.text]
        texts = [c.text for c in origins]
        if not texts or _NUMBER_RE.match(texts[0]) or _ROMAN_TITLE_RE.match(texts[0]):
            break
        if count and len(origins) == 1 and origins[0].colspan > 1:
            break  # a merged title under the header is a group row
        words = sum(_is_header_cell(t) for t in texts)
        if words >= 2 or (count and words and len(texts) <= 2) or (r < table.header_rows and count == 0):
            count += 1  # (a second header row may name only a few columns: 'Chủ trì | Phối hợp')
            continue
        break
    return max(count, min(table.header_rows, len(rows)) if count else 0)


def _caption(slots: list[_Slot | None], n_cols: int) -> bool:
    first = slots[0]
    return (
        first is not None and first.origin and first.cell.colspan >= n_cols and bool(first.cell.text)
        and not _ROMAN_TITLE_RE.match(first.cell.text) and not _GROUP_TITLE_RE.match(first.cell.text)
    )


def _holds_row_numbers(grid: list[list[_Slot | None]], body: list[int]) -> bool:
    values = [t for r in body if (t := _text(grid[r][0]))]
    numbers = sum(bool(_NUMBER_RE.match(v)) for v in values)
    return numbers >= 2 and numbers >= 0.6 * len(values)


def _header_key(grid: list[list[_Slot | None]], header_rows: list[int]) -> list[str]:
    return [_squash(" ".join(s.cell.text for s in grid[r] if s and s.origin)) for r in header_rows]


def _same_header(a: list[str], b: list[str]) -> bool:
    """The header repeated on a new page (an OCR reading of it may differ by a few letters)."""
    first, second = "".join(a), "".join(b)
    return first == second or difflib.SequenceMatcher(None, first, second, autojunk=False).ratio() >= 0.8


def _header_labels(grid: list[list[_Slot | None]], header_rows: list[int], n_cols: int) -> list[str]:
    """One label per column: the lowest header cell of the column; a cell spanning several columns
    names only its first column, and only when nothing below it does ('Kết quả' over 'Năm 2025 |
    Năm 2026')."""
    labels = [""] * n_cols
    for c in range(n_cols):
        for r in header_rows:
            slot = grid[r][c]
            if slot is None or not slot.cell.text:
                continue
            if slot.cell.colspan > 1:
                below = [grid[r2][c] for r2 in header_rows if r2 > r]
                if any(b is not None and b.cell is not slot.cell and b.cell.text for b in below):
                    continue
                if slot.col != slot.cell.col:
                    continue
            labels[c] = slot.cell.text
    return labels


def _group_row(slots: list[_Slot | None], texts: list[str], current: _Current) -> list[str] | str | None:
    """A merged row naming a group: the cells to write ('I', …, 'TITLE', …), or a plain line."""
    cells = {id(s.cell): s.cell for s in slots if s and s.same_row and s.cell.text}
    filled = sorted(cells.values(), key=lambda c: c.col)
    spanning = [c for c in filled if c.colspan > 1]
    if not spanning or len(filled) > 2:
        return None
    if len(filled) == 2:
        number, title = filled[0].text.strip().rstrip("."), filled[1].text
        if filled[1] is not spanning[0] or filled[1].col + filled[1].colspan < current.n_cols:
            return None
        if not (_ROMAN_RE.match(number) or (_GROUP_NO_RE.match(number) and _upper(title))):
            return None
    elif filled[0].colspan < max(2, current.n_cols - 1):
        return None
    else:
        match = _ROMAN_TITLE_RE.match(filled[0].text) or _GROUP_TITLE_RE.match(filled[0].text)
        if not match or (not _ROMAN_RE.match(match.group("num")) and not _upper(match.group("title"))):
            return filled[0].text  # a merged row without a group number: a line of its own
        number, title = match.group("num"), match.group("title")
    if number not in _ROMANS:  # '1', or a Roman number misread ('H', 'l', '11'): the next group
        number = _ROMANS[min(current.last_group, len(_ROMANS) - 1)]
    out = [""] * current.n_cols
    no_col = current.no_col if current.no_col is not None else 0
    subject = current.subject_col if current.subject_col != no_col else min(no_col + 1, current.n_cols - 1)
    out[no_col] = number
    out[subject] = title.strip()
    return out
