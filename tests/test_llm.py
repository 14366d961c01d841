"""The optional LLM rewrite, against a real OpenAI-compatible HTTP server run by the test
(``http.server`` on 127.0.0.1, a free port) with canned replies: a good answer is used; a reply with
invalid citations, an HTTP error, malformed JSON, a refusal, an empty reply or a timeout falls back
to the extractive answer. The request is checked: question, sources, bounded context."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.qa.llm import NOT_FOUND_TOKEN, build_context, citations_valid
from assistant.qa.types import Answer, Source
from assistant.services import Services
from core.config import Settings

QUESTION = "Ở xã Hà Đông, đơn vị nào chủ trì tổ chức hội thi, diễn đàn đổi mới sáng tạo cấp xã?"
GOOD_REPLY = "Phòng Văn hóa - Xã hội (Phòng VH-XH) chủ trì tổ chức hội thi, diễn đàn đổi mới sáng tạo cấp xã [1]."
LIST_QUESTION = "Những đơn vị nào được phân công trong kế hoạch của xã Vĩnh Thuận?"


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "answer"
        self.reply = GOOD_REPLY
        self.delay = 0.0
        self.requests: list[dict] = []
        self.headers_seen: list[dict] = []

    def handle_error(self, request, client_address) -> None:  # a client that gave up (timeout case)
        pass


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        server.requests.append({"path": self.path, "json": payload})
        server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        if server.mode == "status500":
            self._send(500, b'{"error": {"message": "internal error", "type": "server_error"}}')
            return
        if server.mode == "malformed":
            self._send(200, b'{"id": "x", "choices": [ {"message": ')
            return
        if server.mode == "slow":
            time.sleep(server.delay)
        body = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", "fake"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": server.reply}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def server(llm_server: FakeOpenAI) -> FakeOpenAI:
    llm_server.mode, llm_server.reply, llm_server.delay = "answer", GOOD_REPLY, 0.0
    llm_server.requests.clear()
    llm_server.headers_seen.clear()
    return llm_server


def llm_services(corpus_services: Services, models_dir: Path, port: int, **overrides) -> Services:
    """Services over the ingested corpus (same data dir, same embedder), with an LLM configured."""
    settings = Settings(
        data_dir=corpus_services.settings.data_dir,
        PLAN_ASSISTANT_MODELS_DIR=models_dir,
        llm_base_url=f"http://127.0.0.1:{port}/v1",
        llm_model="fake",
        llm_timeout_s=1,
        **overrides,
    )
    services = Services(settings)
    services.__dict__["embedder"] = corpus_services.embedder
    return services


@pytest.fixture(scope="module")
def with_llm(corpus_services: Services, models_dir: Path, llm_server: FakeOpenAI) -> Services:
    return llm_services(corpus_services, models_dir, llm_server.server_address[1])


@pytest.fixture(scope="module")
def extractive(corpus_services: Services) -> Answer:
    return corpus_services.qa.ask(QUESTION)


def user_message(request: dict) -> str:
    messages = request["json"]["messages"]
    return next(m["content"] for m in messages if m["role"] == "user")


def context_of(request: dict) -> str:
    text = user_message(request)
    return text.split("Nguồn:\n", 1)[1].split("\n\nCâu trả lời trích xuất sẵn", 1)[0]


# --- the happy path -----------------------------------------------------------------------------------


def test_a_valid_llm_answer_is_used(with_llm: Services, server: FakeOpenAI, extractive: Answer) -> None:
    assert extractive.found and not extractive.used_llm
    answer = with_llm.qa.ask(QUESTION)
    assert answer.used_llm is True
    assert answer.found is True
    assert answer.answer == GOOD_REPLY
    assert [s.to_dict() for s in answer.sources] == [s.to_dict() for s in extractive.sources]
    assert answer.intent == extractive.intent == "lead"


def test_the_request_carries_the_question_the_draft_and_the_sources(
    with_llm: Services, server: FakeOpenAI, extractive: Answer
) -> None:
    with_llm.qa.ask(QUESTION)
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    payload = request["json"]
    assert payload["model"] == "fake"
    assert payload.get("temperature") == 0
    assert not payload.get("stream")
    roles = [m["role"] for m in payload["messages"]]
    assert roles == ["system", "user"]
    system = payload["messages"][0]["content"]
    assert "KHÔNG_TÌM_THẤY" in system and "[1]" in system
    text = user_message(request)
    assert f"Câu hỏi: {QUESTION}" in text
    assert extractive.answer in text  # the extractive draft
    context = context_of(request)
    assert context.startswith("[1] (xã Hà Đông; ")
    assert "Tổ chức hội thi, diễn đàn đổi mới sáng tạo cấp xã" in context
    # only the sources the draft cites are numbered, so [n] in the reply refers to answer.sources[n-1]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", extractive.answer)}
    assert {int(n) for n in re.findall(r"^\[(\d+)\] \(xã ", context, re.MULTILINE)} == cited
    assert server.headers_seen[0]["authorization"] == "Bearer not-needed"


def test_a_list_answer_with_several_sources(with_llm: Services, server: FakeOpenAI) -> None:
    server.reply = "- Phòng Văn hóa - Xã hội [2]\n- Phòng Kinh tế [3]\n- Các phòng, ban, ngành xã [1]"
    answer = with_llm.qa.ask(LIST_QUESTION)
    assert answer.used_llm and answer.answer == server.reply
    context = context_of(server.requests[-1])
    assert len(re.findall(r"^\[\d+\] \(xã Vĩnh Thuận; ", context, re.MULTILINE)) >= 3
    assert len(context) <= with_llm.settings.llm_max_context_chars


# --- fallbacks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reply"),
    [
        ("answer", "Phòng Văn hóa - Xã hội chủ trì [99]."),  # a source that does not exist
        ("answer", "Phòng Văn hóa - Xã hội chủ trì [1], phối hợp các đoàn thể [2]."),  # only one source was given
        ("answer", "Phòng Văn hóa - Xã hội chủ trì [0]."),
        ("answer", "Phòng Văn hóa - Xã hội chủ trì."),  # no citation at all
        ("answer", NOT_FOUND_TOKEN),
        ("answer", f"Xin lỗi. {NOT_FOUND_TOKEN} [1]"),
        ("answer", ""),
        ("answer", "   \n "),
        ("status500", GOOD_REPLY),
        ("malformed", GOOD_REPLY),
    ],
)
def test_a_bad_llm_reply_falls_back_to_the_extractive_answer(
    with_llm: Services, server: FakeOpenAI, extractive: Answer, mode: str, reply: str
) -> None:
    server.mode, server.reply = mode, reply
    answer = with_llm.qa.ask(QUESTION)
    assert len(server.requests) == 1  # the LLM was asked once (no retries)
    assert answer.used_llm is False
    assert answer.found is True
    assert answer.answer == extractive.answer
    assert [s.to_dict() for s in answer.sources] == [s.to_dict() for s in extractive.sources]


def test_a_slow_llm_times_out_and_falls_back(with_llm: Services, server: FakeOpenAI, extractive: Answer) -> None:
    assert with_llm.settings.llm_timeout_s == 1
    server.mode, server.delay = "slow", 4.0
    answer = with_llm.qa.ask(QUESTION)
    assert len(server.requests) == 1
    assert answer.used_llm is False and answer.answer == extractive.answer
    # the server recovers: the next question uses the LLM again
    server.mode = "answer"
    assert with_llm.qa.ask(QUESTION).used_llm is True


def test_an_unreachable_llm_falls_back(corpus_services: Services, models_dir: Path, extractive: Answer) -> None:
    import socket

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services = llm_services(corpus_services, models_dir, port)
    answer = services.qa.ask(QUESTION)
    assert answer.used_llm is False and answer.answer == extractive.answer


def test_a_not_found_question_never_reaches_the_llm(with_llm: Services, server: FakeOpenAI) -> None:
    answer = with_llm.qa.ask("Xã Tân Lập giao đơn vị nào chủ trì tuyên truyền về chuyển đổi số?")
    assert answer.found is False and answer.used_llm is False
    assert server.requests == []


# --- the bounded context --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limit", [150, 400, 1000]
)
def test_the_context_sent_is_bounded(
    corpus_services: Services, models_dir: Path, server: FakeOpenAI, limit: int
) -> None:
    services = llm_services(corpus_services, models_dir, server.server_address[1], llm_max_context_chars=limit)
    server.reply = "Phòng Văn hóa - Xã hội [1]."
    answer = services.qa.ask(LIST_QUESTION)
    assert answer.used_llm
    context = context_of(server.requests[-1])
    assert context.startswith("[1] (xã Vĩnh Thuận; ")
    assert len(context) <= limit, len(context)


def source(text: str, n: int = 1) -> Source:
    return Source(f"kh{n}.txt", f"kh{n}", "Hòa Điền", "An Giang", "Kế hoạch", "V. TỔ CHỨC THỰC HIỆN", text, 1.0,
                  "text", n, n)


def test_build_context_numbers_sources_and_respects_the_limit() -> None:
    answer = Answer("nháp", True, [source("a" * 100, 1), source("b" * 100, 2), source("c" * 100, 3)])
    full = build_context(answer, 10_000)
    assert full.startswith("[1] (xã Hòa Điền; V. TỔ CHỨC THỰC HIỆN)\n" + "a" * 100)
    assert "\n\n[2] (xã Hòa Điền; " in full and "\n\n[3] (xã Hòa Điền; " in full
    for limit in (50, 140):  # within the first entry
        assert len(build_context(answer, limit)) == limit, limit


@pytest.mark.parametrize("limit", [150, 250, 300])
def test_build_context_with_several_entries_respects_the_limit(limit: int) -> None:
    answer = Answer("nháp", True, [source("a" * 100, 1), source("b" * 100, 2), source("c" * 100, 3)])
    assert len(build_context(answer, limit)) <= limit


def test_citation_check() -> None:
    assert citations_valid("Phòng Kinh tế [1], [2].", 2)
    assert not citations_valid("Phòng Kinh tế [3].", 2)
    assert not citations_valid("Phòng Kinh tế.", 2)
    assert not citations_valid("Phòng Kinh tế [0].", 2)
