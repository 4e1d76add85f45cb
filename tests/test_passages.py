"""The passage chooser's weighing: the run of sentences it picks is the one a plain search over every run picks."""

from __future__ import annotations

import random

from bot.answering import passages
from bot.answering.passages import CONTEXT_SHARE, CUE_BONUS, TOGETHER_BONUS, best_run


def _every_run(asked_in, cued_at, inside, weights, context_asked, max_sentences):
    """The weighing as it was written before runs that add nothing were skipped: every run, weighed."""
    top = max(weights.values(), default=0.0)
    best, best_span = (-1.0, 0, 0), (0, 0)
    for first in range(inside):
        covered, cued = set(), 0.0
        for last in range(first, min(first + max_sentences, len(asked_in))):
            covered |= asked_in[last]
            cued = max(cued, cued_at[last])
            weight = (
                sum(weights[t] for t in covered)
                + CONTEXT_SHARE * sum(weights[t] for t in context_asked - covered)
                + cued * top
            )
            key = (round(weight, 9), -(last - first), -first)
            if key > best:
                best, best_span = key, (first, last)
    return best, best_span


def test_best_run_is_the_plain_search_over_every_run_on_generated_sentences_full_of_ties():
    rng = random.Random(14)
    for case in range(3000):
        terms = [f"t{i}" for i in range(rng.randrange(1, 6))]
        # few distinct weights, so that equal sums (ties) are common
        weights = {t: rng.choice([0.5, 1.0, 1.0, 2.25, 3.0]) for t in terms}
        n = rng.randrange(1, 9)
        asked_in = [frozenset(t for t in terms if rng.random() < 0.3) for _ in range(n)]
        cued_at = [rng.choice([CUE_BONUS, TOGETHER_BONUS]) if rng.random() < 0.2 else 0.0 for _ in range(n)]
        context = frozenset(t for t in terms if rng.random() < 0.3)
        inside = rng.randrange(1, n + 1)
        for max_sentences in (1, 2, 3, 5):
            args = (asked_in, cued_at, inside, weights, context, max_sentences)
            assert best_run(*args) == _every_run(*args), (case, args)


def test_scored_passage_gives_the_same_span_with_the_answerers_caches_and_without(tmp_path):
    from bot.search.analysis import Analyzer

    analyzer = Analyzer()
    text = (
        "Naltrexone is taken once a day. It blocks the effects of opioids. "
        "Symptoms include:\n- nausea\n- headache\n\nAnother common problem is binge drinking. "
        "Men should have no more than four drinks a day. It cannot be taken while still in detox."
    )
    weights = {t: 1.0 + i for i, t in enumerate(analyzer.terms("naltrexone how often drinks detox symptoms"))}
    for cues in ((), passages.cues_for("how often"), passages.cues_for("how many drinks")):
        for start in (0, 34, 70, 140):
            plain = passages.scored_passage(text, start, min(len(text), start + 60), weights, analyzer, cues=cues)
            kept = passages.scored_passage(
                text,
                start,
                min(len(text), start + 60),
                weights,
                analyzer,
                cues=cues,
                terms_of=lambda s, e: frozenset(analyzer.terms(text[s:e])),
                cued=lambda s, e, cues=cues: passages.cue_bonus(text[s:e], cues),
            )
            assert plain == kept


def test_with_meaning_the_sentence_closest_to_the_question_wins_where_the_words_tie():
    words = [frozenset({"withdraw"}), frozenset({"withdraw"}), frozenset()]
    weights = {"withdraw": 2.0}
    _, lexical = best_run(words, [0.0] * 3, 3, weights, frozenset(), 1)
    _, meant = best_run(words, [0.0] * 3, 3, weights, frozenset(), 1, near_at=[0.1, 0.6, 0.9])
    assert lexical == (0, 0)  # a tie goes to the earlier sentence
    assert meant == (1, 1)  # the closer of the two that hold the word; the closest holds none and loses


def test_a_short_sentence_takes_what_follows_it_even_past_a_paragraph():
    from bot.search.analysis import Analyzer

    text = (
        "Quitting smoking is important for your health.\n\nSoon after you quit, your circulation begins to "
        "improve, and your blood pressure starts to return to normal. Your senses of smell and taste come back, and "
        "breathing gets easier within weeks. Your lungs start to clear, and the cough fades over the first months.\n\n"
        "Long after that, the risk of cancer falls."
    )
    weights = {"quit": 2.0, "smoke": 2.0}
    analyzer = Analyzer()
    start, end, _ = passages.scored_passage(text, 0, 47, weights, analyzer)
    quoted = text[start:end]
    assert quoted.startswith("Quitting smoking") and "circulation begins to improve" in quoted
    assert len(quoted) >= passages.SHORT_CHARS and "cancer" not in quoted  # grown to the length, no further


def test_a_short_passage_takes_the_next_sentence_of_its_paragraph_only_when_it_holds_what_was_asked():
    from bot.search.analysis import Analyzer

    opening = (
        "Moderate drinking is probably safe for many people and may even have some benefits for the heart, "
        "although the evidence on that point is mixed and still debated by researchers in the field, who keep "
        "publishing studies that point in different directions. "
    )  # longer than SHORT_CHARS: only what the next sentence holds decides
    answering = "For men under 65, moderate drinking is no more than four drinks a day."
    elsewhere = "Pregnant women are advised to avoid alcohol entirely."
    analyzer = Analyzer()
    weights = {t: 1.0 for t in analyzer.terms("how many drinks a day for men")}
    for follow, taken in ((answering, True), (elsewhere, False)):
        text = opening + follow + "\n\nA new section starts here about men and drinks."
        start, end, _ = passages.scored_passage(text, 0, len(opening), weights, analyzer, max_sentences=1)
        assert (follow in text[start:end]) is taken
        assert "new section" not in text[start:end]
