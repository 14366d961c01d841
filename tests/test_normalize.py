"""Normalization, with examples taken from the corpus: lost 'e' repaired, LaTeX and markdown
removed, NFC, words that must not change, folding, and noise lines (page numbers) dropped."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from core.normalize import (
    drop_noise_lines,
    fold,
    is_vietnamese_syllable,
    normalize_dashes,
    normalize_line,
    strip_diacritics,
    words,
)
from ingest.parse import parse_file

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
VU_QUANG = PLANS / "xa-vu-quang-ha-tinh-nq57-2026.txt"
PHUOC_AN = PLANS / "xa-phuoc-an-dong-nai-nq57-2026.txt"


def raw_line(path: Path, no: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[no - 1]


# --- lost letters (a PDF extraction dropped every 'e') ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("xã th o quy định", "xã theo quy định"),
        ("biểu dương, kh n thưởng, tôn vinh", "biểu dương, khen thưởng, tôn vinh"),
        ("hạ tầng viễn thông, int rn t đáp ứng", "hạ tầng viễn thông, internet đáp ứng"),
        ("đặc biệt là trẻ  m, thanh thiếu niên", "đặc biệt là trẻ em, thanh thiếu niên"),
        ("liên thông dữ liệu Sổ sức khỏ  điện tử, bác", "liên thông dữ liệu Sổ sức khỏe điện tử, bác"),
        ("Sổ sức khỏ  điện tử", "Sổ sức khỏe điện tử"),
        ("Th o dõi, đánh giá", "Theo dõi, đánh giá"),
    ],
)
def test_lost_e_is_repaired(line: str, expected: str) -> None:
    assert normalize_line(line) == expected


@pytest.mark.parametrize(
    ("path", "no", "broken", "repaired"),
    [
        (VU_QUANG, 214, " th o quy định", " theo quy định"),
        (VU_QUANG, 234, "kh n thưởng", "khen thưởng"),
        (VU_QUANG, 434, "int rn t", "internet"),
        (VU_QUANG, 583, "trẻ  m", "trẻ em"),
        (VU_QUANG, 619, "Sổ sức khỏ  điện tử", "Sổ sức khỏe điện tử"),
        (VU_QUANG, 844, "hồ sơ sức khỏ  điện tử", "hồ sơ sức khỏe điện tử"),
    ],
)
def test_lost_e_in_the_real_plan_lines(path: Path, no: int, broken: str, repaired: str) -> None:
    line = raw_line(path, no)
    assert broken in line  # the corpus really has the defect on that line
    fixed = normalize_line(line)
    assert repaired in fixed
    assert broken not in fixed


def test_the_whole_vu_quang_plan_has_no_lost_e_left() -> None:
    doc = parse_file(VU_QUANG)
    text = "\n".join(line.text for line in doc.lines)
    for broken in (" th o ", "kh n thưởng", "int rn t", "trẻ  m", "khỏ  điện"):
        assert broken not in text
    assert text.count("khen thưởng") >= 4
    assert "internet" in text


@pytest.mark.parametrize(
    "line",
    [
        "trong xã với tỉnh và với các",
        "Tháng 5",
        "Phòng VH-XH",
        "Phòng VHXH",
        "VP HĐND-UBND, các đơn vị",
        "TT PVHCC",
        "Quý III/2026",
        "Số: 128 /KH-UBND",
        "Lưu: VT, VHXXH.",
        "Kế hoạch số 469-KH/TU ngày 16/5/2025",
        "Căn cứ Nghị quyết số 57-NQ/TW",
        "an ninh mạng, email, website của xã",
        "mô hình OCOP 3 sao",
        "ứng dụng VNeID",
        "Chỉ số PII",
        "Trung tâm Phục vụ Hành chính công",
        "ưu tiên, khai thác hiệu quả tiềm năng",
        "xe điện, đi xe buýt",
    ],
)
def test_words_that_must_not_change(line: str) -> None:
    assert normalize_line(line) == line


def test_double_space_between_real_words_is_just_collapsed() -> None:
    # line 396 of Vũ Quang: 'và  với' are two words, not a lost 'e'
    line = raw_line(VU_QUANG, 396)
    assert "và  với" in line
    assert "và với" in normalize_line(line)
    assert "vàe" not in normalize_line(line) and "evới" not in normalize_line(line)


@pytest.mark.parametrize(
    "stem",
    [
        "xa-ha-dong-hai-phong-xa-doi-moi-sang-tao-2026-2030",
        "xa-hoa-dien-an-giang-kh128-pii-2026",
        "xa-phuoc-an-dong-nai-nq57-2026",
        "xa-vinh-thuan-an-giang-pii-2026",
    ],
)
def test_no_word_of_a_clean_plan_is_changed(stem: str) -> None:
    """These plans have no lost letters: normalizing must keep every word of every line."""
    for no, raw in enumerate((PLANS / f"{stem}.txt").read_text(encoding="utf-8").splitlines(), start=1):
        if "$" in raw:  # LaTeX becomes symbols
            continue
        assert words(normalize_line(raw)) == words(unicodedata.normalize("NFC", raw)), (stem, no, raw)


@pytest.mark.parametrize(
    ("syllable", "ok"),
    [("theo", True), ("khen", True), ("khỏe", True), ("nghiêng", True), ("th", False), ("int", False),
     ("rn", False), ("m", False), ("xyz", False), ("123", False)],
)
def test_syllable_check(syllable: str, ok: bool) -> None:
    assert is_vietnamese_syllable(syllable) is ok


# --- LaTeX, markdown, NFC, spaces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (r"$\geq 10\%$", "≥ 10%"),
        (r"| 15 | Tỷ lệ doanh nghiệp | % | $\geq 10\%$ | Phòng VHXH |", "| 15 | Tỷ lệ doanh nghiệp | % | ≥ 10% | Phòng VHXH |"),
        (r"$\leq 5\%$ hộ", "≤ 5% hộ"),
        (r"$100\%$", "100%"),
        (r"$\text{đạt } 90\%$", "đạt 90%"),
        ("**bold**", "bold"),
        ("Đảm bảo **định lượng được, dễ đo lường**.", "Đảm bảo định lượng được, dễ đo lường."),
        ("**ỦY BAN NHÂN DÂN", "ỦY BAN NHÂN DÂN"),
        ("XÃ PHƯỚC AN**", "XÃ PHƯỚC AN"),
        ("Nơi nhận: *Luot*", "Nơi nhận: Luot"),
        ("  nhiều   khoảng\u00a0trắng  ", "nhiều khoảng trắng"),
        ("\ufeffKẾ HOẠCH", "KẾ HOẠCH"),
        ("a\t b \t\tc\t\t", "a\tb\t\tc"),  # tabs separate table cells and are kept
    ],
)
def test_line_normalization(line: str, expected: str) -> None:
    assert normalize_line(line) == expected


def test_latex_of_the_phuoc_an_target_table() -> None:
    line = raw_line(PHUOC_AN, 78)
    assert r"$\geq 10\%$" in line
    assert "≥ 10%" in normalize_line(line)
    assert "$" not in normalize_line(line) and "\\" not in normalize_line(line)


def test_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Phòng Văn hóa – Xã hội tổ chức tập huấn")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert normalize_line(decomposed) == "Phòng Văn hóa – Xã hội tổ chức tập huấn"
    assert unicodedata.is_normalized("NFC", normalize_line(decomposed))


def test_normalize_keeps_line_count_and_numbers() -> None:
    doc = parse_file(VU_QUANG)
    raw = VU_QUANG.read_text(encoding="utf-8").splitlines()
    for line in doc.lines:
        assert line.raw == raw[line.no - 1].rstrip("\r\n")


def test_dashes_for_matching_only() -> None:
    assert normalize_dashes("Phòng Văn hóa – Xã hội — VH−XH") == "Phòng Văn hóa - Xã hội - VH-XH"
    assert normalize_line("Phòng Văn hóa – Xã hội") == "Phòng Văn hóa – Xã hội"  # displayed text keeps its dash


# --- folding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Phòng Văn hóa – Xã hội", "phong van hoa xa hoi"),
        ("ĐỒNG NAI", "dong nai"),
        ("Vĩnh Thuận", "vinh thuan"),
        ("Hòa Điền, ngày 20/5/2026!", "hoa dien ngay 20 5 2026"),
        ("Quý III/2026", "quy iii 2026"),
        ("  Sổ   sức khỏe  ", "so suc khoe"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(folded) == folded  # idempotent


def test_strip_diacritics_keeps_case() -> None:
    assert strip_diacritics("Phòng Văn hóa Đông") == "Phong Van hoa Dong"


def test_fold_matches_text_typed_without_diacritics() -> None:
    assert fold("O xa Vu Quang, don vi nao chu tri?") == fold("Ở xã Vũ Quang, đơn vị nào chủ trì?")


# --- noise lines -------------------------------------------------------------------------------------------


def test_page_numbers_are_dropped_but_table_row_numbers_kept() -> None:
    lines = [
        "Nội dung trang một.",
        "",
        "",
        "2",  # a page number: stands apart
        "STT Nhiệm vụ",
        "1",  # a table row number: right after content
        "Tuyên truyền về chuyển đổi số",
        "",
        "2",  # one blank line only: still a row
        "Tập huấn kỹ năng số",
        "",
        "",
        "- 3 -",
        "Tiếp tục nội dung.",
        "",
        "",
        "Trang 4",
        "Kết thúc.",
    ]
    keep = drop_noise_lines(lines)
    dropped = [line for line, k in zip(lines, keep, strict=True) if not k]
    assert dropped == ["2", "- 3 -", "Trang 4"]
    assert keep[5] and keep[8]


def test_a_bare_number_on_the_first_line_is_a_page_number() -> None:
    assert drop_noise_lines(["1", "KẾ HOẠCH"]) == [False, True]


def test_noise_lines_of_the_flattened_pdf_exports() -> None:
    """Vũ Quang line 88 is a page number ('2 ' after three blank lines): dropped. Vĩnh Thuận's
    appendix rows start with bare row numbers ('1' on line 289): kept, like Vũ Quang's years."""
    vu_quang = parse_file(VU_QUANG)
    assert raw_line(VU_QUANG, 88).strip() == "2"
    assert 88 not in {line.no for line in vu_quang.lines}
    assert len(vu_quang.lines) == len(VU_QUANG.read_text(encoding="utf-8").splitlines()) - 1
    assert {(line.no, line.text) for line in vu_quang.lines} >= {(791, "2026"), (823, "2")}

    vinh_thuan = parse_file(PLANS / "xa-vinh-thuan-an-giang-pii-2026.txt")
    rows = {line.no: line.text for line in vinh_thuan.lines if line.text.isdigit()}
    assert rows[289] == "1" and rows[303] == "2"
    assert len(vinh_thuan.lines) == 587  # nothing dropped


def test_folding_many_long_texts_keeps_few_of_them() -> None:
    """Questions over 1,000 plans fold every fact's text: words stay cached, long texts only a few thousand."""
    from core import normalize

    normalize.fold("Phòng Văn hóa - Xã hội")
    words_before = normalize._folded.short.cache_info().currsize
    texts = [f"Tỷ lệ hồ sơ thủ tục hành chính được giải quyết trực tuyến toàn trình số {i} năm 2026" for i in range(6000)]
    assert all(fold(text) == strip_diacritics(text).lower().replace(" - ", " ") for text in texts[:3])
    for text in texts:
        fold(text)
    assert normalize._folded.long.cache_info().currsize <= 4096
    assert normalize._folded.short.cache_info().currsize == words_before
    assert fold("Phòng Văn hóa - Xã hội") == "phong van hoa xa hoi"
