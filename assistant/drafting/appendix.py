"""The appendix of a draft: the tables of one example plan, whole.

The example is the best one of the plan type that has tables (same province first). Each of its
tables becomes one appendix (Phụ lục I, II… when there are several) of the matching kind: tasks,
PII indicators, targets, a quarterly roadmap, or a KPI set. Every row is kept with its group row;
cells the example left empty are filled by the composer (partners) or marked (targets beyond the
example's years); a row whose text names another place's facts keeps a visible [cần kiểm tra].

A roadmap covers the whole period of the draft: year by year, the example's years spread over the
draft's (first to first, last to last), every year closing with a Quý IV review row; years of the
example left out, or used twice, are named in a warning.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from assistant.drafting import facts
from assistant.drafting.adapt import CHECK_MARK, PLACEHOLDER, Adapter, tidy
from assistant.drafting.examples import ExampleCorpus, section_key, strip_numbering
from assistant.drafting.model import Appendix, AppendixRow, DraftRequest
from core.model import Record
from core.normalize import fold

KIND_OF_RECORD = {"task": "tasks", "indicator": "indicators", "target": "targets", "schedule": "schedule",
                  "kpi": "kpi"}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI",
         "XVII", "XVIII", "XIX", "XX")
_REVIEW_RE = re.compile(r"danh gia|so ket|tong ket|ra soat|bao cao")
_ROW_NO_RE = re.compile(r"\d+(?:\.\d+)*")


@dataclass
class Built:
    """One appendix with the canonical units of each row (the composer names them for the draft)."""

    appendix: Appendix
    doc_id: str
    leads: list[list[str]] = field(default_factory=list)  # parallel to appendix.rows ([] for a group row)
    partners: list[list[str]] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    flagged: int = 0


def _part_title(label: str) -> bool:
    """A group path element that names the part of the plan ('2. Mục tiêu cụ thể'), not a group."""
    text = strip_numbering(label)
    return len(text) <= 30 and section_key(text) != "other"


class AppendixBuilder:
    def __init__(self, request: DraftRequest, corpus: ExampleCorpus, pool: list[str], adapters: dict[str, Adapter],
                 short_title: str) -> None:
        self.request = request
        self.corpus = corpus
        self.pool = pool
        self.adapters = adapters
        self.short_title = short_title
        self.warnings: list[str] = []

    # --- the example and its tables ------------------------------------------------------------

    def source(self) -> str | None:
        return next((d for d in self.pool if any(r.kind in KIND_OF_RECORD for r in self.corpus.records(d))), None)

    def build(self) -> list[Built]:
        doc_id = self.source()
        if doc_id is None:
            return []
        records = sorted((r for r in self.corpus.records(doc_id) if r.kind in KIND_OF_RECORD),
                         key=lambda r: (r.line_start, r.line_end))
        kinds = list(dict.fromkeys(KIND_OF_RECORD[r.kind] for r in records))
        built = []
        for kind in kinds:
            rows = [r for r in records if KIND_OF_RECORD[r.kind] == kind]
            built.append(self._schedule(doc_id, rows) if kind == "schedule" else self._table(doc_id, kind, rows))
        for n, item in enumerate(built):
            item.appendix.label = "PHỤ LỤC" if len(built) == 1 else f"PHỤ LỤC {ROMAN[n]}"
        return built

    # --- cells ---------------------------------------------------------------------------------------

    def _period(self) -> str:
        r = self.request
        return f"Năm {r.start_year}" if r.start_year == r.end_year else f"{r.start_year} – {r.end_year}"

    def _text(self, doc_id: str, text: str) -> tuple[str, bool]:
        """A cell adapted to the new commune; True when a fact of another place is marked in it."""
        adapter = self.adapters[doc_id]
        adapted = tidy(adapter.text(text)).rstrip(".")
        checked = facts.check(adapted, same_province=adapter.same_province, section="appendix")
        out = checked.text if checked.text is not None else f"{adapted} {CHECK_MARK}"
        r = self.request
        if facts.stray_years(out, r.start_year, r.end_year) and CHECK_MARK not in out:
            out = f"{out} {CHECK_MARK}"
        return out, out != adapted

    def target_text(self, doc_id: str, record: Record) -> str:
        """The targets of a row for the draft's years: '≥ 60%' for one year; 'Năm 2027: ≥ 60%; năm 2030:
        100%' for a period, with '[…]' for the end of the period when the example stops earlier."""
        r = self.request
        targets = {k: v.strip() for k, v in record.targets.items() if v and v.strip()}
        if not targets:
            return PLACEHOLDER
        mapping = self.adapters[doc_id].year_map
        by_year: dict[int, str] = {}
        loose = ""
        for key, value in targets.items():
            if key.isdigit():
                year = mapping.get(int(key), int(key))
                if r.start_year <= year <= r.end_year:
                    by_year.setdefault(year, value)
            elif not loose:
                loose = value
        if r.start_year == r.end_year:
            return by_year.get(r.start_year) or loose or next(iter(targets.values()))
        if not by_year:
            return loose or PLACEHOLDER
        parts = [f"năm {year}: {value}" for year, value in sorted(by_year.items())]
        if r.end_year not in by_year:
            parts.append(f"đến năm {r.end_year}: {PLACEHOLDER}")
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]

    def _deadline(self, doc_id: str, record: Record) -> str:
        if record.deadline:
            return self._text(doc_id, record.deadline)[0]
        return self._period()

    # --- tables ------------------------------------------------------------------------------------------

    def _title(self, kind: str) -> str:
        plan = f"KẾ HOẠCH {self.short_title.upper()}"
        return {
            "indicators": f"NHIỆM VỤ CỤ THỂ THỰC HIỆN {plan}",
            "targets": f"DANH MỤC CÁC CHỈ TIÊU CỤ THỂ THỰC HIỆN {plan}",
            "tasks": f"DANH MỤC CÁC NHIỆM VỤ THỰC HIỆN {plan}",
            "schedule": f"TIẾN ĐỘ THỰC HIỆN {plan} THEO QUÝ",
            "kpi": f"BỘ CHỈ SỐ ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN {plan}",
        }[kind]

    def _appendix(self, kind: str) -> Appendix:
        r = self.request
        note = f"(Kèm theo Kế hoạch số …/KH-UBND ngày … tháng … năm {r.start_year} của UBND xã {r.commune})"
        remark = ""
        if kind in ("targets", "indicators"):
            remark = f"Chỉ tiêu phấn đấu đề xuất theo kế hoạch mẫu, cần xác định theo thực tế của xã {CHECK_MARK}."
        return Appendix("PHỤ LỤC", self._title(kind), note, kind, remark=remark if kind == "targets" else "")

    def _group(self, doc_id: str, record: Record) -> str:
        path = [g for g in record.group_path if not _part_title(g)]
        if not path:
            return ""
        return self._text(doc_id, strip_numbering(path[-1]))[0].rstrip(".")

    def _table(self, doc_id: str, kind: str, records: list[Record]) -> Built:
        built = Built(self._appendix(kind), doc_id)
        rows = built.appendix.rows
        current: str | None = None
        groups = 0
        in_group = 0
        skipped: list[Record] = []
        for record in records:
            if kind == "kpi" and fold(record.row_no or "").startswith("nhom"):
                skipped.append(record)  # the table of group weights: the weights are in the group rows
                continue
            group = self._group(doc_id, record)
            if group and group != current:
                current = group
                rows.append(AppendixRow(ROMAN[groups % len(ROMAN)], group, group=True, lines=(record.line_start,
                                                                                           record.line_start)))
                built.leads.append([])
                built.partners.append([])
                groups += 1
                in_group = 0
            in_group += 1
            task, flagged = self._text(doc_id, record.subject)
            built.flagged += flagged
            stt = record.row_no if record.row_no and _ROW_NO_RE.fullmatch(record.row_no.strip(". ")) else str(in_group)
            leads = list(dict.fromkeys(u.name for u in record.leads))
            partners = [u for u in dict.fromkeys(u.name for u in record.partners) if u not in leads]
            row = AppendixRow(stt.strip(". "), task, ref=doc_id, lines=(record.line_start, record.line_end))
            if kind == "targets":
                row.deadline = self.target_text(doc_id, record)
            elif kind == "kpi":
                row.method = self._text(doc_id, record.method)[0] if record.method else ""
                row.score = record.max_score or ""
                row.deadline = self.target_text(doc_id, record) if record.targets else ""
            else:
                row.deadline = self._deadline(doc_id, record)
            rows.append(row)
            built.leads.append(leads)
            built.partners.append(partners)
            built.spans.append((record.line_start, record.line_end))
        if skipped:
            self.warnings.append(
                f"{len(skipped)} dòng cơ cấu nhóm của bộ chỉ số ở kế hoạch mẫu không lặp lại thành dòng riêng: "
                "điểm của từng nhóm ghi ở dòng nhóm.")
        return built

    def _schedule(self, doc_id: str, records: list[Record]) -> Built:
        r = self.request
        built = Built(self._appendix("schedule"), doc_id)
        rows = built.appendix.rows
        by_year: dict[int, list[Record]] = defaultdict(list)
        for record in records:
            by_year[record.year or min((x.year for x in records if x.year), default=r.start_year)].append(record)
        years = sorted(by_year)
        n = r.end_year - r.start_year + 1
        picks = [years[int(j * (len(years) - 1) / (n - 1) + 0.5)] if n > 1 else years[0] for j in range(n)]
        left_out = [y for y in years if y not in picks]
        twice = [y for y, count in Counter(picks).items() if count > 1]
        stt = 0
        for j, source_year in enumerate(picks):
            year = r.start_year + j
            first = by_year[source_year][0]
            label = strip_numbering(first.group_path[0]) if first.group_path else f"Năm {source_year}"
            label = tidy(self.adapters[doc_id].text(label, keep_years=True)).rstrip(".")
            label = re.sub(rf"\b{source_year}\b", str(year), label)
            rows.append(AppendixRow(ROMAN[j % len(ROMAN)], label, group=True, lines=(first.line_start,
                                                                                     first.line_start)))
            built.leads.append([])
            built.partners.append([])
            for record in by_year[source_year]:
                stt += 1
                task, flagged = self._text(doc_id, record.subject)
                built.flagged += flagged
                when = f"Quý {record.quarter}/{year}" if record.quarter else f"Năm {year}"
                rows.append(AppendixRow(str(stt), task, deadline=when, ref=doc_id,
                                        lines=(record.line_start, record.line_end)))
                built.leads.append(list(dict.fromkeys(u.name for u in record.leads)))
                built.partners.append(list(dict.fromkeys(u.name for u in record.partners)))
                built.spans.append((record.line_start, record.line_end))
            reviewed = any(x.quarter == "IV" and _REVIEW_RE.search(fold(x.subject)) for x in by_year[source_year])
            if not reviewed:
                stt += 1
                task = (f"Tổng kết, đánh giá kết quả thực hiện Kế hoạch giai đoạn {r.start_year} – {r.end_year}; đề "
                        "xuất định hướng giai đoạn tiếp theo" if year == r.end_year else
                        f"Sơ kết, đánh giá kết quả thực hiện Kế hoạch năm {year}; xây dựng nhiệm vụ năm {year + 1}")
                rows.append(AppendixRow(str(stt), task, deadline=f"Quý IV/{year}", ref=doc_id))
                built.leads.append(["UBND xã"])
                built.partners.append(["Các phòng, ban, ngành xã"])
        if left_out:
            self.warnings.append(
                f"Lộ trình của kế hoạch mẫu có {len(years)} năm ({years[0]} – {years[-1]}), Kế hoạch có {n} năm: "
                f"các nhiệm vụ của năm {', '.join(map(str, left_out))} trong kế hoạch mẫu không đưa vào Phụ lục; "
                "cần rà soát, bổ sung nếu phù hợp.")
        if twice:
            self.warnings.append(
                f"Lộ trình của kế hoạch mẫu ngắn hơn Kế hoạch: nhiệm vụ của năm {', '.join(map(str, twice))} trong "
                "kế hoạch mẫu được dùng cho nhiều năm của Phụ lục, cần điều chỉnh cho từng năm.")
        return built
