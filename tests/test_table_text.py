"""Tables however they were read -> the TAB lines ``ingest.tables`` reads (``ingest.table_text``), the
geometry that rebuilds them from rules and word boxes (``ingest.grid``), and the repairs of OCR text
(``ingest.ocr_text``). Pure and fast: no files, no binaries."""

from __future__ import annotations

import pytest

from ingest.grid import Segment, Word, cell_paragraphs, find_tables, text_lines, to_text_table
from ingest.ocr_text import repair_line, repair_row_number, split_glued
from ingest.table_text import TableWriter, TextCell, TextTable, join_paragraphs

HEADER = ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian"]


def table(rows: list[list[str | tuple[str, int] | None]], pages: list[int | None] | None = None,
          header_rows: int = 0) -> TextTable:
    """Rows of cells: a string, (text, colspan), or None for a slot covered by a merge (vertical: the
    cell above grows; horizontal: given by the colspan)."""
    cells: list[TextCell] = []
    n_cols = max(sum(c[1] if isinstance(c, tuple) else 1 for c in row) for row in rows)
    for r, row in enumerate(rows):
        col = 0
        for item in row:
            if item is None:
                above = next(c for c in reversed(cells) if c.col == col and c.row < r)
                above.rowspan = r - above.row + 1
                col += 1
                continue
            text, span = item if isinstance(item, tuple) else (item, 1)
            cells.append(TextCell(r, col, text.split("\n") if text else [], 1, span))
            col += span
    return TextTable(len(rows), n_cols, cells, pages or [None] * len(rows), header_rows)


def lines_of(*tables: TextTable, between: list[str] | None = None) -> list[str]:
    writer = TableWriter()
    for i, t in enumerate(tables):
        if i and between is not None:
            for line in between:
                writer.add_line(line)
        writer.add_table(t)
    return [line for line in writer.result()[0] if line]


def test_header_once_group_rows_and_merged_cells() -> None:
    out = lines_of(table([
        HEADER,
        [("I. CHÍNH QUYỀN SỐ", 5)],
        ["1", "Số hóa hồ sơ", "Trung tâm Phục vụ hành chính công", "Văn phòng HĐND và UBND", "Thường xuyên"],
        ["2", "Tuyên truyền", "Phòng Văn hóa - Xã hội", "Đoàn Thanh niên", None],  # vMerge
        ["II", ("KINH TẾ SỐ", 4)],  # the number in its own cell, the title merged
        ["3", "Chợ 4.0", "Phòng Kinh tế\nCông an xã", "", "Quý II/2026"],  # two units stacked
    ]))
    assert out == [
        "STT\tNhiệm vụ\tĐơn vị chủ trì\tĐơn vị phối hợp\tThời gian",
        "I\tCHÍNH QUYỀN SỐ\t\t\t",
        "1\tSố hóa hồ sơ\tTrung tâm Phục vụ hành chính công\tVăn phòng HĐND và UBND\tThường xuyên",
        "2\tTuyên truyền\tPhòng Văn hóa - Xã hội\tĐoàn Thanh niên\tThường xuyên",
        "II\tKINH TẾ SỐ\t\t\t",
        "3\tChợ 4.0\tPhòng Kinh tế; Công an xã\t\tQuý II/2026",
    ]


def test_a_merged_row_without_a_roman_number_is_a_line_of_its_own() -> None:
    out = lines_of(table([HEADER, [("Nhóm nhiệm vụ thường xuyên", 5)], ["1", "Báo cáo", "Phòng Kinh tế", "", "Quý I/2026"]]))
    assert out[1] == "Nhóm nhiệm vụ thường xuyên"
    assert out[2].startswith("1\tBáo cáo")


def test_a_header_of_two_rows_becomes_one_line_and_the_column_numbers_go() -> None:
    out = lines_of(table([
        ["STT", "Chỉ tiêu", ("Kết quả", 2), "Đơn vị chủ trì"],
        [None, None, "Năm 2025", "Kế hoạch năm 2026", None],
        ["(1)", "(2)", "(3)", "(4)", "(5)"],
        ["1", "Tỷ lệ hồ sơ trực tuyến", "65%", "≥ 80%", "Trung tâm Phục vụ hành chính công"],
    ]))
    assert out == [
        "STT\tChỉ tiêu\tNăm 2025\tKế hoạch năm 2026\tĐơn vị chủ trì",
        "1\tTỷ lệ hồ sơ trực tuyến\t65%\t≥ 80%\tTrung tâm Phục vụ hành chính công",
    ]


def test_a_table_continued_on_the_next_page() -> None:
    first = table([HEADER, ["1", "Số hóa hồ sơ, kết quả giải quyết", "Trung tâm Phục vụ", "Văn phòng", "Quý I/2026"]],
                  pages=[3, 3])
    # the next page repeats the header (read with a slip), then the rest of the row the break cut
    second = table([["STT", "Nhiệm vu", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian"],
                    ["", "thủ tục hành chính", "hành chính công", "HĐND và UBND", ""],
                    ["2", "Tuyên truyền", "Phòng Văn hóa - Xã hội", "", "Quý II/2026"]], pages=[4, 4, 4])
    writer = TableWriter()
    writer.add_table(first)
    writer.add_line("", None)  # blank lines (and page furniture, dropped before the writer) do not separate
    writer.add_table(second)
    lines, pages = writer.result()
    rows = [(line, page) for line, page in zip(lines, pages, strict=True) if line]
    assert rows == [
        ("STT\tNhiệm vụ\tĐơn vị chủ trì\tĐơn vị phối hợp\tThời gian", 3),
        ("1\tSố hóa hồ sơ, kết quả giải quyết thủ tục hành chính\tTrung tâm Phục vụ hành chính công\t"
         "Văn phòng HĐND và UBND\tQuý I/2026", 3),
        ("2\tTuyên truyền\tPhòng Văn hóa - Xã hội\t\tQuý II/2026", 4),
    ]


def test_text_between_two_tables_keeps_them_apart() -> None:
    first = table([HEADER, ["1", "A", "Phòng Kinh tế", "", "Quý I/2026"]])
    second = table([HEADER, ["1", "B", "Công an xã", "", "Quý II/2026"]])
    out = lines_of(first, second, between=["PHỤ LỤC 2"])
    assert out.count(HEADER[0] + "\t" + "\t".join(HEADER[1:])) == 2


def test_group_numbers_count_up_within_a_table() -> None:
    out = lines_of(table([HEADER, [("I. A", 5)], ["1", "x", "Phòng Kinh tế", "", ""], [("II. B", 5)],
                          ["2", "y", "Phòng Kinh tế", "", ""], [("II. C", 5)]]))  # OCR read III as II
    assert [line.split("\t")[0] for line in out if "\t" in line][1:] == ["I", "1", "II", "2", "III"]


def test_a_layout_table_is_read_as_lines() -> None:
    letterhead = table([["ỦY BAN NHÂN DÂN\nXÃ HÒA ĐIỀN\nSố: 12/KH-UBND",
                         "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"]])
    assert lines_of(letterhead) == [
        "ỦY BAN NHÂN DÂN", "XÃ HÒA ĐIỀN", "Số: 12/KH-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
    ]


@pytest.mark.parametrize(
    ("paragraphs", "text"),
    [
        (["Phòng Kinh tế", "Công an xã"], "Phòng Kinh tế; Công an xã"),
        (["Ban Quản lý dự án", "Hội Người cao tuổi"], "Ban Quản lý dự án; Hội Người cao tuổi"),  # not in the aliases
        (["Phòng Kinh tế,", "Công an xã"], "Phòng Kinh tế, Công an xã"),
        (["Tập huấn kỹ năng số", "cho người dân"], "Tập huấn kỹ năng số cho người dân"),
        (["- Báo cáo quý", "- Danh sách"], "- Báo cáo quý - Danh sách"),
    ],
)
def test_paragraphs_of_a_cell(paragraphs: list[str], text: str) -> None:
    assert join_paragraphs(paragraphs) == text


# --- geometry -------------------------------------------------------------------------------------------


def words_of(line: str, x: float, top: float, char: float = 6.0, height: float = 12.0) -> list[Word]:
    out = []
    for token in line.split():
        out.append(Word(token, x, x + char * len(token), top, top + height))
        x += char * (len(token) + 1)
    return out


def test_wrapped_lines_and_paragraphs_inside_a_cell() -> None:
    # a cell 130 wide: 'Phòng Kinh tế' stops short although 'Công' would fit -> a new paragraph
    words = words_of("Phòng Kinh tế", 5, 0) + words_of("Công an xã", 5, 14)
    assert cell_paragraphs(words, 0, 130, 2) == ["Phòng Kinh tế", "Công an xã"]
    # a full line wraps: one paragraph
    words = words_of("Tập huấn kỹ năng", 5, 0) + words_of("số", 5, 14)
    assert cell_paragraphs(words, 0, 105, 2) == ["Tập huấn kỹ năng số"]
    # a word broken inside a narrow column ('STT' as 'ST' + 'T')
    words = words_of("ST", 2, 0, char=8) + words_of("T", 2, 14, char=8)
    assert cell_paragraphs(words, 0, 20, 1) == ["STT"]


def grid_segments(xs: list[float], ys: list[float], skip_v: set[tuple[int, int]] = frozenset(),
                  skip_h: set[tuple[int, int]] = frozenset()) -> list[Segment]:
    """The rules of a grid; ``skip_v`` (column boundary, row) and ``skip_h`` (row boundary, column)
    leave out a piece of rule (merged cells)."""
    segments = []
    for i, x in enumerate(xs):
        for r in range(len(ys) - 1):
            if (i, r) not in skip_v:
                segments.append(Segment(False, x, ys[r], ys[r + 1]))
    for j, y in enumerate(ys):
        for c in range(len(xs) - 1):
            if (j, c) not in skip_h:
                segments.append(Segment(True, y, xs[c], xs[c + 1]))
    return segments


def test_merged_cells_from_missing_rules() -> None:
    xs, ys = [0, 30, 200, 300, 400], [0, 20, 40, 80, 120]
    # row 1 merged across all columns; rows 2-3 share their last cell (no rule between them there)
    segments = grid_segments(xs, ys, skip_v={(1, 1), (2, 1), (3, 1)}, skip_h={(3, 3)})
    # a nested table inside the cell of row 2, column 2 (its rules do not touch the outer ones)
    segments += grid_segments([205, 295], [45, 60, 75])
    [found] = find_tables(segments, tol=2, gap=3, min_size=4)
    assert (found.n_rows, found.n_cols) == (4, 4)
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in found.cells}
    assert spans[(1, 0)] == (1, 4)
    assert spans[(2, 3)] == (2, 1)
    assert spans[(2, 2)] == (1, 1)
    words = (words_of("STT", 2, 2) + words_of("I. CHÍNH QUYỀN SỐ", 5, 22) + words_of("1", 5, 42)
             + words_of("Quý II/2026", 305, 50) + words_of("Mục A", 210, 47) + words_of("Mục B", 210, 62))
    text_table = to_text_table(found, words, pad=2, page=1)
    texts = {(c.row, c.col): " ".join(c.paragraphs) for c in text_table.cells}
    assert texts[(1, 0)] == "I. CHÍNH QUYỀN SỐ"
    assert texts[(2, 2)] == "Mục A Mục B"  # the nested table's words stay in their cell
    assert texts[(2, 3)] == "Quý II/2026"


def test_two_columns_side_by_side_are_read_one_after_the_other() -> None:
    words = (words_of("ỦY BAN NHÂN DÂN", 10, 0) + words_of("CỘNG HÒA XÃ HỘI", 200, 0)
             + words_of("XÃ HÒA ĐIỀN", 20, 14) + words_of("Độc lập - Tự do", 210, 14)
             + words_of("Số: 12/KH-UBND", 15, 28))
    assert [t for _, t in text_lines(words, column_gap=30)] == [
        "ỦY BAN NHÂN DÂN", "XÃ HÒA ĐIỀN", "Số: 12/KH-UBND", "CỘNG HÒA XÃ HỘI", "Độc lập - Tự do",
    ]


# --- OCR repairs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "repaired"),
    [
        ("Chỉtiêu", "Chỉ tiêu"),
        ("Thựchiệnnăm 2025", "Thực hiện năm 2025"),
        ("Đơn vị chủtrì", "Đơn vị chủ trì"),
        ("HĐND", "HĐND"),
        ("Văn phòng HĐNDvà UBND", "Văn phòng HĐND và UBND"),
        ("online", "online"),
        ("Quý 11/2026", "Quý II/2026"),
        ("Quý IH/2026", "Quý III/2026"),
        ("Quýl[IV/2026", "Quý IV/2026"),
        ("HI. XÃ HỘI SỐ", "III. XÃ HỘI SỐ"),
        ("1. UBND xã chỉ đạo", "1. UBND xã chỉ đạo"),
        ("giải quyết thủ. tục", "giải quyết thủ tục"),
        ("'Đơn vị _ tính", "Đơn vị tính"),
        ("Phòng Văn hóa - Xã hội", "Phòng Văn hóa - Xã hội"),
    ],
)
def test_ocr_repairs(read: str, repaired: str) -> None:
    assert repair_line(read) == repaired


@pytest.mark.parametrize(("read", "number"), [("T2", "12"), ("2.", "2"), ("'10", "10"), ("II", "II"), ("Số", "Số")])
def test_ocr_row_numbers(read: str, number: str) -> None:
    assert repair_row_number(read) == number


def test_split_glued_keeps_real_words() -> None:
    assert split_glued("Thạnh") == "Thạnh"
    assert split_glued("hợptác") == "hợp tác"


def test_what_the_cells_hold_names_the_columns_and_mends_misread_numbers() -> None:
    out = lines_of(table([
        ["ST", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian"],  # 'STT' misread
        ["1", ("CHÍNH QUYỀN SỐ", 4)],  # the group number 'I' read as '1'
        ["1", "a", "Phòng Kinh tế", "", "Quý I/2026"],
        ["2", "b", "Phòng Kinh tế", "", "Quý I/2026"],
        ["H", ("KINH TẾ SỐ", 4)],  # 'II' read as 'H'
        ["3", "c", "Phòng Kinh tế", "", "Quý I/2026"],
        ["8", "d", "Phòng Kinh tế", "", "Quý I/2026"],  # '4' read as '8'
        ["5", "e", "Phòng Kinh tế", "", "Quý I/2026"],
    ]))
    assert [line.split("\t")[0] for line in out] == ["STT", "I", "1", "2", "II", "3", "4", "5"]
    assert out[1] == "I\tCHÍNH QUYỀN SỐ\t\t\t" and out[4] == "II\tKINH TẾ SỐ\t\t\t"


def test_a_title_merged_over_the_first_row_is_a_line_above_the_table() -> None:
    out = lines_of(table([[("BẢNG PHÂN CÔNG NHIỆM VỤ NĂM 2026", 5)], HEADER, ["1", "a", "Phòng Kinh tế", "", "Quý I/2026"]]))
    assert out == ["BẢNG PHÂN CÔNG NHIỆM VỤ NĂM 2026", "\t".join(HEADER), "1\ta\tPhòng Kinh tế\t\tQuý I/2026"]


def test_pages_to_read_by_ocr() -> None:
    from types import SimpleNamespace

    from ingest.pdf_layout import is_image_only

    def page(texts: list[str], images: int) -> SimpleNamespace:
        chars = [{"text": t} for t in texts]
        pictures = [{"x0": 0, "x1": 500, "top": 0, "bottom": 800}] * images
        return SimpleNamespace(chars=chars, images=pictures, width=595, height=842)

    assert is_image_only(page([], 1))  # a scan
    assert not is_image_only(page([], 0))  # a blank page
    assert not is_image_only(page(list("Kế hoạch số 12/KH-UBND"), 1))  # text over a letterhead picture
    assert is_image_only(page(["(cid:12)"] * 30 + list("abc"), 0))  # a font without a Unicode map
