"""Hostile input, generated: whatever people or articles contain, nothing crashes and Telegram accepts
every message whole (judged by tdlib, Telegram's own parser: an independent oracle)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.search.analysis import Analyzer
from bot.answering.answer import Answer, Citation
from bot.corpus.articles import load_corpus
from bot.safety import load_rules
from bot.telegram.html import MAX_ENTITIES, MAX_MESSAGE, answer_html
from tests import tdlib

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=3000)
SHORT_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
HOSTILE = st.sampled_from(
    [
        "<b>",
        "</i>",
        "&amp;",
        "&",
        '<a href="x">',
        '"',
        "'",
        "\u200b",
        "\U0001f600",
        "\n\n",
        "&#x27;",
        "<",
        ">",
        "\ufeff",
        "\x00",
    ]
)
MIXED = st.lists(st.one_of(SHORT_TEXT, HOSTILE), max_size=40).map("".join)
EMOJI_PIECES = ["\U0001f48a", "\u2764\ufe0f", "\U0001f469\u200d\U0001f467", "ok", " ", ". ", "&"]
# Long emoji-dense text and hundreds of highlights, drawn from a seed: cheap to generate, unlike long lists
SEEDED = st.tuples(st.integers(0, 2**32).map(random.Random), st.integers(0, 1500))
EMOJI_DENSE = SEEDED.map(lambda r: "".join(r[0].choice(EMOJI_PIECES) for _ in range(r[1])))
SPANS = SEEDED.map(
    lambda r: tuple(sorted((s, s + r[0].randint(1, 12)) for s in (r[0].randint(0, 3000) for _ in range(r[1] // 4))))
)
LINK = "https://e.org/a?x=1&y=2#:~:text=a%2Cb"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


citations = st.builds(
    lambda rank, passage, title, section, link, excerpt, spans: Citation(
        rank, "a", "a#0", title, section, link, link, passage, 1.0, excerpt, spans
    ),
    st.integers(1, 10),
    st.one_of(ANY_TEXT, MIXED, EMOJI_DENSE),
    MIXED,
    MIXED,
    st.one_of(st.just(""), st.just(LINK), MIXED),
    st.booleans(),
    SPANS,
)


@pytest.mark.slow  # 3-4 s: hundreds of generated answers through tdlib
@FAST
@given(
    question=st.one_of(ANY_TEXT, MIXED),
    cites=st.lists(citations, max_size=6),
    lead=MIXED,
    note=MIXED,
    disclaimer=MIXED,
    helpline=MIXED,
    shown=MIXED,
)
def test_the_renderer_always_makes_valid_telegram_html_within_the_limit(
    analyzer, question, cites, lead, note, disclaimer, helpline, shown
):
    answer = Answer(question, bool(cites), False, tuple(cites), "", disclaimer, helpline, lead, note, shown)
    pages = answer_html(answer)
    links = []
    for page in pages:
        parsed = tdlib.parse_html(page)  # raises where Telegram would refuse it
        assert 0 < parsed.units <= MAX_MESSAGE and len(parsed.entities) <= MAX_ENTITIES
        links += parsed.links()
    assert links.count(LINK) == sum(c.link == LINK for c in cites)  # every link kept (tdlib drops invalid URLs)


@FAST
@given(text=st.one_of(ANY_TEXT, MIXED))
def test_the_analyzer_takes_any_unicode_and_both_paths_agree(analyzer, text):
    from collections import Counter

    tokens = list(analyzer.tokens(text))
    for token in tokens:
        assert token.term and 0 <= token.start < token.end <= len(text)
    assert Counter(analyzer.terms(text)) == Counter(t.term for t in tokens)


@FAST
@given(question=st.one_of(ANY_TEXT, MIXED))
def test_the_question_path_never_crashes_and_always_gives_the_helpline(answerer, question):
    answer = answerer.answer(question)
    assert answer.helpline in answer.message and answer.disclaimer in answer.message
    json.dumps(answer.to_json(), ensure_ascii=False)
    assert load_rules().triage(question) is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(st.sampled_from([".md", ".html", ".jsonl", ".markdown", ".htm"]), st.binary(max_size=2000)),
        min_size=1,
        max_size=4,
    )
)
def test_the_loader_never_crashes_on_random_bytes(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("random")
    for n, (suffix, data) in enumerate(files):
        (folder / f"f{n}{suffix}").write_bytes(data)
    corpus = load_corpus(folder)
    assert len(corpus.articles) + len(corpus.problems) >= 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=12,
)
records = st.one_of(
    json_values,
    st.fixed_dictionaries({"id": json_values, "title": json_values, "url": json_values, "text": json_values}),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(records, min_size=1, max_size=8))
@pytest.mark.slow  # 2-3 s: in CI's slow run
def test_the_loader_never_crashes_on_random_json(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("json")
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r) for r in lines), encoding="utf-8")
    corpus = load_corpus(folder)
    assert len(corpus.articles) + len(corpus.problems) >= 1
    for article in corpus.articles:
        for block in article.blocks:
            assert 0 <= block.start < block.end <= len(article.text)


@FAST
@given(text=st.text(st.characters(max_codepoint=127), max_size=400))
def test_on_ascii_text_the_standard_engine_finds_the_words_the_regex_engine_finds(analyzer, text):
    """terms() and tokens() read ASCII text with `re` (faster): it must split exactly as `regex` does."""
    assert analyzer._ascii_word_re.findall(text) == analyzer._word_re.findall(text)
    assert [m.span() for m in analyzer._ascii_word_re.finditer(text)] == [
        m.span() for m in analyzer._word_re.finditer(text)
    ]


@FAST
@given(
    text=st.one_of(
        st.text(st.characters(max_codepoint=127), max_size=400),
        st.text(st.sampled_from("aZ9 '-_.\t\n\x1c\x7f"), max_size=60),  # joiners next to joiners, ends, spaces
    )
)
def test_on_ascii_text_words_found_without_the_pattern_are_its_words(analyzer, text):
    """terms() splits ASCII text with str.translate and str.split: exactly the pattern's words."""
    from bot.search.analysis import _ascii_words

    assert _ascii_words(text) == analyzer._word_re.findall(text)
