"""BM25 with rank_bm25's BM25Okapi semantics, scored at build time so a query only reads its postings.

rank_bm25 scores a query by looping over every document for every term. Here each posting already holds
its term's contribution, idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)), computed with the
same operations in the same order, so a query adds a few array slices and gets the same floats. The
largest contribution of each term (term_max) bounds what it can add, which lets the top k be found without
reading every posting (bot/search/topk.py, bot/search/_kernel.c).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterable

import numpy as np

from bot.search import topk

try:  # compiled by pip install (setup.py); without a C compiler, the same ids found in two passes
    from bot.search._words import term_ids as _c_term_ids
except ImportError:  # pragma: no cover (the test suite runs both ways)
    _c_term_ids = None

_ARRAYS = ("offsets", "docs", "weights", "doc_len", "term_max")
FILES = tuple(f"{name}.npy" for name in _ARRAYS) + ("terms.json",)  # what save() writes and load() reads
OLD_FILES = tuple(f for f in FILES if f != "term_max.npy")  # an index of format 3 or older: computed on load


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    # "okapi": rank_bm25's BM25Okapi idf, log((N - df + 0.5) / (df + 0.5)), which is zero or below for a
    # word in half the documents or more: in a one- or two-article site, every word. "lucene": Lucene's
    # log(1 + (N - df + 0.5) / (df + 0.5)), never negative (Anserini's, BEIR's reference BM25).
    idf: str = "lucene"

    def __post_init__(self) -> None:
        if self.k1 < 0 or not 0 <= self.b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1 (got k1={self.k1}, b={self.b})")
        if self.idf not in ("okapi", "lucene"):
            raise ValueError(f"BM25 idf must be 'okapi' or 'lucene' (got {self.idf!r})")


class BM25Index:
    """Postings in CSR form: the documents of term t are docs[offsets[t]:offsets[t + 1]], in order."""

    def __init__(
        self,
        terms: list[str],
        offsets: np.ndarray,
        docs: np.ndarray,
        weights: np.ndarray,
        doc_len: np.ndarray,
        params: BM25Params,
        term_max: np.ndarray | None = None,
    ) -> None:
        self.terms = terms
        self.vocab = dict(zip(terms, range(len(terms))))  # {t: i for i, t in enumerate(terms)}, in C
        # plain ndarray views of memory-mapped files: numpy's memmap indexes through Python code, 1 us a call
        self.offsets, self.docs, self.weights, self.doc_len = (np.asarray(a) for a in (offsets, docs, weights, doc_len))
        self.term_max = _term_max(self.offsets, self.weights) if term_max is None else np.asarray(term_max)
        self.params = params
        self.use_kernel = True  # False: the numpy path, for comparing the two
        self._entries: dict[str, tuple[int, int, int, float]] = {}
        self._local = threading.local()

    @property
    def doc_count(self) -> int:
        return int(self.doc_len.shape[0])

    def doc_freq(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])

    @classmethod
    def build(cls, documents: Iterable[list[str]], params: BM25Params = BM25Params()) -> "BM25Index":
        documents = documents if isinstance(documents, list) else list(documents)
        n = len(documents)
        if n == 0:
            raise ValueError("cannot build a BM25 index over no documents")
        # term ids in first-seen order (rank_bm25's dict order): one pass in C (bot/search/_words.c), or two
        if _c_term_ids is not None and all(type(d) is list for d in documents):
            terms, ids = _c_term_ids(documents)
            tids = np.frombuffer(ids, dtype=np.int64)
        else:
            terms = list(dict.fromkeys(chain.from_iterable(documents)))
            vocab = {t: i for i, t in enumerate(terms)}
            tids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(documents)), dtype=np.int64)
        doc_len = np.fromiter(map(len, documents), dtype=np.int64, count=n)
        dids = np.repeat(np.arange(n, dtype=np.int64), doc_len)
        keys, tf = np.unique(tids * n + dids, return_counts=True)  # sorted by term, then document
        post_terms, post_docs = np.divmod(keys, n)
        df = np.bincount(post_terms, minlength=len(terms))
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(df, out=offsets[1:])

        # rank_bm25's BM25Okapi._calc_idf, to the last bit: math.log, summed in first-seen term order
        # (its dict order, which is our term-id order); a negative idf is floored to epsilon * mean idf.
        if params.idf == "lucene":
            idf_list = [math.log(1 + (n - f + 0.5) / (f + 0.5)) for f in df.tolist()]
        else:
            idf_list = [math.log(n - f + 0.5) - math.log(f + 0.5) for f in df.tolist()]
        idf_sum = 0.0
        for value in idf_list:
            idf_sum += value
        idf = np.asarray(idf_list, dtype=np.float64)
        idf[idf < 0] = params.epsilon * (idf_sum / len(idf_list)) if idf_list else 0.0
        avgdl = int(doc_len.sum()) / n
        k1, b = params.k1, params.b
        tf = tf.astype(np.float64)
        dl = doc_len[post_docs]
        weights = idf[post_terms] * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)))
        return cls(
            terms,
            offsets,
            post_docs.astype(np.int32),
            weights,
            doc_len.astype(np.int32),
            params,
            _term_max(offsets, weights),
        )

    # --- querying -------------------------------------------------------------------------------

    def _scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-thread work arrays, allocated on first use; only the entries a query touched are reset."""
        scratch = getattr(self._local, "arrays", None)
        if scratch is None:
            scratch = (np.zeros(self.doc_count, dtype=np.float64), np.zeros(self.doc_count, dtype=np.int64))
            self._local.arrays = scratch
        return scratch

    def scores(self, query: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(documents, scores) of every document sharing a term with the query, in no particular order.

        Repeated query terms count again, as in rank_bm25. Documents not returned score exactly 0.
        """
        slices = self._slices(query)
        if not slices:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        if len(slices) == 1:
            lo, hi = slices[0]
            return np.array(self.docs[lo:hi]), np.array(self.weights[lo:hi])
        acc, pos = self._scratch()
        for lo, hi in slices:
            acc[self.docs[lo:hi]] += self.weights[lo:hi]  # a term's postings hold each document once
        touched = np.concatenate([self.docs[lo:hi] for lo, hi in set(slices)])
        # One entry per document without sorting: each position records itself, one write per document wins.
        order = np.arange(touched.shape[0])
        pos[touched] = order
        docs = touched[pos[touched] == order]
        result = acc[docs]
        acc[docs] = 0.0
        return docs, result

    def search(self, query: list[str], k: int) -> list[tuple[int, float]]:
        """The k best documents with a positive score, best first; equal scores in document order."""
        found, scores, _, _ = self.top(query, k)
        return list(zip(found, scores))

    def search_with_terms(self, query: list[str], k: int) -> list[tuple[int, float, frozenset[str]]]:
        """search(), and which of the query's terms each document holds (no second look at the postings)."""
        p = self.plan(query)
        found, scores, masks, _ = self._top(p, k)
        held: dict[int, frozenset[str]] = {}  # the same few masks come back hit after hit: one set each
        for m in masks:
            if m not in held:
                held[m] = frozenset(t for j, t in enumerate(p.terms) if m >> j & 1)
        return [(d, s, held[m]) for d, s, m in zip(found, scores, masks)]

    def plan(self, query: list[str]) -> topk.Plan:
        return topk.plan(self._entry, query)

    def _entry(self, term: str) -> tuple[int, int, int, float] | None:
        """A term's id, postings and bound as Python numbers, kept once looked up (questions reuse words)."""
        entry = self._entries.get(term)
        if entry is None:
            t = self.vocab.get(term)
            if t is None:
                return None
            entry = (t, self.offsets.item(t), self.offsets.item(t + 1), self.term_max.item(t))
            if len(self._entries) < 100_000:
                self._entries[term] = entry
        return entry

    def top(self, query: list[str], k: int) -> tuple[list[int], list[float], list[int], int]:
        """(documents, scores, masks of the distinct terms held, postings read): what search() is made of."""
        return self._top(self.plan(query), k)

    def _top(self, p: topk.Plan, k: int) -> tuple[list[int], list[float], list[int], int]:
        return topk.top(self.docs, self.weights, p, k, lambda: self._scratch()[0], self.use_kernel)

    def _slices(self, query: list[str]) -> list[tuple[int, int]]:
        slices = []
        for term in query:
            t = self.vocab.get(term)
            if t is not None:
                slices.append((int(self.offsets[t]), int(self.offsets[t + 1])))
        return slices

    # --- persistence ----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        for name in _ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (directory / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, params: BM25Params, with_bounds: bool = True) -> "BM25Index":
        """with_bounds=False: an index from before term_max.npy, whose bounds are computed here."""
        arrays = {
            name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in _ARRAYS
            if name != "term_max" or with_bounds
        }
        terms = json.loads((directory / "terms.json").read_text(encoding="utf-8"))
        index = cls(terms, **arrays, params=params)
        index.validate()
        return index

    def validate(self) -> None:
        """Cheap structural checks, so a truncated or foreign file fails at load, not mid-answer."""
        v, n = len(self.terms), self.doc_count
        for name in _ARRAYS:
            kind = getattr(self, name).dtype.kind
            floats = name in ("weights", "term_max")
            if kind != ("f" if floats else "i"):
                raise ValueError(
                    f"{name}.npy holds {getattr(self, name).dtype}, not {'floats' if floats else 'integers'}"
                )
        if self.offsets.shape != (v + 1,) or int(self.offsets[0]) != 0:
            raise ValueError(f"offsets.npy has {self.offsets.shape[0]} entries, expected {v + 1}")
        if int(self.offsets[-1]) != self.docs.shape[0] or self.docs.shape != self.weights.shape:
            raise ValueError("docs.npy and weights.npy do not match offsets.npy")
        if self.docs.shape[0] and (int(self.docs.max()) >= n or int(self.docs.min()) < 0):
            raise ValueError("docs.npy refers to documents that doc_len.npy does not have")
        if self.term_max.shape != (v,):
            raise ValueError(f"term_max.npy has {self.term_max.shape[0]} entries, expected {v}")


def _term_max(offsets: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each term's largest contribution: the most it can add to a document (its bound for pruning)."""
    out = np.zeros(offsets.shape[0] - 1, dtype=np.float64)
    filled = np.flatnonzero(np.diff(offsets) > 0)
    if filled.shape[0]:
        out[filled] = np.maximum.reduceat(np.asarray(weights), np.asarray(offsets[filled]))
    return out
