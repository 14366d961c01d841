"""Optional LLM pass: every section of an assembled draft is rewritten into fluent text.

An LCEL chain (prompt from ``prompts/draft_section.md`` | ChatOpenAI | string parser) runs once
per section, in parallel, each call bounded by ``settings.llm_timeout_s``. A rewrite is accepted
only when it keeps the section's structure (its sub-headings), every placeholder ``[…]`` and
every number of the original, and names no other commune; otherwise the assembled text stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from assistant.drafting.model import PLAN_TYPES, Block, DraftRequest, DraftSection
from core.config import PROMPTS_DIR, Settings

PROMPT_FILE = PROMPTS_DIR / "draft_section.md"
USER_MARKER = "---user---"
_HEADING_RE = re.compile(r"^(\d+(?:\.\d+)*)\.\s+\S")
_PLACEHOLDER_RE = re.compile(r"\[[^\[\]]{0,80}\]")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?%?")


def section_text(blocks: list[Block]) -> str:
    """Blocks as the plain text the model edits (headings as lines, bullets with '- ')."""
    return "\n".join(f"- {b.text}" if b.kind == "bullet" else b.text for b in blocks)


def parse_section_text(text: str) -> list[Block]:
    blocks: list[Block] = []
    for raw in text.splitlines():
        line = raw.strip().replace("**", "")
        if not line or line.startswith("#"):
            continue
        if line.startswith(("- ", "+ ", "• ", "* ")):
            blocks.append(Block("bullet", line[2:].strip()))
        elif _HEADING_RE.match(line) and len(line) <= 250:
            blocks.append(Block("heading", line))
        else:
            blocks.append(Block("paragraph", line))
    return blocks


@dataclass
class RewriteResult:
    blocks: list[Block] | None  # None: keep the assembled text
    error: str | None = None


class SectionRewriter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def chain(self) -> Any:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_openai import ChatOpenAI

        system, _, user = PROMPT_FILE.read_text(encoding="utf-8").partition(USER_MARKER)
        prompt = ChatPromptTemplate.from_messages([("system", system.strip()), ("human", user.strip())])
        llm = ChatOpenAI(
            base_url=self.settings.llm_base_url,
            model=self.settings.llm_model,
            api_key=self.settings.llm_api_key,
            timeout=self.settings.llm_timeout_s,
            max_retries=0,
            temperature=self.settings.llm_temperature,
        )
        return prompt | llm | StrOutputParser()

    def rewrite(self, sections: list[DraftSection], request: DraftRequest) -> list[RewriteResult]:
        inputs = [
            {
                "commune": request.commune,
                "province": request.province or "[…]",
                "plan_type": PLAN_TYPES[request.plan_type],
                "period": request.period_text,
                "section": section.heading,
                "text": section_text(section.blocks),
            }
            for section in sections
        ]
        try:
            outputs = self.chain.batch(inputs, config={"max_concurrency": 4}, return_exceptions=True)
        except Exception as exc:  # noqa: BLE001 - any client failure falls back to the assembled text
            return [RewriteResult(None, str(exc))] * len(sections)
        return [self._check(section, output) for section, output in zip(sections, outputs, strict=True)]

    @staticmethod
    def _check(section: DraftSection, output: object) -> RewriteResult:
        if isinstance(output, BaseException):
            return RewriteResult(None, f"{type(output).__name__}: {output}"[:300])
        blocks = parse_section_text(str(output))
        original = section_text(section.blocks)
        rewritten = section_text(blocks)
        heads = [b.text.split(".")[0] for b in section.blocks if b.kind == "heading"]
        new_heads = [b.text.split(".")[0] for b in blocks if b.kind == "heading"]
        if not blocks or heads != new_heads:
            return RewriteResult(None, "cấu trúc mục bị thay đổi")
        if len(rewritten) < 0.4 * len(original):
            return RewriteResult(None, "nội dung bị rút gọn quá nhiều")
        if set(_PLACEHOLDER_RE.findall(original)) - set(_PLACEHOLDER_RE.findall(rewritten)):
            return RewriteResult(None, "mất chỗ trống cần điền […]")
        if set(_NUMBER_RE.findall(original)) != set(_NUMBER_RE.findall(rewritten)):
            return RewriteResult(None, "số liệu bị thay đổi")
        return RewriteResult(blocks)
