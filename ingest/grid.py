"""Tables from ruling lines and positioned words: the geometry shared by PDF pages (vector rules and
characters) and scanned pages (rules detected in the image, OCR word boxes).

Coordinates are top-down (``top`` grows downwards), in any unit (PDF points, image pixels); every
tolerance is given in that unit by the caller.

* ``find_tables``: the ruling segments -> tables. Rules that touch form one table; a table drawn
  inside another's cell (a nested table) is dropped so that its words stay in the enclosing cell.
  Column and row boundaries are the positions of the rules; two neighbouring slots belong to one
  cell when no rule separates them (merged cells: Word's gridSpan / vMerge as printed).
* ``cell_paragraphs``: the words of a cell -> its paragraphs. Lines are rebuilt from the words' positions;
  a line that stops short although the next word would have fitted ends a paragraph; paragraphs
  are joined by ``ingest.table_text.join_paragraphs`` (units stacked in one cell -> 'A; B').
* ``text_lines``: the words outside tables -> lines, two side-by-side columns (a borderless
  letterhead, text boxes) read one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.normalize import is_vietnamese_syllable
from ingest.table_text import TextCell, TextTable

BULLETS = ("-", "+", "•", "–", "*")


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    conf: float | None = None  # OCR confidence 0..100

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class Segment:
    """A ruling line: horizontal (``pos`` is y, from ``start`` to ``end`` in x) or vertical."""

    horizontal: bool
    pos: float
    start: float
    end: float


@dataclass
class Cell:
    row: int
    col: int
    rowspan: int
    colspan: int
    x0: float
    x1: float
    top: float
    bottom: float
    words: list[Word] = field(default_factory=list)
    text: str = ""


@dataclass
class Table:
    x0: float
    x1: float
    top: float
    bottom: float
    cols: list[float]  # column boundaries, left to right (n columns -> n + 1 boundaries)
    rows: list[float]  # row boundaries, top to bottom
    cells: list[Cell]

    def contains(self, word: Word, margin: float = 0.0) -> bool:
        return self.x0 - margin <= word.cx <= self.x1 + margin and self.top - margin <= word.cy <= self.bottom + margin

    @property
    def n_rows(self) -> int:
        return len(self.rows) - 1

    @property
    def n_cols(self) -> int:
        return len(self.cols) - 1


# --- segments -> tables -------------------------------------------------------------------------------


def merge_segments(segments: list[Segment], tol: float, gap: float) -> list[Segment]:
    """Collinear segments (positions within ``tol``) joined where they overlap or nearly touch."""
    out: list[Segment] = []
    for horizontal in (True, False):
        group = sorted((s for s in segments if s.horizontal == horizontal), key=lambda s: s.pos)
        lines: list[list[Segment]] = []
        for seg in group:
            if lines and seg.pos - lines[-1][-1].pos <= tol:
                lines[-1].append(seg)
            else:
                lines.append([seg])
        for line in lines:
            pos = sorted(s.pos for s in line)[len(line) // 2]
            spans = sorted((s.start, s.end) for s in line)
            start, end = spans[0]
            for a, b in spans[1:]:
                if a <= end + gap:
                    end = max(end, b)
                else:
                    out.append(Segment(horizontal, pos, start, end))
                    start, end = a, b
            out.append(Segment(horizontal, pos, start, end))
    return out


def _touch(h: Segment, v: Segment, tol: float) -> bool:
    return h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol


def _components(segments: list[Segment], tol: float) -> list[list[Segment]]:
    parent = list(range(len(segments)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    hs = [i for i, s in enumerate(segments) if s.horizontal]
    vs = [i for i, s in enumerate(segments) if not s.horizontal]
    for i in hs:
        for j in vs:
            if _touch(segments[i], segments[j], tol):
                parent[find(i)] = find(j)
    groups: dict[int, list[Segment]] = {}
    for i, seg in enumerate(segments):
        groups.setdefault(find(i), []).append(seg)
    return list(groups.values())


def _cluster(values: list[float], tol: float) -> list[float]:
    out: list[list[float]] = []
    for value in sorted(values):
        if out and value - out[-1][-1] <= tol:
            out[-1].append(value)
        else:
            out.append([value])
    return [sum(v) / len(v) for v in out]


def _covered(segments: list[Segment], pos: float, start: float, end: float, tol: float) -> float:
    """The share of [start, end] covered by segments at ``pos``."""
    spans = sorted((max(s.start, start), min(s.end, end)) for s in segments if abs(s.pos - pos) <= tol)
    total, reach = 0.0, start
    for a, b in spans:
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total / (end - start) if end > start else 0.0


def find_tables(segments: list[Segment], tol: float, gap: float, min_size: float) -> list[Table]:
    """Tables drawn by ``segments``, top to bottom. ``tol``: how far apart two rules may be and still
    be one; ``gap``: the largest break inside one rule; ``min_size``: the smallest cell side."""
    merged = [s for s in merge_segments(segments, tol, gap) if s.end - s.start >= min_size]
    tables: list[Table] = []
    for component in _components(merged, tol):
        hs = [s for s in component if s.horizontal]
        vs = [s for s in component if not s.horizontal]
        if len(hs) < 2 or len(vs) < 2:
            continue
        table = _table(hs, vs, tol, min_size)
        if table is not None:
            tables.append(table)
    # a table inside another one's cell is a nested table: its words belong to the enclosing cell
    outer = [
        t for t in tables
        if not any(o is not t and o.x0 - tol <= t.x0 and t.x1 <= o.x1 + tol and o.top - tol <= t.top
                   and t.bottom <= o.bottom + tol and (o.x1 - o.x0) * (o.bottom - o.top) > (t.x1 - t.x0) * (t.bottom - t.top)
                   for o in tables)
    ]
    return sorted(outer, key=lambda t: (t.top, t.x0))


def _table(hs: list[Segment], vs: list[Segment], tol: float, min_size: float) -> Table | None:
    x0, x1 = min(s.start for s in hs), max(s.end for s in hs)
    top, bottom = min(s.start for s in vs), max(s.end for s in vs)
    if x1 - x0 < 2 * min_size or bottom - top < min_size:
        return None
    cols = [x for x in _cluster([s.pos for s in vs], tol) if x0 - tol <= x <= x1 + tol]
    rows = [y for y in _cluster([s.pos for s in hs], tol) if top - tol <= y <= bottom + tol]
    # boundaries that cut too little of the table are drawings inside a cell, not rows or columns
    cols = [x for x in cols if _covered(vs, x, top, bottom, tol) >= 0.3 or x in (cols[0], cols[-1])]
    rows = [y for y in rows if _covered(hs, y, x0, x1, tol) >= 0.25 or y in (rows[0], rows[-1])]
    cols = _drop_thin(cols, min_size)
    rows = _drop_thin(rows, min_size / 2)
    if len(cols) < 2 or len(rows) < 2:
        return None
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            here = r * n_cols + c
            if c + 1 < n_cols and _covered(vs, cols[c + 1], rows[r], rows[r + 1], tol) < 0.5:
                parent[find(here + 1)] = find(here)
            if r + 1 < n_rows and _covered(hs, rows[r + 1], cols[c], cols[c + 1], tol) < 0.5:
                parent[find(here + n_cols)] = find(here)
    slots: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            slots.setdefault(find(r * n_cols + c), []).append((r, c))
    cells = []
    for members in slots.values():
        r0, r1 = min(r for r, _ in members), max(r for r, _ in members)
        c0, c1 = min(c for _, c in members), max(c for _, c in members)
        cells.append(Cell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, cols[c0], cols[c1 + 1], rows[r0], rows[r1 + 1]))
    cells.sort(key=lambda c: (c.row, c.col))
    return Table(cols[0], cols[-1], rows[0], rows[-1], cols, rows, cells)


def _drop_thin(bounds: list[float], min_size: float) -> list[float]:
    """Boundaries closer than ``min_size`` (a double rule) become one."""
    out: list[float] = []
    for b in bounds:
        if out and b - out[-1] < min_size:
            continue
        out.append(b)
    return out


# --- words -> lines and paragraphs --------------------------------------------------------------------


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Words -> lines (top to bottom), each left to right. Two words share a line when their vertical
    extents overlap by more than half of the smaller one."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.cy, w.x0)):
        best = None
        for line in reversed(lines[-4:]):
            top = min(w.top for w in line)
            bottom = max(w.bottom for w in line)
            overlap = min(bottom, word.bottom) - max(top, word.top)
            if overlap > 0.5 * min(word.height, bottom - top):
                best = line
                break
        if best is None:
            lines.append([word])
        else:
            best.append(word)
    for line in lines:
        line.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: min(w.top for w in line))
    return lines


def line_text(line: list[Word]) -> str:
    return " ".join(w.text for w in line)


def _char_width(word: Word) -> float:
    return (word.x1 - word.x0) / max(1, len(word.text))


def cell_paragraphs(words: list[Word], x0: float, x1: float, pad: float) -> list[str]:
    """The paragraphs of one cell: wrapped lines joined, paragraphs told apart (see the module doc)."""
    lines = group_lines(words)
    if not lines:
        return []
    inner = (x1 - pad) - (x0 + pad)
    paragraphs: list[list[str]] = [[line_text(lines[0])]]
    for previous, line in zip(lines, lines[1:], strict=False):
        width = max(w.x1 for w in previous) - min(w.x0 for w in previous)
        space = 0.3 * max(w.height for w in previous)
        first = line[0]
        fits = inner - width > (first.x1 - first.x0) + space + 0.5 * _char_width(first)
        bullet = first.text.startswith(BULLETS) and (len(first.text) == 1 or first.text[1] == " ")
        if fits or bullet:
            paragraphs.append([line_text(line)])
            continue
        fragment = previous[-1].text if len(previous) == 1 else ""
        if fragment and inner - width < 2 * _char_width(previous[-1]) and not is_vietnamese_syllable(fragment) and (
            fragment[-1:].isalpha()
        ):
            paragraphs[-1][-1] += line_text(line)  # a word broken inside ('ST' + 'T' in a narrow column)
        else:
            paragraphs[-1].append(line_text(line))
    return [_join_wrapped(p) for p in paragraphs]


def _join_wrapped(parts: list[str]) -> str:
    """Wrapped lines of one paragraph: 'HĐND-' + 'UBND' -> 'HĐND-UBND', else joined by a space."""
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        glue = "" if not out or (out.endswith("-") and not out.endswith(" -")) else " "
        out += glue + part
    return out


def text_lines(words: list[Word], column_gap: float) -> list[tuple[float, str]]:
    """Lines of running text as (top, text), in reading order (sort them stably). A line split by a wide gap starts a block of two
    columns side by side (a borderless letterhead or signature block, text boxes) that goes on while
    the lines below keep clear of the gap; the block's left column is read first, then its right."""
    lines = group_lines(words)
    if not lines:
        return []
    height = sorted(w.height for w in words)[len(words) // 2]
    out: list[tuple[float, str]] = []
    i = 0
    while i < len(lines):
        pieces = _split_at_gaps(lines[i], column_gap)
        if len(pieces) == 2:
            river = _gap_span(pieces)
            j = i + 1
            while j < len(lines) and _top(lines[j]) - _bottom(lines[j - 1]) <= 4 * height:
                narrowed = _narrow(river, _split_at_gaps(lines[j], column_gap), 0.5 * height)
                if narrowed is None:
                    break
                river = narrowed
                j += 1
            if j > i + 1:
                middle = (river[0] + river[1]) / 2
                top = _top(lines[i])  # the whole block sorts where it starts
                for side in (0, 1):
                    for line in lines[i:j]:
                        part = [w for w in line if (w.cx < middle) == (side == 0)]
                        if part:
                            out.append((top, line_text(part)))
                i = j
                continue
        out.extend((_top(piece), line_text(piece)) for piece in pieces)
        i += 1
    return out


def _top(line: list[Word]) -> float:
    return min(w.top for w in line)


def _bottom(line: list[Word]) -> float:
    return max(w.bottom for w in line)


def _narrow(river: tuple[float, float], pieces: list[list[Word]], min_width: float) -> tuple[float, float] | None:
    """The gap between two columns, narrowed to stay clear of a line's pieces; None if a piece crosses it."""
    left, right = river
    for piece in pieces:
        x0, x1 = piece[0].x0, piece[-1].x1
        if x1 <= left or x0 >= right:
            continue
        if (x0 + x1) / 2 < (left + right) / 2 and x1 < right - min_width and x0 < left:
            left = x1
        elif x0 > left + min_width and x1 > right:
            right = x0
        else:
            return None
    return (left, right) if right - left >= min_width else None


def _split_at_gaps(line: list[Word], column_gap: float) -> list[list[Word]]:
    parts: list[list[Word]] = [[line[0]]]
    for word in line[1:]:
        if word.x0 - parts[-1][-1].x1 > column_gap:
            parts.append([word])
        else:
            parts[-1].append(word)
    return parts


def _gap_span(parts: list[list[Word]]) -> tuple[float, float]:
    return parts[0][-1].x1, parts[1][0].x0


def to_text_table(table: Table, words: list[Word], pad: float, page: int | None) -> TextTable:
    """A table with the words inside it (assigned to cells by their centre) as a ``TextTable``."""
    for word in words:
        cell = next(
            (c for c in table.cells if c.x0 <= word.cx <= c.x1 and c.top <= word.cy <= c.bottom), None
        )
        if cell is not None:
            cell.words.append(word)
    cells = [
        TextCell(c.row, c.col, cell_paragraphs(c.words, c.x0, c.x1, min(pad, 0.15 * (c.x1 - c.x0))), c.rowspan, c.colspan)
        for c in table.cells
    ]
    return TextTable(table.n_rows, table.n_cols, cells, [page] * table.n_rows)
