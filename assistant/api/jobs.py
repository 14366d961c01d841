"""Background upload jobs (``POST /api/documents?async=true``), kept in this process's memory.

One worker thread runs the jobs one after another, so a burst of uploads queues instead of parsing
side by side. A job is known only to the process that accepted it and is forgotten when the process
stops (its saved upload is then swept at the next start-up) or ``KEEP_S`` after it finished.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from assistant.api.errors import APIError

logger = logging.getLogger("assistant.api")

JobState = Literal["queued", "running", "done", "failed"]
KEEP_S = 3600.0  # a finished job is answered for an hour
MAX_FINISHED = 500  # and at most this many finished jobs are kept (oldest dropped first)
MAX_PENDING = 100  # queued or running jobs; more -> 429
JOBS_NOTE = (
    "Công việc được giữ trong bộ nhớ của tiến trình máy chủ đã nhận tệp: mất khi máy chủ khởi động lại, "
    "chỉ tiến trình đó trả lời được (chạy nhiều worker thì cần phiên dính — sticky session), và được giữ "
    "1 giờ sau khi xong. Các tệp được nạp lần lượt, từng tệp một."
)
INTERNAL_ERROR = "Lỗi nội bộ khi nạp tệp '{filename}'; vui lòng thử lại hoặc báo cho quản trị viên."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    filename: str
    status: JobState = "queued"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    document: dict[str, Any] | None = None
    error: str | None = None
    code: str | None = None
    finished_monotonic: float | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        """What ``GET /api/jobs/{id}`` answers (a copy, safe to serialize outside the lock)."""
        data = asdict(self)
        data.pop("finished_monotonic")
        return data


class JobQueue:
    """Upload jobs of one process: ``submit`` a callable producing the document, ``get`` its state."""

    def __init__(self, keep_s: float = KEEP_S, max_finished: int = MAX_FINISHED, max_pending: int = MAX_PENDING):
        self.keep_s = keep_s
        self.max_finished = max_finished
        self.max_pending = max_pending
        self._jobs: dict[str, Job] = {}
        self._cleanups: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-job")

    def submit(self, filename: str, work: Callable[[], dict[str, Any]], cleanup: Callable[[], None]) -> Job:
        """Queue ``work`` (an ``APIError`` it raises becomes the job's Vietnamese error); ``cleanup``
        runs once the job ends, or when the queue shuts down before it started."""
        with self._lock:
            self._prune()
            pending = sum(job.status in ("queued", "running") for job in self._jobs.values())
            if pending >= self.max_pending:
                cleanup()
                raise APIError(
                    429,
                    f"Đang có {pending} tệp chờ nạp; vui lòng thử lại sau ít phút.",
                    code="too_many_jobs",
                    headers={"Retry-After": "30"},
                )
            job = Job(id=uuid.uuid4().hex, filename=filename)
            self._jobs[job.id] = job
            self._cleanups[job.id] = cleanup
            self._executor.submit(self._run, job.id, work)
            return Job(**asdict(job))

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            self._prune()
            job = self._jobs.get(job_id)
            return job.view() if job else None

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are dropped (their saved uploads removed), a running one ends."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            dropped = [self._cleanups.pop(job_id) for job_id, job in self._jobs.items()
                       if job.status == "queued" and job_id in self._cleanups]
        for cleanup in dropped:
            cleanup()

    # --- internals -------------------------------------------------------------------------------

    def _run(self, job_id: str, work: Callable[[], dict[str, Any]]) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            cleanup = self._cleanups.get(job_id)
            if job is None or cleanup is None:  # dropped by shutdown meanwhile
                return
            job.status, job.started_at = "running", _now()
        document: dict[str, Any] | None = None
        error: str | None = None
        code: str | None = None
        try:
            document = work()
        except APIError as exc:
            error, code = exc.message, exc.code or "ingest_failed"
        except Exception:  # never a dead worker thread, never an English message
            logger.exception("Lỗi không mong đợi khi nạp tệp %s (công việc %s)", job.filename, job_id)
            error, code = INTERNAL_ERROR.format(filename=job.filename), "internal_error"
        finally:
            try:
                cleanup()
            except OSError:
                logger.warning("Không xóa được tệp tạm của công việc %s", job_id)
        with self._lock:
            job.status = "done" if error is None else "failed"
            job.document, job.error, job.code = document, error, code
            job.finished_at, job.finished_monotonic = _now(), time.monotonic()
            self._cleanups.pop(job_id, None)

    def _prune(self) -> None:
        """Forget finished jobs older than ``keep_s``, and the oldest beyond ``max_finished``."""
        finished = sorted(
            (job.finished_monotonic, job.id) for job in self._jobs.values() if job.finished_monotonic is not None
        )
        cutoff = time.monotonic() - self.keep_s
        excess = len(finished) - self.max_finished
        for i, (finished_at, job_id) in enumerate(finished):
            if finished_at < cutoff or i < excess:
                del self._jobs[job_id]
