"""GET /health (liveness) and GET /ready (index loaded)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.access import may_read
from assistant.api.schemas import HealthResponse, ReadyResponse

router = APIRouter(tags=["Tình trạng"])


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Máy chủ hoạt động và sẵn sàng trả lời",
    responses={503: {"model": HealthResponse, "description": "Máy chủ đang khởi động (đang nạp chỉ mục)."}},
)
def health(request: Request) -> HealthResponse | JSONResponse:
    """200 khi máy chủ đã sẵn sàng trả lời; 503 `starting` trong lúc khởi động (nạp mô hình, chỉ mục)."""
    if not request.app.state.ready:
        return JSONResponse(HealthResponse(status="starting").model_dump(), status_code=503)
    return HealthResponse(status="ok")


@router.get(
    "/ready",
    response_model=ReadyResponse,
    summary="Chỉ mục đã sẵn sàng",
    responses={503: {"model": ReadyResponse, "description": "Chỉ mục đang được nạp hoặc nạp lỗi."}},
)
def ready(request: Request) -> ReadyResponse | JSONResponse:
    """200 khi chỉ mục đã nạp xong (kèm số kế hoạch nếu có quyền đọc); 503 khi đang khởi động hoặc lỗi."""
    state = request.app.state
    if not state.ready:
        body = ReadyResponse(ready=False, error=state.ready_error)
        return JSONResponse(body.model_dump(), status_code=503)
    if not may_read(state.services.settings, request.headers, request.cookies):
        return ReadyResponse(ready=True)  # counts and communes only for those who may read
    snapshot = state.services.store.snapshot
    return ReadyResponse(
        ready=True,
        documents=len(snapshot.documents),
        chunks=sum(c.kind != "record" for c in snapshot.chunks),
        records=len(snapshot.records),
        communes=snapshot.communes,
    )
