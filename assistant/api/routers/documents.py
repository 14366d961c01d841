"""/api/documents: list, read, upload (ingested on arrival, or as a background job), correct metadata, delete,
reindex."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assistant.api.deps import ReadAccess, Ready, ServicesDep, WriteAccess
from assistant.api.errors import MB, APIError
from assistant.api.jobs import JOBS_NOTE, JobQueue
from assistant.api.schemas import (
    API_ERRORS,
    DeleteResult,
    DocumentDetail,
    DocumentSummary,
    JobOut,
    MetadataCorrection,
    ReindexFailure,
    ReindexResult,
    UploadResult,
    document_links,
    link,
)
from assistant.indexing import MetadataCorrectionError, source_warnings
from assistant.services import Services
from ingest.loaders import SUPPORTED_SUFFIXES
from vectorstore.catalog import DocumentRow

logger = logging.getLogger("assistant.api")
router = APIRouter(prefix="/api/documents", tags=["Kế hoạch"], dependencies=[Ready], responses=API_ERRORS)

MAX_FILENAME_CHARS = 120
COPY_CHUNK = 1024 * 1024
_UNSAFE_CHARS = re.compile(r"[^\w.\- ()]+")
DocId = Annotated[str, PathParam(max_length=200, description="Mã kế hoạch (xem GET /api/documents).")]

FORCE_DESCRIPTION = (
    "Xác nhận nạp tệp dù tệp không giống một kế hoạch (thiếu quốc hiệu/tiêu ngữ, tiêu đề KẾ HOẠCH, "
    "các mục đánh số). Mặc định false: tệp như vậy bị từ chối với mã lỗi `not_a_plan`."
)
ASYNC_DESCRIPTION = (
    "true: nạp trong nền; trả 202 ngay kèm mã công việc và tiêu đề `Location` tới `GET /api/jobs/{job_id}`. "
    "Mặc định false: chờ nạp xong rồi trả kế hoạch (201 hoặc 200)."
)
_BOOL = TypeAdapter(bool)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "Tệp kế hoạch: .txt, .md, .docx hoặc .pdf.",
                        },
                        "force": {
                            "type": "boolean",
                            "default": False,
                            "description": FORCE_DESCRIPTION,
                        },
                    },
                }
            }
        },
    }
}


def safe_filename(name: str) -> str:
    """The base name only, without path parts or unsafe characters: '../../etc/passwd.txt' -> 'passwd.txt'."""
    base = PureWindowsPath(PurePosixPath(unicodedata.normalize("NFC", name or "")).name).name
    suffix = _UNSAFE_CHARS.sub("_", Path(base).suffix.lower())
    stem = _UNSAFE_CHARS.sub("_", base[: len(base) - len(suffix)]).strip(" ._")
    stem = stem[: MAX_FILENAME_CHARS - len(suffix)] or "ke-hoach"
    return f"{stem}{suffix}"


def summary(row: DocumentRow) -> dict[str, Any]:
    return {
        "id": row.doc_id,
        "filename": row.filename,
        "metadata": row.metadata,
        "chunks": row.n_chunks,
        "records": row.n_records,
        "ingested_at": row.ingested_at,
        "warnings": source_warnings(row.metadata),
        "corrected_fields": row.corrected_fields,
        "parsed": row.parsed,
    }


def _not_found(doc_id: str) -> APIError:
    return APIError(
        404, f"Không có kế hoạch mã '{doc_id[:80]}'.", loc=("path", "doc_id"), code="document_not_found"
    )


# What an uploaded plan's answer leads to: the plan (read, correct, delete it) and the records of its commune.
UPLOAD_LINKS = {
    **document_links("/id", delete=True),
    "CommuneRecords": link(
        "GET", "/api/records", "Các bản ghi của xã ban hành kế hoạch này.", commune="$response.body#/metadata/commune"
    ),
}


@router.get(
    "",
    response_model=list[DocumentSummary],
    dependencies=[ReadAccess],
    summary="Danh sách kế hoạch",
    responses={200: {"links": document_links("/0/id")}},
)
def list_documents(services: ServicesDep) -> list[dict[str, Any]]:
    """Mọi kế hoạch đã nạp, kèm thông tin và số đoạn, số bản ghi."""
    return [summary(row) for row in services.store.catalog.documents()]


@router.get(
    "/{doc_id}",
    response_model=DocumentDetail,
    dependencies=[ReadAccess],
    summary="Chi tiết một kế hoạch",
    responses={200: {"links": document_links("/id", get=False)}},
)
def get_document(doc_id: DocId, services: ServicesDep) -> dict[str, Any]:
    """Thông tin, số đoạn, số bản ghi và toàn bộ các dòng của kế hoạch."""
    row = services.store.catalog.document(doc_id, with_lines=True)
    if row is None:
        raise _not_found(doc_id)
    return {**summary(row), "lines": [{"no": no, "text": text} for no, text in row.lines]}


def _save_upload(services: Services, upload: UploadFile, filename: str) -> Path:
    """Copy the upload to a private temp dir under a safe name (counting bytes); the copy's path."""
    limit = int(services.settings.max_upload_mb * MB)
    services.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=services.settings.uploads_dir, prefix=".upload-")) / filename
    try:
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise APIError(
                        413,
                        f"Tệp quá lớn (tối đa {services.settings.max_upload_mb:g} MB).",
                        code="file_too_large",
                    )
                out.write(chunk)
    except BaseException:
        _discard(path)
        raise
    return path


def _discard(path: Path) -> None:
    """Remove a saved upload with its private temp dir."""
    shutil.rmtree(path.parent, ignore_errors=True)


def _ingest_saved(
    services: Services,
    path: Path,
    filename: str,
    force: bool = False,
    should_commit: Callable[[], bool] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Ingest a saved upload: (201 added | 200 updated or unchanged, the upload result); APIError with a
    Vietnamese message otherwise (nothing stored)."""
    try:
        result = services.ingestor.ingest_file(path, filename=filename, force=force, should_commit=should_commit)
    except Exception:  # a parser bug must not become a 500 nor leave a half-ingested plan
        logger.exception("Lỗi khi nạp tệp tải lên %s", filename)
        raise APIError(
            422, f"Không nạp được tệp '{filename}': tệp không đọc được.", code="ingest_failed"
        ) from None
    if result.code == "cancelled":
        logger.info("Tải lên %s bị hủy: người gửi đã ngắt kết nối trước khi nạp xong", filename)
        raise APIError(
            400,
            f"Tải lên '{filename}' đã bị hủy vì kết nối bị ngắt trước khi nạp xong; không có gì được lưu.",
            code="client_disconnected",
        )
    if result.code == "not_a_plan":
        raise APIError(
            422, f"Không nạp tệp '{filename}': {result.error}.", loc=("body", "file"), code="not_a_plan"
        )
    if result.status == "failed" or result.doc_id is None:
        raise APIError(
            422,
            f"Không nạp được tệp '{filename}': {result.error}.",
            loc=("body", "file"),
            code="ingest_failed",
        )
    row = services.store.catalog.document(result.doc_id)
    if row is None:  # pragma: no cover - removed concurrently
        raise _not_found(result.doc_id)
    return 201 if result.status == "added" else 200, {
        **summary(row),
        "status": result.status,
        "chunks_added": result.chunks_added,
        "chunks_removed": result.chunks_removed,
    }


def _ingest_upload(
    services: Services,
    upload: UploadFile,
    filename: str,
    force: bool,
    should_commit: Callable[[], bool] | None = None,
) -> tuple[int, dict[str, Any]]:
    path = _save_upload(services, upload, filename)
    try:
        return _ingest_saved(services, path, filename, force, should_commit)
    finally:
        _discard(path)


async def _watch_disconnect(request: Request, disconnected: threading.Event) -> None:
    """Set ``disconnected`` when the client goes away (the body is read by then: the server's next
    message is ``http.disconnect``)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return
        await asyncio.sleep(0.05)


def _form_flag(value: object) -> bool:
    """The 'force' form field: true/false (also 1/0, yes/no, on/off); absent is false."""
    if value is None:
        return False
    try:
        return _BOOL.validate_python(value if isinstance(value, str) else "")
    except ValidationError:
        raise APIError(422, "Trường 'force' phải là true hoặc false.", loc=("body", "force")) from None


@router.post(
    "",
    status_code=201,
    response_model=UploadResult,
    dependencies=[WriteAccess],
    summary="Tải lên và nạp một kế hoạch",
    openapi_extra=UPLOAD_BODY,
    responses={
        201: {"links": UPLOAD_LINKS},
        200: {
            "model": UploadResult,
            "description": "Kế hoạch cùng tên đã có: được cập nhật hoặc không đổi.",
            "links": UPLOAD_LINKS,
        },
        202: {
            "model": JobOut,
            "description": "Với `async=true`: tệp đã được nhận, đang chờ nạp (công việc ở trạng thái queued). "
            + JOBS_NOTE,
            "headers": {
                "Location": {
                    "description": "Địa chỉ theo dõi công việc: /api/jobs/{job_id}.",
                    "schema": {"type": "string"},
                }
            },
            "links": {
                "GetUploadJob": link(
                    "GET", "/api/jobs/{job_id}", "Theo dõi công việc nạp tệp này.", job_id="$response.body#/id"
                )
            },
        },
    },
)
async def upload_document(
    request: Request,
    response: Response,
    services: ServicesDep,
    force: Annotated[bool, Query(description=FORCE_DESCRIPTION)] = False,
    run_async: Annotated[bool, Query(alias="async", description=ASYNC_DESCRIPTION)] = False,
) -> Any:
    """Nhận tệp (.txt, .md, .docx, .pdf) dạng multipart, trường `file`, và nạp ngay vào chỉ mục.

    Tệp cùng tên với kế hoạch đã có sẽ thay thế kế hoạch đó. Lỗi: 413 tệp quá lớn, 415 định dạng không
    hỗ trợ, 422 tệp hỏng (kèm lý do; không có gì được nạp dở dang). Nếu người gửi ngắt kết nối trước khi
    nạp xong, kế hoạch không được lưu (kiểm tra ngay trước khi ghi vào chỉ mục).

    Tệp không giống một kế hoạch (không có quốc hiệu/tiêu ngữ hay tên cơ quan ban hành, tiêu đề KẾ HOẠCH,
    các mục đánh số I., II., 1., …) bị từ chối: 422 với mã `not_a_plan` và lý do. Nếu đúng là kế hoạch,
    gửi lại kèm `force=true` (tham số truy vấn hoặc trường biểu mẫu) để xác nhận và nạp.

    Với `async=true`: trả 202 ngay khi nhận xong tệp, kèm mã công việc và tiêu đề `Location`
    (`GET /api/jobs/{job_id}`); lỗi của việc nạp (tệp hỏng, `not_a_plan`…) được báo trong công việc.
    """
    # The form is parsed here, after the key check, so unauthenticated uploads are not read.
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise APIError(
                422, "Thiếu tệp tải lên (trường 'file' dạng multipart/form-data).", loc=("body", "file")
            )
        force = _form_flag(form.get("force")) or force  # an invalid field is refused even with ?force=true
        filename = safe_filename(upload.filename or "")
        suffix = Path(filename).suffix
        if suffix not in SUPPORTED_SUFFIXES:
            raise APIError(
                415,
                f"Định dạng '{suffix or '(không có đuôi)'}' không được hỗ trợ; "
                f"chỉ nhận {', '.join(SUPPORTED_SUFFIXES)}.",
                loc=("body", "file"),
                code="unsupported_file_type",
            )
        if run_async:
            path = await run_in_threadpool(_save_upload, services, upload, filename)
            return _submit_job(request, services, path, filename, force)
        # Synchronous: the plan is committed only while the client still waits for the answer.
        disconnected = threading.Event()
        watcher = asyncio.create_task(_watch_disconnect(request, disconnected))
        try:
            status_code, body = await run_in_threadpool(
                _ingest_upload, services, upload, filename, force, lambda: not disconnected.is_set()
            )
        finally:
            watcher.cancel()
        response.status_code = status_code
        return body


def _submit_job(request: Request, services: Services, path: Path, filename: str, force: bool) -> JSONResponse:
    jobs: JobQueue = request.app.state.jobs
    job = jobs.submit(
        filename,
        lambda: _ingest_saved(services, path, filename, force)[1],
        cleanup=lambda: _discard(path),
    )
    location = f"/api/jobs/{job.id}"
    return JSONResponse(
        JobOut.model_validate(job.view()).model_dump(mode="json"),
        status_code=202,
        headers={"Location": location, "Retry-After": "1"},
    )


@router.patch(
    "/{doc_id}/metadata",
    response_model=DocumentSummary,
    dependencies=[WriteAccess],
    summary="Sửa thông tin một kế hoạch",
    responses={200: {"links": document_links("/id", correct=False)}},
)
def correct_metadata(doc_id: DocId, body: MetadataCorrection, services: ServicesDep) -> dict[str, Any]:
    """Sửa thông tin bộ phân tích đọc sai: xã, tỉnh, loại kế hoạch, số hiệu, ngày ban hành, người ký, tên.

    Chỉ các trường gửi lên được đổi; `null` hoặc chuỗi rỗng bỏ phần sửa của trường đó (dùng lại giá trị đọc
    từ tệp). Phần sửa được giữ khi nạp lại cùng tệp hay lập chỉ mục lại, và được dùng ở mọi nơi (hỏi đáp,
    danh sách kế hoạch, bảng phân công); xóa kế hoạch thì xóa cả phần sửa. Lỗi: 404 không có kế hoạch,
    422 giá trị không hợp lệ (kèm lý do).
    """
    changes = body.model_dump(exclude_unset=True)
    if services.store.catalog.document(doc_id) is None:
        raise _not_found(doc_id)
    try:
        row = services.ingestor.correct_metadata(doc_id, changes)
    except MetadataCorrectionError as exc:
        loc = ("body", exc.field) if exc.field else ("body",)
        raise APIError(422, str(exc), loc=loc, code="invalid_metadata") from None
    if row is None:  # removed concurrently
        raise _not_found(doc_id)
    return summary(row)


@router.delete(
    "/{doc_id}", response_model=DeleteResult, dependencies=[WriteAccess], summary="Xóa một kế hoạch"
)
def delete_document(doc_id: DocId, services: ServicesDep) -> DeleteResult:
    """Xóa kế hoạch cùng mọi đoạn và bản ghi của nó khỏi chỉ mục."""
    # Only ids present in the catalog reach the ingestor (its clean-up globs on the id).
    if doc_id not in services.store.snapshot.documents and services.store.catalog.document(doc_id) is None:
        raise _not_found(doc_id)
    if not services.ingestor.remove(doc_id):
        raise _not_found(doc_id)
    return DeleteResult(id=doc_id, deleted=True)


@router.post(
    "/reindex", response_model=ReindexResult, dependencies=[WriteAccess], summary="Nạp lại mọi kế hoạch"
)
def reindex(services: ServicesDep) -> ReindexResult:
    """Phân tích lại mọi kế hoạch đã lưu (sau khi cập nhật bộ trích xuất).

    Kế hoạch không đổi được giữ nguyên.
    """
    report = services.ingestor.reindex()
    return ReindexResult(
        documents=len(report.results),
        updated=report.count("updated") + report.count("added"),
        unchanged=report.count("unchanged"),
        failed=[ReindexFailure(filename=Path(r.path).name, error=r.error or "") for r in report.failed],
        seconds=round(report.seconds, 3),
    )
