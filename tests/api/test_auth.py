"""API keys: a key-protected server (writes and, with protect_reads, reads need `Authorization: Bearer`)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.security import HTTPAuthorizationCredentials

from assistant.api.deps import require_read, require_write
from assistant.api.errors import APIError
from assistant.config import Settings

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


def _creds(key: str | None) -> HTTPAuthorizationCredentials | None:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=key) if key is not None else None


def test_reads_are_open_without_protect_reads() -> None:
    settings = Settings(api_keys=["k1", "k2"], protect_reads=False)
    require_read(settings, None)
    require_write(settings, _creds("k2"))
    with pytest.raises(APIError) as raised:
        require_write(settings, _creds("k3"))
    assert raised.value.status_code == 401


def test_no_keys_means_open() -> None:
    settings = Settings(api_keys=[], protect_reads=True)
    require_read(settings, None)
    require_write(settings, None)
