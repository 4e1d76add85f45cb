"""The Telegram renderer on its own: escaped, bold where the question's words are, split safely, and every
message within Telegram's limits as Telegram's own parser (tdlib) counts them."""

from __future__ import annotations

import re

import pytest

from bot.search.analysis import Analyzer
from bot.answering.answer import Answer, Citation
from bot.telegram.html import (
    ELLIPSIS,
    MAX_ENTITIES,
    MAX_MESSAGE,
    Block,
    answer_html,
    fit_messages,
    highlight,
    shared_html,
    shorten,
    split_messages,
    utf16_len,
    visible_length,
)
from tests import tdlib

ALLOWED_TAGS = {"b", "i", "a"}


def assert_valid_telegram_html(text: str) -> None:
    """Only known tags, properly nested; '&' only as an entity; no raw '<' or '>' in text."""
    stack = []
    for m in re.finditer(r"<(/?)([a-z]+)((?:\s+href=\"[^\"<>]*\")?)>|[<>]|&(?!(?:lt|gt|amp|quot|#x?[0-9a-f]+);)", text):
        if not m.group(2):
            raise AssertionError(f"raw {m.group()!r} at {m.start()} in {text!r}")
        name = m.group(2)
        assert name in ALLOWED_TAGS, name
        if m.group(1):
            assert stack and stack[-1] == name, f"</{name}> closes {stack}"
            stack.pop()
        else:
            stack.append(name)
    assert not stack, f"unclosed {stack}"


def judged(page: str) -> tdlib.Parsed:
    """What Telegram makes of the page; fails where Telegram would refuse it or drop formatting."""
    parsed = tdlib.parse_html(page)
    assert parsed.units <= MAX_MESSAGE, f"{parsed.units} UTF-16 units"
    assert len(parsed.entities) <= MAX_ENTITIES, f"{len(parsed.entities)} entities"
    return parsed


def citation(
    passage: str,
    rank: int = 1,
    title: str = "Naltrexone <basics> & more",
    section: str = 'Is it "safe"?',
    link: str = 'https://example.org/a?x=1&y="2"',
    words: tuple[str, ...] = (),
) -> Citation:
    spans = tuple((m.start(), m.end()) for w in words for m in re.finditer(re.escape(w), passage))
    return Citation(rank, "a", "a#0", title, section, link, link, passage, 3.0, highlights=tuple(sorted(spans)))


def answer(
    question: str,
    citations,
    disclaimer: str = "Not advice <b>",
    helpline: str = "Line & co: 1-800",
    note: str = "I couldn't find <that>",
) -> Answer:
    return Answer(question, bool(citations), False, tuple(citations), "", disclaimer, helpline, note=note)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def test_question_words_are_bold_and_everything_is_escaped(analyzer):
    [page] = answer_html(
        answer(
            "<script> naltrexone & detox",
            [
                citation(
                    'Naltrexone <b>can\'t</b> be taken during detoxification & "withdrawal".',
                    words=("Naltrexone", "detoxification"),
                )
            ],
        )
    )
    assert_valid_telegram_html(page)
    assert "<b>Naltrexone</b>" in page and "<b>detoxification</b>" in page
    assert "&lt;b&gt;can't&lt;/b&gt;" in page and '&amp; "withdrawal"' in page
    assert (
        '<a href="https://example.org/a?x=1&amp;y=&quot;2&quot;">Naltrexone &lt;basics&gt; &amp; more \u203a Is it "safe"?</a>'
        in page
    )
    assert "<i>Not advice &lt;b&gt;</i>" in page and "Line &amp; co: 1-800" in page
    assert "<script>" not in page


def test_no_answer_still_has_the_footer(analyzer):
    [page] = answer_html(answer("bread", []))
    assert "I couldn't find &lt;that&gt;" in page and "Line &amp; co: 1-800" in page
    assert_valid_telegram_html(page)


def test_highlight_bolds_the_spans_and_escapes_the_rest():
    assert (
        highlight("Opioid & antagonists and opioids", [(0, 6), (25, 32)])
        == "<b>Opioid</b> &amp; antagonists and <b>opioids</b>"
    )
    assert highlight("short", [(0, 5), (3, 4), (4, 99)]) == "<b>short</b>"  # overlapping or past a cut: plain


def test_the_core_highlights_whole_words_stems_and_synonyms(answerer):
    cited = answerer.answer("can i take vivitrol while detoxing").citations
    words = {c.passage[s:e].lower() for c in cited for s, e in c.highlights}
    assert "naltrexone" in words and "detoxification" in words
    assert all(not c.passage[s - 1].isalnum() for c in cited for s, _ in c.highlights if s > 0)


def test_long_replies_split_at_paragraphs_within_the_limit(analyzer):
    passages = [citation(("Naltrexone blocks opioids. " * 60).strip(), rank=i) for i in range(1, 8)]
    pages = answer_html(answer("naltrexone", passages))
    assert len(pages) > 1
    for page in pages:
        judged(page)
        assert_valid_telegram_html(page)
    assert "".join(pages).count("<a href") == 7
    assert pages[-1].rstrip().endswith("1-800")


def test_one_giant_paragraph_is_cut_between_words_with_tags_closed_and_reopened():
    paragraph = "<b>" + "word " * 2000 + "</b> <i>" + "x" * 9000 + "</i>"
    pages = split_messages([paragraph], 4096)
    assert len(pages) > 2
    for page in pages:
        assert_valid_telegram_html(page)
    assert all(judged(page).units > 3000 for page in pages[:-1])  # full pages, not one word each
    visible = re.sub(r"<[^>]+>", "", "".join(pages))
    assert visible.count("word") == 2000 and visible.count("x") == 9000


def test_entities_are_never_cut():
    paragraph = "&amp;" * 5000
    pages = split_messages([paragraph], 4096)
    for page in pages:
        assert_valid_telegram_html(page)
    assert sum(judged(page).units for page in pages) == 5000


EMOJI = "\U0001f48a\U0001f4aa\U0001f64f"  # three emoji, six UTF-16 units


def test_emoji_dense_replies_are_measured_in_utf16_units_and_lose_no_passage():
    """1,200-character quotes that are half emoji: about 1,800 units each, where len() sees 1,200."""
    passage = " ".join(f"ok{EMOJI} naltrexone{EMOJI}." for _ in range(60))[:1200]
    cited = [citation(passage, rank=i, link=f"https://example.org/{i}", words=("naltrexone",)) for i in (1, 2, 3)]
    pages = answer_html(answer("naltrexone", cited))
    parsed = [judged(page) for page in pages]
    assert sum(len(p.text) for p in parsed) < MAX_MESSAGE < sum(p.units for p in parsed)  # len() would send one
    assert [link for p in parsed for link in p.links()] == [f"https://example.org/{i}" for i in (1, 2, 3)]
    assert all(EMOJI in p.text for p in parsed[:-1]) and "Line & co: 1-800" in parsed[-1].text


def test_hundreds_of_highlights_give_way_to_the_links():
    """Every word bold would be 300 entities; Telegram would drop the links after the 100th."""
    passage = " ".join(["naltrexone"] * 109)
    cited = [citation(passage, rank=i, link=f"https://example.org/{i}", words=("naltrexone",)) for i in (1, 2, 3)]
    assert sum(len(c.highlights) for c in cited) == 327
    [page] = answer_html(answer("naltrexone", cited))
    parsed = judged(page)
    assert parsed.links() == [f"https://example.org/{i}" for i in (1, 2, 3)]
    assert len(parsed.entities) == MAX_ENTITIES  # the rest of the budget still bolds words
    bold = [page.count("<b>naltrexone</b>", page.find(f"<b>{i}.</b>")) for i in (1, 2, 3)]
    assert bold[0] - bold[1] == bold[1] - bold[2] and bold[2] > 25  # shared out: every passage keeps some


def test_a_shared_passage_keeps_its_link_and_fits_one_message():
    shared = shared_html(
        citation(" ".join(["naltrexone"] * 150), words=("naltrexone",)), "<i>Not advice</i>\n\u260e\ufe0f Line"
    )
    parsed = judged(shared)
    assert len(parsed.links()) == 1 and parsed.text.endswith("Line")


def test_a_passage_too_long_for_any_message_is_cut_at_a_sentence_keeping_its_link():
    sentence = f"Naltrexone{EMOJI} & blocks <opioids> at the receptor. "
    block = Block("<b>1.</b> ", sentence * 200, (), '\n\u2014 <a href="https://e.org/n">Naltrexone</a>')
    [page] = fit_messages([block])
    parsed = judged(page)
    assert parsed.units > MAX_MESSAGE - 60 and parsed.links() == ["https://e.org/n"]
    assert parsed.text.split("\n")[0].endswith("receptor." + ELLIPSIS)
    assert_valid_telegram_html(page)


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("One. Two three four. Five six seven eight", 30, "One. Two three four." + ELLIPSIS),  # a sentence
        ("One two three four five six seven eight nine", 20, "One two three four" + ELLIPSIS),  # else a word
        ("x" * 50, 10, "x" * 8 + ELLIPSIS),  # else anywhere
        ("short", 10, "short"),
    ],
)
def test_shorten_cuts_at_a_sentence_then_a_word(text, limit, expected):
    assert shorten(text, limit) == expected


@pytest.mark.parametrize("unit", ["\u2764\ufe0f", "\U0001f469\u200d\U0001f467", "\U0001f44d\U0001f3fd", "e\u0301"])
def test_shorten_in_utf16_units_never_splits_an_emoji_sequence_or_an_accent(unit):
    text = unit * 30
    for limit in range(8, 60):  # room for one unit at least, and the ellipsis
        cut = shorten(text, limit, utf16_len)
        assert utf16_len(cut) <= limit
        head = cut.removesuffix(ELLIPSIS)
        assert head and head == unit * (len(head) // len(unit)), repr(cut)


def test_visible_length_counts_what_telegram_counts():
    for markup in [
        "<b>a</b> &amp; &lt;b&gt;",
        f'<a href="https://e.org/?a=1&amp;b=&quot;">{EMOJI}</a>',
        "\u2764\ufe0f\n\n",
    ]:
        assert visible_length(markup) == tdlib.parse_html(markup).units


def test_utf16_len_counts_as_utf16_does_astral_characters_two_and_a_lone_surrogate_one():
    import random

    from bot.telegram.html import utf16_len

    rng = random.Random(14)
    alphabet = ["a", " ", "é", "\u2028", "日", "\U0001f600", "\U0010ffff", "\ud800", "\udfff", "\x00", "\uffff"]
    texts = ["", "plain ascii", "\U0001f600", "\ud83d\ude00"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) for _ in range(500)
    ]
    for text in texts:
        assert utf16_len(text) == len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF), repr(text)
