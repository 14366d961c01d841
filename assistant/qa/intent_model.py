"""The learned fallback of the question parser: a small classifier of what a question asks.

Trained on labelled questions: the examples of every rule in ``question_rules.toml`` and the extra labelled
questions of ``intent_examples.toml``. Features are character n-grams of the folded question, so unseen
spellings and word orders still land near their neighbours. It answers only when it is confident; the rules
stay the first word.

scikit-learn trains it in a child process (well under a second of fitting) and hands back the fitted weights;
this process only applies them with numpy, so serving never imports scikit-learn and SciPy's solvers (about
95 MiB of resident memory).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.normalize import fold

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from assistant.qa.plan import Slot

EXAMPLES_PATH = Path(__file__).with_name("intent_examples.toml")
MIN_PROBABILITY = 0.4
NGRAMS = (2, 5)
TRAINING_TIMEOUT_S = 300
_SPACES = re.compile(r"\s\s+")


def labelled_questions() -> list[tuple[str, str]]:
    from assistant.qa.plan import rules

    pairs = [(q, r.slots[0].value) for r in rules() if r.slots for q in r.examples]
    data = tomllib.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    pairs += [(q, label) for label, questions in data["examples"].items() for q in questions]
    return pairs


def fit_pipeline(pairs: list[tuple[str, str]]) -> Pipeline:
    """TF-IDF of character n-grams within words, then a multinomial logistic regression (scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=4.0),
    )
    pipeline.fit([fold(q) for q, _ in pairs], [label for _, label in pairs])
    return pipeline


def save_weights(pipeline: Pipeline, path: Path) -> None:
    vectorizer, classifier = pipeline[0], pipeline[-1]
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    np.savez(path, terms=np.array(terms), idf=vectorizer.idf_, coef=classifier.coef_,
             intercept=classifier.intercept_, classes=np.array(classifier.classes_))


def char_wb_ngrams(text: str) -> list[str]:
    """The n-grams of scikit-learn's ``char_wb`` analyzer: lower-cased, each word padded with one space."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(NGRAMS[0], NGRAMS[1] + 1):
            grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:  # a short word counts once, whatever the longer n
                break
    return grams


class IntentModel:
    def __init__(self, terms: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 classes: list[str]) -> None:
        self.index = {term: i for i, term in enumerate(terms)}
        self.idf, self.coef, self.intercept, self.classes = idf, coef, intercept, classes

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as weights:
            return cls([str(t) for t in weights["terms"]], weights["idf"], weights["coef"], weights["intercept"],
                       [str(c) for c in weights["classes"]])

    @classmethod
    @lru_cache(maxsize=1)
    def trained(cls) -> IntentModel:
        with tempfile.TemporaryDirectory(prefix="plan-assistant-intent-") as tmp:
            path = Path(tmp) / "intent.npz"
            run = subprocess.run([sys.executable, "-m", "assistant.qa.intent_model", str(path)],
                                 capture_output=True, text=True, timeout=TRAINING_TIMEOUT_S, check=False)
            if run.returncode != 0:
                raise RuntimeError(f"training the intent model failed: {run.stderr.strip()[-2000:]}")
            return cls.load(path)

    def probabilities(self, question: str) -> np.ndarray:
        """Sub-linear TF-IDF, L2-normalised, then the softmax of the linear scores (as ``predict_proba``)."""
        features = np.zeros(len(self.idf))
        for term, count in Counter(char_wb_ngrams(fold(question))).items():
            if (i := self.index.get(term)) is not None:
                features[i] = (1.0 + math.log(count)) * self.idf[i]
        if norm := float(np.linalg.norm(features)):
            features /= norm
        scores = self.coef @ features + self.intercept
        exp = np.exp(scores - scores.max())
        return exp / exp.sum()

    def scores(self, question: str) -> dict[str, float]:
        return dict(zip(self.classes, (float(p) for p in self.probabilities(question)), strict=True))

    def predict(self, question: str) -> Slot | None:
        from assistant.qa.plan import Slot

        scores = self.scores(question)
        label, probability = max(scores.items(), key=lambda item: item[1])
        return Slot(label) if probability >= MIN_PROBABILITY and label != Slot.TEXT.value else None


def main() -> None:
    """``python -m assistant.qa.intent_model OUT.npz``: fit on the labelled questions, write the weights."""
    save_weights(fit_pipeline(labelled_questions()), Path(sys.argv[1]))


if __name__ == "__main__":
    main()
