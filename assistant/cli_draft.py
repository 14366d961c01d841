"""`plan-assistant draft`: draft a new commune plan from the example plans (.docx or .md).

Next to the draft it writes its provenance (``…-nguon-tham-khao.md``): the examples and lines each
part drew on, the length against the examples, and what to check before signing. Messages print
bracketed placeholders such as "[cần kiểm tra]" literally (no console markup in drafted text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from assistant.services import Services
from core.config import get_settings

console = Console()
err = Console(stderr=True)
SUFFIXES = (".docx", ".md")


def get_services() -> Services:
    """The service container, with the default corpus ingested on an empty index."""
    services = Services(get_settings())
    services.ensure_corpus()
    return services


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Lỗi:[/] {escape(message)}", markup=True, highlight=False)
    return typer.Exit(1)


def sources_path(out: Path) -> Path:
    """Where the provenance of a draft goes: next to it, 'ke-hoach-…-2027-nguon-tham-khao.md'."""
    return out.with_name(f"{out.stem}-nguon-tham-khao.md")


def draft(
    commune: Annotated[str | None, typer.Option("--commune", "-c", help="Tên xã cần soạn kế hoạch (bắt buộc), "
                                                "ví dụ: \"Tân Lập\".")] = None,
    province: Annotated[str | None, typer.Option("--province", "-p", help="Tỉnh/thành phố, ví dụ: \"Đồng Nai\".")]
    = None,
    type: Annotated[str | None, typer.Option("--type", "-t", help="Loại kế hoạch (bắt buộc): pii (nâng cao Chỉ số "
                                             "PII), nq57 (thực hiện Nghị quyết 57-NQ/TW), innovative (mô hình "
                                             "“Xã đổi mới sáng tạo”).")] = None,
    year: Annotated[str | None, typer.Option("--year", "-y", help="Năm hoặc giai đoạn (bắt buộc), ví dụ 2027 "
                                             "hoặc 2027-2030.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Tệp kết quả: .docx (mặc định, theo Nghị định "
                                             "30/2020/NĐ-CP) hoặc .md.", dir_okay=False)] = None,
    bases: Annotated[list[str] | None, typer.Option("--base", "-b", help="Một văn bản làm căn cứ (lặp lại để thêm); "
                                                    "bỏ trống: đề xuất từ kế hoạch mẫu, đánh dấu [cần kiểm tra].")]
    = None,
    units: Annotated[list[str] | None, typer.Option("--unit", "-u", help="Một đơn vị của xã (lặp lại, tối đa 20); "
                                                    "bỏ trống: các đơn vị có trong kế hoạch mẫu.")] = None,
    focus: Annotated[list[str] | None, typer.Option("--focus", "-f", help="Một lĩnh vực trọng tâm (lặp lại, tối đa "
                                                    "10), ví dụ: \"nông nghiệp\".")] = None,
    signer: Annotated[str | None, typer.Option("--signer", "-s", help="Họ và tên người ký.")] = None,
    role: Annotated[str | None, typer.Option("--role", "-r", help="Chức vụ người ký: \"Chủ tịch\" (mặc định) hoặc "
                                             "\"Phó Chủ tịch\".")] = None,
    llm: Annotated[bool | None, typer.Option("--llm/--no-llm", help="Biên tập từng mục bằng LLM (mặc định: khi đã "
                                             "cấu hình llm_base_url).")] = None,
    examples: Annotated[list[str] | None, typer.Option("--example", "-e", help="Chỉ soạn từ kế hoạch mẫu này (mã "
                                                       "hoặc tên tệp, xem `plan-assistant documents`; lặp lại để "
                                                       "chọn nhiều).")] = None,
) -> None:
    """Soạn bản thảo kế hoạch cấp xã từ các kế hoạch mẫu (xuất .docx hoặc .md)."""
    from assistant.drafting import DraftInputError, DraftRequest
    from assistant.drafting.docx_export import write_docx
    from assistant.drafting.markdown_export import sources_markdown, to_markdown

    try:
        request = DraftRequest.build(commune=commune, province=province, plan_type=type, year=year, bases=bases,
                                     units=units, focus=focus, signer=signer, role=role, use_llm=llm,
                                     examples=examples)
    except DraftInputError as exc:
        raise _fail(str(exc)) from None
    if out is None:
        out = Path(request.file_name("docx"))
    if out.suffix.lower() not in SUFFIXES:
        raise _fail(f"tệp kết quả phải có đuôi .docx hoặc .md (nhận “{out.name}”)")
    if not out.parent.is_dir():
        raise _fail(f"không có thư mục “{out.parent}”")
    with console.status("Đang soạn bản thảo…"):
        try:
            result = get_services().drafter.draft(request)
        except DraftInputError as exc:
            raise _fail(str(exc)) from None
        if out.suffix.lower() == ".md":
            out.write_text(to_markdown(result), encoding="utf-8")
        else:
            write_docx(result, out)
        sources = sources_path(out)
        sources.write_text(sources_markdown(result), encoding="utf-8")
    console.print(f"[green]✓[/] {escape(f'Đã soạn “{result.title}” → {out}')}", highlight=False)
    console.print(escape(f"Nguồn tham khảo (không kèm theo văn bản): {sources}"), highlight=False)
    refs = ", ".join(f"{r.ref} = {r.document}" for r in result.references)
    console.print(escape(f"Kế hoạch mẫu đã tham khảo: {refs or 'không có'}"), highlight=False)
    rows = sum(not r.group for r in result.appendix_rows)
    console.print(escape(f"Phụ lục: {rows} dòng nhiệm vụ, chỉ tiêu. Phần nội dung: {result.length.body_chars} ký tự "
                         f"(trung bình kế hoạch mẫu cùng loại: {result.length.examples_mean})."), highlight=False)
    for warning in result.warnings:
        console.print(f"[yellow]Lưu ý:[/] {escape(warning)}", highlight=False)
