"""Chroma: embedded ``PersistentClient`` by default, ``HttpClient`` to a ``chroma run`` server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings

from core.config import Settings
from core.process import die_with_parent
from vectorstore.embeddings import ChromaEmbeddingFunction, TextEmbedder


def make_client(settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "http":
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_chroma_server(path: Path, port: int | None = None, timeout_s: float = 60.0) -> tuple[subprocess.Popen[bytes], int]:
    """A ``chroma run`` server over ``path`` (the embedded client's directory format), on 127.0.0.1;
    returns once it answers its heartbeat. The caller terminates the process."""
    port = port or free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma") or "chroma"
    path.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"máy chủ Chroma dừng ngay khi khởi động (mã {process.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"máy chủ Chroma không trả lời sau {timeout_s:.0f} giây")


class ChromaIndex:
    """Dense vectors of chunks, keyed by chunk id; metadata carries the filterable fields."""

    def __init__(self, settings: Settings, embedder: TextEmbedder) -> None:
        self.client = make_client(settings)
        self.collection = self.client.get_or_create_collection(
            name=settings.collection_name,
            embedding_function=ChromaEmbeddingFunction(embedder),  # never Chroma's downloading default
            metadata={"hnsw:space": "cosine"},
        )

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        for start in range(0, len(ids), 256):
            end = start + 256
            self.collection.upsert(
                ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end]
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 256):
            self.collection.delete(ids=ids[start : start + 256])

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (those present), read by id: no search."""
        if not ids:
            return {}
        result = self.collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"], strict=True)}

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        # no count() first: it reads the whole collection (14 ms at 140,000 vectors), and Chroma returns the
        # vectors it has when asked for more
        result = self.collection.query(query_embeddings=[vector], n_results=k, where=where or None,
                                       include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]
