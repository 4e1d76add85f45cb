"""The peers the benchmark runs beside the bot, each at its best, on the bot's own terms of each chunk.

Each peer is built from the same analysed chunks and asked the same analysed questions, so only the
retrieval is compared. `top(terms, k)` gives (documents, scores), best first, ties in chunk order where the
peer lets us choose. A peer whose package is not installed is reported as not run, never faked.
"""

from __future__ import annotations

import shutil
import tempfile

import numpy as np


def top_of(scores: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """The k best positive scores of a dense vector, ties in chunk order (numpy's best for this)."""
    if scores.shape[0] > k:
        kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
        pick = np.flatnonzero(scores >= kth)
    else:
        pick = np.arange(scores.shape[0])
    pick = pick[scores[pick] > 0]
    order = pick[np.lexsort((pick, -scores[pick]))][:k]
    return order.tolist(), scores[order].tolist()


class RankBM25:
    """rank_bm25's BM25Okapi: the reference the bot's scores are equal to (pure Python and numpy)."""

    name = "rank_bm25"
    module = "rank_bm25"
    same_scores = True

    def __init__(self, docs: list[list[str]]) -> None:
        self.model = __import__(self.module).BM25Okapi(docs)

    def top(self, terms: list[str], k: int):
        return top_of(self.model.get_scores(terms), k)


class RankBM25RS(RankBM25):
    """rank-bm25-rs: rank_bm25's scores bit for bit, computed in Rust; the top k picked with numpy."""

    name = "rank-bm25-rs"
    module = "rank_bm25_rs"

    def scores_only(self, terms: list[str]) -> None:
        """The whole score vector, no top k: the lower bound of anything built on it."""
        self.model.get_scores(terms)


class Bm25s:
    """bm25s with its numba backend (JIT-compiled before timing): precomputed sparse scores, other idf."""

    name = "bm25s (numba)"
    same_scores = False

    def __init__(self, docs: list[list[str]]) -> None:
        import bm25s

        self.bm25s = bm25s
        self.vocab: dict[str, int] = {}
        ids = [[self.vocab.setdefault(t, len(self.vocab)) for t in doc] for doc in docs]
        self.model = bm25s.BM25(k1=1.5, b=0.75, method="robertson", backend="numba")
        self.model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab), show_progress=False)
        self.top(docs[0][:3] or ["x"], 10)  # compiles the JIT functions

    def top(self, terms: list[str], k: int):
        query = [[self.vocab[t] for t in terms if t in self.vocab]]
        if not query[0]:
            return [], []
        docs, scores = self.model.retrieve(
            self.bm25s.tokenization.Tokenized(ids=query, vocab=self.vocab), k=k, show_progress=False, n_threads=1
        )
        keep = scores[0] > 0
        return docs[0][keep].tolist(), scores[0][keep].tolist()


class Tantivy:
    """tantivy (Rust, Lucene-like): its own BM25 (other idf, quantised lengths), block-max WAND top k."""

    name = "tantivy"
    same_scores = False

    def __init__(self, docs: list[list[str]]) -> None:
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="raw")
        self.schema = builder.build()
        self.folder = tempfile.mkdtemp(prefix="tantivy-")
        index = tantivy.Index(self.schema, path=self.folder)
        writer = index.writer(heap_size=512 * 2**20, num_threads=1)
        for doc in docs:
            writer.add_document(tantivy.Document(body=doc))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.searcher = index.searcher()

    def top(self, terms: list[str], k: int):
        if not terms:
            return [], []
        t = self.tantivy
        query = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self.schema, "body", w)) for w in terms])
        hits = self.searcher.search(query, k).hits
        return [address.doc for _, address in hits], [score for score, _ in hits]  # segment-local numbers

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


ALL = (RankBM25RS, Tantivy, Bm25s, RankBM25)
