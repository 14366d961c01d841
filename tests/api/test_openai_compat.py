"""/v1: the official `openai` client, streaming and not; OpenAI-style errors."""

from __future__ import annotations

import re

import httpx
import openai
import pytest
from openai import OpenAI

QUESTION = "Trung tâm Phục vụ Hành chính công xã Hòa Điền được giao những nhiệm vụ gì?"


@pytest.fixture(scope="module")
def oai(api_url: str) -> OpenAI:
    return OpenAI(base_url=f"{api_url}/v1", api_key="x", timeout=120, max_retries=0)


def sources_of(obj: object) -> list[dict]:
    return (obj.model_extra or {}).get("sources")  # type: ignore[attr-defined]


def test_models(oai: OpenAI) -> None:
    assert [m.id for m in oai.models.list()] == ["plan-assistant"]
    assert oai.models.retrieve("plan-assistant").id == "plan-assistant"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("gpt-4o")


def test_chat_completion_with_sources_and_citations(oai: OpenAI) -> None:
    response = oai.chat.completions.create(
        model="plan-assistant",
        messages=[
            {"role": "system", "content": "Bạn là trợ lý."},
            {"role": "user", "content": "Xin chào"},
            {"role": "assistant", "content": "Chào anh/chị, tôi có thể giúp gì?"},
            {"role": "user", "content": QUESTION},
        ],
        temperature=0.3,  # ignored
        max_tokens=50,  # ignored
        extra_body={"logit_bias": {"1": 2}, "tools": [], "frequency_penalty": 0},  # unsupported: ignored
    )
    assert response.object == "chat.completion" and response.model == "plan-assistant"
    text = response.choices[0].message.content
    assert response.choices[0].finish_reason == "stop" and response.choices[0].message.role == "assistant"
    sources = sources_of(response)
    assert sources and {"document", "commune", "section", "text", "score"} <= set(sources[0])
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert cited and cited <= set(range(1, len(sources) + 1))
    assert response.usage is not None and response.usage.total_tokens > 0


def test_chat_completion_stream(oai: OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="plan-assistant",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    content_chunks = [c for c in chunks if c.choices]
    assert content_chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in content_chunks)
    last = content_chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    sources = sources_of(last)
    assert sources and re.search(r"\[1\]", text)
    assert chunks[-1].usage is not None and not chunks[-1].choices


def test_stream_ends_with_done(api_url: str) -> None:
    body = {"model": "plan-assistant", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.stream("POST", f"{api_url}/v1/chat/completions", json=body, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert '"sources"' in events[-2]


def post_error(api_url: str, body: object, status: int = 400) -> dict:
    response = httpx.post(f"{api_url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and error["type"]
    return error


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "plan-assistant", "messages": [{"role": "system", "content": "x"}]}, "messages"),
        ({"model": "plan-assistant", "messages": []}, "messages"),
        ({"model": "plan-assistant", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        ({"model": "plan-assistant", "messages": "xin chào"}, "messages"),
        ({"model": "plan-assistant", "messages": [{"role": "user", "content": 42}]}, "messages.0.content"),
        (
            {"model": "plan-assistant", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
            "temperature",
        ),
        (
            {"model": "plan-assistant", "messages": [{"role": "user", "content": "x"}], "stream": "maybe"},
            "stream",
        ),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "plan-assistant", "messages": [{"role": "user", "content": "  "}]}, "messages.0.content"),
        (
            {"model": "plan-assistant", "messages": [{"role": "user", "content": "x" * 5000}]},
            "messages.0.content",
        ),
    ],
)
def test_invalid_requests_get_openai_errors(api_url: str, body: dict, param: str) -> None:
    error = post_error(api_url, body)
    assert error["type"] == "invalid_request_error"
    assert (error["param"] or "").startswith(param)


def test_unknown_model_is_404(api_url: str) -> None:
    error = post_error(api_url, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}, 404)
    assert error["code"] == "model_not_found"


def test_non_json_body_is_openai_error(api_url: str) -> None:
    response = httpx.post(
        f"{api_url}/v1/chat/completions", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "error" in response.json()


def test_openai_client_raises_bad_request(oai: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="plan-assistant", messages=[{"role": "assistant", "content": "x"}])
