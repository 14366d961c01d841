"""How a record reads as text: for the lexical and dense indexes, and in answers."""

from __future__ import annotations

from core.model import TABLE_FACT_KINDS, FactKind, Record, UnitRef
from core.normalize import fold

# Kinds of facts that come from table rows (the others come from prose).
TABLE_KINDS = TABLE_FACT_KINDS

KIND_LABELS: dict[str, str] = {
    FactKind.INDICATOR: "Chỉ số",
    FactKind.TARGET: "Chỉ tiêu",
    FactKind.TASK: "Nhiệm vụ",
    FactKind.SCHEDULE: "Nhiệm vụ theo tiến độ",
    FactKind.KPI: "Chỉ số đánh giá",
    FactKind.DUTY: "Nhiệm vụ được giao",
    FactKind.REPORT: "Chế độ báo cáo",
    FactKind.REFERENCE: "Văn bản được trích dẫn",
    FactKind.RECIPIENT: "Nơi nhận",
    FactKind.SIGNER: "Người ký",
    FactKind.BUDGET: "Kinh phí",
    FactKind.STAGE: "Giai đoạn",
    FactKind.SCORING: "Thang điểm",
    FactKind.GROUP: "Nhóm trong bảng",
}
# Labels of the attributes that kinds carry, in the order they are read out.
ATTR_LABELS = {
    "doc_type": "Loại văn bản", "number": "Số", "date": "Ngày", "issuer": "Cơ quan ban hành", "about": "Trích yếu",
    "role": "Chức vụ", "mode": "Hình thức ký", "frequency": "Định kỳ", "deadlines": "Thời hạn", "to": "Gửi",
    "period": "Thời gian", "name": "Tên giai đoạn", "items": "Nội dung", "grade": "Xếp loại",
    "members": "Số mục", "rows": "Các dòng",
}


def unit_label(unit: UnitRef) -> str:
    """Canonical name, with the plan's own wording when it says something the name does not."""
    name, written = unit.name, " ".join(unit.written.split())
    folded_name, folded_written = fold(name), fold(written)
    extra = folded_written.replace(folded_name, " ").split() if folded_name in folded_written else []
    if extra and all(w.isdigit() for w in extra):  # the number the name leaves out: 'chi nhánh Khu vực 8'
        return written
    if not written or folded_written in folded_name or folded_name in folded_written or len(written) > 60:
        return name
    return f"{name} ({written})"


def unit_names(units: list[UnitRef]) -> str:
    return ", ".join(unit_label(u) for u in units)


def targets_text(record: Record) -> str:
    parts = []
    for year, value in record.targets.items():
        parts.append(f"năm {year}: {value}" if year else value)
    return "; ".join(parts)


def attrs_text(record: Record) -> str:
    """A prose fact's own fields ('Số: 12/KH-UBND | Ngày: …'), labelled, in reading order."""
    return " | ".join(f"{label}: {record.attrs[key]}" for key, label in ATTR_LABELS.items() if record.attrs.get(key))


def record_sentence(record: Record) -> str:
    """'Chỉ tiêu: Tỷ lệ … | Chủ trì: … | Phối hợp: … | Thời hạn: … | Mục tiêu: …'."""
    label = KIND_LABELS.get(record.kind, "Nội dung")
    parts = [f"{label}{' ' + record.row_no if record.row_no else ''}: {record.subject}"]
    if record.group_path:
        parts.append("Nhóm: " + " / ".join(record.group_path))
    if record.leads:
        parts.append("Đơn vị chủ trì: " + unit_names(record.leads))
    if record.partners:
        parts.append("Đơn vị phối hợp: " + unit_names(record.partners))
    if record.deadline:
        parts.append("Thời gian: " + record.deadline)
    if record.targets:
        parts.append("Mục tiêu: " + targets_text(record))
    if record.unit_of_measure:
        parts.append("Đơn vị tính: " + record.unit_of_measure)
    if record.method:
        parts.append("Cách tính: " + record.method)
    if record.max_score:
        parts.append("Điểm tối đa: " + record.max_score)
    for key, label in ATTR_LABELS.items():
        if record.attrs.get(key) and key not in ("number",):
            parts.append(f"{label}: {record.attrs[key]}")
    return " | ".join(parts)
