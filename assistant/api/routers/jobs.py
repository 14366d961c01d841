"""/api/jobs: the state of background uploads (``POST /api/documents?async=true``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam

from assistant.api.deps import ReadAccess
from assistant.api.errors import APIError
from assistant.api.jobs import JOBS_NOTE, JobQueue
from assistant.api.schemas import API_ERRORS, JobOut, document_links, link

router = APIRouter(prefix="/api/jobs", tags=["Kế hoạch"], responses=API_ERRORS)

JobId = Annotated[
    str, PathParam(max_length=64, description="Mã công việc (trả về khi tải lên với async=true).")
]


@router.get(
    "/{job_id}",
    response_model=JobOut,
    dependencies=[ReadAccess],
    summary="Trạng thái một lần tải lên chạy nền",
    description="Trạng thái công việc nạp tệp: queued, running, done (kèm kế hoạch đã nạp) hoặc failed "
    f"(kèm lý do). 404 nếu không có công việc này. {JOBS_NOTE}",
    responses={
        200: {
            "links": {
                "PollJob": link(
                    "GET", "/api/jobs/{job_id}", "Hỏi lại trạng thái công việc (khi chưa xong).",
                    job_id="$response.body#/id",
                ),
                # the plan, once the job is done (``document`` is null before)
                **document_links("/document/id", delete=True),
            }
        }
    },
)
def get_job(job_id: JobId, request: Request) -> dict[str, Any]:
    jobs: JobQueue = request.app.state.jobs
    job = jobs.get(job_id)
    if job is None:
        raise APIError(
            404,
            f"Không có công việc mã '{job_id[:80]}' (có thể đã quá 1 giờ sau khi xong, máy chủ đã khởi động "
            "lại, hoặc công việc do tiến trình máy chủ khác nhận).",
            loc=("path", "job_id"),
            code="job_not_found",
        )
    return job
