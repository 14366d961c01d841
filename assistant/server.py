"""`serve`: run the HTTP API (and the UI) with uvicorn, safe defaults included."""

from __future__ import annotations

import logging
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from typing import TYPE_CHECKING  # noqa: E402

from core.config import Settings, get_settings  # noqa: E402

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.services import Services

logger = logging.getLogger("assistant.server")

LOCAL_HOST = "127.0.0.1"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def choose_host(settings: Settings, host: str | None = None) -> str:
    """Explicit host (``--host`` or PLAN_ASSISTANT_HOST), else loopback, keys or not: opening the
    server to the network is always a decision someone writes down."""
    if host:
        return host
    if settings.host:
        return settings.host
    logger.info(
        "Máy chủ chỉ lắng nghe trên %s (chỉ truy cập được từ máy này). Chỉ định --host 0.0.0.0 "
        "(và cấu hình khóa API) để mở cho mạng nội bộ.",
        LOCAL_HOST,
    )
    return LOCAL_HOST


def build_app(services: Services | None = None, *, ensure_corpus: bool = False) -> FastAPI:
    """The HTTP API with the web UI mounted beside it at /ui, both over the same services."""
    from assistant.api.app import create_app
    from assistant.services import Services
    from ui.app import mount_ui

    services = services or Services(get_settings())
    app = create_app(services, ensure_corpus=ensure_corpus)
    mount_ui(app, services)
    return app


def app_factory() -> FastAPI:
    """For `uvicorn assistant.server:app_factory --factory` (settings from the environment)."""
    return build_app(ensure_corpus=True)


def serve(host: str | None = None, port: int | None = None) -> None:
    """Start uvicorn (one process: the index is embedded and held in memory; see the README)."""
    import uvicorn

    from assistant.services import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    bind = choose_host(settings, host)
    if bind not in _LOOPBACK and not settings.api_keys:
        logger.warning(
            "CẢNH BÁO: máy chủ mở trên %s mà không có khóa API; mọi máy trong mạng đều có thể "
            "tải lên hoặc xóa kế hoạch.",
            bind,
        )
    services = Services(settings)
    # The index loads (and on a fresh machine the default corpus is ingested) in the background;
    # GET /ready answers 200 once done, other endpoints answer 503 until then.
    app = build_app(services, ensure_corpus=True)
    port = port or settings.port
    logger.info("Plan Assistant: http://%s:%d/ui (giao diện), /docs (API)", bind, port)
    uvicorn.run(app, host=bind, port=port, log_level="info", workers=1)
