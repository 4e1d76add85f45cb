"""Whether a passage is an answer at all: the line between "here is what our articles say" and "not covered".

BM25 ranks; it cannot say no. A passage answers a question only if
- it matches enough of what the question says, each word weighed by how rare it is in the articles read
  against ordinary English (so a six-article site weighs "naltrexone" as heavily as a big one), words any
  question could hold ("like", "help", "time", "take") and words saying who ("my dad") weighing nothing; and
- one of the words it matches is topical: much more common in the articles than in ordinary English.
  "weather" matched in a page on frostbite is not, nor "tomorrow" in a two-article site: a question
  sharing only such words with the articles is about something else.
Both thresholds are calibrated on a realistic corpus (`python -m bot calibrate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from bot.search.bm25 import BM25Index
from bot.search.query import Query, share_of_passages

GENERIC_ZIPF = 5.5  # a word at least this common in English ("like" 6.4, "help" 5.8) carries no topic
GENERIC_SHARE = 0.3  # what such a word still counts for when choosing between sentences of one passage
UNKNOWN_ZIPF = 0.0
# The articles are read against this many passages of ordinary English: in a two-article corpus a word's
# share of the chunks says little ("tomorrow" in one of three chunks), in a thousand-page one nearly all.
BACKGROUND = 300
LONG_WORDS = 6


@dataclass(frozen=True)
class Weights:
    weight: dict[str, float]  # what matching the term is worth
    selection: dict[str, float]  # the same for choosing sentences, where a common word still breaks ties
    keyness: dict[str, float]  # log10 of (share of the articles' chunks holding it / share in ordinary English)
    parts: dict[str, frozenset[str]] = field(default_factory=dict)  # a phrase concept -> its words' terms

    @cached_property  # asked for every candidate chunk: the same sum each time
    def total(self) -> float:
        return sum(self.weight.values())

    @cached_property
    def length_share(self) -> float:
        """What share of the usual coverage a question of this length needs: a long message tells a story
        or states a claim, and no one passage holds every word of it."""
        words = sum(1 for w in self.weight.values() if w > 0)
        return min(1.0, LONG_WORDS / words) if words else 1.0

    def coverage(self, present: set[str]) -> float:
        """The share of the question's weight present; a phrase concept found ("PTSD" for "post traumatic
        stress disorder") covers its words too."""
        total = self.total
        if total <= 0:
            return 0.0
        covered = set(present)
        for concept in present & self.parts.keys():
            covered |= self.parts[concept]
        return sum(self.weight[t] for t in covered if t in self.weight) / total

    def topical(self, present: set[str], min_keyness: float) -> bool:
        """Whether a match says the passage is about the question's topic: a word the articles use far
        more than ordinary English does. (Also counting words merely rare in English, "marijuana", was
        measured: it answered no more in-scope questions and more off-topic ones.)"""
        return any(self.weight.get(t, 0.0) > 0 and self.keyness.get(t, -math.inf) >= min_keyness for t in present)


def weigh(query: Query, bm25: BM25Index, without=()) -> Weights:
    """The question's weights; terms in `without` weigh nothing (a medicine no article names)."""
    n, m = bm25.doc_count, BACKGROUND
    weight, selection, keyness = {}, {}, {}
    for t in set(query.terms):
        df = bm25.doc_freq(t)
        common = query.zipf.get(t, UNKNOWN_ZIPF)
        if t in query.generic:
            common = max(common, GENERIC_ZIPF)
        p = share_of_passages(common)
        seen_as = df or n * query.unseen.get(t, 0.0)
        idf = math.log(1 + (n - seen_as + 0.5) / (seen_as + 0.5))  # within the articles: for choosing sentences
        blended_df = (df or seen_as) + m * p
        blended = math.log(1 + (n + m - blended_df + 0.5) / (blended_df + 0.5))
        weight[t] = 0.0 if common >= GENERIC_ZIPF or t in without else blended
        selection[t] = GENERIC_SHARE * idf if common >= GENERIC_ZIPF else idf
        keyness[t] = math.log10((df + m * p) / (n + m) / max(p, 1e-9)) if df else -math.inf
    return Weights(weight, selection, keyness, query.parts)
