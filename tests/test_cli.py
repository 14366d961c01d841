"""The `plan-assistant` command line, run in-process with typer's CliRunner against a data dir of
its own (PLAN_ASSISTANT_DATA_DIR / PLAN_ASSISTANT_MODELS_DIR): ingest (idempotent, bad files),
documents, remove, ask, eval and info.

Each command builds its own Services from the environment, as in production; to spare a model
load per command, most invocations share the session's embedder (``info`` loads its own)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import cli
from assistant.services import Services
from core.config import get_settings

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
HOA_DIEN = "xa-hoa-dien-an-giang-kh128-pii-2026"
HOA_DIEN_RECORDS = 31  # the facts read from the Hòa Điền plan (rows, duties, references, its closing clause …)


@dataclass
class CliEnv:
    runner: CliRunner
    env: dict[str, str]
    data_dir: Path
    plans: Path
    first_ingest: object

    def run(self, *args: str, data_dir: Path | None = None):
        env = dict(self.env)
        if data_dir is not None:
            env["PLAN_ASSISTANT_DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()  # settings are cached per process; ours come from env
        try:
            return self.runner.invoke(cli.app, list(args), env=env, catch_exceptions=False)
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, base_services: Services) -> Iterator[CliEnv]:
    root = tmp_path_factory.mktemp("cli")
    plans = root / "plans"
    plans.mkdir()
    shutil.copyfile(PLANS / f"{HOA_DIEN}.txt", plans / f"{HOA_DIEN}.txt")
    env = {
        "PLAN_ASSISTANT_DATA_DIR": str(root / "data"),
        "PLAN_ASSISTANT_MODELS_DIR": str(models_dir),
        "PLAN_ASSISTANT_LLM_BASE_URL": "",
        "COLUMNS": "220",
    }

    def services_sharing_the_embedder() -> Services:
        services = Services(get_settings())
        services.__dict__["embedder"] = base_services.embedder
        return services

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_services", services_sharing_the_embedder)
        state = CliEnv(CliRunner(), env, root / "data", plans, None)
        state.first_ingest = state.run("ingest", str(plans / f"{HOA_DIEN}.txt"))
        yield state
    get_settings.cache_clear()


def test_ingest_one_plan(cli_env: CliEnv) -> None:
    result = cli_env.first_ingest
    assert result.exit_code == 0, result.output
    assert re.search(rf"✓ .*{HOA_DIEN}\.txt: added — [1-9]\d* đoạn thêm, 0 đoạn xóa, 0 đoạn giữ nguyên, {HOA_DIEN_RECORDS} bản ghi",
                     result.output)
    assert "Tổng kết: 1 tệp (1 mới, 0 cập nhật, 0 không đổi, 0 lỗi)" in result.output


def test_ingest_again_changes_nothing(cli_env: CliEnv) -> None:
    added = int(re.search(r"added — (\d+) đoạn thêm", cli_env.first_ingest.output).group(1))
    result = cli_env.run("ingest", str(cli_env.plans))  # the folder this time: same file
    assert result.exit_code == 0, result.output
    assert f"{HOA_DIEN}.txt: unchanged — 0 đoạn thêm, 0 đoạn xóa, {added} đoạn giữ nguyên" in result.output
    assert "Tổng kết: 1 tệp (0 mới, 0 cập nhật, 1 không đổi, 0 lỗi); đoạn: 0 thêm, 0 xóa" in result.output


def test_a_bad_file_fails_and_is_named(cli_env: CliEnv, tmp_path: Path) -> None:
    bad = tmp_path / "ban-scan-loi.pdf"
    bad.write_bytes(bytes(range(256)) * 20)
    result = cli_env.run("ingest", str(bad), str(cli_env.plans))
    assert result.exit_code == 1
    assert re.search(r"✗ .*ban-scan-loi\.pdf: tệp không phải PDF hợp lệ", result.output)
    assert "Tổng kết: 2 tệp (0 mới, 0 cập nhật, 1 không đổi, 1 lỗi)" in result.output
    listed = json.loads(cli_env.run("documents", "--json").stdout)
    assert [d["doc_id"] for d in listed] == [HOA_DIEN]


def test_ingest_of_nothing_is_an_error(cli_env: CliEnv, tmp_path: Path) -> None:
    empty = tmp_path / "trong"
    empty.mkdir()
    result = cli_env.run("ingest", str(empty))
    assert result.exit_code == 1
    assert "không tìm thấy tệp kế hoạch nào" in result.output


def test_ingest_of_a_missing_path_is_an_error(cli_env: CliEnv, tmp_path: Path) -> None:
    result = cli_env.run("ingest", str(tmp_path / "khong-co.txt"))
    assert result.exit_code == 1
    assert "khong-co.txt: không tìm thấy tệp" in result.output


def test_documents_lists_the_plan(cli_env: CliEnv) -> None:
    result = cli_env.run("documents")
    assert result.exit_code == 0, result.output
    assert "1 kế hoạch" in result.output
    row = next(line for line in result.output.splitlines() if HOA_DIEN in line)
    for value in ("Hòa Điền", "An Giang", "128/KH-UBND", "20/5/2026", str(HOA_DIEN_RECORDS)):
        assert value in row

    result = cli_env.run("documents", "--json")
    assert result.exit_code == 0
    [doc] = json.loads(result.stdout)
    assert (doc["doc_id"], doc["filename"], doc["commune"], doc["province"]) == (
        HOA_DIEN, f"{HOA_DIEN}.txt", "Hòa Điền", "An Giang")
    assert doc["number"] == "128/KH-UBND" and doc["signer"] == "Hồ Thành Trương"
    assert doc["chunks"] > 0 and doc["records"] == HOA_DIEN_RECORDS


def test_remove_of_an_unknown_id_is_an_error(cli_env: CliEnv) -> None:
    result = cli_env.run("remove", "khong-co-ke-hoach-nay")
    assert result.exit_code != 0
    assert "không có kế hoạch mã 'khong-co-ke-hoach-nay'" in result.output
    assert len(json.loads(cli_env.run("documents", "--json").stdout)) == 1


def test_ask_prints_the_answer_and_its_sources(cli_env: CliEnv) -> None:
    result = cli_env.run("ask", "Công an xã Hòa Điền được giao nhiệm vụ gì?")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Nhiệm vụ của Công an xã (xã Hòa Điền)" in out
    assert "an ninh, an toàn thông tin" in out
    sources = re.findall(rf"^\[(\d+)\] xã Hòa Điền — {HOA_DIEN}\.txt, dòng (\d+)–(\d+) — ", out, re.MULTILINE)
    assert [int(n) for n, _, _ in sources] == list(range(1, len(sources) + 1))
    assert len(sources) == 5  # default_top_k
    assert all(int(a) <= int(b) for _, a, b in sources)
    assert re.search(r"\(điểm \d+\.\d{3}\)", out)
    assert re.search(r"^\d+ ms$", out, re.MULTILINE)


def test_ask_with_commune_and_top_k(cli_env: CliEnv) -> None:
    result = cli_env.run("ask", "Đơn vị nào tham mưu bố trí kinh phí?", "--commune", "Hòa Điền", "-k", "3")
    assert result.exit_code == 0, result.output
    assert "Phòng Kinh tế" in result.output
    assert len(re.findall(r"^\[\d+\] xã Hòa Điền — ", result.output, re.MULTILINE)) == 3


def test_ask_about_an_unknown_commune(cli_env: CliEnv) -> None:
    result = cli_env.run("ask", "Xã Tân Lập giao đơn vị nào chủ trì tuyên truyền?")
    assert result.exit_code == 0
    assert "Không tìm thấy thông tin về xã Tân Lập" in result.output
    assert "Các kế hoạch đã nạp thuộc các xã: Hòa Điền." in result.output


@pytest.mark.parametrize(("question", "message"), [("   ", "câu hỏi trống"), ("x" * 2001, "câu hỏi dài quá 2000 ký tự")])
def test_ask_rejects_bad_questions(cli_env: CliEnv, question: str, message: str) -> None:
    result = cli_env.run("ask", question)
    assert result.exit_code == 1
    assert message in result.output


def test_eval_on_a_small_gold_file(cli_env: CliEnv, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    items = [
        {"id": "c1", "question": "Công an xã Hòa Điền được giao nhiệm vụ gì?", "kind": "content",
         "communes": ["Hòa Điền"], "must_include": [["an ninh"]], "must_not_include": []},
        {"id": "c2", "question": "Ai ký kế hoạch của xã Hòa Điền?", "kind": "metadata", "communes": ["Hòa Điền"],
         "must_include": [["Hồ Thành Trương"]], "must_not_include": []},
        {"id": "c3", "question": "Xã Hòa Điền phấn đấu bao nhiêu hộ dân dùng điện mặt trời năm 2035?",
         "kind": "unanswerable", "communes": [], "must_include": [], "must_not_include": []},
    ]
    gold.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
    result = cli_env.run("eval", str(gold), "--verbose")
    assert result.exit_code == 0, result.output
    assert "answer accuracy 100.0% (3/3)" in result.output
    assert "source hit@5: 100.0%" in result.output

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x"}\n', encoding="utf-8")
    result = cli_env.run("eval", str(broken))
    assert result.exit_code == 1 and "tệp câu hỏi chuẩn không hợp lệ" in result.output


def test_remove_deletes_a_plan(cli_env: CliEnv, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    plan = tmp_path / "tan-lap.txt"
    plan.write_text("ỦY BAN NHÂN DÂN\nXÃ TÂN LẬP\n\nKẾ HOẠCH\nTập huấn kỹ năng số năm 2026\n\n"
                    "I. TỔ CHỨC THỰC HIỆN\n1. Phòng Văn hóa - Xã hội\n- Tổ chức tập huấn kỹ năng số cho người dân.\n",
                    encoding="utf-8")
    assert cli_env.run("ingest", str(plan), data_dir=data_dir).exit_code == 0
    assert [d["doc_id"] for d in json.loads(cli_env.run("documents", "--json", data_dir=data_dir).stdout)] == ["tan-lap"]
    result = cli_env.run("remove", "tan-lap", data_dir=data_dir)
    assert result.exit_code == 0 and "Đã xóa tan-lap." in result.output
    assert json.loads(cli_env.run("documents", "--json", data_dir=data_dir).stdout) == []
    assert cli_env.run("remove", "tan-lap", data_dir=data_dir).exit_code == 1


def test_info_with_its_own_services(cli_env: CliEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # the production path: Services(get_settings()) loading the model from PLAN_ASSISTANT_MODELS_DIR
    monkeypatch.setattr(cli, "_services", lambda: Services(get_settings()))
    result = cli_env.run("info")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Thư mục dữ liệu: {cli_env.data_dir}" in out
    assert "Chroma: embedded" in out and "bộ sưu tập 'plan_chunks'" in out
    assert "Mô hình nhúng: intfloat/multilingual-e5-small" in out
    assert "LLM: không cấu hình (trả lời trích xuất)" in out
    assert re.search(rf"Kế hoạch: 1; xã: Hòa Điền; đoạn: [1-9]\d*; bản ghi: {HOA_DIEN_RECORDS}", out)


def test_no_arguments_shows_help(cli_env: CliEnv) -> None:
    result = cli_env.run()
    assert "ingest" in result.output and "documents" in result.output and "ask" in result.output
