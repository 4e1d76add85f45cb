"""What a question asks for: its terms, with misspelt words matched to the articles' own words.

Synonyms are handled by the analyzer (both sides); here, a question word the index has never seen is
matched to the closest frequent word it has, and the bot says what it searched for instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.index import SearchIndex

MIN_LENGTH = 4  # shorter words are too easy to "correct" into something else


@dataclass(frozen=True)
class Query:
    terms: list[str]
    corrections: tuple[tuple[str, str], ...] = ()  # (the word as typed, the word searched for)
    shown: str = ""  # the question as searched, when a word was corrected
    # For words the articles never use: the share of passages that would hold them in ordinary English.
    # "would" is everywhere, "insurance" rare: not finding the second says the articles are off the point.
    unseen: dict[str, float] = field(default_factory=dict)


WORDS_PER_CHUNK = 120


def is_english(word: str) -> bool:
    """A real, common English word ("weather", "paris") is not a misspelling of an article's word."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en") >= 3.0


def english_share(word: str) -> float:
    """How many passages of ordinary English hold this word, from its frequency (wordfreq's data)."""
    from wordfreq import zipf_frequency

    per_word = 10 ** (zipf_frequency(word, "en") - 9)
    return min(1.0, WORDS_PER_CHUNK * per_word)


class Speller:
    """Matches unknown words to the index's frequent words, once per index (built lazily)."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    @cached_property
    def _candidates(self) -> tuple[list[str], np.ndarray]:
        bm25 = self.index.bm25
        df = np.diff(bm25.offsets)
        frequent = np.flatnonzero(df >= 2) if bm25.doc_count >= 50 else np.arange(len(df))
        terms = [bm25.terms[i] for i in frequent.tolist()]
        keep = [i for i, t in enumerate(terms) if len(t) >= MIN_LENGTH - 1 and not t.isdigit() and "_" not in t]
        return [terms[i] for i in keep], df[frequent[keep]] if len(keep) else np.empty(0, dtype=df.dtype)

    def correct(self, term: str) -> str | None:
        if len(term) < MIN_LENGTH or term.isdigit() or "_" in term:
            return None
        words, df = self._candidates
        limit = 1 if len(term) <= 5 else 2
        close = process.extract(term, words, scorer=OSA.distance, score_cutoff=limit, limit=20)
        close = [(w, d, i) for w, d, i in close if fuzz.ratio(term, w) >= 75]
        if not close:
            return None
        # fewest edits, then the most frequent word, then the most alike
        return min(close, key=lambda c: (c[1], -int(df[c[2]]), -fuzz.ratio(term, c[0])))[0]


def understand(question: str, index: SearchIndex, speller: Speller | None) -> Query:
    analyzer = index.analyzer
    terms: list[str] = []
    replaced: list[tuple[int, int, str]] = []  # (start, end, the word searched for instead)
    unseen: dict[str, float] = {}
    for token in analyzer.tokens(question):
        term = token.term
        typed = question[token.start:token.end]
        if speller is not None and index.bm25.doc_freq(term) == 0 and not is_english(typed):
            better = speller.correct(term)
            if better is not None:
                surface = index.surface(better) or better
                if not replaced or replaced[-1][0] != token.start:
                    replaced.append((token.start, token.end, surface))
                term = better
        terms.append(term)
        if index.bm25.doc_freq(term) == 0 and term not in unseen:
            unseen[term] = english_share(question[token.start:token.end].lower())
    shown = ""
    if replaced:
        parts, last = [], 0
        for start, end, surface in replaced:
            parts.append(question[last:start] + surface)
            last = end
        shown = "".join(parts) + question[last:]
    corrections = tuple((question[start:end], surface) for start, end, surface in replaced)
    return Query(terms, corrections, shown, unseen)
