"""One fuzzy matcher for typos: the search's speller and the triage's mending both ask it.

Edits are counted as optimal string alignment (a swapped pair of letters, "breahting", is one edit), and a
candidate must also be alike overall, so a short word is not "corrected" into another real word.
"""

from __future__ import annotations

from typing import Callable, Sequence


def nearest(
    word: str,
    candidates: Sequence[str],
    max_edits: int,
    min_ratio: float,
    rank: Callable[[int], float] | None = None,
    limit: int = 20,
) -> str | None:
    """The closest candidate within `max_edits` and at least `min_ratio` alike (0-100), or None: fewest
    edits first, then the lowest `rank(index)` (the search prefers frequent words), then the most alike."""
    from rapidfuzz import fuzz, process  # here: most questions hold no typo, and a start need not import it
    from rapidfuzz.distance import OSA

    close = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=limit)
    close = [c for c in close if fuzz.ratio(word, c[0]) >= min_ratio]
    if not close:
        return None
    return min(close, key=lambda c: (c[1], rank(c[2]) if rank else 0, -fuzz.ratio(word, c[0])))[0]
