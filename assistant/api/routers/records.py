"""GET /api/records: structured records (indicators, targets, tasks, duties), as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from assistant.api.deps import ReadAccess, Ready, ServicesDep, attachment, optional_text
from assistant.api.errors import APIError
from assistant.api.schemas import API_ERRORS, DOCUMENT_PATH, RecordOut, link
from assistant.records_query import RecordFilter, RecordQueryError, export_filename, query_records, to_csv

router = APIRouter(prefix="/api", tags=["Bản ghi"], dependencies=[ReadAccess, Ready], responses=API_ERRORS)


@router.get(
    "/records",
    response_model=list[RecordOut],
    summary="Tra cứu chỉ tiêu, nhiệm vụ, đơn vị chủ trì",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "Danh sách bản ghi.",
            "links": {
                "RecordDocument": link(
                    "GET", DOCUMENT_PATH, "Kế hoạch chứa bản ghi đầu tiên (với format=json).",
                    doc_id="$response.body#/0/doc_id",
                )
            },
        }
    },
)
def records(
    services: ServicesDep,
    commune: Annotated[str | None, Query(max_length=200, description="Xã (có dấu hoặc không dấu).")] = None,
    unit: Annotated[
        str | None,
        Query(
            max_length=200, description="Đơn vị chủ trì hoặc phối hợp (tên chuẩn hoặc như trong kế hoạch)."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=50,
            description="Loại: indicator, target, task, schedule, kpi, duty (hoặc tên tiếng Việt).",
        ),
    ] = None,
    year: Annotated[
        int | None, Query(ge=1900, le=2100, description="Năm thực hiện hoặc năm của mục tiêu.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=500, description="Từ khóa trong nội dung (có dấu hoặc không dấu, gần đúng)."),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=100000, description="Số bản ghi tối đa.")] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json (mặc định) hoặc csv (tải về, mở được bằng Excel).")
    ] = "json",
) -> Any:
    """Lọc các bản ghi có cấu trúc của mọi kế hoạch; mọi điều kiện đều tùy chọn và được kết hợp (AND)."""
    snapshot = services.store.snapshot
    flt = RecordFilter(
        commune=optional_text(commune),
        unit=optional_text(unit),
        kind=optional_text(kind),
        year=year,
        q=optional_text(q),
    )
    try:
        matches = query_records(snapshot.records, snapshot.documents, flt, limit=limit)
    except RecordQueryError as exc:
        raise APIError(
            422, f"Tham số không hợp lệ: {exc}", loc=("query", "kind"), code="kind_invalid"
        ) from None
    if format == "csv":
        return Response(
            to_csv(matches).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            # named after the filter, as the UI's downloads: phan-cong-vinh-thuan-2026.csv
            headers=attachment(export_filename(flt, "csv")),
        )
    return [m.to_dict() for m in matches]
