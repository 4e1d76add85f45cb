"""The learned second opinion of crisis triage, applied from plain arrays.

`python -m bot train-safety` fits it offline (scikit-learn, in the `train` extra) and writes
bot/data/safety_model/: `vocabulary.json` (the n-grams), `weights.npy` (idf and one column per class),
`meta.json` (classes, thresholds, how it was trained and measured). Loading reads those plain arrays and
JSON only: no training at start-up, no serialized Python objects, no scikit-learn on the serving path.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bot.safety.features import grams

CLASSES = ("overdose", "suicide", "withdrawal", "concern", "none")
EMERGENCY_CLASSES = CLASSES[:3]


@dataclass(frozen=True)
class Reading:
    """The model's view of one message."""

    probabilities: dict[str, float]
    lost_tolerance: float  # probability that someone is about to use after a break

    @property
    def emergency(self) -> float:
        return sum(self.probabilities[k] for k in EMERGENCY_CLASSES)

    @property
    def kind(self) -> str:
        return max(EMERGENCY_CLASSES, key=lambda k: self.probabilities[k])


class SafetyModel:
    def __init__(self, vocabulary: list[str], weights: np.ndarray, meta: dict) -> None:
        if weights.shape != (len(vocabulary), len(CLASSES) + 2):
            raise ValueError(f"weights are {weights.shape}, expected ({len(vocabulary)}, {len(CLASSES) + 2})")
        self._index = dict(zip(vocabulary, range(len(vocabulary))))  # {gram: i for i, gram in ...}, in C
        self._idf = weights[:, 0].astype(np.float64)
        self._coef = weights[:, 1:].astype(np.float64)  # the classes, then lost tolerance
        self._intercept = np.array(meta["intercept"], dtype=np.float64)
        self.thresholds: dict[str, float] = dict(meta["thresholds"])
        self.meta = meta

    @classmethod
    def load(cls, folder: Path | None = None) -> "SafetyModel":
        base = folder if folder is not None else resources.files("bot.data").joinpath("safety_model")
        vocabulary = json.loads(base.joinpath("vocabulary.json").read_text(encoding="utf-8"))
        with base.joinpath("weights.npy").open("rb") as f:
            weights = np.load(f, allow_pickle=False)
        meta = json.loads(base.joinpath("meta.json").read_text(encoding="utf-8"))
        return cls(vocabulary, weights, meta)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values): sublinear tf times idf, l2-normalised, as TfidfVectorizer computes them."""
        counts: dict[int, int] = {}
        for gram in grams(text):
            i = self._index.get(gram)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.array([1.0 + math.log(c) for c in counts.values()]) * self._idf[columns]
        return columns, values / (np.linalg.norm(values) or 1.0)

    def read(self, text: str) -> Reading:
        """`text` is the message as the rules read it (their clauses joined)."""
        columns, values = self.features(text)
        scores = self._intercept + values @ self._coef[columns]
        classes = scores[: len(CLASSES)]
        exp = np.exp(classes - classes.max())
        probabilities = dict(zip(CLASSES, (exp / exp.sum()).tolist()))
        return Reading(probabilities, 1.0 / (1.0 + math.exp(-float(scores[-1]))))
