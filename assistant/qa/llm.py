"""Optional LLM answering through any OpenAI-compatible server (vLLM, Ollama, llama.cpp …).

An LCEL chain (prompt | ChatOpenAI | parser) rewrites the extractive answer from the same
numbered sources. The result is checked: every [n] must name a given source and the answer
must not be empty or a refusal; otherwise, and on any error or timeout, the extractive
answer stands. The LLM sees a bounded context.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from assistant.qa.plan import QuestionPlan
from assistant.qa.types import Answer
from core.config import PROMPTS_DIR, Settings

log = logging.getLogger(__name__)
NOT_FOUND_TOKEN = "KHÔNG_TÌM_THẤY"
_CITATION_RE = re.compile(r"\[(\d+)\]")


def load_prompt(name: str) -> str:
    return (Path(PROMPTS_DIR) / name).read_text(encoding="utf-8")


def build_context(answer: Answer, max_chars: int) -> str:
    """Numbered sources, at most ``max_chars`` characters in all (separators included)."""
    parts: list[str] = []
    used = 0
    for i, source in enumerate(answer.sources, start=1):
        separator = 2 if parts else 0
        room = max_chars - used - separator
        if room <= 0:
            break
        entry = f"[{i}] (xã {source.commune}; {source.section or 'phần đầu'})\n{source.text}"[:room]
        parts.append(entry)
        used += separator + len(entry)
    return "\n\n".join(parts)


def citations_valid(text: str, n_sources: int) -> bool:
    cited = [int(n) for n in _CITATION_RE.findall(text)]
    return bool(cited) and all(1 <= n <= n_sources for n in cited)


class LLMAnswerer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            temperature=settings.llm_temperature,
        )
        prompt = ChatPromptTemplate.from_messages(
            [("system", load_prompt("answer_system.md")), ("human", load_prompt("answer_user.md"))]
        )
        self.chain = prompt | self.model | StrOutputParser()

    def rewrite(self, question: QuestionPlan, answer: Answer) -> Answer:
        if not answer.sources:
            return answer
        context = build_context(answer, self.settings.llm_max_context_chars)
        try:
            text = self.chain.invoke({"context": context, "draft": answer.answer, "question": question.text}).strip()
        except Exception as exc:  # network errors, timeouts, malformed responses: keep the extractive answer
            log.warning("LLM failed, using the extractive answer: %s", exc)
            return answer
        if not text or NOT_FOUND_TOKEN in text or not citations_valid(text, len(answer.sources)):
            log.warning("LLM answer rejected (empty, refusal or invalid citations); using the extractive answer")
            return answer
        return Answer(text, True, answer.sources, answer.latency_ms, answer.intent, used_llm=True)
