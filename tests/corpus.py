"""The default corpus, by file stem, for tests that read the plans directly."""

from pathlib import Path

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
HA_DONG = "xa-ha-dong-hai-phong-xa-doi-moi-sang-tao-2026-2030"
HOA_DIEN = "xa-hoa-dien-an-giang-kh128-pii-2026"
PHUOC_AN = "xa-phuoc-an-dong-nai-nq57-2026"
VINH_THUAN = "xa-vinh-thuan-an-giang-pii-2026"
VU_QUANG = "xa-vu-quang-ha-tinh-nq57-2026"
STEMS = [HA_DONG, HOA_DIEN, PHUOC_AN, VINH_THUAN, VU_QUANG]
