"""Loaders: text encodings (UTF-8 ± BOM, UTF-16 LE/BE, Windows-1258), legacy TCVN3/VNI rejected,
.md, .docx (paragraphs, tables, merged cells), .pdf (a real, hand-built PDF with a text layer), and
bad input, each refused with a Vietnamese ``IngestError``."""

from __future__ import annotations

import io
import os
import random
import unicodedata
import zipfile
from pathlib import Path

import pytest

from core.model import IngestError
from ingest.loaders import decode_text, load_file
from ingest.parse import parse_file

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
HOA_DIEN = PLANS / "xa-hoa-dien-an-giang-kh128-pii-2026.txt"

# Every Vietnamese vowel shape and tone, capitals, đ, and punctuation found in plans.
SAMPLE = "\n".join(
    [
        "ỦY BAN NHÂN DÂN XÃ HÒA ĐIỀN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 128 /KH-UBND",
        "Hòa Điền, ngày 20 tháng 5 năm 2026",
        "Triển khai thực hiện Cải thiện và nâng cao Chỉ số đổi mới sáng tạo năm 2026",
        "ă ằ ắ ẳ ẵ ặ â ầ ấ ẩ ẫ ậ ê ề ế ể ễ ệ ô ồ ố ổ ỗ ộ ơ ờ ớ ở ỡ ợ ư ừ ứ ử ữ ự",
        "à á ả ã ạ è é ẻ ẽ ẹ ì í ỉ ĩ ị ò ó ỏ õ ọ ù ú ủ ũ ụ ỳ ý ỷ ỹ ỵ đ Đ",
        "Phòng Văn hóa - Xã hội; Trung tâm Phục vụ Hành chính công (TT PVHCC).",
    ]
)
SAMPLE_LINES = SAMPLE.split("\n")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- encoders for test data ---------------------------------------------------------------------

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter (ă â ê ô ơ ư đ) + a combining tone."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        tones = "".join(c for c in decomposed if c in _TONES)
        out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


_TCVN3 = {
    "à": "µ", "á": "¸", "ả": "¶", "ã": "·", "ạ": "¹", "ă": "¨", "ằ": "»", "ắ": "¾", "ẳ": "¼", "ẵ": "½",
    "ặ": "Æ", "â": "©", "ầ": "Ç", "ấ": "Ê", "ẩ": "È", "ẫ": "É", "ậ": "Ë", "đ": "®", "è": "Ì", "é": "Ð",
    "ẻ": "Î", "ẽ": "Ï", "ẹ": "Ñ", "ê": "ª", "ề": "Ò", "ế": "Õ", "ể": "Ó", "ễ": "Ô", "ệ": "Ö", "ì": "×",
    "í": "Ý", "ỉ": "Ø", "ĩ": "Ü", "ị": "Þ", "ò": "ß", "ó": "ã", "ỏ": "á", "õ": "â", "ọ": "ä", "ô": "«",
    "ồ": "å", "ố": "è", "ổ": "æ", "ỗ": "ç", "ộ": "é", "ơ": "¬", "ờ": "ê", "ớ": "í", "ở": "ë", "ỡ": "ì",
    "ợ": "î", "ù": "ï", "ú": "ó", "ủ": "ñ", "ũ": "ò", "ụ": "ô", "ư": "\xad", "ừ": "õ", "ứ": "ø", "ử": "ö",
    "ữ": "÷", "ự": "ù", "ỳ": "ú", "ý": "ý", "ỷ": "û", "ỹ": "ü", "ỵ": "þ",
}
_TCVN3_CAPS = {"Ă": "¡", "Â": "¢", "Đ": "§", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦"}


def encode_tcvn3(text: str) -> bytes:
    """TCVN3 (ABC, .VnTime fonts): capitals with tones share the lower-case codes (.VnTimeH)."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(_TCVN3_CAPS.get(ch) or _TCVN3.get(ch) or _TCVN3.get(ch.lower()) or ch)
    return "".join(out).encode("cp1252", errors="replace")


_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_HAT = {"\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä", None: "â"}
_VNI_BREVE = {"\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë", None: "ê"}
_VNI_I = {"\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}


def encode_vni(text: str) -> bytes:
    """VNI-Windows: a base letter followed by a mark character ('Vieät Nam')."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        lower = ch.lower()
        decomposed = unicodedata.normalize("NFD", lower)
        base, marks = decomposed[0], decomposed[1:]
        tone = next((m for m in marks if m in _TONES), None)
        if lower == "đ":
            s = "ñ"
        elif not marks:
            s = lower
        elif "\u031b" in marks:  # horn: ơ ư
            s = ("ô" if base == "o" else "ö") + (_VNI_TONE[tone] if tone else "")
        elif "\u0302" in marks:
            s = base + _VNI_HAT[tone]
        elif "\u0306" in marks:
            s = base + _VNI_BREVE[tone]
        elif base == "i":
            s = _VNI_I[tone]
        elif base == "y" and tone == "\u0323":
            s = "î"
        else:
            s = base + _VNI_TONE[tone]
        out.append(s.upper() if ch != lower else s)
    return "".join(out).encode("cp1252", errors="replace")


def test_test_encoders_match_known_legacy_spellings() -> None:
    assert encode_tcvn3("Cộng hoà xã hội chủ nghĩa Việt Nam") == "Céng hoµ x· héi chñ nghÜa ViÖt Nam".encode("latin-1")
    assert encode_vni("Cộng hòa xã hội chủ nghĩa Việt Nam") == "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam".encode("latin-1")


# --- text encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("utf8.txt", SAMPLE.encode("utf-8"), "utf-8"),
        ("utf8-bom.txt", b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8-sig"),
        ("utf8-crlf.txt", SAMPLE.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
        ("utf16le-bom.txt", b"\xff\xfe" + SAMPLE.encode("utf-16-le"), "utf-16"),
        ("utf16be-bom.txt", b"\xfe\xff" + SAMPLE.encode("utf-16-be"), "utf-16"),
        ("utf16le.txt", SAMPLE.encode("utf-16-le"), "utf-16-le"),
        ("utf16be.txt", SAMPLE.encode("utf-16-be"), "utf-16-be"),
        ("cp1258.txt", encode_cp1258(SAMPLE), "windows-1258"),
        ("cp1258.md", encode_cp1258(SAMPLE), "windows-1258"),
    ],
)
def test_text_encodings_decode_to_the_same_nfc_text(tmp_path: Path, name: str, data: bytes, encoding: str) -> None:
    loaded = load_file(write(tmp_path, name, data))
    assert loaded.encoding == encoding
    assert loaded.lines == SAMPLE_LINES
    assert all(unicodedata.is_normalized("NFC", line) for line in loaded.lines)
    assert loaded.pages == [None] * len(SAMPLE_LINES)


def test_cp1258_bytes_really_use_combining_tones() -> None:
    data = encode_cp1258("Việt")
    assert b"\xea\xf2" in data  # 'ê' + combining dot below, as Windows-1258 writes 'ệ'
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_the_whole_corpus_plan_survives_a_round_trip_through_every_encoding(tmp_path: Path) -> None:
    text = HOA_DIEN.read_text(encoding="utf-8")
    expected = load_file(HOA_DIEN).lines
    for name, data in [
        ("bom.txt", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("le.txt", b"\xff\xfe" + text.encode("utf-16-le")),
        ("be.txt", b"\xfe\xff" + text.encode("utf-16-be")),
    ]:
        assert load_file(write(tmp_path, name, data)).lines == expected, name


def test_nfd_text_is_nfc_after_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "nfd.txt", unicodedata.normalize("NFD", SAMPLE).encode("utf-8"))
    doc = parse_file(path)
    assert [line.text for line in doc.lines] == [unicodedata.normalize("NFC", x) for x in SAMPLE_LINES]


@pytest.mark.parametrize(
    ("encoder", "label"),
    [(encode_tcvn3, "TCVN3"), (encode_vni, "VNI")],
)
def test_legacy_vietnamese_encodings_are_rejected_by_name(tmp_path: Path, encoder, label: str) -> None:
    # a real plan, as an old .VnTime / VNI-Times document would be saved
    path = write(tmp_path, "legacy.txt", encoder(HOA_DIEN.read_text(encoding="utf-8")))
    with pytest.raises(IngestError, match=label) as info:
        load_file(path)
    assert "Unicode" in str(info.value)  # tells the officer what to do


def test_tcvn3_header_block_is_rejected(tmp_path: Path) -> None:
    """The classic national motto written in TCVN3, as it heads every plan."""
    header = "Céng hoµ x· héi chñ nghÜa ViÖt Nam\n§éc lËp - Tù do - H¹nh phóc\n"
    path = write(tmp_path, "tcvn3.txt", (header * 12).encode("latin-1"))
    with pytest.raises(IngestError, match="TCVN3"):
        load_file(path)


def test_decode_text_accepts_plain_unicode_vietnamese() -> None:
    text, encoding = decode_text(HOA_DIEN.read_bytes())
    assert encoding == "utf-8"
    assert "Hòa Điền" in text


# --- markdown ---------------------------------------------------------------------------------------


def test_markdown_file(tmp_path: Path) -> None:
    md = (
        "**ỦY BAN NHÂN DÂN**\n**XÃ THỬ NGHIỆM**\n\n# KẾ HOẠCH\n\n"
        "| STT | Chỉ tiêu | Chỉ tiêu năm 2026 |\n|---|---|---|\n| 1 | Tỷ lệ hồ sơ trực tuyến | $\\geq 80\\%$ |\n"
    )
    path = write(tmp_path, "plan.md", md.encode("utf-8"))
    loaded = load_file(path)
    assert loaded.lines == md.split("\n")[:-1]
    doc = parse_file(path)
    texts = [line.text for line in doc.lines]
    assert texts[0] == "ỦY BAN NHÂN DÂN"
    assert "| 1 | Tỷ lệ hồ sơ trực tuyến | ≥ 80% |" in texts
    assert doc.lines[0].raw == "**ỦY BAN NHÂN DÂN**"  # citations keep the text as written


# --- Word -------------------------------------------------------------------------------------------


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("ỦY BAN NHÂN DÂN XÃ THỬ")
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Dòng một\nDòng hai của cùng đoạn")
    table = document.add_table(rows=3, cols=4)
    for i, head in enumerate(["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời gian"]):
        table.cell(0, i).text = head
    for i, cell in enumerate(["1", "Tập huấn   kỹ năng số\ncho người dân", "Phòng Văn hóa - Xã hội", "Quý II/2026"]):
        table.cell(1, i).text = cell
    table.cell(2, 0).text = "2"
    merged = table.cell(2, 1).merge(table.cell(2, 3))
    merged.text = "Nội dung gộp ba ô"
    document.add_paragraph("V. TỔ CHỨC THỰC HIỆN")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_table_rows(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "plan.docx", make_docx()))
    assert loaded.encoding == "docx"
    assert loaded.lines == [
        "ỦY BAN NHÂN DÂN XÃ THỬ",
        "KẾ HOẠCH",
        "Dòng một",
        "Dòng hai của cùng đoạn",
        "STT\tNhiệm vụ\tĐơn vị chủ trì\tThời gian",
        "1\tTập huấn kỹ năng số cho người dân\tPhòng Văn hóa - Xã hội\tQuý II/2026",
        "2\tNội dung gộp ba ô\t\t",  # a merged cell appears once, in its first column
        "",
        "V. TỔ CHỨC THỰC HIỆN",
    ]


def test_docx_upper_case_suffix(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "PLAN.DOCX", make_docx())).lines[0] == "ỦY BAN NHÂN DÂN XÃ THỬ"


# --- PDF --------------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF, written by hand: one Helvetica font whose ToUnicode CMap maps the bytes we use
    for Vietnamese letters, and one text object per page (one line per ``T*``)."""
    specials = sorted({ch for page in pages for line in page for ch in line if ord(ch) > 126})
    assert len(specials) <= 127
    code = {ch: 128 + i for i, ch in enumerate(specials)}

    def hexstring(line: str) -> str:
        return bytes(code.get(ch, ord(ch)) for ch in line).hex().upper()

    bfchar = "".join(f"<{c:02X}> <{ord(ch):04X}>\n" for ch, c in code.items())
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        "1 beginbfrange\n<20> <7E> <0020>\nendbfrange\n"
        + (f"{len(code)} beginbfchar\n{bfchar}endbfchar\n" if code else "")
        + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")

    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in below)

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    to_unicode = add(stream(cmap))
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode %d 0 R >>" % to_unicode)
    kids = []
    for page in pages:
        ops = ["BT /F1 11 Tf 14 TL 56 780 Td"] + [f"<{hexstring(line)}> Tj T*" for line in page] + ["ET"]
        contents = add(stream("\n".join(ops).encode("ascii")))
        kids.append(
            add(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, contents)
            )
        )
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{k} 0 R" for k in kids).encode(), len(kids))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF_PAGES = [
    ["ỦY BAN NHÂN DÂN XÃ THỬ", "KẾ HOẠCH", "Nâng cao Chỉ số đổi mới sáng tạo năm 2026"],
    ["I. MỤC ĐÍCH, YÊU CẦU", "Tập huấn kỹ năng số cho người dân."],
    ["II. TỔ CHỨC THỰC HIỆN", "Phòng Văn hóa - Xã hội chủ trì."],
]


def test_pdf_text_layer_and_page_numbers(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "plan.pdf", make_pdf(PDF_PAGES)))
    assert loaded.encoding == "pdf"
    pairs = [(line, page) for line, page in zip(loaded.lines, loaded.pages, strict=True) if line.strip()]
    assert pairs == [(line, number) for number, page in enumerate(PDF_PAGES, start=1) for line in page]


def test_pdf_pages_reach_the_parsed_document(tmp_path: Path) -> None:
    doc = parse_file(write(tmp_path, "plan.pdf", make_pdf(PDF_PAGES)))
    page_of = {line.text: line.page for line in doc.lines if line.text}
    assert page_of["KẾ HOẠCH"] == 1
    assert page_of["Tập huấn kỹ năng số cho người dân."] == 2
    assert page_of["Phòng Văn hóa - Xã hội chủ trì."] == 3
    assert doc.sections[[line.text for line in doc.lines].index("Phòng Văn hóa - Xã hội chủ trì.")] == (
        "II. TỔ CHỨC THỰC HIỆN",
    )


def test_pdf_running_header_repeated_on_every_page_is_dropped(tmp_path: Path) -> None:
    pages = [["UBND XÃ THỬ - KẾ HOẠCH 2026", f"Nội dung riêng của trang {n}"] for n in range(1, 5)]
    loaded = load_file(write(tmp_path, "running.pdf", make_pdf(pages)))
    kept = [line for line in loaded.lines if line.strip()]
    assert kept == [f"Nội dung riêng của trang {n}" for n in range(1, 5)]
    assert [p for line, p in zip(loaded.lines, loaded.pages, strict=True) if line.strip()] == [1, 2, 3, 4]


def test_pdf_without_text_layer_asks_for_ocr(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="OCR"):
        load_file(write(tmp_path, "scan.pdf", make_pdf([[], []])))


# --- bad input ----------------------------------------------------------------------------------------


def _random_bytes(n: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.randrange(256) for _ in range(n))


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "không phải tài liệu Word")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "tệp rỗng"),
        ("blank.md", b"  \r\n\t\n  ", "tệp rỗng"),
        ("binary.pdf", _random_bytes(3000), "không phải PDF hợp lệ"),
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + _random_bytes(500), "không phải PDF hợp lệ"),
        ("broken.pdf", b"%PDF-1.4\n" + _random_bytes(3000), "PDF bị hỏng"),
        ("random.docx", _random_bytes(3000), ".docx bị hỏng"),
        ("truncated.docx", make_docx()[:1500], ".docx bị hỏng"),
        ("notword.docx", _plain_zip(), ".docx bị hỏng"),
        ("binary.txt", _random_bytes(3000), "nhị phân"),
        ("nulls.md", b"\x00\x01\x02\x03" * 400, "nhị phân"),
        ("table.xlsx", b"PK\x03\x04", "không được hỗ trợ"),
        ("plan.doc", b"\xd0\xcf\x11\xe0", "không được hỗ trợ"),
        ("README", b"text", "không có đuôi"),
    ],
)
def test_bad_files_raise_a_vietnamese_ingest_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        load_file(write(tmp_path, name, data))


def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    data = make_pdf(PDF_PAGES)
    with pytest.raises(IngestError, match="PDF"):
        load_file(write(tmp_path, "cut.pdf", data[: len(data) // 3]))


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "ke-hoach.txt"
    folder.mkdir()
    with pytest.raises(IngestError, match="thư mục"):
        load_file(folder)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="không tìm thấy tệp"):
        load_file(tmp_path / "khong-co.txt")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.txt", SAMPLE.encode("utf-8"))
    path.chmod(0)
    try:
        with pytest.raises(IngestError, match="không đọc được tệp"):
            load_file(path)
    finally:
        path.chmod(0o644)


def test_only_blank_docx_has_no_text(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("   ")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(IngestError, match="không có nội dung"):
        load_file(write(tmp_path, "blank.docx", buffer.getvalue()))


def test_binary_that_decodes_as_utf16_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rac.txt"
    path.write_bytes(b"\x00\xff" * 200)
    with pytest.raises(IngestError, match="nhị phân"):
        load_file(path)
