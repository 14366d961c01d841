"""A spelling pass for known typos of the example plans (``data/corrections.tsv``).

Only forms that are wrong in every context are listed, so the pass can run on every passage a
draft takes from an example. Matching is on whole words; a capital first letter is kept.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

CORRECTIONS_FILE = Path(__file__).resolve().parent / "data" / "corrections.tsv"


@lru_cache(maxsize=1)
def corrections() -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs: list[tuple[str, str]] = []
    for line in CORRECTIONS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        wrong, _, right = line.partition("\t")
        if wrong and right:
            pairs.append((wrong.strip(), right.strip()))
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
    out = []
    for wrong, right in pairs:
        out.append((re.compile(rf"(?<!\w){re.escape(wrong)}(?!\w)"), right))
        capital = wrong[:1].upper() + wrong[1:]
        if capital != wrong:
            out.append((re.compile(rf"(?<!\w){re.escape(capital)}(?!\w)"), right[:1].upper() + right[1:]))
    return tuple(out)


def correct(text: str) -> str:
    for pattern, right in corrections():
        text = pattern.sub(right, text)
    return text
