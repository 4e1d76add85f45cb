"""What a question asks for: its terms, with misspelt words matched to the articles' own words.

Synonyms are handled by the analyzer (both sides); here, a question word the index has never seen is
matched to the closest frequent word it has, and the bot says what it searched for instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bot.search.index import SearchIndex
from bot.text import english, fuzzy

MIN_LENGTH = 4  # shorter words are too easy to "correct" into something else
SPELL_RATIO = 75  # how alike (0-100) a typed word must be to an indexed one


@dataclass(frozen=True)
class Query:
    terms: list[str]
    corrections: tuple[tuple[str, str], ...] = ()  # (the word as typed, the word searched for)
    shown: str = ""  # the question as searched, when a word was corrected
    # For words the articles never use: the share of passages that would hold them in ordinary English.
    # "would" is everywhere, "insurance" rare: not finding the second says the articles are off the point.
    unseen: dict[str, float] = field(default_factory=dict)
    # How common each term's word is in ordinary English (wordfreq's Zipf scale: "the" 7.7, "like" 6.4,
    # "weather" 4.9, "naltrexone" 2.1): what tells a topical word from one any question could hold.
    zipf: dict[str, float] = field(default_factory=dict)
    generic: frozenset[str] = frozenset()  # terms of words that say who, not what ("my dad", "is 72")
    parts: dict[str, frozenset[str]] = field(default_factory=dict)  # a phrase concept's term -> its words' terms


WORDS_PER_CHUNK = 120
# Who a question is about is rarely what it is about: "my gf says shes bipolar" asks about bipolar disorder.
PEOPLE = frozenset(
    """mom moms mum mother dad dads father parent parents husband wife spouse son daughter brother
sister sibling friend friends gf bf girlfriend boyfriend partner grandpa grandma grandfather grandmother uncle
aunt cousin roommate coworker boss guy guys dude girl boy man men woman women""".split()
)


def is_english(word: str) -> bool:
    """A real, common English word ("weather", "paris") is not a misspelling of an article's word."""
    return english.common(word.lower())


def zipf(word: str) -> float:
    return english.zipf(word.lower())


def share_of_passages(zipf_value: float) -> float:
    """How many passages of ordinary English hold a word this common."""
    return min(1.0, WORDS_PER_CHUNK * 10 ** (zipf_value - 9))


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
        # fewest edits, then the most frequent word, then the most alike
        return fuzzy.nearest(term, words, 1 if len(term) <= 5 else 2, SPELL_RATIO, rank=lambda i: -int(df[i]))


def understand(question: str, index: SearchIndex, speller: Speller | None) -> Query:
    analyzer = index.analyzer
    terms: list[str] = []
    replaced: list[tuple[int, int, str]] = []  # (start, end, the word searched for instead)
    unseen: dict[str, float] = {}
    common: dict[str, float] = {}
    generic: set[str] = set()
    tokens = list(analyzer.tokens(question))
    for token in tokens:
        term = token.term
        typed = question[token.start : token.end]
        typed_zipf = word_zipf = zipf(typed)
        name = analyzer.concept_name(term)
        if name is not None:  # a synonym concept ("AA", "molly"): as rare as the articles' own name for it
            word_zipf = min(word_zipf, zipf(name))
        if speller is not None and index.bm25.doc_freq(term) == 0 and not is_english(typed):
            better = speller.correct(term)
            if better is not None:
                surface = index.surface(better) or better
                if not replaced or replaced[-1][0] != token.start:
                    replaced.append((token.start, token.end, surface))
                term = better
                word_zipf = zipf(surface)
        terms.append(term)
        common[term] = max(common.get(term, 0.0), word_zipf)
        if typed.lower() in PEOPLE or typed.isdigit():
            generic.add(term)
        if index.bm25.doc_freq(term) == 0 and term not in unseen:
            unseen[term] = share_of_passages(typed_zipf)
    shown = ""
    phrase_parts: dict[str, set[str]] = {}
    spans = [(t.start, t.end, t.term) for t in tokens]
    for start, end, term in spans:
        if analyzer.concept_name(term) and " " in question[start:end].strip():
            phrase_parts[term] = {other for s_, e_, other in spans if start <= s_ and e_ <= end and other != term}
    if replaced:
        parts, last = [], 0
        for start, end, surface in replaced:
            parts.append(question[last:start] + surface)
            last = end
        shown = "".join(parts) + question[last:]
    corrections = tuple((question[start:end], surface) for start, end, surface in replaced)
    return Query(
        terms,
        corrections,
        shown,
        unseen,
        common,
        frozenset(generic),
        {k: frozenset(v) for k, v in phrase_parts.items() if v},
    )
