"""Scanned pages read offline: Tesseract (``vie``) on pages rendered by pdfium, tables rebuilt from the
ruling lines found in the image.

For every image-only page: render in grey at ``dpi`` (pypdfium2), estimate the skew by projection
profiles and rotate it straight, binarise (Otsu), find horizontal and vertical rules as long runs of
ink, erase them (Tesseract reads cells better without the grid), run ``tesseract … tsv`` for word
boxes and confidences, and hand the words and rules to ``ingest.pdf_layout.layout_items`` -- the same
table rebuilding as for PDFs with a text layer. A page's confidence is the mean word confidence.

Results are cached as JSON under ``cache_dir`` by the file's sha256 (and the OCR settings), so a scan is
recognised once. Pages run ``jobs`` at a time, each Tesseract single-threaded (OMP_THREAD_LIMIT=1) and
at a lower CPU priority, so questions keep being answered while a scan is read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.normalize import is_vietnamese_syllable
from ingest.grid import Segment, Table, Word, find_tables
from ingest.ocr_text import fix_diacritics, repair_line, repair_row_number
from ingest.pdf_layout import MIN_CELL_PT, PageItems, layout_items

LANG = "vie"
PSM = 4  # one column of text of varied sizes: keeps lone row numbers that --psm 3 drops as noise
CACHE_VERSION = 1
MIN_DPI = 200
TURN_BELOW = 60.0  # a page read with less confidence is checked for being sideways or upside down
DOUBT = 75.0  # a word Tesseract is less sure of than this may have its marks corrected
_TOKEN_RE = re.compile(r"[^\W\d_]+")
MEDIAN = False  # a 3x3 median removes specks but also thin strokes (the I of II, III)
OCR_RULE_TOL_PT = 3.0  # rules of a scan are uneven ...
OCR_RULE_GAP_PT = 8.0  # ... and broken here and there by the binarisation
MAX_PIXELS = 60_000_000  # a page rendered larger than this is rendered at a lower resolution
TESSERACT_TIMEOUT_S = 180

_ONE_LETTER_WORDS = set("ởýyàạ")  # the one-letter words of plans; other lone letters are specks
_render_lock = threading.Lock()  # pdfium is not thread-safe


@dataclass
class OcrResult:
    pages: list[PageItems]
    seconds: float
    cached: bool = False


def missing_engine() -> str | None:
    """What is missing to recognise Vietnamese, in Vietnamese words (None when all is there)."""
    if shutil.which("tesseract") is None:
        return "Tesseract (gói tesseract-ocr)"
    try:
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "Tesseract (gói tesseract-ocr)"
    if LANG not in langs.split():
        return "dữ liệu tiếng Việt của Tesseract (gói tesseract-ocr-vie)"
    return None


def ocr_pdf_pages(
    data: bytes,
    indexes: list[int],
    *,
    dpi: int = 300,  # the most: a scan is read at its own resolution, between MIN_DPI and this
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 2,
) -> OcrResult:
    """Recognise the pages ``indexes`` (0-based) of a PDF; pages come back in the same order."""
    started = time.perf_counter()
    key = f"{hashlib.sha256(data).hexdigest()}-{dpi}-{PSM}-{LANG}-v{CACHE_VERSION}"
    cache = _read_cache(cache_dir, key)
    todo = [i for i in indexes if str(i) not in cache]
    done = len(indexes) - len(todo)
    if progress:
        progress(done, len(indexes))
    if todo:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(_ocr_page, document, i, dpi): i for i in todo}
                for future in as_completed(futures):
                    cache[str(futures[future])] = future.result().to_json()
                    done += 1
                    if progress:
                        progress(done, len(indexes))
        finally:
            document.close()
        _write_cache(cache_dir, key, cache)
    pages = [PageItems.from_json(cache[str(i)]) for i in indexes]
    return OcrResult(pages, time.perf_counter() - started, cached=not todo)


def _read_cache(cache_dir: Path | None, key: str) -> dict[str, Any]:
    if cache_dir is None:
        return {}
    path = cache_dir / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_cache(cache_dir: Path | None, key: str, cache: dict[str, Any]) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".ocr-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(cache, out, ensure_ascii=False)
        os.replace(tmp, cache_dir / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time


# --- one page ---------------------------------------------------------------------------------------


def _ocr_page(document: Any, index: int, max_dpi: int) -> PageItems:
    with _render_lock:
        page = document[index]
        width, height = page.get_size()
        dpi = render_dpi(page, width, max_dpi)
        scale = dpi / 72
        if width * height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (width * height)) ** 0.5
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        page.close()
    return recognise_image(image, index + 1, dpi=scale * 72)


def render_dpi(page: Any, width_pt: float, max_dpi: int) -> int:
    """The scan's own resolution (its largest image's pixels over the page width), kept within
    [MIN_DPI, max_dpi]: rendering a 200 dpi scan at 300 dpi costs time and reads no better."""
    import pypdfium2.raw as pdfium_c

    best = 0.0
    try:
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
            pixels_wide = obj.get_px_size()[0]
            left, _, right, _ = obj.get_bounds()
            if right - left > 0.5 * width_pt:
                best = max(best, pixels_wide / ((right - left) / 72))
    except Exception:  # an odd image object: fall back to the maximum
        best = 0.0
    if best <= 0:
        return max_dpi
    return int(min(max_dpi, max(MIN_DPI, round(best))))


def recognise_image(image: Any, number: int, dpi: float, turned: bool = False) -> PageItems:
    """A page image (PIL, grey) -> its items: turned upright, deskewed, rules found and erased, words
    recognised. A page that reads badly is turned by Tesseract's orientation detection and read again
    (a landscape page scanned sideways, a sheet fed upside down)."""
    from PIL import Image, ImageFilter

    if not turned and looks_sideways(np.asarray(image, dtype=np.uint8)):
        rotation = osd_rotation(image)
        if rotation in (90, 270):
            image, turned = image.rotate(-rotation, expand=True, fillcolor=255), True
    grey = np.asarray(image, dtype=np.uint8)
    angle = estimate_skew(grey)
    if abs(angle) >= 0.05:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
        grey = np.asarray(image, dtype=np.uint8)
    ink = grey < otsu_threshold(grey)
    horizontal, vertical = rule_masks(ink, dpi)
    segments = mask_segments(horizontal, True) + mask_segments(vertical, False)
    cleaned = grey.copy()
    cleaned[_dilate(horizontal | vertical, 1)] = 255
    cleaned_image = Image.fromarray(cleaned, "L")
    if MEDIAN:
        cleaned_image = cleaned_image.filter(ImageFilter.MedianFilter(3))  # specks
    words = tesseract_words(cleaned_image, dpi, PSM)
    unit = dpi / 72
    tol, gap = OCR_RULE_TOL_PT * unit, OCR_RULE_GAP_PT * unit
    tables = find_tables(segments, tol=tol, gap=gap, min_size=MIN_CELL_PT * unit)
    words += _read_empty_number_cells(cleaned_image, tables, words, dpi)
    words = _reread_quarters(Image.fromarray(cleaned, "L"), tables, words, dpi)
    items = layout_items(number, words, segments, unit_per_pt=unit, rule_tol_pt=OCR_RULE_TOL_PT,
                         rule_gap_pt=OCR_RULE_GAP_PT)
    _repair(items)
    items.ocr = True
    weight = sum(len(w.text) for w in words)
    items.confidence = sum((w.conf or 0.0) * len(w.text) for w in words) / weight if weight else 0.0
    if not turned and items.confidence < TURN_BELOW:
        rotation = osd_rotation(image)
        if rotation in (90, 180, 270):
            again = recognise_image(image.rotate(-rotation, expand=True, fillcolor=255), number, dpi, turned=True)
            if (again.confidence or 0.0) > items.confidence:
                return again
    return items


def looks_sideways(grey: np.ndarray) -> bool:
    """Text lines run down the page: without the table rules, the ink gathers in columns (text lines
    read sideways) much more than in rows."""
    step = max(1, int(round(max(grey.shape) / 1000)))
    small = grey[::step, ::step]
    ink = small < otsu_threshold(small)
    if ink.sum() < 100:
        return False
    horizontal, vertical = rule_masks(ink, 200 / step)
    text = ink & ~horizontal & ~vertical

    def gathered(profile: np.ndarray) -> float:
        profile = profile.astype(np.float64)
        return float(np.sum(profile**2) / max(1.0, np.sum(profile)) / len(profile) * len(profile))

    return gathered(text.sum(axis=0)) > 1.3 * gathered(text.sum(axis=1))


def osd_rotation(image: Any) -> int:
    """Tesseract's orientation detection: the clockwise turn (0, 90, 180, 270) that makes the page
    upright, 0 when unsure."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "--psm", "0", "-l", "osd", "--dpi", "200"], input=buffer.getvalue(),
            capture_output=True, timeout=60, env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    text = done.stdout.decode("utf-8", "replace")
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    if not rotate or not confidence or float(confidence.group(1)) < 2.0:
        return 0
    return int(rotate.group(1)) % 360


# 'Quý', 'QUÝ', 'QuýII/2026' -- not 'QUYỀN', 'quyết'
_QUARTER_WORD_RE = re.compile(r"^Qu[ýy](?:$|[IVXlH1|/\[(.\d])", re.IGNORECASE)


def _reread_quarters(image: Any, tables: list[Table], words: list[Word], dpi: float) -> list[Word]:
    """Cells naming a quarter ('Quý II/2026') read again, enlarged twice: I, II and III differ by
    one thin stroke, the glyphs a scan blurs first."""
    from PIL import Image

    cells = []
    for table in tables:
        for cell in table.cells:
            inside = [w for w in words if cell.x0 <= w.cx <= cell.x1 and cell.top <= w.cy <= cell.bottom]
            if inside and len(inside) <= 12 and any(_QUARTER_WORD_RE.match(w.text) for w in inside):
                cells.append((cell, inside))
    if not cells:
        return words
    scale, gap = 2, int(0.15 * dpi) * 2
    crops = []
    for cell, _ in cells:
        box = (int(cell.x0) + 3, int(cell.top) + 3, int(cell.x1) - 3, int(cell.bottom) - 3)
        crop = image.crop(box)
        crops.append((crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.LANCZOS), box))
    strip = Image.new("L", (max(c.width for c, _ in crops) + 2 * gap, sum(c.height + gap for c, _ in crops) + gap), 255)
    offsets = []
    y = gap
    for crop, _ in crops:
        strip.paste(crop, (gap, y))
        offsets.append((y, y + crop.height))
        y += crop.height + gap
    found: dict[int, list[Word]] = {}
    for word in tesseract_words(strip, dpi * scale, 6):
        for k, ((start, end), (_, box)) in enumerate(zip(offsets, crops, strict=True)):
            if start <= word.cy <= end:
                def back(x: float, origin: int, shift: int) -> float:
                    return origin + (x - shift) / scale

                found.setdefault(k, []).append(Word(
                    word.text, back(word.x0, box[0], gap), back(word.x1, box[0], gap),
                    back(word.top, box[1], start), back(word.bottom, box[1], start), word.conf,
                ))
                break
    replaced: set[int] = set()
    out = list(words)
    for k, (_, inside) in enumerate(cells):
        again = found.get(k, [])
        if any(_QUARTER_WORD_RE.match(w.text) for w in again):
            replaced.update(id(w) for w in inside)
            out += again
    return [w for w in out if id(w) not in replaced]


_NUMBER_LIKE_RE = re.compile(r"[0-9IVXHl|]")


def _read_empty_number_cells(image: Any, tables: list[Table], words: list[Word], dpi: float) -> list[Word]:
    """Row numbers that the page reading missed (a lone digit in a narrow cell looks like noise):
    the first-column cells with ink but nothing like a number, read again together as one strip of
    crops (what was read there before is replaced)."""
    from PIL import Image

    grey = np.asarray(image, dtype=np.uint8)
    inset = int(0.03 * dpi)
    crops: list[tuple[Any, float, float]] = []
    for table in tables:
        if table.n_cols < 3:
            continue
        for cell in table.cells:
            if cell.col != 0 or cell.colspan != 1 or any(
                cell.x0 <= w.cx <= cell.x1 and cell.top <= w.cy <= cell.bottom and _NUMBER_LIKE_RE.search(w.text)
                for w in words
            ):
                continue
            x0, x1 = int(cell.x0) + inset, int(cell.x1) - inset
            top, bottom = int(cell.top) + inset, int(min(cell.bottom, cell.top + 0.6 * dpi)) - inset
            if x1 - x0 < 4 or bottom - top < 4:
                continue
            box = grey[top:bottom, x0:x1]
            if int((box < 128).sum()) < 0.0004 * dpi * dpi:  # blank: a row split by a page break
                continue
            crops.append((image.crop((x0, top, x1, bottom)), x0, top))
    if not crops:
        return []
    gap = int(0.15 * dpi)
    width = max(c.width for c, _, _ in crops) + 2 * gap
    height = sum(c.height + gap for c, _, _ in crops) + gap
    strip = Image.new("L", (width, height), 255)
    offsets: list[tuple[int, int]] = []
    y = gap
    for crop, _, _ in crops:
        strip.paste(crop, (gap, y))
        offsets.append((y, y + crop.height))
        y += crop.height + gap
    found: list[Word] = []
    for word in tesseract_words(strip, dpi, 6):
        if not _NUMBER_LIKE_RE.search(word.text):
            continue
        for (start, end), (_, crop_x0, crop_top) in zip(offsets, crops, strict=True):
            if start <= word.cy <= end:
                dx, dy = crop_x0 - gap, crop_top - start
                found.append(Word(word.text, word.x0 + dx, word.x1 + dx, word.top + dy, word.bottom + dy, word.conf))
                break
    return found


def _repair(page: PageItems) -> None:
    """OCR slips fixed in place (``ingest.ocr_text``): glued syllables, Roman numerals, row numbers."""
    for index, (top, item) in enumerate(page.items):
        if isinstance(item, str):
            page.items[index] = (top, repair_line(item))
            continue
        for cell in item.cells:
            cell.paragraphs = [repair_line(p) for p in cell.paragraphs]
            if cell.col == 0 and cell.colspan == 1 and item.n_cols >= 3:
                cell.paragraphs = [repair_row_number(p) for p in cell.paragraphs]


def otsu_threshold(grey: np.ndarray) -> int:
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cum = np.cumsum(hist)
    cum_mean = np.cumsum(hist * np.arange(256))
    mean = cum_mean[-1] / total
    between = (mean * cum - cum_mean) ** 2 / np.maximum(cum * (total - cum), 1e-9)
    return int(np.argmax(between))


def estimate_skew(grey: np.ndarray, limit: float = 5.0) -> float:
    """The rotation (degrees, counter-clockwise as PIL's ``rotate``) that makes the text lines level:
    the angle whose row profile of ink is sharpest, coarse then fine."""
    step = max(1, int(round(max(grey.shape) / 1000)))
    small = grey[::step, ::step]
    ys, xs = np.nonzero(small < otsu_threshold(small))
    if len(xs) < 100:
        return 0.0
    if len(xs) > 200_000:
        pick = np.random.default_rng(0).choice(len(xs), 200_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    xs = xs - xs.mean()
    ys = ys - ys.mean()

    def sharpness(angle: float) -> float:
        rad = np.deg2rad(angle)
        rows = np.round(ys * np.cos(rad) - xs * np.sin(rad)).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.sum(counts.astype(np.float64) ** 2))

    best = max(np.arange(-limit, limit + 1e-9, 0.25), key=sharpness)
    best = max(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05), key=sharpness)
    return float(round(best, 2))


def _runs(ink: np.ndarray, length: int) -> np.ndarray:
    """Pixels that belong to a horizontal run of ink at least ``length`` long (erosion + dilation)."""
    if ink.shape[1] < length:
        return np.zeros_like(ink)
    width = ink.shape[1]
    cum = np.cumsum(np.pad(ink.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    full = (cum[:, length:] - cum[:, :-length]) == length  # the window starting at x is all ink
    starts = full.shape[1]
    cover = np.cumsum(np.pad(full.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    # pixel x is covered by a full window starting in [x - length + 1, x]
    x = np.arange(width)
    high = np.minimum(x, starts - 1) + 1
    low = np.clip(x - length + 1, 0, starts)
    return (cover[:, high] - cover[:, low]) > 0


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy or dx:
                out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


def rule_masks(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical rules: runs of ink longer than any letter (a thin, slightly uneven
    line is first thickened by one pixel across its direction)."""
    thick_h = ink | np.roll(ink, 1, axis=0) | np.roll(ink, -1, axis=0)
    thick_v = ink | np.roll(ink, 1, axis=1) | np.roll(ink, -1, axis=1)
    horizontal = _runs(thick_h, int(0.4 * dpi)) & ink  # 0.4 inch: longer than any word
    vertical = _runs(thick_v.T, int(0.18 * dpi)).T & ink  # 0.18 inch: taller than any letter
    return horizontal, vertical


def mask_segments(mask: np.ndarray, horizontal: bool) -> list[Segment]:
    """Runs of a rule mask as segments (one per pixel row, merged later by ``find_tables``)."""
    grid = mask if horizontal else mask.T
    segments: list[Segment] = []
    rows = np.nonzero(grid.any(axis=1))[0]
    for y in rows:
        line = np.concatenate(([0], grid[y].astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(line))
        for start, end in zip(edges[::2], edges[1::2], strict=False):
            segments.append(Segment(horizontal, float(y), float(start), float(end)))
    return segments


def tesseract_words(image: Any, dpi: float, psm: int = PSM) -> list[Word]:
    """Word boxes and confidences from ``tesseract … tsv`` (single-threaded, lower priority)."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    command = ["tesseract", "stdin", "stdout", "-l", LANG, "--psm", str(psm), "--dpi", str(int(dpi)), "tsv"]
    if shutil.which("nice"):
        command = ["nice", "-n", "10", *command]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        command, input=buffer.getvalue(), capture_output=True, timeout=TESSERACT_TIMEOUT_S, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace")[-500:])
    words: list[Word] = []
    reader = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t",
                            quoting=csv.QUOTE_NONE)
    for row in reader:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        conf = float(row["conf"])
        alnum = any(ch.isalnum() for ch in text)
        left, top, width, height = (int(row[k]) for k in ("left", "top", "width", "height"))
        if conf < 0 or (not alnum and (text not in ("-", "+", "•", "–") or width < 0.025 * dpi or conf < 40)):
            continue  # specks read as punctuation; a lone mark other than a bullet means nothing
        if len(text) <= 3 and not text.isdigit() and (conf < 10 or (conf < 25 and not is_vietnamese_syllable(text))):
            continue  # specks read as a letter or two
        if len(text) == 1 and text.isalpha() and conf < 60 and text.lower() not in _ONE_LETTER_WORDS:
            continue
        if conf < DOUBT:
            text = _TOKEN_RE.sub(lambda m: fix_diacritics(m.group()), text)
        words.append(Word(text, left, left + width, top, top + height, conf))
    return words
