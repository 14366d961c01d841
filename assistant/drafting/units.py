"""Which units a draft may name, in which order (unit names themselves come from ``ingest.units``)."""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.units import canonical_unit, known_units, leading_units

# Units that appear in plans but are not the commune's own (the issuer, the province, outside bodies).
NOT_COMMUNE_UNITS = frozenset({
    "UBND xã", "Sở Khoa học và Công nghệ", "Sở Nội vụ", "Công an tỉnh",
    "Ngân hàng Nhà nước chi nhánh Khu vực", "Cổng thông tin điện tử xã", "Hệ thống thông tin cơ sở",
})
# Bodies outside the People's Committee: a plan does not give them orders, it asks ("Đề nghị …").
OUTSIDE_UNITS = frozenset({
    "Ủy ban Mặt trận Tổ quốc Việt Nam xã", "Các tổ chức chính trị - xã hội", "Đoàn Thanh niên",
    "Hội Liên hiệp Phụ nữ", "Hội Nông dân", "Hội Cựu chiến binh", "Văn phòng Đảng ủy",
    "Ngân hàng Chính sách xã hội", "Ngân hàng Nhà nước chi nhánh Khu vực", "Các hợp tác xã", "Các doanh nghiệp",
    "Công an tỉnh",
})
# The Front and the mass organisations are asked together, as the examples do.
FRONT_UNITS = ("Ủy ban Mặt trận Tổ quốc Việt Nam xã", "Các tổ chức chính trị - xã hội", "Đoàn Thanh niên",
               "Hội Liên hiệp Phụ nữ", "Hội Nông dân", "Hội Cựu chiến binh")
SETTLEMENT_UNIT = "Các thôn, ấp"
# The collective addressee that opens the "Tổ chức thực hiện" section of most plans.
COLLECTIVE_UNIT = "Các phòng, ban, ngành xã"
# The usual focal unit (đầu mối) of the innovation plans of a commune.
DEFAULT_FOCAL_UNIT = "Phòng Văn hóa - Xã hội"
_NUMBERING_RE = re.compile(r"^\s*(?:[IVX]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)\-]\s*")


@lru_cache(maxsize=1)
def _order() -> dict[str, int]:
    return {name: i for i, name in enumerate(known_units())}


def unit_order(name: str) -> int:
    """Position in the alias table (the usual order of units in a plan); unknown units last."""
    return _order().get(name, len(_order()))


def is_commune_unit(name: str) -> bool:
    return name not in NOT_COMMUNE_UNITS


def canonical_name(written: str) -> str:
    """'Phòng VHXH' -> 'Phòng Văn hóa - Xã hội'; an unknown unit keeps its (tidied) name."""
    return canonical_unit(written).name


def heading_units(text: str) -> tuple[list[str], str]:
    """Units a heading starts with, and the rest of it: '3. Phòng kinh tế chủ trì, …' ->
    (['Phòng Kinh tế'], 'chủ trì, …')."""
    body = _NUMBERING_RE.sub("", text.strip(), count=1)
    units, end = leading_units(body)
    return list(dict.fromkeys(u.name for u in units)), body[end:].strip(" :,.-–")
