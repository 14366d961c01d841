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
from core.normalize import fold, strip_diacritics

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


def unanswered(question: str, answer: str) -> list[str]:
    """The labels of what the question asks explicitly and the answer does not hold."""
    table, nouns = checks()
    missing: list[str] = []
    for check in table:
        for noun in check.asked(question):
            if not check.answered(answer, noun, nouns):
                label = f"{check.label} ({noun})" if noun else check.label
                if label not in missing:
                    missing.append(label)
    return missing
