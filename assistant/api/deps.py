"""Dependencies shared by the routers: the service container, settings, API-key checks."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.access import is_authorized
from assistant.api.errors import APIError
from assistant.services import Services
from core.config import Settings

bearer = HTTPBearer(
    auto_error=False,
    description="Khóa API (Authorization: Bearer <khóa>). Bắt buộc cho thao tác thay đổi dữ liệu khi máy chủ "
    "có cấu hình api_keys; bắt buộc cho cả thao tác đọc khi bật protect_reads.",
)


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _check(settings: Settings, request: Request) -> None:
    if not is_authorized(settings, request.headers, request.cookies):
        raise APIError(401, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def require_write(request: Request, settings: SettingsDep, _credentials: Credentials) -> None:
    """Changing data needs a key whenever keys are configured (header or sign-in cookie)."""
    _check(settings, request)


def require_read(request: Request, settings: SettingsDep, _credentials: Credentials) -> None:
    """Reading needs a key only with ``protect_reads`` (and keys configured)."""
    if settings.protect_reads:
        _check(settings, request)


def require_ready(request: Request) -> None:
    """503 while the index loads at start-up (GET /ready tells when it is done). Once ready, a request
    sees every write committed before it, by this process or by another worker or replica (waiting
    for that at most a second)."""
    if not request.app.state.ready:
        raise APIError(
            503,
            "Chỉ mục đang được nạp; vui lòng thử lại sau ít phút.",
            code="not_ready",
            headers={"Retry-After": "10"},
        )
    request.app.state.services.store.sync()


WriteAccess = Depends(require_write)
ReadAccess = Depends(require_read)
Ready = Depends(require_ready)


# --- limits shared by /api/ask, /api/search and /v1/chat/completions ------------------------------


def check_question(text: str, settings: Settings, loc: tuple[str | int, ...]) -> str:
    """The question without surrounding blanks; empty or too long -> 422 with a Vietnamese message."""
    question = text.strip()
    if not question:
        raise APIError(422, "Câu hỏi không được để trống.", loc=loc, code="question_empty")
    if len(question) > settings.max_question_chars:
        raise APIError(
            422,
            f"Câu hỏi quá dài ({len(question)} ký tự; tối đa {settings.max_question_chars} ký tự).",
            loc=loc,
            code="question_too_long",
        )
    return question


def check_top_k(value: int | None, settings: Settings, loc: tuple[str | int, ...]) -> int | None:
    if value is not None and not 1 <= value <= settings.max_top_k:
        raise APIError(
            422,
            f"Số nguồn phải từ 1 đến {settings.max_top_k} (nhận {value}).",
            loc=loc,
            code="top_k_out_of_range",
        )
    return value


def optional_text(value: str | None) -> str | None:
    """Blank optional filters count as absent."""
    value = (value or "").strip()
    return value or None


# --- downloads ------------------------------------------------------------------------------------

_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> dict[str, str]:
    """The Content-Disposition header of a download named ``filename``: an ASCII ``filename`` (HTTP headers are
    Latin-1; a name built from the user's filter may hold any character), and the name itself in ``filename*``
    (RFC 6266) when it differs."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = _NOT_ASCII_NAME.sub("-", folded).rpartition(".")
    stem = re.sub(r"-{2,}", "-", stem).strip("-") or "tai-ve"
    ascii_name = f"{stem}{dot}{suffix}" if dot else stem
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return {"Content-Disposition": value}
