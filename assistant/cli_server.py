"""CLI commands `serve` and `records` (registered in ``assistant.cli``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from assistant.records_query import RecordFilter, RecordQueryError, query_records, to_csv
from core.config import get_settings
from ingest.record_text import KIND_LABELS, attrs_text, targets_text, unit_names

console = Console()
err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Địa chỉ lắng nghe (mặc định 127.0.0.1; dùng 0.0.0.0 để mở cho mạng nội bộ, nên kèm khóa API)."
        ),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Cổng (mặc định 8000 hoặc PLAN_ASSISTANT_PORT).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64,
            help="Số tiến trình phục vụ (mặc định 1). Nhiều tiến trình dùng chung chỉ mục; mỗi tiến trình nạp một "
            "mô hình nhúng (khoảng 1 GB bộ nhớ).",
        ),
    ] = None,
) -> None:
    """Chạy máy chủ: API tại /api, tài liệu tại /docs, giao diện tại /ui, chuẩn OpenAI tại /v1."""
    from assistant.server import serve as run

    run(host, port, workers)


def records(
    commune: Annotated[
        str | None, typer.Option("--commune", "-x", help="Xã (có dấu hoặc không dấu).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Đơn vị chủ trì hoặc phối hợp.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help=f"Loại bản ghi: {', '.join(KIND_LABELS)} (hoặc tên tiếng Việt)."),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="Năm thực hiện hoặc năm của mục tiêu.")
    ] = None,
    q: Annotated[
        str | None, typer.Option("--q", "-q", help="Từ khóa trong nội dung (gần đúng, có dấu hoặc không).")
    ] = None,
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Định dạng: table, json hoặc csv.")
    ] = OutputFormat.table,
) -> None:
    """Tra cứu chỉ tiêu, nhiệm vụ, đơn vị chủ trì/phối hợp trong các kế hoạch đã nạp."""
    from assistant.services import Services

    snapshot = Services(get_settings()).store.snapshot
    try:
        matches = query_records(
            snapshot.records,
            snapshot.documents,
            RecordFilter(commune=commune, unit=unit, kind=kind, year=year, q=q),
        )
    except RecordQueryError as exc:
        err.print(f"[bold red]Lỗi:[/] {exc}")
        raise typer.Exit(2) from None
    if format is OutputFormat.json:
        print(json.dumps([m.to_dict() for m in matches], ensure_ascii=False, indent=2))
    elif format is OutputFormat.csv:
        print(to_csv(matches, bom=False), end="")
    else:
        table = Table(title=f"{len(matches)} bản ghi")
        for column in ("Xã", "Loại", "STT", "Nội dung", "Chủ trì", "Phối hợp", "Thời gian", "Chi tiết", "Dòng"):
            table.add_column(column)
        for m in matches:
            r = m.record
            table.add_row(
                m.commune or "—",
                KIND_LABELS.get(r.kind, r.kind),
                r.row_no or "",
                r.subject,
                unit_names(r.leads) or "—",
                unit_names(r.partners) or "—",
                r.deadline or "—",
                targets_text(r) or attrs_text(r) or "—",
                f"{r.line_start}–{r.line_end}",
            )
        console.print(table)
