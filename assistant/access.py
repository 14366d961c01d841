"""One access rule for every door: the REST API, the OpenAI-compatible API and the web UI.

A caller is authorized when the server has no API keys, or when it presents a key: as
``Authorization: Bearer <key>`` (programs) or as the session cookie set by the sign-in page
(browsers). The cookie holds an HMAC of the key, never the key itself, so it is stateless (every
worker and replica accepts it) and dies with the key when the key is removed from the settings.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

from core.config import Settings

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
    return token is not None and bool(token) and session_matches(settings, token)


def may_read(settings: Settings, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
    return not settings.protect_reads or is_authorized(settings, headers, cookies)


def safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


def sign_in_url(next_path: str = "/ui/") -> str:
    return f"{SIGN_IN_PATH}?next={quote(safe_next(next_path), safe='/')}"
