"""The expected answer type: a question that asks for a quarter, a year, a date, a count or a percentage
explicitly is answered only by an answer that holds one.

An answer without what a clause asks for answers half the question (the row's lead but not the quarter
asked, the tasks but not how many groups): it is returned as not found, with the content found shown as
the closest, since a confident half answer misleads. The checks are data (``answer_checks.toml``) with
their examples.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.qa.plan import fold_clauses
from core.normalize import abbreviations, fold, strip_diacritics

CHECKS_PATH = Path(__file__).with_name("answer_checks.toml")
_CITATION_RE = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class AnswerCheck:
    id: str
    label: str
    ask: re.Pattern[str]
    answer: str  # a pattern; '{noun}' is replaced by the counted noun's equivalents
    examples: tuple[str, ...] = ()
    counter: tuple[str, ...] = ()

    def asked(self, question: str) -> list[str]:
        """The nouns counted (or one empty string) for each time the question asks this; [] when it does not."""
        folded = f"{fold_clauses(question)} | {strip_diacritics(question.lower())}"  # '%' survives here only
        return list(dict.fromkeys(m.groupdict().get("noun") or "" for m in self.ask.finditer(folded)))

    def answered(self, answer: str, noun: str, nouns: dict[str, list[str]]) -> bool:
        alternatives = "|".join(re.escape(n) for n in nouns.get(noun, [noun]))
        pattern = self.answer.replace("{noun}", alternatives) if noun else self.answer
        plain = _CITATION_RE.sub(" ", answer)
        return bool(re.search(pattern, f"{fold(plain)} {plain.lower()}"))


@lru_cache(maxsize=1)
def checks() -> tuple[tuple[AnswerCheck, ...], dict[str, list[str]]]:
    data = tomllib.loads(CHECKS_PATH.read_text(encoding="utf-8"))
    table = tuple(
        AnswerCheck(c["id"], c["label"], re.compile(c["ask"]), c["answer"], tuple(c.get("examples", [])),
                    tuple(c.get("counter", [])))
        for c in data["check"]
    )
    return table, {k: list(v) for k, v in data.get("nouns", {}).items()}


_WHICH_TEAM_RE = re.compile(r"\bto nao\b")
_TEAM_RE = re.compile(r"\bto ([a-z]+ [a-z]+)")


def _names_another_team(question: str, answer: str) -> bool:
    """'… gắn với tổ nào?': the answer names a team ('Tổ công nghệ số …') besides those the question names."""
    def spelled(text: str) -> str:  # 'Tổ ĐMST' and 'Tổ Đổi mới sáng tạo' are one team
        return " ".join(abbreviations().get(w, w) for w in fold(text).split())

    asked = set(_TEAM_RE.findall(spelled(question)))
    return bool(set(_TEAM_RE.findall(spelled(_CITATION_RE.sub(" ", answer)))) - asked)


def unanswered(question: str, answer: str) -> list[str]:
    """The labels of what the question asks explicitly and the answer does not hold."""
    table, nouns = checks()
    missing: list[str] = []
    if _WHICH_TEAM_RE.search(fold(question)) and not _names_another_team(question, answer):
        missing.append("tổ")
    for check in table:
        for noun in check.asked(question):
            if not check.answered(answer, noun, nouns):
                label = f"{check.label} ({noun})" if noun else check.label
                if label not in missing:
                    missing.append(label)
    return missing
