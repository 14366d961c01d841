"""Text normalization for Vietnamese administrative documents.

Everything here is deterministic and keeps line numbers stable: it rewrites the text of a
line but never merges or splits lines (dropping noise lines is done by ``drop_noise_lines``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

# --- diacritic folding ------------------------------------------------------------------

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


class _CachedByLength:
    """A text function cached apart for short texts (words and names: they recur without end, many are kept) and
    long ones (a fact's, a chunk's: few are kept, so that questions over 1,000 plans do not hold tens of thousands
    of them, tens of MiB)."""

    SHORT = 64

    def __init__(self, function: Callable[[str], str]) -> None:
        self.short = lru_cache(maxsize=65536)(function)
        self.long = lru_cache(maxsize=4096)(function)

    def __call__(self, text: str) -> str:
        return self.short(text) if len(text) <= self.SHORT else self.long(text)


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


_stripped = _CachedByLength(_strip_diacritics)


def strip_diacritics(text: str) -> str:
    """'Phòng Văn hóa' -> 'Phong Van hoa' (case kept)."""
    return _stripped(text)


_NON_ALNUM_RE = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    return _NON_ALNUM_RE.sub(" ", _strip_diacritics(text.lower())).strip()


_folded = _CachedByLength(_fold)


def fold(text: str) -> str:
    """Lowercase, without diacritics, punctuation collapsed to single spaces."""
    return _folded(text)


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lowercased word tokens (syllables for Vietnamese), with diacritics."""
    return _WORD_RE.findall(text.lower())


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """Folded abbreviation -> folded full form, from ``abbreviations.json``."""
    path = Path(__file__).with_name("abbreviations.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    return {fold(k): fold(v) for k, v in table.items() if not k.startswith("_")}


def abbreviation_at(tokens: list[str] | tuple[str, ...], i: int) -> tuple[int, str | None]:
    """(how many folded tokens from ``i`` an abbreviation spans, its folded full form), or (1, None) when none
    starts there. An abbreviation of several words once folded ('KT-XH' -> 'kt xh', 'KH&CN' -> 'kh cn') is taken
    whole, before its words alone ('kh' alone is 'kế hoạch')."""
    if tokens[i] not in _abbreviation_starts():
        return 1, None
    table = abbreviations()
    for n in range(min(_longest_abbreviation(), len(tokens) - i), 0, -1):
        full = table.get(" ".join(tokens[i : i + n]))
        if full is not None:
            return n, full
    return 1, None


def expand_abbreviations(folded: str) -> str:
    """Folded text with the full form added after each known abbreviation ('dvctt' -> 'dvctt dich vu …').

    For matching only: a question typed with the full form meets a table written in short form.
    """
    tokens = folded.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        n, full = abbreviation_at(tokens, i)
        out += tokens[i : i + n] if full is None else [*tokens[i : i + n], full]
        i += n
    return " ".join(out)


@lru_cache(maxsize=1)
def _abbreviation_starts() -> frozenset[str]:
    return frozenset(k.split()[0] for k in abbreviations() if k)


@lru_cache(maxsize=1)
def _longest_abbreviation() -> int:
    return max((len(k.split()) for k in abbreviations()), default=1)


# --- Vietnamese syllables (used to repair lost letters) ------------------------------------

_ONSETS = ["ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x"]
_RHYME_RE = re.compile(
    r"^(?:"
    r"(?:oai|oay|oao|oeo|uây|uôi|ươi|ươu|iêu|yêu|uya|uyê|uyu|uơ|ươ|uô|iê|yê|ưa|ưu|ưi|ua|uâ|uê|ui|uy|oa|oă|oe|oi|ôi|ơi"
    r"|ai|ao|au|âu|ay|ây|eo|êu|ia|iu|a|ă|â|e|ê|i|y|o|ô|ơ|u|ư)"
    r"(?:ch|nh|ng|c|m|n|p|t)?"
    r")$"
)
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))


@lru_cache(maxsize=65536)
def is_vietnamese_syllable(token: str) -> bool:
    """Structural check: onset + rhyme (vowel nucleus, optional coda)."""
    word = _strip_tone(token.lower())
    if not word or not word.isalpha():
        return False
    return any(word.startswith(onset) and _RHYME_RE.match(word[len(onset):]) for onset in [*_ONSETS, ""])


# Non-Vietnamese words that appear with the same lost letter; data, easy to extend.
_LOANWORDS = {"internet", "email", "website", "server", "center", "smartphone"}


def _repair_lost_e(line: str) -> str:
    """Repair a lost 'e' that the PDF extraction turned into a space.

    'th o' -> 'theo', 'kh n' -> 'khen', 'int rn t' -> 'internet', 'trẻ  m' -> 'trẻ em',
    'khỏ  điện' -> 'khỏe điện'. A repair is applied only when the fragments are not words
    on their own and the repaired word is a valid syllable (or a known loanword).
    """

    def fragment_ok(frag: str) -> bool:
        return is_vietnamese_syllable(frag) or frag.isupper() or frag.lower() in _LOANWORDS

    # a run of letter fragments separated by single spaces, where some fragment is not a word
    def join_run(match: re.Match[str]) -> str:
        frags = match.group(0).split(" ")
        out: list[str] = []
        i = 0
        while i < len(frags):
            merged = False
            for j in range(min(len(frags), i + 4), i + 1, -1):  # try the longest merge first
                group = frags[i:j]
                if all(fragment_ok(f) for f in group):
                    continue
                candidate = "e".join(group)
                if is_vietnamese_syllable(candidate) or candidate.lower() in _LOANWORDS:
                    out.append(candidate)
                    i = j
                    merged = True
                    break
            if not merged:
                out.append(frags[i])
                i += 1
        return " ".join(out)

    line = re.sub(r"(?<!\w)[^\W\d_]+(?: [^\W\d_]+)+(?!\w)", join_run, line)

    # a double space where the lost 'e' ended or began a word: 'khỏ  điện', 'trẻ  m'
    def fix_double(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if is_vietnamese_syllable(left + "e") and is_vietnamese_syllable(right):
            return f"{left}e {right}"
        if not fragment_ok(right) and is_vietnamese_syllable("e" + right):
            return f"{left} e{right}"
        return match.group(0)

    return re.sub(r"(?<!\w)([^\W\d_]+)  ([^\W\d_]+)(?!\w)", fix_double, line)


# --- LaTeX fragments -------------------------------------------------------------------------

_LATEX_SYMBOLS = {
    r"\geq": "≥", r"\ge": "≥", r"\leq": "≤", r"\le": "≤", r"\neq": "≠", r"\times": "×",
    r"\pm": "±", r"\approx": "≈", r"\%": "%", r"\cdot": "·", r"\to": "→", r"\rightarrow": "→",
    r"\,": " ", r"\;": " ", r"\ ": " ",
}
_LATEX_MATH_RE = re.compile(r"\$([^$\n]{1,80})\$")
_LATEX_CMD_RE = re.compile(r"\\(?:text|mathrm|mathbf|textbf)\{([^{}]*)\}")


def _latex_to_text(match: re.Match[str]) -> str:
    body = _LATEX_CMD_RE.sub(r"\1", match.group(1))
    for cmd in sorted(_LATEX_SYMBOLS, key=len, reverse=True):
        body = body.replace(cmd, _LATEX_SYMBOLS[cmd])
    body = body.replace("{", "").replace("}", "")
    return " ".join(body.split())


# --- the per-line normalizer ------------------------------------------------------------------

_MD_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_MD_BOLD_OPEN_RE = re.compile(r"^\*\*|\*\*$")
_MD_ITALIC_RE = re.compile(r"(?<![\w*])\*([^\s*][^*]*?)\*(?![\w*])")
_SPACES_RE = re.compile(r"[ \u00a0\u2000-\u200b\u202f]+")
_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-", "−": "-"})


def normalize_line(line: str) -> str:
    """NFC, LaTeX -> symbols, markdown emphasis removed, lost letters repaired, spaces tidied.

    Tabs are kept: they separate table cells.
    """
    text = unicodedata.normalize("NFC", line).replace("\ufeff", "")
    text = _LATEX_MATH_RE.sub(_latex_to_text, text)
    text = _MD_BOLD_RE.sub(r"\1", text)
    text = _MD_BOLD_OPEN_RE.sub("", text)
    text = _MD_ITALIC_RE.sub(r"\1", text)
    text = text.replace("\u00a0", " ")
    text = _repair_lost_e(text)
    cells = [" ".join(_SPACES_RE.sub(" ", cell).split()) for cell in text.split("\t")]
    return "\t".join(cells).rstrip("\t") if len(cells) > 1 else cells[0]


def normalize_dashes(text: str) -> str:
    """En/em dashes to '-' (used when matching unit names, not in displayed text)."""
    return text.translate(_DASHES)


# --- noise lines ---------------------------------------------------------------------------------

_PAGE_NUMBER_RE = re.compile(r"^\s*(?:-\s*)?(?:Trang\s+)?\d{1,3}(?:\s*-)?\s*$", re.IGNORECASE)


def drop_noise_lines(lines: list[str]) -> list[bool]:
    """Flags (True = keep) for raw lines: bare page numbers of flattened PDFs are dropped.

    A bare number is a page number only when it stands apart (two or more blank lines before
    it): table rows of flattened PDFs also start with a bare number, but right after content.
    """
    keep = [True] * len(lines)
    for i, line in enumerate(lines):
        if not _PAGE_NUMBER_RE.match(line):
            continue
        blanks_before = 0
        j = i - 1
        while j >= 0 and not lines[j].strip():
            blanks_before += 1
            j -= 1
        if blanks_before >= 2 or j < 0:
            keep[i] = False
    return keep
