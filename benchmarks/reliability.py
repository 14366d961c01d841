"""Reliability runs: hostile requests, kill -9 during writes, churn under concurrent clients (prints figures).

    python benchmarks/reliability.py --quick      # < 3 minutes
    python benchmarks/reliability.py              # a few minutes (more kill trials, longer churn)

Not a pytest test. Starts its own servers (``plan-assistant serve``) on free ports, each over a throwaway
data directory under a temp dir, with the deterministic ``hash`` embedder and a corpus of two plans.

1. Hostile requests (twice: a server without API keys, one with keys): malformed JSON, wrong types, huge
   bodies, long questions, junk characters, path traversal, unknown methods, missing/invalid keys on writes,
   non-plan and empty uploads, a zip-bomb .docx (RSS of the server measured), header abuse. No response
   may be a 5xx and the document list must not change.
2. kill -9: the server's process group is killed at a random moment of an upload, an update or a delete;
   after a restart the documents are exactly the before-set or the after-set of an uninterrupted run,
   answers cite only listed plans, and Chroma holds exactly the catalog's chunks.
3. Churn: 16 clients (12 ask/search/chat, 2 upload+delete a plan in a loop, 2 read documents/records);
   no errors, no citation of a plan that was not listed at that moment, no partially ingested plan listed.

Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
VENV_BIN = Path(sys.executable).parent
CLI = VENV_BIN / "plan-assistant"
MODELS_DIR = os.environ.get("PLAN_ASSISTANT_MODELS_DIR", "/work/models-cache")

PLAN_A = "xa-hoa-dien-an-giang-kh128-pii-2026.txt"  # corpus, never touched
PLAN_B = "xa-vinh-thuan-an-giang-pii-2026.txt"  # corpus, updated (B <-> B') in the kill trials
PLAN_C = "xa-vu-quang-ha-tinh-nq57-2026.txt"  # added/deleted in the kill trials, cycled in the churn
PLAN_D = "xa-phuoc-an-dong-nai-nq57-2026.txt"  # cycled in the churn
API_KEY = "reliability-key-" + uuid.uuid4().hex[:8]
QUESTIONS = [
    "Ai chủ trì nhiệm vụ chuyển đổi số ở xã Hòa Điền?",
    "phòng nào lo vụ hạ tầng số bên Vĩnh Thuận vậy?",
    "Kế hoạch của xã Vũ Quang có những nhiệm vụ gì?",
    "Xã Phước An giao ai thực hiện Nghị quyết 57?",
    "Kinh phí thực hiện kế hoạch lấy từ đâu?",
    "Chỉ tiêu năm 2026 về đổi mới sáng tạo là gì?",
    "Đơn vị phối hợp trong nhiệm vụ cải cách hành chính?",
    "Mục tiêu của kế hoạch xã Vĩnh Thuận",
    "Nhiệm vụ về khoa học công nghệ của Vũ Quang do ai chủ trì?",
    "Thời hạn hoàn thành các nhiệm vụ ở Phước An",
]


# --- HTTP --------------------------------------------------------------------------------------------


@dataclass
class Resp:
    status: int | None  # None: no response (connection closed, timeout)
    body: bytes = b""
    seconds: float = 0.0
    error: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def http(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Resp:
    start = time.perf_counter()
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Resp(response.status, data, time.perf_counter() - start)
    except (OSError, HTTPException) as exc:
        return Resp(None, b"", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def raw(port: int, payload: bytes, timeout: float = 5.0) -> Resp:
    """Send bytes as they are; the status is read from the first line of whatever comes back."""
    start = time.perf_counter()
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            with contextlib.suppress(OSError):  # the server may close early (a limit hit): read what it said
                sock.sendall(payload)
            while True:
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    break
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data and len(data) > 4096:
                    break
    except OSError as exc:
        return Resp(None, data, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    first = data.split(b"\r\n", 1)[0].split()
    if len(first) >= 2 and first[0].startswith(b"HTTP/") and first[1].isdigit():
        return Resp(int(first[1]), data, seconds)
    return Resp(None, data, seconds, "no HTTP status line" if data else "connection closed without response")


def multipart(parts: list[tuple[str, str | None, str, bytes]]) -> tuple[bytes, str]:
    """(field name, file name or None, content type, data) -> body, Content-Type."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, filename, ctype, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.write(f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {ctype}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(port: int, filename: str, data: bytes, key: str | None = None, timeout: float = 120.0) -> Resp:
    body, ctype = multipart([("file", filename, "text/plain", data)])
    headers = {"Content-Type": ctype}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return http(port, "POST", "/api/documents", body, headers, timeout=timeout)


def delete(port: int, doc_id: str, key: str | None = None, timeout: float = 60.0) -> Resp:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return http(port, "DELETE", f"/api/documents/{urllib.parse.quote(doc_id)}", None, headers, timeout=timeout)


def ask(port: int, question: str, key: str | None = None) -> Resp:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return http(port, "POST", "/api/ask", json.dumps({"question": question}).encode(), headers)


def list_docs(port: int, key: str | None = None) -> list[dict[str, Any]] | None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = http(port, "GET", "/api/documents", None, headers)
    data = resp.json()
    return data if resp.status == 200 and isinstance(data, list) else None


def cited(resp: Resp) -> list[str]:
    """doc_ids cited by an /api/ask, /api/search or /v1/chat/completions response."""
    data = resp.json()
    if isinstance(data, dict):
        sources = data.get("sources") or []
    elif isinstance(data, list):
        sources = data
    else:
        return []
    return [s["doc_id"] for s in sources if isinstance(s, dict) and "doc_id" in s]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- servers -----------------------------------------------------------------------------------------


class Server:
    """``plan-assistant serve`` in its own process group over ``data_dir``."""

    def __init__(self, root: Path, name: str, corpus: Path, api_keys: list[str] | None = None) -> None:
        self.root = root
        self.name = name
        self.data_dir = root / name
        self.corpus = corpus
        self.api_keys = api_keys or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        SERVERS.append(self)

    @property
    def log_path(self) -> Path:
        return self.root / f"{self.name}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAN_ASSISTANT_")}
        env.update(
            PLAN_ASSISTANT_DATA_DIR=str(self.data_dir),
            PLAN_ASSISTANT_CORPUS_DIR=str(self.corpus),
            PLAN_ASSISTANT_MODELS_DIR=MODELS_DIR,
            PLAN_ASSISTANT_EMBEDDING_BACKEND="hash",
            PLAN_ASSISTANT_CONFIG_FILE=str(self.root / "none.toml"),
            PLAN_ASSISTANT_API_KEYS=json.dumps(self.api_keys),
        )
        return env

    def start(self) -> None:
        self.port = free_port()
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} on port {self.port} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--port", str(self.port)],
            cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float = 180.0) -> float:
        assert self.proc is not None
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"server {self.name} exited with {self.proc.returncode}:\n{tail}")
            if http(self.port, "GET", "/ready", timeout=5).status == 200:
                return time.perf_counter() - start
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} not ready after {timeout:.0f} s")

    def kill9(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill9()
        self.proc = None

    def rss_mb(self) -> float:
        """Resident memory of the server's process group (VmRSS from /proc), in MB."""
        if self.proc is None:
            return 0.0
        total_kb = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.proc.pid:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            except (OSError, ValueError):
                continue
        return total_kb / 1024


# --- results -----------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    figure: str
    ok: bool
    details: list[str] = field(default_factory=list)


CHECKS: list[Check] = []
SERVERS: list[Server] = []  # every server started, stopped at the end whatever happens


def record(name: str, figure: str, ok: bool, details: list[str] | None = None) -> None:
    CHECKS.append(Check(name, figure, ok, details or []))
    print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {figure}", flush=True)
    for line in (details or [])[:15]:
        print(f"         {line}", flush=True)


# --- 1. hostile requests -----------------------------------------------------------------------------


@dataclass
class Probe:
    name: str
    method: str = "GET"
    path: str = "/"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is over a socket instead


def zip_bomb(unpacked_mb: int) -> bytes:
    """A .docx (zip) whose word/document.xml unpacks to ``unpacked_mb`` MB of XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        para = b"<w:p><w:r><w:t>KE HOACH</w:t></w:r></w:p>" * 1600
        block = para * (1024 * 1024 // len(para) + 1)
        block = block[: 1024 * 1024 - (1024 * 1024 % len(b"<w:p><w:r><w:t>KE HOACH</w:t></w:r></w:p>"))]
        with zf.open("word/document.xml", "w", force_zip64=False) as out:
            out.write(head)
            for _ in range(unpacked_mb):
                out.write(block)
            out.write(b"</w:body></w:document>")
    return buf.getvalue()


def forge_sizes(bomb: bytes) -> bytes:
    """The same zip with every entry's uncompressed size, in its local and central headers, set to 1 KB."""
    data = bytearray(bomb)
    fake = (1024).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := data.find(signature, pos)) >= 0:
            data[pos + offset : pos + offset + 4] = fake
            pos += 4
    return bytes(data)


def many_entries_docx(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"word/media/x{i}.xml", b"<a/>")
    return buf.getvalue()


def hostile_probes(port: int, key: str | None, existing_id: str) -> list[Probe]:
    """~200 requests that must never give a 5xx nor change the store (no upload here is a valid plan)."""
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    jh = {"Content-Type": "application/json"}
    probes: list[Probe] = []

    def jpost(name: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        probes.append(Probe(name, "POST", path, body, {**jh, **(headers or {})}))

    # JSON bodies, on every JSON endpoint.
    bad_bodies: list[tuple[str, Any]] = [
        ("empty body", b""), ("truncated json", b'{"question": "ai'), ("null", b"null"), ("array", b"[]"),
        ("string", b'"hello"'), ("number", b"123"), ("invalid utf-8", b'{"question": "\xff\xfe\xfa"}'),
        ("nan", b'{"question": NaN}'), ("duplicate keys", b'{"question": "a", "question": 5}'),
        ("deep nesting", b"[" * 100000 + b"]" * 100000), ("deep nesting obj", b'{"a":' * 50000 + b"1" + b"}" * 50000),
        ("bom", "\ufeff".encode() + b'{"question": "a"}'), ("trailing junk", b'{"question": "a"} xyz'),
        ("huge number", b'{"question": "a", "top_k": 1' + b"0" * 5000 + b"}"),
    ]
    for path in ("/api/ask", "/v1/chat/completions", "/api/draft"):
        for name, body in bad_bodies:
            jpost(f"{path} {name}", path, body)
    questions: list[tuple[str, Any]] = [
        ("question int", {"question": 123}), ("question null", {"question": None}),
        ("question empty", {"question": ""}), ("question blank", {"question": "   \n\t "}),
        ("question list", {"question": ["a", "b"]}), ("question object", {"question": {"a": 1}}),
        ("question 2001 chars", {"question": "x" * 2001}), ("question 900k chars", {"question": "kế hoạch " * 90000}),
        ("control chars", {"question": "".join(chr(i) for i in range(32)) + "ai chủ trì?"}),
        ("nul only", {"question": "\x00" * 50}), ("lone surrogate", b'{"question": "\\ud800\\udc00\\ud800 ai"}'),
        ("zero-width/RTL", {"question": "\u200b\u200e\u202e\u2066ai chủ trì\u2069\ufeff"}),
        ("combining marks", {"question": "a" + "\u0301" * 1900}), ("emoji", {"question": "🔥" * 500 + "?"}),
        ("private use", {"question": "\ue000\U000f0000\U0010ffff"}), ("html", {"question": "<script>alert(1)</script>"}),
        ("sql", {"question": "'; DROP TABLE documents; --"}), ("format string", {"question": "%s%n%x{0}{__class__}"}),
        ("top_k -1", {"question": "a", "top_k": -1}), ("top_k 0", {"question": "a", "top_k": 0}),
        ("top_k huge", {"question": "a", "top_k": 10**12}), ("top_k str", {"question": "a", "top_k": "abc"}),
        ("top_k float", {"question": "a", "top_k": 1.5}), ("top_k bool", {"question": "a", "top_k": True}),
        ("history str", {"question": "a", "history": "x"}),
        ("history 51", {"question": "a", "history": [{"role": "user", "content": "x"}] * 51}),
        ("history bad role", {"question": "a", "history": [{"role": "system", "content": "x"}]}),
        ("history huge content", {"question": "a", "history": [{"role": "user", "content": "x" * 20001}]}),
        ("history nested junk", {"question": "a", "history": [[1, 2], None, 5]}),
        ("commune long", {"question": "a", "commune": "x" * 300}),
        ("commune traversal", {"question": "a", "commune": "../../../etc/passwd"}),
        ("commune null bytes", {"question": "a", "commune": "\x00\x00"}),
        ("explain str", {"question": "a", "explain": "yes please"}),
        ("extra fields", {"question": "a", "__proto__": {"x": 1}, "constructor": None}),
    ]
    for name, payload in questions:
        jpost(f"/api/ask {name}", "/api/ask", payload)
    chats: list[tuple[str, Any]] = [
        ("no messages", {"model": "plan-assistant"}), ("messages empty", {"messages": []}),
        ("messages str", {"messages": "hi"}), ("system only", {"messages": [{"role": "system", "content": "x"}]}),
        ("content null", {"messages": [{"role": "user", "content": None}]}),
        ("content parts junk", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]}),
        ("content parts bad", {"messages": [{"role": "user", "content": [{"type": "text"}, 5]}]}),
        ("role tool", {"messages": [{"role": "tool", "content": "x"}]}),
        ("stream str", {"messages": [{"role": "user", "content": "a"}], "stream": "yes"}),
        ("model unknown", {"model": "../../x", "messages": [{"role": "user", "content": "a"}]}),
        ("max_tokens -1", {"messages": [{"role": "user", "content": "a"}], "max_tokens": -1}),
        ("n 1000", {"messages": [{"role": "user", "content": "a"}], "n": 1000}),
        ("temperature str", {"messages": [{"role": "user", "content": "a"}], "temperature": "hot"}),
        ("huge content", {"messages": [{"role": "user", "content": "z" * 500000}]}),
        ("1000 messages", {"messages": [{"role": "user", "content": "a"}] * 1000}),
        ("control chars", {"messages": [{"role": "user", "content": "\x00\x1b[31m\x7f?"}]}),
    ]
    for name, payload in chats:
        jpost(f"/v1/chat/completions {name}", "/v1/chat/completions", payload)
    drafts: list[tuple[str, Any]] = [
        ("empty object", {}), ("wrong types", {"commune": 5, "plan_type": [1], "year": "x"}),
        ("traversal", {"commune": "../../etc", "examples": ["../../../etc/passwd"]}),
        ("long", {"commune": "x" * 100000}),
    ]
    for name, payload in drafts:
        jpost(f"/api/draft {name}", "/api/draft", payload)
    probes.append(Probe("/api/draft?format=exe", "POST", "/api/draft?format=exe", b"{}", jh))
    # Wrong content types.
    probes += [
        Probe("/api/ask text/plain", "POST", "/api/ask", b'{"question": "a"}', {"Content-Type": "text/plain"}),
        Probe("/api/ask form", "POST", "/api/ask", b"question=a", {"Content-Type": "application/x-www-form-urlencoded"}),
        Probe("/api/ask multipart", "POST", "/api/ask", *_mp_headers([("question", None, "text/plain", b"a")])),
        Probe("/api/ask xml", "POST", "/api/ask", b"<question>a</question>", {"Content-Type": "application/xml"}),
        Probe("/api/ask no content-type", "POST", "/api/ask", b'{"question": "a"}', {}),
        Probe("/api/ask charset junk", "POST", "/api/ask", b'{"question": "a"}', {"Content-Type": "application/json; charset=ebcdic-xx"}),
        Probe("/api/ask 1.5 MB", "POST", "/api/ask", b'{"question": "' + b"a" * 1500000 + b'"}', jh),
    ]
    # Query strings.
    for name, query in [
        ("no q", ""), ("q empty", "q="), ("q long", "q=" + "x" * 6000), ("q very long", "q=" + "y" * 60000),
        ("k str", "q=a&k=abc"), ("k -5", "q=a&k=-5"), ("k huge", "q=a&k=99999999999999999999"),
        ("q nul", "q=%00%00"), ("q bad percent", "q=%ff%fe%zz%"), ("q repeated", "q=a&" * 500 + "q=b"),
        ("commune long", "q=a&commune=" + "x" * 500), ("q surrogate", "q=%ed%a0%80"),
    ]:
        probes.append(Probe(f"/api/search {name}", "GET", f"/api/search?{query}"))
    for name, query in [
        ("kind bogus", "kind=bogus"), ("year str", "year=abc"), ("year huge", "year=99999999999999999999"),
        ("year 1", "year=1"), ("format xml", "format=xml"), ("limit 0", "limit=0"), ("limit neg", "limit=-1"),
        ("unit nul", "unit=%00"), ("q long", "q=" + "z" * 600), ("commune traversal", "commune=..%2f..%2fetc"),
        ("all junk", "commune=%ff&unit=%fe&kind=%00&year=&q="), ("unknown params", "foo=bar&__class__=1"),
    ]:
        probes.append(Probe(f"/api/records {name}", "GET", f"/api/records?{query}"))
    # Document ids: traversal, junk, too long; read, and delete with and without the key.
    ids = ["..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fcatalog.sqlite3", "..", "%00", "x" * 300, "%ff%fe",
           "*", "%25", "a%2Fb", "..%5C..%5Cwindows", "nonexistent-plan", "%E2%80%AE" + "txt.exe", "%20",
           existing_id + "%00", existing_id + "%2F..%2F" + existing_id]
    for doc in ids:
        probes.append(Probe(f"GET document {doc[:30]}", "GET", f"/api/documents/{doc}"))
        probes.append(Probe(f"DELETE document {doc[:30]} (key)", "DELETE", f"/api/documents/{doc}", None, dict(auth)))
    probes.append(Probe("GET /api/documents/../../etc/passwd", "GET", "/api/documents/../../etc/passwd"))
    probes.append(Probe("GET /ui/../../etc/passwd", "GET", "/ui/../../../../etc/passwd"))
    probes.append(Probe("GET /ui/%2e%2e traversal", "GET", "/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd"))
    probes.append(Probe("GET /ui/file= traversal", "GET", "/ui/file=/etc/passwd"))
    probes.append(Probe("GET /ui/gradio_api/file=", "GET", "/ui/gradio_api/file=/etc/passwd"))
    probes.append(Probe("GET /docs/../openapi.json", "GET", "/docs/../openapi.json"))
    probes.append(Probe("GET /api/draft/examples junk", "GET", "/api/draft/examples?section=%00&commune=" + "x" * 900))
    probes.append(Probe("GET /v1/models/..%2f..", "GET", "/v1/models/..%2F..%2Fetc"))
    probes.append(Probe("GET /sign-in next=//evil", "GET", "/dang-nhap?next=//evil.example/x"))
    probes.append(Probe("GET /ready junk query", "GET", "/ready?" + "a=%00&" * 300))
    # Uploads (authorized when the server has keys): none is a valid plan.
    lorem = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 200).encode()
    rnd = random.Random(7).randbytes(200_000)
    uploads: list[tuple[str, str, bytes, str]] = [
        ("traversal name, junk text", "../../../../etc/passwd.txt", lorem, "text/plain"),
        ("windows traversal name", "..\\..\\..\\boot.ini.txt", lorem, "text/plain"),
        ("name '..'", "..", lorem, "text/plain"), ("empty name", "", lorem, "text/plain"),
        ("name '.txt'", ".txt", lorem, "text/plain"), ("name with NUL", "a\x00b.txt", lorem, "text/plain"),
        ("1000-char name", "a" * 1000 + ".txt", lorem, "text/plain"), ("unicode junk name", "\u202e\u200bkế hoạch🔥.txt", lorem, "text/plain"),
        ("exe", "plan.exe", b"MZ" + rnd[:5000], "application/octet-stream"), ("no suffix", "plan", lorem, "text/plain"),
        ("sh", "x.sh", b"#!/bin/sh\nrm -rf /\n", "text/x-sh"), ("html", "x.html", b"<script>1</script>", "text/html"),
        ("empty txt", "empty.txt", b"", "text/plain"), ("empty docx", "empty.docx", b"", "application/octet-stream"),
        ("empty pdf", "empty.pdf", b"", "application/pdf"), ("empty md", "empty.md", b"", "text/markdown"),
        ("non-plan text", "lorem.txt", lorem, "text/plain"), ("binary as txt", "random.txt", rnd, "text/plain"),
        ("utf-16 text", "utf16.txt", "Kế hoạch số 1 của xã\n".encode("utf-16") * 100, "text/plain"),
        ("junk docx", "junk.docx", rnd, "application/octet-stream"), ("junk pdf", "junk.pdf", b"%PDF-1.7\n" + rnd, "application/pdf"),
        ("truncated pdf", "trunc.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n", "application/pdf"),
        ("zip as docx, no document.xml", "nodoc.docx", many_entries_docx(3), "application/octet-stream"),
        ("docx with 5000 entries", "many.docx", many_entries_docx(5000), "application/octet-stream"),
        ("plan text wrong content-type", "lorem.md", lorem, "image/png"),
        ("null bytes text", "nul.txt", b"\x00" * 100_000, "text/plain"),
        ("only newlines", "nl.txt", b"\n" * 100_000, "text/plain"),
    ]
    for name, filename, data, ctype in uploads:
        body, mp = multipart([("file", filename, ctype, data)])
        probes.append(Probe(f"upload {name}", "POST", "/api/documents", body, {"Content-Type": mp, **auth}))
    body, mp = multipart([("file", "lorem.txt", "text/plain", lorem), ("force", None, "text/plain", b"maybe")])
    probes.append(Probe("upload force=maybe", "POST", "/api/documents", body, {"Content-Type": mp, **auth}))
    body, mp = multipart([("file", "a.txt", "text/plain", lorem), ("file", "b.txt", "text/plain", lorem)])
    probes.append(Probe("upload two files", "POST", "/api/documents", body, {"Content-Type": mp, **auth}))
    body, mp = multipart([(f"f{i}", None, "text/plain", b"x") for i in range(50)])
    probes.append(Probe("upload 50 fields", "POST", "/api/documents", body, {"Content-Type": mp, **auth}))
    body, mp = multipart([("notfile", None, "text/plain", lorem)])
    probes.append(Probe("upload without file field", "POST", "/api/documents", body, {"Content-Type": mp, **auth}))
    probes.append(Probe("upload as JSON", "POST", "/api/documents", b'{"file": "x"}', {**jh, **auth}))
    probes.append(Probe("upload no boundary", "POST", "/api/documents", lorem, {"Content-Type": "multipart/form-data", **auth}))
    probes.append(Probe("upload broken multipart", "POST", "/api/documents", b"--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc",
                        {"Content-Type": "multipart/form-data; boundary=xx", **auth}))
    probes.append(Probe("upload 21 MB", "POST", "/api/documents", *_mp_headers([("file", "big.txt", "text/plain", b"a" * (21 * 1024 * 1024))], auth)))
    # Unknown methods.
    for method in ("PUT", "PATCH", "TRACE", "OPTIONS", "PROPFIND", "CONNECT"):
        for path in ("/api/ask", "/api/documents", f"/api/documents/{existing_id}"):
            probes.append(Probe(f"{method} {path[:40]}", method, path, b"{}", {**jh}))
    probes.append(Probe("raw method FOO", raw=b"FOO /api/ask HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    probes.append(Probe("raw method with junk", raw=b"G\x00ET /api/ask HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    # Header abuse and broken HTTP.
    headers_big = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 8000) for i in range(40))
    probes += [
        Probe("raw 40 headers of 8 KB", raw=b"GET /api/documents HTTP/1.1\r\nHost: x\r\n" + headers_big + b"Connection: close\r\n\r\n"),
        Probe("raw 5000 headers", raw=b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 5000 + b"Connection: close\r\n\r\n"),
        Probe("raw header with NUL", raw=b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n"),
        Probe("raw header no colon", raw=b"GET /health HTTP/1.1\r\nHost: x\r\nbroken header\r\nConnection: close\r\n\r\n"),
        Probe("raw no Host", raw=b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"),
        Probe("raw HTTP/0.9", raw=b"GET /health\r\n\r\n"),
        Probe("raw HTTP/2.0 line", raw=b"GET /health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n"),
        Probe("raw 100 KB URL", raw=b"GET /api/search?q=" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        Probe("raw Content-Length -1", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}"),
        Probe("raw Content-Length abc", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}"),
        Probe("raw Content-Length huge", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{}"),
        Probe("raw CL + TE", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"),
        Probe("raw bad chunk", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        Probe("raw chunked 2 MB", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
              + (b"100000\r\n" + b"a" * 0x100000 + b"\r\n") * 2 + b"0\r\n\r\n"),
        Probe("raw TE gzip", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n"),
        Probe("raw short body", raw=b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"question\":"),
        Probe("raw garbage", raw=random.Random(3).randbytes(3000)),
        Probe("raw TLS hello", raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64),
    ]
    probes += [
        Probe("Authorization 100 KB", "GET", "/api/documents", None, {"Authorization": "Bearer " + "k" * 60000}),
        Probe("Authorization unicode", "GET", "/api/documents", None, {"Authorization": "Bearer kh\u00f3a"}),
        Probe("Authorization Basic", "GET", "/api/documents", None, {"Authorization": "Basic dXNlcjpwYXNz"}),
        Probe("Cookie junk", "GET", "/api/documents", None, {"Cookie": "pa_session=" + "x" * 3000 + "; a=%00"}),
        Probe("Accept junk", "GET", "/api/records", None, {"Accept": "text/csv;q=abc, */*;q=-1"}),
        Probe("Accept-Encoding junk", "GET", "/api/documents", None, {"Accept-Encoding": "gzip;q=x, br, zstd, " + "a" * 2000}),
        Probe("Range junk", "GET", "/ui/", None, {"Range": "bytes=99999999-1,-5,abc"}),
        Probe("X-Forwarded-For junk", "GET", "/ready", None, {"X-Forwarded-For": "1.1.1.1, " * 500, "Host": "evil"}),
        Probe("Origin evil", "OPTIONS", "/api/ask", None, {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}),
        Probe("Content-Encoding gzip junk", "POST", "/api/ask", b"notgzip", {**jh, "Content-Encoding": "gzip"}),
    ]
    # Writes without a key or with a wrong one (rejected only on a server with keys; there they must be 401/403).
    plan_b = (PLANS / PLAN_B).read_bytes()
    for label, headers in [("no key", {}), ("wrong key", {"Authorization": "Bearer wrong"}),
                           ("empty bearer", {"Authorization": "Bearer "}), ("key without scheme", {"Authorization": key or "x"}),
                           ("key + space", {"Authorization": f"Bearer {key} x"}), ("key in query", {})]:
        if key is None:
            break
        suffix = f"?api_key={key}" if label == "key in query" else ""
        probes.append(Probe(f"unauth DELETE existing ({label})", "DELETE", f"/api/documents/{existing_id}{suffix}", None, headers))
        body, mp = multipart([("file", PLAN_B, "text/plain", plan_b)])
        probes.append(Probe(f"unauth upload real plan ({label})", "POST", f"/api/documents{suffix}", body, {"Content-Type": mp, **headers}))
        probes.append(Probe(f"unauth reindex ({label})", "POST", f"/api/documents/reindex{suffix}", None, headers))
        probes.append(Probe(f"unauth sign-in ({label})", "POST", "/dang-nhap", b"khoa=wrong&next=//evil",
                            {"Content-Type": "application/x-www-form-urlencoded", **headers}))
    return probes


def _mp_headers(parts: list[tuple[str, str | None, str, bytes]], extra: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    body, ctype = multipart(parts)
    return body, {"Content-Type": ctype, **(extra or {})}


def doc_state(port: int, key: str | None = None) -> dict[str, str] | None:
    docs = list_docs(port, key)
    if docs is None:
        return None
    return {d["id"]: f"{d.get('ingested_at')}|{d.get('chunks')}|{d.get('records')}" for d in docs}


def run_hostile(server: Server, key: str | None, bomb: bytes, forged: bytes) -> None:
    label = "with keys" if key else "without keys"
    port = server.port
    before = doc_state(port, key)
    existing = sorted(before or {})[0]
    probes = hostile_probes(port, key, existing)
    classes: Counter[str] = Counter()
    server_errors: list[str] = []
    unauthorized_ok: list[str] = []
    slow: list[str] = []
    started = time.perf_counter()
    for probe in probes:
        if probe.raw is not None:
            resp = raw(port, probe.raw)
        else:
            resp = http(port, probe.method, probe.path, probe.body, probe.headers, timeout=60)
        cls = "none" if resp.status is None else f"{resp.status // 100}xx"
        classes[cls] += 1
        if resp.status is not None and resp.status >= 500:
            server_errors.append(f"{probe.name}: {resp.status} {resp.body[:200]!r}")
        if key and probe.name.startswith("unauth") and "sign-in" not in probe.name and resp.status is not None \
                and resp.status < 400:
            unauthorized_ok.append(f"{probe.name}: {resp.status}")
        if resp.seconds > 4.5:
            slow.append(f"{probe.name}: {resp.seconds:.1f} s")
        if http(port, "GET", "/health", timeout=10).status != 200:
            server_errors.append(f"{probe.name}: server unhealthy afterwards ({resp.status})")
            time.sleep(1)
    # Zip bombs (authorized), with the server's memory sampled while it handles them.
    bomb_lines: list[str] = []
    bomb_ok = True
    for name, data in (("zip bomb", bomb), ("zip bomb, forged sizes", forged)):
        rss0 = server.rss_mb()
        peak = [rss0]
        stop = threading.Event()

        def sample(peak: list[float] = peak, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], server.rss_mb())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        body, mp = multipart([("file", "bomb.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", data)])
        resp = http(port, "POST", "/api/documents", body, {"Content-Type": mp, **({"Authorization": f"Bearer {key}"} if key else {})}, timeout=120)
        stop.set()
        sampler.join()
        grown = peak[0] - rss0
        cls = "none" if resp.status is None else f"{resp.status // 100}xx"
        classes[cls] += 1
        fine = resp.status is not None and 400 <= resp.status < 500 and resp.seconds < 10 and grown < 200
        bomb_ok &= fine
        detail = resp.json().get("detail", "") if isinstance(resp.json(), dict) else resp.error
        bomb_lines.append(f"{name} ({len(data) / 1e6:.1f} MB): {resp.status} {str(detail)[:90]!r} in {resp.seconds:.2f} s, "
                          f"RSS {rss0:.0f} -> peak {peak[0]:.0f} MB (+{grown:.0f})")
        if resp.status is not None and resp.status >= 500:
            server_errors.append(f"{name}: {resp.status} {resp.body[:200]!r}")
    seconds = time.perf_counter() - started
    after = doc_state(port, key)
    changed = before != after
    total = sum(classes.values())
    figure = ", ".join(f"{k}: {v}" for k, v in sorted(classes.items()))
    record(f"hostile ({label}): no 5xx", f"{total} requests in {seconds:.0f} s ({figure}); 5xx: {len(server_errors)}",
           not server_errors and total >= 150, server_errors)
    record(f"hostile ({label}): store unchanged", "unchanged" if not changed else f"CHANGED: {before} -> {after}",
           not changed)
    if key:
        record("hostile (with keys): writes without a valid key refused", f"{len(unauthorized_ok)} accepted",
               not unauthorized_ok, unauthorized_ok)
    record(f"hostile ({label}): zip bombs refused fast, RSS +<200 MB", "; ".join(bomb_lines), bomb_ok)
    if slow:
        print("         slow (>4.5 s; a raw request with a short body waits for the rest until the client gives up): " + "; ".join(slow))


def authorized_control(server: Server, key: str) -> None:
    """An authorized upload of a real plan under a traversal name lands under a safe id; then deleted."""
    data = (PLANS / PLAN_C).read_bytes()
    resp = upload(server.port, "../../../" + PLAN_C, data, key)
    body = resp.json() if isinstance(resp.json(), dict) else {}
    doc_id = body.get("id", "")
    ok = resp.status in (200, 201) and doc_id and "/" not in doc_id and ".." not in doc_id
    removed = delete(server.port, doc_id, key).status == 200 if doc_id else False
    record("authorized upload with traversal name", f"{resp.status} id={doc_id!r}, deleted: {removed}",
           bool(ok and removed))


# --- 2. kill -9 during writes --------------------------------------------------------------------------


def fingerprint(port: int, doc_id: str) -> str | None:
    resp = http(port, "GET", f"/api/documents/{urllib.parse.quote(doc_id)}")
    data = resp.json()
    if resp.status != 200 or not isinstance(data, dict):
        return None
    payload = json.dumps([data.get("filename"), data.get("metadata"), data.get("chunks"), data.get("records"),
                          data.get("lines")], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def full_state(port: int) -> dict[str, str] | None:
    docs = list_docs(port)
    if docs is None:
        return None
    state: dict[str, str] = {}
    for doc in docs:
        fp = fingerprint(port, doc["id"])
        if fp is None:
            return None
        state[doc["id"]] = fp
    return state


def store_check(data_dir: Path) -> dict[str, Any]:
    """Catalog (SQLite) and Chroma of a stopped server, read in a child process."""
    out = subprocess.run([sys.executable, __file__, "--check-store", str(data_dir)], capture_output=True,
                         text=True, timeout=300)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def check_store_main(data_dir: Path) -> int:
    """--check-store: per document, the catalog's chunk ids and Chroma's ids (by their doc_id metadata)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    con = sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True)
    catalog: dict[str, list[str]] = {d: [] for (d,) in con.execute("SELECT doc_id FROM documents")}
    orphans = 0
    for chunk_id, doc_id in con.execute("SELECT chunk_id, doc_id FROM chunks"):
        if doc_id in catalog:
            catalog[doc_id].append(chunk_id)
        else:
            orphans += 1
    orphan_records = con.execute(
        "SELECT count(*) FROM records WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
    ).fetchone()[0]
    con.close()
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
    chroma: dict[str, list[str]] = {}
    try:
        collection = client.get_collection("plan_chunks")
        got = collection.get(include=["metadatas"])
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            chroma.setdefault(str((meta or {}).get("doc_id", "?")), []).append(chunk_id)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        chroma = {"?error": [repr(exc)]}
    uploads = data_dir / "uploads"
    leftovers = sorted(p.name for p in uploads.iterdir()) if uploads.is_dir() else []
    print(json.dumps({
        "catalog": {d: sorted(ids) for d, ids in catalog.items()},
        "chroma": {d: sorted(ids) for d, ids in chroma.items()},
        "orphan_chunks": orphans, "orphan_records": orphan_records, "upload_leftovers": leftovers,
    }))
    return 0


def variant_b_prime() -> bytes:
    """Plan B with a changed sentence and an extra line: an update of the same doc_id."""
    text = (PLANS / PLAN_B).read_text(encoding="utf-8")
    text = text.replace("Ủy ban nhân dân xã", "UBND xã", 3)
    return (text + "\nGhi chú: bản cập nhật để thử nghiệm độ tin cậy.\n").encode("utf-8")


def run_kill_trials(root: Path, corpus: Path, trials: int, rng: random.Random) -> None:
    server = Server(root, "kill", corpus)
    server.start()
    server.wait_ready()
    port = server.port
    b_id, c_id = Path(PLAN_B).stem, Path(PLAN_C).stem
    versions = {"B": (PLANS / PLAN_B).read_bytes(), "B'": variant_b_prime(), "C": (PLANS / PLAN_C).read_bytes()}
    # The uninterrupted reference run: every state the trials can reach.
    initial = full_state(port)
    assert initial is not None
    durations: dict[str, list[float]] = {"add": [], "update": [], "delete": []}
    fps: dict[str, str] = {"B": initial[b_id]}
    resp = upload(port, PLAN_C, versions["C"])
    durations["add"].append(resp.seconds)
    fps["C"] = fingerprint(port, c_id) or "?"
    resp = upload(port, PLAN_B, versions["B'"])
    durations["update"].append(resp.seconds)
    fps["B'"] = fingerprint(port, b_id) or "?"
    resp = upload(port, PLAN_B, versions["B"])
    durations["update"].append(resp.seconds)
    resp = delete(port, c_id)
    durations["delete"].append(resp.seconds)
    determinism = full_state(port) == initial
    record("kill -9: reference run repeatable", "B -> B' -> B and +C -> -C give the initial state back: "
           f"{determinism} (add {durations['add'][0]:.2f} s, update {durations['update'][0]:.2f} s, "
           f"delete {durations['delete'][0]:.2f} s)", determinism and fps["B"] != fps["B'"])
    state = dict(initial)
    b_version = "B"
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    drift: list[str] = []
    leftovers_max = 0
    restart_s: list[float] = []
    for trial in range(trials):
        # Alternate: toggle C (add or delete), then toggle B (update B <-> B').
        if trial % 2 == 0:
            if c_id in state:
                op, target = "delete", c_id
                after = {k: v for k, v in state.items() if k != c_id}
            else:
                op, target = "add", c_id
                after = {**state, c_id: fps["C"]}
        else:
            op, target = "update", b_id
            new_version = "B'" if b_version == "B" else "B"
            after = {**state, b_id: fps[new_version]}
        before = dict(state)
        expected = durations[op][0]
        # Mostly inside the write (its reference duration includes the HTTP round trip), sometimes at its start.
        delay = rng.uniform(0.0, 0.05) if rng.random() < 0.2 else rng.uniform(0.0, expected)
        done: dict[str, Any] = {}

        def write(op: str = op, done: dict[str, Any] = done, port: int = port, b_version: str = b_version) -> None:
            if op == "delete":
                done["resp"] = delete(port, c_id, timeout=30)
            elif op == "add":
                done["resp"] = upload(port, PLAN_C, versions["C"], timeout=30)
            else:
                done["resp"] = upload(port, PLAN_B, versions["B'" if b_version == "B" else "B"], timeout=30)

        worker = threading.Thread(target=write, daemon=True)
        worker.start()
        time.sleep(delay)
        server.kill9()
        worker.join(timeout=30)
        answered = done.get("resp") is not None and done["resp"].status is not None
        check = store_check(server.data_dir)
        if "error" in check:
            problems.append(f"trial {trial}: store check failed: {check['error'][-300:]}")
        else:
            leftovers_max = max(leftovers_max, len(check["upload_leftovers"]))
            if check["orphan_chunks"] or check["orphan_records"]:
                problems.append(f"trial {trial} ({op}): orphan chunks {check['orphan_chunks']}, "
                                f"records {check['orphan_records']} in the catalog")
            for doc_id, ids in check["catalog"].items():
                if doc_id != target and check["chroma"].get(doc_id, []) != ids:
                    problems.append(f"trial {trial}: Chroma differs from the catalog for untouched {doc_id}")
            if check["chroma"].get(target, []) != check["catalog"].get(target, []):
                drift.append(f"trial {trial} {op} at {delay:.2f} s")
        server.start()
        restart_s.append(server.wait_ready())
        port = server.port
        now = full_state(port)
        if now == before:
            outcome = "old"
        elif now == after:
            outcome = "new"
        else:
            outcome = "MIXED"
            problems.append(f"trial {trial} ({op}, kill at {delay:.2f} s): state {now} is neither "
                            f"before {before} nor after {after}")
        if answered and outcome == "old" and done["resp"].status in (200, 201):
            problems.append(f"trial {trial} ({op}): the write was acknowledged ({done['resp'].status}) but is lost")
        outcomes[f"{op}->{outcome}"] += 1
        state = now if now is not None else before
        if op == "update" and outcome == "new":
            b_version = "B'" if b_version == "B" else "B"
        listed = set(state)
        for question in rng.sample(QUESTIONS, 3):
            for resp in (ask(port, question), http(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": question}))):
                if resp.status != 200:
                    problems.append(f"trial {trial}: {resp.status} on a question after the restart")
                stray = set(cited(resp)) - listed
                if stray:
                    problems.append(f"trial {trial}: answer cites unlisted {sorted(stray)}")
        print(f"    trial {trial + 1}/{trials}: {op} killed at {delay:.2f} s "
              f"(acknowledged: {answered}) -> {outcome}", flush=True)
    server.stop()
    final = store_check(server.data_dir)
    consistent = "error" not in final and final["catalog"] == {d: final["chroma"].get(d, []) for d in final["catalog"]} \
        and set(final["chroma"]) <= set(final["catalog"])
    if not consistent:
        problems.append(f"final: Chroma differs from the catalog: {str(final)[:500]}")
    figure = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    record(f"kill -9: {trials} trials wholly old or new", figure, not any("MIXED" in k for k in outcomes)
           and not problems, problems)
    record("kill -9: Chroma == catalog after restart", f"final consistent: {consistent}; "
           f"Chroma drift on the written plan right after a kill (repaired at start-up): {len(drift)}/{trials}",
           consistent)
    print(f"         restart to ready: median {sorted(restart_s)[len(restart_s) // 2]:.1f} s; upload temp dirs "
          f"left in uploads/ by killed uploads: max {leftovers_max} right after a kill, "
          f"{len(final.get('upload_leftovers', []))} at the end (informational)")


# --- 3. churn ------------------------------------------------------------------------------------------


def run_churn(server: Server, seconds: float, rng: random.Random) -> None:
    port = server.port
    static = set(doc_state(port) or {})
    cycled = {Path(PLAN_C).stem: (PLAN_C, (PLANS / PLAN_C).read_bytes()),
              Path(PLAN_D).stem: (PLAN_D, (PLANS / PLAN_D).read_bytes())}
    reference: dict[str, tuple[int, int]] = {}
    for doc_id, (name, data) in cycled.items():  # uninterrupted: the counts a listed plan must show
        resp = upload(port, name, data)
        body = resp.json() or {}
        reference[doc_id] = (body.get("chunks", -1), body.get("records", -1))
        delete(port, doc_id)
    for doc in list_docs(port) or []:
        reference[doc["id"]] = (doc["chunks"], doc["records"])
    lock = threading.Lock()
    counts: Counter[str] = Counter()
    errors: list[str] = []
    presence: dict[str, list[list[float]]] = {d: [] for d in cycled}  # [upload start, delete end]
    citations: list[tuple[str, float, float, str]] = []
    bad_lists: list[str] = []
    t_start = time.perf_counter()
    deadline = t_start + seconds
    now = time.perf_counter

    def note(kind: str, resp: Resp, ok_codes: tuple[int, ...] = (200, 201)) -> bool:
        with lock:
            counts[kind] += 1
            if resp.status not in ok_codes:
                errors.append(f"{kind}: {resp.status} {resp.error} {resp.body[:160]!r}")
                return False
        return True

    def asker(seed: int) -> None:
        r = random.Random(seed)
        while now() < deadline:
            question = r.choice(QUESTIONS)
            pick = r.random()
            t0 = now()
            if pick < 0.65:
                kind, resp = "ask", ask(port, question)
            elif pick < 0.9:
                kind = "search"
                resp = http(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": question, "k": 8}))
            else:
                kind = "chat"
                payload = {"model": "plan-assistant", "messages": [{"role": "user", "content": question}]}
                resp = http(port, "POST", "/v1/chat/completions", json.dumps(payload).encode(),
                            {"Content-Type": "application/json"})
            t1 = now()
            if note(kind, resp):
                with lock:
                    citations.extend((d, t0, t1, kind) for d in cited(resp))

    def cycler(doc_id: str) -> None:
        name, data = cycled[doc_id]
        r = random.Random(doc_id)
        while now() < deadline:
            t0 = now()
            with lock:
                presence[doc_id].append([t0, float("inf")])
            resp = upload(port, name, data)
            note("upload", resp)
            time.sleep(r.uniform(0, 0.5))
            resp = delete(port, doc_id)
            note("delete", resp)
            with lock:
                presence[doc_id][-1][1] = now()
            time.sleep(r.uniform(0, 0.3))

    def reader(seed: int) -> None:
        r = random.Random(seed)
        while now() < deadline:
            if r.random() < 0.5:
                t0 = now()
                resp = http(port, "GET", "/api/documents")
                t1 = now()
                if note("documents", resp) and isinstance(resp.json(), list):
                    for doc in resp.json():
                        ref = reference.get(doc["id"])
                        if ref is None or (doc["chunks"], doc["records"]) != ref:
                            with lock:
                                bad_lists.append(f"listed {doc['id']} with {doc['chunks']} chunks/"
                                                 f"{doc['records']} records, reference {ref}")
                        elif doc["id"] in cycled:
                            with lock:
                                citations.append((doc["id"], t0, t1, "documents"))
                    missing = static - {d["id"] for d in resp.json()}
                    if missing:
                        with lock:
                            bad_lists.append(f"static plans missing from the list: {sorted(missing)}")
            else:
                commune = r.choice(["", "Vũ Quang", "Phước An", "Hòa Điền"])
                t0 = now()
                resp = http(port, "GET", "/api/records?" + urllib.parse.urlencode({"commune": commune, "limit": 50}))
                t1 = now()
                if note("records", resp) and isinstance(resp.json(), list):
                    with lock:
                        citations.extend((rec["doc_id"], t0, t1, "records") for rec in resp.json()
                                         if isinstance(rec, dict) and "doc_id" in rec)

    threads = [threading.Thread(target=asker, args=(rng.random(),)) for _ in range(12)]
    threads += [threading.Thread(target=cycler, args=(d,)) for d in cycled]
    threads += [threading.Thread(target=reader, args=(rng.random(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    stray: list[str] = []
    for doc_id, t0, t1, kind in citations:
        if doc_id in static:
            continue
        spans = presence.get(doc_id)
        if spans is None or not any(s <= t1 and e >= t0 for s, e in spans):
            stray.append(f"{kind} at {t0 - t_start:.2f}-{t1 - t_start:.2f} s cites {doc_id} (present: "
                         f"{[(round(s - t_start, 2), round(e - t_start, 2)) for s, e in (spans or [])][:6]})")
    total = sum(counts.values())
    cycled_citations = sum(1 for c in citations if c[0] in cycled and c[3] not in ("documents",))
    figure = (f"{total} requests in {elapsed:.0f} s ({total / elapsed:.1f} req/s): "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; errors {len(errors)}")
    record("churn: 16 clients, no errors", figure, not errors and total > 0, errors)
    record("churn: citations only of listed plans", f"{len(citations)} cited/listed doc ids checked "
           f"({cycled_citations} of a cycled plan); stray {len(stray)}", not stray, stray)
    record("churn: no partially ingested plan listed", f"{len(bad_lists)} bad listings", not bad_lists, bad_lists)
    server.stop()
    final = store_check(server.data_dir)
    ok = "error" not in final and all(final["chroma"].get(d, []) == ids for d, ids in final["catalog"].items()) \
        and set(final["chroma"]) <= set(final["catalog"]) and not final["orphan_chunks"]
    record("churn: Chroma == catalog afterwards", f"{len(final.get('catalog', {}))} plans, consistent: {ok}", ok,
           [] if ok else [str(final)[:500]])


# --- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 kill trials, 20 s of churn (< 3 minutes)")
    parser.add_argument("--trials", type=int, help="kill -9 trials (default 5 quick, 20 otherwise)")
    parser.add_argument("--seconds", type=float, help="churn duration (default 20 quick, 60 otherwise)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs, data)")
    parser.add_argument("--check-store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check_store:
        return check_store_main(args.check_store)
    trials = args.trials or (5 if args.quick else 20)
    churn_s = args.seconds or (20.0 if args.quick else 60.0)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="plan-reliability-"))
    corpus = root / "corpus"
    corpus.mkdir()
    for name in (PLAN_A, PLAN_B):
        shutil.copy(PLANS / name, corpus / name)
    print(f"seed {seed}; temp dir {root}; {trials} kill trials; churn {churn_s:.0f} s", flush=True)
    servers: list[Server] = []
    try:
        open_server = Server(root, "open", corpus)
        keyed = Server(root, "keyed", corpus, [API_KEY])
        servers += [open_server, keyed]
        for s in servers:
            s.start()
        t = time.perf_counter()
        bomb = zip_bomb(900)
        forged = forge_sizes(bomb)
        print(f"zip bombs built in {time.perf_counter() - t:.1f} s: {len(bomb) / 1e6:.2f} MB -> 900 MB of XML",
              flush=True)
        for s in servers:
            s.wait_ready()
        print("\n1. hostile requests", flush=True)
        run_hostile(open_server, None, bomb, forged)
        run_hostile(keyed, API_KEY, bomb, forged)
        authorized_control(keyed, API_KEY)
        keyed.stop()
        print(f"\n2. kill -9 during writes ({trials} trials)", flush=True)
        run_kill_trials(root, corpus, trials, rng)
        print(f"\n3. churn ({churn_s:.0f} s, 16 clients)", flush=True)
        run_churn(open_server, churn_s, rng)
    except Exception as exc:  # noqa: BLE001 - a crash of the harness is a failed run, reported as such
        record("harness", f"{type(exc).__name__}: {exc}", False)
    finally:
        for s in SERVERS:
            s.stop()
        if not args.keep and all(c.ok for c in CHECKS):
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"\nkept {root} (server logs: *.log)")
    width = max(len(c.name) for c in CHECKS)
    print(f"\n{'check'.ljust(width)}  result  figure")
    for c in CHECKS:
        print(f"{c.name.ljust(width)}  {'PASS' if c.ok else 'FAIL'}    {c.figure}")
    failed = sum(not c.ok for c in CHECKS)
    print(f"\n{len(CHECKS) - failed}/{len(CHECKS)} checks passed in {time.perf_counter() - started:.0f} s (seed {seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
