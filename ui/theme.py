"""Look of the UI: a theme with local fonts that carry Vietnamese diacritics, and the page CSS.

No web fonts: the UI must work offline (commune offices), so only fonts installed on the
officer's machine are named (Segoe UI on Windows, Roboto/Noto on Android, system fonts on macOS).
"""

from __future__ import annotations

import json

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
        checkbox_label_background_fill_selected="*primary_700",  # white on blue-500 is 3.7:1
        # dark mode: grey-400 helper text is 4.0:1 on the inputs' grey-700, the placeholders 2.1:1
        body_text_color_subdued_dark="*neutral_300",
        input_placeholder_color_dark="*neutral_300",
    )


# "[n]" links and the ring of the card they open (text at >= 4.5:1, see tests/ui/test_render.py):
# blue-700 and blue-900 on the light chat, blue-300 and blue-200 on the dark one; the opened card's
# number is white on blue-700 in both.
CITE_COLOUR = "#1d4ed8"
CITE_HOVER_COLOUR = "#1e3a8a"
CITE_DARK_COLOUR = "#93c5fd"
CITE_DARK_HOVER_COLOUR = "#bfdbfe"

CSS = """
.gradio-container { width: 100% !important; max-width: 1200px !important; margin: 0 auto !important; }
.gradio-container, .gradio-container * { line-height: 1.55; }
footer { display: none !important; }

/* header */
.pa-header { padding: 6px 2px 2px; }
.pa-title { font-size: 1.55rem; font-weight: 700; color: var(--primary-700); margin: 0; line-height: 1.3; }
.dark .pa-title { color: var(--primary-300); }
.pa-subtitle { color: var(--body-text-color-subdued); margin-top: 2px; }
.pa-chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.pa-chip { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: .88rem;
  background: var(--neutral-100); color: var(--neutral-700); border: 1px solid var(--neutral-200); }
.pa-chip-main { background: var(--primary-50); color: var(--primary-700); border-color: var(--primary-200);
  font-weight: 600; }
.pa-chip-ok { background: #ecfdf5; color: #047857; border-color: #a7f3d0; }
.pa-corpus { margin-top: 6px; font-size: .9rem; color: var(--body-text-color-subdued); }

/* the open tab's name: Gradio writes it in the accent colour (blue-500 on white, 3.7:1) */
.tab-wrapper button[role="tab"].selected { color: var(--primary-700); }
.dark .tab-wrapper button[role="tab"].selected { color: var(--primary-300); }

/* chat */
#pa-chat .message { font-size: 1rem; }
#pa-chat .message-wrap .prose.chatbot.md { opacity: 1; }  /* Gradio dims messages to .8: "[n]" fell to 4.3:1 */
#pa-chat .message-wrap { overflow-wrap: anywhere; }
/* the chat's own clear button (its top panel holds only that one): "Hội thoại mới" does it, and also
   drops the questions waiting */
#pa-chat .icon-button-wrapper.top-panel { display: none; }
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
.pa-src mark { background: #fde68a; color: #1e293b; padding: 0 1px; border-radius: 2px; }  /* dark text, dark mode too */
.pa-src-meta { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 4px; }
details.pa-src-more { margin-top: 8px; }
details.pa-src-more > summary { cursor: pointer; font-weight: 600; font-size: .92rem; padding: 4px 2px;
  color: var(--body-text-color-subdued); }
/* "[n]" in an answer opens card n (CITE_SCRIPT); the card it opened is ringed */
#pa-chat a.pa-cite { color: var(--pa-cite); font-weight: 600; text-decoration: underline;
  text-underline-offset: 2px; }
#pa-chat a.pa-cite:hover { color: var(--pa-cite-hover); }
#pa-chat a.pa-cite:focus-visible { outline: 2px solid var(--pa-cite); outline-offset: 1px; border-radius: 2px; }
details.pa-src.pa-src-hit { border-color: var(--pa-cite); box-shadow: 0 0 0 2px var(--pa-cite); }
details.pa-src.pa-src-hit .pa-src-no { background: var(--pa-cite-badge); color: #ffffff; }

/* tables: the theme's monospace font has no Vietnamese diacritics */
.pa-table table, .pa-table td, .pa-table th, .pa-table input, .pa-table span {
  font-family: var(--font) !important; font-size: .92rem; }
.pa-table .cell-menu-button { display: none !important; }  /* English menu; "Sắp xếp theo" does it */
#pa-chat .example { white-space: normal !important; text-align: left; border: 1px solid var(--border-color-primary);
  border-radius: 10px; background: var(--background-fill-secondary); padding: 8px 12px; }
#pa-chat .example:hover { border-color: var(--color-accent); }
#doc-upload { min-height: 64px; }

/* records: a card per row on phones (render.record_cards_html), the table on wider screens */
#rec-cards { display: none; }
ul.pa-rec-cards { list-style: none; margin: 0; padding: 0; }
li.pa-rec-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
  margin: 0 0 8px; background: var(--background-fill-primary); overflow-wrap: anywhere; }
.pa-rec-title { font-weight: 600; margin: 0 0 4px; }
.pa-rec-kind { display: inline-block; font-size: .8rem; font-weight: 600; padding: 0 8px; margin-right: 6px;
  border-radius: 999px; background: var(--primary-50); color: var(--primary-700); }
dl.pa-rec-fields { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0;
  font-size: .92rem; }
dl.pa-rec-fields dt { color: var(--body-text-color-subdued); }
dl.pa-rec-fields dd { margin: 0; }
.pa-rec-more { color: var(--body-text-color-subdued); font-size: .92rem; }
.pa-count { color: var(--body-text-color-subdued); font-size: .92rem; }
.pa-results ul { margin: 0; padding-left: 0; list-style: none; }
.pa-ok { color: #047857; }
.pa-err { color: #b91c1c; }

/* drafting preview */
#pa-draft-preview { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 16px;
  max-height: 640px; overflow-y: auto; background: var(--background-fill-primary);
  scroll-margin-top: 64px; }  /* scrolled to (ui.app.SHOW_PREVIEW_JS): the download button above stays in view */

/* phone width */
@media (max-width: 640px) {
  .pa-title { font-size: 1.25rem; }
  .pa-subtitle { font-size: .9rem; }
  .pa-corpus { display: none; }
  #pa-chat { height: calc(100dvh - 500px) !important; }  /* the input row stays on the first screen */
  .tab-wrapper .tab-container button { padding-left: 7px !important; padding-right: 7px !important;
    font-size: .9rem !important; }
  summary .pa-src-section { display: none; }
  #rec-table { display: none !important; }
  #rec-cards { display: block !important; }
}
@media (min-width: 641px) {
  .pa-src-body .pa-src-section { display: none; }  /* the summary shows it */
}
""" + (  # the citation colours, light and dark
    f"#pa-chat {{ --pa-cite: {CITE_COLOUR}; --pa-cite-hover: {CITE_HOVER_COLOUR}; --pa-cite-badge: {CITE_COLOUR}; }}\n"
    f".dark #pa-chat {{ --pa-cite: {CITE_DARK_COLOUR}; --pa-cite-hover: {CITE_DARK_HOVER_COLOUR}; }}\n"
)

# Gradio scopes ``css`` rules inside media queries to its content (``.contain``); the page frame
# around it is styled from the page head instead.
# The page is Vietnamese (Gradio writes lang="en"): screen readers, spell checking and
# hyphenation follow ``lang``. The icon is served by the app (``ui.app.mount_ui``).
LANG_SCRIPT = '<script>document.documentElement.lang = "vi";</script>'
FAVICON_LINK = '<link rel="icon" type="image/png" href="/favicon.ico">'
# "[n]" in an answer becomes a link to card n under it, in the browser: the message itself stays
# plain text (its copy button copies the content as sent, and the chat's sanitizer drops aria-label).
# The cards message follows its answer; it names the cards ``data-pa-src="n"``
# (``render.sources_html``). A click opens the card (and any closed <details> around it), scrolls it
# into view and rings it (.pa-src-hit), leaving the page's URL alone.
CITE_SCRIPT = """<script>
(() => {
  const BOT = '#pa-chat [data-testid="bot"]';
  const CITE = /\\[(\\d+)\\]/;
  const linkify = (answer, box) => {
    const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (CITE.test(node.data) && !node.parentElement.closest("a, code, pre, button, textarea")) found.push(node);
    }
    for (const node of found) {
      const parts = node.data.split(/(\\[\\d+\\])/);
      const out = document.createDocumentFragment();
      let linked = false;
      for (const part of parts) {
        const n = (CITE.exec(part) || [])[1];
        const card = n && box.querySelector(`details.pa-src[data-pa-src="${n}"]`);
        if (card && card.id) {
          const link = document.createElement("a");
          link.className = "pa-cite";
          link.href = "#" + card.id;
          link.textContent = part;
          link.setAttribute("aria-label", `Mở nguồn ${n}`);
          link.title = `Mở nguồn ${n}`;
          out.append(link);
          linked = true;
        } else if (part) {
          out.append(part);
        }
      }
      if (linked) node.replaceWith(out);
    }
  };
  const sync = () => {
    const bots = [...document.querySelectorAll(BOT)];
    for (const box of document.querySelectorAll("#pa-chat .pa-sources[data-pa-answer]")) {
      const answer = bots[bots.indexOf(box.closest('[data-testid="bot"]')) - 1];
      if (answer && !answer.querySelector(".pa-sources")) linkify(answer, box);
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; sync(); });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  const reveal = (card) => {
    for (let el = card; el; el = el.parentElement && el.parentElement.closest("details")) el.open = true;
    for (const old of document.querySelectorAll(".pa-src-hit")) old.classList.remove("pa-src-hit");
    card.classList.add("pa-src-hit");
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    const summary = card.querySelector("summary");
    if (summary) summary.focus({ preventScroll: true });
  };
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("a.pa-cite");
    const card = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!card) return;
    event.preventDefault();
    reveal(card);
  });
})();
</script>"""
# Gradio's own names and words (aria-label, title, placeholder, a few texts on screen) are English:
# most are written into its components, and its i18n dictionaries have no Vietnamese and follow the
# browser's language. The page translates them as they appear (VI_SCRIPT): exact phrases, and the
# patterns of the composed ones ("Select example 2: <question>"). Svelte sets an attribute again only
# when its own value changes, and the observer translates it again then.
GRADIO_VI: dict[str, str] = {
    # chat
    "chatbot conversation": "Hội thoại với trợ lý",
    "Chatbot": "Trợ lý",
    "Copy message": "Sao chép tin nhắn",
    "Copied message": "Đã sao chép tin nhắn",
    "Copy": "Sao chép",
    "Copied": "Đã sao chép",
    "Clear": "Xóa",
    "Retry": "Hỏi lại",
    "Undo": "Hoàn tác",
    "Edit": "Sửa",
    "Like": "Thích",
    "Dislike": "Không thích",
    "Loading response": "Đang soạn câu trả lời",
    "Submit": "Gửi",
    "Stop": "Dừng",
    # tables
    "Dataframe": "Bảng dữ liệu",
    "Table actions": "Thao tác với bảng",
    "Copy table data": "Sao chép dữ liệu bảng",
    "Copied table data": "Đã sao chép dữ liệu bảng",
    "Fullscreen": "Toàn màn hình",
    "Exit fullscreen": "Thoát toàn màn hình",
    "Open cell menu": "Mở danh mục thao tác của ô",
    "Sort ascending": "Sắp xếp tăng dần",
    "Sort descending": "Sắp xếp giảm dần",
    "Clear sort": "Bỏ sắp xếp",
    "Filter": "Lọc",
    "Clear filters": "Bỏ lọc",
    "Empty value": "Ô trống",
    # inputs, files, tabs
    "Textbox": "Ô nhập",
    "Dropdown": "Danh sách chọn",
    "Checkbox": "Ô đánh dấu",
    "Radio": "Lựa chọn",
    "No results": "Không có kết quả",
    "More tabs": "Các thẻ khác",
    "File upload": "Tải tệp lên",
    "Upload file": "Tải tệp lên",
    "Upload a file": "Tải tệp lên",
    "Uploading": "Đang tải lên",
    "Uploading...": "Đang tải lên…",
    "Uploaded files": "Các tệp đã tải lên",
    "Drop File Here": "Thả tệp vào đây",
    "Click to Upload": "Bấm để tải lên",
    "- or -": "- hoặc -",
    "Remove file": "Bỏ tệp",
    "Remove this file": "Bỏ tệp này",
    "Download": "Tải về",
    # messages, progress
    "Close": "Đóng",
    "Dismiss": "Đóng",
    "Error": "Lỗi",
    "Warning": "Cảnh báo",
    "Info": "Thông tin",
    "Success": "Thành công",
    "Loading": "Đang tải",
    "Loading...": "Đang tải…",
    "Loading Progress": "Tiến độ",
    "processing |": "đang xử lý |",
}
GRADIO_VI_PATTERNS: list[tuple[str, str]] = [  # (JavaScript RegExp, replacement)
    (r"^Select example (\d+)", "Câu hỏi mẫu $1"),
    (r"^bot's message: a component of type \S+$", "Tin nhắn của trợ lý: các đoạn nguồn"),  # the cards
    (r"^bot's message: ", "Câu trả lời: "),
    (r"^user's message: ", "Câu hỏi: "),
    (r"^queue: ", "hàng đợi: "),
]
# ARIA that Gradio leaves wrong (axe rules): the chat's example questions are a "list" of buttons
# (aria-required-children); the draft preview scrolls but takes no focus (scrollable-region-focusable)
ARIA_FIXES: list[tuple[str, dict[str, str]]] = [
    ('#pa-chat .examples[role="list"]', {"role": "group", "aria-label": "Câu hỏi mẫu"}),
    ("#pa-draft-preview", {"tabindex": "0", "role": "region", "aria-label": "Bản xem trước dự thảo"}),
]
_VI_SCRIPT_TEMPLATE = """<script>
(() => {
  const WORDS = __WORDS__;
  const PATTERNS = __PATTERNS__.map(([source, to]) => [new RegExp(source), to]);
  const ARIA_FIXES = __ARIA_FIXES__;
  const ATTRS = ["aria-label", "title", "placeholder", "alt", "aria-roledescription"];
  const CONTENT = '[data-testid="bot"], [data-testid="user"], td, .prose, textarea';  // text that is ours
  const translate = (value) => {
    const key = value.trim();
    if (Object.hasOwn(WORDS, key)) return value.replace(key, WORDS[key]);
    for (const [pattern, to] of PATTERNS) if (pattern.test(key)) return value.replace(pattern, to);
    return value;
  };
  const fixAttributes = (el) => {
    for (const name of ATTRS) {
      const value = el.getAttribute(name);
      if (value) {
        const done = translate(value);
        if (done !== value) el.setAttribute(name, done);
      }
    }
    for (const [selector, attrs] of ARIA_FIXES) {
      if (!el.matches(selector)) continue;
      for (const [name, value] of Object.entries(attrs)) {
        if (el.getAttribute(name) !== value) el.setAttribute(name, value);  // a same-value set is a mutation too
      }
    }
  };
  const fixText = (node) => {
    const parent = node.parentElement;
    if (!parent || parent.closest(CONTENT)) return;
    const done = translate(node.data);
    if (done !== node.data) node.data = done;
  };
  const fixTree = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return fixText(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    fixAttributes(root);
    for (const el of root.querySelectorAll("*")) fixAttributes(el);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) fixText(node);
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") fixAttributes(record.target);
      else if (record.type === "characterData") fixText(record.target);
      else for (const node of record.addedNodes) fixTree(node);
    }
  }).observe(document.documentElement, {
    childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ATTRS,
  });
  fixTree(document.documentElement);
})();
</script>"""
VI_SCRIPT = (
    _VI_SCRIPT_TEMPLATE.replace("__WORDS__", json.dumps(GRADIO_VI, ensure_ascii=False))
    .replace("__PATTERNS__", json.dumps(GRADIO_VI_PATTERNS, ensure_ascii=False))
    .replace("__ARIA_FIXES__", json.dumps(ARIA_FIXES, ensure_ascii=False))
)
HEAD = LANG_SCRIPT + FAVICON_LINK + CITE_SCRIPT + VI_SCRIPT + """<style>
@media (max-width: 640px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>"""
