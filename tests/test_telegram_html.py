"""The Telegram renderer on its own: escaped, bold where the question's words are, split safely."""
from __future__ import annotations

import re

import pytest

from bot.search.analysis import Analyzer
from bot.answering.answer import Answer, Citation
from bot.telegram.html import MAX_MESSAGE, answer_html, highlight, split_messages

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


def citation(passage: str, rank: int = 1, title: str = "Naltrexone <basics> & more", section: str = 'Is it "safe"?',
             link: str = "https://example.org/a?x=1&y=\"2\"", words: tuple[str, ...] = ()) -> Citation:
    spans = tuple((m.start(), m.end()) for w in words for m in re.finditer(re.escape(w), passage))
    return Citation(rank, "a", "a#0", title, section, link, link, passage, 3.0, highlights=tuple(sorted(spans)))


def answer(question: str, citations, disclaimer: str = "Not advice <b>", helpline: str = "Line & co: 1-800",
           note: str = "I couldn't find <that>") -> Answer:
    return Answer(question, bool(citations), False, tuple(citations), "", disclaimer, helpline, note=note)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def test_question_words_are_bold_and_everything_is_escaped(analyzer):
    [page] = answer_html(answer("<script> naltrexone & detox", [
        citation("Naltrexone <b>can't</b> be taken during detoxification & \"withdrawal\".",
                 words=("Naltrexone", "detoxification"))]))
    assert_valid_telegram_html(page)
    assert "<b>Naltrexone</b>" in page and "<b>detoxification</b>" in page
    assert "&lt;b&gt;can't&lt;/b&gt;" in page and '&amp; "withdrawal"' in page
    assert '<a href="https://example.org/a?x=1&amp;y=&quot;2&quot;">Naltrexone &lt;basics&gt; &amp; more \u203a Is it "safe"?</a>' in page
    assert "<i>Not advice &lt;b&gt;</i>" in page and "Line &amp; co: 1-800" in page
    assert "<script>" not in page


def test_no_answer_still_has_the_footer(analyzer):
    [page] = answer_html(answer("bread", []))
    assert "I couldn't find &lt;that&gt;" in page and "Line &amp; co: 1-800" in page
    assert_valid_telegram_html(page)


def test_highlight_bolds_the_spans_and_escapes_the_rest():
    assert highlight("Opioid & antagonists and opioids", [(0, 6), (25, 32)]) == \
        "<b>Opioid</b> &amp; antagonists and <b>opioids</b>"
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
        assert len(page) <= MAX_MESSAGE
        assert_valid_telegram_html(page)
    assert "".join(pages).count("<a href") == 7
    assert pages[-1].rstrip().endswith("1-800")


def test_one_giant_paragraph_is_cut_between_words_with_tags_closed_and_reopened():
    paragraph = "<b>" + "word " * 2000 + "</b> <i>" + "x" * 9000 + "</i>"
    pages = split_messages([paragraph], 4096)
    assert len(pages) > 2
    for page in pages:
        assert len(page) <= 4096
        assert_valid_telegram_html(page)
    visible = re.sub(r"<[^>]+>", "", "".join(pages))
    assert visible.count("word") == 2000 and visible.count("x") == 9000


def test_entities_are_never_cut():
    paragraph = "&amp;" * 2000
    for page in split_messages([paragraph], 4096):
        assert_valid_telegram_html(page)
