"""The default corpus, by file stem, for tests that read the plans directly, and a store's settings to ingest them
with the deterministic embedder."""

from pathlib import Path

from core.config import Settings

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
HA_DONG = "xa-ha-dong-hai-phong-xa-doi-moi-sang-tao-2026-2030"
HOA_DIEN = "xa-hoa-dien-an-giang-kh128-pii-2026"
PHUOC_AN = "xa-phuoc-an-dong-nai-nq57-2026"
VINH_THUAN = "xa-vinh-thuan-an-giang-pii-2026"
VU_QUANG = "xa-vu-quang-ha-tinh-nq57-2026"
STEMS = [HA_DONG, HOA_DIEN, PHUOC_AN, VINH_THUAN, VU_QUANG]


def copy_plan(stem: str, folder: Path) -> Path:
    """A copy of one plan of the default corpus in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.txt"
    target.write_bytes((PLANS / f"{stem}.txt").read_bytes())
    return target


def hash_settings(data: Path, **overrides: object) -> Settings:
    """Settings of a store in ``data`` with the hash embedder and no watcher thread."""
    values: dict[str, object] = {"embedding_backend": "hash", "store_watch_interval_s": 0}
    values.update(overrides)
    return Settings(data_dir=data, PLAN_ASSISTANT_MODELS_DIR=data / "models", **values)
