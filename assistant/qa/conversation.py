"""Conversation: a new question carries the previous turn's context only when it is elliptical.

"Còn xã Phước An thì sao?", "Đơn vị phối hợp là ai?", "Kế hoạch đó do ai ký?", "Năm 2030 thì bao nhiêu?"
continue the previous question; a complete question ("Ai ký kế hoạch của xã Phước An?") stands alone,
whatever was asked before. "Phòng đó", "đơn vị này" name the unit of the previous answer.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.qa.plan import CorpusTerms, QuestionParser, QuestionPlan, merge_follow_up
from core.normalize import fold
from ingest.units import unit_matches

_UNIT_ANAPHORA_RE = re.compile(r"\b(?:phong|don vi|co quan|bo phan|ban|to|trung tam) (?:do|nay|ay|tren|vua neu)\b")


def _previous(history: list[dict], role: str) -> str:
    return next((str(m.get("content", "")) for m in reversed(history) if m.get("role") == role), "")


def resolve(parser: QuestionParser, text: str, history: list[dict], terms: CorpusTerms) -> QuestionPlan:
    return resolve_with_previous(parser, text, history, terms)[0]


def resolve_with_previous(
    parser: QuestionParser, text: str, history: list[dict], terms: CorpusTerms
) -> tuple[QuestionPlan, QuestionPlan | None]:
    """(the question's plan, the previous turn's plan when the question continues it)."""
    current = parser.parse(text, terms)
    if not history:
        return current, None
    asked_before = [str(m.get("content", "")) for m in history if m.get("role") == "user"]
    if not asked_before or not current.elliptical:
        return current, None
    previous = parser.parse(asked_before[-1], terms)
    if previous.elliptical and len(asked_before) > 1:  # a chain of follow-ups: resolve it from its start
        previous = resolve(parser, asked_before[-1], _until_last_user(history), terms)
    merged = merge_follow_up(current, previous)
    if _UNIT_ANAPHORA_RE.search(fold(text)) and not current.units:
        named = unit_matches(_previous(history, "assistant"))
        if named:
            merged = replace(merged, units=(named[0],))
    return merged, previous


def _until_last_user(history: list[dict]) -> list[dict]:
    last = max(i for i, m in enumerate(history) if m.get("role") == "user")
    return history[:last]
