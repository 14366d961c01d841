"""Section-aware chunking.

A chunk never crosses a section boundary, never cuts a table row, repeats its table's header
row, and stays inside the embedding model's window. Every chunk's ``text`` starts with a short
prefix naming the plan and section so that it can be read (and embedded) on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.model import Chunk, ParsedDocument, SourceLine
from ingest.parse import heading_level

TokenCounter = Callable[[str], int]
_TERMINAL = (".", ";", ":", "!", "?", "./.", ")")


def approx_tokens(text: str) -> int:
    """A conservative estimate of XLM-R tokens for Vietnamese (used when no tokenizer is given)."""
    return len(text) // 3 + 8


def is_table_line(text: str) -> bool:
    return "\t" in text or (text.startswith("|") and text.count("|") >= 3)


def is_markdown_rule(text: str) -> bool:
    return bool(re.fullmatch(r"\|?[\s:|-]+\|?", text)) and "-" in text


@dataclass
class _Block:
    section: tuple[str, ...]
    kind: str  # text | table
    lines: list[SourceLine]


def join_wrapped(lines: list[SourceLine]) -> str:
    """Join lines into paragraphs: a PDF line that does not end a sentence and is followed by
    a line that starts in lower case (or continues a word) is the same paragraph."""
    out: list[str] = []
    previous_heading = False
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        heading = heading_level(text) is not None
        starts_item = heading or bool(re.match(r"^([-+•*]|\d+[.)]|[a-zđ]\))\s", text))
        if out and not previous_heading and not starts_item and not out[-1].endswith(_TERMINAL):
            out[-1] = f"{out[-1]} {text}"
        else:
            out.append(text)
        previous_heading = heading and len(text) < 70 and not re.search(r":\s*\S", text)
    return "\n".join(out)


def _blocks(doc: ParsedDocument) -> Iterator[_Block]:
    current: _Block | None = None
    for line, section in zip(doc.lines, doc.sections, strict=True):
        if not line.text:
            continue
        kind = "table" if is_table_line(line.text) else "text"
        if current and current.section == section and current.kind == kind:
            current.lines.append(line)
            continue
        if current:
            yield current
        current = _Block(section, kind, [line])
    if current:
        yield current


def context_prefix(doc: ParsedDocument, section: str) -> str:
    meta = doc.metadata
    where = f"xã {meta.commune}" if meta.commune else doc.filename
    if meta.province:
        where += f", {meta.province}"
    title = meta.title or doc.filename
    return f"[{where}] {title[:160]}" + (f" | {section}" if section else "")


def make_chunk(
    doc: ParsedDocument, section: str, body: str, kind: str, line_start: int, line_end: int, **metadata: object
) -> Chunk:
    """A chunk whose text is its body behind the context prefix; the id hashes that text."""
    text = f"{context_prefix(doc, section)}\n{body}"
    salt = "\x00record" if kind == "record" else ""
    return Chunk(
        chunk_id=hashlib.sha256(f"{doc.doc_id}{salt}\x00{text}".encode()).hexdigest()[:32],
        doc_id=doc.doc_id, text=text, body=body, section=section, kind=kind,
        line_start=line_start, line_end=line_end, metadata=dict(metadata),
    )


def chunk_document(
    doc: ParsedDocument, *, max_tokens: int = 380, count_tokens: TokenCounter = approx_tokens
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for block in _blocks(doc):
        section = " > ".join(block.section)
        budget = max(64, max_tokens - count_tokens(context_prefix(doc, section)))
        pieces = _split_table(block.lines, budget, count_tokens) if block.kind == "table" else (
            _split_text(block.lines, budget, count_tokens)
        )
        for piece in pieces:
            for fitted in _fit(doc, section, block.kind, piece, max_tokens, count_tokens):
                body = _body(block.kind, fitted)
                if body.strip():
                    chunks.append(make_chunk(doc, section, body, block.kind, fitted[0].no, fitted[-1].no))
    return _merge_small(chunks, doc, max_tokens, count_tokens)


def _body(kind: str, lines: list[SourceLine]) -> str:
    return join_wrapped(lines) if kind == "text" else "\n".join(line.text for line in lines)


def _fit(
    doc: ParsedDocument, section: str, kind: str, piece: list[SourceLine], max_tokens: int, count: TokenCounter
) -> list[list[SourceLine]]:
    """Split a piece in halves until its real token count (prefix included) fits the window.

    The line-by-line split above is an estimate; this check is exact. A single line longer than
    the window stays whole (the model truncates it).
    """
    if len(piece) == 1 or count(make_chunk(doc, section, _body(kind, piece), kind, 0, 0).text) <= max_tokens:
        return [piece]
    header = piece[:2] if len(piece) > 1 and is_markdown_rule(piece[1].text) else piece[:1]
    middle = max(len(piece) // 2, len(header) + 1) if kind == "table" else len(piece) // 2
    if middle >= len(piece):
        return [piece]
    head, tail = piece[:middle], piece[middle:]
    if kind == "table":
        tail = [*header, *tail]  # the second half keeps the header row (and markdown rule)
    return _fit(doc, section, kind, head, max_tokens, count) + _fit(doc, section, kind, tail, max_tokens, count)


def _split_text(lines: list[SourceLine], budget: int, count: TokenCounter) -> list[list[SourceLine]]:
    return _pack(lines, budget, count, header=[], prefer_cut=True)


def _split_table(lines: list[SourceLine], budget: int, count: TokenCounter) -> list[list[SourceLine]]:
    """Rows stay whole; every piece after the first repeats the header (and markdown rule)."""
    header = lines[:2] if len(lines) > 1 and is_markdown_rule(lines[1].text) else lines[:1]
    return _pack(lines, budget, count, header=header, prefer_cut=False)


def _pack(
    lines: list[SourceLine], budget: int, count: TokenCounter, header: list[SourceLine], prefer_cut: bool
) -> list[list[SourceLine]]:
    """Greedy packing by estimated cost (``_fit`` checks the exact count afterwards).

    Text prefers to cut before a bullet or after a sentence end among the last lines; a table
    starts every new piece with its header.
    """

    # each line counted once ('<s>', 'passage: ', '</s>' are paid once per chunk), the piece's cost kept as it grows
    costs = {id(line): count(line.text) - 5 for line in lines}
    pieces: list[list[SourceLine]] = []
    current: list[SourceLine] = []
    total = 0
    for line in lines:
        if current and total + costs[id(line)] > budget:
            cut = len(current)
            if prefer_cut:
                for k in range(len(current) - 1, max(0, len(current) - 6), -1):
                    if current[k].text.startswith(("-", "+")) or current[k - 1].text.endswith(_TERMINAL):
                        cut = k
                        break
            pieces.append(current[:cut])
            current = current[cut:] if prefer_cut else [x for x in header if x is not line]
            total = sum(costs[id(x)] for x in current)
        current.append(line)
        total += costs[id(line)]
    if current:
        pieces.append(current)
    return pieces


def _merge_small(chunks: list[Chunk], doc: ParsedDocument, max_tokens: int, count: TokenCounter) -> list[Chunk]:
    """Merge a tiny text chunk (a lone heading) into the next chunk of the same section family."""
    merged: list[Chunk] = []
    pending: Chunk | None = None
    for chunk in chunks:
        if pending is not None:
            same_family = chunk.kind == "text" and chunk.section.startswith(pending.section)
            merged_chunk = make_chunk(
                doc, chunk.section, f"{pending.body}\n{chunk.body}", chunk.kind, pending.line_start, chunk.line_end
            )
            if same_family and count(merged_chunk.text) <= max_tokens:
                chunk = merged_chunk
            else:
                merged.append(pending)
            pending = None
        if chunk.kind == "text" and len(chunk.body) < 80:
            pending = chunk
            continue
        merged.append(chunk)
    if pending is not None:
        merged.append(pending)
    return merged
