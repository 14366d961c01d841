"""Process helpers."""

from __future__ import annotations

import ctypes
import signal
import sys


def die_with_parent() -> None:
    """Linux: this process gets SIGTERM when the process that started it dies, even by SIGKILL (no
    orphaned Chroma server or API worker). Elsewhere a no-op."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


def release_memory() -> None:
    """Give the heap's free pages back to the system (glibc only). A snapshot build frees much that it read
    (rows, full chunk texts) between what it keeps, a released model its buffers; without this the process's
    RSS keeps those holes."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
