"""What every handler shares: the request context, the result it returns, citations, the registry.

A handler answers one kind of question plan (a ``Route``) and returns a ``Result``: the answer's
lines (each fact with its [n] citation), its sources, whether it was found, how confident the match
is, and, when not found, why and the closest candidates. Handlers keep no state between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from assistant.qa.plan import QuestionPlan, Slot
from assistant.qa.types import Source
from core.config import Settings
from core.model import Chunk, FactKind, Record, page_of_line
from ingest.record_text import record_sentence
from vectorstore.knowledge import KnowledgeView


class Route(StrEnum):
    EMPTY = "empty"  # no plan in the index
    UNKNOWN_COMMUNE = "unknown_commune"
    CATALOG = "catalog"  # which plans are loaded: "có kế hoạch của bao nhiêu xã"
    CROSS_PLAN = "cross_plan"  # every plan: "xã nào …"
    COMPARE = "compare"  # several communes named
    REFERENCE = "reference"  # a document the plan cites, named by its number
    DOC_FIELD = "doc_field"  # number, date, signer, bases, recipients …
    COUNT = "count"
    DUTIES = "duties"  # what a unit must do
    UNITS = "units"  # which units are assigned
    ITEMS = "items"  # which indicators / tasks / stages …
    FACT = "fact"  # lead, partner, deadline, value of one subject
    SECTION = "section"  # what a numbered heading of the plan says ("mục 5.2")
    PASSAGE = "passage"  # explain / describe


@dataclass
class Context:
    kb: KnowledgeView
    settings: Settings
    preferred: list[Record] = field(default_factory=list)  # the facts the previous answer used (a follow-up's)


@dataclass
class Result:
    route: Route
    found: bool
    lines: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    confidence: float = 0.0
    reason: str | None = None  # why not found (a near miss names what is missing)
    candidates: list[str] = field(default_factory=list)  # the closest subjects, offered when not found
    short: bool = True  # a short answer (one fact) or a long one (a list, a passage)
    facts: list[Record] = field(default_factory=list)  # the facts the answer stands on
    answered: set[Slot] = field(default_factory=set)  # slots answered beside the route's own (a count's total points)

    def cite(self, source: Source) -> int:
        for i, existing in enumerate(self.sources, start=1):
            if (existing.doc_id, existing.line_start, existing.line_end, existing.text) == (
                source.doc_id, source.line_start, source.line_end, source.text
            ):
                return i
        self.sources.append(source)
        return len(self.sources)

    def recite(self, text: str, sources: list[Source]) -> str:
        """A line of another result with its [n] renumbered to this result's sources (each cited here)."""
        for i, source in enumerate(sources, start=1):
            text = text.replace(f"[{i}]", f"[#{self.cite(source)}]")
        return text.replace("[#", "[")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def not_found(route: Route, reason: str | None = None, candidates: list[str] | None = None,
              sources: list[Source] | None = None) -> Result:
    return Result(route, False, reason=reason, candidates=candidates or [], sources=sources or [])


# --- sources -------------------------------------------------------------------------------------------------


def place(kb: KnowledgeView, doc_id: str) -> str:
    doc = kb.documents[doc_id]
    return f"xã {doc.commune}" if doc.commune else doc.filename


def places(kb: KnowledgeView, doc_ids: Iterable[str], limit: int = 3) -> str:
    """The first ``limit`` plans named as in an answer: 'xã A, xã B'."""
    return ", ".join(place(kb, d) for d in sorted(doc_ids)[:limit])


def chunk_source(kb: KnowledgeView, chunk: Chunk, text: str | None = None, score: float = 1.0) -> Source:
    doc = kb.documents[chunk.doc_id]
    meta = doc.metadata
    return Source(
        document=doc.filename, doc_id=doc.doc_id, commune=meta.get("commune") or "",
        province=meta.get("province") or "", plan_title=meta.get("title") or "", section=chunk.section,
        text=chunk.body if text is None else text, score=round(float(score), 4), kind=chunk.kind,
        line_start=chunk.line_start, line_end=chunk.line_end, page=page_of_line(meta, chunk.line_start),
    )


def fact_source(kb: KnowledgeView, fact: Record, score: float = 1.0) -> Source:
    chunk = kb.fact_chunk(fact) or Chunk(
        "", fact.doc_id, "", "", fact.section or " > ".join(fact.group_path), "record", fact.line_start, fact.line_end
    )
    if fact.kind is FactKind.GROUP:  # a table's group is cited with its rows, as the plan writes them
        rows = "\n".join(f"- {row}" for row in fact.attrs.get("rows", "").split("; ") if row)
        return chunk_source(kb, chunk, f"{fact.subject}\n{rows}", score)
    return chunk_source(kb, chunk, record_sentence(fact), score)


def line_source(kb: KnowledgeView, doc_id: str, first: int, last: int, text: str, section: str = "") -> Source:
    """A source for lines of a plan that no chunk holds whole (a header field, the closing block)."""
    return chunk_source(kb, Chunk("", doc_id, text, text, section, "text", first, last), text)


# --- registry ---------------------------------------------------------------------------------------------------

Handler = Callable[[Context, QuestionPlan, "set[str] | None"], Result]
HANDLERS: dict[Route, Handler] = {}


def handles(route: Route) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[route] = function
        return function

    return register
