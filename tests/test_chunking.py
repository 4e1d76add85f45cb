"""chunk_article, sentence_spans and sections on articles loaded from written Markdown and JSONL."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search.chunking import ChunkSettings, chunk_article, sections, sentence_spans
from bot.corpus.articles import HEADING, load_corpus
from tests.conftest import SAMPLE_CORPUS, write

SMALL = ChunkSettings(target_chars=200, overlap_sentences=1)

MARKDOWN = """---
title: Naltrexone as an Opium Addiction Treatment
url: https://www.opium.org/naltrexone-as-an-opium-addiction-treatment.html
---

Naltrexone, an opioid antagonist, can be used to treat opium addiction just as it can be used to treat addiction to other opioids. Even though the drug is not as well tolerated as other medications, it can be a beneficial treatment for certain individuals. Dr. Smith of the U.S. National Library of Medicine agrees.

## How Does Naltrexone Work?

According to the National Library of Medicine, the drug “works by decreasing the craving for alcohol and blocking the effects of opiate medications and opioid street drugs.” It cannot be taken while a person is still in detoxification because it triggers a withdrawal reaction in any person who is dependent on opioids. The drug is long-acting.

It only needs to be taken three times a week. Some clinics give it as a monthly injection instead, e.g. when a daily pill is hard to remember.

## Why is There a Low Tolerance Among Addicts?

Despite its many perks, naltrexone is not as well tolerated by most addicts as methadone or buprenorphine normally are. This is because it can be difficult to take naltrexone faithfully, and many individuals just stop taking the drug altogether.

- cravings return when doses are missed
- there is no euphoria to keep people coming back

## Should I Take Naltrexone?

It is important to ask your doctor if they recommend naltrexone, as the medication can only be taken by prescription.
"""

LONG_SENTENCE = (
    "Someone who has been dependent on opium for many years, and who has tried to stop several times "
    "before without medical help, may need a long and carefully supervised detoxification, followed "
    "by a period of therapy, before a doctor will consider prescribing naltrexone at all."
)

JSONL_TEXT = (
    "Naltrexone blocks opioid receptors. It is not addictive. It does not cause euphoria.\n\n"
    "How Is It Taken?\n\n"
    f"Most people take a tablet each day. {LONG_SENTENCE} A monthly shot is another option.\n\n"
    "Side Effects\n\n"
    "Nausea is common. Headache is common too. Both usually pass within the first weeks of treatment. "
    "Tell your doctor about pain in the stomach area that lasts more than a few days."
)


@pytest.fixture
def markdown_article(tmp_path):
    write(tmp_path / "corpus" / "naltrexone.md", MARKDOWN)
    [article] = load_corpus(tmp_path / "corpus").articles
    return article


@pytest.fixture
def jsonl_article(tmp_path):
    record = {"id": "guide", "title": "Naltrexone Guide", "url": "https://x.org/guide", "text": JSONL_TEXT}
    write(tmp_path / "corpus" / "site.jsonl", json.dumps(record) + "\n")
    [article] = load_corpus(tmp_path / "corpus").articles
    return article


@pytest.fixture(params=["markdown", "jsonl"])
def article(request):
    return request.getfixturevalue(f"{request.param}_article")


def heading_spans(article) -> list[tuple[int, int]]:
    return [(b.start, b.end) for b in article.blocks if b.kind == HEADING]


def all_sentences(article) -> list[tuple[int, int]]:
    return [s for _, paras in sections(article) for a, b in paras for s in sentence_spans(article.text, a, b)]


def sentences_in(article, chunk) -> list[tuple[int, int]]:
    return [s for s in all_sentences(article) if chunk.start <= s[0] and s[1] <= chunk.end]


# --- sections -------------------------------------------------------------------------------------


def test_sections_follow_headings_with_lead_text_under_empty_heading(markdown_article):
    found = sections(markdown_article)
    assert [heading for heading, _ in found] == [
        "",
        "How Does Naltrexone Work?",
        "Why is There a Low Tolerance Among Addicts?",
        "Should I Take Naltrexone?",
    ]
    assert [len(paras) for _, paras in found] == [1, 2, 2, 1]


def test_sections_from_jsonl_layout(jsonl_article):
    assert [heading for heading, _ in sections(jsonl_article)] == ["", "How Is It Taken?", "Side Effects"]


def test_sections_without_lead_text_start_at_first_heading(tmp_path):
    write(
        tmp_path / "a.md",
        "---\ntitle: A\nurl: https://x.org/a\n---\n\n## First\n\nOne.\n\n## Empty\n\n## Last\n\nTwo.\n",
    )
    [article] = load_corpus(tmp_path).articles
    assert [heading for heading, _ in sections(article)] == ["First", "Last"]


# --- chunk_article --------------------------------------------------------------------------------


def test_a_section_needs_several_chunks_at_a_small_target(article):
    chunks = chunk_article(article, 0, SMALL)
    per_section = {c.section for c in chunks}
    assert len(chunks) > len(per_section)  # some section was split


def test_every_chunk_lies_inside_its_named_section(article):
    bounds = {heading: (paras[0][0], paras[-1][1]) for heading, paras in sections(article)}
    for chunk in chunk_article(article, 0, SMALL):
        first, last = bounds[chunk.section]
        assert first <= chunk.start < chunk.end <= last, chunk


def test_no_chunk_contains_a_heading(article):
    headings = heading_spans(article)
    assert headings
    for chunk in chunk_article(article, 0, SMALL):
        for start, end in headings:
            assert end <= chunk.start or start >= chunk.end, chunk
            assert article.text[start:end] not in article.text[chunk.start : chunk.end]


def test_text_before_the_first_heading_has_section_empty(markdown_article):
    chunks = chunk_article(markdown_article, 0, SMALL)
    first_heading = heading_spans(markdown_article)[0][0]
    lead = [c for c in chunks if c.start < first_heading]
    assert lead and all(c.section == "" for c in lead)
    assert all(c.section != "" for c in chunks if c.start > first_heading)


def test_chunks_start_and_end_on_sentence_boundaries(article):
    sentences = all_sentences(article)
    starts, ends = {s for s, _ in sentences}, {e for _, e in sentences}
    for chunk in chunk_article(article, 0, SMALL):
        assert chunk.start in starts, chunk
        assert chunk.end in ends, chunk


def test_chunk_offsets_are_inside_the_article_text(article):
    for chunk in chunk_article(article, 0, SMALL):
        assert 0 <= chunk.start < chunk.end <= len(article.text)
        piece = article.text[chunk.start : chunk.end]
        assert piece == piece.strip()
        assert sentences_in(article, chunk), "a chunk covers whole sentences"


def test_chunks_cover_every_sentence(article):
    covered = {s for chunk in chunk_article(article, 0, SMALL) for s in sentences_in(article, chunk)}
    assert covered == set(all_sentences(article))


def test_chunks_stay_near_the_target_size(article):
    for chunk in chunk_article(article, 0, SMALL):
        if len(sentences_in(article, chunk)) > 1:
            assert chunk.end - chunk.start <= SMALL.target_chars + 2  # +2: a blank line between paragraphs


def test_chunk_ids_number_from_zero_within_the_article(article):
    chunks = chunk_article(article, 3, SMALL)
    assert [c.id for c in chunks] == [f"{article.id}#{n}" for n in range(len(chunks))]
    assert {c.article for c in chunks} == {3}


def test_chunks_are_in_text_order(article):
    chunks = chunk_article(article, 0, SMALL)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


SHORT_SENTENCES = " ".join(f"Sentence number {n} is short." for n in range(1, 13))


@pytest.fixture
def short_sentence_article(tmp_path):
    body = f"## Many\n\n{SHORT_SENTENCES}\n"
    write(tmp_path / "short.md", f"---\ntitle: S\nurl: https://x.org/s\n---\n\n{body}")
    [article] = load_corpus(tmp_path).articles
    return article


def test_overlap_of_one_shares_exactly_the_boundary_sentence(short_sentence_article):
    article = short_sentence_article
    chunks = chunk_article(article, 0, ChunkSettings(target_chars=100, overlap_sentences=1))
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:]):
        shared = set(sentences_in(article, before)) & set(sentences_in(article, after))
        assert shared == {sentences_in(article, before)[-1]} == {sentences_in(article, after)[0]}


def test_no_overlap_with_zero_overlap_sentences(short_sentence_article):
    article = short_sentence_article
    chunks = chunk_article(article, 0, ChunkSettings(target_chars=100, overlap_sentences=0))
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:]):
        assert before.end < after.start
        assert after.start == next(s for s, _ in all_sentences(article) if s > before.end)


def test_overlap_does_not_cross_sections(markdown_article):
    chunks = chunk_article(markdown_article, 0, SMALL)
    for before, after in zip(chunks, chunks[1:]):
        if before.section != after.section:
            assert before.end < after.start


def test_sentence_longer_than_target_is_one_whole_chunk(jsonl_article):
    chunks = chunk_article(jsonl_article, 0, SMALL)
    assert len(LONG_SENTENCE) > SMALL.target_chars
    texts = [jsonl_article.text[c.start : c.end] for c in chunks]
    assert LONG_SENTENCE in texts


def test_no_chunk_repeats_only_text_of_the_chunk_before(tmp_path):
    # Overlap must not produce a chunk that lies wholly inside its predecessor: here the shared
    # sentence and the next one do not fit together in 200 characters.
    s0 = "Naltrexone blocks opioid receptors in the brain."
    s1 = (
        "It is started only after detox is complete, because taking it while opioids are still in the body "
        "brings on sudden withdrawal."
    )
    s2 = (
        "Most clinics offer a monthly injection as well as a daily tablet, and many patients find the shot "
        "easier to keep up with."
    )
    write(tmp_path / "a.md", f"---\ntitle: A\nurl: https://x.org/a\n---\n\n## Use\n\n{s0} {s1} {s2}\n")
    [article] = load_corpus(tmp_path).articles
    chunks = chunk_article(article, 0, SMALL)
    for before, after in zip(chunks, chunks[1:]):
        assert not (before.start <= after.start and after.end <= before.end), (
            f"{after.id} {article.text[after.start : after.end]!r} is already all in {before.id}"
        )


def test_default_settings_keep_a_short_section_in_one_chunk(markdown_article):
    chunks = chunk_article(markdown_article, 0)
    assert [c.section for c in chunks] == [heading for heading, _ in sections(markdown_article)]


# --- sentence_spans -------------------------------------------------------------------------------


def split(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentence_spans_split_plain_sentences():
    assert split("What is it? It is a drug! It helps.") == ["What is it?", "It is a drug!", "It helps."]


@pytest.mark.parametrize(
    "text",
    [
        "Ask Dr. Smith about it. He knows.",
        "Some medicines, e.g. naltrexone, block opioids. Others do not.",
        "It is approved in the U.S. for this use. It is safe.",
        "Take 50 mg. daily with food. Then rest.",
    ],
)
def test_abbreviations_do_not_end_sentences(text):
    assert len(split(text)) == 2


def test_line_break_always_ends_a_sentence():
    assert split("- fewer cravings\n- no euphoria after use\nCall us") == [
        "- fewer cravings",
        "- no euphoria after use",
        "Call us",
    ]


def test_closing_quote_stays_with_its_sentence():
    text = "the drug “works by blocking.” It cannot be taken during detox."
    assert split(text) == ["the drug “works by blocking.”", "It cannot be taken during detox."]


def test_closing_straight_quote_stays_with_its_sentence():
    assert split('He said "it works." Then he left.') == ['He said "it works."', "Then he left."]


def test_sentence_spans_are_absolute_within_a_range():
    text = "Skip this. Keep one. Keep two. Skip too."
    start = text.index("Keep one")
    end = text.index(" Skip too")
    assert [text[s:e] for s, e in sentence_spans(text, start, end)] == ["Keep one.", "Keep two."]


def test_sentence_spans_skip_blank_lines():
    assert split("One.\n\n   \nTwo.") == ["One.", "Two."]


# --- ChunkSettings --------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"target_chars": 49}, {"target_chars": 0}, {"overlap_sentences": -1}])
def test_chunk_settings_reject_bad_values(kwargs):
    with pytest.raises(ValueError):
        ChunkSettings(**kwargs)


def test_chunk_settings_accept_the_smallest_values():
    assert ChunkSettings(target_chars=50, overlap_sentences=0).as_dict() == {"target_chars": 50, "overlap_sentences": 0}


# --- The shipped sample corpus --------------------------------------------------------------------


def test_sample_corpus_seed_article_and_related_excerpts():
    corpus = load_corpus(SAMPLE_CORPUS)
    assert corpus.problems == []
    articles = {a.id: a for a in corpus.articles}
    seed = articles["naltrexone-as-an-opium-addiction-treatment"]
    assert seed.title == "Naltrexone as an Opium Addiction Treatment"
    assert seed.url == "https://www.opium.org/naltrexone-as-an-opium-addiction-treatment.html"
    assert seed.excerpt is False
    assert [seed.text[b.start : b.end] for b in seed.blocks if b.kind == HEADING] == [
        "How Does Naltrexone Work to Treat Opium Addiction?",
        "Why is There a Low Tolerance Among Addicts?",
        "Can Naltrexone Be Part of a Well-rounded Opium Addiction Treatment Program?",
        "Should I Take Naltrexone as an Opium Addiction Treatment?",
    ]
    related = [a for a in corpus.articles if a.id.startswith("related/")]
    assert len(related) == 5
    assert all(a.excerpt for a in related)
    for a in corpus.articles:
        for chunk in chunk_article(a, 0, SMALL):
            assert a.text[chunk.start : chunk.end].strip()


# --- the fast punkt against nltk's own --------------------------------------------------------------


def _nltk_punkt():
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    from bot.search.chunking import abbreviations

    params = PunktParameters()
    params.abbrev_types = abbreviations()
    return PunktSentenceTokenizer(params)


@pytest.mark.slow  # an equivalence check over much text: CI runs it with -m slow
def test_the_fast_punkt_splits_real_pages_as_nltk_does():
    """Every line of MedQuAD's first 300 pages and of the sample articles: the same spans as nltk's punkt."""
    import itertools

    from bot.search.chunking import _punkt
    from tests.conftest import SHARED_DATA

    fast, reference = _punkt(), _nltk_punkt()
    texts = [a.text for a in load_corpus(SAMPLE_CORPUS).articles]
    with open(SHARED_DATA / "medquad" / "articles.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in itertools.islice(f, 300)]
    lines = [line for text in texts for line in text.split("\n") if line.strip()]
    assert len(lines) > 2000
    for line in lines:
        assert list(fast.span_tokenize(line)) == list(reference.span_tokenize(line)), line
    for text in texts:  # and sentence_spans, which skips punkt for a line without ".", "?" or "!"
        expected = [
            (m.start() + s, m.start() + e)
            for m in re.finditer(r"[^\n]+", text)
            for s, e in reference.span_tokenize(m.group())
            if m.group()[s:e].strip()
        ]
        assert sentence_spans(text) == expected


PUNKT_PIECES = [
    "Dr.",
    "J.",
    "e.g.",
    "etc.",
    "U.S.",
    "12.",
    "3.5",
    "mg.",
    "no.",
    "Fig.",
    "vs.",
    "...",
    "..",
    ".",
    "?",
    "!",
    "?!",
    '"',
    ")",
    "(",
    "a.",
    "A.",
    "cells.",
    "Most",
    "most",
    "the",
    "drug",
    "1990.",
    "-",
    ",",
    ";",
    ":",
    "It",
    "it",
    "II.",
    "x.y.",
    "naltrexone.",
    "Call",
    "911.",
    "e.",
    "St.",
    "st.",
    "p.m.",
    "'",
    "—",
    "\n",
    "\n\n",
    # what the fast path reads otherwise than by its main road: other whitespace before a candidate,
    # "\x1c" (whitespace to one regex engine, not to the other), closing quotes and brackets to realign
    "\t",
    "\x0c",
    "\x1c",
    "\u00a0",
    "\u2019",
    "\u201d",
    "\u00bb",
    "]",
    "word.)",
    'it."',
    "go!)",
    "x.--",
]
PUNKT_WORDS = st.sampled_from(PUNKT_PIECES)


@pytest.mark.slow  # 2-3.5 s of generated text through both splitters
@settings(max_examples=400, deadline=None)
@given(words=st.lists(PUNKT_WORDS, max_size=30), spaces=st.lists(st.sampled_from([" ", "", "  "]), max_size=30))
def test_the_fast_punkt_splits_generated_text_as_nltk_does(words, spaces):
    from bot.search.chunking import _punkt

    text = "".join(w + (spaces[i] if i < len(spaces) else " ") for i, w in enumerate(words))
    assert list(_punkt().span_tokenize(text)) == list(_nltk_punkt().span_tokenize(text)), text


# --- the compiled splitter against the Python path ------------------------------------------------------------


def _both_ways(monkeypatch, texts: list[str], ranges: bool = False) -> None:
    """bot/search/_punkt.c and the Python loops it stands in for: the same spans, whole texts and parts."""
    from bot.search import chunking

    if chunking._c_sentence_spans is None:
        pytest.skip("the sentence splitter is not compiled here (no C compiler at install)")
    cuts = [(0, None)] + ([(1, -1), (3, 40)] if ranges else [])
    compiled = [[sentence_spans(t, a, len(t) + b if b is not None and b < 0 else b) for a, b in cuts] for t in texts]
    with monkeypatch.context() as m:
        m.setattr(chunking, "_c_sentence_spans", None)
        python = [[sentence_spans(t, a, len(t) + b if b is not None and b < 0 else b) for a, b in cuts] for t in texts]
    for text, got, expected in zip(texts, compiled, python):
        assert got == expected, text


def test_the_compiled_splitter_splits_real_pages_as_the_python_path_does(monkeypatch):
    """MedQuAD's first 300 pages and the sample articles: every sentence where the Python path has it."""
    import itertools

    from tests.conftest import SHARED_DATA

    texts = [a.text for a in load_corpus(SAMPLE_CORPUS).articles]
    with open(SHARED_DATA / "medquad" / "articles.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in itertools.islice(f, 300)]
    _both_ways(monkeypatch, texts)


def test_the_compiled_splitter_splits_generated_text_as_the_python_path_does(monkeypatch):
    """Text made of punkt's hard cases (abbreviations, initials, numbers, ellipses, closing quotes to realign,
    other whitespace, characters beyond ASCII and "\\x1c", which it leaves to the Python path), whole and in
    parts, and a line past the long-line limit."""
    import random

    from bot.search import punkt_fast

    rng = random.Random(11)
    pieces = PUNKT_PIECES + ["--", "\r", "\x0b", "\u3000", "\U0001f600", "\u2028", "«", "x"]
    texts = [
        "".join(rng.choice(pieces) + rng.choice(["", " ", "  "]) for _ in range(rng.randint(0, 40)))
        for _ in range(2000)
    ]
    _both_ways(monkeypatch, texts, ranges=True)
    _both_ways(monkeypatch, ["a" * punkt_fast.LONG_LINE + " ends. Dr. Who came. It works.\nShort line. Two."])
