"""Assembling a draft from the example plans (no LLM involved): a plan, not a patchwork.

- Only examples of the plan's type are used (the closest type when the store has none); the best
  of them (same province first) leads every section and the others complete it.
- Every section is made of whole units of meaning: a paragraph or bullet with its continuation, a
  group of tasks with its heading, a unit's block with its heading; no paragraph appears twice
  anywhere in the draft (near-duplicates included).
- Each section takes about the room the same section takes in the examples, so the body is close
  to the examples' length (``Draft.length`` reports it).
- Every passage is adapted to the new commune and period (``adapt.Adapter``), and checked for
  facts that do not travel (``facts.check``: marked [cần kiểm tra], or dropped) and for years
  outside the period (dropped).
- Bodies outside the People's Committee are asked ("Đề nghị …"); settlements are named as the
  province names them (thôn, ấp…).
- The appendix is the chosen example's tables, whole (``appendix.AppendixBuilder``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from assistant.drafting import facts
from assistant.drafting.adapt import (
    CHECK_MARK,
    PLACEHOLDER,
    Adapter,
    NameGuard,
    province_kind,
    settlement_word,
)
from assistant.drafting.appendix import AppendixBuilder, Built
from assistant.drafting.examples import (
    SECTION_HEADINGS,
    SECTION_ORDER,
    ExampleCorpus,
    ExampleDoc,
    ExampleLibrary,
    Node,
    Passage,
    body_chars,
    is_statement,
)
from assistant.drafting.model import (
    Appendix,
    Block,
    BlockKind,
    Draft,
    DraftRequest,
    DraftSection,
    LengthReport,
    SourceRef,
)
from assistant.drafting.units import (
    COLLECTIVE_UNIT,
    DEFAULT_FOCAL_UNIT,
    FRONT_UNITS,
    OUTSIDE_UNITS,
    SETTLEMENT_UNIT,
    canonical_name,
    is_commune_unit,
    unit_order,
)
from core.normalize import fold

# Closest plan types first, for a type without examples.
TYPE_NEIGHBOURS = {"pii": ("pii", "nq57", "innovative"), "nq57": ("nq57", "pii", "innovative"),
                   "innovative": ("innovative", "nq57", "pii")}
TYPE_WEIGHTS = (3.0, 1.5, 1.0)
SAME_PROVINCE_BONUS = 0.5
FOCUS_WEIGHT = 2.0
SLACK = 1.1  # a section may run this much over its share of the examples' length
MIN_ITEM_CHARS = 25
MAX_UNIT_ITEMS = 4
MAX_GROUPS = 8
DEFAULT_BUDGETS = {"purpose": 1500, "objectives": 1500, "tasks": 4000, "budget": 600, "organization": 3500}
MIN_BUDGETS = {"purpose": 1000, "objectives": 900, "tasks": 1500, "budget": 300, "organization": 2000}
NQ57_BASE = (
    "Căn cứ Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển khoa học, "
    "công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia;"
)
FRONT_LABEL = "Ủy ban Mặt trận Tổ quốc Việt Nam xã và các tổ chức chính trị - xã hội"
COLLECTIVE_DUTY = ("Căn cứ chức năng, nhiệm vụ được giao, xây dựng kế hoạch triển khai các nhiệm vụ thuộc lĩnh vực phụ "
                   "trách; định kỳ báo cáo kết quả thực hiện về Ủy ban nhân dân xã (qua {focal}) để tổng hợp.")
IDLE_DUTY = ("Căn cứ chức năng, nhiệm vụ được giao, chủ động phối hợp với {focal} triển khai các nội dung của Kế hoạch "
             "thuộc lĩnh vực phụ trách.")
IDLE_OUTSIDE_DUTY = ("Phối hợp tuyên truyền, vận động đoàn viên, hội viên và Nhân dân tích cực tham gia thực hiện các nội "
                     "dung của Kế hoạch; tham gia giám sát việc triển khai Kế hoạch trên địa bàn xã.")
_STOPWORDS = {"va", "cac", "cua", "trong", "linh", "vuc", "ve", "cho", "nhung", "la", "de", "voi"}
_LEAD_IN_RE = re.compile(r"^\(.*\)\.?$")

FocusScore = Callable[[int], float]  # chunk index -> normalized dense similarity to the focus areas


def _words(text: str) -> set[str]:
    return {w for w in fold(text).split() if len(w) > 1}


def _similar(a: set[str], b: set[str], threshold: float = 0.6) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) > threshold


def _near(a: set[str], b: set[str]) -> bool:
    """The same paragraph, more or less (also one contained in the other)."""
    if not a or not b:
        return False
    common = len(a & b)
    return common / len(a | b) > 0.6 or common / min(len(a), len(b)) > 0.85


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


def node_items(node: Node) -> list[Passage]:
    """What a heading covers, as drafting items: its paragraphs and bullets (not lead-ins ending with
    ':' nor a lone parenthesis), and the sub-headings that state something and cover nothing."""
    items = [p for p in node.items
             if not p.text.rstrip().endswith(":") and not _LEAD_IN_RE.match(p.text.strip()) and len(p.text) >= 20]
    items += [c.heading for c in node.children
              if c.heading is not None and not c.items and not c.children and is_statement(c.heading)]
    return sorted(items, key=lambda p: p.position)


def _compress(refs: list[str]) -> str:
    """'V.2, V.3, V.4, VI.1' -> 'V.2 đến V.4, VI.1' (row numbers of the appendix)."""
    runs: list[list[str]] = []
    for ref in refs:
        group, _, number = ref.rpartition(".")
        last = runs[-1][-1] if runs else ""
        last_group, _, last_number = last.rpartition(".")
        if runs and group == last_group and number.isdigit() and last_number.isdigit() and int(number) == int(
                last_number) + 1:
            runs[-1].append(ref)
        else:
            runs.append([ref])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]} đến {run[-1]}" for run in runs)


def _lower_collective(name: str) -> str:
    """'Các doanh nghiệp' inside a heading reads 'các doanh nghiệp'."""
    return "các" + name[3:] if name.startswith("Các ") else name


def _duty_passage(node: Node) -> Passage | None:
    """The duty a unit's heading states ('3. Phòng kinh tế chủ trì, …'), as a paragraph."""
    if not node.duty or node.heading is None:
        return None
    return replace(node.heading, kind="paragraph", text=node.duty[:1].upper() + node.duty[1:], level=None)


@dataclass
class Piece:
    kind: str  # heading | subheading | paragraph | bullet
    text: str
    doc_id: str = ""
    passages: tuple[Passage, ...] = ()


class Seen:
    """Every paragraph already in the draft: a near-duplicate is refused anywhere in it."""

    def __init__(self) -> None:
        self._words: list[set[str]] = []

    def fresh(self, text: str) -> bool:
        words = _words(text)
        return not any(_near(words, other) for other in self._words)

    def add(self, text: str) -> None:
        self._words.append(_words(text))


class Composer:
    def __init__(self, request: DraftRequest, corpus: ExampleCorpus, library: ExampleLibrary,
                 focus_score: FocusScore) -> None:
        self.request = request
        self.corpus = corpus
        self.library = library
        self.focus_score = focus_score
        self.warnings: list[str] = list(request.warnings)
        self.docs = corpus.documents()
        known = corpus.all_documents().values()
        self.guard = NameGuard(
            communes=tuple(sorted({d.commune for d in known} - {""})),
            provinces=tuple(sorted({d.province for d in known} - {""})),
            people=tuple(sorted({d.signer for d in known} - {""})),
        )
        self.weights = {doc_id: self._weight(doc) for doc_id, doc in self.docs.items()}
        self.ranked = sorted(self.docs, key=lambda d: (-self.weights[d], d))
        self.rank = {doc_id: i for i, doc_id in enumerate(self.ranked)}
        self.pool = self._pool()
        self.settlement = settlement_word(request.province)
        self.adapters = {doc_id: self._adapter(doc) for doc_id, doc in self.docs.items()}
        self.seen = Seen()
        self.flags: Counter[str] = Counter()
        self._cache: dict[tuple[str, str, str], tuple[str | None, list[str]]] = {}
        self._used: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        self.budgets = self._budgets()
        self.units: list[str] = []
        self.focal = DEFAULT_FOCAL_UNIT
        self.built: list[Built] = []
        self._warn_about_examples()

    # --- examples ---------------------------------------------------------------------------------

    def _type_distance(self, doc: ExampleDoc) -> int:
        order = TYPE_NEIGHBOURS[self.request.plan_type]
        return order.index(doc.plan_type) if doc.plan_type in order else len(order) - 1

    def _same_province(self, doc: ExampleDoc) -> bool:
        province = self.request.province
        return bool(province and fold(doc.province) == fold(province))

    def _weight(self, doc: ExampleDoc) -> float:
        return TYPE_WEIGHTS[self._type_distance(doc)] + (SAME_PROVINCE_BONUS if self._same_province(doc) else 0.0)

    def _pool(self) -> list[str]:
        """The examples the draft is made of: those of its type, else those of the closest type."""
        if not self.ranked:
            return []
        closest = min(self._type_distance(self.docs[d]) for d in self.ranked)
        return [d for d in self.ranked if self._type_distance(self.docs[d]) == closest]

    def _adapter(self, doc: ExampleDoc) -> Adapter:
        r = self.request
        return Adapter(
            commune=r.commune, province=r.province, guard=self.guard,
            source_years=example_years(doc), target_years=(r.start_year, r.end_year),
            source_commune=doc.commune, source_province=doc.province, settlement=self.settlement,
        )

    def _warn_about_examples(self) -> None:
        r = self.request
        if not self.docs:
            self.warnings.append("Kho chưa có kế hoạch mẫu nào: bản thảo chỉ có khung, cần bổ sung toàn bộ nội dung.")
            return
        if self._type_distance(self.docs[self.pool[0]]) > 0:
            closest = self.docs[self.pool[0]].plan_type or "khác"
            self.warnings.append(
                f"Chưa có kế hoạch mẫu loại “{r.plan_type}” trong kho: bản thảo dựng từ các kế hoạch mẫu gần nhất "
                f"(loại “{closest}”), cần rà soát kỹ nội dung."
            )
        if not r.province:
            self.warnings.append("Chưa nhập tỉnh/thành phố: các chỗ ghi tên tỉnh để trống dạng […], cần bổ sung; "
                                 f"khu dân cư được gọi là “{self.settlement}”, cần đổi theo cách gọi của địa phương.")
        elif not any(self._same_province(self.docs[d]) for d in self.pool):
            self.warnings.append(
                f"Chưa có kế hoạch mẫu cùng loại của {province_kind(r.province)} {r.province}: bản thảo dựng từ các "
                "kế hoạch mẫu gần nhất của địa phương khác; cần kiểm tra căn cứ, số liệu và tên văn bản của tỉnh."
            )

    def _budgets(self) -> dict[str, float]:
        """The room of each section: the mean of that section in the examples that have it, scaled so
        that the body is about as long as the examples' bodies."""
        per: dict[str, list[int]] = defaultdict(list)
        bodies = []
        for doc_id in self.pool:
            passages = self.library.passages.get(doc_id, [])
            if not passages:
                continue
            bodies.append(self.library.body_chars(doc_id))
            for key in SECTION_ORDER:
                chars = body_chars([p for p in passages if p.section == key])
                if chars:
                    per[key].append(chars)
        budgets = {key: sum(v) / len(v) for key, v in per.items()}
        body = sum(bodies) / len(bodies) if bodies else 0
        floors = {key: min(MIN_BUDGETS[key], budgets[key]) for key in budgets}
        wanted = sum(budgets.values())
        if wanted and body and wanted > 0.95 * body:
            # the sections above their floor give up room in proportion, so the body stays near the examples'
            spare = sum(budgets[k] - floors[k] for k in budgets)
            excess = wanted - 0.95 * body
            scale = max(0.0, 1 - excess / spare) if spare else 1.0
            budgets = {k: floors[k] + (budgets[k] - floors[k]) * scale for k in budgets}
        return {key: budgets.get(key, DEFAULT_BUDGETS[key] if not bodies else 0.0) for key in SECTION_ORDER}

    # --- adapting and choosing ---------------------------------------------------------------------------

    def _adapt(self, doc_id: str, text: str, section: str, title: bool = False) -> tuple[str | None, list[str]]:
        key = (doc_id, section + ("#title" if title else ""), text)
        if key not in self._cache:
            adapter = self.adapters[doc_id]
            adapted = adapter.text(text)
            checked = facts.check(adapted, same_province=adapter.same_province, section=section)
            result, flags = checked.text, checked.flags
            if result is None:
                flags = ["dropped"]
            elif facts.stray_years(result, self.request.start_year, self.request.end_year):
                result, flags = None, ["years"]
            elif len(result) < MIN_ITEM_CHARS and not title:
                result, flags = None, []
            self._cache[key] = (result, flags)
        return self._cache[key]

    def accept(self, doc_id: str, text: str, section: str) -> str | None:
        """The passage adapted, unless it is dropped or already in the draft; counted as used."""
        adapted, flags = self._adapt(doc_id, text, section)
        if adapted is None:
            self.flags.update(flags)
            return None
        if not self.seen.fresh(adapted):
            return None
        self.seen.add(adapted)
        self.flags.update(flags)
        return adapted

    def _fits(self, doc_id: str, text: str, section: str, room: float) -> bool:
        adapted, _ = self._adapt(doc_id, text, section)
        return adapted is not None and len(adapted) <= room and self.seen.fresh(adapted)

    def take(self, candidates: Iterable[tuple[str, Passage]], budget: float, section: str, *,
             limit: int | None = None, at_least: int = 1) -> list[Piece]:
        """Items in the order given until the budget is spent (at least ``at_least`` when any fits)."""
        out: list[Piece] = []
        used = 0
        for doc_id, passage in candidates:
            if limit is not None and len(out) >= limit:
                break
            if len(out) >= at_least and used >= budget:
                break
            room = budget * SLACK - used if len(out) >= at_least else float("inf")
            if not self._fits(doc_id, passage.text, section, room):
                continue
            text = self.accept(doc_id, passage.text, section)
            if text is None:
                continue
            out.append(Piece("paragraph" if passage.kind == "paragraph" else "bullet", text, doc_id, (passage,)))
            used += len(text)
        return out

    def focus(self, text: str, chunk_index: int | None) -> float:
        if not self.request.focus:
            return 0.0
        words = _words(text)
        best = 0.0
        for area in self.request.focus:
            wanted = _words(area) - _STOPWORDS
            best = max(best, len(wanted & words) / len(wanted) if wanted else 0.0)
        dense = self.focus_score(chunk_index) if chunk_index is not None and chunk_index >= 0 else 0.0
        return 0.5 * best + 0.5 * dense

    def _note(self, section: str, pieces: Iterable[Piece]) -> None:
        for piece in pieces:
            for p in piece.passages:
                self._used[section][piece.doc_id].append((p.line_start, p.line_end))

    def _parts(self, doc_id: str, key: str) -> list[tuple[str, Node]]:
        """(folded title, node) of the parts of a section; '' for what sits directly under its heading."""
        root = self.library.tree(doc_id, key)
        out: list[tuple[str, Node]] = [("", root)] if root.items else []
        for top in root.children:
            out.append(("", top))
            out.extend((fold(child.title), child) for child in top.children)
        return out

    # --- units --------------------------------------------------------------------------------------

    def display(self, unit: str) -> str:
        return f"Các {self.settlement}" if unit == SETTLEMENT_UNIT else unit

    def label(self, units: list[str]) -> str:
        """The heading of a unit's block: the People's Committee's own units are named, bodies outside
        it are asked ('Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam xã và các tổ chức chính trị - xã hội')."""
        own = [u for u in units if u not in OUTSIDE_UNITS]
        outside = [u for u in units if u in OUTSIDE_UNITS]

        def names(items: list[str]) -> str:
            text = ", ".join(_lower_collective(self.display(u)) for u in items)
            return text[:1].upper() + text[1:]

        asked = ""
        if outside:
            front = [u for u in outside if u in FRONT_UNITS]
            others = [u for u in outside if u not in FRONT_UNITS]
            parts = ([FRONT_LABEL] if front else []) + [_lower_collective(self.display(u)) for u in others]
            asked = "Đề nghị " + ", ".join(parts)
        if own and asked:
            return f"{names(own)}; {asked[:1].lower()}{asked[1:]}"
        return names(own) if own else asked

    def _choose_units(self) -> None:
        r = self.request
        if r.units:
            named = [canonical_name(u) for u in r.units]
        else:
            named = []
            for doc_id in self.pool:
                for key in ("organization", "tasks"):
                    for node in self.library.tree(doc_id, key).walk():
                        named += node.units
            for built in self.built:
                named += [u for leads in built.leads for u in leads]
            named = [u for u in named if (is_commune_unit(u) or u in OUTSIDE_UNITS) and u != "UBND xã"]
        self.focal = self._focal_unit(named)
        rest = sorted(dict.fromkeys(u for u in named if u not in (COLLECTIVE_UNIT, self.focal)),
                      key=lambda u: (u in OUTSIDE_UNITS, u == SETTLEMENT_UNIT, unit_order(u)))
        self.units = [COLLECTIVE_UNIT, *([self.focal] if self.focal in named or not r.units else []), *rest]
        self.units = list(dict.fromkeys(self.units))

    def _focal_unit(self, named: list[str]) -> str:
        """The usual focal unit when the commune has it, else the unit leading most appendix rows."""
        if DEFAULT_FOCAL_UNIT in named or not named:
            return DEFAULT_FOCAL_UNIT
        leads = Counter(u for built in self.built for row in built.leads for u in row if u in named)
        if leads:
            return leads.most_common(1)[0][0]
        return next((u for u in named if u != COLLECTIVE_UNIT and u not in OUTSIDE_UNITS), DEFAULT_FOCAL_UNIT)

    def _unit_groups(self) -> list[list[str]]:
        """The blocks of section V: one per unit, the Front and the mass organisations together."""
        front = [u for u in self.units if u in FRONT_UNITS]
        groups: list[list[str]] = []
        for unit in self.units:
            if unit in front:
                if unit == front[0]:
                    groups.append(front)
                continue
            groups.append([unit])
        return groups

    # --- sections -------------------------------------------------------------------------------------

    def purpose(self) -> DraftSection:
        aims: list[tuple[str, Passage]] = []
        reqs: list[tuple[str, Passage]] = []
        for doc_id in self.pool:
            for label, node in self._parts(doc_id, "purpose"):
                items = [(doc_id, p) for p in node_items(node)]
                if "muc dich" in label:
                    aims += items
                elif "yeu cau" in label:
                    reqs += items
                elif not label:
                    aims += items
                    reqs += items
        budget = self.budgets["purpose"]
        labelled = sum(len(p.text) for _, p in aims) + sum(len(p.text) for _, p in reqs)
        share = min(max(sum(len(p.text) for _, p in aims) / labelled, 0.35), 0.65) if labelled else 0.5
        chosen_aims = self.take(aims, budget * share, "purpose")
        chosen_reqs = self.take(reqs, budget - sum(len(p.text) for p in chosen_aims), "purpose")
        self._note("purpose", [*chosen_aims, *chosen_reqs])
        blocks = [Block("heading", "1. Mục đích"), *self._blocks(chosen_aims, "mục đích của Kế hoạch"),
                  Block("heading", "2. Yêu cầu"), *self._blocks(chosen_reqs, "yêu cầu của Kế hoạch")]
        return DraftSection("purpose", SECTION_HEADINGS["purpose"], blocks)

    def objectives(self) -> DraftSection:
        r = self.request
        general: list[tuple[str, Passage]] = []
        specific: list[tuple[str, Passage]] = []
        for doc_id in self.pool:
            for label, node in self._parts(doc_id, "objectives"):
                items = [(doc_id, p) for p in node_items(node)]
                (specific if "cu the" in label else general).extend(items)
        budget = self.budgets["objectives"]
        chosen_general = self.take(general, budget * 0.55, "objectives")
        chosen_specific = self.take(specific, budget - sum(len(p.text) for p in chosen_general), "objectives",
                                    at_least=0)
        self._note("objectives", [*chosen_general, *chosen_specific])
        blocks = [Block("heading", "1. Mục tiêu chung"), *self._blocks(chosen_general, "mục tiêu chung"),
                  Block("heading", "2. Mục tiêu cụ thể")]
        specific_blocks = self._blocks(chosen_specific, "", placeholder=False)
        if len(specific_blocks) < 3 and r.start_year == r.end_year:
            specific_blocks += [Block("bullet", t) for t in self._target_bullets(3 - len(specific_blocks))]
        if r.focus:
            specific_blocks.append(Block("bullet", f"Ưu tiên nguồn lực cho các lĩnh vực trọng tâm của xã: "
                                                   f"{', '.join(r.focus)}; mỗi lĩnh vực có ít nhất một mô hình, "
                                                   f"sáng kiến được triển khai {PLACEHOLDER}."))
        if any(b.appendix.kind in ("targets", "indicators", "kpi") for b in self.built):
            specific_blocks.append(Block("paragraph", "Các chỉ tiêu cụ thể tại Phụ lục kèm theo Kế hoạch này."))
        if not specific_blocks:
            specific_blocks.append(Block("bullet", f"[Bổ sung các chỉ tiêu cụ thể của xã {r.period_text}]."))
        return DraftSection("objectives", SECTION_HEADINGS["objectives"], blocks + specific_blocks)

    def _target_bullets(self, n: int) -> list[str]:
        """A few targets of the appendix's example as objectives (one-year plans), marked for checking."""
        out: list[str] = []
        for built in self.built:
            if built.appendix.kind != "targets":
                continue
            for row in built.appendix.rows:
                if row.group or not row.deadline or PLACEHOLDER in row.deadline:
                    continue
                value = row.deadline
                text = f"{row.task.rstrip('.')} đạt {value} {CHECK_MARK}." if re.match(r"^[≥≤<>=\d]", value) else (
                    f"{row.task.rstrip('.')}: {value} {CHECK_MARK}.")
                if self.seen.fresh(text):
                    self.seen.add(text)
                    out.append(text)
                    if row.lines:
                        self._used["objectives"][built.doc_id].append(row.lines)
                if len(out) == n:
                    return out
        return out

    def tasks(self) -> DraftSection:
        budget = self.budgets["tasks"]
        candidates: list[tuple[float, str, Node]] = []
        for doc_id in self.pool:
            for top in self.library.tree(doc_id, "tasks").children:
                for node in top.children:
                    if node.heading is None or not (node.items or node.children):
                        continue
                    passages = node.passages()
                    focus = max((self.focus(p.text, p.chunk_index) for p in passages), default=0.0)
                    candidates.append((self.weights[doc_id] + FOCUS_WEIGHT * focus, doc_id, node))
        candidates.sort(key=lambda c: (-c[0], self.rank[c[1]], c[2].heading.position if c[2].heading else 0))
        chosen: list[tuple[str, Node, str, list[Piece]]] = []
        used = 0.0
        for _, doc_id, node in candidates:
            if used >= budget or len(chosen) == MAX_GROUPS:
                break
            title, _ = self._adapt(doc_id, node.title, "tasks", title=True)
            if title is None:
                continue
            title = title.rstrip(".")
            if any(_similar(_words(title), _words(other[2]), 0.5) for other in chosen):
                continue
            pieces = self._group(doc_id, node, min(max(budget - used, 600.0), 0.6 * budget) * SLACK)
            if not any(p.kind in ("paragraph", "bullet") for p in pieces):
                continue
            chosen.append((doc_id, node, title, pieces))
            used += sum(len(p.text) for p in pieces)
        chosen.sort(key=lambda c: (self.rank[c[0]], c[1].heading.position if c[1].heading else 0))
        groups = [(title, pieces, "") for _, _, title, pieces in chosen] + self._focus_groups(chosen)
        blocks: list[Block] = []
        for n, (title, pieces, area) in enumerate(groups, start=1):
            blocks.append(Block("heading", f"{n}. {title}"))
            sub = 0
            for piece in pieces:
                if piece.kind == "subheading":
                    sub += 1
                    blocks.append(Block("heading", f"{n}.{sub}. {piece.text}"))
                else:
                    blocks.append(Block("paragraph" if piece.kind == "paragraph" else "bullet", piece.text))
            if not pieces:
                blocks.append(Block("bullet", f"[Bổ sung nhiệm vụ cụ thể về {area or title} phù hợp với điều kiện "
                                              "thực tế của xã]."))
            self._note("tasks", pieces)
        if not blocks:
            blocks = [Block("bullet", "[Bổ sung các nhiệm vụ, giải pháp của Kế hoạch].")]
        if any(b.appendix.kind in ("tasks", "indicators", "schedule") for b in self.built):
            blocks.append(Block("paragraph", "Nhiệm vụ cụ thể, đơn vị chủ trì, phối hợp và thời gian thực hiện tại "
                                             "Phụ lục kèm theo Kế hoạch này."))
        return DraftSection("tasks", SECTION_HEADINGS["tasks"], blocks)

    def _group(self, doc_id: str, node: Node, cap: float) -> list[Piece]:
        """A group of tasks as its example wrote it: its items, and its sub-blocks with their headings."""
        entries: list[tuple[int, Passage | Node]] = [(p.position, p) for p in node_items(node)]
        entries += [(c.heading.position if c.heading else 0, c) for c in node.children if c.items or c.children or
                    c.duty]
        pieces: list[Piece] = []
        used = 0.0
        for _, entry in sorted(entries, key=lambda e: e[0]):
            if used >= cap:
                break
            if isinstance(entry, Passage):
                got = self.take([(doc_id, entry)], cap - used, "tasks", at_least=0 if pieces else 1)
            else:
                got = self._sub_block(doc_id, entry, cap - used, "tasks")
            pieces += got
            used += sum(len(p.text) for p in got)
        return pieces

    def _sub_block(self, doc_id: str, node: Node, room: float, section: str) -> list[Piece]:
        """A unit's block (or a lettered sub-group) with its heading, or nothing."""
        if node.units:
            allowed = [u for u in node.units if u in self.units]
            if not allowed:
                return []
            heading = self.label(allowed)
            candidates = [(doc_id, duty)] if (duty := _duty_passage(node)) else []
        else:
            adapted, _ = self._adapt(doc_id, node.title, section, title=True)
            if adapted is None:
                return []
            heading = adapted.rstrip(".")
            candidates = []
        candidates += [(doc_id, p) for p in node_items(node)]
        for child in node.children:
            candidates += [(doc_id, p) for p in node_items(child)]
        items = self.take(candidates, room, section, limit=MAX_UNIT_ITEMS, at_least=1)
        if not items:
            return []
        return [Piece("subheading", heading, doc_id, (node.heading,) if node.heading else ()), *items]

    def _focus_groups(self, chosen: list[tuple[str, Node, str, list[Piece]]]) -> list[tuple[str, list[Piece], str]]:
        """A task group for every focus area the chosen groups do not cover yet."""
        covered = " ".join(fold(t) + " " + " ".join(fold(p.text) for p in ps) for _, _, t, ps in chosen).split()
        out: list[tuple[str, list[Piece], str]] = []
        for area in self.request.focus:
            wanted = _words(area) - _STOPWORDS
            if wanted and all(w in covered for w in wanted):
                continue
            pool = [(doc_id, p) for doc_id in self.pool for key in ("tasks", "objectives")
                    for node in self.library.tree(doc_id, key).walk() for p in node_items(node)
                    if wanted and wanted <= _words(p.text)]
            out.append((f"Đẩy mạnh đổi mới sáng tạo trong lĩnh vực {area}", self.take(pool, 900, "tasks", limit=3,
                                                                                    at_least=0), area))
        return out

    def budget(self) -> DraftSection:
        r = self.request
        blocks: list[Block] = []
        for doc_id in self.pool:
            root = self.library.tree(doc_id, "budget")
            passages = [p for node in root.walk() for p in node_items(node)]
            chosen = self.take([(doc_id, p) for p in passages], max(self.budgets["budget"], 400) * 1.3, "budget")
            if chosen:
                self._note("budget", chosen)
                blocks = [Block("paragraph" if c.kind == "paragraph" else "bullet", c.text) for c in chosen]
                break
        if not blocks:
            blocks = [Block("paragraph", f"Kinh phí thực hiện Kế hoạch được bố trí từ ngân sách xã {r.period_text} "
                                         f"và các nguồn hợp pháp khác theo quy định {PLACEHOLDER}.")]
        return DraftSection("budget", SECTION_HEADINGS["budget"], blocks)

    def organization(self) -> DraftSection:
        budget = self.budgets["organization"] or DEFAULT_BUDGETS["organization"]
        blocks: list[Block] = []
        for doc_id in self.pool:  # the opening paragraphs of the section, from one example
            tops = self.library.tree(doc_id, "organization").children
            intro = [(doc_id, p) for top in tops for p in node_items(top) if p.kind != "heading"]
            if intro:
                chosen = self.take(intro, 0.2 * budget, "organization", limit=2)
                self._note("organization", chosen)
                blocks += [Block("paragraph", c.text) for c in chosen]
                break
        sources = self._unit_sources()
        groups = self._unit_groups()
        weights = [2.5 if self.focal in units else 1.5 if COLLECTIVE_UNIT in units else
                   0.7 if all(u in OUTSIDE_UNITS for u in units) else 1.0 for units in groups]
        room = max(0.0, budget - sum(len(b.text) for b in blocks)) / max(sum(weights), 1.0)
        idle: list[str] = []
        n = 0
        for units, weight in zip(groups, weights, strict=True):
            candidates = [(doc_id, p) for unit in units for doc_id, p in sources.get(unit, [])]
            chosen = self.take(candidates, max(300.0, room * weight), "organization", limit=MAX_UNIT_ITEMS)
            if not chosen:
                fallback = self._fallback_duty(units)
                if fallback is None:
                    idle += units
                    continue
                chosen = [Piece("bullet", fallback)]
            n += 1
            blocks.append(Block("heading", f"{n}. {self.label(units)}"))
            blocks += [Block("bullet", c.text) for c in chosen]
            self._note("organization", chosen)
        for units, text in (([u for u in idle if u not in OUTSIDE_UNITS], IDLE_DUTY.format(focal=self.focal)),
                            ([u for u in idle if u in OUTSIDE_UNITS], IDLE_OUTSIDE_DUTY)):
            if units and self.seen.fresh(text):
                n += 1
                blocks += [Block("heading", f"{n}. {self.label(units)}"), Block("bullet", text)]
                self.seen.add(text)
        return DraftSection("organization", SECTION_HEADINGS["organization"], blocks)

    def _unit_sources(self) -> dict[str, list[tuple[str, Passage]]]:
        """The items of each unit's blocks in the examples: section V first, then the task groups."""
        out: dict[str, list[tuple[str, Passage]]] = defaultdict(list)
        for key in ("organization", "tasks"):
            for doc_id in self.pool:
                for node in self.library.tree(doc_id, key).walk():
                    if not node.units or node.heading is None:
                        continue
                    duty = _duty_passage(node)
                    items: list[Passage] = [duty] if duty else []
                    items += node_items(node)
                    for child in node.children:
                        items += node_items(child)
                    for unit in node.units:
                        out[unit] += [(doc_id, p) for p in items]
        return out

    def _fallback_duty(self, units: list[str]) -> str | None:
        """A duty for a unit the examples give no block: the appendix rows it leads (the collective
        addressee gets the usual opening duty). None when there is nothing to say."""
        if COLLECTIVE_UNIT in units:
            text = COLLECTIVE_DUTY.format(focal=self.focal)
            return text if self.seen.fresh(text) else None
        refs: list[str] = []
        names: list[str] = []
        for built in self.built:
            group = ""
            for row, leads in zip(built.appendix.rows, built.leads, strict=True):
                if row.group:
                    group = row.stt
                    continue
                if set(leads) & set(units):
                    refs.append(f"{group}.{row.stt}" if group else row.stt)
                    name = row.task.split(":")[0].strip().rstrip(".")
                    if len(name) <= 110 and len(names) < 2:
                        names.append(name[:1].lower() + name[1:])
        if not refs:
            return None
        where = f"mục {_compress(refs)}"
        outside = all(u in OUTSIDE_UNITS for u in units)
        verb = "Phối hợp thực hiện" if outside else "Chủ trì thực hiện"
        text = f"{verb} các nhiệm vụ, chỉ tiêu tại Phụ lục kèm theo Kế hoạch này ({where})"
        text += f", gồm: {'; '.join(names)}." if names else "."
        if not self.seen.fresh(text):
            return None
        self.seen.add(text)
        return text

    # --- appendix -----------------------------------------------------------------------------------------

    def _finish_rows(self) -> None:
        """Unit names as the draft writes them; empty partner cells filled; leads the commune does not have
        (officer's list of units) left for the officer to assign."""
        allowed = set(self.units) | {"UBND xã"}
        filled = unassigned = 0
        for built in self.built:
            for row, leads, partners in zip(built.appendix.rows, built.leads, built.partners, strict=True):
                if row.group or built.appendix.kind == "kpi":
                    continue
                kept = [u for u in leads if u in allowed]
                row.lead = "; ".join(self.display(u) for u in kept) if kept else "[cần phân công]"
                unassigned += not kept
                others = [u for u in partners if u not in kept and u != "UBND xã"]
                if not others:
                    others = [self.focal if COLLECTIVE_UNIT in kept else COLLECTIVE_UNIT]
                    filled += 1
                row.partners = "; ".join(self.display(u) for u in others)
        if filled:
            self.warnings.append(f"{filled} dòng Phụ lục không ghi đơn vị phối hợp ở kế hoạch mẫu: đã ghi "
                                 f"“{COLLECTIVE_UNIT}” (hoặc đơn vị đầu mối), cần rà soát.")
        if unassigned:
            self.warnings.append(f"{unassigned} dòng Phụ lục do đơn vị không có trong danh sách đơn vị của xã chủ trì: "
                                 "ghi [cần phân công].")

    def _appendix_refs(self, refs: dict[str, SourceRef]) -> None:
        for built in self.built:
            ref = refs.get(built.doc_id)
            if ref is None:
                continue
            for row in built.appendix.rows:
                row.ref = ref.ref
            built.appendix.sources = [SourceRef(ref.ref, ref.doc_id, ref.document, ref.commune, ref.province,
                                                ref.plan_type, ref.title, sorted(set(built.spans)))]

    # --- bases, closing, recipients -------------------------------------------------------------------

    def bases(self) -> list[str]:
        r = self.request
        if r.bases:
            given = [b if b.startswith(("Căn cứ", "Thực hiện")) else f"Căn cứ {b}" for b in
                     (b.rstrip(" ;.") for b in r.bases)]
            return [f"{b};" for b in given[:-1]] + [f"{given[-1]}."]
        local = [d for d in self.pool if self._same_province(self.docs[d])]
        sources = local or self.pool[:1]
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
            bases.append(f"Căn cứ {PLACEHOLDER} (văn bản chỉ đạo của cấp trên) {CHECK_MARK};")
            self.warnings.append("Chưa có căn cứ ban hành: cần bổ sung các văn bản cấp trên mà Kế hoạch thực hiện.")
        else:
            self.warnings.append("Căn cứ ban hành được đề xuất từ kế hoạch mẫu (đánh dấu [cần kiểm tra]): "
                                 "cần đối chiếu số, ngày văn bản trước khi ban hành.")
        bases = bases[:8]
        bases[-1] = bases[-1].rstrip(" ;.") + "."  # Decree 30: the last basis ends with a full stop
        return bases

    def closing(self, short_title: str) -> str:
        r = self.request
        outside = [u for u in self.units if u in OUTSIDE_UNITS]
        ask = ""
        if outside:
            names = FRONT_LABEL if any(u in FRONT_UNITS for u in outside) else ", ".join(outside)
            ask = f"; đề nghị {names} phối hợp thực hiện"
        return (f"Trên đây là Kế hoạch {short_title} trên địa bàn xã {r.commune}. Ủy ban nhân dân xã yêu cầu các "
                "phòng, ban, ngành, đơn vị căn cứ chức năng, nhiệm vụ được giao nghiêm túc triển khai thực hiện"
                f"{ask}. Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, kịp thời báo cáo về Ủy ban nhân dân xã "
                f"(qua {self.focal}) để xem xét, giải quyết./.")

    def recipients(self) -> list[str]:
        units = set(self.units)
        out = ["Sở Khoa học và Công nghệ (b/c);", "TT Đảng ủy, TT HĐND xã (b/c);", "Chủ tịch, các PCT UBND xã;"]
        if units & set(FRONT_UNITS):
            out.append("Ủy ban MTTQ Việt Nam xã và các tổ chức chính trị - xã hội;")
        out.append("Các phòng, ban, ngành xã;")
        if "Công an xã" in units:
            out.append("Công an xã;")
        if SETTLEMENT_UNIT in units:
            out.append(f"Các {self.settlement};")
        out.append("Lưu: VT, VHXH." if self.focal == DEFAULT_FOCAL_UNIT else "Lưu: VT.")
        return out

    # --- the draft -------------------------------------------------------------------------------------

    def _blocks(self, chosen: list[Piece], what: str, placeholder: bool = True) -> list[Block]:
        """A list of items as one style: bullets when any of them is a bullet (items of two examples)."""
        if not chosen and placeholder:
            return [Block("bullet", f"[Bổ sung {what}].")]
        kind: BlockKind = "bullet" if any(c.kind == "bullet" for c in chosen) else "paragraph"
        return [Block(kind, c.text) for c in chosen]

    def compose(self) -> Draft:
        r = self.request
        title, short_title = titles(r)
        builder = AppendixBuilder(r, self.corpus, self.pool, self.adapters, short_title)
        self.built = builder.build()
        self.warnings += builder.warnings
        if self.docs and not self.built:
            self.warnings.append("Các kế hoạch mẫu không có bảng nhiệm vụ, chỉ tiêu: bản thảo chưa có Phụ lục; "
                                 "cần lập bảng phân công nhiệm vụ nếu cần.")
        self._choose_units()
        self._finish_rows()
        bases = self.bases()
        sections = [self.purpose(), self.objectives(), self.tasks(), self.budget(), self.organization()]
        refs = self._references()
        for section in sections:
            section.sources = self._section_refs(section.key, refs)
        self._appendix_refs(refs)
        self._warn_about_facts()
        signature = ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"] if r.role == "Chủ tịch" else [
            "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
        closing = self.closing(short_title)
        body = sum(len(b.text) for s in sections for b in s.blocks if b.kind != "heading") + len(closing)
        appendices: list[Appendix] = [b.appendix for b in self.built]
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
            closing=closing,
            recipients=self.recipients(),
            signature_lines=signature,
            signer=r.signer or "[Họ và tên]",
            appendices=appendices,
            references=[refs[d] for d in sorted(refs, key=lambda d: refs[d].ref)],
            bases_sources=self._section_refs("bases", refs),
            warnings=self.warnings,
            length=LengthReport(body, {d: self.library.body_chars(d) for d in self.pool
                                       if self.library.body_chars(d)}),
        )

    def _warn_about_facts(self) -> None:
        marked = sum(self.flags[k] for k in ("congress", "project", "strength", "figure"))
        if marked:
            self.warnings.append(
                f"Đã đánh dấu [cần kiểm tra] {marked} chỗ nêu đề án, văn bản, đại hội của tỉnh khác, thế mạnh riêng "
                "hoặc số liệu của xã mẫu: cần thay bằng thông tin của xã.")
        if self.flags["dropped"] or self.flags["years"]:
            self.warnings.append(
                f"Đã bỏ {self.flags['dropped'] + self.flags['years']} đoạn của kế hoạch mẫu chỉ nói về đề án, văn bản "
                "riêng của tỉnh khác hoặc về năm ngoài thời gian của Kế hoạch.")

    def _references(self) -> dict[str, SourceRef]:
        used = {doc_id for section in self._used.values() for doc_id in section}
        used |= {b.doc_id for b in self.built}
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
