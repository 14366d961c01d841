"""The example plans as drafting material: passages classified by section type.

``ExampleCorpus`` is the only place drafting reads the store (documents, text chunks, records,
source lines, dense scores): replacing the store's backend touches this class alone. The library
is built from the corpus: consecutive text chunks of a plan are read back into whole paragraphs,
bullets and headings; every passage knows the section type it belongs to (purpose, objectives,
tasks, budget, organization…), its section path, the lines of the example it was read from and the
chunk it came from (for dense scores). ``ExampleLibrary.tree`` gives a section as a tree of
headings, so a unit's block ("1.2. Phòng Văn hóa - Xã hội" and its bullets) is taken whole. One
library per snapshot (snapshots are immutable).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from assistant.drafting.units import heading_units
from core.model import FactKind, Record
from core.normalize import fold
from ingest.parse import heading_level
from vectorstore.store import Snapshot, Store

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
class ExampleDoc:
    """An example plan as drafting sees it (from the store's catalog)."""

    doc_id: str
    filename: str
    commune: str
    province: str
    plan_type: str
    title: str
    date: str
    signer: str
    legal_bases: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextChunk:
    index: int  # position in the corpus (dense scores and record chunks refer to it)
    doc_id: str
    section: str  # "I. MỤC ĐÍCH, YÊU CẦU > 1. Mục đích"
    body: str
    line_start: int
    line_end: int


def _row_or_duty(record: Record) -> bool:
    return record.is_table_row or record.kind is FactKind.DUTY


class ExampleCorpus:
    """Every read drafting makes of the store, behind one small interface.

    Built from a store snapshot (immutable); ``restricted`` narrows it to chosen examples. The
    SQL-backed store of issue 11 replaces the body of these methods and nothing else."""

    def __init__(self, snapshot: Snapshot, store: Store | None = None, only: frozenset[str] | None = None) -> None:
        self._snapshot = snapshot
        self._store = store
        self._only = only
        self._docs: dict[str, ExampleDoc] | None = None
        self._lines: dict[str, dict[int, str]] | None = None

    @classmethod
    def from_store(cls, store: Store) -> ExampleCorpus:
        return cls(store.snapshot, store)

    @property
    def key(self) -> tuple[int, frozenset[str] | None]:
        """Identity of the corpus (a library is cached per key)."""
        return id(self._snapshot), self._only

    def restricted(self, doc_ids: frozenset[str] | set[str]) -> ExampleCorpus:
        return ExampleCorpus(self._snapshot, self._store, frozenset(doc_ids))

    def _wanted(self, doc_id: str) -> bool:
        return doc_id in self._snapshot.documents and (self._only is None or doc_id in self._only)

    def documents(self) -> dict[str, ExampleDoc]:
        if self._docs is None:
            docs = {}
            for doc_id, row in self._snapshot.documents.items():
                if not self._wanted(doc_id):
                    continue
                m = row.metadata
                docs[doc_id] = ExampleDoc(
                    doc_id, row.filename, m.get("commune") or "", m.get("province") or "", m.get("plan_type") or "",
                    m.get("title") or "", m.get("date") or "", m.get("signer") or "",
                    tuple(m.get("legal_bases") or ()), tuple(m.get("recipients") or ()),
                )
            self._docs = docs
        return self._docs

    def all_documents(self) -> dict[str, ExampleDoc]:
        """Every plan of the store, also those left out by ``restricted`` (names that must not leak)."""
        return self.documents() if self._only is None else ExampleCorpus(self._snapshot, self._store).documents()

    def text_chunks(self) -> list[TextChunk]:
        return [TextChunk(i, c.doc_id, c.section, c.body, c.line_start, c.line_end)
                for i, c in enumerate(self._snapshot.chunks) if c.kind == "text" and self._wanted(c.doc_id)]

    def records(self, doc_id: str | None = None) -> list[Record]:
        """The table rows and assigned duties of the examples (the facts drafting builds from)."""
        return [r for r in self._snapshot.records
                if self._wanted(r.doc_id) and (doc_id is None or r.doc_id == doc_id) and _row_or_duty(r)]

    def record_chunk(self, record_id: str) -> int | None:
        return self._snapshot.record_chunk.get(record_id)

    def n_chunks(self) -> int:
        return len(self._snapshot.chunks)

    def source_lines(self, doc_id: str) -> dict[int, str]:
        """The example's lines as written, by line number (empty when the store keeps none)."""
        if self._lines is None:
            rows = self._store.catalog.documents(with_lines=True) if self._store is not None else []
            self._lines = {row.doc_id: {int(no): str(raw) for no, raw in row.lines} for row in rows}
        return self._lines.get(doc_id, {})

    def dense_scores(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk index, cosine) of the chunks closest to ``query``, best first."""
        if self._store is None:
            return []
        only = set(self._only) if self._only is not None else None
        return self._store.dense_search(query, k, self._snapshot, only)


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


@dataclass
class ExampleLibrary:
    passages: dict[str, list[Passage]] = field(default_factory=dict)  # doc id -> passages in order
    _trees: dict[tuple[str, str], Node] = field(default_factory=dict)

    def section(self, doc_id: str, key: str) -> list[Passage]:
        return [p for p in self.passages.get(doc_id, []) if p.section == key]

    def tree(self, doc_id: str, key: str) -> Node:
        """The headings of one section of an example, as a tree."""
        if (doc_id, key) not in self._trees:
            self._trees[doc_id, key] = build_tree(self.section(doc_id, key))
        return self._trees[doc_id, key]

    def body_chars(self, doc_id: str) -> int:
        return body_chars(self.passages.get(doc_id, []))

    def subset(self, doc_ids: set[str] | frozenset[str]) -> ExampleLibrary:
        """The library of some examples only (drafting from chosen plans)."""
        return ExampleLibrary({d: v for d, v in self.passages.items() if d in doc_ids})


def build_library(corpus: ExampleCorpus) -> ExampleLibrary:
    library = ExampleLibrary()
    by_doc: dict[str, list[TextChunk]] = defaultdict(list)
    for chunk in corpus.text_chunks():
        by_doc[chunk.doc_id].append(chunk)
    for doc_id, chunks in by_doc.items():
        chunks.sort(key=lambda c: (c.line_start, c.line_end))
        library.passages[doc_id] = _with_lines(_passages(doc_id, chunks), corpus.source_lines(doc_id))
    return library


def _passages(doc_id: str, chunks: list[TextChunk]) -> list[Passage]:
    """The plan's text as whole paragraphs, bullets and headings, each in its section.

    A line that starts in lower case continues the paragraph before it, whatever ends that paragraph
    (a chunk or a ';' never cuts a sentence from its subject); "1. Mục đích: Quán triệt …" is a
    heading and a paragraph."""
    passages: list[Passage] = []
    closed_path: tuple[str, ...] | None = None  # after "Trên đây là Kế hoạch …", until the next section
    for chunk in chunks:
        index = chunk.index
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
            lower = text[:1].islower()
            continues = previous is not None and previous.path == path and level is None and (
                (previous.kind != "heading" and lower and not _BULLET_RE.match(text))
                or (n == 0 and previous.kind != "heading" and not _BULLET_RE.match(text)
                    and not previous.text.endswith(_TERMINAL))
                # a wrapped heading: "2. Phòng Văn hóa - Xã hội chịu trách nhiệm …, đôn đốc các" + "phòng, ban, …"
                or (previous.kind == "heading" and lower and not previous.text.endswith(_TERMINAL))
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


def _key(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


class LineLocator:
    """Finds the lines of the example a passage was read from (its chunk spans more lines)."""

    WINDOW = 30

    def __init__(self, lines: dict[int, str]) -> None:
        chars: list[str] = []
        self.owner: list[int] = []
        self.offset: dict[int, int] = {}
        for no in sorted(lines):
            self.offset[no] = len(chars)
            key = _key(lines[no])
            chars.extend(key)
            self.owner.extend([no] * len(key))
        self.stream = "".join(chars)
        self.numbers = sorted(lines)

    def locate(self, text: str, first: int, last: int) -> tuple[int, int] | None:
        key = _key(text)
        if len(key) < 6 or not self.stream:
            return None
        start = next((self.offset[no] for no in self.numbers if no >= first - 1), len(self.stream))
        head = key[: self.WINDOW]
        i = self.stream.find(head, start)
        if i < 0 or self.owner[i] > last + 1:
            return None
        tail = key[-self.WINDOW:]
        j = self.stream.find(tail, i)
        end = self.owner[j + len(tail) - 1] if j >= 0 and self.owner[j] <= last + 1 else self.owner[i]
        return self.owner[i], max(end, self.owner[i])


def _with_lines(passages: list[Passage], lines: dict[int, str]) -> list[Passage]:
    if not lines:
        return passages
    locator = LineLocator(lines)
    out = []
    for p in passages:
        found = locator.locate(p.text, p.line_start, p.line_end)
        out.append(replace(p, line_start=found[0], line_end=found[1]) if found else p)
    return out


@dataclass
class Node:
    """A heading of an example and what it covers: its paragraphs and bullets, and its sub-headings.

    A unit's block ("1.2. Phòng Văn hóa - Xã hội" and its bullets) is one node: drafting takes a
    node's items with the node's heading, never an item without the subject its heading gives."""

    heading: Passage | None
    level: int
    items: list[Passage] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def title(self) -> str:
        return strip_numbering(self.heading.text).rstrip(" :.") if self.heading else ""

    @property
    def units(self) -> list[str]:
        named = unit_heading(self.heading.text) if self.heading is not None else None
        return named[0] if named else []

    @property
    def duty(self) -> str:
        """The duty a unit heading states itself ('3. Phòng kinh tế chủ trì, …')."""
        named = unit_heading(self.heading.text) if self.heading is not None else None
        return named[1] if named else ""

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def passages(self) -> list[Passage]:
        out = [self.heading] if self.heading is not None else []
        out += self.items
        for child in self.children:
            out += child.passages()
        return out


def build_tree(passages: list[Passage]) -> Node:
    """The headings of a section as a tree under a root of level 0."""
    root = Node(None, 0)
    stack = [root]
    for p in passages:
        if p.kind == "heading" and p.level:
            while stack[-1].level >= p.level:
                stack.pop()
            node = Node(p, p.level)
            stack[-1].children.append(node)
            stack.append(node)
        else:
            stack[-1].items.append(p)
    return root


def is_statement(passage: Passage) -> bool:
    """A numbered heading that says something ("1. Nguồn ngân sách Trung ương …") rather than titles a part."""
    return passage.kind == "heading" and not is_title(passage) and not unit_heading(passage.text) and len(
        strip_numbering(passage.text)) >= MIN_HEADING_ITEM_CHARS


def body_chars(passages: list[Passage]) -> int:
    """Characters of the body text (paragraphs, bullets and stated headings) of a list of passages."""
    return sum(len(p.text) for p in passages
               if p.section in SECTION_ORDER + ("closing",) and (p.kind != "heading" or is_statement(p)))


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
