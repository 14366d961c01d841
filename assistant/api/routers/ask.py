"""POST /api/ask: a question about the plans, answered with cited sources."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import ReadAccess, Ready, ServicesDep, check_question, check_top_k, optional_text
from assistant.api.schemas import API_ERRORS, AskRequest, AskResponse
from assistant.qa.types import Answer

router = APIRouter(prefix="/api", tags=["Hỏi đáp"], dependencies=[ReadAccess, Ready], responses=API_ERRORS)


def answer_response(answer: Answer) -> AskResponse:
    return AskResponse.model_validate(answer.to_dict())


@router.post("/ask", response_model=AskResponse, summary="Hỏi đáp về các kế hoạch")
def ask(body: AskRequest, services: ServicesDep) -> AskResponse:
    """Trả lời câu hỏi dựa trên các kế hoạch đã nạp, kèm nguồn trích dẫn [n].

    Câu hỏi rỗng hoặc quá dài, hay top_k ngoài khoảng cho phép, bị từ chối với mã 422.
    """
    settings = services.settings
    question = check_question(body.question, settings, ("body", "question"))
    top_k = check_top_k(body.top_k, settings, ("body", "top_k"))
    history = [m.model_dump() for m in body.history]
    answer = services.qa.ask(
        question, history=history or None, commune=optional_text(body.commune), top_k=top_k,
        explain=body.explain,
    )
    return answer_response(answer)
