"""Read plan files (.txt, .md, .docx, .pdf) into raw text lines.

Errors are raised as ``IngestError`` with a Vietnamese message naming the reason; the caller
adds the file name. Parsing is bounded (``LoadLimits``): a .docx is checked for its unpacked size
and number of entries before anything is unpacked, a PDF for its size and page count, a scan for
the number of pages to recognise.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.model import IngestError

if TYPE_CHECKING:
    from ingest.pdf_layout import PageItems

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
MB = 1024 * 1024

PageProgress = Callable[[int, int], None]  # (pages done, pages to do) while a scan is recognised


@dataclass(frozen=True)
class LoadLimits:
    """Bounds on what one file may cost; the caller (the pipeline) fills them from the settings."""

    max_unpacked_mb: float = 200.0  # .docx: sum of the uncompressed sizes of its zip entries
    max_zip_entries: int = 2000
    max_pdf_mb: float = 100.0
    max_pdf_pages: int = 300
    ocr: bool = True  # recognise image-only pages (Tesseract) instead of refusing them
    max_ocr_pages: int = 60
    ocr_min_confidence: float = 70.0  # pages below are flagged
    ocr_dpi: int = 300
    ocr_cache_dir: Path | None = None  # OCR results by the file's sha256; None = no cache
    ocr_jobs: int = 2  # pages recognised at once


@dataclass
class LoadedText:
    lines: list[str]
    pages: list[int | None]  # page of every line (PDF only)
    encoding: str
    page_count: int | None = None  # PDF
    ocr_pages: list[int] = field(default_factory=list)  # pages read by OCR
    ocr_confidence: dict[int, float] = field(default_factory=dict)  # page -> mean word confidence (0..100)
    low_confidence_pages: list[int] = field(default_factory=list)  # OCR pages below the threshold
    ocr_seconds: float = 0.0

    @property
    def ocr(self) -> bool:
        return bool(self.ocr_pages)


def load_file(path: Path, limits: LoadLimits | None = None, progress: PageProgress | None = None) -> LoadedText:
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
    limits = limits or LoadLimits()
    if suffix == ".docx":
        loaded = _load_docx(data, limits)
    elif suffix == ".pdf":
        loaded = _load_pdf(data, limits, progress)
    else:
        _refuse_binary(data)
        text, encoding = decode_text(data)
        lines = text.splitlines()
        loaded = LoadedText(lines, [None] * len(lines), encoding)
    if not any(line.strip() for line in loaded.lines):
        raise IngestError("tệp không có nội dung văn bản")
    return loaded


# --- binary files under a text name -------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "chương trình (ELF)"),
    (b"MZ", "chương trình Windows (.exe/.dll)"),
    (b"\xcf\xfa\xed\xfe", "chương trình (Mach-O)"),
    (b"\xfe\xed\xfa", "chương trình (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "chương trình (Mach-O/Java)"),
    (b"#!", ""),  # a script is text
    (b"%PDF", "tài liệu PDF (hãy dùng đuôi .pdf)"),
    (b"PK\x03\x04", "tệp nén ZIP hoặc tài liệu Office (.docx/.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "tài liệu Office cũ (.doc/.xls)"),
    (b"\x89PNG", "ảnh PNG"),
    (b"\xff\xd8\xff", "ảnh JPEG"),
    (b"GIF8", "ảnh GIF"),
    (b"II*\x00", "ảnh TIFF"),
    (b"MM\x00*", "ảnh TIFF"),
    (b"\x1f\x8b", "tệp nén gzip"),
    (b"7z\xbc\xaf", "tệp nén 7z"),
    (b"Rar!", "tệp nén RAR"),
    (b"BZh", "tệp nén bzip2"),
    (b"\xfd7zXZ", "tệp nén xz"),
    (b"SQLite format 3", "cơ sở dữ liệu SQLite"),
)


def _refuse_binary(data: bytes) -> None:
    """A program, an image or an archive saved under a text name is refused as binary, by name,
    before any attempt to decode it (decoded binary can look like a legacy encoding)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            if what:
                raise IngestError(f"tệp nhị phân ({what}), không phải văn bản")
            return


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
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    if control > max(5, len(sample) // 50):  # binary first: decoded binary can look like TCVN3
        raise IngestError("tệp nhị phân, không phải văn bản")
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
    # Vietnamese text lives in Latin blocks plus a few symbols; decoded binary does not
    readable = sum(1 for ch in sample if ord(ch) < 0x2100 or ch in "≥≤≠→•…“”‘’–—")
    spaces = sum(ch.isspace() for ch in sample)
    wordless = len(sample) >= 100 and spaces < 0.03 * len(sample)
    if readable < 0.9 * len(sample) or wordless:
        raise IngestError("tệp nhị phân, không phải văn bản")
    return text, encoding


# --- Word ---------------------------------------------------------------------------------------


def _check_zip(data: bytes, limits: LoadLimits) -> None:
    """Refuse a zip bomb before unpacking anything: the central directory's entry count and sizes.

    ``zipfile`` never unpacks more than an entry's declared size, so the declared sizes bound what
    python-docx can read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise IngestError("tệp .docx bị hỏng hoặc không phải tài liệu Word") from exc
    if len(entries) > limits.max_zip_entries:
        raise IngestError(
            f"tệp .docx chứa {len(entries)} thành phần, vượt giới hạn {limits.max_zip_entries}; "
            "có thể là tệp nén độc hại (zip bomb)"
        )
    unpacked = sum(max(0, e.file_size) for e in entries)
    if unpacked > limits.max_unpacked_mb * MB:
        raise IngestError(
            f"tệp .docx khi giải nén lên tới {unpacked / MB:,.0f} MB, vượt giới hạn {limits.max_unpacked_mb:g} MB; "
            "có thể là tệp nén độc hại (zip bomb)"
        )


def _load_docx(data: bytes, limits: LoadLimits) -> LoadedText:
    import docx
    from docx.document import Document as DocumentObject

    from ingest.docx_tables import read_body

    _check_zip(data, limits)
    try:
        document: DocumentObject = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError("tệp .docx bị hỏng hoặc không phải tài liệu Word") from exc
    except Exception as exc:  # python-docx raises many lxml/opc errors for corrupt files
        raise IngestError(f"tệp .docx bị hỏng ({type(exc).__name__})") from exc
    lines, pages = read_body(document.element.body)
    return LoadedText(lines, pages, "docx")


# --- PDF ----------------------------------------------------------------------------------------


def _load_pdf(data: bytes, limits: LoadLimits, progress: PageProgress | None) -> LoadedText:
    import logging

    import pdfplumber

    from ingest.pdf_layout import assemble, is_image_only, read_page

    for name in ("pdfminer", "pypdf", "pdfplumber"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError("tệp không phải PDF hợp lệ")
    if len(data) > limits.max_pdf_mb * MB:
        raise IngestError(f"tệp PDF {len(data) / MB:,.1f} MB, vượt giới hạn {limits.max_pdf_mb:g} MB")
    count = _pdf_page_count(data)
    if count > limits.max_pdf_pages:
        raise IngestError(f"tệp PDF có {count} trang, vượt giới hạn {limits.max_pdf_pages} trang")
    pages: list[PageItems | None] = []
    scanned: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index, page in enumerate(pdf.pages):
                if is_image_only(page):
                    scanned.append(index)
                    pages.append(None)
                else:
                    pages.append(read_page(page, index + 1))
                page.close()
    except IngestError:
        raise
    except Exception as exc:  # pdfminer surfaces corrupt streams as assorted errors
        raise IngestError("tệp PDF bị hỏng hoặc không đọc được") from exc
    loaded = LoadedText([], [], "pdf", page_count=len(pages))
    if scanned:
        _ocr_into(data, scanned, pages, limits, progress, loaded)
    read = [p for p in pages if p is not None]
    loaded.lines, loaded.pages = assemble(read)
    if not any(line.strip() for line in loaded.lines):
        raise IngestError("PDF không có lớp văn bản (có thể là bản quét); cần nhận dạng ký tự (OCR) trước")
    return loaded


def _pdf_page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium refuses what it cannot repair
        raise IngestError("tệp PDF bị hỏng hoặc không đọc được") from exc
    try:
        return len(document)
    finally:
        document.close()


def _ocr_into(
    data: bytes, scanned: list[int], pages: list[PageItems | None], limits: LoadLimits,
    progress: PageProgress | None, loaded: LoadedText,
) -> None:
    """Recognise the image-only pages (all of a scan, or the signed last page of a printed plan)."""
    from ingest import ocr

    if not limits.ocr:
        if len(scanned) == len(pages):
            raise IngestError("PDF không có lớp văn bản (bản quét) và chức năng nhận dạng ký tự (OCR) đang tắt")
        return
    if len(scanned) > limits.max_ocr_pages:
        raise IngestError(
            f"bản quét có {len(scanned)} trang cần nhận dạng ký tự (OCR), vượt giới hạn {limits.max_ocr_pages} trang"
        )
    missing = ocr.missing_engine()
    if missing:
        raise IngestError(f"PDF không có lớp văn bản (bản quét) nhưng máy chủ chưa cài {missing} để nhận dạng (OCR)")
    result = ocr.ocr_pdf_pages(
        data, scanned, dpi=limits.ocr_dpi, cache_dir=limits.ocr_cache_dir, progress=progress, jobs=limits.ocr_jobs
    )
    for index, page in zip(scanned, result.pages, strict=True):
        pages[index] = page
        loaded.ocr_pages.append(index + 1)
        if page.confidence is not None:
            loaded.ocr_confidence[index + 1] = round(page.confidence, 1)
            if page.confidence < limits.ocr_min_confidence:
                loaded.low_confidence_pages.append(index + 1)
    loaded.ocr_seconds = result.seconds
