"""OpenAI-compatible chat API: POST /v1/chat/completions (plain and streaming) and GET /v1/models.

The last user message is the question and the messages before it the history; system messages
and sampling parameters are ignored (answers are grounded in the plans). Sources travel in an
extra ``sources`` field (of the response, or of the last chunk when streaming) and the text cites
them as [n] followed by a source list, for clients that show only the text.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ReadAccess, Ready, ServicesDep, SettingsDep, check_question
from assistant.api.errors import APIError
from assistant.api.schemas import (
    OPENAI_ERRORS,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatResponseMessage,
    ModelCard,
    ModelList,
    SourceOut,
    Usage,
    link,
)
from assistant.qa.types import Answer, Source

MODEL_ID = "plan-assistant"
MODEL_CREATED = 1767225600  # 2026-01-01
WORDS_PER_CHUNK = 6
_CITATION_RE = re.compile(r"\[(\d+)\]")

router = APIRouter(
    prefix="/v1", tags=["Tương thích OpenAI"], dependencies=[ReadAccess, Ready], responses=OPENAI_ERRORS
)


# --- request -> question + history ------------------------------------------------------------------


def split_messages(body: ChatCompletionRequest) -> tuple[int, list[dict[str, str]]]:
    """(index of the last user message, the user/assistant history before it)."""
    last_user = next(
        (i for i in range(len(body.messages) - 1, -1, -1) if body.messages[i].role == "user"), None
    )
    if last_user is None:
        raise APIError(
            400,
            "Cần ít nhất một tin nhắn có role 'user' (câu hỏi).",
            loc=("messages",),
            code="no_user_message",
        )
    history = [
        {"role": m.role, "content": m.text()}
        for m in body.messages[:last_user]
        if m.role in ("user", "assistant") and m.text().strip()
    ]
    return last_user, history


# --- answer -> text with [n] citations ---------------------------------------------------------------


def source_label(n: int, source: Source) -> str:
    where = f", {source.section}" if source.section else ""
    span = (
        f"{source.line_start}–{source.line_end}"
        if source.line_end > source.line_start
        else f"{source.line_start}"
    )
    lines = f", dòng {span}" if source.line_start else ""
    page = f", trang {source.page}" if source.page else ""
    return f"[{n}] {source.document}{where}{page}{lines}"


def with_citations(answer: Answer) -> str:
    """The answer text, with [n] markers and a source list appended when it has none."""
    text = answer.answer.rstrip()
    if not answer.sources:
        return text
    cited = {int(n) for n in _CITATION_RE.findall(text)}
    if not cited & set(range(1, len(answer.sources) + 1)):
        text += " " + "".join(f"[{n}]" for n in range(1, len(answer.sources) + 1))
    if not re.search(r"^\s*\[1\]", text, flags=re.MULTILINE):
        text += "\n\nNguồn:\n" + "\n".join(source_label(n, s) for n, s in enumerate(answer.sources, 1))
    return text


def _count_words(text: str) -> int:
    return len(text.split())


def usage_of(question: str, history: list[dict[str, str]], text: str) -> Usage:
    prompt = _count_words(question) + sum(_count_words(m["content"]) for m in history)
    completion = _count_words(text)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


# --- streaming ----------------------------------------------------------------------------------------


def text_pieces(text: str) -> Iterator[str]:
    words = re.findall(r"\s*\S+\s*", text) or [text]
    for i in range(0, len(words), WORDS_PER_CHUNK):
        yield "".join(words[i : i + WORDS_PER_CHUNK])


def _sse(data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def stream_events(
    completion_id: str, created: int, text: str, sources: list[dict[str, Any]], usage: Usage | None
) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "system_fingerprint": None,
                "choices": [choice],
                **extra,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    for piece in text_pieces(text):
        yield chunk({"content": piece})
    yield chunk({}, "stop", sources=sources)
    if usage is not None:
        yield _sse(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "system_fingerprint": None,
                "choices": [],
                "usage": usage.model_dump(),
            }
        )
    yield _sse("[DONE]")


# --- endpoints ----------------------------------------------------------------------------------------


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Hỏi đáp theo chuẩn OpenAI Chat Completions",
    responses={
        200: {
            "description": "Câu trả lời (JSON), hoặc luồng server-sent events khi stream=true.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def chat_completions(body: ChatCompletionRequest, services: ServicesDep, settings: SettingsDep) -> Any:
    """Dùng được với mọi ứng dụng khách OpenAI (model `plan-assistant`).

    Tin nhắn user cuối cùng là câu hỏi; các tin nhắn trước là lịch sử. Các tham số không hỗ trợ
    (temperature, max_tokens, …) được bỏ qua. Nguồn trích dẫn nằm ở trường `sources`.
    """
    if body.model != MODEL_ID:
        raise APIError(
            404,
            f"Không có mô hình '{body.model[:100]}'; dùng '{MODEL_ID}'.",
            loc=("model",),
            code="model_not_found",
        )
    index, history = split_messages(body)
    question = check_question(body.messages[index].text(), settings, ("messages", index, "content"))
    answer = await run_in_threadpool(services.qa.ask, question, history or None)
    text = with_citations(answer)
    sources = [SourceOut.of(s) for s in answer.sources]
    usage = usage_of(question, history, text)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = stream_events(
            completion_id, created, text, [s.model_dump() for s in sources], usage if include_usage else None
        )
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=MODEL_ID,
        choices=[ChatChoice(message=ChatResponseMessage(content=text))],
        usage=usage,
        sources=sources,
    )


@router.get(
    "/models",
    response_model=ModelList,
    summary="Danh sách mô hình",
    responses={
        200: {
            "links": {
                "GetModel": link(
                    "GET", "/v1/models/{model_id}", "Thông tin mô hình này.", model_id="$response.body#/data/0/id"
                )
            }
        }
    },
)
def list_models() -> ModelList:
    """Chỉ có một mô hình: `plan-assistant`."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=MODEL_CREATED, owned_by="plan-assistant")])


@router.get("/models/{model_id}", response_model=ModelCard, summary="Thông tin một mô hình")
def get_model(model_id: str) -> ModelCard:
    """Thông tin mô hình `plan-assistant`; mô hình khác trả về 404."""
    if model_id != MODEL_ID:
        raise APIError(404, f"Không có mô hình '{model_id[:100]}'.", loc=("model",), code="model_not_found")
    return ModelCard(id=MODEL_ID, created=MODEL_CREATED, owned_by="plan-assistant")
