"""Every article's sentences, found once when the index is built and kept with it.

Splitting sentences (nltk's punkt) is the slowest step of an answer: about a millisecond for a chunk's text,
every time a passage is chosen. The chunker has already split every paragraph, so the index keeps those
spans (two int32 arrays and an offset per article) and an answer reads them. An index built before they were
kept (format 3 or older) has none, and its answers split sentences as before.
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

import numpy as np

ARRAYS = ("sentence_start", "sentence_end", "article_sentences")
FILES = tuple(f"{name}.npy" for name in ARRAYS)


class SentenceTable:
    """Sentence spans of article a: start[offsets[a]:offsets[a + 1]] (ascending) with their ends."""

    def __init__(self, sentence_start: np.ndarray, sentence_end: np.ndarray, article_sentences: np.ndarray) -> None:
        self.sentence_start, self.sentence_end = np.asarray(sentence_start), np.asarray(sentence_end)
        self.article_sentences = np.asarray(article_sentences)

    @classmethod
    def build(cls, per_article: list[list[tuple[int, int]]]) -> "SentenceTable":
        counts = np.fromiter((len(s) for s in per_article), dtype=np.int64, count=len(per_article))
        offsets = np.zeros(len(per_article) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        ends = chain.from_iterable(chain.from_iterable(sorted(spans) for spans in per_article))
        flat = np.fromiter(ends, dtype=np.int32, count=2 * int(offsets[-1])).reshape(-1, 2)
        return cls(flat[:, 0].copy(), flat[:, 1].copy(), offsets)

    def spans(self, article: int, text: str, lo: int, hi: int) -> list[tuple[int, int]]:
        """The sentences of text[lo:hi], as sentence_spans() gives them for that range: a sentence cut by
        either end is kept up to the cut."""
        first, last = self.article_sentences.item(article), self.article_sentences.item(article + 1)
        starts = self.sentence_start[first:last]
        ends = self.sentence_end[first:last]
        i = int(ends.searchsorted(lo, side="right"))  # the first sentence ending after lo
        j = int(starts.searchsorted(hi, side="left"))  # past the last starting before hi
        out = []
        for s, e in zip(starts[i:j].tolist(), ends[i:j].tolist()):
            if s < lo or e > hi:  # punkt keeps the spaces after a cut at the start, not before one at the end
                s = max(s, lo)
                e = s + len(text[s : min(e, hi)].rstrip())
                if not text[s:e].strip():
                    continue
            out.append((s, e))
        return out

    def save(self, directory: Path) -> None:
        for name in ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, articles: int) -> "SentenceTable":
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        table = cls(**arrays)
        odd = [name for name in ARRAYS if arrays[name].dtype.kind != "i"]
        if odd:
            raise ValueError(f"{odd[0]}.npy holds {arrays[odd[0]].dtype}, not integers")
        offsets = table.article_sentences
        if (
            offsets.shape != (articles + 1,)
            or int(offsets[0]) != 0
            or int(offsets[-1]) != table.sentence_start.shape[0]
        ):
            raise ValueError(f"article_sentences.npy does not fit {articles} articles and their sentences")
        if table.sentence_start.shape != table.sentence_end.shape:
            raise ValueError("sentence_start.npy and sentence_end.npy differ in length")
        return table
