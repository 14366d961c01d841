"""The process-wide service container: every component is built once, lazily.

The CLI, the HTTP API and the UI all go through it, so models load once per process and no
logic is duplicated between front ends.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from core.config import Settings, get_settings

if TYPE_CHECKING:
    from assistant.drafting.service import DraftService
    from assistant.indexing import Ingestor
    from assistant.qa.service import QAService
    from vectorstore.embeddings import TextEmbedder
    from vectorstore.store import Store

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._lock = threading.RLock()

    @cached_property
    def embedder(self) -> TextEmbedder:
        from vectorstore.embeddings import make_embedder

        with self._lock:
            return make_embedder(self.settings)

    @cached_property
    def store(self) -> Store:
        from vectorstore.store import Store

        with self._lock:
            return Store(self.settings, self.embedder)

    @cached_property
    def ingestor(self) -> Ingestor:
        from assistant.indexing import Ingestor

        with self._lock:
            return Ingestor(self.store)

    @cached_property
    def qa(self) -> QAService:
        from assistant.qa.service import QAService

        with self._lock:
            return QAService(self.settings, self.store)

    @cached_property
    def drafter(self) -> DraftService:
        from assistant.drafting.service import DraftService

        with self._lock:
            return DraftService(self.settings, self.store)

    def ensure_corpus(self) -> None:
        """On an empty index, ingest the default corpus (so `serve` works on a fresh machine); on an index built by
        an older version of the pipeline, re-read the plans it holds from their stored sources."""
        if not self.store.snapshot.documents and self.settings.corpus_dir.is_dir():
            self.ingestor.ingest_paths([self.settings.corpus_dir])
        else:
            report = self.ingestor.reindex(stale_only=True)
            if report.results:
                log.info("re-read %d plans stored by an older pipeline", len(report.results))
