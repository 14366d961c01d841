"""The sign-in page and sign-out of the web UI (the access rule itself: ``assistant.access``)."""

from __future__ import annotations

import html

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.access import (
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    key_matches,
    safe_next,
    session_token,
)
from core.config import Settings

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Đăng nhập — Trợ lý Kế hoạch cấp xã</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f6f8; color: #1a1a1a; margin: 0; }}
main {{ max-width: 420px; margin: 12vh auto; background: #fff; padding: 28px; border-radius: 10px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.3rem; margin: 0 0 8px; }}
p {{ color: #333; line-height: 1.5; }}
label {{ display: block; font-weight: 600; margin: 16px 0 6px; }}
input {{ width: 100%; box-sizing: border-box; padding: 10px; font-size: 1rem; border: 1px solid #666;
        border-radius: 6px; }}
button {{ margin-top: 16px; width: 100%; padding: 10px; font-size: 1rem; background: #0b5394; color: #fff;
         border: 0; border-radius: 6px; cursor: pointer; }}
button:focus, input:focus {{ outline: 3px solid #f0a500; outline-offset: 2px; }}
.err {{ color: #a10000; font-weight: 600; }}
</style></head>
<body><main>
<h1>Trợ lý Kế hoạch cấp xã</h1>
<p>Máy chủ này yêu cầu khóa truy cập. Nhập khóa API do quản trị viên cấp để tiếp tục.</p>
{error}
<form method="post" action="{action}">
<input type="hidden" name="next" value="{next}">
<label for="khoa">Khóa truy cập</label>
<input id="khoa" name="khoa" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Đăng nhập</button>
</form>
</main></body></html>"""


def _page(next_path: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    body = _PAGE.format(
        error=f'<p class="err" role="alert">{html.escape(error)}</p>' if error else "",
        action=SIGN_IN_PATH,
        next=html.escape(safe_next(next_path)),
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(SIGN_IN_PATH)
    def sign_in_page(next: str = "/ui/") -> Response:  # noqa: A002 - the query parameter's name
        if not settings.api_keys:
            return RedirectResponse(safe_next(next), status_code=303)
        return _page(next)

    @router.post(SIGN_IN_PATH)
    def sign_in(request: Request, khoa: str = Form(""), next: str = Form("/ui/")) -> Response:  # noqa: A002
        if not settings.api_keys:
            return RedirectResponse(safe_next(next), status_code=303)
        if not khoa.strip() or not key_matches(settings, khoa.strip()):
            return _page(next, "Khóa truy cập không đúng. Vui lòng kiểm tra lại.", status_code=401)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_token(khoa.strip()),
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="strict",  # a cross-site form cannot ride on the session
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @router.post(SIGN_OUT_PATH)
    def sign_out() -> Response:
        response = RedirectResponse(SIGN_IN_PATH, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router
