"""The compiled top-k kernel against the numpy path and against rank_bm25: the same documents, the same float
scores, ties in chunk order, and fewer postings read than the question owns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.search import topk
from bot.search.analysis import Analyzer
from bot.search.bm25 import BM25Index, BM25Params
from tests.test_bm25 import QUESTIONS, real_chunks, reference_ranking  # noqa: F401 (a fixture)

OKAPI = BM25Params(idf="okapi")


def both(index: BM25Index, query: list[str], k: int):
    index.use_kernel = True
    compiled = index.top(query, k)
    index.use_kernel = False
    plain = index.top(query, k)
    index.use_kernel = True
    return compiled, plain


def test_the_kernel_is_compiled():
    """CI installs with a C compiler; without one the search still works (numpy), only slower."""
    assert topk.compiled(), "bot/search/_kernel.c was not built: reinstall with gcc and Python headers present"


@pytest.mark.parametrize("params", [OKAPI, BM25Params()])
def test_the_kernel_and_numpy_agree_on_real_text(real_chunks, params):  # noqa: F811
    index = BM25Index.build(real_chunks, params)
    analyzer = Analyzer()
    questions = QUESTIONS + [
        "leukemia leukemia treatment of children",
        "cells cells cells blood marrow",
        "symptoms signs causes diagnosis treatment prognosis outlook risk",
    ]
    for question in questions:
        query = analyzer.terms(question)
        for k in (1, 3, 10, 48, len(real_chunks)):
            (kd, ks, km, _), (nd, ns, nm, _) = both(index, query, k)
            assert (kd, ks, km) == (nd, ns, nm), (question, k)


def test_rankings_equal_rank_bm25_with_ties_in_chunk_order(real_chunks):  # noqa: F811
    index = BM25Index.build(real_chunks, OKAPI)
    ref = BM25Okapi(real_chunks)
    for question in QUESTIONS:
        query = Analyzer().terms(question)
        expected = ref.get_scores(query)
        ranking = reference_ranking(expected)
        for k in (1, 5, 10, 100):
            hits = index.search(query, k)
            assert [d for d, _ in hits] == ranking[:k], (question, k)
            assert [s for _, s in hits] == [float(expected[d]) for d in ranking[:k]], (question, k)


def test_a_rare_and_a_common_term_read_fewer_postings_than_they_own():
    """MaxScore: once k documents hold both words, documents with only the common one cannot enter."""
    docs = [["common", "filler"] for _ in range(5000)]
    docs[100:100] = [["rare", "common"] for _ in range(20)]
    index = BM25Index.build(docs)
    _, _, _, read = index.top(["rare", "common"], 10)
    owned = index.plan(["rare", "common"]).postings
    assert owned == 5040
    assert read < owned / 20
    assert [d for d, _ in index.search(["rare", "common"], 10)] == list(range(100, 110))
    index.use_kernel = False
    assert index.top(["rare", "common"], 10)[3] == owned


def test_which_terms_each_result_holds(real_chunks):  # noqa: F811
    index = BM25Index.build(real_chunks)
    query = Analyzer().terms("leukemia blood treatment zzzunknown")
    for doc, _, held in index.search_with_terms(query, 20):
        expected = {
            t
            for t in set(query)
            if t in index.vocab
            and doc in set(index.docs[index.offsets[index.vocab[t]] : index.offsets[index.vocab[t] + 1]].tolist())
        }
        assert held == expected


def test_more_terms_than_the_kernel_takes_use_numpy_with_the_same_results(real_chunks):  # noqa: F811
    index = BM25Index.build(real_chunks, OKAPI)
    query = list(dict.fromkeys(t for doc in real_chunks[:40] for t in doc))[: topk.MAX_KERNEL_TERMS + 10]
    assert len(index.plan(query).terms) > topk.MAX_KERNEL_TERMS
    ref = BM25Okapi(real_chunks).get_scores(query)
    assert [d for d, _ in index.search(query, 10)] == reference_ranking(ref)[:10]


WORDS = st.sampled_from(["a", "b", "c", "d", "e", "f"])
# rank_bm25 divides by zero on a corpus without a single word
CORPORA = st.lists(st.lists(WORDS, min_size=0, max_size=6), min_size=1, max_size=60).filter(lambda d: any(d))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    docs=CORPORA,
    query=st.lists(WORDS, min_size=1, max_size=8),
    k=st.integers(1, 70),
    epsilon=st.sampled_from([0.25, 0.0, 1.0]),
)
@pytest.mark.slow  # 2-3 s: in CI's slow run
def test_generated_corpora_full_of_ties(docs, query, k, epsilon):
    """Few words and short documents: many equal scores, negative idf, repeats; all three agree."""
    index = BM25Index.build(docs, BM25Params(idf="okapi", epsilon=epsilon))
    (kd, ks, km, _), (nd, ns, nm, _) = both(index, query, k)
    assert (kd, ks, km) == (nd, ns, nm)
    expected = BM25Okapi(docs, epsilon=epsilon).get_scores(query)
    ranking = reference_ranking(expected)
    assert kd == ranking[:k]
    assert ks == [float(expected[d]) for d in kd]


@pytest.mark.slow  # 2-3 s: in CI's slow run
def test_every_kth_score_from_a_million_postings_is_exact():
    """A large generated corpus with Zipf-like words: the kernel against numpy at several depths."""
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(400)]
    p = 1 / np.arange(1, 401)
    p /= p.sum()
    docs = [[vocab[i] for i in rng.choice(400, size=int(n), p=p)] for n in rng.integers(5, 40, size=20000)]
    index = BM25Index.build(docs, OKAPI)
    for _ in range(40):
        query = [vocab[i] for i in rng.choice(400, size=int(rng.integers(1, 8)), p=p)]
        for k in (1, 10, 50):
            compiled, plain = both(index, query, k)
            assert compiled[:3] == plain[:3], (query, k)


def test_a_question_repeating_words_past_the_kernels_limit_is_answered_by_numpy_alike(real_chunks):  # noqa: F811
    index = BM25Index.build(real_chunks, OKAPI)
    query = ["leukemia", "blood", "cell"] * 400
    assert len(index.plan(query).occurrences) > topk.MAX_KERNEL_OCCURRENCES
    ref = BM25Okapi(real_chunks).get_scores(query)
    hits = index.search(query, 10)
    assert [d for d, _ in hits] == reference_ranking(ref)[:10]
    assert [s for _, s in hits] == [float(ref[d]) for d in reference_ranking(ref)[:10]]
