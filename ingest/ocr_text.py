"""Repairs of what Tesseract typically gets wrong in Vietnamese plans, on recognised text only.

* Syllables glued together (bold headers: 'Chỉtiêu', 'Thựchiệnnăm 2025') are split again into
  syllables, guided by the syllables of the default corpus and their counts (``syllables.txt``).
* Roman numerals read as digits or letters: 'Quý 11/2026' -> 'Quý II/2026', 'Quý IH/2026' ->
  'Quý III/2026', a group title 'HI. XÃ HỘI SỐ' -> 'III. XÃ HỘI SỐ'.
* A doubtful lower-case syllable the corpus never writes takes the marks the corpus writes its letters
  with ('phãm' -> 'phẩm').
* A row number cell: 'T2' -> '12', '2.' -> '2', "'10" -> '10'.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from core.normalize import is_vietnamese_syllable

_TOKEN_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
_ACRONYM_TAIL_RE = re.compile(r"^([A-ZĐ]{2,})([a-zà-ỹđ]{1,5})$")


@lru_cache(maxsize=1)
def _syllables() -> dict[str, float]:
    """Syllable -> cost (negative log frequency)."""
    counts: dict[str, int] = {}
    for line in Path(__file__).with_name("syllables.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, _, count = line.partition("\t")
            counts[word] = int(count or 1)
    total = sum(counts.values()) or 1
    return {word: -math.log(n / total) for word, n in counts.items()}


def _piece_cost(piece: str) -> float:
    known = _syllables()
    if piece in known:
        return known[piece]
    if is_vietnamese_syllable(piece):
        return 20.0  # a valid syllable the corpus never wrote
    return math.inf


def split_glued(token: str) -> str:
    """'Chỉtiêu' -> 'Chỉ tiêu', 'HỘISỐ' -> 'HỘI SỐ'; a word that is a syllable, an acronym or not
    Vietnamese is kept."""
    lower = token.lower()
    if len(token) < 4 or lower in _syllables() or is_vietnamese_syllable(lower):
        return token
    capitals = token.isupper()
    tail = _ACRONYM_TAIL_RE.match(token)
    if tail and tail.group(2) in _syllables():
        return f"{tail.group(1)} {tail.group(2)}"  # 'HĐNDvà' -> 'HĐND và'
    if any(ch.isupper() for ch in token[1:]) and not capitals:  # TikTok, eMail
        return token
    n = len(lower)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - 7), end):
            if best[start][0] == math.inf:
                continue
            cost = best[start][0] + _piece_cost(lower[start:end])
            if cost < best[end][0]:
                best[end] = (cost, start)
    if best[n][0] == math.inf:
        return token
    cuts: list[int] = []
    end = n
    while end > 0:
        cuts.append(end)
        end = best[end][1]
    cuts.reverse()
    known = _syllables()
    pieces_lower = [lower[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
    unknown = sum(p not in known for p in pieces_lower)
    if len(cuts) < 2 or unknown > min(1, len(cuts) // 2) or (capitals and unknown):
        return token  # 'online', 'Zalo', 'HĐND', 'OCOP': not glued syllables
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(token[start:cut])
        start = cut
    return " ".join(pieces)


_QUARTER_RE = re.compile(r"\b(Qu[ýy])\s*[\[\]({]*([1lIH|!VT\[\]]{1,5})\s*[/⁄.\-]*\s*(?=20\d\d)")
_GROUP_RE = re.compile(r"^([1lIH|!]{1,4}|[1lI|]?V|V[1lI|]{0,3})\s*([.\-])\s*(?=[A-ZĐÀ-Ỹ]{2})")
_ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _roman(text: str) -> str | None:
    text = text.replace("[", "").replace("]", "")
    value = text.replace("H", "II").replace("1", "I").replace("l", "I").replace("|", "I").replace("!", "I")
    value = value.replace("T", "I")
    if value not in _ROMANS and value[1:] in _ROMANS and text[:1] in "l|!":
        value = value[1:]  # 'lIV': a speck before the number
    return value if value in _ROMANS else None


def _quarter(match: re.Match[str]) -> str:
    roman = _roman(match.group(2))
    return f"{match.group(1)} {roman}/" if roman else match.group(0)


_JUNK_TOKEN_RE = re.compile(r"(?:(?<=\s)|^)[_`'‘’ˆ~|·•:;.,\\/]+(?=\s|$)")
_SPECK_STOP_RE = re.compile(r"([^\W\d_]{2,})\.(?= [a-zà-ỹđ])")
_JUNK_LEAD_RE = re.compile(r"(?:(?<=\s)|^)[`'‘_ˆ.,]+(?=[^\W\d_])")
_SPECK_DOT_RE = re.compile(r"(?<![^\W\d_])([a-zà-ỹđ][^\W\d_]+)\.(?=[^\W\d_])")


@lru_cache(maxsize=1)
def _by_skeleton() -> dict[str, str]:
    """Skeleton (no diacritics) -> the corpus's most frequent syllable with it."""
    from core.normalize import strip_diacritics

    out: dict[str, tuple[float, str]] = {}
    for word, cost in _syllables().items():
        key = strip_diacritics(word)
        if key not in out or cost < out[key][0]:
            out[key] = (cost, word)
    return {key: word for key, (_, word) in out.items()}


def fix_diacritics(token: str) -> str:
    """A lower-case syllable the corpus never writes, whose letters the corpus writes with other
    marks, is read with those marks: 'phãm' -> 'phẩm', 'triến' -> 'triển'. Capitalised words
    (names) and known syllables are kept. Only for words Tesseract itself doubts: the corpus does not
    know every word ('chợ', 'trả')."""
    from core.normalize import strip_diacritics

    if not token.islower() or token in _syllables():
        return token
    best = _by_skeleton().get(strip_diacritics(token))
    if best is None or _syllables()[best] > _RARE:
        return token
    return best


_RARE = 9.0  # -log share: a syllable seen fewer than about 3 times in 22 000 is no evidence


def repair_line(text: str) -> str:
    text = _JUNK_TOKEN_RE.sub("", text)
    text = _JUNK_LEAD_RE.sub("", text)
    text = _SPECK_STOP_RE.sub(r"\1", text)  # 'thủ. tục': a speck read as a full stop
    text = _SPECK_DOT_RE.sub(r"\1 ", text)  # 'nhật.kho', 'mã.QR'
    text = " ".join(text.split())
    text = _TOKEN_RE.sub(lambda m: split_glued(m.group()), text)
    text = _QUARTER_RE.sub(_quarter, text)
    match = _GROUP_RE.match(text)
    letters = [ch for ch in text[match.end():] if ch.isalpha()] if match else []
    if (
        match and _CONFUSED_RE.search(match.group(1)) and sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)
        and (roman := _roman(match.group(1)))
    ):
        text = f"{roman}{match.group(2)} {text[match.end():]}"
    return text


# a number that can only be a misread Roman numeral ('HI', '1I', 'I1', 'l'); a plain '1' or '11' stays
_CONFUSED_RE = re.compile(r"[Hl|!]|1I|I1")


_DIGIT_LOOKALIKES = str.maketrans({"T": "1", "l": "1", "I": "1", "|": "1", "O": "0", "o": "0", "S": "5", "Z": "2",
                                   "B": "8", "g": "9"})


def repair_row_number(text: str) -> str:
    """The text of a row-number cell: punctuation around it dropped, look-alike letters in a number
    read as digits; a Roman group number is kept."""
    core = text.strip(" .,:;'\"_-—|`~/\\")
    if not core:
        return ""
    if re.fullmatch(r"[IVX]{1,5}", core):
        return core
    if re.fullmatch(r"[\dTlIOoSZBg|]{1,3}(?:\.[\dTlIOoSZBg|]{1,2})?", core) and any(ch.isdigit() for ch in core):
        return core.translate(_DIGIT_LOOKALIKES)
    return text
