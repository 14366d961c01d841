"""One access rule for every door: the REST API, the OpenAI-compatible API and the web UI.

A caller is authorized when the server has no API keys, or when it presents a key: as
``Authorization: Bearer <key>`` (programs) or as the session cookie set by the sign-in page
(browsers). The cookie holds an HMAC of the key, never the key itself, so it is stateless (every
worker and replica accepts it) and dies with the key when the key is removed from the settings.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from collections.abc import Mapping
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.config import Settings

SESSION_COOKIE = "pa_session"
SIGN_IN_PATH = "/dang-nhap"
SIGN_OUT_PATH = "/dang-xuat"
_SESSION_CONTEXT = b"plan-assistant/ui-session/v1"
SESSION_MAX_AGE_S = 12 * 3600


def session_token(key: str) -> str:
    return hmac.new(key.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def key_matches(settings: Settings, given: str) -> bool:
    """Constant-time comparison with every configured key."""
    data = given.encode()
    return any([hmac.compare_digest(data, key.encode()) for key in settings.api_keys])


def session_matches(settings: Settings, token: str) -> bool:
    data = token.encode()
    return any([hmac.compare_digest(data, session_token(key).encode()) for key in settings.api_keys])


def is_authorized(settings: Settings, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    """The caller holds a key (header or session cookie); always true on a server without keys."""
    if not settings.api_keys:
        return True
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip() and key_matches(settings, credentials.strip()):
        return True
    token = cookies.get(SESSION_COOKIE)
    return bool(token) and session_matches(settings, token)


def may_read(settings: Settings, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    return not settings.protect_reads or is_authorized(settings, headers, cookies)


def safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


def sign_in_url(next_path: str = "/ui/") -> str:
    return f"{SIGN_IN_PATH}?next={quote(safe_next(next_path), safe='/')}"


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
