"""``DraftService``: drafts a new commune plan from the example plans in the store.

``draft()`` validates the input, assembles every section from the closest example passages
(``compose.Composer``), optionally has an LLM rewrite each section (``llm.SectionRewriter``, with
fallback to the assembled text), and finally checks that no other commune, province or signer
of the corpus is named anywhere. ``examples()`` is the "see how others wrote it" view: one
section of every example plan, as written.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.drafting.adapt import NameGuard
from assistant.drafting.compose import Composer, FocusScore
from assistant.drafting.examples import (
    ExampleCorpus,
    ExampleDoc,
    ExampleLibrary,
    Passage,
    build_library,
    section_key,
)
from assistant.drafting.llm import SectionRewriter
from assistant.drafting.model import (
    MAX_NAME_CHARS,
    Draft,
    DraftInputError,
    DraftRequest,
    parse_plan_type,
)
from core.config import Settings
from core.normalize import fold
from vectorstore.store import Store

MAX_EXAMPLE_CHARS = 6000
MAX_EXAMPLES = 20


@dataclass
class ExampleSection:
    """One section of one example plan, as its commune wrote it."""

    doc_id: str
    document: str
    commune: str
    province: str
    plan_type: str
    title: str
    section: str  # the section type (purpose, budget, …) or "" for a heading match
    heading: str  # the heading as written ("IV. KINH PHÍ THỰC HIỆN")
    text: str
    line_start: int
    line_end: int
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _LibraryCache:
    key: object = None
    library: ExampleLibrary = field(default_factory=ExampleLibrary)


class DraftService:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.rewriter = SectionRewriter(settings)
        self._lock = threading.Lock()
        self._cache = _LibraryCache()

    # --- the example library (one per snapshot) ---------------------------------------------

    def corpus(self) -> ExampleCorpus:
        """The example plans of the store as drafting reads them."""
        return ExampleCorpus.from_store(self.store)

    def library(self, corpus: ExampleCorpus | None = None) -> ExampleLibrary:
        corpus = corpus or self.corpus()
        with self._lock:
            if self._cache.key != corpus.key:
                self._cache = _LibraryCache(corpus.key, build_library(corpus))
            return self._cache.library

    # --- drafting --------------------------------------------------------------------------------

    def draft(self, request: DraftRequest | None = None, /, **fields: Any) -> Draft:
        """Draft a plan. Pass a ``DraftRequest`` or the fields of ``DraftRequest.build`` (commune,
        province, plan_type, year, bases, units, focus, signer, role, use_llm, examples); raises
        ``DraftInputError`` (Vietnamese message) on bad input."""
        req = request if request is not None else DraftRequest.build(**fields)
        corpus = self.corpus()
        library = self.library(corpus)
        if req.examples:
            chosen = self.resolve_examples(req.examples, corpus)
            corpus, library = corpus.restricted(chosen), library.subset(chosen)
        composer = Composer(req, corpus, library, self._focus_scorer(req, corpus))
        draft = composer.compose()
        self._rewrite(draft)
        self._guard(draft, composer.guard)
        return draft

    def example_documents(self) -> list[ExampleDoc]:
        """The example plans a draft can be made from (the choices of an example picker)."""
        return sorted(self.corpus().documents().values(), key=lambda d: (d.plan_type, d.province, d.commune))

    def resolve_examples(self, wanted: list[str], corpus: ExampleCorpus | None = None) -> frozenset[str]:
        """Doc ids of the examples an officer chose (by doc id or file name); unknown ones are an error."""
        docs = (corpus or self.corpus()).documents()
        by_name = {fold(d.filename): d.doc_id for d in docs.values()}
        by_name.update({fold(d.doc_id): d.doc_id for d in docs.values()})
        found, unknown = set(), []
        for name in wanted:
            doc_id = by_name.get(fold(name.strip()))
            if doc_id is None:
                unknown.append(name)
            else:
                found.add(doc_id)
        if unknown:
            raise DraftInputError(f"Không có kế hoạch mẫu “{'”, “'.join(n[:80] for n in unknown)}” trong kho "
                                  "(xem mã kế hoạch bằng lệnh `plan-assistant documents`).")
        return frozenset(found)

    def _focus_scorer(self, request: DraftRequest, corpus: ExampleCorpus) -> FocusScore:
        """Chunk index -> similarity (0..1, normalized per focus area) of the chunk to the focus areas."""
        if not request.focus or not corpus.n_chunks():
            return lambda index: 0.0
        best: dict[int, float] = {}
        k = min(corpus.n_chunks(), 400)
        try:
            for area in request.focus:
                hits = corpus.dense_scores(area, k)
                if not hits:
                    continue
                low, high = min(s for _, s in hits), max(s for _, s in hits)
                for index, score in hits:
                    value = (score - low) / (high - low) if high > low else 0.0
                    best[index] = max(best.get(index, 0.0), value)
        except Exception:  # noqa: BLE001 - the dense index is optional for drafting; words still count
            request.warnings.append("Không dùng được chỉ mục ngữ nghĩa: lĩnh vực trọng tâm chỉ được so khớp theo từ.")
            return lambda index: 0.0
        return lambda index: best.get(index, 0.0)

    def _rewrite(self, draft: Draft) -> None:
        req = draft.request
        wanted = self.settings.llm_enabled if req.use_llm is None else req.use_llm
        if not wanted:
            return
        if not self.settings.llm_enabled:
            draft.warnings.append("Chưa cấu hình LLM (llm_base_url): bản thảo được ghép từ các kế hoạch mẫu.")
            return
        results = self.rewriter.rewrite(draft.sections, req)
        failed: list[str] = []
        for section, result in zip(draft.sections, results, strict=True):
            if result.blocks is not None:
                section.blocks = result.blocks
                section.used_llm = True
            else:
                failed.append(f"{section.heading} ({result.error})")
        draft.used_llm = any(s.used_llm for s in draft.sections)
        if failed:
            draft.warnings.append("Không biên tập được bằng LLM, giữ bản ghép từ kế hoạch mẫu cho: " + "; ".join(failed))

    def _guard(self, draft: Draft, guard: NameGuard) -> None:
        """Last check: no commune, province or signer of the corpus other than the new ones."""
        allowed = [draft.request.commune, draft.request.province or ""]
        found: set[str] = set()

        def clean(text: str) -> str:
            leaks = guard.leaks(text, allowed)
            if not leaks:
                return text
            found.update(leaks)
            return guard.scrub(text, allowed)

        draft.title, draft.intro, draft.closing = clean(draft.title), clean(draft.intro), clean(draft.closing)
        draft.bases = [clean(b) for b in draft.bases]
        for section in draft.sections:
            for block in section.blocks:
                block.text = clean(block.text)
        for row in draft.appendix_rows:
            row.task, row.lead, row.partners, row.deadline = (
                clean(row.task), clean(row.lead), clean(row.partners), clean(row.deadline))
        for appendix in draft.appendices:
            appendix.title = clean(appendix.title)
        if found:
            draft.warnings.append(f"Đã thay {len(found)} tên địa phương/người của kế hoạch mẫu bằng […]: cần kiểm tra.")

    # --- "see how others wrote it" ------------------------------------------------------------------

    def examples(
        self, section: str, plan_type: str | None = None, province: str | None = None, limit: int = 10
    ) -> list[ExampleSection]:
        """One section of every example plan (same type and province first), as written."""
        query = " ".join((section or "").split())
        if not query:
            raise DraftInputError("Thiếu tên mục cần xem (ví dụ: KINH PHÍ, TỔ CHỨC THỰC HIỆN).")
        if len(query) > MAX_NAME_CHARS:
            raise DraftInputError(f"Tên mục quá dài (tối đa {MAX_NAME_CHARS} ký tự).")
        kind = parse_plan_type(plan_type) if plan_type else None
        limit = max(1, min(limit, MAX_EXAMPLES))
        corpus = self.corpus()
        library = self.library(corpus)
        key = section_key(query)
        docs = sorted(
            corpus.documents().values(),
            key=lambda d: (d.plan_type != kind if kind else False,
                           fold(d.province) != fold(province or "") if province else False,
                           d.doc_id),
        )
        out: list[ExampleSection] = []
        for doc in docs:
            if key in ("bases", "recipients"):
                lines = doc.legal_bases if key == "bases" else doc.recipients
                passages: list[Passage] = []
                text, heading, start, end = "\n".join(f"- {line}" for line in lines), query.upper(), 0, 0
            else:
                passages = self._matching(library.passages.get(doc.doc_id, []), key, query)
                if not passages:
                    continue
                text = "\n".join(p.text for p in passages)
                heading = passages[0].path[0] if passages[0].path else query
                start, end = passages[0].line_start, passages[-1].line_end
            if not text.strip():
                continue
            truncated = len(text) > MAX_EXAMPLE_CHARS
            if truncated:
                text = text[:MAX_EXAMPLE_CHARS].rsplit("\n", 1)[0]
            out.append(ExampleSection(doc.doc_id, doc.filename, doc.commune, doc.province, doc.plan_type, doc.title,
                                      key if key != "other" else "", heading, text, start, end, truncated))
            if len(out) == limit:
                break
        return out

    @staticmethod
    def _matching(passages: list[Passage], key: str, query: str) -> list[Passage]:
        if key not in ("other", "bases", "recipients"):
            return [p for p in passages if p.section == key]
        wanted = fold(query)
        hit = next((p for p in passages if p.kind == "heading" and wanted in fold(p.text)), None)
        if hit is None:
            return []
        depth = len(hit.path)
        return [p for p in passages if p.path[:depth] == hit.path[:depth] and p.position >= hit.position]
