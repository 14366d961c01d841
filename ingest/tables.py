"""Tables of a plan -> rows whose cells are keyed by role (indicator, task, lead, partner, …).

Three shapes, all reduced to ``TableRow``:

* grid tables, whose cells are explicit: tab-separated lines (also .docx tables) and markdown
  ``| … |`` lines, including a table split across pages into fragments whose rows continue the
  previous row;
* flattened PDF tables: one cell fragment per line, no separators. The header is recognized by
  its column words, rows by their running number ('1', '15.2', group rows 'I', 'II.'), and a row's
  cells are told apart by what they contain: unit names (lead, partner), target values, text.

Rules are about table shapes and column words, never about particular plans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.model import SourceLine
from core.normalize import fold
from ingest.units import find_units, starts_with_unit

# cell roles
NO, INDICATOR, TASK, LEAD, PARTNER = "no", "indicator", "task", "lead", "partner"
DEADLINE, PERIOD, UOM, METHOD, SCORE = "deadline", "period", "unit_of_measure", "method", "max_score"
OUTPUT = "output"
TARGET = "target:"  # + year ('target:2026'), or '' when the column has no year
UNIT_ROLES = (LEAD, PARTNER)
TEXT_ROLES = (INDICATOR, TASK)


@dataclass
class TableRow:
    kind: str  # indicator | target | task | schedule | kpi
    first: int  # index into the document's lines
    last: int
    row_no: str | None
    group_path: list[str]
    cells: dict[str, str] = field(default_factory=dict)  # role -> text (units still as written)
    targets: dict[str, str] = field(default_factory=dict)
    year: int | None = None
    quarter: str | None = None


# --- column words ---------------------------------------------------------------------------------

# 'Năm 2026', 'Kế hoạch năm 2027', 'Năm 2025 (thực hiện)', 'Thực hiện năm 2026', 'Mức Năm 2026' (a two-row
# header 'Mức phấn đấu' over 'Năm 2026 | Năm 2027' whose words PDF layout split between the columns)
_YEAR_COL_RE = re.compile(
    r"^(?:(?P<before>thuc hien|ke hoach|uoc thuc hien|uoc|muc tieu|chi tieu|du kien|phan dau|muc phan dau|muc)\s+)?"
    r"(?:nam\s+)?"
    r"(?P<year>20\d\d)(?:\s+(?P<after>thuc hien|ke hoach|uoc thuc hien|uoc th|uoc|du kien|muc tieu))?$"
)
_ACTUAL = ("thuc hien", "uoc thuc hien", "uoc", "uoc th")
YEAR_QUALIFIER = {"thuc hien": "thực hiện", "uoc thuc hien": "ước thực hiện", "uoc": "ước thực hiện",
                  "uoc th": "ước thực hiện"}
_TITLE_YEAR_RE = re.compile(r"\b(?:den|cuoi|trong)\s+(?:cuoi\s+)?nam\s+(20\d\d)\b")
_ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (PARTNER, ("phoi hop",)),
    (LEAD, ("chu tri", "don vi thuc hien", "co quan thuc hien", "don vi phu trach", "co quan theo doi",
            "don vi theo doi", "chiu trach nhiem", "dam nhiem", "bo phan thuc hien", "phu trach")),
    (UOM, ("don vi tinh", "dvt", "do luong")),
    (METHOD, ("cach tinh", "phuong phap")),
    (SCORE, ("diem toi da", "trong so", "so diem")),
    (DEADLINE, ("thoi han", "hoan thanh", "tien do")),
    (PERIOD, ("thoi gian",)),
    (OUTPUT, ("san pham", "dau ra")),
    (TARGET, ("ket qua", "muc tieu", "gia tri")),
    (INDICATOR, ("chi so", "chi tieu", "tru cot", "tieu chi")),
    (TASK, ("nhiem vu", "noi dung", "cong viec", "hoat dong", "giai phap", "trong tam")),
)


def _cell_role(cell: str, roles_so_far: list[str | None]) -> str | None:
    folded = fold(cell)
    if not folded:
        return None
    if match := _YEAR_COL_RE.match(folded):
        qualifier = match.group("before") if match.group("before") in _ACTUAL else match.group("after")
        suffix = f"|{YEAR_QUALIFIER[qualifier]}" if qualifier in YEAR_QUALIFIER else ""
        return TARGET + match.group("year") + suffix
    if folded.split()[0] in ("stt", "tt") or folded.startswith(("so tt", "nhom")):
        return NO
    if folded in ("giai doan", "buoc", "dot") and not roles_so_far:
        return NO  # 'Giai đoạn 1', 'Giai đoạn 2' … label the rows of a roadmap table
    for role, words in _ROLE_WORDS:
        if any(re.search(rf"\b{w}\b", folded) for w in words):
            # 'Thời gian' before the subject column is the schedule's period, after it a deadline
            if role == PERIOD and any(r in TEXT_ROLES for r in roles_so_far):
                return DEADLINE
            return role
    return None


def _useful(roles: list[str | None]) -> bool:
    has_subject = any(r in TEXT_ROLES for r in roles)
    has_fact = any(
        r and (r in (LEAD, PARTNER, DEADLINE, PERIOD, METHOD, SCORE) or r.startswith(TARGET)) for r in roles
    )
    return has_subject and has_fact


def _kind(roles: list[str | None]) -> str:
    if PERIOD in roles:
        return "schedule"
    if METHOD in roles or SCORE in roles:
        return "kpi"
    if any(r and r.startswith(TARGET) for r in roles):
        return "target"
    if INDICATOR in roles and TASK in roles:
        return "indicator"
    return "task"


# --- cell text helpers ------------------------------------------------------------------------------

_BULLET_RE = re.compile(r"^\s*[-–•+*]\s+")
_ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")
_ROMAN_VALUES = {r: i + 1 for i, r in enumerate(_ROMANS)}


def join_fragments(parts: list[str]) -> str:
    """Cell fragments (wrapped lines) -> one clean text: 'HĐND-' + 'UBND' -> 'HĐND-UBND'."""
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        glue = "" if not out or (out.endswith("-") and not out.endswith(" -")) else " "
        out += glue + part
    return " ".join(out.split())


def _clean(cell: str) -> str:
    return _BULLET_RE.sub("", " ".join(cell.split())).strip()


def quarter_of(text: str) -> str | None:
    match = re.search(r"\bQu[ýy]\s+([IV]{1,3})\b", text, re.IGNORECASE)
    return match.group(1).upper() if match else None


def heading_year(text: str) -> int | None:
    match = re.search(r"\bnam\s+(20\d\d)\b", fold(text))
    return int(match.group(1)) if match else None


# --- context headings -----------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^(?:[IVX]{1,5}[.\-]|\d+(?:\.\d+)*\.)\s*\S")


def is_table_line(text: str) -> bool:
    return "\t" in text or text.lstrip().startswith("|")


def context_headings(lines: list[SourceLine]) -> list[str | None]:
    """For every line, the nearest heading above it (reset by an appendix title)."""
    current: str | None = None
    out: list[str | None] = []
    for line in lines:
        text = line.text.strip()
        if fold(text).startswith("phu luc"):
            current = None
        elif _HEADING_RE.match(text) and not is_table_line(line.text) and len(text) < 160:
            current = text
        out.append(current)
    return out


# --- grid tables (tab-separated and markdown) -------------------------------------------------------

_MD_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{2,}[\s:|-]*$")


@dataclass
class _Grid:
    roles: list[str | None]
    kind: str
    title_year: str
    context: list[str]
    last_line: int
    rows: list[TableRow] = field(default_factory=list)
    group: str | None = None


def _grid_blocks(lines: list[SourceLine]) -> Iterator[list[tuple[int, list[str]]]]:
    """Runs of table lines as (line index, cells); blank lines inside a tab table are skipped."""
    i = 0
    while i < len(lines):
        text = lines[i].text
        if not is_table_line(text):
            i += 1
            continue
        markdown = text.lstrip().startswith("|")
        block: list[tuple[int, list[str]]] = []
        while i < len(lines):
            text = lines[i].text
            if markdown and text.lstrip().startswith("|"):
                if not _MD_SEPARATOR_RE.match(text.strip()):
                    block.append((i, [c.strip() for c in text.strip().strip("|").split("|")]))
            elif not markdown and "\t" in text:
                block.append((i, [c.strip() for c in text.split("\t")]))
            elif not markdown and block and _GROUP_LINE_RE.match(text.strip()) and _next_is_table(lines, i):
                block.append((i, [text.strip()]))  # a group row merged across every column: one cell, no tab
            elif not markdown and not text.strip():
                nxt = next((j for j in range(i + 1, len(lines)) if lines[j].text.strip()), None)
                if nxt is None or "\t" not in lines[nxt].text:
                    break
            else:
                break
            i += 1
        if block:
            yield block


def _next_is_table(lines: list[SourceLine], i: int) -> bool:
    following = next((line.text for line in lines[i + 1 : i + 4] if line.text.strip()), "")
    return "\t" in following


def grid_rows(lines: list[SourceLine], headings: list[str | None]) -> tuple[list[TableRow], set[int]]:
    rows: list[TableRow] = []
    used: set[int] = set()
    grid: _Grid | None = None
    for block in _grid_blocks(lines):
        used.update(i for i, _ in block)
        first, header = block[0]
        roles: list[str | None] = (_roles(header) if not _ROW_NUMBER_RE.match(_clean(header[0]))
                                   else [None] * len(header))
        skip = 1
        if len(block) > 1 and _is_header(block[1][1]):
            # a two-row header ('Phân công thực hiện' over 'Cơ quan chủ trì' | 'Cơ quan phối hợp'): the
            # detailed row names the columns; the first fills in what it leaves unnamed
            detailed = _roles(block[1][1])
            if len(block[1][1]) == len(header):
                detailed = [d or r for d, r in zip(detailed, roles, strict=True)]
            roles, header, skip = detailed, block[1][1], 2
        if _useful(roles) or (_has_subject(roles) and block[skip:]):
            roles = _roles_by_content(roles, [cells for _, cells in block[skip:]])
        if _useful(roles):
            caption = " ".join(lines[j].text for j in range(max(0, first - 3), first))
            year = _TITLE_YEAR_RE.search(fold(" ".join(header) + " " + caption))
            heading = headings[first]
            context = [heading] if heading else []
            grid = _Grid(roles, _kind(roles), year.group(1) if year else "", context, first)
            body = block[skip:]
        elif grid and first - grid.last_line <= 8 and len(header) == len(grid.roles):
            body = block  # a fragment of the previous table, continued after a page break
        else:
            continue
        for index, cells in body:
            _grid_row(grid, index, cells + [""] * (len(grid.roles) - len(cells)), lines)
        grid.last_line = block[-1][0]
        rows.extend(r for r in grid.rows if r not in rows)
    return rows, used


_ROW_NUMBER_RE = re.compile(r"^(?:\d+(?:\.\d+)?|[IVX]{1,5})\.?$")
_GROUP_LINE_RE = re.compile(r"^[IVX]{1,5}[.\s]\s*[A-ZĐÀ-Ỹ]")


def _roles(header: list[str]) -> list[str | None]:
    roles: list[str | None] = []
    for cell in header:
        roles.append(_cell_role(cell, roles))
    return roles


def _is_header(cells: list[str]) -> bool:
    """A row of column titles: no row number, and at least two cells that name a column's role."""
    if not cells or _ROW_NUMBER_RE.match(_clean(cells[0])):
        return False
    first = _clean(cells[0]) if cells else ""
    if re.match(r"^(?:\d+(?:\.\d+)?|[IVX]{1,5})\.?$", first):
        return False
    return sum(1 for role in _roles(cells) if role) >= 2 and not any(re.search(r"\d%|\d{2}/\d", c) for c in cells)


def _has_subject(roles: list[str | None]) -> bool:
    return any(r in TEXT_ROLES for r in roles)


_DEADLINE_CELL_RE = re.compile(
    r"^(?:quý\s+[IV1-4]|tháng\s+\d|trước\s|năm\s+20\d\d|thường xuyên|hằng (?:năm|quý|tháng)|hàng (?:năm|quý|tháng)|"
    r"\d{1,2}/\d{1,2}(?:/\d{4})?|\d{1,2}/20\d\d)",
    re.IGNORECASE,
)


def _roles_by_content(roles: list[str | None], rows: list[list[str]]) -> list[str | None]:
    """Name the columns the header left unnamed (or named in words the rules do not know) by what their
    cells hold: unit names (the first such column leads, the next partners), deadlines."""
    filled = list(roles)
    for col, role in enumerate(roles):
        if role is not None:
            continue
        cells = [_clean(r[col]) for r in rows if col < len(r) and _clean(r[col])]
        if len(cells) < 2:
            continue
        units = sum(1 for c in cells if _starts_with_unit(c)) / len(cells)
        deadlines = sum(1 for c in cells if _DEADLINE_CELL_RE.match(c)) / len(cells)
        if units >= 0.6:
            filled[col] = PARTNER if LEAD in filled else LEAD
        elif deadlines >= 0.6 and DEADLINE not in filled:
            filled[col] = DEADLINE
    return filled


def _starts_with_unit(cell: str) -> bool:
    spans = find_units(cell)
    return bool(spans) and spans[0].start <= 2


def _grid_row(grid: _Grid, index: int, cells: list[str], lines: list[SourceLine]) -> None:
    nonempty = [_clean(c) for c in cells if _clean(c)]
    if len(nonempty) == 1 and (group := re.match(r"^([IVX]{1,5})[.\s]\s*(\S.*)$", nonempty[0])):
        grid.group = f"{group.group(1)}. {group.group(2)}"  # a group row spanning every column
        return
    by_role: dict[str, str] = {}
    for role, cell in zip(grid.roles, cells, strict=False):
        if role and _clean(cell):
            by_role[role] = f"{by_role[role]} {_clean(cell)}" if role in by_role else _clean(cell)
    if not any(by_role.values()):
        return
    row_no = by_role.pop(NO, None)
    subject = by_role.get(TASK) or by_role.get(INDICATOR) or ""
    facts = {r: v for r, v in by_role.items() if r not in TEXT_ROLES}
    if row_no and row_no.rstrip(".") in _ROMAN_VALUES and subject and not facts:
        grid.group = f"{row_no.rstrip('.')}. {_clean(subject)}"
        return
    previous = grid.rows[-1] if grid.rows else None
    if previous and NO in grid.roles and not row_no and PERIOD not in grid.roles:
        for role, text in by_role.items():  # a row's text continued in the next fragment
            previous.cells[role] = f"{previous.cells.get(role, '').rstrip()} {text}".strip()
        previous.last = index
        return
    if PERIOD in grid.roles and previous and not by_role.get(PERIOD):
        # schedule: a period's first line carries its units, which hold for the lines below it
        by_role[PERIOD] = previous.cells.get(PERIOD, "")
        for role in UNIT_ROLES:
            if not by_role.get(role) and previous.cells.get(role):
                by_role[role] = previous.cells[role]
    row = TableRow(
        kind=grid.kind,
        first=index,
        last=index,
        row_no=row_no,
        group_path=[*grid.context, *([grid.group] if grid.group else [])],
        cells=by_role,
    )
    for role, value in by_role.items():
        if role.startswith(TARGET):
            year, _, qualifier = role[len(TARGET) :].partition("|")
            key = year or grid.title_year
            text = _clean(value)
            if text in ("-", "—", "–", "x", "…"):
                continue  # a blank figure is no figure
            if qualifier:
                if key in row.targets:  # the plan's own value keeps the year; the actual one is noted
                    key = f"{key} ({qualifier})"
                else:
                    text = f"{text} ({qualifier})"
            row.targets[key] = text
    if PERIOD in by_role:
        row.quarter = quarter_of(by_role[PERIOD])
        row.year = heading_year(by_role[PERIOD]) or heading_year(grid.context[-1] if grid.context else "")
        if row.quarter and row.year:
            row.group_path.append(f"Quý {row.quarter}")
    grid.rows.append(row)


# --- flattened PDF tables ------------------------------------------------------------------------

_ROW_RE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?\.?(?:\s+(.*))?$")
_GROUP_RE = re.compile(r"^([IVX]{1,5})\.?(?:\s+(.*))?$")
_END_RE = re.compile(r"^(?:phu luc|noi nhan|tm\.? uy ban|kt\.? chu tich)")


@dataclass
class _FlatHeader:
    roles: list[str]  # in header order
    lines: set[str]  # folded header lines, to skip the header repeated after a page break
    first_line: str
    start: int  # index of the header's first line
    body: int  # index of the first line after the header


def _is_first_row(text: str) -> bool:
    row, group = _ROW_RE.match(text), _GROUP_RE.match(text)
    return bool((row and row.group(1) == "1" and not row.group(2)) or (group and group.group(1) == "I"))


def _is_section_heading(text: str) -> bool:
    """'IV. TỔ CHỨC THỰC HIỆN': a roman number and a title in capitals."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) > 6 and sum(ch.isupper() for ch in letters) >= 0.9 * len(letters)


def _flat_header(lines: list[SourceLine], i: int) -> _FlatHeader | None:
    text = lines[i].text.strip()
    words = fold(text).split()
    if not words or words[0] not in ("stt", "tt") or len(words) > 6 or is_table_line(lines[i].text):
        return None
    if len(words) > 1 and not any(re.search(rf"\b{w}\b", " ".join(words[1:])) for _, ws in _ROLE_WORDS for w in ws):
        return None  # 'TT PVHCC' is a unit in a row, not the header's first cell
    parts = [text]
    j = i + 1
    while j < len(lines) and len(parts) < 20:
        line = lines[j].text.strip()
        if line and _is_first_row(line):
            break
        if line:
            if len(line) > 60 or is_table_line(lines[j].text):
                return None
            parts.append(line)
        j += 1
    folded = fold(" ".join(parts))
    found: list[tuple[int, str]] = []
    for role, words_ in _ROLE_WORDS:
        positions = [m.start() for w in words_ for m in re.finditer(rf"\b{w}\b", folded)]
        if positions and role not in (TARGET, PERIOD):
            found.append((min(positions), role))
    found += [(m.start(), TARGET + m.group(1)) for m in re.finditer(r"\bnam (20\d\d)\b", folded)]
    roles = [role for _, role in sorted(found)]
    if LEAD not in roles or not any(r in TEXT_ROLES for r in roles) or j >= len(lines):
        return None
    return _FlatHeader(roles, {fold(p) for p in parts}, fold(parts[0]), i, j)


def flat_rows(lines: list[SourceLine]) -> tuple[list[TableRow], set[int]]:
    rows: list[TableRow] = []
    used: set[int] = set()
    i = 0
    while i < len(lines):
        header = _flat_header(lines, i)
        if not header:
            i += 1
            continue
        table_rows, end = _read_flat_table(lines, header)
        rows.extend(table_rows)
        used.update(range(header.start, end))
        i = end
    return rows, used


@dataclass
class _FlatRow:
    no: str
    first: int
    last: int
    parts: list[str]
    group_path: list[str]


def _read_flat_table(lines: list[SourceLine], header: _FlatHeader) -> tuple[list[TableRow], int]:
    """Rows of a flattened table from ``header.body``; returns them and the index after the table."""
    raw_rows: list[_FlatRow] = []
    group_title: list[str] | None = None  # fragments of a group row's title, until its first row
    group_no = ""
    group: str | None = None
    last_top, last_sub, last_roman, after_group = 0, 0, 0, False
    skipping_header = False
    i = header.body
    while i < len(lines):
        text = lines[i].text.strip()
        folded = fold(text)
        if not text:
            i += 1
            continue
        ends = _END_RE.match(folded) or is_table_line(lines[i].text) or _flat_header(lines, i)
        if ends and folded != header.first_line:
            break
        if folded == header.first_line or (skipping_header and folded in header.lines):
            skipping_header = True
            i += 1
            continue
        following = next((fold(x.text.strip()) for x in lines[i + 1 : i + 3] if x.text.strip()), "")
        if re.fullmatch(r"\d{1,3}", text) and following == header.first_line:
            i += 1  # a page number printed above the header repeated on the next page
            continue
        skipping_header = False
        row, grp = _ROW_RE.match(text), _GROUP_RE.match(text)
        top = int(row.group(1)) if row else 0
        sub = int(row.group(2)) if row and row.group(2) else 0
        starts_row = bool(row) and (
            (not sub and (top == last_top + 1 or (top == 1 and after_group)))
            or (sub > 0 and top == last_top and sub == last_sub + 1)
        )
        if grp and _ROMAN_VALUES.get(grp.group(1)) != last_roman + 1 and _is_section_heading(text):
            break  # the plan's next section ('IV. TỔ CHỨC THỰC HIỆN') ends the table
        if grp and _ROMAN_VALUES.get(grp.group(1)) == last_roman + 1:
            last_roman, after_group = last_roman + 1, True
            group_no, group_title = grp.group(1), [grp.group(2) or ""]
        elif row and starts_row:
            if group_title is not None:
                group, group_title = f"{group_no}. {join_fragments(group_title)}", None
            if sub:
                last_sub = sub
            else:
                last_top, last_sub, after_group = top, 0, False
            no = f"{top}.{sub}" if sub else str(top)
            raw_rows.append(_FlatRow(no, i, i, [row.group(3) or ""], [group] if group else []))
        elif group_title is not None:
            group_title.append(text)
        elif raw_rows:
            raw_rows[-1].parts.append(text)
            raw_rows[-1].last = i
        i += 1
    kind = _kind(list(header.roles))
    out = [_flat_cells(header, kind, raw) for raw in raw_rows]
    _inherit_parent_units(out)
    return out, (raw_rows[-1].last + 1 if raw_rows else header.body)


# A gap between two unit names of one run: only separators ('và', ',', ';', line breaks).
_RUN_GAP_RE = re.compile(r"^(?:[\s,;&/+\-]|và\b)*$")
_CELL_BREAK_RE = re.compile(r"[,;&/+]|\bvà\b")
_VALUE = (
    r"(?:(?:đạt|khoảng|trên|dưới)\s+)?[≥≤=<>]?\s*\d+(?:[.,]\d+)?\s*%?(?:\s*GRDP)?"
    r"|[\w.]+\s*\(\s*[≥≤=<>]?\s*\d+(?:[.,]\d+)?\s*%?\s*\)"
)
_VALUE_TAIL_RE = re.compile(rf"(?:^|\s)((?:{_VALUE})\s*[.;]?)\s*$")


def _split_values(text: str, count: int) -> tuple[str, list[str]]:
    """'Tỷ lệ … ≥ 60%. 100% 6G (50%) …' -> (indicator, values of the last ``count`` columns)."""
    text = " ".join(text.split())
    values: list[str] = []
    while len(values) < count and (match := _VALUE_TAIL_RE.search(text)):
        values.insert(0, match.group(1))
        text = text[: match.start()].rstrip()
    if not values:  # a word value repeated in every column: '… ứng dụng ứng dụng ứng dụng'
        words = text.split()
        for size in range(1, 4):
            phrase = [w.lower() for w in words[-size:]]
            tail = [w.lower() for w in words[-size * count :]]
            if len(words) > size * count and tail == phrase * count:
                values = [" ".join(words[-size:])] * count
                text = " ".join(words[: -size * count])
                break
    tidy = [re.sub(r"([≥≤=<>])\s*", r"\1 ", v.rstrip(" .;")).strip() for v in values]
    return text, tidy


def _unit_run(text: str, tail_on_line: bool) -> tuple[int, int, list[str]] | None:
    """The unit names closing a flattened row: (start, end, cells), split into cells where two
    names follow each other without a separator ('Phòng Kinh tế\\nCác phòng, ban, ngành xã').

    The last name must end its line, unless a cell may follow on the same line (a deadline):
    'của các cơ quan hành chính nhà nước' is text, not a unit cell."""
    spans = find_units(text)
    if not spans or not (tail_on_line or not text[spans[-1].end :].split("\n")[0].strip(" ,;.")):
        return None
    k = len(spans) - 1
    while k > 0 and _RUN_GAP_RE.match(text[spans[k - 1].end : spans[k].start]):
        k -= 1
    run = spans[k:]
    at_line_start = [
        s for s in run if text[: s.start].rstrip(" ").endswith("\n") or not text[: s.start].strip()
    ]
    start = (at_line_start or run)[0]
    run = run[run.index(start) :]
    cells: list[str] = []
    cell_start = start.start
    for a, b in zip(run, run[1:], strict=False):
        if not _CELL_BREAK_RE.search(text[a.end : b.start]):
            cells.append(text[cell_start : a.end])
            cell_start = b.start
    cells.append(text[cell_start : run[-1].end])
    return start.start, run[-1].end, cells


def _widen_run(text: str, run: tuple[int, int, list[str]]) -> tuple[int, int, list[str]]:
    """A run with fewer unit cells than the table has unit columns: names the alias table does not know may stand
    between the lead and the run ('Phòng Kinh tế\\nBưu điện xã,\\nHội Phụ nữ xã'). The lead then starts at the
    nearest short line above that opens with a known unit; everything after it is the next column."""
    start = run[0]
    lines_before = text[:start].split("\n")
    offset = start
    for k in range(len(lines_before) - 1, 0, -1):  # never the row's first line: that is its text
        line = lines_before[k]
        offset -= len(line) + 1
        if not line.strip():
            continue
        if len(line.strip()) > 40:
            break
        spans = find_units(line)
        known = spans and not line[: spans[0].start].strip()
        if known or (starts_with_unit(line.strip()) and len(line.strip()) <= 40):
            lead_end = offset + 1 + (spans[0].end if known else len(line))
            if not known:  # an unknown name wrapped over lines: it goes on until the next unit opens a line
                for following in text[lead_end:run[1]].split("\n")[1:]:
                    if not following.strip() or starts_with_unit(following.strip()) or len(following.strip()) > 40:
                        break
                    lead_end += len(following) + 1
            rest = text[lead_end : run[1]].strip(" ,;\n")
            return offset + 1, run[1], [text[offset + 1 : lead_end], rest]
    return run


def _peel_deadline(text: str) -> tuple[str, str | None]:
    """The row's trailing deadline cell ('Quý III/2027', 'Tháng\\n02/2027', 'Thường xuyên') and the rest."""
    lines = text.split("\n")
    for size in (2, 1):
        if len(lines) > size:
            tail = join_fragments(lines[-size:])
            if _DEADLINE_CELL_RE.match(tail) and len(tail) <= 40:
                return "\n".join(lines[:-size]), tail
    return text, None


def _flat_cells(header: _FlatHeader, kind: str, raw: _FlatRow) -> TableRow:
    text = "\n".join(p for p in raw.parts if p)
    cells: dict[str, str] = {}
    if DEADLINE in header.roles:  # the deadline closes the row: read it first, whatever the units before it
        text, deadline = _peel_deadline(text)
        if deadline:
            cells[DEADLINE] = deadline
    unit_roles = [r for r in header.roles if r in UNIT_ROLES]
    run = _unit_run(text, DEADLINE in header.roles) if unit_roles else None
    if run and len(run[2]) < len(unit_roles):
        run = _widen_run(text, run)
    before, after = (text[: run[0]], text[run[1] :]) if run else (text, "")
    if run:
        unit_cells = run[2][: len(unit_roles) - 1] + [" ; ".join(run[2][len(unit_roles) - 1 :])]
        for role, cell in zip(unit_roles, unit_cells, strict=False):
            cells[role] = join_fragments(cell.split("\n"))
    tail = join_fragments(after.strip(" ,;\n").split("\n"))
    if tail and DEADLINE in header.roles and DEADLINE not in cells:
        cells[DEADLINE] = tail
    elif tail and run and DEADLINE in cells:
        # names the alias table does not know, between the units and the deadline: the last unit column's
        # ('Viettel Lào Cai, VNPT Lào Cai'; 'Tổ CNSCĐ, Bưu điện xã')
        last_role = unit_roles[-1]
        if last_role in cells and (after.lstrip(" \n")[:1] in (",", ";") or after.lstrip()[:1].islower()):
            cells[last_role] = f"{cells[last_role]}, {tail}".replace(", ,", ",")
        elif len(unit_roles) > len([r for r in unit_roles if r in cells]):
            cells[next(r for r in unit_roles if r not in cells)] = tail
        else:
            cells[last_role] = f"{cells[last_role]}; {tail}"
    elif tail:
        before = f"{before}\n{tail}"
    targets: dict[str, str] = {}
    years = [r[len(TARGET) :] for r in header.roles if r.startswith(TARGET)]
    if years:
        before, values = _split_values(before, len(years))
        targets = dict(zip(years, values, strict=False))
    fragments = [f for f in before.split("\n") if f.strip()]
    if INDICATOR in header.roles and TASK in header.roles:
        # the task cell starts at the first fragment that opens with a capital letter
        cut = next((n for n, f in enumerate(fragments) if n and f.lstrip()[:1].isupper()), len(fragments))
        cells[INDICATOR] = join_fragments(fragments[:cut])
        cells[TASK] = join_fragments(fragments[cut:])
    else:
        cells[TASK if TASK in header.roles else INDICATOR] = join_fragments(fragments)
    return TableRow(
        kind=kind,
        first=raw.first,
        last=raw.last,
        row_no=raw.no,
        group_path=raw.group_path,
        cells={k: v for k, v in cells.items() if v},
        targets=targets,
    )


def _inherit_parent_units(rows: list[TableRow]) -> None:
    """Sub-rows ('15.1') without their own units take their parent row's ('15')."""
    parents = {row.row_no: row for row in rows if row.row_no and "." not in row.row_no}
    for row in rows:
        parent = parents.get((row.row_no or "").split(".")[0]) if "." in (row.row_no or "") else None
        if parent and not any(row.cells.get(r) for r in UNIT_ROLES):
            for role in UNIT_ROLES:
                if parent.cells.get(role):
                    row.cells[role] = parent.cells[role]
