"""The learned fallback of the question parser: a small classifier of what a question asks.

Trained when first used (well under a second) on labelled questions: the examples of every rule in
``question_rules.toml`` and the extra labelled questions of ``intent_examples.toml``. Features are
character n-grams of the folded question, so unseen spellings and word orders still land near
their neighbours. It answers only when it is confident; the rules stay the first word.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from core.normalize import fold

EXAMPLES_PATH = Path(__file__).with_name("intent_examples.toml")
MIN_PROBABILITY = 0.4


def labelled_questions() -> list[tuple[str, str]]:
    from assistant.qa.plan import rules

    pairs = [(q, r.slots[0].value) for r in rules() if r.slots for q in r.examples]
    data = tomllib.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    pairs += [(q, label) for label, questions in data["examples"].items() for q in questions]
    return pairs


class IntentModel:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @classmethod
    @lru_cache(maxsize=1)
    def trained(cls) -> IntentModel:
        pairs = labelled_questions()
        pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1),
            LogisticRegression(max_iter=2000, C=4.0),
        )
        pipeline.fit([fold(q) for q, _ in pairs], [label for _, label in pairs])
        return cls(pipeline)

    def scores(self, question: str) -> dict[str, float]:
        probabilities = self.pipeline.predict_proba([fold(question)])[0]
        return dict(zip(self.pipeline.classes_, (float(p) for p in probabilities), strict=True))

    def predict(self, question: str):  # -> Slot | None
        from assistant.qa.plan import Slot

        scores = self.scores(question)
        label, probability = max(scores.items(), key=lambda item: item[1])
        return Slot(label) if probability >= MIN_PROBABILITY and label != Slot.TEXT.value else None
