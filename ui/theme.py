"""Look of the UI: a theme with local fonts that carry Vietnamese diacritics, and the page CSS.

No web fonts: the UI must work offline (commune offices), so only fonts installed on the
officer's machine are named (Segoe UI on Windows, Roboto/Noto on Android, system fonts on macOS).
"""

from __future__ import annotations

import gradio as gr

FONT_STACK = [
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "Helvetica Neue",
    "Liberation Sans",
    "DejaVu Sans",
    "Arial",
    "sans-serif",
]
MONO_STACK = ["Consolas", "Liberation Mono", "DejaVu Sans Mono", "monospace"]


def make_theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="blue",
        secondary_hue="sky",
        neutral_hue="slate",
        font=[gr.themes.Font(name) for name in FONT_STACK],
        font_mono=[gr.themes.Font(name) for name in MONO_STACK],
    ).set(
        body_text_size="16px",
        block_title_text_weight="600",
        # text at >= 4.5:1 (WCAG AA): the Soft theme's grey helper text and blue labels are 2.6-3.7:1
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
    )


CSS = """
.gradio-container { width: 100% !important; max-width: 1200px !important; margin: 0 auto !important; }
.gradio-container, .gradio-container * { line-height: 1.55; }
footer { display: none !important; }

/* header */
.pa-header { padding: 6px 2px 2px; }
.pa-title { font-size: 1.55rem; font-weight: 700; color: var(--primary-700); }
.pa-subtitle { color: var(--body-text-color-subdued); margin-top: 2px; }
.pa-chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.pa-chip { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: .88rem;
  background: var(--neutral-100); color: var(--neutral-700); border: 1px solid var(--neutral-200); }
.pa-chip-main { background: var(--primary-50); color: var(--primary-700); border-color: var(--primary-200);
  font-weight: 600; }
.pa-chip-ok { background: #ecfdf5; color: #047857; border-color: #a7f3d0; }
.pa-corpus { margin-top: 6px; font-size: .9rem; color: var(--body-text-color-subdued); }

/* chat */
#pa-chat .message { font-size: 1rem; }
#pa-chat .message-wrap { overflow-wrap: anywhere; }
#pa-chat button[aria-label="Clear"] { display: none; }  /* "Hội thoại mới" does it, in Vietnamese */
.pa-hint { margin: 6px 0 10px; padding: 8px 12px; border-left: 4px solid #f59e0b; background: #fffbeb;
  color: #78350f; border-radius: 6px; }

/* source cards */
.pa-sources { width: 100%; }
.pa-sources-head { font-weight: 600; font-size: .92rem; color: var(--body-text-color-subdued);
  margin-bottom: 4px; }
details.pa-src { border: 1px solid var(--border-color-primary); border-radius: 8px; margin: 6px 0;
  background: var(--background-fill-primary); overflow: hidden; }
details.pa-src > summary { cursor: pointer; padding: 6px 10px; display: block; list-style: none; }
details.pa-src > summary::-webkit-details-marker { display: none; }
details.pa-src > summary::before { content: "▸"; color: var(--color-accent); margin-right: 6px; }
details.pa-src[open] > summary::before { content: "▾"; }
.pa-src-no { display: inline-block; min-width: 1.6em; text-align: center; border-radius: 999px; margin-right: 6px;
  background: var(--primary-100); color: var(--primary-700); font-weight: 700; font-size: .85rem; }
.pa-src-commune { font-weight: 600; margin-right: 8px; }
.pa-src-section { color: var(--body-text-color-subdued); font-size: .9rem; }
.pa-src-snippet { display: block; color: var(--body-text-color-subdued); font-size: .92rem; margin-top: 2px;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
details.pa-src[open] .pa-src-snippet { display: none; }
.pa-src-plan { font-size: .92rem; margin-bottom: 4px; }
.pa-src-body { padding: 0 12px 10px; }
blockquote.pa-src-text { margin: 0; padding: 6px 10px; border-left: 3px solid var(--primary-300);
  background: var(--background-fill-secondary); white-space: pre-wrap; overflow-wrap: anywhere;
  max-height: 260px; overflow-y: auto; font-size: .95rem; }
.pa-src mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pa-src-meta { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 4px; }

/* tables: the theme's monospace font has no Vietnamese diacritics */
.pa-table table, .pa-table td, .pa-table th, .pa-table input, .pa-table span {
  font-family: var(--font) !important; font-size: .92rem; }
.pa-table .cell-menu-button { display: none !important; }  /* English menu; "Sắp xếp theo" does it */
#pa-chat .example { white-space: normal !important; text-align: left; border: 1px solid var(--border-color-primary);
  border-radius: 10px; background: var(--background-fill-secondary); padding: 8px 12px; }
#pa-chat .example:hover { border-color: var(--color-accent); }
#doc-upload { min-height: 64px; }
.pa-count { color: var(--body-text-color-subdued); font-size: .92rem; }
.pa-results ul { margin: 0; padding-left: 0; list-style: none; }
.pa-ok { color: #047857; }
.pa-err { color: #b91c1c; }

/* drafting preview */
#pa-draft-preview { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 16px;
  max-height: 640px; overflow-y: auto; background: var(--background-fill-primary); }

/* phone width */
@media (max-width: 640px) {
  .pa-title { font-size: 1.25rem; }
  .pa-subtitle { font-size: .9rem; }
  .pa-corpus { display: none; }
  #pa-chat { height: calc(100dvh - 500px) !important; }  /* the input row stays on the first screen */
  .tab-wrapper .tab-container button { padding-left: 7px !important; padding-right: 7px !important;
    font-size: .9rem !important; }
  summary .pa-src-section { display: none; }
}
@media (min-width: 641px) {
  .pa-src-body .pa-src-section { display: none; }  /* the summary shows it */
}
"""

# Gradio scopes ``css`` rules inside media queries to its content (``.contain``); the page frame
# around it is styled from the page head instead.
# The page is Vietnamese (Gradio writes lang="en"): screen readers, spell checking and
# hyphenation follow ``lang``. The icon is served by the app (``ui.app.mount_ui``).
LANG_SCRIPT = '<script>document.documentElement.lang = "vi";</script>'
FAVICON_LINK = '<link rel="icon" type="image/png" href="/favicon.ico">'
HEAD = LANG_SCRIPT + FAVICON_LINK + """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>"""
