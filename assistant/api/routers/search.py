"""GET /api/search: retrieval only (no answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from assistant.api.deps import ReadAccess, Ready, ServicesDep, check_question, check_top_k, optional_text
from assistant.api.schemas import API_ERRORS, DOCUMENT_PATH, QUESTION_SCHEMA, TOP_K_SCHEMA, SourceOut, link

router = APIRouter(prefix="/api", tags=["Hỏi đáp"], dependencies=[ReadAccess, Ready], responses=API_ERRORS)


@router.get(
    "/search",
    response_model=list[SourceOut],
    summary="Tìm đoạn văn bản liên quan",
    responses={
        200: {
            "links": {
                "SourceDocument": link(
                    "GET", DOCUMENT_PATH, "Kế hoạch chứa đoạn đầu tiên.", doc_id="$response.body#/0/doc_id"
                )
            }
        }
    },
)
def search(
    services: ServicesDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            json_schema_extra=QUESTION_SCHEMA,
            description="Nội dung cần tìm (có dấu hoặc không dấu; tối đa max_question_chars ký tự).",
        ),
    ],
    k: Annotated[
        int,
        Query(
            ge=1, json_schema_extra=TOP_K_SCHEMA, description="Số kết quả tối đa (1 đến max_top_k, mặc định 10)."
        ),
    ] = 10,
    commune: Annotated[
        str | None, Query(max_length=200, description="Chỉ tìm trong kế hoạch của xã này.")
    ] = None,
) -> list[SourceOut]:
    """Trả về các đoạn kế hoạch liên quan nhất, không tạo câu trả lời."""
    settings = services.settings
    query = check_question(q, settings, ("query", "q"))
    top_k = check_top_k(k, settings, ("query", "k")) or 10
    return [SourceOut.of(s) for s in services.qa.search(query, k=top_k, commune=optional_text(commune))]
