"""A draft as Markdown (the API's JSON carries it; the CLI writes it for ``--out x.md``)."""

from __future__ import annotations

import hashlib

from assistant.drafting.model import Block, Draft, DraftSection, SourceRef

APPENDIX_HEADER = ("STT", "Nhiệm vụ, chỉ tiêu", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian, chỉ tiêu")
REFERENCES_TITLE = "Nguồn tham khảo"
REFERENCES_NOTE = ("(Phụ lục nội bộ phục vụ soạn thảo: ghi các kế hoạch mẫu đã tham khảo cho từng mục; "
                   "xóa phụ lục này trước khi trình ký.)")


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


def reference_lines(draft: Draft) -> list[str]:
    """The "Nguồn tham khảo" annex: which example (by its code, never by commune) each part drew on."""
    def codes(refs: list[SourceRef]) -> str:
        return ", ".join(
            r.label + (" — dòng " + ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in r.lines[:6]) if r.lines else "") for r in refs
        ) or "không có (nội dung khung, cần bổ sung)"

    lines = [f"Căn cứ: {codes(draft.bases_sources)}" if not draft.request.bases else "Căn cứ: do người soạn nhập"]
    lines += [f"{s.heading}: {codes(s.sources)}" + (" (đã biên tập bằng LLM)" if s.used_llm else "")
              for s in draft.sections]
    lines.append(f"Phụ lục: {codes(draft.appendix_sources)}")
    lines += [f"{r.ref}: kế hoạch mẫu mã {example_code(r)} trong kho kế hoạch ({r.plan_type})" for r in draft.references]
    return lines


def example_code(ref: SourceRef) -> str:
    """A code for an example that does not spell its commune (its file name does)."""
    return hashlib.sha1(ref.doc_id.encode()).hexdigest()[:8]


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
        *[line for base in draft.bases for line in (base, "")],
        draft.intro,
        "",
    ]
    for section in draft.sections:
        out += [section_markdown(section), ""]
    out += [draft.closing, "", "**Nơi nhận:**", "", *[f"- {x}" for x in draft.recipients], ""]
    out += [f"**{line}**  " for line in draft.signature_lines]
    out += ["", f"**{draft.signer}**", "", "---", "", "## PHỤ LỤC", "", f"**{draft.appendix_title}**", "",
            f"*{draft.appendix_note}*", ""]
    out.append("| " + " | ".join(APPENDIX_HEADER) + " |")
    out.append("|:---:|---|---|---|---|")
    for row in draft.appendix_rows:
        cells = [row.stt, f"**{_cell(row.task)}**" if row.group else _cell(row.task), _cell(row.lead),
                 _cell(row.partners), _cell(row.deadline)]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "---", "", f"## {REFERENCES_TITLE}", "", f"*{REFERENCES_NOTE}*", ""]
    out += [f"- {line}" for line in reference_lines(draft)]
    return "\n".join(out).rstrip() + "\n"
