"""Read plan files (.txt, .md, .docx, .pdf) into raw text lines.

Errors are raised as ``IngestError`` with a Vietnamese message naming the reason; the caller
adds the file name.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.model import IngestError

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


@dataclass
class LoadedText:
    lines: list[str]
    pages: list[int | None]  # page of every line (PDF only)
    encoding: str


def load_file(path: Path) -> LoadedText:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            f"định dạng '{suffix or '(không có đuôi)'}' không được hỗ trợ (chỉ nhận .txt, .md, .docx, .pdf)"
        )
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise IngestError("đây là thư mục, không phải tệp") from exc
    except FileNotFoundError as exc:
        raise IngestError("không tìm thấy tệp") from exc
    except PermissionError as exc:
        raise IngestError("không có quyền đọc tệp") from exc
    except OSError as exc:
        raise IngestError("không đọc được tệp (lỗi hệ thống tệp)") from exc
    if not data.strip():
        raise IngestError("tệp rỗng")
    if suffix == ".docx":
        loaded = _load_docx(data)
    elif suffix == ".pdf":
        loaded = _load_pdf(data)
    else:
        text, encoding = decode_text(data)
        lines = text.splitlines()
        loaded = LoadedText(lines, [None] * len(lines), encoding)
    if not any(line.strip() for line in loaded.lines):
        raise IngestError("tệp không có nội dung văn bản")
    return loaded


# --- text encodings --------------------------------------------------------------------------

# Characters that TCVN3 (ABC) and VNI text show when read as a Windows code page. Legacy
# Vietnamese fonts put letters there; real Unicode Vietnamese text almost never has them.
_TCVN3_MARKERS = set("¸µ¶·¹¨¾»¼½Æ©ÊÇÈÉË®¬§¦Ñ×ÏÐ¢£¤¥")
_VNI_RE = re.compile(r"[aeiouyAEIOUY][ùøûõïÙØÛÕÏ]|[aâăeêoôơuư]ä|ñ[a-z]|[ÑñÔô][ùøûõï]")
_VIETNAMESE_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16, or Windows-1258.

    Text in the legacy TCVN3 (ABC) or VNI encodings is rejected with a message naming it.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(data[3:].decode("utf-8", errors="replace"), "utf-8-sig")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(data.decode("utf-16"), "utf-16")
    if b"\x00" in data[:4096]:
        even_nuls = data[0:4096:2].count(0)
        odd_nuls = data[1:4096:2].count(0)
        if odd_nuls > len(data[:4096]) // 4:
            return _checked(data.decode("utf-16-le", errors="replace"), "utf-16-le")
        if even_nuls > len(data[:4096]) // 4:
            return _checked(data.decode("utf-16-be", errors="replace"), "utf-16-be")
        raise IngestError("tệp nhị phân, không phải văn bản")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1258", errors="replace")
    return _checked(unicodedata.normalize("NFC", text), "windows-1258")


def _checked(text: str, encoding: str) -> tuple[str, str]:
    sample = text[:20000]
    vietnamese = sum(ch in _VIETNAMESE_LETTERS for ch in sample.lower())
    tcvn3 = sum(ch in _TCVN3_MARKERS for ch in sample)
    vni = len(_VNI_RE.findall(sample))
    if tcvn3 > 20 and tcvn3 > 2 * vietnamese:
        raise IngestError(
            "văn bản dùng bảng mã TCVN3 (ABC) cũ; hãy chuyển sang Unicode (ví dụ bằng Unikey) rồi tải lại"
        )
    if vni > 20 and vni > 2 * vietnamese:
        raise IngestError("văn bản dùng bảng mã VNI cũ; hãy chuyển sang Unicode (ví dụ bằng Unikey) rồi tải lại")
    if sample.count("\ufffd") > max(5, len(sample) // 100):
        raise IngestError("không nhận ra bảng mã của tệp (không phải UTF-8, UTF-16 hay Windows-1258)")
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    # Vietnamese text lives in Latin blocks plus a few symbols; decoded binary does not
    readable = sum(1 for ch in sample if ord(ch) < 0x2100 or ch in "≥≤≠→•…“”‘’–—")
    spaces = sum(ch.isspace() for ch in sample)
    wordless = len(sample) >= 100 and spaces < 0.03 * len(sample)
    if control > max(5, len(sample) // 50) or readable < 0.9 * len(sample) or wordless:
        raise IngestError("tệp nhị phân, không phải văn bản")
    return text, encoding


# --- Word ---------------------------------------------------------------------------------------


def _load_docx(data: bytes) -> LoadedText:
    import io

    import docx
    from docx.document import Document as DocumentObject
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document: DocumentObject = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError("tệp .docx bị hỏng hoặc không phải tài liệu Word") from exc
    except Exception as exc:  # python-docx raises many lxml/opc errors for corrupt files
        raise IngestError(f"tệp .docx bị hỏng ({type(exc).__name__})") from exc

    lines: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.extend(Paragraph(child, document).text.splitlines() or [""])
        elif child.tag == qn("w:tbl"):
            lines.extend(_table_rows(Table(child, document)))
            lines.append("")
    return LoadedText(lines, [None] * len(lines), "docx")


def _table_rows(table: object) -> list[str]:
    """Each row as one line of tab-separated cells; merged cells appear once."""
    rows: list[str] = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(cells))
    return rows


# --- PDF ----------------------------------------------------------------------------------------


def _load_pdf(data: bytes) -> LoadedText:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError("tệp không phải PDF hợp lệ")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf surfaces corrupt streams as assorted errors
        raise IngestError("tệp PDF bị hỏng hoặc không đọc được") from exc
    if not any(text.strip() for text in pages):
        raise IngestError("PDF không có lớp văn bản (có thể là bản quét); cần nhận dạng ký tự (OCR) trước")
    page_lines = [text.splitlines() for text in pages]
    repeated = _repeated_margins(page_lines)
    lines: list[str] = []
    line_pages: list[int | None] = []
    for number, plines in enumerate(page_lines, start=1):
        for line in plines:
            if " ".join(line.split()) in repeated:
                continue
            lines.append(line)
            line_pages.append(number)
    return LoadedText(lines, line_pages, "pdf")


def _repeated_margins(page_lines: list[list[str]]) -> set[str]:
    """Header/footer lines repeated at the top or bottom of most pages."""
    if len(page_lines) < 3:
        return set()
    counts: dict[str, int] = {}
    for plines in page_lines:
        stripped = [" ".join(line.split()) for line in plines if line.strip()]
        for line in set(stripped[:2] + stripped[-2:]):
            if not re.fullmatch(r"\d{1,3}", line):  # bare page numbers are handled elsewhere
                counts[line] = counts.get(line, 0) + 1
    return {line for line, n in counts.items() if n >= max(3, len(page_lines) // 2)}
