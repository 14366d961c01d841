"""Errors: one Vietnamese JSON shape for /api, OpenAI's error object for /v1; never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import get_route_path

from vectorstore.catalog import CatalogError

logger = logging.getLogger("assistant.api")

OPENAI_PREFIX = "/v1/"
MB = 1024 * 1024

STATUS_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Thiếu hoặc sai khóa API.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy tài nguyên được yêu cầu.",
    405: "Phương thức HTTP không được hỗ trợ cho địa chỉ này.",
    406: "Định dạng phản hồi được yêu cầu không được hỗ trợ.",
    409: "Xung đột dữ liệu; vui lòng thử lại.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Định dạng dữ liệu không được hỗ trợ.",
    422: "Dữ liệu gửi lên không hợp lệ.",
    429: "Quá nhiều yêu cầu; vui lòng thử lại sau.",
    500: "Lỗi nội bộ của máy chủ; vui lòng thử lại hoặc báo cho quản trị viên.",
    503: "Dịch vụ chưa sẵn sàng; vui lòng thử lại sau.",
}

# Vietnamese text for pydantic's error types (the English ``msg`` is never shown).
_VALIDATION_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "string_type": "phải là chuỗi ký tự",
    "string_too_short": "không được để trống",
    "string_too_long": "quá dài (tối đa {max_length} ký tự)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "greater_than": "phải lớn hơn {gt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "less_than": "phải nhỏ hơn {lt}",
    "too_short": "phải có ít nhất {min_length} phần tử",
    "too_long": "có tối đa {max_length} phần tử",
    "list_type": "phải là một danh sách",
    "dict_type": "phải là một đối tượng JSON",
    "model_type": "phải là một đối tượng JSON",
    "model_attributes_type": "phải là một đối tượng JSON",
    "literal_error": "phải là một trong: {expected}",
    "enum": "phải là một trong: {expected}",
    "json_invalid": "JSON không hợp lệ",
    "json_type": "JSON không hợp lệ",
    "union_tag_invalid": "giá trị không hợp lệ",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


class APIError(Exception):
    """An error with a Vietnamese message, raised by endpoints and dependencies."""

    def __init__(
        self,
        status_code: int,
        message: str | None = None,
        *,
        loc: Sequence[str | int] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message or STATUS_MESSAGES.get(status_code, STATUS_MESSAGES[400])
        self.loc = list(loc) if loc else None
        self.code = code
        self.headers = headers


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is read; an HTTPException so FastAPI's body parsing re-raises it as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    return f"Dữ liệu gửi lên quá lớn (tối đa {limit / MB:g} MB)."


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIX)


def _openai_type(status_code: int) -> str:
    if status_code == 401:
        return "authentication_error"
    if status_code == 404:
        return "not_found_error"
    if status_code >= 500:
        return "server_error"
    return "invalid_request_error"


def error_response(
    path: str,
    status_code: int,
    message: str,
    *,
    loc: Sequence[str | int] | None = None,
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The error body for ``path``: OpenAI's shape under /v1, ``{"detail", "errors"}`` elsewhere."""
    if is_openai_path(path):
        param = ".".join(str(p) for p in loc if p != "body") if loc else None
        content: dict[str, Any] = {
            "error": {
                "message": message,
                "type": _openai_type(status_code),
                "param": param or None,
                "code": code,
            }
        }
    else:
        content = {"detail": message, "errors": errors or []}
    return JSONResponse(content, status_code=status_code, headers=headers)


def _field_message(error: dict[str, Any]) -> str:
    template = _VALIDATION_MESSAGES.get(error.get("type", ""), "giá trị không hợp lệ")
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return "giá trị không hợp lệ"


def _field_name(loc: Sequence[str | int]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "dữ liệu"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        items.append(
            {"loc": loc, "msg": _field_message(error), "type": str(error.get("type", "value_error"))}
        )
    return items


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = validation_errors(exc)
    summary = "; ".join(f"{_field_name(i['loc'])}: {i['msg']}" for i in items[:5])
    message = f"{STATUS_MESSAGES[422]} {summary}".strip()
    if is_openai_path(request.url.path):
        first = items[0] if items else {"loc": None, "type": None}
        return error_response(request.url.path, 400, message, loc=first["loc"], code=first["type"])
    return error_response(request.url.path, 422, message, errors=items)


async def _on_api_error(request: Request, exc: APIError) -> JSONResponse:
    status = exc.status_code
    if is_openai_path(request.url.path) and status == 422:
        status = 400  # OpenAI reports invalid parameters as 400
    loc = exc.loc
    errors = [{"loc": loc, "msg": exc.message, "type": exc.code or "value_error"}] if loc else None
    return error_response(
        request.url.path, status, exc.message, loc=loc, code=exc.code, errors=errors, headers=exc.headers
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route whose path matches the request's (Starlette's 405 names only the
    first such route's methods: PUT /api/documents would say ``Allow: GET`` though POST exists)."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):  # the routes of included routers too
        if route.methods and route.path_regex is not None and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    message = (
        exc.detail if isinstance(exc, BodyTooLarge) else STATUS_MESSAGES.get(status, STATUS_MESSAGES[400])
    )
    code = "invalid_api_key" if status == 401 else None
    headers = getattr(exc, "headers", None)
    if status == 405 and (methods := allowed_methods(request)):
        headers = {**(headers or {}), "Allow": ", ".join(methods)}
    return error_response(request.url.path, status, message, code=code, headers=headers)


async def _on_store_unavailable(request: Request, exc: CatalogError) -> JSONResponse:
    logger.error("Cơ sở dữ liệu không truy cập được: %s", exc)
    return error_response(
        request.url.path, 503, f"Kho dữ liệu tạm thời không truy cập được; vui lòng thử lại sau. ({exc})",
        code="store_unavailable", headers={"Retry-After": "10"},
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Lỗi không mong đợi khi xử lý %s %s", request.method, request.url.path)
    return error_response(request.url.path, 500, STATUS_MESSAGES[500])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(APIError, _on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(CatalogError, _on_store_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
