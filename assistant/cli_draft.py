"""`plan-assistant draft`: draft a new commune plan from the example plans (.docx or .md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assistant.config import get_settings
from assistant.services import Services

console = Console()
err = Console(stderr=True)
SUFFIXES = (".docx", ".md")


def get_services() -> Services:
    """The service container, with the default corpus ingested on an empty index."""
    services = Services(get_settings())
    services.ensure_corpus()
    return services


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]Lỗi:[/] {message}", markup=True, highlight=False)
    return typer.Exit(1)


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
) -> None:
    """Soạn bản thảo kế hoạch cấp xã từ các kế hoạch mẫu (xuất .docx hoặc .md)."""
    from assistant.drafting import DraftInputError, DraftRequest
    from assistant.drafting.docx_export import write_docx
    from assistant.drafting.markdown_export import to_markdown

    try:
        request = DraftRequest.build(commune=commune, province=province, plan_type=type, year=year, bases=bases,
                                     units=units, focus=focus, signer=signer, role=role, use_llm=llm)
    except DraftInputError as exc:
        raise _fail(str(exc)) from None
    if out is None:
        slug = re.sub(r"[^a-z0-9]+", "-", _ascii(request.commune)).strip("-") or "xa"
        out = Path(f"ke-hoach-{request.plan_type}-{slug}-{request.start_year}.docx")
    if out.suffix.lower() not in SUFFIXES:
        raise _fail(f"tệp kết quả phải có đuôi .docx hoặc .md (nhận “{out.name}”)")
    if not out.parent.is_dir():
        raise _fail(f"không có thư mục “{out.parent}”")
    with console.status("Đang soạn bản thảo…"):
        result = get_services().drafter.draft(request)
        if out.suffix.lower() == ".md":
            out.write_text(to_markdown(result), encoding="utf-8")
        else:
            write_docx(result, out)
    console.print(f"[green]✓[/] Đã soạn “{result.title}” → {out}", highlight=False)
    refs = ", ".join(f"{r.ref} = xã {r.commune or '—'} ({r.document})" for r in result.references)
    console.print(f"Kế hoạch mẫu đã tham khảo: {refs or 'không có'}", highlight=False)
    console.print(f"Phụ lục: {sum(not r.group for r in result.appendix_rows)} dòng nhiệm vụ, chỉ tiêu.")
    for warning in result.warnings:
        console.print(f"[yellow]Lưu ý:[/] {warning}", highlight=False)


def _ascii(text: str) -> str:
    from ingest.normalize import fold

    return fold(text)
