"""A draft as Markdown (the API's JSON carries it; the CLI writes it for ``--out x.md``), and its
provenance as a separate Markdown file (never inside the document to be signed)."""

from __future__ import annotations

from typing import Any

from assistant.drafting.model import PLAN_TYPES, Appendix, Block, Draft, DraftSection, SourceRef

SOURCES_TITLE = "Nguồn tham khảo của bản thảo"
SOURCES_NOTE = ("Tệp nội bộ phục vụ soạn thảo, không phải một phần của Kế hoạch: mỗi phần của bản thảo ghi "
                "kế hoạch mẫu (tên tệp trong kho, xem `plan-assistant documents`) và các dòng đã tham khảo.")


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "/").split())


def blocks_markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            lines += ["", f"**{block.text}**", ""]
        elif block.kind == "bullet":
            lines.append(f"- {block.text}")
        else:
            lines += ["", block.text, ""]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def section_markdown(section: DraftSection) -> str:
    return f"### {section.heading}\n\n{blocks_markdown(section.blocks)}"


def appendix_markdown(appendix: Appendix) -> list[str]:
    columns = appendix.columns
    out = [f"## {appendix.label}", "", f"**{appendix.title}**", "", f"*{appendix.note}*", ""]
    out.append("| " + " | ".join(header for header, _, _ in columns) + " |")
    out.append("|" + "|".join(":---:" if field in ("stt", "deadline", "score") else "---" for _, field, _ in columns)
               + "|")
    for row in appendix.rows:
        if row.group:
            cells = [row.stt, f"**{_cell(row.task)}**", *[""] * (len(columns) - 2)]
        else:
            cells = [_cell(str(getattr(row, field) or "")) for _, field, _ in columns]
        out.append("| " + " | ".join(cells) + " |")
    if appendix.remark:
        out += ["", f"*{appendix.remark}*"]
    return out


def to_markdown(draft: Draft) -> str:
    r = draft.request
    out = [
        "| ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |",
        "|:---:|:---:|",
        f"| **XÃ {r.commune.upper()}** | **Độc lập - Tự do - Hạnh phúc** |",
        f"| {draft.number} | *{draft.place_date}* |",
        "",
        "## KẾ HOẠCH",
        "",
        f"**{draft.title}**",
        "",
        *[line for base in draft.bases for line in (f"*{base}*", "")],
        draft.intro,
        "",
    ]
    for section in draft.sections:
        out += [section_markdown(section), ""]
    out += [draft.closing, "", "**Nơi nhận:**", "", *[f"- {x}" for x in draft.recipients], ""]
    out += [f"**{line}**  " for line in draft.signature_lines]
    out += ["", f"**{draft.signer}**"]
    for appendix in draft.appendices:
        if appendix.rows:
            out += ["", "---", "", *appendix_markdown(appendix)]
    return "\n".join(out).rstrip() + "\n"


# --- provenance ---------------------------------------------------------------------------------


def line_ranges(spans: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """'21–49, 73, 92–146': the spans merged where they touch."""
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in merged)


def _used(refs: list[SourceRef]) -> list[str]:
    return [f"{r.document}" + (f", dòng {line_ranges(r.lines)}" if r.lines else "") for r in refs]


def provenance(draft: Draft) -> list[tuple[str, list[SourceRef]]]:
    """(part of the draft, the examples and lines it drew on), in the order of the draft."""
    parts: list[tuple[str, list[SourceRef]]] = [("Căn cứ", [] if draft.request.bases else draft.bases_sources)]
    parts += [(s.heading, s.sources) for s in draft.sections]
    parts += [(f"{a.label}: {a.title}", a.sources) for a in draft.appendices if a.rows]
    return parts


def sources_markdown(draft: Draft) -> str:
    r = draft.request
    out = [f"# {SOURCES_TITLE}", "", f"*{SOURCES_NOTE}*", "",
           f"- Kế hoạch: {draft.title}", f"- Loại: {PLAN_TYPES[r.plan_type]}", f"- Thời gian: {r.period_text}", ""]
    out += ["## Kế hoạch mẫu đã tham khảo", ""]
    out += [f"- {ref.ref}: `{ref.document}` — xã {ref.commune or '—'}, {ref.province or '—'} ({ref.plan_type}): "
            f"{ref.title}" for ref in draft.references] or ["- Không có (bản thảo chỉ có khung)."]
    out += ["", "## Từng phần của bản thảo", ""]
    for part, refs in provenance(draft):
        if part == "Căn cứ" and r.bases:
            out.append("- Căn cứ: do người soạn nhập.")
            continue
        used = _used(refs)
        llm = next((" (đã biên tập bằng LLM)" for s in draft.sections if s.heading == part and s.used_llm), "")
        out.append(f"- {part}{llm}: " + ("; ".join(used) if used else "không có (nội dung khung, cần bổ sung)."))
    length = draft.length
    if length.example_chars:
        out += ["", "## Độ dài", "",
                f"- Phần nội dung (mục I–V và lời kết): {length.body_chars:,} ký tự; trung bình các kế hoạch mẫu "
                f"cùng loại: {length.examples_mean:,} ký tự (tỷ lệ {length.ratio:.2f}).".replace(",", ".")]
    if draft.warnings:
        out += ["", "## Những điểm cần kiểm tra", "", *[f"- {w}" for w in draft.warnings]]
    return "\n".join(out).rstrip() + "\n"


def sources_json(draft: Draft) -> dict[str, Any]:
    return {
        "examples": [{"ref": r.ref, "doc_id": r.doc_id, "document": r.document, "commune": r.commune,
                      "province": r.province, "plan_type": r.plan_type, "title": r.title} for r in draft.references],
        "parts": [{"part": part, "sources": [{"ref": s.ref, "document": s.document, "lines": [list(x) for x in s.lines]}
                                             for s in refs]} for part, refs in provenance(draft)],
        "length": {"body_chars": draft.length.body_chars, "examples_mean": draft.length.examples_mean,
                   "ratio": draft.length.ratio},
        "warnings": list(draft.warnings),
    }
