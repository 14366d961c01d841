"""Text in the theme reads at WCAG AA contrast (>= 4.5:1) on the background it sits on; Gradio's English
names are translated."""

from __future__ import annotations

import json
import re

import pytest
from a11y import english_words

from ui.theme import GRADIO_VI, GRADIO_VI_PATTERNS, HEAD, VI_SCRIPT, make_theme


def resolve(theme: object, value: str, dark: bool = False) -> str:
    """A theme value with its '*name' references followed to a colour (in dark mode a reference
    names the variable's dark value, as in the page's CSS)."""
    while value.startswith("*"):
        name = value[1:]
        value = (dark and getattr(theme, f"{name}_dark", None)) or getattr(theme, name)
    return value


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


WHITE = "#ffffff"


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("body_text_color", WHITE),
        ("body_text_color_subdued", WHITE),
        ("block_info_text_color", WHITE),
        ("input_placeholder_color", WHITE),
        ("block_title_text_color", WHITE),
        ("block_label_text_color", "block_label_background_fill"),
        ("button_primary_text_color", "button_primary_background_fill"),
        ("button_primary_text_color", "button_primary_background_fill_hover"),
        ("checkbox_label_text_color_selected", "checkbox_label_background_fill_selected"),  # a chosen radio
    ],
)
def test_text_reads_at_aa_contrast(text: str, background: str) -> None:
    theme = make_theme()
    colour = resolve(theme, getattr(theme, text))
    ground = background if background.startswith("#") else resolve(theme, getattr(theme, background))
    if colour == "white":
        colour = WHITE
    assert contrast(colour, ground) >= 4.5, (text, colour, background, ground)


# --- Gradio's English names, translated in the page (ui.theme.VI_SCRIPT) --------------------------------


def test_every_gradio_name_is_caught_by_the_english_check_and_translated_into_vietnamese() -> None:
    """The translation table and the browser test's English check agree: each English phrase the page
    translates is one the check would flag, and no translation would be flagged."""
    for english, vietnamese in GRADIO_VI.items():
        assert english_words(english), english
        assert not english_words(vietnamese), (english, vietnamese)
    for _, replacement in GRADIO_VI_PATTERNS:
        assert not english_words(replacement), replacement


@pytest.mark.parametrize(
    ("name", "translated"),
    [
        ("Select example 2: Tỷ lệ phủ sóng 5G?", "Câu hỏi mẫu 2: Tỷ lệ phủ sóng 5G?"),
        ("bot's message: a component of type html", "Tin nhắn của trợ lý: các đoạn nguồn"),
        ("bot's message: Phòng Kinh tế chủ trì [1].", "Câu trả lời: Phòng Kinh tế chủ trì [1]."),
        ("user's message: ai chủ trì?", "Câu hỏi: ai chủ trì?"),
        ("queue: 2/3 |", "hàng đợi: 2/3 |"),
    ],
)
def test_composed_names_are_translated_by_their_pattern(name: str, translated: str) -> None:
    """The first pattern that matches (as the page's script tries them) gives the Vietnamese name;
    JavaScript's "$1" is Python's "\\1"."""
    pattern, replacement = next((p, r) for p, r in GRADIO_VI_PATTERNS if re.search(p, name))
    assert re.sub(pattern, replacement.replace("$1", r"\1"), name, count=1) == translated
    assert english_words(name) and not english_words(translated)


def test_the_page_script_carries_the_tables() -> None:
    assert VI_SCRIPT in HEAD
    assert "__WORDS__" not in VI_SCRIPT and json.dumps(GRADIO_VI, ensure_ascii=False) in VI_SCRIPT
    assert '"#pa-draft-preview"' in VI_SCRIPT and '"tabindex": "0"' in VI_SCRIPT


def test_the_english_check_flags_what_gradio_writes() -> None:
    for name in ("Open cell menu", "Copy message", "Drop File Here", "- or -", "Textbox", "More tabs"):
        assert english_words(name), name
    for name in ("Mở danh mục thao tác của ô", "Tải bản Word (.docx)", "Tải Excel (.xlsx)", "xa vu quang giao nhiem vu gi cho cong an xa"):
        assert not english_words(name), name


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("body_text_color_subdued_dark", "body_background_fill_dark"),
        ("body_text_color_subdued_dark", "input_background_fill_dark"),  # a dropdown's empty choice
        ("block_info_text_color_dark", "body_background_fill_dark"),
        ("input_placeholder_color_dark", "input_background_fill_dark"),
        ("checkbox_label_text_color_selected_dark", "checkbox_label_background_fill_selected_dark"),
    ],
)
def test_text_reads_at_aa_contrast_in_dark_mode(text: str, background: str) -> None:
    theme = make_theme()
    colour = resolve(theme, getattr(theme, text), dark=True)
    ground = resolve(theme, getattr(theme, background), dark=True)
    colour = WHITE if colour == "white" else colour
    assert contrast(colour, ground) >= 4.5, (text, colour, background, ground)
