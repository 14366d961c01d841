"""From a file to a ``ParsedDocument``: load, normalize, section structure, plan metadata."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from core.model import IngestError, ParsedDocument, PlanMetadata, SourceLine
from core.normalize import drop_noise_lines, fold, normalize_line
from ingest import facts
from ingest.loaders import LoadedText, LoadLimits, PageProgress, load_file

# --- document identity -----------------------------------------------------------------------


def document_id(filename: str) -> str:
    """Stable id from the file name, so that a changed file replaces its previous version."""
    stem = Path(filename).stem
    slug = re.sub(r"[^a-z0-9]+", "-", fold(stem)).strip("-")
    return slug[:80] or hashlib.sha1(stem.encode()).hexdigest()[:12]


def parse_file(
    path: Path, *, filename: str | None = None, limits: LoadLimits | None = None, progress: PageProgress | None = None
) -> ParsedDocument:
    """``limits`` bound the parsing (and carry the OCR cache directory); ``progress`` hears of every
    scanned page recognised."""
    loaded = load_file(path, limits, progress)
    name = filename or path.name
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return parse_loaded(loaded, name, sha)


def parse_loaded(loaded: LoadedText, filename: str, sha256: str) -> ParsedDocument:
    keep = drop_noise_lines(loaded.lines)
    lines = [
        SourceLine(no=i + 1, text=normalize_line(raw), raw=raw.rstrip("\r\n"), page=loaded.pages[i])
        for i, raw in enumerate(loaded.lines)
        if keep[i]
    ]
    if not any(line.text for line in lines):
        raise IngestError("tệp không có nội dung văn bản")
    sections = section_paths(lines)
    metadata = extract_metadata(lines)
    _source_metadata(metadata, loaded, lines)
    return ParsedDocument(
        doc_id=document_id(filename),
        filename=filename,
        sha256=sha256,
        lines=lines,
        sections=sections,
        metadata=metadata,
    )


def _source_metadata(meta: PlanMetadata, loaded: LoadedText, lines: list[SourceLine]) -> None:
    """Pages and OCR of a PDF, kept with the plan's metadata (the documents list shows them)."""
    meta.pages = loaded.page_count
    starts: list[list[int]] = []
    for line in lines:
        if line.page is not None and (not starts or line.page > starts[-1][0]):
            starts.append([line.page, line.no])
    meta.page_starts = starts
    meta.ocr_pages = list(loaded.ocr_pages)
    meta.ocr_confidence = {str(page): conf for page, conf in loaded.ocr_confidence.items()}
    meta.low_confidence_pages = list(loaded.low_confidence_pages)


# --- section structure -------------------------------------------------------------------------

_ROMAN_RE = re.compile(r"^(?P<num>[IVX]{1,5})\s*[.\-]\s*(?P<title>\S.*)$")
_APPENDIX_RE = re.compile(r"^(?:PHỤ LỤC|Phụ lục)(?:\s+(?:[IVX]+|\d+))?\s*$")
_NUM3_RE = re.compile(r"^\d+\.\d+\.\d+\.?\s+\S")
_NUM2_RE = re.compile(r"^\d+\.\d+\.?\s+\S")
_NUM1_RE = re.compile(r"^\d+\.\s+\S")
_LETTER_RE = re.compile(r"^[a-zđ]\)\s+\S")
_RECIPIENTS_RE = re.compile(r"^Nơi nhận\s*:?", re.IGNORECASE)
MAX_LABEL = 90


def heading_level(text: str) -> int | None:
    """0 = appendix / closing block, 1 = 'I.', 2 = '1.', 3 = '1.1.', 4 = '1.1.1.' or 'a)'."""
    if "\t" in text or text.startswith("|"):
        return None
    if _APPENDIX_RE.match(text) or _RECIPIENTS_RE.match(text):
        return 0
    roman = _ROMAN_RE.match(text)
    if roman:
        letters = [ch for ch in roman.group("title") if ch.isalpha()][:8]
        return 1 if letters and sum(ch.isupper() for ch in letters) >= len(letters) - 1 else None
    if len(re.findall(r"\d\s*%", text)) >= 2:
        return None  # a row of a flattened table ('15.1 Tỷ lệ … 95% 100% 100%'), not a heading
    if _NUM3_RE.match(text):
        return 4
    if _NUM2_RE.match(text):
        return 3
    if _NUM1_RE.match(text):
        return 2
    if _LETTER_RE.match(text):
        return 4
    return None


def section_label(text: str) -> str:
    if _RECIPIENTS_RE.match(text):
        return "Nơi nhận"
    label = text.strip()
    if len(label) > MAX_LABEL:
        head = label.split(":")[0]
        label = head if len(head) <= MAX_LABEL else label[: MAX_LABEL - 1].rsplit(" ", 1)[0] + "…"
    return label.rstrip(" :")


def section_paths(lines: list[SourceLine]) -> list[tuple[str, ...]]:
    stack: list[tuple[int, str]] = []
    paths: list[tuple[str, ...]] = []
    for i, line in enumerate(lines):
        level = heading_level(line.text)
        if level is not None:
            while stack and stack[-1][0] >= level:
                stack.pop()
            label = section_label(line.text)
            if _APPENDIX_RE.match(line.text):
                # an appendix is named by its title line: 'PHỤ LỤC 2: Bộ chỉ số đánh giá …'
                title = next((x.text for x in lines[i + 1 : i + 4] if x.text), "")
                if title and heading_level(title) is None and not title.startswith(("(", "STT", "TT")):
                    room = MAX_LABEL - len(label) - 2
                    if len(title) > room:
                        title = title[: room - 1].rsplit(" ", 1)[0] + "…"
                    label = f"{label}: {title}"
            stack.append((level, label))
        paths.append(tuple(label for _, label in stack))
    return paths


# --- plan metadata -----------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"Số\s*:\s*(\d*)\s*/\s*([A-ZĐ]+(?:\s*-\s*[A-ZĐ]+)*)")
_DATE_RE = re.compile(
    r"ngày\s*(\d{1,2})?\s*tháng\s*(\d{1,2})?\s*năm\s*(\d{4})|ngày\s*(\d{1,2})/(\d{1,2})/(\d{4})",
    re.IGNORECASE,
)
# Capitalized words that start administrative phrases, never a place name.
_NOT_NAMES = {
    "các", "phòng", "tổ", "ban", "ủy", "ubnd", "trung", "văn", "công", "kế", "hoạch", "stt",
    "trụ", "đổi", "hội", "đảng", "trường", "trạm", "thôn", "ấp", "nhân", "dân", "tỉnh", "thành",
}
_PLACE_MARKERS = {"commune": ("xã",), "province": ("tỉnh", "thành phố")}


def _names_after(marker: str, text: str) -> Counter[str]:
    """Capitalized names written right after a marker word ('xã Vĩnh Thuận')."""
    found: Counter[str] = Counter()
    pattern = re.compile(rf"(?<!\w){marker} +((?:[^\W\d_]+ ?){{1,4}})", re.IGNORECASE)
    for line in text.splitlines():
        for match in pattern.finditer(line):
            name: list[str] = []
            for word in match.group(1).split():
                if not (word[0].isupper() and word[1:].islower() or len(word) == 1 and word.isupper()):
                    break
                if len(name) == 3:
                    break
                name.append(word)
            # 'xã Trung tâm …' is no name, 'xã Trung Thạnh' is: an administrative first word needs a second name word
            if name and not (name[0].lower() in _NOT_NAMES and len(name) < 2):
                found[" ".join(name)] += 1
    return found


def _place_name(kind: str, text: str) -> str | None:
    found: Counter[str] = Counter()
    for marker in _PLACE_MARKERS[kind]:
        found.update(_names_after(marker, text))
    return found.most_common(1)[0][0] if found else None


def plan_type_of(title: str) -> str | None:
    folded = fold(title)
    if "mo hinh" in folded and "doi moi sang tao" in folded:
        return "innovative"
    if re.search(r"\b57\b", folded) or "nghi quyet 57" in folded:
        return "nq57"
    if "chi so doi moi sang tao" in folded or "pii" in folded.split():
        return "pii"
    return None


_DATE_PHRASE_RE = re.compile(r"ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}", re.IGNORECASE)


# 'XÃ PHONG NIÊN      Độc lập - …', 'ỦY BAN NHÂN DÂN XÃ THẠNH LỢI ——— Số: …', 'XÃ MỸ LỘC<tab>ĐỘC LẬP …':
# the commune's name in capitals, up to a tab, a wide gap, a dash rule or a word not in capitals
_LETTERHEAD_XA_RE = re.compile(r"(?:^|(?<=\s))XÃ +")
_LETTERHEAD_END_RE = re.compile(r"\t| {2,}|\s*[—–-]{2,}")
# capital words that follow a name in a one-line letterhead, never part of it ('XÃ MỸ LỘC ĐỘC LẬP - …')
_LETTERHEAD_STOP = {"ĐỘC", "CỘNG", "SỐ"}


def _letterhead_commune(text: str) -> str | None:
    for match in _LETTERHEAD_XA_RE.finditer(text):
        segment = _LETTERHEAD_END_RE.split(text[match.end():], maxsplit=1)[0]
        if fold(segment).startswith(("hoi chu nghia", "hoi so")):  # 'CỘNG HÒA XÃ HỘI …', 'XÃ HỘI SỐ'
            continue
        name: list[str] = []
        for word in segment.split(" "):
            clean = word.rstrip(".,;:")
            if not (clean.isalpha() and clean.isupper()) or clean in _LETTERHEAD_STOP or len(name) == 4:
                break
            name.append(clean)
            if clean != word:
                break
        if name:
            return " ".join(name)
    return None


def plan_years(title: str) -> list[int]:
    """The years a plan's title names as its period ('năm 2026', 'giai đoạn 2026 – 2030'), not the dates of
    the documents it cites ('Nghị quyết … ngày 22 tháng 12 năm 2024')."""
    text = _DATE_PHRASE_RE.sub(" ", title)
    return [int(y) for y in re.findall(r"\b(20\d\d)\b", text)]


def extract_metadata(lines: list[SourceLine]) -> PlanMetadata:
    texts = [line.text for line in lines]
    meta = PlanMetadata()
    head = texts[:60]

    for text in head:
        if match := _NUMBER_RE.search(text):
            digits, suffix = match.groups()
            suffix = re.sub(r"\s+", "", suffix)
            meta.number = f"{digits}/{suffix}" if digits else None
            break

    meta.date = _plan_date(texts)

    title_start = next((i for i, t in enumerate(head) if fold(t) == "ke hoach"), None)
    if title_start is not None:
        parts: list[str] = []
        for text in texts[title_start + 1 : title_start + 16]:
            if not text:
                continue
            # the title's first line may itself start with 'Thực hiện …'; later ones open the bases
            if (parts or text.startswith(("Căn cứ", "I."))) and re.match(r"^(Căn cứ|Thực hiện|Ủy ban nhân dân|UBND|I\.)", text):
                break
            parts.append(text)
            if len(parts) == 6:
                break
        meta.title = " ".join(parts) or None
    meta.plan_type = plan_type_of(meta.title or "")

    full = "\n".join(texts)
    header_commune = next((name for t in head if (name := _letterhead_commune(t))), None)
    meta.commune = (
        header_commune.title() if header_commune else None
    ) or _place_name("commune", (meta.title or "") + "\n" + full)
    meta.province = _place_name("province", full)

    meta.legal_bases = _legal_bases(texts)
    closing = facts.closing(lines)
    meta.recipients = [r.subject for r in closing.recipients]
    if closing.signer:
        meta.signer = closing.signer.subject
        meta.signer_role = closing.signer.attrs.get("role") or None
        meta.sign_mode = closing.signer.attrs.get("mode", "")
    if meta.commune:
        meta.issuer = f"Ủy ban nhân dân xã {meta.commune}"
    place = next((m.group(1) for t in head if not t.startswith(("Căn cứ", "Thực hiện"))
                  and (m := re.search(r"([A-ZĐÀ-Ỹ][^\W\d_]*(?:\s+[A-ZĐÀ-Ỹ][^\W\d_]*){0,3}),\s*ngày\b", t))), None)
    meta.place = place
    years = plan_years(meta.title or "")
    if years:
        meta.period_start, meta.period_end = min(years), max(years)
        if "tiep theo" in fold(meta.title or ""):
            meta.period_end = None  # 'năm 2026 và những năm tiếp theo': open-ended
    return meta


def _plan_date(texts: list[str]) -> str | None:
    """The place-and-date line of the header ('Hòa Điền, ngày 20 tháng 5 năm 2026'), else the
    appendix's 'Kèm theo Kế hoạch … ngày …' line. Dates of cited documents are ignored."""
    header = [t for t in texts[:40] if re.search(r"(^|,\s*)ngày\b", t) and not t.startswith(("Căn cứ", "Thực hiện"))]
    appendix = [t for t in texts if "Kèm theo" in t]
    for text in header + appendix:
        if match := _DATE_RE.search(text):
            d, m, y, d2, m2, y2 = match.groups()
            if y2:
                return f"{int(d2)}/{int(m2)}/{y2}"
            if d and m:
                return f"{int(d)}/{int(m)}/{y}"
            return f"tháng {int(m)} năm {y}" if m else f"năm {y}"
    return None


def _legal_bases(texts: list[str]) -> list[str]:
    """'Căn cứ …' paragraphs (or the 'Thực hiện …' preamble) before the first section."""
    bases: list[str] = []
    current: list[str] = []
    for text in texts:
        if heading_level(text) == 1:
            break
        if re.match(r"^(Căn cứ|Thực hiện)\b", text):
            if current:
                bases.append(" ".join(current))
            current = [text]
        elif current and text:
            if re.match(r"^(Ủy ban nhân dân|UBND)\b.*(ban hành|xây dựng)", text):
                bases.append(" ".join(current))
                current = []
                continue
            current.append(text)
    if current:
        bases.append(" ".join(current))
    split: list[str] = []
    for base in bases:
        # a 'Thực hiện A; B; C. Ủy ban nhân dân xã ban hành …' preamble names several documents
        base = re.split(r"\.\s+(?:Ủy ban nhân dân|UBND)\b", base)[0]
        split.extend(part.strip(" ;.") for part in base.split(";") if part.strip(" ;."))
    return split
