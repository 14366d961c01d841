"""One access rule for every door: the web UI's own endpoints obey the API keys like the REST API.

Driven the way an attacker would: a plain client calling the Gradio functions behind /ui, with no
key, then checking that the store did not change."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

from assistant.access import SESSION_COOKIE, SIGN_IN_PATH, session_token

PLAN = "xa-vu-quang-ha-tinh-nq57-2026"


def _documents(url: str, key: str) -> list[str]:
    response = httpx.get(f"{url}/api/documents", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text
    return sorted(d["id"] for d in response.json())


def test_gated_ui_refuses_everything_without_a_key(secure_url: str, api_key: str) -> None:
    before = _documents(secure_url, api_key)
    page = httpx.get(f"{secure_url}/ui/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith(SIGN_IN_PATH)
    for path in ("/ui/config", "/ui/gradio_api/info", "/ui/gradio_api/upload_progress?upload_id=x"):
        assert httpx.get(f"{secure_url}{path}").status_code == 401, path
    join = httpx.post(
        f"{secure_url}/ui/gradio_api/queue/join",
        json={"data": [PLAN], "fn_index": 0, "session_hash": "attacker", "event_data": None, "trigger_id": 0},
    )
    assert join.status_code == 401
    with pytest.raises(Exception):  # noqa: B017 - the client cannot even read the app's config
        Client(f"{secure_url}/ui/", verbose=False)
    assert _documents(secure_url, api_key) == before
    ready = httpx.get(f"{secure_url}/ready").json()  # counts and communes only for those who may read
    assert ready["ready"] is True and ready["documents"] is None and ready["communes"] is None


def test_sign_in_page_sets_a_session_that_opens_the_ui(secure_url: str, api_key: str) -> None:
    form = httpx.get(f"{secure_url}{SIGN_IN_PATH}")
    assert form.status_code == 200 and 'lang="vi"' in form.text and "Khóa truy cập" in form.text
    wrong = httpx.post(f"{secure_url}{SIGN_IN_PATH}", data={"khoa": "sai", "next": "/ui/"})
    assert wrong.status_code == 401 and "không đúng" in wrong.text and SESSION_COOKIE not in wrong.cookies
    right = httpx.post(f"{secure_url}{SIGN_IN_PATH}", data={"khoa": api_key, "next": "https://evil.example/"})
    assert right.status_code == 303 and right.headers["location"] == "/ui/"
    cookie = right.cookies[SESSION_COOKIE]
    assert cookie == session_token(api_key) and api_key not in cookie
    assert httpx.get(f"{secure_url}/ui/config", cookies={SESSION_COOKIE: cookie}).status_code == 200
    ready = httpx.get(f"{secure_url}/ready", cookies={SESSION_COOKIE: cookie}).json()
    assert ready["documents"] >= 5


def test_open_reads_still_need_the_key_to_change_the_store(writes_url: str, api_key: str) -> None:
    before = _documents(writes_url, api_key)
    anonymous = Client(f"{writes_url}/ui/", verbose=False)
    anonymous.predict(api_name="/refresh")  # as the page does on load: the plan list is filled
    refused = anonymous.predict(PLAN, api_name="/delete")
    assert "khóa truy cập" in refused
    refused = anonymous.predict(api_name="/reindex")
    assert "khóa truy cập" in refused
    assert _documents(writes_url, api_key) == before
    # the same call with the session cookie does what it says
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_token(api_key)}"}
    signed_in = Client(f"{writes_url}/ui/", verbose=False, headers=cookie)
    signed_in.predict(api_name="/refresh")
    done = signed_in.predict(PLAN, api_name="/delete")
    assert "Đã xóa" in done
    assert PLAN not in _documents(writes_url, api_key)
