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


def build_app(
    services: Services | None = None, *, ensure_corpus: bool = False, load_before_serving: bool = False
) -> FastAPI:
    """The HTTP API with the web UI mounted beside it at /ui, both over the same services."""
    from assistant.api.app import create_app
    from assistant.services import Services
    from ui.app import mount_ui

    services = services or Services(get_settings())
    app = create_app(services, ensure_corpus=ensure_corpus, load_before_serving=load_before_serving)
    mount_ui(app, services)
    return app


def app_factory() -> FastAPI:
    """For `uvicorn assistant.server:app_factory --factory` (settings from the environment). One of
    several workers loads its index before it accepts connections, and ends with `serve`."""
    workers = get_settings().workers
    if workers > 1:
        from core.process import die_with_parent

        die_with_parent()
    return build_app(ensure_corpus=True, load_before_serving=workers > 1)


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Start uvicorn. One worker holds the index in its process; with several, they share the catalog
    (SQLite file or PostgreSQL) and a Chroma server (``chroma run``, started here over the data
    directory when Chroma is embedded), and each follows the others' writes."""
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
    port = port or settings.port
    workers = workers or settings.workers
    logger.info("Plan Assistant: http://%s:%d/ui (giao diện), /docs (API)", bind, port)
    if workers <= 1:
        # The index loads (and on a fresh machine the default corpus is ingested) in the background;
        # GET /ready answers 200 once done, other endpoints answer 503 until then.
        app = build_app(Services(settings), ensure_corpus=True)
        uvicorn.run(app, host=bind, port=port, log_level="info", workers=1)
        return
    chroma = None
    if settings.chroma_mode == "embedded":
        from vectorstore.chroma_store import start_chroma_server

        chroma, chroma_port = start_chroma_server(settings.chroma_dir)
        os.environ.update(PLAN_ASSISTANT_CHROMA_MODE="http", PLAN_ASSISTANT_CHROMA_HOST="127.0.0.1",
                          PLAN_ASSISTANT_CHROMA_PORT=str(chroma_port))
        logger.info("Chroma chạy ở chế độ máy chủ (cổng %d) cho %d tiến trình.", chroma_port, workers)
    os.environ["PLAN_ASSISTANT_WORKERS"] = str(workers)  # the workers load before they serve
    get_settings.cache_clear()
    try:
        _prepare_corpus()
        uvicorn.run("assistant.server:app_factory", factory=True, host=bind, port=port, log_level="info",
                    workers=workers)
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=30)


def _ensure_corpus() -> None:
    from assistant.services import Services

    Services(get_settings()).ensure_corpus()


def _prepare_corpus() -> None:
    """On an empty index, ingest the default corpus once, before the workers start (in a child
    process, so that this supervising process does not keep a model in memory)."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(target=_ensure_corpus, name="prepare-corpus")
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(f"Không nạp được kho kế hoạch mặc định (mã lỗi {child.exitcode}).")
