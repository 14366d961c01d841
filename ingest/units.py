"""Unit names in commune plans: one canonical name per unit, however the plan wrote it.

The alias table (``unit_aliases.json``) is data: canonical name -> written forms. Matching works on
word tokens folded to lowercase without diacritics and compared with their separators removed, so
'Phòng VH-XH', 'Phòng VHXH' and 'Phòng Văn hóa – Xã hội' all reach the same entry, and a name
wrapped over two lines ('Phòng Văn hóa - Xã\\nhội') still matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.model import UnitRef
from core.normalize import strip_diacritics

ALIASES_PATH = Path(__file__).with_name("unit_aliases.json")

_WORD_RE = re.compile(r"\w+")
_DELIMITER_RE = re.compile(r"[,;/&+]")
_TRIM = " \t\n,;:.-–—+&/"


@dataclass(frozen=True)
class _Token:
    key: str  # folded: lowercase, no diacritics
    start: int
    end: int


@dataclass(frozen=True)
class UnitSpan:
    """A known unit found in a text: ``text[start:end]`` is how it was written."""

    name: str
    start: int
    end: int


# Head words officers abbreviate: 'P. VH-XH', 'TT PVHCC', 'VP HĐND-UBND'.
_SHORT_HEADS = {"p": "phong", "tt": "trungtam", "vp": "vanphong"}


def _tokenize(text: str) -> list[_Token]:
    tokens = [_Token(strip_diacritics(m.group().lower()), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    return [
        _Token(_SHORT_HEADS[t.key], t.start, t.end) if t.key in _SHORT_HEADS and text[t.start].isupper() else t
        for t in tokens
    ]


def _key_words(phrase: str) -> tuple[str, ...]:
    return tuple(tok.key for tok in _tokenize(phrase))


@dataclass(frozen=True)
class _Tables:
    aliases: dict[str, str]  # joined folded tokens -> canonical name
    query_aliases: dict[str, str]
    max_len: int  # longest alias, in tokens
    prefixes: tuple[tuple[str, ...], ...]
    suffixes: tuple[tuple[str, ...], ...]  # longest first
    collective: tuple[tuple[str, ...], ...]
    heads: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    data = json.loads(ALIASES_PATH.read_text(encoding="utf-8"))

    def index(table: dict[str, list[str]], into: dict[str, str]) -> int:
        longest = 0
        for name, forms in table.items():
            for form in [name, *forms]:
                words = _key_words(form)
                into.setdefault("".join(words), name)
                longest = max(longest, len(words))
        return longest

    aliases: dict[str, str] = {}
    longest = index(data["units"], aliases)
    query_aliases = dict(aliases)
    longest = max(longest, index(data.get("query_aliases", {}), query_aliases))

    def phrases(key: str) -> tuple[tuple[str, ...], ...]:
        return tuple(sorted((_key_words(p) for p in data.get(key, [])), key=len, reverse=True))

    return _Tables(
        aliases=aliases,
        query_aliases=query_aliases,
        max_len=longest,
        prefixes=phrases("role_prefixes"),
        suffixes=phrases("suffixes"),
        collective=phrases("collective_words"),
        heads=phrases("head_words"),
    )


# --- matching on tokens ------------------------------------------------------------------------


def _starts_with(toks: list[_Token], i: int, words: tuple[str, ...]) -> bool:
    return tuple(t.key for t in toks[i : i + len(words)]) == words


def _alias_at(toks: list[_Token], i: int, table: dict[str, str]) -> tuple[str, int] | None:
    """Longest alias starting at token ``i``: (canonical, end token index)."""
    for j in range(min(len(toks), i + _tables().max_len), i, -1):
        name = table.get("".join(t.key for t in toks[i:j]))
        if name:
            return name, j
    return None


def _gap(text: str, toks: list[_Token], j: int) -> str:
    """The text between token ``j - 1`` and token ``j``."""
    return text[toks[j - 1].end : toks[j].start]


def _is_collective(toks: list[_Token]) -> bool:
    words = [t.key for t in toks if t.key != "cac"]
    i = 0
    while i < len(words):
        step = next((len(c) for c in _tables().collective if tuple(words[i : i + len(c)]) == c), 0)
        if not step:
            return False
        i += step
    return bool(words)


def _absorb(text: str, toks: list[_Token], start: int, end: int, name: str) -> int:
    """Extend a matched unit over qualifiers: 'xã', 'trên địa bàn', a number ('Khu vực 8'), and for a
    collective unit ('Các phòng, ban') further collective words ('ngành, trung tâm, cơ quan')."""
    tables = _tables()
    collective = _is_collective(toks[start:end])
    while end < len(toks):
        if ";" in _gap(text, toks, end):
            break
        plain = not _DELIMITER_RE.search(_gap(text, toks, end))
        if plain and toks[end].key.isdigit():
            end += 1
            continue
        suffix = next((s for s in tables.suffixes if plain and _starts_with(toks, end, s)), None)
        if suffix and not _alias_at(toks, end, tables.aliases):  # 'Hội LHPN xã' + 'Xã đoàn' stay two units
            end += len(suffix)
            continue
        if collective:
            k = end + (toks[end].key == "va")
            k += k < len(toks) and toks[k].key == "cac"
            word = next((c for c in tables.collective if c != ("cac",) and _starts_with(toks, k, c)), None)
            other = _alias_at(toks, k, tables.aliases) if k < len(toks) else None
            # 'Các phòng, ban, ngành, trung tâm' goes on; 'Các phòng, ban\nPhòng Văn hóa - Xã hội' does not
            if word and not (other and other[0] != name and other[1] > k + len(word)):
                end = k + len(word)
                continue
        break
    return end


def _unit_at(text: str, toks: list[_Token], i: int) -> tuple[str, int] | None:
    """A known unit starting at token ``i`` (after an optional role prefix such as 'Trưởng' or
    'Đề nghị' and an optional 'các'): (canonical, end token index)."""
    tables = _tables()
    starts = [i]
    for prefix in tables.prefixes:
        if _starts_with(toks, i, prefix):
            starts.append(i + len(prefix))
    starts += [s + 1 for s in list(starts) if s < len(toks) and toks[s].key in ("cac", "nhung")]
    for s in starts:
        found = _alias_at(toks, s, tables.aliases)
        if found:
            return found[0], _absorb(text, toks, s, found[1], found[0])
    return None


def _head_at(text: str, toks: list[_Token], i: int) -> bool:
    """Token ``i`` starts a unit name by its head word ('Phòng …', 'Ban …', 'các …')."""
    for head in _tables().heads:
        if _starts_with(toks, i, head):
            return head[0] in ("cac", "nhung") or text[toks[i].start].isupper()
    return False


def _tidy(written: str) -> str:
    return " ".join(written.split()).strip(_TRIM)


def _unknown_name(written: str) -> str:
    tidy = _tidy(written)
    return tidy[:1].upper() + tidy[1:]


# --- public API ------------------------------------------------------------------------------------


def canonical_unit(written: str) -> UnitRef:
    """'Phòng VH-XH' -> UnitRef('Phòng Văn hóa - Xã hội', 'Phòng VH-XH'); unknown names are kept."""
    toks = _tokenize(written)
    found = _unit_at(written, toks, 0) if toks else None
    return UnitRef(name=found[0] if found else _unknown_name(written), written=_tidy(written))


def split_units(cell: str) -> list[UnitRef]:
    """A cell naming one or more units -> one UnitRef per unit.

    Splits on ';' always, and on ',' / 'và' only where the next piece starts a unit (a known alias or
    a head word such as 'Phòng', 'Trung tâm', 'các'); 'Các phòng, ban, ngành xã' stays one unit.
    """
    units: list[UnitRef] = []
    for part in cell.replace("\n", " ").split(";"):
        toks = _tokenize(part)
        spans: list[tuple[int, int, str | None]] = []  # (first token, end token, canonical or None)
        i = 0
        after_and = False
        while i < len(toks):
            delimited = after_and or (i > 0 and bool(_DELIMITER_RE.search(_gap(part, toks, i))))
            after_and = False
            next_starts_unit = i + 1 < len(toks) and (
                _unit_at(part, toks, i + 1) or _head_at(part, toks, i + 1)
            )
            if spans and toks[i].key == "va" and next_starts_unit:
                i += 1
                after_and = True
                continue
            found = _unit_at(part, toks, i)
            if found:
                spans.append((i, found[1], found[0]))
                i = found[1]
            elif not spans or (delimited and _head_at(part, toks, i)):
                spans.append((i, i + 1, None))
                i += 1
            else:  # words after a unit name that do not start another unit belong to it
                first, _, name = spans[-1]
                spans[-1] = (first, i + 1, name)
                i += 1
        for first, end, name in spans:
            written = part[toks[first].start : toks[end - 1].end]
            units.append(UnitRef(name=name or _unknown_name(written), written=_tidy(written)))
    return units


def starts_with_unit(text: str) -> bool:
    """The text opens with a unit's name: a known one, or a capitalized head word ('Trường PTDTBT …')."""
    toks = _tokenize(text)
    return bool(toks) and toks[0].start <= 2 and (_unit_at(text, toks, 0) is not None or _head_at(text, toks, 0))


def find_units(text: str) -> list[UnitSpan]:
    """Every known unit named in a text, left to right, with its character span."""
    toks = _tokenize(text)
    spans: list[UnitSpan] = []
    i = 0
    while i < len(toks):
        found = _unit_at(text, toks, i)
        if found:
            spans.append(UnitSpan(found[0], toks[i].start, toks[found[1] - 1].end))
            i = found[1]
        else:
            i += 1
    return spans


def leading_units(text: str) -> tuple[list[UnitRef], int]:
    """Known units at the start of a text, chained by ',' / ';' / 'và' or simply written one after
    the other: (units, end offset).

    'Phòng kinh tế chủ trì, …' -> ([Phòng Kinh tế], 13); the end offset is 0 when none.
    """
    toks = _tokenize(text)
    units: list[UnitRef] = []
    end_char = 0
    i = 0
    while i < len(toks):
        found = _unit_at(text, toks, i)
        if not found:
            break
        end_char = toks[found[1] - 1].end
        units.append(UnitRef(found[0], _tidy(text[toks[i].start : end_char])))
        i = found[1]
        if i >= len(toks) or ";" in _gap(text, toks, i) and not _unit_at(text, toks, i):
            break
        if toks[i].key == "va" and not _DELIMITER_RE.search(_gap(text, toks, i)):
            i += 1
        elif not _DELIMITER_RE.search(_gap(text, toks, i)) and not _unit_at(text, toks, i):
            break  # the sentence goes on: 'Phòng Kinh tế chủ trì …
    return units, end_char


def unit_mentions(query: str) -> list[UnitSpan]:
    """The units a user's text refers to, as written ('gửi VH-XH' -> Phòng Văn hóa - Xã hội at 'VH-XH')."""
    toks = _tokenize(query)
    spans: list[UnitSpan] = []
    i = 0
    while i < len(toks):
        found = _alias_at(toks, i, _tables().query_aliases)
        if found:
            spans.append(UnitSpan(found[0], toks[i].start, toks[found[1] - 1].end))
            i = found[1]
        else:
            i += 1
    return spans


def unit_matches(query: str) -> list[str]:
    """Canonical names of the units a user's text refers to ('phong vh-xh' -> ['Phòng Văn hóa - Xã hội'])."""
    return list(dict.fromkeys(span.name for span in unit_mentions(query)))


def known_units() -> dict[str, list[str]]:
    """The alias table: canonical name -> written forms (for documentation and tests)."""
    data = json.loads(ALIASES_PATH.read_text(encoding="utf-8"))
    return {name: list(forms) for name, forms in data["units"].items()}
