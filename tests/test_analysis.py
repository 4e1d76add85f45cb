"""The analyzer: what a question and an article have to agree on for the right passage to be found."""

from __future__ import annotations

import nltk
import pytest

from bot.search.analysis import Analyzer, AnalyzerSettings


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_runs_with_no_nltk_data_at_all(analyzer):
    with pytest.raises(LookupError):
        nltk.data.find("tokenizers/punkt_tab")
    with pytest.raises(LookupError):
        nltk.data.find("corpora/stopwords")
    assert analyzer.terms("Naltrexone blocks opioids.") == ["naltrexon", "block", "opioid"]


def test_case_and_unicode_forms_meet(analyzer):
    assert analyzer.terms("NALTREXONE") == analyzer.terms("naltrexone")
    assert analyzer.terms("\uff2e\uff41\uff4c\uff54\uff52\uff45\uff58\uff4f\uff4e\uff45") == analyzer.terms(
        "naltrexone"
    )  # full-width
    assert analyzer.terms("na\u00efve cr\u00e8me") == analyzer.terms("naive creme")
    assert analyzer.terms("\ufb01x") == analyzer.terms("fix")  # the "fi" ligature


def test_punctuation_is_not_part_of_words(analyzer):
    assert analyzer.terms("methadone, buprenorphine; (naltrexone)!?") == analyzer.terms(
        "methadone buprenorphine naltrexone"
    )


def test_possessives_and_curly_apostrophes(analyzer):
    assert analyzer.terms("the doctor's advice") == analyzer.terms("doctor advice")
    assert analyzer.terms("the doctor\u2019s advice") == analyzer.terms("doctor advice")
    assert analyzer.terms("the addicts' families") == analyzer.terms("addicts families")


def test_contractions_without_apostrophes_are_stopwords(analyzer):
    assert analyzer.terms("I'm still detoxing") == analyzer.terms("im still detoxing") == ["still", "detox"]
    assert analyzer.terms("don't") == analyzer.terms("dont") == []


def test_hyphenated_words_match_joined_and_spaced_forms(analyzer):
    hyphen = analyzer.terms("a 12-step group")
    assert set(analyzer.terms("12 step")) <= set(hyphen)
    assert set(analyzer.terms("12step")) <= set(hyphen)
    assert set(analyzer.terms("long\u2013acting")) == set(analyzer.terms("long-acting"))  # en dash typed as hyphen


def test_stemming_joins_word_forms(analyzer):
    assert analyzer.terms("withdrawals") == analyzer.terms("withdrawal") == analyzer.terms("withdraw")
    assert analyzer.terms("relapsing") == analyzer.terms("relapse")
    # The shipped overrides join families the stemmer splits.
    assert analyzer.terms("detoxification") == analyzer.terms("detoxing") == analyzer.terms("detox")
    assert analyzer.terms("taken") == analyzer.terms("take")


def test_stopwords_are_dropped_and_can_be_kept(analyzer):
    assert analyzer.terms("what is the best way to stop") == ["best", "way", "stop"]
    keep = Analyzer(AnalyzerSettings(stopwords=False))
    assert "what" in keep.terms("what is the best way to stop")


def test_spans_point_at_the_original_words(analyzer):
    text = "Can I take NALTREXONE\u2019s pills?"
    tokens = list(analyzer.tokens(text))
    assert [text[t.start : t.end] for t in tokens] == ["take", "NALTREXONE\u2019s", "pills"]


def test_no_stemming_setting():
    assert Analyzer(AnalyzerSettings(stemmer="none")).terms("relapsing") == ["relapsing"]
    assert Analyzer(AnalyzerSettings(stemmer="porter")).terms("relapsing") == ["relaps"]
    with pytest.raises(ValueError, match="unknown stemmer"):
        AnalyzerSettings(stemmer="lancaster-ish")


def test_fingerprint_changes_with_settings(analyzer):
    assert analyzer.fingerprint == Analyzer().fingerprint
    assert analyzer.fingerprint != Analyzer(AnalyzerSettings(stemmer="porter")).fingerprint
    assert analyzer.fingerprint != Analyzer(AnalyzerSettings(stopwords=False)).fingerprint
    assert analyzer.fingerprint["stopwords_sha256"]


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "!!!???", "\U0001f600\U0001f48a", "\x00\x01", "a" * 10000])
def test_odd_input_never_crashes(analyzer, text):
    assert isinstance(analyzer.terms(text), list)


def test_the_fast_terms_path_equals_the_token_path(analyzer):
    from collections import Counter

    from tests.conftest import SAMPLE_CORPUS

    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE_CORPUS.rglob("*.md"))]
    texts += [
        "NA meetings, Narcotics Anonymous and a 12-step (twelve step) group",
        "dope sick on subs",
        "medication-assisted treatment",
        "O'Neil's naïve ﬁx — don't",
        "",
    ]
    for text in texts:
        assert Counter(analyzer.terms(text)) == Counter(t.term for t in analyzer.tokens(text)), text
        assert Counter(analyzer.terms(text)) == Counter(analyzer.terms(text))  # and the cache changes nothing


def test_the_compiled_word_lookup_gives_the_python_paths_terms(monkeypatch):
    """bot/search/_words.c (compiled by pip install) and the Python path it stands in for: the same terms in
    the same order (the index's term ids follow it), on real text, text full of joiners, and phrases; the
    words met kept in its table give what they gave the first time."""
    import json
    import random
    import itertools

    from bot.search import analysis
    from tests.conftest import SAMPLE_CORPUS, SHARED_DATA

    if analysis._CWordTable is None:
        pytest.skip("the word lookup is not compiled here (no C compiler at install)")
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE_CORPUS.rglob("*.md"))]
    with open(SHARED_DATA / "medquad" / "articles.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"][:3000] for line in itertools.islice(f, 100)]
    rng = random.Random(7)
    pieces = ["a", "Z", "9", "'", "-", " ", "--", "''", ".", "_", "twelve", "step", "12-step", "NA", "meetings"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(1000)]
    texts += ["twelve step programs and narcotics anonymous", "opioid use disorder, medication-assisted"]
    compiled = Analyzer()
    with monkeypatch.context() as m:
        m.setattr(analysis, "_CWordTable", None)
        python = Analyzer()
        expected = [python.terms(t) for t in texts]
        again = [python.terms(t) for t in texts]  # and from its caches
    assert expected == again
    assert [compiled.terms(t) for t in texts] == expected  # the compiled path, learning the words as it goes
    assert [compiled.terms(t) for t in texts] == expected  # and from its table of the words met
    assert [compiled.terms(t) for t in texts] == expected  # and with every word known


def test_spans_of_some_terms_are_the_spans_of_those_tokens(analyzer):
    """spans_of(text, terms), what highlighting reads, is [(t.start, t.end) for t in tokens(text) if t.term in
    terms] in the same order, phrases (sorted in among the words) included: on real text, on text full of
    phrases and joiners, for term sets with and without a phrase's concept."""
    import json
    import random
    import itertools

    from tests.conftest import SAMPLE_CORPUS, SHARED_DATA

    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE_CORPUS.rglob("*.md"))]
    with open(SHARED_DATA / "medquad" / "articles.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"][:2000] for line in itertools.islice(f, 60)]
    rng = random.Random(5)
    pieces = ["twelve", "step", "12-step", "post", "traumatic", "stress", "disorder", "NA", "dope", "sick", "é", "-"]
    pieces += ["Narcotics", "Anonymous", "'", " ", ", ", "naltrexone", "use"]
    texts += [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(600)]
    phrased = 0
    for text in texts:
        tokens = list(analyzer.tokens(text))
        terms = sorted({t.term for t in tokens})
        phrased += any("_" in t for t in terms)
        for chosen in (set(terms), set(rng.sample(terms, len(terms) // 2)), {t for t in terms if "_" in t}, set()):
            assert analyzer.spans_of(text, chosen) == [(t.start, t.end) for t in tokens if t.term in chosen], text
    assert phrased > 50
