"""Accessibility checks for the browser test: axe-core in the page, and no English name left by Gradio.

axe-core comes from the ``axe-playwright-python`` package (its bundled ``axe.min.js``, see the ``test``
extras); the English check reads every accessible name, title and placeholder and the visible text
of every control, and looks for words of a small English list.
"""

from __future__ import annotations

import re
from typing import Any

# Words of Gradio's English names ("Open cell menu", "Select example 1", "Drop File Here", …); none
# is a Vietnamese word, and none is in the plans' unit or file names.
ENGLISH_WORDS = frozenset(
    [
        "actions", "ascending", "bot", "cell", "chatbot", "checkbox", "clear", "click", "close",
        "column", "component", "conversation", "copied", "copy", "data", "dataframe", "descending",
        "dislike", "dismiss", "download", "drop", "dropdown", "edit", "empty", "error", "example",
        "exit", "file", "files", "filter", "filters", "fullscreen", "here", "info", "like",
        "loading", "menu", "message", "more", "open", "or", "processing", "progress", "queue",
        "radio", "remove", "response", "results", "retry", "row", "select", "sort", "stop",
        "submit", "success", "table", "tabs", "textbox", "this", "type", "undo", "upload",
        "uploaded", "uploading", "user", "value", "warning",
    ]
)
_WORD_RE = re.compile(r"\w+")  # Unicode words: "Mở" is one word, not "M"

# Serious or critical axe rules that a Gradio internal breaks and the page cannot mend, each with why;
# empty: every such violation fails the test.
EXCLUDED_RULES: dict[str, str] = {}
FAILING_IMPACTS = ("serious", "critical")

# [where, text] of every name an officer's browser or screen reader meets: the ARIA name, title,
# placeholder and alt of any element (shown or not: a hidden tab's controls are met later), the text
# of the controls, and the labels (with their visually hidden parts). Chat messages and table cells
# are the plans' text, not names.
NAMES_JS = """() => {
  const out = [];
  const ATTRS = ["aria-label", "title", "placeholder", "alt", "aria-roledescription"];
  for (const el of document.querySelectorAll(ATTRS.map((a) => `[${a}]`).join(","))) {
    for (const name of ATTRS) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push([`${el.tagName.toLowerCase()}[${name}]`, value]);
    }
  }
  const CONTENT = '[data-testid="bot"], [data-testid="user"], td';
  const CONTROLS = 'button, [role="button"], [role="tab"], [role="option"], summary, label, [data-testid="block-info"]';
  for (const el of document.querySelectorAll(CONTROLS)) {
    if (el.closest(CONTENT)) continue;
    const text = (el.matches("label, [data-testid='block-info']") ? el.textContent : el.innerText || "").trim();
    if (text) out.push([`${el.tagName.toLowerCase()} text`, text]);
  }
  return out;
}"""


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are in the English list (case-insensitive)."""
    return [w for w in _WORD_RE.findall(text) if w.lower() in ENGLISH_WORDS]


def english_names(page: Any) -> list[str]:
    """Names in the page that carry an English word, as 'where: text'."""
    found = []
    for where, text in page.evaluate(NAMES_JS):
        if english_words(text):
            found.append(f"{where}: {text[:120]!r}")
    return sorted(set(found))


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core violations in the page (minus ``EXCLUDED_RULES``), one line each."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['id']} ({v['impact']}): "
        + "; ".join(f"{' '.join(map(str, n['target']))} {n.get('failureSummary', '')!r}"[:300] for n in v["nodes"][:3])
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS and v["id"] not in EXCLUDED_RULES
    ]
