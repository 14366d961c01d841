"""POST /api/draft: draft a new commune plan from the examples; GET /api/draft/examples: how others wrote a section."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import Ready, ServicesDep, attachment
from assistant.api.errors import APIError
from assistant.api.schemas import API_ERRORS, NOT_BLANK, value_schema
from assistant.drafting.docx_export import DOCX_MIME, to_docx
from assistant.drafting.markdown_export import blocks_markdown, sources_markdown, to_markdown
from assistant.drafting.model import (
    MAX_YEAR,
    MIN_YEAR,
    PLAN_TYPES,
    Appendix,
    Draft,
    DraftInputError,
    SourceRef,
)

router = APIRouter(prefix="/api/draft", tags=["Soạn thảo"], dependencies=[Ready], responses=API_ERRORS)

_LIST_CAP = 100  # hard bound of the request; the service keeps the first 20 units / 10 focus areas
# The codes clients should send (the service also understands Vietnamese names: "Nghị quyết 57"…).
PLAN_TYPE_SCHEMA = value_schema(enum=list(PLAN_TYPES))
# Optional for pydantic, so that the service names what is missing in Vietnamese; required in the schema.
_REQUIRED = ("commune", "plan_type", "year")
_EXAMPLE = {"commune": "Tân Lập", "province": "Đồng Nai", "plan_type": "nq57", "year": 2027,
            "focus": ["nông nghiệp", "du lịch"]}


def _draft_in_schema(schema: dict[str, Any]) -> None:
    """The schema says what the service requires: a commune, a plan type and a year, none of them null."""
    schema["examples"] = [_EXAMPLE]
    schema["required"] = [*schema.get("required", []), *_REQUIRED]
    for name in _REQUIRED:
        field = schema["properties"][name]
        field.pop("default", None)
        branches = [b for b in field.pop("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            field.update(branches[0])
        elif branches:
            field["anyOf"] = branches
    for branch in schema["properties"]["year"]["anyOf"]:
        if branch.get("type") == "integer":
            branch.update(minimum=MIN_YEAR, maximum=MAX_YEAR)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_draft_in_schema)

    commune: str = Field("", max_length=2000, json_schema_extra={"pattern": NOT_BLANK},
                         description="Tên xã cần soạn kế hoạch (bắt buộc), ví dụ: Tân Lập.")
    province: str | None = Field(None, max_length=2000, description="Tỉnh/thành phố, ví dụ: Đồng Nai.")
    plan_type: str | None = Field(
        None, max_length=100, json_schema_extra=PLAN_TYPE_SCHEMA,
        description="Loại kế hoạch (bắt buộc): pii (nâng cao Chỉ số PII), nq57 (thực hiện Nghị quyết 57-NQ/TW), "
        "innovative (mô hình “Xã đổi mới sáng tạo”).",
    )
    year: int | str | None = Field(None, description="Năm hoặc giai đoạn thực hiện (bắt buộc), ví dụ 2027 hoặc "
                                   "“2027-2030”.")
    bases: list[str] = Field(
        default_factory=list, max_length=_LIST_CAP,
        description="Các văn bản cấp trên làm căn cứ (“Căn cứ …”). Bỏ trống: đề xuất từ kế hoạch mẫu cùng loại, "
        "cùng tỉnh, đánh dấu [cần kiểm tra].",
    )
    units: list[str] = Field(
        default_factory=list, max_length=_LIST_CAP,
        description="Các đơn vị của xã (tối đa 20). Bỏ trống: các đơn vị có trong kế hoạch mẫu.",
    )
    focus: list[str] = Field(
        default_factory=list, max_length=_LIST_CAP,
        description="Lĩnh vực trọng tâm (tối đa 10), ví dụ: nông nghiệp, du lịch, dịch vụ công.",
    )
    signer: str | None = Field(None, max_length=2000, description="Họ và tên người ký (bỏ trống: để chỗ điền).")
    role: str | None = Field(None, max_length=100, description="Chức vụ người ký: Chủ tịch (mặc định) hoặc "
                             "Phó Chủ tịch (ký thay).")
    use_llm: bool | None = Field(None, description="Biên tập lại từng mục bằng LLM; bỏ trống: dùng khi máy chủ "
                                 "có cấu hình LLM.")
    examples: list[str] = Field(
        default_factory=list, max_length=_LIST_CAP,
        description="Chỉ soạn từ các kế hoạch mẫu này (mã hoặc tên tệp, xem GET /api/documents; tối đa 10). "
        "Bỏ trống: mọi kế hoạch mẫu trong kho (cùng loại, cùng tỉnh trước).",
    )


class SourceOut(BaseModel):
    ref: str = Field(description="Mã kế hoạch mẫu dùng trong bản thảo (M1, M2…).")
    doc_id: str = Field(description="Mã kế hoạch mẫu trong kho.")
    document: str = Field(description="Tên tệp kế hoạch mẫu.")
    commune: str = Field(description="Xã của kế hoạch mẫu.")
    province: str = Field(description="Tỉnh/thành phố của kế hoạch mẫu.")
    plan_type: str = Field(description="Loại kế hoạch mẫu.")
    title: str = Field(description="Tên kế hoạch mẫu.")
    lines: list[tuple[int, int]] = Field(description="Các đoạn dòng đã tham khảo (dòng đầu, dòng cuối).")


class SectionOut(BaseModel):
    key: str = Field(description="Mã mục: bases, purpose, objectives, tasks, budget, organization, appendix.")
    heading: str = Field(description="Tiêu đề mục.")
    markdown: str = Field(description="Nội dung mục (Markdown).")
    used_llm: bool = Field(description="Mục đã được LLM biên tập lại.")
    sources: list[SourceOut] = Field(description="Các kế hoạch mẫu mục này đã tham khảo.")


class AppendixRowOut(BaseModel):
    stt: str = Field(description="Số thứ tự (số La Mã cho dòng nhóm).")
    task: str = Field(description="Nhiệm vụ hoặc chỉ tiêu.")
    lead: str = Field(description="Đơn vị chủ trì (nhiều đơn vị cách nhau bằng “; ”).")
    partners: str = Field(description="Đơn vị phối hợp (nhiều đơn vị cách nhau bằng “; ”).")
    deadline: str = Field(description="Thời gian hoặc chỉ tiêu cần đạt.")
    group: bool = Field(description="Dòng tiêu đề nhóm.")
    ref: str = Field(description="Mã kế hoạch mẫu của dòng (M1…).")


class AppendixOut(BaseModel):
    label: str = Field(description="“PHỤ LỤC” hoặc “PHỤ LỤC I”, “PHỤ LỤC II”…")
    title: str = Field(description="Tên phụ lục.")
    kind: str = Field(description="Loại bảng: tasks, indicators, targets, schedule, kpi.")
    columns: list[str] = Field(description="Tiêu đề các cột.")
    rows: list[AppendixRowOut] = Field(description="Các dòng (dòng nhóm có group = true).")
    sources: list[SourceOut] = Field(description="Kế hoạch mẫu và các dòng của bảng đã lấy.")


class LengthOut(BaseModel):
    body_chars: int = Field(description="Số ký tự phần nội dung (mục I–V và lời kết).")
    examples_mean: int = Field(description="Trung bình số ký tự phần nội dung của các kế hoạch mẫu cùng loại.")
    ratio: float = Field(description="Tỷ lệ độ dài so với các kế hoạch mẫu cùng loại.")


class DraftOut(BaseModel):
    commune: str = Field(description="Xã.")
    province: str | None = Field(description="Tỉnh/thành phố.")
    plan_type: str = Field(description="Loại kế hoạch.", json_schema_extra=PLAN_TYPE_SCHEMA)
    period: str = Field(description="Năm hoặc giai đoạn thực hiện.")
    title: str = Field(description="Tên kế hoạch.")
    markdown: str = Field(description="Toàn văn bản thảo (Markdown).")
    sections: list[SectionOut] = Field(description="Từng mục của bản thảo kèm nguồn tham khảo.")
    appendix: list[AppendixRowOut] = Field(description="Các dòng của mọi bảng phụ lục, theo thứ tự.")
    appendices: list[AppendixOut] = Field(description="Từng phụ lục (bảng) của bản thảo.")
    provenance: list[SourceOut] = Field(description="Các kế hoạch mẫu đã tham khảo.")
    sources_markdown: str = Field(description="Nguồn tham khảo (tệp riêng, không kèm văn bản trình ký): kế hoạch "
                                  "mẫu theo tên tệp và dòng cho từng phần, độ dài, những điểm cần kiểm tra.")
    length: LengthOut = Field(description="Độ dài phần nội dung so với các kế hoạch mẫu cùng loại.")
    warnings: list[str] = Field(description="Những điểm cần kiểm tra trước khi trình ký.")
    used_llm: bool = Field(description="Bản thảo đã được LLM biên tập lại.")


class ExampleOut(BaseModel):
    doc_id: str = Field(description="Mã kế hoạch mẫu.")
    document: str = Field(description="Tên tệp kế hoạch mẫu.")
    commune: str = Field(description="Xã.")
    province: str = Field(description="Tỉnh/thành phố.")
    plan_type: str = Field(description="Loại kế hoạch.")
    title: str = Field(description="Tên kế hoạch.")
    section: str = Field(description="Loại mục (purpose, objectives, tasks, budget, organization, bases, "
                         "recipients) hoặc rỗng khi khớp theo tiêu đề.")
    heading: str = Field(description="Tiêu đề mục như trong kế hoạch mẫu.")
    text: str = Field(description="Nội dung mục như kế hoạch mẫu đã viết.")
    line_start: int = Field(description="Dòng đầu.")
    line_end: int = Field(description="Dòng cuối.")
    truncated: bool = Field(description="Nội dung bị cắt bớt vì quá dài.")


def _source(ref: SourceRef) -> SourceOut:
    return SourceOut(ref=ref.ref, doc_id=ref.doc_id, document=ref.document, commune=ref.commune,
                     province=ref.province, plan_type=ref.plan_type, title=ref.title, lines=list(ref.lines))


def _row(x: Any) -> AppendixRowOut:
    return AppendixRowOut(stt=x.stt, task=x.task, lead=x.lead, partners=x.partners,
                          deadline=x.deadline or x.score, group=x.group, ref=x.ref)


def _appendix(appendix: Appendix) -> AppendixOut:
    return AppendixOut(label=appendix.label, title=appendix.title, kind=appendix.kind,
                       columns=[header for header, _, _ in appendix.columns], rows=[_row(x) for x in appendix.rows],
                       sources=[_source(s) for s in appendix.sources])


def draft_response(draft: Draft) -> DraftOut:
    r = draft.request
    sections = [SectionOut(key="bases", heading="Căn cứ", markdown="\n\n".join(draft.bases), used_llm=False,
                           sources=[_source(s) for s in draft.bases_sources])]
    sections += [SectionOut(key=s.key, heading=s.heading, markdown=blocks_markdown(s.blocks), used_llm=s.used_llm,
                            sources=[_source(x) for x in s.sources]) for s in draft.sections]
    appendix = [_row(x) for x in draft.appendix_rows]
    sections.append(SectionOut(key="appendix", heading="Phụ lục", markdown="", used_llm=False,
                               sources=[_source(s) for s in draft.appendix_sources]))
    return DraftOut(commune=r.commune, province=r.province, plan_type=r.plan_type, period=r.period_text,
                    title=draft.title, markdown=to_markdown(draft), sections=sections, appendix=appendix,
                    appendices=[_appendix(a) for a in draft.appendices if a.rows],
                    provenance=[_source(s) for s in draft.references], sources_markdown=sources_markdown(draft),
                    length=LengthOut(body_chars=draft.length.body_chars, examples_mean=draft.length.examples_mean,
                                     ratio=draft.length.ratio),
                    warnings=draft.warnings, used_llm=draft.used_llm)


@router.post(
    "",
    response_model=DraftOut,
    summary="Soạn thảo kế hoạch cấp xã từ các kế hoạch mẫu",
    responses={200: {"content": {DOCX_MIME: {"schema": {"type": "string", "format": "binary"}},
                                 "text/markdown": {"schema": {"type": "string"}}},
                     "description": "Bản thảo (JSON, .docx hoặc Markdown)."}},
)
def draft(
    body: DraftIn,
    services: ServicesDep,
    format: Annotated[
        Literal["json", "docx", "markdown"],
        Query(description="json (mặc định), docx (tải tệp Word theo Nghị định 30/2020/NĐ-CP) hoặc markdown."),
    ] = "json",
) -> Any:
    """Soạn bản thảo kế hoạch đủ các phần (căn cứ, mục đích - yêu cầu, mục tiêu, nhiệm vụ - giải pháp,
    kinh phí, tổ chức thực hiện, nơi nhận, chữ ký, phụ lục) từ các kế hoạch mẫu cùng loại gần nhất (hoặc chỉ từ
    các kế hoạch mẫu đã chọn), đã thay tên xã, tỉnh và năm; chỗ cần kiểm tra được đánh dấu […] hoặc [cần kiểm
    tra]. Nguồn tham khảo (tên tệp, dòng) trả về riêng trong JSON, không nằm trong văn bản. Thiếu tên xã, loại kế
    hoạch không hợp lệ hoặc kế hoạch mẫu không có trong kho: mã 422."""
    try:
        result = services.drafter.draft(**body.model_dump())
    except DraftInputError as exc:
        raise APIError(422, str(exc), code="draft_input_invalid") from None
    if format == "docx":
        return Response(to_docx(result), media_type=DOCX_MIME,
                        headers=attachment(result.request.file_name("docx")))
    if format == "markdown":
        return Response(to_markdown(result).encode("utf-8"), media_type="text/markdown; charset=utf-8",
                        headers=attachment(result.request.file_name("md")))
    return draft_response(result)


@router.get("/examples", response_model=list[ExampleOut], summary="Xem các kế hoạch mẫu đã viết một mục thế nào")
def examples(
    services: ServicesDep,
    section: Annotated[str, Query(max_length=200, json_schema_extra={"pattern": NOT_BLANK}, description="Mục cần xem, ví dụ: KINH PHÍ, MỤC TIÊU, "
                                  "TỔ CHỨC THỰC HIỆN, Căn cứ, Nơi nhận (có dấu hoặc không dấu).")],
    plan_type: Annotated[str | None, Query(max_length=100, json_schema_extra=PLAN_TYPE_SCHEMA,
                                           description="Ưu tiên loại kế hoạch: pii, nq57, innovative.")] = None,
    province: Annotated[str | None, Query(max_length=200, description="Ưu tiên tỉnh/thành phố.")] = None,
    limit: Annotated[int, Query(ge=1, le=20, description="Số kế hoạch mẫu tối đa.")] = 10,
) -> Any:
    """Mục được chọn của từng kế hoạch mẫu (cùng loại, cùng tỉnh trước), đúng như xã đó đã viết."""
    if plan_type is not None and plan_type not in PLAN_TYPES:  # what the schema declares, the server enforces
        raise APIError(422, f"Loại kế hoạch «{plan_type}» không hợp lệ; chọn một trong: {', '.join(PLAN_TYPES)}.",
                       code="draft_input_invalid")
    try:
        found = services.drafter.examples(section, plan_type=plan_type, province=province or None,
                                          limit=limit)
    except DraftInputError as exc:
        raise APIError(422, str(exc), code="draft_input_invalid") from None
    return [e.to_dict() for e in found]
