"""The FastAPI application: /api (Vietnamese JSON), /v1 (OpenAI-compatible), /health, /ready, /ui."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import access
from assistant.api.deps import ReadAccess, bearer, require_read, require_write
from assistant.api.errors import MB, BodyTooLarge, error_response, install_error_handlers, too_large_message
from assistant.api.jobs import JobQueue
from assistant.api.routers import ask, documents, health, jobs, openai_compat, records, search
from assistant.api.schemas import SETTINGS_LIMIT
from assistant.services import Services
from core.config import Settings, get_settings
from ingest.loaders import SUPPORTED_SUFFIXES

logger = logging.getLogger("assistant.api")

MAX_JSON_BODY = 1 * MB  # every body but uploads
MULTIPART_OVERHEAD = 64 * 1024  # part headers and boundaries around an uploaded file
UPLOAD_PATH = "/api/documents"
UPLOAD_EXAMPLE_FILENAME = "ke-hoach.md"
UI_PREFIX = "/ui"  # the Gradio UI takes file uploads too

DESCRIPTION = """
Trợ lý hỏi đáp về kế hoạch cấp xã (Chỉ số đổi mới sáng tạo PII, Nghị quyết 57-NQ/TW…).

* **Hỏi đáp**: `POST /api/ask` trả lời kèm nguồn trích dẫn [n]; `GET /api/search` chỉ tìm đoạn văn bản.
* **Bản ghi**: `GET /api/records` tra cứu chỉ tiêu, nhiệm vụ, đơn vị chủ trì (JSON hoặc CSV cho Excel).
* **Kế hoạch**: xem, tải lên (.txt, .md, .docx, .pdf), xóa, nạp lại. Tải lên với `async=true` trả 202 ngay và
  nạp trong nền; theo dõi ở `GET /api/jobs/{job_id}` (công việc chỉ được giữ trong bộ nhớ của tiến trình
  máy chủ đã nhận tệp).
* **Tương thích OpenAI**: `POST /v1/chat/completions`, `GET /v1/models` (mô hình `plan-assistant`).

Khi máy chủ có cấu hình khóa API, các thao tác thay đổi dữ liệu cần tiêu đề `Authorization: Bearer <khóa>`
(cả thao tác đọc nếu bật `protect_reads`).
"""

TAGS = [
    {"name": "Hỏi đáp", "description": "Hỏi đáp và tìm kiếm trong các kế hoạch."},
    {"name": "Bản ghi", "description": "Chỉ tiêu, nhiệm vụ, đơn vị chủ trì/phối hợp, thời hạn."},
    {"name": "Kế hoạch", "description": "Quản lý các kế hoạch đã nạp."},
    {"name": "Soạn thảo", "description": "Soạn thảo kế hoạch mới dựa trên các kế hoạch đã nạp."},
    {"name": "Tương thích OpenAI", "description": "Dùng với các ứng dụng khách theo chuẩn OpenAI."},
    {"name": "Tình trạng", "description": "Kiểm tra máy chủ."},
]


class BodyLimitMiddleware:
    """Bounds every request body: early on Content-Length, then by counting bytes as they arrive."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = error_response(scope["path"], 413, too_large_message(limit), code="request_too_large")
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


# FastAPI's built-in English response descriptions, as shown at /docs.
_DESCRIPTIONS_VI = {"Successful Response": "Thành công", "Validation Error": "Dữ liệu không hợp lệ"}
# Media types of the uploadable plans (the server goes by the file name's extension).
_UPLOAD_MEDIA_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
}


def _calls(dependant: Dependant | None) -> set[Callable[..., Any]]:
    if dependant is None:
        return set()
    found: set[Callable[..., Any]] = set()
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            found.add(dependency.call)
        found |= _calls(dependency)
    return found


def _needs_key(route: RouteContext, settings: Settings) -> bool:
    """What ``require_write`` / ``require_read`` enforce for this route under these settings."""
    if not settings.api_keys:
        return False
    calls = _calls(getattr(route, "dependant", None))  # with the dependencies of the including routers
    return require_write in calls or (require_read in calls and settings.protect_reads)


def _mark_security(app: FastAPI, schema: dict[str, Any], settings: Settings) -> None:
    """``security`` only on the operations that need the key here. FastAPI marks every operation depending
    on ``bearer`` (optional, ``auto_error=False``), i.e. all reads too, even on a server without keys.
    Without keys no scheme is advertised at all: none is ever checked."""
    requirement: list[dict[str, list[str]]] = [{bearer.scheme_name: []}]
    paths = schema.get("paths", {})
    needed = False
    for route in iter_route_contexts(app.routes):
        if route.path_format not in paths or not route.methods:
            continue
        needs = _needs_key(route, settings)
        needed |= needs
        for method in route.methods:
            operation = paths[route.path_format].get(method.lower())
            if operation is None:
                continue
            if needs:
                operation["security"] = requirement
            else:
                operation.pop("security", None)
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if not needed:
        schemes.pop(bearer.scheme_name, None)
        if not schemes:
            schema.get("components", {}).pop("securitySchemes", None)


def _access_note(settings: Settings) -> str:
    """What this server asks for, under the general description."""
    if not settings.api_keys:
        return "**Máy chủ này** không yêu cầu khóa API."
    if not settings.protect_reads:
        return "**Máy chủ này** yêu cầu khóa API cho các thao tác thay đổi dữ liệu (tải lên, xóa, nạp lại)."
    return "**Máy chủ này** yêu cầu khóa API cho mọi thao tác, trừ `GET /health` và `GET /ready`."


def _fill_settings_limits(node: Any, settings: Settings) -> None:
    """Replace every ``SETTINGS_LIMIT`` marker by the keywords' values from the settings."""
    if isinstance(node, dict):
        names = node.pop(SETTINGS_LIMIT, None)
        for keyword, name in (names or {}).items():
            node[keyword] = getattr(settings, name)
        for value in node.values():
            _fill_settings_limits(value, settings)
    elif isinstance(node, list):
        for value in node:
            _fill_settings_limits(value, settings)


def _describe_upload(schema: dict[str, Any], settings: Settings) -> None:
    """The accepted file types and size on the upload's multipart body."""
    operation = schema.get("paths", {}).get(UPLOAD_PATH, {}).get("post")
    if operation is None:
        return
    form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if form is None:
        return
    suffixes = ", ".join(SUPPORTED_SUFFIXES)
    types = [_UPLOAD_MEDIA_TYPES[s] for s in SUPPORTED_SUFFIXES if s in _UPLOAD_MEDIA_TYPES]
    form["encoding"] = {
        "file": {
            "contentType": ", ".join([*types, "application/octet-stream"]),
            "headers": {
                "Content-Disposition": {
                    "description": f"Tên tệp (filename) quyết định định dạng: đuôi {suffixes}.",
                    "schema": {"type": "string"},
                    "example": f'form-data; name="file"; filename="{UPLOAD_EXAMPLE_FILENAME}"',
                }
            },
        }
    }
    file = form.get("schema", {}).get("properties", {}).get("file")
    if file is not None:
        file["description"] = (
            f"Tệp kế hoạch: {suffixes} (theo đuôi tên tệp; đuôi khác: 415), "
            f"tối đa {settings.max_upload_mb:g} MB (lớn hơn: 413)."
        )


def _openapi(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """FastAPI's schema, made to say what this server does: Vietnamese descriptions, security only where
    the settings require a key, the limits from the settings, the accepted upload types."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
                for response in operation.get("responses", {}).values():
                    description = response.get("description")
                    response["description"] = _DESCRIPTIONS_VI.get(description, description)
            _mark_security(app, schema, settings)
            info = schema.setdefault("info", {})
            info["description"] = f"{info.get('description', '').rstrip()}\n\n{_access_note(settings)}\n"
            _fill_settings_limits(schema, settings)
            _describe_upload(schema, settings)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _warm_up(app: FastAPI, ensure_corpus: bool) -> None:
    """Load the index (and on a fresh machine ingest the default corpus) without blocking start-up."""
    services: Services = app.state.services
    try:
        _ = services.store
        if ensure_corpus:
            services.ensure_corpus()
        app.state.ready = True
    except Exception:
        logger.exception("Không nạp được chỉ mục")
        app.state.ready_error = "Không nạp được chỉ mục; xem nhật ký máy chủ."
        return
    try:
        _ = services.qa
    except Exception:
        logger.exception("Không khởi tạo được dịch vụ hỏi đáp")


def create_app(
    services: Services | None = None, *, ensure_corpus: bool = False, load_before_serving: bool = False
) -> FastAPI:
    """The application over ``services`` (built from the settings when not given).

    With ``ensure_corpus`` an empty index is filled with the default corpus at start-up. The index
    loads in the background (``/ready`` tells when) or, with ``load_before_serving``, before the
    process accepts its first connection: one of several workers then never answers 503 while
    the others serve.
    """
    services = services or Services(get_settings())
    settings = services.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load_before_serving:
            await asyncio.to_thread(_warm_up, app, ensure_corpus)
        else:
            threading.Thread(target=_warm_up, args=(app, ensure_corpus), name="warm-up", daemon=True).start()
        try:
            yield
        finally:
            app.state.jobs.shutdown()

    app = FastAPI(
        title="Plan Assistant — Trợ lý kế hoạch cấp xã",
        description=DESCRIPTION,
        version="0.1.0",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.ready = False
    app.state.ready_error = None
    app.state.jobs = JobQueue()  # background uploads, in this process's memory
    install_error_handlers(app)
    app.openapi = _openapi(app, settings)  # type: ignore[method-assign]

    for module in (health, ask, search, records, documents, jobs, openai_compat):
        app.include_router(module.router)
    app.include_router(access.build_router(settings))
    from assistant.api.routers import draft

    app.include_router(draft.router, dependencies=[ReadAccess])

    upload_limit = int(settings.max_upload_mb * MB) + MULTIPART_OVERHEAD

    def limit_for(scope: Scope) -> int:
        path = scope["path"]
        if (path == UPLOAD_PATH and scope["method"] == "POST") or path.startswith(UI_PREFIX):
            return upload_limit
        return MAX_JSON_BODY

    app.add_middleware(BodyLimitMiddleware, limit_for=limit_for)
    if settings.cors_origins:  # off by default
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui")

    return app
