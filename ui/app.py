"""The officers' web UI (Gradio), mounted at ``/ui`` of the FastAPI app.

Every action goes through the shared ``Services`` container (QA, store, ingestor, drafter,
records query), so the UI holds no retrieval, ingestion or drafting logic of its own; this
module only turns results into widgets. Everything shown is Vietnamese.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd
from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse

from assistant import records_query
from assistant.access import SIGN_OUT_PATH, is_authorized, sign_in_url
from assistant.drafting.docx_export import write_docx
from assistant.drafting.markdown_export import sources_markdown, to_markdown
from assistant.drafting.model import ROLES, DraftInputError
from assistant.indexing import MetadataCorrectionError
from assistant.records_query import RecordMatch
from core.normalize import fold
from ingest.record_text import KIND_LABELS, targets_text, unit_names
from ui import render
from ui.theme import CSS, HEAD, make_theme

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.services import Services
    from vectorstore.store import Snapshot

log = logging.getLogger(__name__)

MOUNT_PATH = "/ui"
FAVICON = Path(__file__).with_name("favicon.png")
ALL = "Tất cả"
SUPPORTED_UPLOADS = [".txt", ".md", ".docx", ".pdf"]
FORCE_LABEL = "Xác nhận nạp cả tệp không giống kế hoạch (thiếu quốc hiệu, tiêu đề KẾ HOẠCH hoặc các mục đánh số)"
NOT_A_PLAN_HINT = (
    "tệp không giống một kế hoạch (thiếu quốc hiệu/tiêu ngữ, tiêu đề KẾ HOẠCH hoặc các mục đánh số). "
    f"Nếu đúng là kế hoạch, đánh dấu ô «{FORCE_LABEL.split(' (')[0]}» rồi tải lên lại."
)
STATUS_LABELS = {
    "added": "đã thêm mới",
    "updated": "đã cập nhật",
    "unchanged": "không thay đổi (đã có trong kho)",
    "failed": "không nạp được",
}
RECORD_COLUMNS = [
    "Xã",
    "Loại",
    "STT",
    "Nội dung",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Thời gian",
    "Năm",
    "Mục tiêu",
]
DOCUMENT_COLUMNS = [
    "Xã",
    "Tỉnh/TP",
    "Loại kế hoạch",
    "Số hiệu",
    "Ngày",
    "Tiêu đề",
    "Đoạn",
    "Bản ghi",
    "Tệp",
    "Mã",
]
CARD_FIELDS = ["commune", "province", "plan_type", "number", "date", "signer"]  # the card's editable fields
CARD_LABELS = {
    "commune": "Xã",
    "province": "Tỉnh/thành phố",
    "plan_type": "Loại kế hoạch",
    "number": "Số hiệu",
    "date": "Ngày ban hành",
    "signer": "Người ký",
    "title": "Tên kế hoạch",
}
CARD_TYPE_CHOICES = [("(chưa rõ)", ""), *((label, key) for key, label in render.PLAN_TYPE_LABELS.items())]
DRAFT_TYPES = [(label, key) for key, label in render.PLAN_TYPE_LABELS.items()]  # pii | nq57 | innovative
STREAM_SECONDS = 1.2  # how long the progressive display of one answer takes at most
STREAM_STEPS = 24
CHAT_HEIGHT = "calc(100dvh - 450px)"  # header, tabs, commune and the input row fit beside it
SORT_CHOICES = [("Thứ tự trong kế hoạch", ""), *((c, c) for c in RECORD_COLUMNS if c != "STT")]
MAX_EXPORT_DIRS = 64  # CSV/Excel/Word files kept for download
# the new draft's preview, from its start: beside the form (laptop) or under it (phone); after the
# next frame, when the preview and the download button above it are drawn
SHOW_PREVIEW_JS = """() => requestAnimationFrame(() => requestAnimationFrame(() => {
  const preview = document.getElementById("pa-draft-preview");
  if (!preview) return;
  preview.scrollTop = 0;
  preview.scrollIntoView({ behavior: "smooth", block: "start" });
}))"""
NEEDS_SIGN_IN = (
    '<div class="pa-results pa-err" role="alert">Máy chủ yêu cầu khóa truy cập để thay đổi kho kế hoạch. '
    f'<a href="{sign_in_url()}">Đăng nhập bằng khóa API</a> rồi thử lại.</div>'
)


def _choice(value: str | None) -> str | None:
    """A filter value, or None for 'Tất cả' / empty."""
    return None if value in (None, "", ALL) else value


def _session(request: gr.Request | None) -> str:
    """The key of one open page (its questions wait in their own queue)."""
    return str(getattr(request, "session_hash", None) or "")


def _stream_prefixes(text: str) -> list[str]:
    """Growing prefixes of ``text`` cut at word ends (about ``STREAM_STEPS`` of them), the last whole."""
    ends = [m.end() for m in re.finditer(r"\S+\s*", text)]
    step = max(1, len(ends) // STREAM_STEPS)
    cuts = ends[step - 1 :: step]
    if not cuts or cuts[-1] != len(text):
        cuts.append(len(text))
    return [text[:cut] for cut in cuts]


class PlanUI:
    """Handlers of the UI; each takes widget values and returns widget values."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.files_dir = Path(tempfile.mkdtemp(prefix="plan-assistant-ui-"))
        # questions taken but not yet answered, per page; one answering loop per page at a time
        self._waiting: dict[str, deque[str]] = {}
        self._answering: set[str] = set()
        self._cleared: dict[str, int] = {}  # "Hội thoại mới" count: a running loop stops at a change
        self._lock = threading.Lock()

    def export_dir(self, key: object) -> Path:
        """A folder for the files of one export (same input, same folder); old ones are pruned
        (Gradio serves its own copy of a file once it is handed over)."""
        folder = self.files_dir / hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        folder.mkdir(exist_ok=True)
        folder.touch()
        kept = sorted(self.files_dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[MAX_EXPORT_DIRS:]:
            shutil.rmtree(old, ignore_errors=True)
        return folder

    # --- corpus overview -----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self.services.store.snapshot

    def header(self, request: gr.Request | None = None) -> str:
        settings = self.services.settings
        snap = self.snapshot
        html = render.header_html(snap.documents, snap.communes, settings.llm_enabled, settings.llm_model)
        if settings.api_keys:
            if request is not None and is_authorized(settings, request.headers, request.cookies):
                html += (f'<form class="pa-session" method="post" action="{SIGN_OUT_PATH}">Đã đăng nhập bằng khóa '
                         'truy cập. <button type="submit">Đăng xuất</button></form>')
            else:
                html += (f'<div class="pa-session"><a href="{sign_in_url()}">Đăng nhập bằng khóa truy cập</a> '
                         "để nạp, xóa hoặc lập chỉ mục lại kế hoạch.</div>")
        return html

    def commune_choices(self) -> list[str]:
        return [ALL, *self.snapshot.communes]

    def example_questions(self) -> list[str]:
        """A few questions that the loaded plans can answer (built from their metadata)."""
        templates = {
            "pii": "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã {c}?",
            "nq57": "Tỷ lệ phủ sóng 5G của xã {c} năm 2026 là bao nhiêu?",
            "innovative": "Khi nào xã {c} tổ chức hội nghị tổng kết cấp xã?",
        }
        questions: list[str] = []
        used: set[str] = set()
        # the plan of each type with the most records (tables, assignments) answers best
        for doc in sorted(self.snapshot.documents.values(), key=lambda d: (-d.n_records, d.doc_id)):
            commune, plan_type = doc.metadata.get("commune"), doc.metadata.get("plan_type")
            if not commune or plan_type in used or plan_type not in templates:
                continue
            used.add(plan_type)
            questions.append(templates[plan_type].format(c=commune))
        communes = self.snapshot.communes
        if communes:
            questions.append(f"xa {fold(communes[-1])} giao nhiem vu gi cho cong an xa")  # without diacritics
            questions.append(f"Kế hoạch của xã {communes[0]} do ai ký ban hành?")
        return questions[:4]

    def refresh_all(self, request: gr.Request | None = None) -> tuple[Any, ...]:
        """Everything that depends on the corpus: after page load, upload, delete, reindex."""
        communes = self.commune_choices()
        return (
            self.header(request),
            gr.Dropdown(choices=communes),
            gr.Chatbot(examples=[{"text": q} for q in self.example_questions()]),
            *self.reset_records(),
            self.documents_table(),
            gr.Dropdown(choices=self.document_choices(), value=None),
            gr.Dropdown(choices=self.snapshot.communes),
        )

    # --- Hỏi đáp ---------------------------------------------------------------------------------

    def waiting_text(self, key: str) -> str:
        """The line under the chat that lists the questions waiting for their answer."""
        with self._lock:
            waiting = list(self._waiting.get(key, ()))
        if not waiting:
            return ""
        shown = "; ".join(f"“{render.esc(q if len(q) <= 80 else q[:79] + '…')}”" for q in waiting[:3])
        more = f" và {len(waiting) - 3} câu khác" if len(waiting) > 3 else ""
        return f"Đang chờ trả lời {len(waiting)} câu hỏi (theo thứ tự): {shown}{more}."

    def take(self, question: str | None, request: gr.Request | None = None) -> tuple[str, str]:
        """Queue a question; (input box, waiting line). The box is cleared here, once: what the
        officer types while an answer streams is never wiped. A too long question stays in the box."""
        key = _session(request)
        question = (question or "").strip()
        if not question:
            return "", self.waiting_text(key)
        limit = self.services.settings.max_question_chars
        if len(question) > limit:
            return question, f"⚠ Câu hỏi quá dài ({len(question)} ký tự, tối đa {limit}). Hãy hỏi ngắn gọn hơn."
        with self._lock:
            self._waiting.setdefault(key, deque()).append(question)
        return "", self.waiting_text(key)

    def take_example(self, selected: gr.SelectData, request: gr.Request | None = None) -> str:
        """An example question clicked: queued as is, the input box is left alone."""
        return self.take(selected.value["text"], request)[1]

    def clear_chat(self, request: gr.Request | None = None) -> tuple[list[Any], list[Any], list[Any], str]:
        """A new conversation: chat, its copy, history, waiting line (queued questions are dropped)."""
        key = _session(request)
        with self._lock:
            self._waiting.pop(key, None)
            self._cleared[key] = self._cleared.get(key, 0) + 1
        return [], [], [], ""

    def forget(self, request: gr.Request | None = None) -> None:
        """A page closed: its waiting questions and counters go."""
        key = _session(request)
        with self._lock:
            self._waiting.pop(key, None)
            self._cleared.pop(key, None)

    def answer_waiting(
        self,
        chat: list[dict[str, Any]] | None,
        history: list[dict[str, str]] | None,
        commune: str | None,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Answer the page's waiting questions in order: chat, its copy (a state, so a later loop
        starts from the whole conversation), history, waiting line. A question sent while an
        answer streams waits and is answered by the loop already running; a second loop skips."""
        key = _session(request)
        with self._lock:
            busy = key in self._answering
            self._answering.add(key)
            cleared = self._cleared.get(key, 0)
        if busy:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat, history = list(chat or []), list(history or [])
        answered = False
        try:
            while True:
                with self._lock:
                    waiting = self._waiting.get(key)
                    if not waiting or self._cleared.get(key, 0) != cleared:
                        self._answering.discard(key)  # with the check: a question queued later starts a loop
                        break
                    question = waiting.popleft()
                answered = True
                for step_chat, step_history in self.answer(question, chat, history, commune):
                    if self._cleared.get(key, 0) != cleared:
                        break
                    chat, history = step_chat, step_history
                    yield chat, chat, history, self.waiting_text(key)  # questions sent meanwhile show
            # the waiting line emptied; without an answer it is left as is (it may tell "quá dài")
            yield gr.skip(), gr.skip(), gr.skip(), self.waiting_text(key) if answered else gr.skip()
        finally:
            with self._lock:
                self._answering.discard(key)

    def answer(
        self,
        question: str,
        chat: list[dict[str, Any]] | None,
        history: list[dict[str, str]] | None,
        commune: str | None,
    ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, str]]]]:
        """Stream the answer to one question into the chat (chat, history); the sources follow as a
        message of their own (cards), which the answer's "[n]" link to in the browser (``ui.theme.CITE_SCRIPT``)."""
        chat = list(chat or [])
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            return
        chat.append({"role": "user", "content": render.safe_markdown(question)})
        chat.append({"role": "assistant", "content": "_Đang tìm trong các kế hoạch…_"})
        yield list(chat), list(history)
        try:
            result = self.services.qa.ask(question, history=history or None, commune=_choice(commune))
        except Exception:  # noqa: BLE001 - an officer sees a plain message, the log has the trace
            log.exception("QA failed for %r", question)
            chat[-1] = {
                "role": "assistant",
                "content": "Xin lỗi, đã có lỗi khi tìm câu trả lời. Vui lòng gửi lại câu hỏi.",
            }
            yield list(chat), list(history)
            return
        text = render.safe_markdown(result.answer)
        steps = _stream_prefixes(text)
        pause = STREAM_SECONDS / max(len(steps), 1)
        for prefix in steps:
            chat[-1] = {"role": "assistant", "content": prefix}
            yield list(chat), list(history)
            time.sleep(pause)
        extras = []
        if not result.found:
            extras.append(render.not_found_hint(self.snapshot.documents, _choice(commune)))
        if result.sources:
            # the cards' ids are prefixed with the message's place in the chat: unique per answer
            prefix = f"pa-a{len(chat)}"
            extras.append(render.sources_html(result.sources, question, result.found, result.answer, prefix))
        if extras:
            # a component, not text: the chat shows no copy button for it, and the answer's copy
            # button copies the answer alone
            chat.append({"role": "assistant", "content": gr.HTML("".join(extras), padding=False)})
        history = [
            *history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": result.answer},
        ]
        yield list(chat), list(history)

    # --- Bảng phân công --------------------------------------------------------------------------

    def record_filter_options(
        self, commune: str | None, kind: str | None, unit: str | None, year: str | None
    ) -> tuple[list[tuple[str, str]], list[str], list[str], tuple[str, str, str]]:
        """Kinds, units and years of the chosen commune's records (of all without one), and the
        chosen kind, unit and year kept if still offered, else 'Tất cả'."""
        snapshot = self.snapshot
        records = snapshot.records
        if place := _choice(commune):
            flt = records_query.RecordFilter(commune=place)
            records = [m.record for m in records_query.query_records(records, snapshot.documents, flt)]
        units = sorted({u.name for r in records for u in (*r.leads, *r.partners)}, key=str.lower)
        years = [str(y) for y in sorted({r.year for r in records if r.year}, reverse=True)]
        kinds = [(label, key) for key, label in KIND_LABELS.items() if any(r.kind == key for r in records)]
        kept = (
            kind if kind in {k for _, k in kinds} else ALL,
            unit if unit in units else ALL,
            year if year in years else ALL,
        )
        return kinds, units, years, kept

    def record_filter_choices(
        self, commune: str | None = ALL, kind: str | None = ALL, unit: str | None = ALL, year: str | None = ALL
    ) -> tuple[Any, Any, Any, Any]:
        """Dropdown updates: commune, kind, unit, year (narrowed to the chosen commune)."""
        communes = self.commune_choices()
        commune_box = gr.Dropdown(choices=communes, value=commune if commune in communes else ALL)
        return commune_box, *self._narrowed(*self.record_filter_options(commune, kind, unit, year))

    @staticmethod
    def _narrowed(
        kinds: list[tuple[str, str]], units: list[str], years: list[str], kept: tuple[str, str, str]
    ) -> tuple[Any, Any, Any]:
        return (
            gr.Dropdown(choices=[(ALL, ALL), *kinds], value=kept[0]),
            gr.Dropdown(choices=[ALL, *units], value=kept[1]),
            gr.Dropdown(choices=[ALL, *years], value=kept[2]),
        )

    def reset_records(self) -> tuple[Any, ...]:
        """'Xóa bộ lọc': every filter back to 'Tất cả', plan order; the whole table."""
        return (
            *self.record_filter_choices(),
            "",  # text search
            "",  # sort: plan order
            False,
            *self.filter_records(ALL, ALL, ALL, ALL, ""),
        )

    def choose_commune(
        self,
        commune: str | None,
        kind: str | None,
        unit: str | None,
        year: str | None,
        text: str | None,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> tuple[Any, ...]:
        """A commune chosen: kind, unit and year narrowed to its records, then the table."""
        options = self.record_filter_options(commune, kind, unit, year)
        kind, unit, year = options[3]
        return *self._narrowed(*options), *self.filter_records(commune, kind, unit, year, text, sort_by, descending)

    @staticmethod
    def record_rows(matches: list[RecordMatch]) -> list[list[Any]]:
        return [
            [
                m.commune,
                KIND_LABELS.get(r.kind, r.kind),
                r.row_no or "",
                r.subject,
                unit_names(r.leads),
                unit_names(r.partners),
                r.deadline or "",
                r.year or "",
                targets_text(r),
            ]
            for m in matches
            for r in (m.record,)
        ]

    def filter_records(
        self,
        commune: str | None,
        kind: str | None,
        unit: str | None,
        year: str | None,
        text: str | None,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> tuple[pd.DataFrame, str, str | None, str | None, str]:
        """Table, count line, CSV and Excel files, and cards (phones) of the records that pass the
        filters, sorted by one column (``sort_by``, a column title) or in plan order."""
        snapshot = self.snapshot
        flt = records_query.RecordFilter(
            commune=_choice(commune),
            unit=_choice(unit),
            kind=_choice(kind),
            year=int(y) if (y := _choice(year)) and y.isdigit() else None,
            q=(text or "").strip() or None,
        )
        matches = records_query.query_records(snapshot.records, snapshot.documents, flt)
        pairs = list(zip(matches, self.record_rows(matches), strict=True))
        if sort_by in RECORD_COLUMNS:
            column = RECORD_COLUMNS.index(sort_by)
            # empty cells last in either direction; Vietnamese compared without diacritics
            filled = [p for p in pairs if p[1][column] != ""]
            filled.sort(key=lambda p: _sort_key(p[1][column]), reverse=descending)
            pairs = filled + [p for p in pairs if p[1][column] == ""]
        elif descending:
            pairs.reverse()
        matches = [m for m, _ in pairs]
        rows = [r for _, r in pairs]
        frame = pd.DataFrame(rows, columns=RECORD_COLUMNS)
        count = f"Hiển thị **{len(rows)}** / {len(snapshot.records)} bản ghi phân công."
        if not rows:
            count += " Không có bản ghi nào khớp bộ lọc — hãy bỏ bớt điều kiện."
            return frame, count, None, None, ""
        cards = render.record_cards_html(frame.to_dict("records"), len(rows))
        # the CSV and the Excel file: the same columns, named after the filter
        folder = self.export_dir((flt, sort_by, descending, id(snapshot)))
        csv_path = folder / records_query.export_filename(flt, "csv")
        xlsx_path = folder / records_query.export_filename(flt, "xlsx")
        csv_path.write_text(records_query.to_csv(matches), encoding="utf-8")
        write_xlsx(xlsx_path, *records_query.export_table(matches), sheet="Phân công")
        return frame, count, str(csv_path), str(xlsx_path), cards

    # --- Tài liệu -------------------------------------------------------------------------------

    def documents_table(self) -> pd.DataFrame:
        rows = []
        for doc in sorted(
            self.snapshot.documents.values(), key=lambda d: (d.metadata.get("commune") or "", d.doc_id)
        ):
            m = doc.metadata
            rows.append(
                [
                    m.get("commune") or "—",
                    m.get("province") or "—",
                    render.PLAN_TYPE_LABELS.get(m.get("plan_type") or "", "—"),
                    m.get("number") or "(chưa có số)",
                    m.get("date") or "—",
                    m.get("title") or "—",
                    doc.n_chunks,
                    doc.n_records,
                    doc.filename,
                    doc.doc_id,
                ]
            )
        return pd.DataFrame(rows, columns=DOCUMENT_COLUMNS)

    def document_choices(self) -> list[tuple[str, str]]:
        docs = sorted(self.snapshot.documents.values(), key=lambda d: d.filename)
        return [(f"{d.metadata.get('commune') or '—'} — {d.filename}", d.doc_id) for d in docs]

    def write_refusal(self, request: gr.Request | None) -> str | None:
        """With API keys set, changing the store needs a signed-in session (or a key header): the
        same rule as the REST API. A refusal message, or None when the caller may write."""
        settings = self.services.settings
        if not settings.api_keys:
            return None
        if request is not None and is_authorized(settings, request.headers, request.cookies):
            return None
        return NEEDS_SIGN_IN

    def upload(
        self, files: list[str] | None, progress: gr.Progress | None = None, request: gr.Request | None = None,
        force: bool = False,
    ) -> str:
        """Ingest uploaded files one by one; one result line per file, in plain Vietnamese. A file that does
        not look like a plan is refused unless the officer ticked the confirmation (``force``)."""
        return self.upload_results(files, progress, request, force)[0]

    def upload_results(
        self, files: list[str] | None, progress: gr.Progress | None = None, request: gr.Request | None = None,
        force: bool = False,
    ) -> tuple[str, list[str]]:
        """As ``upload``, with the ids of the plans stored (for the metadata card)."""
        if refusal := self.write_refusal(request):
            return refusal, []
        paths = [Path(f) for f in files or []]
        if not paths:
            return '<div class="pa-results pa-err">Chưa chọn tệp nào (.txt, .md, .docx, .pdf).</div>', []
        items, stored = [], []
        for i, path in enumerate(paths):
            if progress is not None:
                progress((i, len(paths)), desc=f"Đang nạp {path.name}", unit="tệp")

            def on_page(done: int, total: int, name: str = path.name) -> None:  # a scan: seconds per page
                if progress is not None:
                    progress((done, total), desc=f"Đang nhận dạng chữ (OCR) {name}", unit="trang")

            result = self.services.ingestor.ingest_file(path, filename=path.name, progress=on_page, force=force)
            name = render.esc(path.name)
            if result.status == "failed":
                error = (
                    NOT_A_PLAN_HINT if getattr(result, "code", None) == "not_a_plan"
                    else render.esc(result.error or "lỗi không rõ")
                )
                items.append(f'<li class="pa-err">✗ <b>{name}</b>: {STATUS_LABELS["failed"]} — {error}</li>')
            else:
                detail = (
                    f"{result.chunks_added} đoạn mới, {result.records} bản ghi phân công"
                    if result.status != "unchanged"
                    else f"{result.records} bản ghi phân công"
                )
                if doc_id := getattr(result, "doc_id", None):
                    stored.append(str(doc_id))
                warnings = "".join(f"<br>⚠ {render.esc(w)}" for w in result.warnings)
                items.append(
                    f'<li class="pa-ok">✓ <b>{name}</b>: {STATUS_LABELS.get(result.status, result.status)} '
                    f"({detail}){warnings}</li>"
                )
        return f'<div class="pa-results"><ul>{"".join(items)}</ul></div>', stored

    # --- the metadata card: what was read from a plan, for the officer to check and correct ----------

    def card_counts(self, doc_id: str) -> tuple[int, int, int]:
        """(sections, table rows, facts) of a plan: its distinct section headings (as its text chunks
        name them), the facts that are rows of its tables, and all its facts."""
        snap = self.snapshot
        segment = getattr(snap, "segments", {}).get(doc_id)
        chunks = segment.chunks if segment is not None else []
        sections = len({c.section for c in chunks if c.section and c.kind != "record"})
        records = [r for r in snap.records if r.doc_id == doc_id]
        return sections, sum(1 for r in records if r.is_table_row), len(records)

    def card(self, doc_id: str | None, message: str = "") -> tuple[Any, ...]:
        """The card's widgets for a plan: (group, info, plan choice, commune, province, plan type, number,
        date, signer, result)."""
        doc = self.snapshot.documents.get(doc_id or "")
        if doc is None:
            return (gr.Group(visible=False), "", gr.Dropdown(choices=self.document_choices(), value=None),
                    *(gr.skip() for _ in CARD_FIELDS), message)
        m = doc.metadata
        sections, table_rows, facts = self.card_counts(doc.doc_id)
        corrected = getattr(doc, "corrections", {}) or {}
        parsed = getattr(doc, "parsed", {}) or {}
        notes = "".join(
            f"<li>{render.esc(CARD_LABELS.get(name, name))}: đã sửa thành <b>{render.esc(value)}</b> "
            f"(đọc được từ tệp: {render.esc(parsed.get(name) or '—')})</li>"
            for name, value in sorted(corrected.items())
        )
        info = (
            f'<div class="pa-results" id="doc-card-summary"><b>Thông tin đọc được từ kế hoạch '
            f"«{render.esc(doc.filename)}»</b> — kiểm tra và sửa nếu sai, rồi bấm «Lưu chỉnh sửa»."
            f"<br>Xã: <b>{render.esc(m.get('commune') or '—')}</b> · Tỉnh/TP: {render.esc(m.get('province') or '—')}"
            f" · {render.esc(render.PLAN_TYPE_LABELS.get(m.get('plan_type') or '', 'chưa rõ loại kế hoạch'))}"
            f"<br>Nội dung: {sections} mục, {table_rows} dòng bảng, {facts} dữ kiện (bản ghi)."
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )
        values = [m.get(name) or "" for name in CARD_FIELDS]
        values[CARD_FIELDS.index("plan_type")] = gr.Dropdown(
            choices=CARD_TYPE_CHOICES, value=m.get("plan_type") if m.get("plan_type") in render.PLAN_TYPE_LABELS else ""
        )
        return (gr.Group(visible=True), info, gr.Dropdown(choices=self.document_choices(), value=doc.doc_id),
                *values, message)

    def save_corrections(self, doc_id: str | None, *values: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
        """Keep the officer's corrections (the service behind PATCH /api/documents/{id}/metadata); then the
        card shows the plan as now stored. Refused without a key when the server has keys."""
        if refusal := self.write_refusal(request):
            return self.card(doc_id, refusal)
        doc = self.snapshot.documents.get(doc_id or "")
        if doc is None:
            return self.card(None, '<div class="pa-results pa-err">Chưa chọn kế hoạch (hoặc kế hoạch đã bị xóa).</div>')
        changes: dict[str, object] = {}
        for name, value in zip(CARD_FIELDS, values, strict=True):
            text = (value or "").strip() if isinstance(value, str) else ""
            if text != (doc.metadata.get(name) or ""):
                changes[name] = text or None
        if not changes:
            return self.card(doc.doc_id, '<div class="pa-results">Không có thay đổi nào để lưu.</div>')
        try:
            row = self.services.ingestor.correct_metadata(doc.doc_id, changes)
        except MetadataCorrectionError as exc:
            return self.card(doc.doc_id, f'<div class="pa-results pa-err" role="alert">{render.esc(exc)}</div>')
        if row is None:
            return self.card(None, '<div class="pa-results pa-err">Không tìm thấy kế hoạch (có thể đã bị xóa).</div>')
        saved = ", ".join(CARD_LABELS[name].lower() for name in changes)
        return self.card(row.doc_id, f'<div class="pa-results pa-ok">Đã lưu chỉnh sửa ({render.esc(saved)}).</div>')

    def delete(self, doc_id: str | None, request: gr.Request | None = None) -> str:
        if refusal := self.write_refusal(request):
            return refusal
        if not doc_id:
            return '<div class="pa-results">Chưa chọn kế hoạch để xóa.</div>'
        doc = self.snapshot.documents.get(doc_id)
        name = render.esc(doc.filename if doc else doc_id)
        if self.services.ingestor.remove(doc_id):
            return f'<div class="pa-results pa-ok">Đã xóa kế hoạch <b>{name}</b> khỏi kho.</div>'
        return (
            f'<div class="pa-results pa-err">Không tìm thấy kế hoạch <b>{name}</b> (có thể đã bị xóa).</div>'
        )

    def reindex(self, progress: gr.Progress | None = None, request: gr.Request | None = None) -> str:
        if refusal := self.write_refusal(request):
            return refusal

        def on_file(name: str, index: int, total: int) -> None:
            if progress is not None:
                progress((index, total), desc=f"Đang lập chỉ mục {name}", unit="tệp")

        report = self.services.ingestor.reindex(progress=on_file)
        failed = report.failed
        text = (
            f"Đã lập chỉ mục lại {len(report.results)} kế hoạch trong {report.seconds:.0f} giây "
            f"({report.chunks_added} đoạn mới, {report.chunks_removed} đoạn bỏ)."
        )
        if failed:
            errors = "".join(
                f"<li>{render.esc(Path(r.path).name)}: {render.esc(r.error)}</li>" for r in failed
            )
            return f'<div class="pa-results pa-err">{text} Có {len(failed)} tệp lỗi:<ul>{errors}</ul></div>'
        return f'<div class="pa-results pa-ok">{text}</div>'

    # --- Soạn thảo -------------------------------------------------------------------------------

    def province_for(self, commune: str | None) -> str | None:
        for doc in self.snapshot.documents.values():
            if commune and doc.metadata.get("commune") == commune and doc.metadata.get("province"):
                return doc.metadata["province"]
        return None

    def draft(
        self,
        commune: str | None,
        province: str | None,
        plan_type: str | None,
        year: str | None,
        bases: str | None,
        units: str | None,
        focus: str | None,
        signer: str | None,
        role: str | None,
        examples: list[str] | None = None,
    ) -> tuple[str, str | None]:
        """Markdown preview and .docx path of a drafted plan (the drafter validates the input); the
        provenance follows the preview, outside the document."""
        try:
            draft = self.services.drafter.draft(
                commune=commune,
                province=province,
                plan_type=plan_type,
                year=year,
                bases=_lines(bases),
                units=_lines(units),
                focus=_lines(focus),
                signer=signer,
                role=role,
                examples=list(examples or []),
            )
        except DraftInputError as exc:
            return f"**Chưa soạn được kế hoạch:** {render.esc(exc)}", None
        warnings = "".join(f"> ⚠️ {render.safe_markdown(w)}\n>\n" for w in draft.warnings)
        preview = (f"{warnings}\n" if warnings else "") + render.safe_markdown(to_markdown(draft))
        preview += "\n\n---\n\n" + render.safe_markdown(sources_markdown(draft)).replace("# ", "### ", 1)
        path = write_docx(draft, self.export_dir(draft.request) / draft.request.file_name("docx"))
        return preview, str(path)

    def draft_examples(self) -> gr.Dropdown:
        """The example plans a draft can be made from, for the picker."""
        docs = self.services.drafter.example_documents()
        choices = [(f"{render.PLAN_TYPE_LABELS.get(d.plan_type, d.plan_type)} — xã {d.commune or '—'}"
                    f" ({d.province or '—'}) — {d.filename}", d.doc_id) for d in docs]
        return gr.Dropdown(choices=choices)


def _sort_key(value: object) -> tuple[float, str]:
    """Numbers by value, text by its folded form ('Đ' next to 'D')."""
    if isinstance(value, int | float):
        return float(value), ""
    return 0.0, fold(str(value))


def _lines(text: str | None) -> list[str]:
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


def write_xlsx(path: Path, headers: list[str], rows: list[list[Any]], sheet: str) -> None:
    """An Excel sheet with a bold, frozen header row and readable column widths; no cell is taken
    for a formula (text starting with = + - @ gets a leading apostrophe)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([records_query.safe_cell(h) for h in headers])
    for row in rows:
        ws.append([records_query.safe_cell(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, header in enumerate(headers, 1):
        longest = max([len(header), *(len(str(r[i - 1])) for r in rows)])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(10, longest + 2), 60)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)


# --- layout ---------------------------------------------------------------------------------------


def build_ui(services: Services) -> gr.Blocks:
    ui = PlanUI(services)
    # Gradio keeps a copy of every file it serves; files older than 6 hours are deleted hourly.
    with gr.Blocks(
        title="Trợ lý Kế hoạch cấp xã", analytics_enabled=False, delete_cache=(3600, 6 * 3600)
    ) as demo:
        header = gr.HTML(
            '<div class="pa-header"><h1 class="pa-title">Trợ lý Kế hoạch cấp xã</h1>'
            '<div class="pa-subtitle">Đang tải kho kế hoạch…</div></div>',
            elem_id="pa-header",
        )
        with gr.Tabs():
            with gr.Tab("Hỏi đáp", id="qa", elem_id="tab-qa"):
                qa_commune = gr.Dropdown(
                    [ALL],
                    value=ALL,
                    label="Tìm trong kế hoạch của xã",
                    elem_id="qa-commune",
                )
                chat = gr.Chatbot(
                    elem_id="pa-chat",
                    # the input row and the example questions stay in the first screen (laptop, phone)
                    height=CHAT_HEIGHT,
                    min_height=280,
                    max_height=600,
                    buttons=["copy"],
                    latex_delimiters=[],
                    feedback_options=None,
                    show_label=False,
                    group_consecutive_messages=False,
                    placeholder="**Hỏi về các kế hoạch đã nạp** — đơn vị chủ trì, phối hợp, chỉ tiêu, "
                    "thời hạn của một nhiệm vụ; có thể gõ không dấu. Bấm một câu hỏi mẫu để bắt đầu:",
                )
                history = gr.State([])
                conversation = gr.State([])  # the chat as the answering loop left it
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        placeholder="Nhập câu hỏi rồi nhấn Enter…",
                        label="Câu hỏi",  # hidden; the box's accessible name (Gradio writes "Textbox")
                        show_label=False,
                        scale=5,
                        min_width=150,  # on a phone: the box and "Gửi" in one row
                        lines=1,
                        max_lines=4,
                        elem_id="qa-input",
                    )
                    send = gr.Button("Gửi", variant="primary", scale=0, min_width=64, elem_id="qa-send")
                    clear = gr.Button("Hội thoại mới", scale=0, min_width=150, elem_id="qa-clear")
                waiting = gr.Markdown(elem_id="qa-waiting", elem_classes=["pa-count"])

            with gr.Tab("Bảng phân công", id="records", elem_id="tab-records"):
                gr.Markdown(
                    "Các chỉ số, chỉ tiêu và nhiệm vụ được giao trong kế hoạch: lọc theo xã, loại, "
                    "đơn vị, năm hoặc nội dung, sắp xếp theo một cột, rồi tải về dạng CSV hoặc Excel (hai tệp "
                    "có cùng các cột, kể cả tên tệp và số dòng trong kế hoạch gốc)."
                )
                with gr.Row():
                    r_commune = gr.Dropdown(
                        [ALL], value=ALL, label="Xã", min_width=150, elem_id="rec-commune"
                    )
                    r_kind = gr.Dropdown([ALL], value=ALL, label="Loại", min_width=150, elem_id="rec-kind")
                    r_unit = gr.Dropdown(
                        [ALL],
                        value=ALL,
                        label="Đơn vị (chủ trì hoặc phối hợp)",
                        min_width=220,
                        elem_id="rec-unit",
                    )
                    r_year = gr.Dropdown([ALL], value=ALL, label="Năm", min_width=110, elem_id="rec-year")
                with gr.Row():
                    r_text = gr.Textbox(
                        label="Tìm theo nội dung (gõ có dấu hoặc không dấu)",
                        elem_id="rec-text",
                        placeholder="Ví dụ: ha tang so, định danh điện tử…",
                        scale=3,
                        min_width=260,
                    )
                    r_sort = gr.Dropdown(
                        SORT_CHOICES,
                        value="",
                        label="Sắp xếp theo",
                        scale=2,
                        min_width=200,
                        elem_id="rec-sort",
                    )
                    r_desc = gr.Checkbox(
                        label="Giảm dần", value=False, scale=0, min_width=120, elem_id="rec-desc"
                    )
                r_count = gr.Markdown(elem_classes=["pa-count"], elem_id="rec-count")
                with gr.Row():
                    r_csv = gr.DownloadButton("Tải CSV", size="sm", min_width=110, scale=0, elem_id="rec-csv")
                    r_xlsx = gr.DownloadButton(
                        "Tải Excel (.xlsx)", size="sm", min_width=150, scale=0, elem_id="rec-xlsx"
                    )
                    r_reset = gr.Button(
                        "Xóa bộ lọc", size="sm", variant="secondary", min_width=120, scale=0, elem_id="rec-reset"
                    )
                r_table = gr.Dataframe(
                    headers=RECORD_COLUMNS,
                    label="Bảng phân công",
                    show_label=False,
                    interactive=False,
                    wrap=True,
                    max_height=560,
                    elem_id="rec-table",
                    elem_classes=["pa-table"],
                    column_widths=[100, 100, 50, 320, 160, 160, 110, 64, 130],
                    datatype=["str", "str", "str", "str", "str", "str", "str", "number", "str"],
                )
                r_cards = gr.HTML(elem_id="rec-cards", padding=False)  # instead of the table on phones

            with gr.Tab("Tài liệu", id="docs", elem_id="tab-docs"):
                with gr.Row():
                    with gr.Column(scale=3, min_width=260):
                        gr.Markdown(
                            "**Nạp kế hoạch mới** — chọn một hoặc nhiều tệp .txt, .md, .docx, .pdf "
                            f"(tối đa {services.settings.max_upload_mb:g} MB mỗi tệp). Tệp đã có sẽ được cập "
                            "nhật; tệp không thay đổi được giữ nguyên."
                        )
                        upload = gr.UploadButton(
                            "Chọn tệp và nạp vào kho",
                            file_count="multiple",
                            file_types=SUPPORTED_UPLOADS,
                            variant="primary",
                            elem_id="doc-upload",
                        )
                        upload_force = gr.Checkbox(
                            False, label=FORCE_LABEL, elem_id="doc-force",
                        )
                        upload_result = gr.HTML(elem_id="doc-result")
                        with gr.Group(visible=False, elem_id="doc-card") as card_group:
                            card_info = gr.HTML(elem_id="doc-card-info")
                            card_doc = gr.Dropdown([], label="Kế hoạch cần kiểm tra", elem_id="card-doc")
                            with gr.Row():
                                card_commune = gr.Textbox(label="Xã", elem_id="card-commune", max_lines=1)
                                card_province = gr.Textbox(label="Tỉnh/thành phố", elem_id="card-province", max_lines=1)
                                card_type = gr.Dropdown(
                                    CARD_TYPE_CHOICES, value="", label="Loại kế hoạch", elem_id="card-type"
                                )
                            with gr.Row():
                                card_number = gr.Textbox(label="Số hiệu", elem_id="card-number", max_lines=1)
                                card_date = gr.Textbox(
                                    label="Ngày ban hành", placeholder="ví dụ 12/3/2026", elem_id="card-date",
                                    max_lines=1,
                                )
                                card_signer = gr.Textbox(label="Người ký", elem_id="card-signer", max_lines=1)
                            card_save = gr.Button("Lưu chỉnh sửa", variant="primary", elem_id="card-save")
                            card_result = gr.HTML(elem_id="card-result")
                    with gr.Column(scale=2, min_width=240):
                        doc_pick = gr.Dropdown([], label="Chọn kế hoạch để xóa", elem_id="doc-pick")
                        delete = gr.Button("Xóa kế hoạch đã chọn", variant="stop", elem_id="doc-delete")
                        reindex = gr.Button("Lập chỉ mục lại toàn bộ", elem_id="doc-reindex")
                        manage_result = gr.HTML(elem_id="doc-manage-result")
                docs_table = gr.Dataframe(
                    headers=DOCUMENT_COLUMNS,
                    interactive=False,
                    wrap=True,
                    max_height=480,
                    elem_id="doc-table",
                    elem_classes=["pa-table"],
                    label="Kế hoạch trong kho",
                    column_widths=[110, 100, 170, 120, 120, 340, 64, 72, 230, 170],
                )

            with gr.Tab("Soạn thảo", id="draft", elem_id="tab-draft") as draft_tab, gr.Row():
                with gr.Column(scale=2, min_width=280):
                    d_commune = gr.Dropdown(
                        [],
                        label="Xã",
                        allow_custom_value=True,
                        elem_id="draft-commune",
                        info="Chọn hoặc gõ tên xã",
                    )
                    d_province = gr.Textbox(
                        label="Tỉnh/Thành phố", placeholder="Ví dụ: Đồng Nai", elem_id="draft-province"
                    )
                    d_type = gr.Radio(DRAFT_TYPES, value="pii", label="Loại kế hoạch", elem_id="draft-type")
                    d_year = gr.Textbox(
                        value=str(time.localtime().tm_year),
                        label="Năm hoặc giai đoạn",
                        placeholder="Ví dụ: 2027 hoặc 2026-2030",
                        elem_id="draft-year",
                    )
                    d_examples = gr.Dropdown(
                        [],
                        multiselect=True,
                        label="Kế hoạch mẫu",
                        info="Bỏ trống: dùng các kế hoạch mẫu cùng loại trong kho",
                        elem_id="draft-examples",
                    )
                    d_bases = gr.Textbox(
                        label="Căn cứ pháp lý (mỗi dòng một văn bản)",
                        placeholder="Bỏ trống: đề xuất từ kế hoạch mẫu, đánh dấu [cần kiểm tra]",
                        lines=3,
                        elem_id="draft-bases",
                    )
                    d_units = gr.Textbox(
                        label="Đơn vị thực hiện (mỗi dòng một đơn vị)",
                        placeholder="Bỏ trống: các đơn vị có trong kế hoạch mẫu",
                        lines=3,
                        elem_id="draft-units",
                    )
                    d_focus = gr.Textbox(
                        label="Nội dung trọng tâm (mỗi dòng một ý)",
                        placeholder="Ví dụ: Nông nghiệp công nghệ cao",
                        lines=3,
                        elem_id="draft-focus",
                    )
                    with gr.Row():
                        d_signer = gr.Textbox(
                            label="Người ký",
                            placeholder="Bỏ trống: để chỗ [Họ và tên]",
                            min_width=140,
                            elem_id="draft-signer",
                        )
                        d_role = gr.Dropdown(
                            list(ROLES),
                            value=ROLES[0],
                            label="Chức vụ người ký",
                            min_width=140,
                            elem_id="draft-role",
                        )
                    d_go = gr.Button("Soạn dự thảo", variant="primary", elem_id="draft-go")
                with gr.Column(scale=3, min_width=280):
                    d_file = gr.DownloadButton("Tải bản Word (.docx)", visible=False, elem_id="draft-docx")
                    d_preview = gr.Markdown(
                        "_Điền thông tin rồi bấm **Soạn dự thảo**; bản xem trước hiện ở đây._",
                        elem_id="pa-draft-preview",
                    )

        # --- events ---------------------------------------------------------------------------
        record_filters = [r_commune, r_kind, r_unit, r_year, r_text, r_sort, r_desc]
        record_outputs = [r_table, r_count, r_csv, r_xlsx, r_cards]
        corpus_outputs = [
            header,
            qa_commune,
            chat,
            r_commune,
            r_kind,
            r_unit,
            r_year,
            r_text,
            r_sort,
            r_desc,
            *record_outputs,
            docs_table,
            doc_pick,
            d_commune,
        ]
        demo.load(ui.refresh_all, outputs=corpus_outputs, show_progress="hidden", api_name="refresh")

        # A question is taken at once (the box cleared once, every send accepted: "multiple"), then
        # the answering loop of the page answers the waiting questions in order; the loop's outputs
        # do not include the box, so what the officer types meanwhile stays.
        answer_in, answer_out = [conversation, history, qa_commune], [chat, conversation, history, waiting]
        for taken in (
            question.submit(
                ui.take, inputs=question, outputs=[question, waiting], trigger_mode="multiple",
                show_progress="hidden", queue=False,
            ),
            send.click(
                ui.take, inputs=question, outputs=[question, waiting], trigger_mode="multiple",
                show_progress="hidden", queue=False,
            ),
            chat.example_select(
                ui.take_example, outputs=waiting, trigger_mode="multiple", show_progress="hidden", queue=False
            ),
        ):
            taken.then(
                ui.answer_waiting, inputs=answer_in, outputs=answer_out, trigger_mode="multiple",
                show_progress="hidden",
            )
        clear.click(ui.clear_chat, outputs=[chat, conversation, history, waiting], show_progress="hidden")
        chat.clear(ui.clear_chat, outputs=[chat, conversation, history, waiting], show_progress="hidden")
        demo.unload(ui.forget)

        # .input: the officer's own changes (refresh_all resets the filters and the table itself)
        r_commune.input(
            ui.choose_commune,
            inputs=record_filters,
            outputs=[r_kind, r_unit, r_year, *record_outputs],
            show_progress="hidden",
            trigger_mode="always_last",
        )
        r_reset.click(ui.reset_records, outputs=[*record_filters, *record_outputs], show_progress="hidden")
        for widget in (r_kind, r_unit, r_year, r_text, r_sort, r_desc):
            widget.input(
                ui.filter_records,
                inputs=record_filters,
                outputs=record_outputs,
                show_progress="hidden",
                trigger_mode="always_last",
            )

        card_fields = [card_commune, card_province, card_type, card_number, card_date, card_signer]
        card_outputs = [card_group, card_info, card_doc, *card_fields, card_result]

        def upload_files(
            paths: list[str] | None, force: bool, request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple[Any, ...]:
            html, stored = ui.upload_results(paths, progress, request, force=force)
            return (html, *ui.card(stored[-1])) if stored else (html, *(gr.skip() for _ in card_outputs))

        def save_card(
            doc_id: str | None, commune: str, province: str, plan_type: str, number: str, date: str, signer: str,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            return ui.save_corrections(doc_id, commune, province, plan_type, number, date, signer, request=request)

        def reindex_all(request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
            return ui.reindex(progress, request)

        def delete_plan(doc_id: str | None, request: gr.Request) -> str:
            return ui.delete(doc_id, request)

        upload.upload(
            upload_files, inputs=[upload, upload_force], outputs=[upload_result, *card_outputs], api_name="upload"
        ).then(ui.refresh_all, outputs=corpus_outputs, show_progress="hidden")
        card_doc.input(ui.card, inputs=card_doc, outputs=card_outputs, show_progress="hidden")
        # saved corrections change the header, the commune lists, the tables: everything is refreshed
        card_save.click(
            save_card, inputs=[card_doc, *card_fields], outputs=card_outputs, api_name="correct_metadata"
        ).then(ui.refresh_all, outputs=corpus_outputs, show_progress="hidden")
        delete.click(
            delete_plan,
            inputs=doc_pick,
            outputs=manage_result,
            api_name="delete",
            js="(doc) => (doc && confirm('Xóa kế hoạch đã chọn khỏi kho? Thao tác này không hoàn tác được.'))"
            " ? doc : null",
        ).then(ui.refresh_all, outputs=corpus_outputs, show_progress="hidden")
        reindex.click(reindex_all, outputs=manage_result, api_name="reindex").then(
            ui.refresh_all, outputs=corpus_outputs, show_progress="hidden"
        )

        d_commune.change(
            lambda c: ui.province_for(c) or gr.skip(),
            inputs=d_commune,
            outputs=d_province,
            show_progress="hidden",
        )

        def draft(*values: Any) -> tuple[str, gr.DownloadButton]:
            preview, path = ui.draft(*values)
            return preview, gr.DownloadButton(value=path, visible=bool(path))

        d_go.click(
            draft,
            inputs=[d_commune, d_province, d_type, d_year, d_bases, d_units, d_focus, d_signer, d_role, d_examples],
            outputs=[d_preview, d_file],
        ).then(None, js=SHOW_PREVIEW_JS)
        demo.load(ui.draft_examples, outputs=d_examples, show_progress="hidden")
        draft_tab.select(ui.draft_examples, outputs=d_examples, show_progress="hidden")
    return demo


def mount_ui(app: FastAPI, services: Services) -> None:
    """Mount the UI at ``/ui`` of the API app (same process, same services).

    With API keys and ``protect_reads`` the whole UI (page, config, queue, files) needs a signed-in
    session; with keys alone, reading is open and the handlers that change the store check it."""
    settings = services.settings
    demo = build_ui(services)
    gated = bool(settings.api_keys and settings.protect_reads)

    def signed_in(request: Request) -> str | None:
        return "can-bo" if is_authorized(settings, request.headers, request.cookies) else None

    if gated:

        @app.middleware("http")
        async def sign_in_first(request: Request, call_next: Any) -> Any:
            # a browser opening the UI without a session is sent to the sign-in page, not a bare 401
            path = request.url.path
            if request.method == "GET" and path in (MOUNT_PATH, MOUNT_PATH + "/") and not signed_in(request):
                return RedirectResponse(sign_in_url(path), status_code=303)
            return await call_next(request)

    if not any(getattr(route, "path", None) == "/favicon.ico" for route in app.routes):

        @app.get("/favicon.ico", include_in_schema=False)
        def favicon() -> FileResponse:
            return FileResponse(FAVICON, media_type="image/png")

    gr.mount_gradio_app(
        app,
        demo,
        path=MOUNT_PATH,
        theme=make_theme(),
        css=CSS,
        head=HEAD,
        footer_links=[],
        max_file_size=int(services.settings.max_upload_mb * 1024 * 1024),
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        auth_dependency=signed_in if gated else None,
    )
    # /ui/favicon.ico too (mount_gradio_app takes ``favicon_path`` only for a mount at "/")
    demo.favicon_path = str(FAVICON)  # type: ignore[assignment]
