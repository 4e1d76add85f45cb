"""Our BM25 against rank_bm25's BM25Okapi, the reference: same scores, same ranking, on real text."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.search.analysis import Analyzer
from bot.search.bm25 import BM25Index, BM25Params
from bot.search.chunking import chunk_article
from bot.corpus.articles import load_corpus
from tests.conftest import SAMPLE_CORPUS, SHARED_DATA, write

MEDQUAD = SHARED_DATA / "medquad" / "articles.jsonl"


@pytest.fixture(scope="module")
def real_chunks(tmp_path_factory) -> list[list[str]]:
    """Hundreds of chunks of real health text (MedQuAD's first pages, read from shared data) plus the sample."""
    if not MEDQUAD.exists():
        pytest.fail(f"{MEDQUAD} not present: the shared data sets must be beside the clone (CI lays them there)")
    folder = tmp_path_factory.mktemp("medquad")
    with open(MEDQUAD, encoding="utf-8") as f:
        lines = list(itertools.islice(f, 12))
    write(folder / "pages.jsonl", "".join(lines))
    analyzer = Analyzer()
    docs = []
    for corpus in (load_corpus(folder), load_corpus(SAMPLE_CORPUS)):
        for a, article in enumerate(corpus.articles):
            for chunk in chunk_article(article, a):
                docs.append(analyzer.terms(article.text[chunk.start : chunk.end]))
    assert len(docs) >= 300
    return docs


QUESTIONS = [
    "What are the symptoms of leukemia?",
    "How to diagnose adult acute lymphoblastic leukemia",
    "treatment options chemotherapy radiation",
    "can i take naltrexone while im still detoxing",
    "cancer cancer cancer",  # repeated terms count again, as in rank_bm25
    "blood cells",  # common words: idf near or below zero, floored to epsilon * mean idf
    "zzzunknownword",
    "risk factors prognosis children",
    "the of and",  # stopwords only: no terms at all
    "bone marrow stem cell transplant",
]


def reference_ranking(scores: np.ndarray) -> list[int]:
    """Best first; equal scores in chunk order; zero and below are not results."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in order if scores[i] > 0]


@pytest.mark.parametrize(
    "params",
    [
        BM25Params(idf="okapi"),
        BM25Params(k1=1.2, b=0.5, epsilon=0.1, idf="okapi"),
        BM25Params(k1=0.9, b=1.0, idf="okapi"),
    ],
)
def test_scores_and_rankings_equal_rank_bm25(real_chunks, params):
    ours = BM25Index.build(real_chunks, params)
    ref = BM25Okapi(real_chunks, k1=params.k1, b=params.b, epsilon=params.epsilon)
    analyzer = Analyzer()
    for question in QUESTIONS:
        query = analyzer.terms(question)
        expected = ref.get_scores(query)
        docs, scores = ours.scores(query)
        dense = np.zeros(len(real_chunks))
        dense[docs] = scores
        assert len(set(docs.tolist())) == len(docs), "a document came back twice"
        np.testing.assert_allclose(dense, expected, rtol=0, atol=1e-9, err_msg=question)
        ranking = reference_ranking(expected)
        for k in (1, 5, 10, len(real_chunks)):
            assert [d for d, _ in ours.search(query, k)] == ranking[:k], (question, k)


def test_lucene_idf_is_rank_bm25s_formula_plus_one_inside_the_log(real_chunks):
    """The default idf, log(1 + (N - df + 0.5) / (df + 0.5)): the same postings, never a negative weight."""
    okapi = BM25Index.build(real_chunks, BM25Params(idf="okapi"))
    lucene = BM25Index.build(real_chunks, BM25Params())
    n = len(real_chunks)
    checked = 0
    for term in ("leukemia", "blood", "cell", "the"):
        if not okapi.doc_freq(term):
            continue
        t = okapi.vocab[term]
        lo, hi = int(okapi.offsets[t]), int(okapi.offsets[t + 1])
        df = hi - lo
        tf_part = (
            okapi.weights[lo:hi] / (math.log(n - df + 0.5) - math.log(df + 0.5))
            if math.log(n - df + 0.5) - math.log(df + 0.5) > 0
            else None
        )
        if tf_part is not None:
            np.testing.assert_allclose(lucene.weights[lo:hi], tf_part * math.log(1 + (n - df + 0.5) / (df + 0.5)))
            checked += 1
    assert checked, "no term was compared"
    assert (lucene.weights > 0).all()


def test_a_two_document_corpus_still_ranks_with_the_default_idf():
    """rank_bm25's idf is zero for a word in one of two documents: nothing could ever be found."""
    docs = [["naltrexone", "blocks", "opioids"], ["sleep", "helps", "recovery"]]
    assert BM25Index.build(docs, BM25Params(idf="okapi")).search(["naltrexone"], 2) == []
    hits = BM25Index.build(docs).search(["naltrexone"], 2)
    assert [d for d, _ in hits] == [0] and hits[0][1] > 0


def test_ties_are_broken_by_chunk_order():
    docs = [["methadone", "dose"], ["naloxone"], ["methadone", "dose"], ["methadone", "dose"], ["other"]]
    index = BM25Index.build(docs)
    hits = index.search(["methadone"], 2)
    assert [d for d, _ in hits] == [0, 2]
    assert hits[0][1] == hits[1][1]


def test_zero_idf_terms_give_no_results_not_zero_score_fillers():
    # In 2 documents, a term in 1 of them has idf log(1.5/1.5) = 0 under BM25Okapi (rank_bm25 issue #29).
    docs = [["naltrexone", "blocks"], ["methadone", "dose"]]
    ref = BM25Okapi(docs)
    assert ref.get_scores(["naltrexone"]).tolist() == [0.0, 0.0]
    assert BM25Index.build(docs, BM25Params(idf="okapi")).search(["naltrexone"], 5) == []


def test_query_reads_only_the_postings_it_touches(real_chunks):
    index = BM25Index.build(real_chunks)
    query = Analyzer().terms("naltrexone detox")
    docs, _ = index.scores(query)
    expected = set()
    for term in query:
        t = index.vocab[term]
        expected |= set(index.docs[index.offsets[t] : index.offsets[t + 1]].tolist())
    assert set(docs.tolist()) == expected
    assert len(docs) < index.doc_count / 10


def test_empty_documents_count_like_rank_bm25():
    docs = [[], ["naltrexone"], ["methadone"], [], ["naltrexone", "methadone"]]
    found, scores = BM25Index.build(docs, BM25Params(idf="okapi")).scores(["methadone"])
    dense = np.zeros(len(docs))
    dense[found] = scores
    np.testing.assert_array_equal(dense, BM25Okapi(docs).get_scores(["methadone"]))


def test_building_over_nothing_is_an_error():
    with pytest.raises(ValueError, match="no documents"):
        BM25Index.build([])


def test_save_and_load_give_the_same_scores(real_chunks, tmp_path):
    index = BM25Index.build(real_chunks)
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path, index.params)
    for question in QUESTIONS:
        query = Analyzer().terms(question)
        assert loaded.search(query, 10) == index.search(query, 10)
    assert json.loads((tmp_path / "terms.json").read_text())[:3] == index.terms[:3]


def test_scratch_buffers_are_left_clean_between_queries(real_chunks):
    index = BM25Index.build(real_chunks)
    query = Analyzer().terms("leukemia blood treatment")
    first = index.search(query, 20)
    index.search(Analyzer().terms("naltrexone relapse"), 20)
    assert index.search(query, 20) == first


def test_term_ids_found_in_c_are_the_python_paths(monkeypatch, real_chunks):
    """bot/search/_words.c numbers the terms as the Python path does: the same postings, bit for bit."""
    from bot.search import bm25

    if bm25._c_term_ids is None:
        pytest.skip("the word lookup is not compiled here (no C compiler at install)")
    docs = [list(d) for d in real_chunks] + [[], ["a", "b", "a"], ["b"]]
    compiled = BM25Index.build(docs, BM25Params(idf="okapi"))
    monkeypatch.setattr(bm25, "_c_term_ids", None)
    python = BM25Index.build(docs, BM25Params(idf="okapi"))
    assert compiled.terms == python.terms
    for name in ("offsets", "docs", "weights", "doc_len", "term_max"):
        assert getattr(compiled, name).tobytes() == getattr(python, name).tobytes(), name
