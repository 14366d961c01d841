"""Assembling a draft from the example plans (no LLM involved).

Every section is built from the example passages of the same section type: examples of the same
plan type weigh most, then the same province, then how close a passage is to the officer's focus
areas (dense similarity of its chunk to the focus, and the focus words it contains). Passages are
adapted to the new commune (``adapt.Adapter``) and each section remembers the examples and lines
it drew on. The organization section has one block per unit of the commune, filled from the
units' duties in the examples; the appendix table comes from the examples' records.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.drafting.adapt import CHECK_MARK, PLACEHOLDER, Adapter, NameGuard, province_kind, tidy
from assistant.drafting.examples import (
    SECTION_HEADINGS,
    ExampleCorpus,
    ExampleDoc,
    ExampleLibrary,
    Item,
    Passage,
    items,
    strip_numbering,
)
from assistant.drafting.model import (
    Appendix,
    AppendixRow,
    Block,
    Draft,
    DraftRequest,
    DraftSection,
    SourceRef,
)
from assistant.drafting.units import (
    COLLECTIVE_UNIT,
    DEFAULT_FOCAL_UNIT,
    canonical_name,
    is_commune_unit,
    unit_order,
)
from ingest.model import Record
from ingest.normalize import fold

# Closest plan types first, for a type without examples.
TYPE_NEIGHBOURS = {"pii": ("pii", "nq57", "innovative"), "nq57": ("nq57", "pii", "innovative"),
                   "innovative": ("innovative", "nq57", "pii")}
TYPE_WEIGHTS = (3.0, 1.5, 1.0)
SAME_PROVINCE_BONUS = 0.5
FOCUS_WEIGHT = 2.0
MIN_APPENDIX_ROWS = 10
MAX_APPENDIX_ROWS = 30
ROW_KIND_BONUS = {"task": 0.5, "schedule": 0.5, "indicator": 0.3, "target": 0.3, "kpi": 0.1, "duty": 0.0}
NQ57_BASE = (
    "Căn cứ Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển khoa học, "
    "công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia;"
)
_STOPWORDS = {"va", "cac", "cua", "trong", "linh", "vuc", "ve", "cho", "nhung", "la", "de", "voi"}
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")

FocusScore = Callable[[int], float]  # chunk index -> normalized dense similarity to the focus areas


def _words(text: str) -> set[str]:
    return {w for w in fold(text).split() if len(w) > 1}


def _similar(a: set[str], b: set[str], threshold: float = 0.6) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) > threshold


def titles(request: DraftRequest) -> tuple[str, str]:
    """(title, short title) of the plan, as the examples of its type word them."""
    c, period = request.commune, request.period_text
    if request.plan_type == "pii":
        return (f"Cải thiện và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương (PII) {period} trên địa bàn xã {c}",
                f"cải thiện và nâng cao Chỉ số đổi mới sáng tạo cấp địa phương (PII) {period}")
    if request.plan_type == "nq57":
        return (f"Triển khai thực hiện Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát "
                f"triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia trên địa bàn xã {c} {period}",
                f"triển khai thực hiện Nghị quyết số 57-NQ/TW của Bộ Chính trị {period}")
    return (f"Triển khai mô hình “Xã {c} đổi mới sáng tạo” {period}",
            f"triển khai mô hình “Xã {c} đổi mới sáng tạo” {period}")


def example_years(doc: ExampleDoc) -> tuple[int, int]:
    """The year or period an example plan covers (from its title, else its date)."""
    title = doc.title
    period = re.search(r"giai đoạn\s*(\d{4})\s*[-–—]\s*(\d{4})", title)
    if period:
        return int(period.group(1)), int(period.group(2))
    years = [int(y) for y in re.findall(r"năm\s+(\d{4})", title)]
    if not years:
        years = [int(y) for y in re.findall(r"\d{4}", doc.date)]
    year = max(years) if years else 2026
    return year, year


@dataclass
class _Chosen:
    text: str
    kind: str
    doc_id: str
    passages: tuple[Passage, ...]


class Composer:
    def __init__(
        self,
        request: DraftRequest,
        corpus: ExampleCorpus,
        library: ExampleLibrary,
        focus_score: FocusScore,
    ) -> None:
        self.request = request
        self.corpus = corpus
        self.library = library
        self.focus_score = focus_score
        self.warnings: list[str] = list(request.warnings)
        docs = corpus.documents()
        self.docs = docs
        known = corpus.all_documents().values()
        self.guard = NameGuard(
            communes=tuple(sorted({d.commune for d in known} - {""})),
            provinces=tuple(sorted({d.province for d in known} - {""})),
            people=tuple(sorted({d.signer for d in known} - {""})),
        )
        self.weights = {doc_id: self._weight(doc) for doc_id, doc in docs.items()}
        self.ranked = sorted(docs, key=lambda d: (-self.weights[d], d))
        self.rank = {doc_id: i for i, doc_id in enumerate(self.ranked)}
        self.adapters = {doc_id: self._adapter(doc) for doc_id, doc in docs.items()}
        self.units = self._units()
        self.focal = self._focal_unit()
        self._used: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        self.unit_duties: dict[str, list[_Chosen]] = {}
        self._warn_about_examples()

    # --- example weights ---------------------------------------------------------------------

    def _type_distance(self, doc: ExampleDoc) -> int:
        order = TYPE_NEIGHBOURS[self.request.plan_type]
        plan_type = doc.plan_type
        return order.index(plan_type) if plan_type in order else len(order) - 1

    def _same_province(self, doc: ExampleDoc) -> bool:
        province = self.request.province
        return bool(province and fold(doc.province) == fold(province))

    def _weight(self, doc: ExampleDoc) -> float:
        return TYPE_WEIGHTS[self._type_distance(doc)] + (SAME_PROVINCE_BONUS if self._same_province(doc) else 0.0)

    def _same_type(self) -> list[str]:
        return [d for d in self.ranked if self._type_distance(self.docs[d]) == 0]

    def _adapter(self, doc: ExampleDoc) -> Adapter:
        r = self.request
        return Adapter(
            commune=r.commune, province=r.province, guard=self.guard,
            source_years=example_years(doc), target_years=(r.start_year, r.end_year),
            source_commune=doc.commune, source_province=doc.province,
        )

    def _warn_about_examples(self) -> None:
        r = self.request
        docs = self.docs
        if not docs:
            self.warnings.append("Kho chưa có kế hoạch mẫu nào: bản thảo chỉ có khung, cần bổ sung toàn bộ nội dung.")
            return
        same_type = self._same_type()
        if not same_type:
            closest = self.docs[self.ranked[0]].plan_type or "khác"
            self.warnings.append(
                f"Chưa có kế hoạch mẫu loại “{r.plan_type}” trong kho: bản thảo dựng từ các kế hoạch mẫu gần nhất "
                f"(loại “{closest}”), cần rà soát kỹ nội dung."
            )
        if not r.province:
            self.warnings.append("Chưa nhập tỉnh/thành phố: các chỗ ghi tên tỉnh để trống dạng […], cần bổ sung.")
        elif not any(self._same_province(docs[d]) for d in same_type or self.ranked):
            self.warnings.append(
                f"Chưa có kế hoạch mẫu cùng loại của {province_kind(r.province)} {r.province}: bản thảo dựng từ các "
                "kế hoạch mẫu gần nhất của địa phương khác; cần kiểm tra căn cứ, số liệu và tên văn bản của tỉnh."
            )

    # --- scoring and choosing passages --------------------------------------------------------

    def focus(self, text: str, chunk_index: int | None) -> float:
        if not self.request.focus:
            return 0.0
        words = _words(text)
        best = 0.0
        for area in self.request.focus:
            wanted = _words(area) - _STOPWORDS
            lexical = len(wanted & words) / len(wanted) if wanted else 0.0
            best = max(best, lexical)
        dense = self.focus_score(chunk_index) if chunk_index is not None else 0.0
        return 0.5 * best + 0.5 * dense

    def adapt(self, doc_id: str, text: str) -> str:
        return self.adapters[doc_id].text(text)

    def _score(self, item: Item, adapted: str) -> float:
        score = self.weights[item.first.doc_id] + item.bonus + FOCUS_WEIGHT * self.focus(item.text, item.first.chunk_index)
        score -= 0.4 * adapted.count(PLACEHOLDER)
        if len(adapted) > 600:
            score -= 0.5
        return score

    def choose(self, pool: Iterable[Item], n: int, exclude: set[str] | None = None) -> list[_Chosen]:
        """The ``n`` best items (no near-duplicates), in the order of the examples."""
        exclude = exclude if exclude is not None else set()
        scored = []
        for item in pool:
            adapted = self.adapt(item.first.doc_id, item.text)
            if len(adapted) < 40:
                continue
            scored.append((self._score(item, adapted), item, adapted))
        scored.sort(key=lambda s: (-s[0], self.rank[s[1].first.doc_id], s[1].first.position))
        chosen: list[tuple[Item, str]] = []
        seen = [_words(t) for t in exclude]
        for _, item, adapted in scored:
            words = _words(adapted)
            if any(_similar(words, other) for other in seen):
                continue
            chosen.append((item, adapted))
            seen.append(words)
            exclude.add(adapted)
            if len(chosen) == n:
                break
        chosen.sort(key=lambda c: (self.rank[c[0].first.doc_id], c[0].first.position))
        return [_Chosen(text, item.kind, item.first.doc_id, item.passages) for item, text in chosen]

    def _note(self, section: str, chosen: Iterable[_Chosen]) -> None:
        for c in chosen:
            for p in c.passages:
                self._used[section][c.doc_id].append((p.line_start, p.line_end))

    def _items(self, section: str, keep: Callable[[Passage], bool] = lambda p: True) -> list[Item]:
        pool: list[Item] = []
        for doc_id in self.ranked:
            passages = [p for p in self.library.section(doc_id, section) if keep(p)]
            pool.extend(items(passages))
        return pool

    @staticmethod
    def _sub(passage: Passage, *words: str) -> bool:
        return any(w in fold(passage.subsection) for w in words)

    # --- sections ------------------------------------------------------------------------------

    def purpose(self) -> DraftSection:
        used: set[str] = set()
        unlabeled = self._items("purpose", lambda p: len(p.path) == 1)
        aims = self.choose(self._items("purpose", lambda p: self._sub(p, "muc dich")) + unlabeled, 3, used)
        reqs = self.choose(self._items("purpose", lambda p: self._sub(p, "yeu cau")) + unlabeled, 4, used)
        blocks = [Block("heading", "1. Mục đích"), *self._bullets(aims, "mục đích của Kế hoạch"),
                  Block("heading", "2. Yêu cầu"), *self._bullets(reqs, "yêu cầu của Kế hoạch")]
        self._note("purpose", [*aims, *reqs])
        return DraftSection("purpose", SECTION_HEADINGS["purpose"], blocks)

    def objectives(self) -> DraftSection:
        r = self.request
        used: set[str] = set()
        general = self.choose(self._items("objectives", lambda p: not self._sub(p, "cu the")), 4, used)
        specific = self.choose(self._items("objectives", lambda p: self._sub(p, "cu the")), 5, used)
        blocks = [Block("heading", "1. Mục tiêu chung"), *self._bullets(general, "mục tiêu chung"),
                  Block("heading", "2. Mục tiêu cụ thể")]
        bullets = self._bullets(specific, "", placeholder=False)
        bullets += [Block("bullet", t) for t in self._target_bullets(6 - min(len(bullets), 3), used)]
        if r.focus:
            bullets.append(Block("bullet", f"Ưu tiên nguồn lực cho các lĩnh vực trọng tâm của xã: {', '.join(r.focus)}; "
                                           f"mỗi lĩnh vực có ít nhất một mô hình, sáng kiến được triển khai {PLACEHOLDER}."))
        if not bullets:
            bullets.append(Block("bullet", f"[Bổ sung các chỉ tiêu cụ thể của xã {r.period_text}]."))
        blocks += bullets
        blocks.append(Block("paragraph", "Các chỉ tiêu cụ thể là đề xuất từ các kế hoạch mẫu, cần rà soát, điều chỉnh "
                                         "theo thực tế của xã (chi tiết tại Phụ lục kèm theo)."))
        self._note("objectives", [*general, *specific])
        return DraftSection("objectives", SECTION_HEADINGS["objectives"], blocks)

    def tasks(self) -> DraftSection:
        groups: list[tuple[float, str, list[_Chosen], Passage]] = []
        for doc_id in self.ranked:
            by_group: dict[tuple[str, ...], list[Passage]] = defaultdict(list)
            for p in self.library.section(doc_id, "tasks"):
                if len(p.path) >= 2:
                    by_group[p.path[:2]].append(p)
            for passages in by_group.values():
                head = next((p for p in passages if p.kind == "heading" and p.level == 2), None)
                if head is None:
                    continue
                body = [p for p in passages if p is not head]
                pool = items(body)
                paragraphs = self.choose([i for i in pool if i.kind == "paragraph"], 1)
                bullets = self.choose([i for i in pool if i.kind != "paragraph"], 4 if paragraphs else 5)
                chosen = [*paragraphs[:1], *bullets] if len(bullets) >= 2 or not paragraphs else [*paragraphs, *bullets]
                if not chosen:
                    continue
                title = tidy(self.adapt(doc_id, strip_numbering(head.text))).rstrip(".")
                focus = max(self.focus(c.text, c.passages[0].chunk_index) for c in chosen)
                score = self.weights[doc_id] + FOCUS_WEIGHT * focus + 0.1 * min(len(chosen), 4)
                groups.append((score, title, chosen, head))
        groups.sort(key=lambda g: -g[0])
        picked: list[tuple[float, str, list[_Chosen], Passage]] = []
        for group in groups:
            if not any(_similar(_words(group[1]), _words(other[1]), 0.5) for other in picked):
                picked.append(group)
            if len(picked) == 6:
                break
        picked.sort(key=lambda g: (self.rank[g[3].doc_id], g[3].position))
        blocks: list[Block] = []
        numbered = [(title, chosen, "") for _, title, chosen, _ in picked] + self._focus_groups(picked)
        for n, (title, chosen, area) in enumerate(numbered, start=1):
            blocks.append(Block("heading", f"{n}. {title}"))
            blocks.extend(Block("paragraph" if c.kind == "paragraph" else "bullet", c.text) for c in chosen)
            if not chosen:
                blocks.append(Block("bullet", f"[Bổ sung nhiệm vụ cụ thể về {area or title} phù hợp với điều kiện "
                                              "thực tế của xã]."))
            self._note("tasks", chosen)
        if not blocks:
            blocks = [Block("bullet", "[Bổ sung các nhiệm vụ, giải pháp của Kế hoạch].")]
        blocks.append(Block("paragraph", "(Chi tiết nhiệm vụ, đơn vị chủ trì, phối hợp và thời gian thực hiện tại "
                                         "Phụ lục kèm theo.)"))
        return DraftSection("tasks", SECTION_HEADINGS["tasks"], blocks)

    def _focus_groups(
        self, picked: list[tuple[float, str, list[_Chosen], Passage]]
    ) -> list[tuple[str, list[_Chosen], str]]:
        """A task group for every focus area the chosen groups do not cover yet."""
        covered = " ".join(fold(t) + " " + " ".join(fold(c.text) for c in ch) for _, t, ch, _ in picked)
        out: list[tuple[str, list[_Chosen], str]] = []
        used = {c.text for _, _, chosen, _ in picked for c in chosen}
        for area in self.request.focus:
            wanted = _words(area) - _STOPWORDS
            if wanted and all(w in covered.split() for w in wanted):
                continue
            pool = [i for i in self._items("tasks") + self._items("objectives")
                    if wanted and wanted <= _words(i.text)]
            out.append((f"Đẩy mạnh đổi mới sáng tạo trong lĩnh vực {area}", self.choose(pool, 3, used), area))
        return out

    def budget(self) -> DraftSection:
        chosen = self.choose(self._items("budget"), 3)
        blocks = [Block("paragraph" if c.kind == "paragraph" else "bullet", c.text) for c in chosen] or [
            Block("paragraph", f"Kinh phí thực hiện Kế hoạch được bố trí từ ngân sách xã {self.request.period_text} "
                               f"và các nguồn hợp pháp khác theo quy định {PLACEHOLDER}.")
        ]
        self._note("budget", chosen)
        return DraftSection("budget", SECTION_HEADINGS["budget"], blocks)

    def organization(self) -> DraftSection:
        intro = self.choose(self._items("organization", lambda p: len(p.path) == 1 and p.kind == "paragraph"), 1)
        blocks = [Block("paragraph", c.text) for c in intro]
        self._note("organization", intro)
        duties = self._duties()
        for n, unit in enumerate(self.units, start=1):
            blocks.append(Block("heading", f"{n}. {unit}"))
            chosen = self.choose(duties.get(unit, []), 4)
            self.unit_duties[unit] = chosen
            self._note("organization", chosen)
            if chosen:
                blocks.extend(Block("bullet", c.text) for c in chosen)
            else:
                blocks.append(Block("bullet", f"Căn cứ chức năng, nhiệm vụ được giao, chủ động phối hợp với {self.focal} "
                                              "triển khai các nội dung của Kế hoạch thuộc lĩnh vực phụ trách; định kỳ "
                                              "báo cáo kết quả về Ủy ban nhân dân xã [cần bổ sung nhiệm vụ cụ thể]."))
        return DraftSection("organization", SECTION_HEADINGS["organization"], blocks)

    def _duties(self) -> dict[str, list[Item]]:
        """Duties of each unit, as items: the example's unit blocks and the duty records."""
        duties: dict[str, list[Item]] = defaultdict(list)
        for doc_id in self.ranked:
            for duty in self.library.duties.get(doc_id, []):
                duties[duty.unit].append(Item(duty.text, "bullet", (duty.passage,), -0.8 if duty.shared else 0.0))
        return duties

    # --- units ---------------------------------------------------------------------------------

    def _units(self) -> list[str]:
        r = self.request
        if r.units:
            named = [canonical_name(u) for u in r.units]
        else:
            found: Counter[str] = Counter()
            for doc_id in self._same_type() or self.ranked:
                found.update(self.library.units.get(doc_id, []))
            if len(found) < 4:
                for doc_id in self.ranked:
                    found.update(self.library.units.get(doc_id, []))
            named = sorted((u for u in found if is_commune_unit(u)), key=unit_order)
        unique = list(dict.fromkeys([COLLECTIVE_UNIT, *named]))
        return unique[:21]

    def _focal_unit(self) -> str:
        """The usual focal unit when the commune has it, else the most frequent lead of the examples."""
        if DEFAULT_FOCAL_UNIT in self.units:
            return DEFAULT_FOCAL_UNIT
        leads: Counter[str] = Counter()
        same = set(self._same_type())
        for record in self.corpus.records():
            if record.doc_id in same:
                leads.update(u.name for u in record.leads if u.name in self.units and u.name != COLLECTIVE_UNIT)
        if leads:
            return leads.most_common(1)[0][0]
        return next((u for u in self.units if u != COLLECTIVE_UNIT), "Văn phòng HĐND và UBND")

    def ordered_units(self) -> None:
        """The collective addressee first, the focal unit second (as the examples order them)."""
        rest = [u for u in self.units if u not in (COLLECTIVE_UNIT, self.focal)]
        head = [COLLECTIVE_UNIT] + ([self.focal] if self.focal in self.units else [])
        self.units = head + rest

    # --- objectives from records ----------------------------------------------------------------

    def _target_bullets(self, n: int, used: set[str]) -> list[str]:
        same = self._same_type()
        candidates = []
        for record in self.corpus.records():
            if record.doc_id not in same or record.kind not in ("target", "indicator") or not record.targets:
                continue
            value = self._target_value(record)
            if not value or not record.subject:
                continue
            adapted = self.adapt(record.doc_id, record.subject).rstrip(".")
            text = f"{adapted}: {value}." if not re.match(r"^[≥≤<>]|^\d", value) else f"{adapted} đạt {value}."
            score = self.weights[record.doc_id] + FOCUS_WEIGHT * self.focus(
                record.subject, self.corpus.record_chunk(record.record_id))
            candidates.append((score, record.line_start, text, record))
        candidates.sort(key=lambda c: (-c[0], c[1]))
        out: list[str] = []
        for _, _, text, record in candidates:
            if text in used or any(_similar(_words(text), _words(u)) for u in out):
                continue
            out.append(text)
            self._used["objectives"][record.doc_id].append((record.line_start, record.line_end))
            if len(out) >= n:
                break
        return out

    def _target_value(self, record: Record) -> str:
        """The target for the draft's first year when the example gives targets by year."""
        targets = {k: v for k, v in record.targets.items() if v and v.strip()}
        if not targets:
            return ""
        mapping = self.adapters[record.doc_id].year_map
        for year, value in targets.items():
            if year.isdigit() and mapping.get(int(year)) == self.request.start_year:
                return value.strip()
        return next(iter(targets.values())).strip()

    # --- appendix ----------------------------------------------------------------------------------

    def appendix(self) -> list[AppendixRow]:
        units = set(self.units)
        same = set(self._same_type())
        tables = [r for r in self.corpus.records() if r.kind != "duty"]
        duties = [r for r in self.corpus.records() if r.kind == "duty"]
        # the examples' own tables first; their duty paragraphs, then other plan types, only to fill
        rows = self._record_rows([r for r in tables if r.doc_id in same], units)
        if len(rows) < MIN_APPENDIX_ROWS:
            rows += self._record_rows([r for r in duties if r.doc_id in same], units, MIN_APPENDIX_ROWS - len(rows))
        if len(rows) < MIN_APPENDIX_ROWS and len(same) < len(self.ranked):
            others = [r for r in tables if r.doc_id not in same]
            extra = self._record_rows(others, units, MIN_APPENDIX_ROWS - len(rows))
            if extra:
                self.warnings.append("Các kế hoạch mẫu cùng loại có ít bảng nhiệm vụ: Phụ lục được bổ sung từ kế hoạch "
                                     "mẫu loại khác, cần rà soát.")
            rows += extra
        rows.sort(key=lambda row: row[0])
        if len(rows) < MIN_APPENDIX_ROWS:
            rows += self._duty_rows(MIN_APPENDIX_ROWS - len(rows), {r[1].task for r in rows})
        return self._numbered(rows)

    def _record_rows(self, records: list[Record], units: set[str], limit: int = MAX_APPENDIX_ROWS
                     ) -> list[tuple[tuple[int, int, int], AppendixRow, str]]:
        scored = []
        for record in records:
            if record.kind not in ROW_KIND_BONUS or not record.subject.strip():
                continue
            leads = [u.name for u in record.leads if u.name in units]
            if not leads:
                continue
            partners = [u.name for u in record.partners if u.name in units and u.name not in leads]
            task = tidy(self.adapt(record.doc_id, record.subject)).rstrip(".")
            if len(task) < 8:
                continue
            group = tidy(self.adapt(record.doc_id, strip_numbering(record.group_path[0]))).rstrip(".") \
                if record.group_path else ""
            row = AppendixRow("", task, "; ".join(dict.fromkeys(leads)), "; ".join(dict.fromkeys(partners)),
                              self._deadline(record), ref=record.doc_id)
            score = (self.weights[record.doc_id] + ROW_KIND_BONUS[record.kind]
                     + FOCUS_WEIGHT * self.focus(record.subject, self.corpus.record_chunk(record.record_id)))
            scored.append((score, record, row, group))
        scored.sort(key=lambda s: (-s[0], self.rank[s[1].doc_id], s[1].line_start))
        picked: list[tuple[tuple[int, int, int], AppendixRow, str]] = []
        seen: list[set[str]] = []
        for _, record, row, group in scored:
            words = _words(row.task)
            if any(_similar(words, other, 0.8) for other in seen):
                continue
            seen.append(words)
            picked.append(((self.rank[record.doc_id], record.line_start, len(picked)), row, group))
            self._used["appendix"][record.doc_id].append((record.line_start, record.line_end))
            if len(picked) == limit:
                break
        picked.sort(key=lambda p: p[0])
        return picked

    def _deadline(self, record: Record) -> str:
        r = self.request
        parts = [tidy(self.adapt(record.doc_id, record.deadline)).rstrip(".")] if record.deadline else []
        target = self._target_value(record)
        if target:
            parts.append(target)
        if parts:
            return "; ".join(parts)
        return f"Năm {r.start_year}" if r.start_year == r.end_year else f"{r.start_year} – {r.end_year}"

    def _duty_rows(self, n: int, seen: set[str]) -> list[tuple[tuple[int, int, int], AppendixRow, str]]:
        """Rows from the units' duties, when the examples' tables are not enough."""
        rows: list[tuple[tuple[int, int, int], AppendixRow, str]] = []
        chosen = self.unit_duties
        round_robin = [(unit, c) for i in range(4) for unit, cs in chosen.items() if len(cs) > i for c in [cs[i]]]
        for unit, c in round_robin:
            task = c.text.rstrip(".")
            if task in seen or unit == COLLECTIVE_UNIT and len(chosen) > 2 and len(rows) < n // 2:
                continue
            partner = self.focal if unit != self.focal else COLLECTIVE_UNIT
            rows.append(((self.rank[c.doc_id], c.passages[0].line_start, len(rows)),
                         AppendixRow("", task, unit, partner, "Thường xuyên", ref=c.doc_id), ""))
            seen.add(task)
            self._used["appendix"][c.doc_id].append((c.passages[0].line_start, c.passages[0].line_end))
            if len(rows) == n:
                break
        return rows

    @staticmethod
    def _numbered(rows: list[tuple[tuple[int, int, int], AppendixRow, str]]) -> list[AppendixRow]:
        out: list[AppendixRow] = []
        group_no = 0
        current: str | None = None
        grouped = any(group for _, _, group in rows)
        for n, (_, row, group) in enumerate(rows, start=1):
            if grouped and group and group != current:
                current = group
                out.append(AppendixRow(_ROMAN[group_no % len(_ROMAN)], group, group=True))
                group_no += 1
            row.stt = str(n)
            out.append(row)
        return out

    # --- bases, closing, recipients -------------------------------------------------------------------

    def bases(self) -> list[str]:
        r = self.request
        if r.bases:
            return [b if b.startswith(("Căn cứ", "Thực hiện")) else f"Căn cứ {b}" for b in
                    (b.rstrip(" ;.") for b in r.bases)]
        same = self._same_type()
        local = [d for d in same if self._same_province(self.docs[d])]
        sources = local or same[:1] or self.ranked[:1]
        bases: list[str] = []
        for doc_id in sources:
            for base in self.docs[doc_id].legal_bases:
                text = self.adapters[doc_id].base(base)
                if fold(text) not in {fold(b) for b in bases}:
                    bases.append(text)
                    self._used["bases"][doc_id].append((0, 0))
        if r.plan_type == "nq57" and not any("57-NQ/TW" in b for b in bases):
            bases.insert(0, NQ57_BASE)
        elif r.plan_type == "innovative" and not bases:  # the model programme implements Resolution 57
            bases.append(f"{NQ57_BASE.rstrip(';')} {CHECK_MARK};")
        if not bases:
            bases.append(f"Căn cứ {PLACEHOLDER} (văn bản chỉ đạo của cấp trên) [cần kiểm tra];")
            self.warnings.append("Chưa có căn cứ ban hành: cần bổ sung các văn bản cấp trên mà Kế hoạch thực hiện.")
        elif not r.bases:
            self.warnings.append("Căn cứ ban hành được đề xuất từ kế hoạch mẫu (đánh dấu [cần kiểm tra]): "
                                 "cần đối chiếu số, ngày văn bản trước khi ban hành.")
        return bases[:8]

    def closing(self, short_title: str) -> str:
        return (f"Trên đây là Kế hoạch {short_title} trên địa bàn xã {self.request.commune}. Ủy ban nhân dân xã yêu cầu "
                "các cơ quan, đơn vị và các tổ chức có liên quan căn cứ chức năng, nhiệm vụ được giao nghiêm túc triển "
                "khai thực hiện; trong quá trình thực hiện, nếu có khó khăn, vướng mắc, kịp thời báo cáo về Ủy ban "
                f"nhân dân xã (qua {self.focal}) để xem xét, giải quyết./.")

    def recipients(self) -> list[str]:
        units = set(self.units)
        out = ["Sở Khoa học và Công nghệ (b/c);", "TT Đảng ủy, TT HĐND xã (b/c);", "Chủ tịch, các PCT UBND xã;"]
        if "Ủy ban Mặt trận Tổ quốc Việt Nam xã" in units:
            out.append("Ủy ban MTTQ Việt Nam xã;")
        out.append("Các phòng, ban, ngành, đoàn thể xã;")
        if "Công an xã" in units:
            out.append("Công an xã;")
        if "Các thôn, ấp" in units:
            out.append("Các thôn, ấp;")
        out.append("Lưu: VT, VHXH.")
        return out

    # --- the draft -------------------------------------------------------------------------------------

    def _bullets(self, chosen: list[_Chosen], what: str, placeholder: bool = True) -> list[Block]:
        if not chosen and placeholder:
            return [Block("bullet", f"[Bổ sung {what}].")]
        return [Block("bullet", c.text) for c in chosen]

    def compose(self) -> Draft:
        r = self.request
        self.ordered_units()
        title, short_title = titles(r)
        bases = self.bases()
        sections = [self.purpose(), self.objectives(), self.tasks(), self.budget(), self.organization()]
        appendix = self.appendix()
        refs = self._references()
        for section in sections:
            section.sources = self._section_refs(section.key, refs)
        for row in appendix:
            row.ref = refs[row.ref].ref if row.ref in refs else ""
        signature = ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"] if r.role == "Chủ tịch" else [
            "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
        return Draft(
            request=r,
            title=title,
            short_title=short_title,
            place_date=f"{r.commune}, ngày … tháng … năm {r.start_year}",
            number="Số: …/KH-UBND",
            bases=bases,
            intro=f"Ủy ban nhân dân xã {r.commune} ban hành Kế hoạch {short_title} trên địa bàn xã, với các nội dung "
                  "cụ thể như sau:",
            sections=sections,
            closing=self.closing(short_title),
            recipients=self.recipients(),
            signature_lines=signature,
            signer=r.signer or "[Họ và tên]",
            appendices=[Appendix(
                "PHỤ LỤC", f"DANH MỤC NHIỆM VỤ, CHỈ TIÊU THỰC HIỆN KẾ HOẠCH {short_title.upper()}",
                f"(Kèm theo Kế hoạch số …/KH-UBND ngày … tháng … năm {r.start_year} của UBND xã {r.commune})",
                "tasks", appendix, sources=self._section_refs("appendix", refs))],
            references=[refs[d] for d in sorted(refs, key=lambda d: refs[d].ref)],
            bases_sources=self._section_refs("bases", refs),
            warnings=self.warnings,
        )

    def _references(self) -> dict[str, SourceRef]:
        used = {doc_id for section in self._used.values() for doc_id in section}
        refs: dict[str, SourceRef] = {}
        for n, doc_id in enumerate(sorted(used, key=lambda d: self.rank[d]), start=1):
            doc = self.docs[doc_id]
            refs[doc_id] = SourceRef(f"M{n}", doc_id, doc.filename, doc.commune, doc.province, doc.plan_type, doc.title)
        return refs

    def _section_refs(self, section: str, refs: dict[str, SourceRef]) -> list[SourceRef]:
        out = []
        for doc_id, lines in sorted(self._used.get(section, {}).items(), key=lambda kv: self.rank[kv[0]]):
            ref = refs[doc_id]
            spans = sorted({span for span in lines if span != (0, 0)})
            out.append(SourceRef(ref.ref, ref.doc_id, ref.document, ref.commune, ref.province, ref.plan_type,
                                 ref.title, spans))
        return out

