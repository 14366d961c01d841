"""Text in the theme reads at WCAG AA contrast (>= 4.5:1) on the background it sits on."""

from __future__ import annotations

import pytest

from ui.theme import make_theme


def resolve(theme: object, value: str) -> str:
    """A theme value with its '*name' references followed to a colour."""
    while value.startswith("*"):
        value = getattr(theme, value[1:])
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
    ],
)
def test_text_reads_at_aa_contrast(text: str, background: str) -> None:
    theme = make_theme()
    colour = resolve(theme, getattr(theme, text))
    ground = background if background.startswith("#") else resolve(theme, getattr(theme, background))
    if colour == "white":
        colour = WHITE
    assert contrast(colour, ground) >= 4.5, (text, colour, background, ground)
