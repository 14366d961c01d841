"""The example plans as drafting material: passages classified by section type.

Built from the store's snapshot (text chunks and their section paths): consecutive text chunks
of a plan are read back into whole paragraphs, bullets and headings, and every passage knows the
section type it belongs to (purpose, objectives, tasks, budget, organization…), its section path,
its lines and the chunk it came from (for dense scores). The unit duties ("Phòng Kinh tế: …")
are collected here too. One library per snapshot (snapshots are immutable).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from assistant.drafting.units import heading_units, unit_order
from ingest.model import Chunk, Record
from ingest.normalize import fold
from ingest.parse import heading_level
from vectorstore.store import Snapshot

SECTION_ORDER = ("purpose", "objectives", "tasks", "budget", "organization")
SECTION_HEADINGS = {
    "purpose": "I. MỤC ĐÍCH, YÊU CẦU",
    "objectives": "II. MỤC TIÊU",
    "tasks": "III. NHIỆM VỤ, GIẢI PHÁP",
    "budget": "IV. KINH PHÍ THỰC HIỆN",
    "organization": "V. TỔ CHỨC THỰC HIỆN",
}
_TERMINAL = (".", ";", ":", "!", "?", ")")
_BULLET_RE = re.compile(r"^[-+•*–]\s*")
_CLOSING_RE = re.compile(r"^(?:Trên đây là Kế hoạch|(?:Ủy|Uỷ) ban nhân dân xã yêu cầu|UBND xã yêu cầu)")
# Headings that title a part of a plan rather than say something ("1. Mục đích", "2. Mục tiêu cụ thể").
_TITLE_WORDS = (
    "muc dich", "yeu cau", "muc tieu", "phan cong nhiem vu", "nhiem vu", "giai phap", "kinh phi",
    "to chuc thuc hien", "lo trinh", "che do bao cao",
)
_NUMBERING_RE = re.compile(r"^\s*(?:[IVX]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)\-]\s*")
MIN_HEADING_ITEM_CHARS = 40
_DUTY_VERBS = (
    "chu tri", "chiu trach nhiem", "phoi hop", "thuc hien", "tham muu", "trien khai", "huong dan", "la co quan",
    "to chuc", "theo doi", "dam bao", "bao dam", "tang cuong", "day manh", "can cu", "xay dung", "nang cao",
    "cung cap", "ra soat", "tuyen truyen", "ho tro", "khuyen khich", "tap trung", "tiep tuc", "phat huy",
)


def section_key(label: str) -> str:
    """The section type of a level-1 heading (or of a user's query such as "KINH PHÍ")."""
    folded = fold(label)
    folded = re.sub(r"^[ivx]+\s+", "", folded)
    if folded.startswith("phu luc"):
        return "appendix"
    if folded.startswith("noi nhan"):
        return "recipients"
    if folded.startswith("can cu"):
        return "bases"
    if "muc dich" in folded or "yeu cau" in folded:
        return "purpose"
    if "muc tieu" in folded or "chi tieu" in folded:
        return "objectives"
    if "kinh phi" in folded:
        return "budget"
    if "to chuc thuc hien" in folded or "phan cong" in folded:
        return "organization"
    if "nhiem vu" in folded or "giai phap" in folded:
        return "tasks"
    return "other"


@dataclass(frozen=True)
class Passage:
    doc_id: str
    section: str  # purpose | objectives | tasks | budget | organization | preamble | appendix | recipients | other
    path: tuple[str, ...]
    kind: str  # heading | paragraph | bullet
    text: str
    level: int | None
    line_start: int
    line_end: int
    chunk_index: int
    position: int  # order in the plan

    @property
    def subsection(self) -> str:
        """The level-2 heading this passage is under ('' when directly under the section)."""
        return self.path[1] if len(self.path) > 1 else ""


@dataclass(frozen=True)
class Item:
    """A unit of drafting material: a paragraph or bullet, or a short heading with its paragraph."""

    text: str
    kind: str  # paragraph | bullet
    passages: tuple[Passage, ...]
    bonus: float = 0.0  # added to the item's score (a shared duty weighs less than a unit's own)

    @property
    def first(self) -> Passage:
        return self.passages[0]


@dataclass(frozen=True)
class Duty:
    unit: str  # canonical
    passage: Passage
    text: str  # the duty as written (a paragraph, bullet or the rest of a heading)
    shared: bool = False  # assigned jointly to several units


@dataclass
class ExampleLibrary:
    passages: dict[str, list[Passage]] = field(default_factory=dict)  # doc id -> passages in order
    duties: dict[str, list[Duty]] = field(default_factory=dict)  # doc id -> duties in order
    units: dict[str, list[str]] = field(default_factory=dict)  # doc id -> canonical units named

    def section(self, doc_id: str, key: str) -> list[Passage]:
        return [p for p in self.passages.get(doc_id, []) if p.section == key]


def build_library(snapshot: Snapshot) -> ExampleLibrary:
    library = ExampleLibrary()
    by_doc: dict[str, list[tuple[int, Chunk]]] = defaultdict(list)
    for index, chunk in enumerate(snapshot.chunks):
        if chunk.kind == "text" and chunk.doc_id in snapshot.documents:
            by_doc[chunk.doc_id].append((index, chunk))
    records: dict[str, list[Record]] = defaultdict(list)
    for record in snapshot.records:
        records[record.doc_id].append(record)
    for doc_id, chunks in by_doc.items():
        chunks.sort(key=lambda item: (item[1].line_start, item[1].line_end))
        passages = _passages(doc_id, chunks)
        library.passages[doc_id] = passages
        duty_records = [r for r in records[doc_id] if r.kind == "duty"]
        # the duty records when the plan has any; else the unit blocks read from the passages
        duties = _record_duties(duty_records, snapshot) if duty_records else _duties(passages)
        library.duties[doc_id] = duties
        named = {d.unit for d in duties}
        for record in records[doc_id]:
            named.update(u.name for u in [*record.leads, *record.partners])
        library.units[doc_id] = sorted(named, key=unit_order)
    return library


def record_passage(record: Record, snapshot: Snapshot) -> Passage:
    """A record seen as a passage (its record chunk gives the dense score)."""
    path = tuple(record.group_path)
    return Passage(record.doc_id, section_key(path[0]) if path else "organization", path, "bullet", record.subject,
                   None, record.line_start, record.line_end, snapshot.record_chunk.get(record.record_id, -1),
                   record.line_start)


def _record_duties(records: list[Record], snapshot: Snapshot) -> list[Duty]:
    duties = []
    for record in records:
        units = list(dict.fromkeys(u.name for u in record.leads))
        text = _own_text(record.subject, units)
        if text:
            duties.extend(Duty(unit, record_passage(record, snapshot), text, len(units) > 1) for unit in units)
    return duties


def _own_text(text: str, units: list[str]) -> str:
    """A duty without its unit's name in front: 'Phòng kinh tế chủ trì, …' -> 'chủ trì, …'."""
    named, rest = heading_units(text)
    if named and set(named) <= set(units) and len(rest) >= 25:
        return rest[:1].upper() + rest[1:]
    return text.strip()


def _passages(doc_id: str, chunks: list[tuple[int, Chunk]]) -> list[Passage]:
    passages: list[Passage] = []
    closed_path: tuple[str, ...] | None = None  # after "Trên đây là Kế hoạch …", until the next section
    for index, chunk in chunks:
        path = tuple(chunk.section.split(" > ")) if chunk.section else ()
        key = section_key(path[0]) if path else "preamble"
        for n, line in enumerate(chunk.body.split("\n")):
            text = line.strip()
            if not text:
                continue
            level = heading_level(text)
            if _CLOSING_RE.match(text):
                closed_path = path
            elif closed_path is not None and (path != closed_path or level is not None):
                closed_path = None
            if closed_path is not None:
                key = "closing"
            previous = passages[-1] if passages else None
            continues = previous is not None and previous.path == path and level is None and (
                (n == 0 and previous.kind != "heading" and not _BULLET_RE.match(text)
                 and not previous.text.endswith(_TERMINAL))
                # a wrapped heading: "2. Phòng Văn hóa - Xã hội chịu trách nhiệm …, đôn đốc các" + "phòng, ban, …"
                or (previous.kind == "heading" and text[:1].islower() and not previous.text.endswith(_TERMINAL))
            )
            if continues and previous is not None:
                passages[-1] = Passage(doc_id, key, path, previous.kind, f"{previous.text} {text}", previous.level,
                                       previous.line_start, chunk.line_end, previous.chunk_index, previous.position)
                continue
            pieces = [(text, level)]
            if level is not None and level >= 2:
                head, sep, rest = text.partition(":")
                if sep and len(rest.strip()) > 20:  # "1. Mục đích: Quán triệt …" -> heading + paragraph
                    pieces = [(head.strip(), level), (rest.strip(), None)]
            for piece, piece_level in pieces:
                kind = "heading" if piece_level is not None else "bullet" if _BULLET_RE.match(piece) else "paragraph"
                passages.append(Passage(doc_id, key, path, kind, piece, piece_level, chunk.line_start,
                                        chunk.line_end, index, len(passages)))
    return passages


def unit_heading(text: str) -> tuple[list[str], str] | None:
    """(units, duty) when a heading names units: '3. Phòng kinh tế chủ trì, …' -> (['Phòng Kinh tế'],
    'chủ trì, …'); the duty is '' when the heading only names the units."""
    units, rest = heading_units(text)
    if not units:
        return None
    if fold(rest).startswith(_DUTY_VERBS) and len(rest) >= 25:
        return units, rest
    return units, ""


def strip_numbering(text: str) -> str:
    return _NUMBERING_RE.sub("", text, count=1).strip()


def is_title(passage: Passage) -> bool:
    """A heading that titles a part ("1. Mục tiêu chung") rather than states a task or goal."""
    if passage.kind != "heading":
        return False
    label = fold(re.sub(r"\([^)]*\)", "", strip_numbering(passage.text)))
    return passage.level == 1 or (len(label) <= 45 and any(w in label for w in _TITLE_WORDS))


def items(passages: list[Passage]) -> list[Item]:
    """Paragraphs and bullets as drafting items. A short heading followed by a paragraph reads as one
    item ("Nông nghiệp: Chuyển đổi …"); titles, unit names and lead-ins ending with ':' are dropped;
    a long heading that states something (a goal, a funding source) is an item of its own."""
    out: list[Item] = []
    i = 0
    while i < len(passages):
        p = passages[i]
        following = passages[i + 1] if i + 1 < len(passages) else None
        i += 1
        if p.kind != "heading":
            if not p.text.rstrip().endswith(":") and not re.fullmatch(r"\(.*\)\.?", p.text.strip()):
                out.append(Item(p.text, p.kind, (p,)))
            continue
        if is_title(p) or unit_heading(p.text):
            continue
        label = strip_numbering(p.text).rstrip(" :.")
        if following is not None and following.kind == "paragraph" and following.path == p.path and len(label) <= 100:
            out.append(Item(f"{label}: {following.text}", "bullet", (p, following)))
            i += 1
        elif len(label) >= MIN_HEADING_ITEM_CHARS and (following is None or following.kind != "bullet"):
            out.append(Item(label, "bullet", (p,)))
    return out


def _duties(passages: list[Passage]) -> list[Duty]:
    """Passages under a heading that names units (in the tasks and organization sections)."""
    duties: list[Duty] = []
    current: tuple[list[str], int] | None = None  # (units, heading level)
    for passage in passages:
        if passage.section not in ("tasks", "organization"):
            current = None
            continue
        if passage.kind != "heading" and (passage.text.endswith(":") or len(passage.text) < 20):
            continue
        if passage.kind == "heading":
            level = passage.level or 0
            if current and level <= current[1]:
                current = None
            named = unit_heading(passage.text) if level >= 2 else None
            if named:
                units, duty = named
                current = (units, level)
                duties.extend(Duty(unit, passage, duty, len(units) > 1) for unit in units if duty)
            continue
        if current:
            duties.extend(Duty(unit, passage, passage.text, len(current[0]) > 1) for unit in current[0])
    return duties
