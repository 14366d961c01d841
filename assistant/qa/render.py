"""Results as Vietnamese answers: short lines with [n] citations, honest "not found" with the closest
candidates, within the length caps (a fact: 560 characters; a list or a passage: 2,300)."""

from __future__ import annotations

import re

from assistant.qa.plan import Slot
from core.model import FactKind, Record
from core.normalize import fold

SHORT_CAP = 560
LONG_CAP = 2300

SLOT_LABELS = {
    Slot.LEAD: "đơn vị chủ trì",
    Slot.PARTNER: "đơn vị phối hợp",
    Slot.DEADLINE: "thời gian",
    Slot.VALUE: "chỉ tiêu",
}


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def subject_label(fact: Record, limit: int = 200, focus: tuple[str, ...] = ()) -> str:
    """How a fact is named in an answer: an indicator by its name; a long duty by its clause that holds the words
    asked about ('… cung cấp các dịch vụ công trực tuyến chất lượng cao …')."""
    subject = fact.subject.rstrip(" .;")
    if fact.kind is FactKind.INDICATOR and ":" in subject:
        subject = subject.split(":")[0]
    if len(subject) > limit and focus:
        words = set(focus)

        def held(text: str) -> int:
            return len(words & set(fold(text).split()))

        clauses = [c.strip() for c in re.split(r";\s+|\.\s+(?=[A-ZĐÀ-Ỹ])", subject) if c.strip()]
        best = max(clauses, key=held)
        if best != clauses[0] and held(best) > held(clauses[0]):
            return "… " + shorten(best, limit)
        # words asked past the cut ('…, góp phần đưa tốc độ tăng trưởng … cao hơn năm 2025'): the longest tail
        # after a comma that fits and still holds them
        if len(best) > limit and (past := held(best[limit:])):
            parts = re.split(r",\s+", best)
            for i in range(1, len(parts)):
                tail = ", ".join(parts[i:])
                if len(tail) <= limit and held(tail) >= past:
                    return "… " + tail
    return shorten(subject, limit)


def value_text(fact: Record, years: tuple[int, ...] = ()) -> str | None:
    if fact.targets:
        keyed = {k: v for k, v in fact.targets.items() if k}
        wanted = [str(y) for y in years if str(y) in keyed]
        if wanted:
            return "; ".join(f"năm {y}: {keyed[y]}" for y in wanted)
        unit = f" ({fact.unit_of_measure})" if fact.unit_of_measure and fact.unit_of_measure not in ("%",) else ""
        return "; ".join(f"năm {k}: {v}" if k else v for k, v in fact.targets.items()) + unit
    if fact.max_score:
        score = fact.max_score if "điểm" in fact.max_score else f"{fact.max_score} điểm"
        method = f"cách tính: {fact.method}; " if fact.method else ""
        return f"{method}điểm tối đa {score}"
    if fact.method:
        return fact.method
    return fact.attrs.get("value")


def fit(lines: list[str], cap: int) -> str:
    """The lines that fit in ``cap`` characters (whole lines; a single long line is shortened)."""
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > cap:
            break
        kept.append(line)
    return "\n".join(kept) if kept else shorten(lines[0], cap) if lines else ""


def not_found_text(communes: list[str], reason: str | None, candidates: list[str], subject: str | None) -> str:
    if reason:
        text = f"Không tìm thấy câu trả lời chắc chắn. {reason}"
    else:
        text = f"Không tìm thấy thông tin về {subject or 'nội dung này'} trong các kế hoạch hiện có."
    if candidates:
        offered = "; ".join(f"«{shorten(c, 110)}»" for c in candidates[:3])
        text += f" Có phải anh/chị hỏi về: {offered}?"
    text += f" Các kế hoạch đã nạp thuộc các xã: {', '.join(communes) or 'chưa có kế hoạch nào'}."
    return shorten(text, SHORT_CAP)
