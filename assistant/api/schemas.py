"""Request and response models of the HTTP API (descriptions are shown to users at /docs, in Vietnamese)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.qa.types import Source

# --- OpenAPI-only keywords -------------------------------------------------------------------------
# Declared in the schema, not validated by pydantic: the endpoints check these themselves (with their own
# Vietnamese messages and error codes), and limits taken from the settings differ per server.

SETTINGS_LIMIT = "x-settings-limit"
"""Keywords whose value is a setting, e.g. ``{"maxLength": "max_question_chars"}``: the app's OpenAPI hook
replaces the marker with ``"maxLength": settings.max_question_chars``."""
NOT_BLANK = r"\S"  # some character besides blanks (questions are stripped before they are checked)


def value_schema(**keywords: Any) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` adding ``keywords`` to the field's value: the non-null branch of an optional
    field, the field's schema otherwise."""

    def extra(schema: dict[str, Any]) -> None:
        for branch in [b for b in schema.get("anyOf", []) if b.get("type") != "null"] or [schema]:
            branch.update(keywords)

    return extra


def settings_limit(**names: str) -> Callable[[dict[str, Any]], None]:
    """Limits set by the settings, e.g. ``settings_limit(maximum="max_top_k")``."""
    return value_schema(**{SETTINGS_LIMIT: names})


QUESTION_SCHEMA = value_schema(pattern=NOT_BLANK, **{SETTINGS_LIMIT: {"maxLength": "max_question_chars"}})
TOP_K_SCHEMA = settings_limit(maximum="max_top_k")

# --- errors ---------------------------------------------------------------------------------------


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Vị trí của giá trị lỗi, ví dụ ['body', 'question'].")
    msg: str = Field(description="Mô tả lỗi.")
    type: str = Field(description="Mã loại lỗi.")


class ErrorResponse(BaseModel):
    detail: str = Field(description="Thông báo lỗi (tiếng Việt).")
    errors: list[ErrorItem] = Field(default_factory=list, description="Chi tiết từng lỗi dữ liệu (nếu có).")


class OpenAIError(BaseModel):
    message: str = Field(description="Thông báo lỗi.")
    type: str = Field(description="Loại lỗi, ví dụ invalid_request_error.")
    param: str | None = Field(None, description="Tham số gây lỗi (nếu có).")
    code: str | None = Field(None, description="Mã lỗi (nếu có).")


class OpenAIErrorResponse(BaseModel):
    error: OpenAIError


# --- ask / search ---------------------------------------------------------------------------------


class HistoryMessage(BaseModel):
    role: Literal["user", "assistant"] = Field(
        description="Người nói: user (người hỏi) hoặc assistant (trợ lý)."
    )
    content: str = Field(max_length=20000, description="Nội dung tin nhắn.")


class AskRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": "Ai chủ trì nhiệm vụ chuyển đổi số ở xã Hòa Điền?"}]}
    )

    question: str = Field(
        min_length=1,
        json_schema_extra=QUESTION_SCHEMA,
        description="Câu hỏi về các kế hoạch (không rỗng; tối đa số ký tự theo cấu hình "
        "max_question_chars, mặc định 2000).",
    )
    history: list[HistoryMessage] = Field(
        default_factory=list,
        max_length=50,
        description="Các lượt hỏi đáp trước (tùy chọn, tối đa 50 tin nhắn).",
    )
    commune: str | None = Field(
        None, max_length=200, description="Chỉ tìm trong kế hoạch của xã này (có dấu hoặc không dấu)."
    )
    top_k: int | None = Field(
        None, ge=1, json_schema_extra=TOP_K_SCHEMA, description="Số nguồn trích dẫn tối đa (1 đến max_top_k theo cấu hình, mặc định 20)."
    )
    explain: bool = Field(
        False, description="Trả kèm đường quyết định (cách hiểu câu hỏi, hướng xử lý, độ tin cậy, ứng viên gần nhất)."
    )


class SourceOut(BaseModel):
    document: str = Field(description="Tên tệp kế hoạch.")
    doc_id: str = Field(description="Mã kế hoạch.")
    commune: str = Field(description="Xã ban hành kế hoạch.")
    province: str = Field(description="Tỉnh/thành phố.")
    plan_title: str = Field(description="Tên kế hoạch.")
    section: str = Field(description="Mục của kế hoạch chứa đoạn trích.")
    text: str = Field(description="Đoạn văn bản được trích dẫn.")
    score: float = Field(description="Điểm liên quan (càng cao càng liên quan).")
    kind: str = Field(description="Loại đoạn: text (văn bản), table (bảng) hoặc record (bản ghi).")
    line_start: int = Field(description="Dòng bắt đầu trong tệp gốc.")
    line_end: int = Field(description="Dòng kết thúc trong tệp gốc.")
    page: int | None = Field(None, description="Trang của kế hoạch PDF chứa đoạn trích (không có với tệp khác).")

    @classmethod
    def of(cls, source: Source) -> SourceOut:
        return cls.model_validate(source.to_dict())


class AskResponse(BaseModel):
    answer: str = Field(description="Câu trả lời, có đánh số trích dẫn [n] theo danh sách nguồn.")
    found: bool = Field(description="Có tìm thấy thông tin trong các kế hoạch hay không.")
    sources: list[SourceOut] = Field(description="Các nguồn được trích dẫn, theo thứ tự [1], [2], …")
    latency_ms: float = Field(description="Thời gian xử lý (mili giây).")
    intent: str = Field("", description="Loại câu hỏi mà hệ thống nhận diện.")
    used_llm: bool = Field(False, description="Câu trả lời có dùng mô hình ngôn ngữ lớn hay không.")
    explain: dict[str, Any] | None = Field(
        None, description="Đường quyết định, khi yêu cầu explain = true: plan (cách hiểu câu hỏi), route, found, "
        "confidence, reason, candidates.",
    )


# --- records --------------------------------------------------------------------------------------


class UnitOut(BaseModel):
    name: str = Field(description="Tên chuẩn của đơn vị.")
    written: str = Field(description="Tên đơn vị như được viết trong kế hoạch.")


class RecordOut(BaseModel):
    record_id: str = Field(description="Mã bản ghi.")
    doc_id: str = Field(description="Mã kế hoạch.")
    document: str = Field(description="Tên tệp kế hoạch.")
    commune: str = Field(description="Xã.")
    kind: str = Field(
        description="Loại: indicator, target, task, schedule, kpi (dòng bảng); duty, report, reference, recipient, "
        "signer, budget, stage, scoring (văn bản); group (nhóm của bảng)."
    )
    subject: str = Field(description="Nội dung chỉ tiêu / nhiệm vụ / văn bản được trích dẫn …")
    row_no: str | None = Field(None, description="Số thứ tự như trong kế hoạch.")
    group_path: list[str] = Field(default_factory=list, description="Nhóm / mục chứa bản ghi.")
    leads: list[UnitOut] = Field(default_factory=list, description="Đơn vị chủ trì.")
    partners: list[UnitOut] = Field(default_factory=list, description="Đơn vị phối hợp.")
    deadline: str | None = Field(None, description="Thời gian thực hiện như được viết.")
    year: int | None = Field(None, description="Năm thực hiện.")
    quarter: str | None = Field(None, description="Quý (I–IV).")
    targets: dict[str, str] = Field(default_factory=dict, description="Mục tiêu theo năm.")
    unit_of_measure: str | None = Field(None, description="Đơn vị tính.")
    max_score: str | None = Field(None, description="Điểm tối đa.")
    method: str | None = Field(None, description="Cách tính.")
    section: str = Field("", description="Mục của kế hoạch chứa bản ghi.")
    attrs: dict[str, str] = Field(
        default_factory=dict,
        description="Thuộc tính riêng của loại: số, ngày, cơ quan ban hành (reference); chức vụ, hình thức ký "
        "(signer); định kỳ, thời hạn, gửi (report); thời gian, nội dung (stage) …",
    )
    line_start: int = Field(description="Dòng bắt đầu trong tệp gốc.")
    line_end: int = Field(description="Dòng kết thúc trong tệp gốc.")
    raw: str = Field(description="Nguyên văn các dòng trong kế hoạch.")
    score: float = Field(description="Mức khớp với từ khóa q (1 nếu không tìm theo từ khóa).")


# --- documents ------------------------------------------------------------------------------------


class PlanMetadataOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    commune: str | None = Field(None, description="Xã.")
    province: str | None = Field(None, description="Tỉnh/thành phố.")
    number: str | None = Field(None, description="Số hiệu kế hoạch.")
    date: str | None = Field(None, description="Ngày ban hành.")
    title: str | None = Field(None, description="Tên kế hoạch.")
    plan_type: str | None = Field(None, description="Loại kế hoạch: pii, nq57 hoặc innovative.")
    signer: str | None = Field(None, description="Người ký.")
    signer_role: str | None = Field(None, description="Chức vụ người ký.")
    legal_bases: list[str] = Field(default_factory=list, description="Căn cứ pháp lý.")
    recipients: list[str] = Field(default_factory=list, description="Nơi nhận.")
    pages: int | None = Field(None, description="Số trang (kế hoạch PDF).")
    page_starts: list[list[int]] = Field(
        default_factory=list, description="Trang và số dòng đầu tiên của trang: [[trang, dòng], …] (kế hoạch PDF)."
    )
    ocr_pages: list[int] = Field(default_factory=list, description="Các trang bản quét được nhận dạng ký tự (OCR).")
    ocr_confidence: dict[str, float] = Field(
        default_factory=dict, description="Độ tin cậy nhận dạng của từng trang quét (0–100)."
    )
    low_confidence_pages: list[int] = Field(
        default_factory=list, description="Các trang quét nhận dạng kém, cần kiểm tra lại."
    )


class MetadataCorrection(BaseModel):
    """Corrections of a plan's parsed metadata: only the fields sent change; null or an empty string drops
    that field's correction (the value read from the file stands again)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "minProperties": 1,
            "examples": [{"commune": "Tân Lập", "date": "12/3/2026"}],
        },
    )

    commune: str | None = Field(None, max_length=100, description="Tên xã, ví dụ Tân Lập (không cần chữ 'xã').")
    province: str | None = Field(None, max_length=100, description="Tỉnh/thành phố, ví dụ Lâm Đồng.")
    plan_type: Literal["pii", "nq57", "innovative"] | None = Field(
        None, description="Loại kế hoạch: pii, nq57 hoặc innovative."
    )
    number: str | None = Field(None, max_length=60, description="Số hiệu, ví dụ 21/KH-UBND.")
    date: str | None = Field(
        None, max_length=40, description="Ngày ban hành: ngày/tháng/năm (12/3/2026) hoặc 'tháng 3 năm 2026'."
    )
    signer: str | None = Field(None, max_length=100, description="Họ và tên người ký.")
    title: str | None = Field(None, max_length=500, description="Tên kế hoạch.")


class DocumentSummary(BaseModel):
    id: str = Field(description="Mã kế hoạch (tạo từ tên tệp).")
    filename: str = Field(description="Tên tệp.")
    metadata: PlanMetadataOut = Field(description="Thông tin kế hoạch.")
    chunks: int = Field(description="Số đoạn văn bản đã lập chỉ mục.")
    records: int = Field(description="Số bản ghi có cấu trúc (chỉ tiêu, nhiệm vụ…).")
    ingested_at: str = Field(description="Thời điểm nạp (UTC).")
    warnings: list[str] = Field(
        default_factory=list, description="Điều cần kiểm tra, ví dụ các trang bản quét nhận dạng kém."
    )
    corrected_fields: list[str] = Field(
        default_factory=list, description="Các trường thông tin do cán bộ sửa (giá trị đã sửa có trong metadata)."
    )
    parsed: dict[str, Any] = Field(
        default_factory=dict, description="Giá trị đọc được từ tệp của các trường đã sửa (trước khi sửa)."
    )


class LineOut(BaseModel):
    no: int = Field(description="Số dòng trong tệp gốc.")
    text: str = Field(description="Nội dung dòng như trong tệp gốc.")


class DocumentDetail(DocumentSummary):
    lines: list[LineOut] = Field(description="Các dòng của kế hoạch.")


class UploadResult(DocumentSummary):
    status: Literal["added", "updated", "unchanged"] = Field(
        description="added: kế hoạch mới; updated: thay thế bản cũ cùng tên; unchanged: không có thay đổi."
    )
    chunks_added: int = Field(description="Số đoạn được thêm.")
    chunks_removed: int = Field(description="Số đoạn cũ bị xóa.")


class JobOut(BaseModel):
    id: str = Field(description="Mã công việc.")
    filename: str = Field(description="Tên tệp đang được nạp.")
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="queued: đang chờ; running: đang nạp; done: đã nạp xong (xem document); "
        "failed: không nạp được (xem error)."
    )
    created_at: str = Field(description="Thời điểm nhận tệp (UTC).")
    started_at: str | None = Field(None, description="Thời điểm bắt đầu nạp (UTC).")
    finished_at: str | None = Field(None, description="Thời điểm kết thúc (UTC).")
    document: UploadResult | None = Field(None, description="Kế hoạch đã nạp (khi status là done).")
    error: str | None = Field(None, description="Lý do không nạp được (tiếng Việt; khi status là failed).")
    code: str | None = Field(
        None, description="Mã lỗi khi status là failed, ví dụ not_a_plan, ingest_failed, file_too_large."
    )


class DeleteResult(BaseModel):
    id: str = Field(description="Mã kế hoạch đã xóa.")
    deleted: bool = Field(description="Đã xóa.")


class ReindexFailure(BaseModel):
    filename: str = Field(description="Tệp không nạp lại được.")
    error: str = Field(description="Lý do.")


class ReindexResult(BaseModel):
    documents: int = Field(description="Số kế hoạch được xử lý.")
    updated: int = Field(description="Số kế hoạch có thay đổi.")
    unchanged: int = Field(description="Số kế hoạch không đổi.")
    failed: list[ReindexFailure] = Field(description="Các kế hoạch lỗi.")
    seconds: float = Field(description="Thời gian (giây).")


# --- health ---------------------------------------------------------------------------------------


class HealthResponse(BaseModel):
    status: Literal["ok", "starting"] = Field(description="`ok`: sẵn sàng; `starting`: đang khởi động.")


class ReadyResponse(BaseModel):
    ready: bool = Field(description="Chỉ mục đã được nạp và sẵn sàng trả lời.")
    documents: int | None = Field(None, description="Số kế hoạch (chỉ trả cho người có quyền đọc).")
    chunks: int | None = Field(None, description="Số đoạn văn bản (chỉ trả cho người có quyền đọc).")
    records: int | None = Field(None, description="Số bản ghi có cấu trúc (chỉ trả cho người có quyền đọc).")
    communes: list[str] | None = Field(None, description="Các xã có kế hoạch (chỉ trả cho người có quyền đọc).")
    error: str | None = Field(None, description="Lý do chưa sẵn sàng (nếu có).")


# --- OpenAI-compatible ----------------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Loại phần nội dung; chỉ phần 'text' được dùng.")
    text: str | None = Field(None, description="Văn bản.")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"] = Field(
        description="Vai trò người gửi."
    )
    content: str | list[ContentPart] | None = Field(None, description="Nội dung tin nhắn.")
    name: str | None = Field(None, description="Tên người gửi (bỏ qua).")

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(False, description="Gửi thêm một gói có thống kê token ở cuối luồng.")


class ChatCompletionRequest(BaseModel):
    """Unknown parameters are accepted and ignored, as clients send many."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "plan-assistant",
                    "messages": [{"role": "user", "content": "Xã Vũ Quang có những chỉ tiêu gì?"}],
                }
            ]
        },
    )

    model: str = Field(description="Mã mô hình: plan-assistant.")
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=200,
        description="Hội thoại; tin nhắn user cuối cùng là câu hỏi (không rỗng, tối đa số ký tự theo cấu hình "
        "max_question_chars, mặc định 2000), các tin nhắn trước là lịch sử.",
    )
    stream: bool = Field(False, description="Trả kết quả dạng luồng (server-sent events).")
    stream_options: StreamOptions | None = Field(None, description="Tùy chọn luồng.")
    temperature: float | None = Field(None, ge=0, le=2, description="Bỏ qua (câu trả lời luôn xác định).")
    top_p: float | None = Field(None, ge=0, le=1, description="Bỏ qua.")
    n: int | None = Field(None, ge=1, le=128, description="Chỉ hỗ trợ 1 lựa chọn; giá trị khác bị bỏ qua.")
    max_tokens: int | None = Field(None, ge=1, description="Bỏ qua.")
    max_completion_tokens: int | None = Field(None, ge=1, description="Bỏ qua.")
    stop: str | list[str] | None = Field(None, description="Bỏ qua.")
    user: str | None = Field(None, description="Bỏ qua.")


class ChatResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="Câu trả lời, có trích dẫn [n].")
    refusal: str | None = None


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatResponseMessage
    logprobs: Any | None = None
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = Field(description="Ước lượng số token của câu hỏi (đếm theo từ).")
    completion_tokens: int = Field(description="Ước lượng số token của câu trả lời (đếm theo từ).")
    total_tokens: int = Field(description="Tổng.")


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    system_fingerprint: str | None = None
    sources: list[SourceOut] = Field(description="Các nguồn được trích dẫn, theo thứ tự [1], [2], …")


class ModelCard(BaseModel):
    id: str = Field(description="Mã mô hình.")
    object: Literal["model"] = "model"
    created: int = Field(description="Thời điểm tạo (Unix).")
    owned_by: str = Field(description="Chủ sở hữu.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# --- links between operations ----------------------------------------------------------------------
# What a response gives the client to call next (OpenAPI links: shown at /docs, and followed by clients
# and by schemathesis' stateful tests). A link is declared only where the target accepts the value.


def link(method: str, path: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation ``method path``; ``parameters``: its parameter -> a runtime
    expression, e.g. ``doc_id="$response.body#/id"``."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "parameters": parameters,
        "description": description,
    }


DOCUMENT_PATH = "/api/documents/{doc_id}"
METADATA_PATH = "/api/documents/{doc_id}/metadata"


def document_links(
    pointer: str, *, get: bool = True, correct: bool = True, delete: bool = False
) -> dict[str, dict[str, Any]]:
    """Links from a response carrying a plan's id at the JSON pointer ``pointer`` (e.g. ``/id``) to the
    operations on that plan: read it, correct its metadata, delete it (only where the plan was just created:
    an upload's answer, its job)."""
    expression = f"$response.body#{pointer}"
    links = {}
    if get:
        links["GetDocument"] = link("GET", DOCUMENT_PATH, "Xem kế hoạch này.", doc_id=expression)
    if correct:
        links["CorrectMetadata"] = link("PATCH", METADATA_PATH, "Sửa thông tin kế hoạch này.", doc_id=expression)
    if delete:
        links["DeleteDocument"] = link("DELETE", DOCUMENT_PATH, "Xóa kế hoạch này.", doc_id=expression)
    return links


# --- documented error responses -------------------------------------------------------------------

API_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorResponse,
        "description": "Yêu cầu không hợp lệ, thiếu khóa API hoặc không tìm thấy.",
    },
    503: {"model": ErrorResponse, "description": "Chỉ mục đang được nạp."},
}
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": OpenAIErrorResponse, "description": "Lỗi theo định dạng của OpenAI."},
    503: {"model": OpenAIErrorResponse, "description": "Chỉ mục đang được nạp."},
}
