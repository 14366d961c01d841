"""Shapes returned by the QA service (the API and UI serialize these)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Source:
    document: str  # file name of the plan
    doc_id: str
    commune: str
    province: str
    plan_title: str
    section: str
    text: str  # the cited text (a record sentence or the relevant passage)
    score: float
    kind: str  # text | table | record
    line_start: int
    line_end: int
    page: int | None = None  # the PDF page the cited lines start on (None for other files)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    answer: str
    found: bool
    sources: list[Source] = field(default_factory=list)
    latency_ms: float = 0.0
    intent: str = ""  # what the question asked (lead, partner, deadline, value, doc_field, duties, …)
    used_llm: bool = False
    explain: dict[str, Any] | None = None  # the decision path (plan, route, confidence), when asked

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data
