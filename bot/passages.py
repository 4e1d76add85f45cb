"""The one to three sentences of a chunk that answer the question: what the user reads first."""
from __future__ import annotations

import re

from bot.analysis import Analyzer
from bot.chunking import sentence_spans

MAX_SENTENCES = 3
# A sentence that opens like this leans on the one before it ("It cannot be taken while...").
_LEANS_BACK = re.compile(r"^[\"'\u201c\u2018(]*(it|its|this|that|these|those|they|their|he|she|such|however|but|also)\b",
                         re.I)


def best_passage(text: str, start: int, end: int, query_weights: dict[str, float], analyzer: Analyzer,
                 max_sentences: int = MAX_SENTENCES) -> tuple[int, int]:
    """Span of the consecutive sentences covering the most query weight; fewer sentences win ties."""
    spans = sentence_spans(text, start, end) or [(start, end)]
    sentence_terms = [set(analyzer.terms(text[s:e])) for s, e in spans]
    best = (-1.0, 0, 0)  # (covered weight, -length, -first)
    best_span = (0, 0)
    for first in range(len(spans)):
        covered: set[str] = set()
        for last in range(first, min(first + max_sentences, len(spans))):
            covered |= sentence_terms[last]
            weight = sum(query_weights.get(t, 0.0) for t in covered)
            key = (round(weight, 9), -(last - first), -first)
            if key > best:
                best, best_span = key, (first, last)
    first, last = best_span
    if last - first + 1 < max_sentences and first > 0 and _LEANS_BACK.match(text[spans[first][0]:spans[first][1]]):
        first -= 1
    return spans[first][0], spans[last][1]
