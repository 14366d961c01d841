"""API keys: a key-protected server (writes and, with protect_reads, reads need `Authorization: Bearer`)."""

from __future__ import annotations

import httpx
import pytest

from assistant.access import SESSION_COOKIE, is_authorized, may_read, safe_next, session_token
from core.config import Settings

TEXT = "KẾ HOẠCH\nThử khóa API năm 2026\nI. MỤC ĐÍCH\n1. Phòng Kinh tế chủ trì thử nghiệm khóa API.\n"
WRONG = [None, "Bearer wrong-key", "Bearer", "Basic c2VjcmV0LWtleQ==", "secret-key"]


def _headers(value: str | None) -> dict[str, str]:
    return {"Authorization": value} if value is not None else {}


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("auth", WRONG)
def test_writes_and_reads_need_the_key(secure_url: str, auth: str | None) -> None:
    h = _headers(auth)
    assert_401(httpx.post(f"{secure_url}/api/documents", files={"file": ("a.txt", b"x")}, headers=h))
    assert_401(httpx.delete(f"{secure_url}/api/documents/xa-vu-quang-ha-tinh-nq57-2026", headers=h))
    assert_401(httpx.post(f"{secure_url}/api/documents/reindex", headers=h))
    assert_401(httpx.get(f"{secure_url}/api/documents", headers=h))  # protect_reads
    assert_401(httpx.post(f"{secure_url}/api/ask", json={"question": "x"}, headers=h))
    assert_401(httpx.get(f"{secure_url}/api/records", headers=h))
    response = httpx.get(f"{secure_url}/v1/models", headers=h)
    assert_401(response)
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_health_is_open(secure_url: str) -> None:
    assert httpx.get(f"{secure_url}/health").status_code == 200
    assert httpx.get(f"{secure_url}/ready").status_code == 200


def test_the_key_opens_everything(secure_url: str, api_key: str) -> None:
    h = {"Authorization": f"Bearer {api_key}"}
    assert httpx.get(f"{secure_url}/api/documents", headers=h).status_code == 200
    response = httpx.post(
        f"{secure_url}/api/documents", files={"file": ("khoa-api.txt", TEXT.encode())}, headers=h
    )
    assert response.status_code == 201, response.text
    doc_id = response.json()["id"]
    assert httpx.delete(f"{secure_url}/api/documents/{doc_id}", headers=h).status_code == 200


def test_reads_are_open_without_protect_reads() -> None:
    settings = Settings(api_keys=["k1", "k2"], protect_reads=False)
    assert may_read(settings, {}, {})
    assert is_authorized(settings, {"authorization": "Bearer k2"}, {})
    assert not is_authorized(settings, {"authorization": "Bearer k3"}, {})
    assert not is_authorized(settings, {"authorization": "k2"}, {})


def test_sign_in_cookie_is_an_hmac_of_a_key() -> None:
    settings = Settings(api_keys=["k1"], protect_reads=True)
    token = session_token("k1")
    assert "k1" not in token
    assert is_authorized(settings, {}, {SESSION_COOKIE: token})
    assert not may_read(settings, {}, {SESSION_COOKIE: session_token("k2")})
    assert not is_authorized(Settings(api_keys=["other"]), {}, {SESSION_COOKIE: token})  # dies with the key


def test_no_keys_means_open() -> None:
    settings = Settings(api_keys=[], protect_reads=True)
    assert may_read(settings, {}, {})
    assert is_authorized(settings, {}, {})


def test_sign_in_page_follows_only_local_paths() -> None:
    assert safe_next("/ui/") == "/ui/"
    for target in ("https://evil.example/", "//evil.example", "/\\evil", "", None):
        assert safe_next(target) == "/ui/"
