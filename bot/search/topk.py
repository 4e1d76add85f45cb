"""The k best chunks for a question: the compiled MaxScore kernel, or numpy when it is not installed.

Both give the same documents with the same float scores (added in the question's order, repeats counting
again, as rank_bm25 adds them) and break ties by document order; tests/test_kernel.py holds them equal.
The kernel (bot/search/_kernel.c, compiled at install time) walks only the postings that can still change
the top k; numpy adds every posting of every term, which is a question's cost at a million chunks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

try:
    from bot.search import _kernel
except ImportError:  # installed without a C compiler: the numpy path gives the same answers, slower
    _kernel = None

MAX_KERNEL_TERMS = 64  # a result's terms come back as a 64-bit mask; longer questions take the numpy path
MAX_KERNEL_OCCURRENCES = 1024  # the kernel's fixed array of the question's terms in order


def compiled() -> bool:
    return _kernel is not None


class Plan:
    """A question's distinct terms (first-seen order) with their postings, bounds and repeats."""

    __slots__ = ("terms", "spans", "bounds", "occurrences")

    def __init__(
        self, terms: list[str], spans: list[tuple[int, int]], bounds: list[float], occurrences: tuple[int, ...]
    ) -> None:
        self.terms, self.spans, self.bounds, self.occurrences = terms, spans, bounds, occurrences

    @property
    def postings(self) -> int:
        """How many postings the question owns: what an exhaustive search reads."""
        return sum(hi - lo for lo, hi in self.spans)


def plan(entries: Callable[[str], tuple[int, int, int, float] | None], query: list[str]) -> Plan:
    """entries(term): (term id, first posting, end of postings, largest contribution), None if not indexed."""
    slot: dict[int, int] = {}
    terms: list[str] = []
    spans: list[tuple[int, int]] = []
    bounds: list[float] = []
    occurrences = []
    for term in query:
        entry = entries(term)
        if entry is None:
            continue
        j = slot.get(entry[0])
        if j is None:
            j = slot[entry[0]] = len(terms)
            terms.append(term)
            spans.append((entry[1], entry[2]))
            bounds.append(0.0)
        bounds[j] += entry[3]  # a repeated term can add its contribution again
        occurrences.append(j)
    return Plan(terms, spans, bounds, tuple(occurrences))


def top(
    docs: np.ndarray, weights: np.ndarray, p: Plan, k: int, scratch: Callable[[], np.ndarray], use_kernel: bool = True
) -> tuple[list[int], list[float], list[int], int]:
    """(documents, scores, masks, postings read), best first; bit j of a mask: holds p.terms[j].

    scratch() gives the numpy path a zeroed float buffer with an entry per document, left zeroed."""
    if k <= 0 or not p.terms:
        return [], [], [], 0
    if (
        use_kernel
        and _kernel is not None
        and len(p.terms) <= MAX_KERNEL_TERMS
        and len(p.occurrences) <= MAX_KERNEL_OCCURRENCES
        and docs.flags.c_contiguous
        and weights.flags.c_contiguous
    ):
        terms = tuple((lo, hi, b) for (lo, hi), b in zip(p.spans, p.bounds))
        return _kernel.topk(docs, weights, terms, p.occurrences, k)
    found, scores = _exhaustive(docs, weights, p, k, scratch())
    masks = [0] * len(found)
    wanted = np.asarray(found, dtype=np.int64)
    for j, (lo, hi) in enumerate(p.spans):
        if not found:
            break
        own = docs[lo:hi]  # sorted, never empty: every indexed term has a posting
        at = np.minimum(np.searchsorted(own, wanted), hi - lo - 1)
        for i in np.flatnonzero(own[at] == wanted).tolist():
            masks[i] |= 1 << j
    return found, scores, masks, p.postings


def _exhaustive(
    docs: np.ndarray, weights: np.ndarray, p: Plan, k: int, acc: np.ndarray
) -> tuple[list[int], list[float]]:
    """Every posting added into a dense buffer, then the k best among the documents touched."""
    for j in p.occurrences:  # in the question's order, as rank_bm25 adds them
        lo, hi = p.spans[j]
        acc[docs[lo:hi]] += weights[lo:hi]  # a term's postings hold each document once
    touched = (
        docs[p.spans[0][0] : p.spans[0][1]]
        if len(p.spans) == 1
        else np.concatenate([docs[lo:hi] for lo, hi in p.spans])
    )
    values = acc[touched]
    acc[touched] = 0.0
    # A document appears once per distinct term it holds (m at most), so the k*m best entries hold every
    # entry of the k best documents; only those few are made unique and sorted.
    wanted = k * len(p.spans)
    if touched.shape[0] > wanted:
        floor = -np.partition(-values, wanted - 1)[wanted - 1]
        keep = np.flatnonzero((values >= floor) & (values > 0))
    else:
        keep = np.flatnonzero(values > 0)
    if keep.shape[0] == 0:
        return [], []
    found, first = np.unique(touched[keep], return_index=True)
    scores = values[keep][first]
    order = np.lexsort((found, -scores))[:k]
    return found[order].tolist(), scores[order].tolist()
