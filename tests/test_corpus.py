"""load_corpus on written fixtures: Markdown, HTML and JSON Lines in, articles with blocks out,
and every unusable file or line reported with its reason while the rest still loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.corpus.articles import HEADING, PARAGRAPH, CorpusError, corpus_fingerprint, load_corpus
from tests.conftest import write

GOOD_MD = """---
title: Good Article
url: https://www.opium.org/good-article.html
---

Naltrexone is an opioid antagonist. It blocks the effects of opioids.
"""


def md(title: str, url: str, body: str, **extra: str) -> str:
    meta = "".join(f"{k}: {v}\n" for k, v in extra.items())
    return f"---\ntitle: {title}\nurl: {url}\n{meta}---\n\n{body}"


def block_texts(article, kind=None) -> list[str]:
    return [article.text[b.start : b.end] for b in article.blocks if kind is None or b.kind == kind]


def by_id(corpus) -> dict:
    return {a.id: a for a in corpus.articles}


def problem_for(corpus, path: Path):
    found = [p for p in corpus.problems if str(path) in str(p)]
    assert len(found) == 1, f"expected one problem for {path}, got {corpus.problems}"
    return found[0]


# --- Markdown -------------------------------------------------------------------------------------

MARKDOWN_ARTICLE = """---
title: Naltrexone Basics
url: https://www.opium.org/naltrexone-basics.html
date: "2024-03-01"
---

Naltrexone is an [opioid antagonist](https://example.org/antagonist) that is **not** addictive.
It is taken as a `50 mg` tablet or as a *monthly* injection.

## How Does It Work?

It blocks the receptors that opioids act on.

- fewer cravings
- no **euphoria** after use

### Side Effects

Nausea and headache are the most common.
"""


def test_markdown_title_url_and_date_come_from_front_matter(tmp_path):
    write(tmp_path / "naltrexone.md", MARKDOWN_ARTICLE)
    [article] = load_corpus(tmp_path).articles
    assert article.title == "Naltrexone Basics"
    assert article.url == "https://www.opium.org/naltrexone-basics.html"
    assert article.date == "2024-03-01"
    assert article.excerpt is False
    assert article.source == str(tmp_path / "naltrexone.md")


def test_markdown_id_from_front_matter_is_kept(tmp_path):
    write(tmp_path / "guides" / "Whatever Name.md", md("T", "https://x.org/t", "Text.", id="custom-id"))
    [article] = load_corpus(tmp_path).articles
    assert article.id == "custom-id"


def test_markdown_id_is_derived_from_the_path_without_one(tmp_path):
    write(tmp_path / "guides" / "Naltrexone Basics.md", md("T", "https://x.org/t", "Text."))
    [article] = load_corpus(tmp_path).articles
    assert article.id == "guides/naltrexone-basics"


def test_markdown_excerpt_flag_is_read(tmp_path):
    write(tmp_path / "teaser.md", md("T", "https://x.org/t", "The first lines of an article ...", excerpt="true"))
    [article] = load_corpus(tmp_path).articles
    assert article.excerpt is True


def test_markdown_markup_is_stripped_keeping_link_text(tmp_path):
    write(tmp_path / "naltrexone.md", MARKDOWN_ARTICLE)
    [article] = load_corpus(tmp_path).articles
    first = block_texts(article)[0]
    assert first == (
        "Naltrexone is an opioid antagonist that is not addictive. "
        "It is taken as a 50 mg tablet or as a monthly injection."
    )
    for markup in ("**", "](", "https://example.org", "`", "*monthly*", "##"):
        assert markup not in article.text


def test_markdown_headings_and_paragraphs_become_blocks(tmp_path):
    write(tmp_path / "naltrexone.md", MARKDOWN_ARTICLE)
    [article] = load_corpus(tmp_path).articles
    assert [b.kind for b in article.blocks] == [PARAGRAPH, HEADING, PARAGRAPH, PARAGRAPH, HEADING, PARAGRAPH]
    assert block_texts(article, HEADING) == ["How Does It Work?", "Side Effects"]
    assert block_texts(article, PARAGRAPH)[1] == "It blocks the receptors that opioids act on."


def test_markdown_list_items_are_kept_as_dash_lines(tmp_path):
    write(tmp_path / "naltrexone.md", MARKDOWN_ARTICLE)
    [article] = load_corpus(tmp_path).articles
    assert "- fewer cravings\n- no euphoria after use" in block_texts(article, PARAGRAPH)


def test_markdown_ordered_list_items_are_dash_lines_too(tmp_path):
    write(tmp_path / "steps.md", md("T", "https://x.org/t", "1. Detox first.\n2. Then start naltrexone.\n"))
    [article] = load_corpus(tmp_path).articles
    assert article.text == "- Detox first.\n- Then start naltrexone."


def test_block_offsets_index_into_the_text_exactly(tmp_path):
    write(tmp_path / "naltrexone.md", MARKDOWN_ARTICLE)
    [article] = load_corpus(tmp_path).articles
    assert article.text.startswith("Naltrexone is")
    assert article.text.endswith("most common.")
    previous_end = 0
    for block in article.blocks:
        piece = article.text[block.start : block.end]
        assert piece and piece == piece.strip()
        assert block.start >= previous_end
        previous_end = block.end
    # Blocks are separated by exactly one blank line and cover the whole text.
    assert "\n\n".join(block_texts(article)) == article.text


# --- HTML -----------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Naltrexone Basics</title>
{canonical}
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About Our Helpline Menu</a></li></ul></nav>
<article>
<h1>Naltrexone Basics</h1>
<p>Naltrexone is an opioid antagonist that blocks the euphoric effects of opioids. It is prescribed after
detoxification is complete, because taking it earlier triggers withdrawal.</p>
<h2>How Is Naltrexone Taken?</h2>
<p>Naltrexone comes as a daily tablet or as a monthly injection given by a clinician. Many patients find the
injection easier to keep up with than a daily pill, and it removes the daily decision to skip a dose.</p>
<p>Patients should carry a card saying they take naltrexone, since it changes how opioid pain relief works in
an emergency.</p>
</article>
<footer><p>Copyright Footer Company Ltd. All rights reserved worldwide.</p></footer>
</body></html>
"""
CANONICAL = '<link rel="canonical" href="https://www.opium.org/naltrexone-basics.html">'


@pytest.fixture
def html_article(tmp_path):
    write(tmp_path / "Naltrexone Basics.html", HTML_PAGE.format(canonical=CANONICAL))
    corpus = load_corpus(tmp_path)
    assert corpus.problems == []
    [article] = corpus.articles
    return article


def test_html_title_url_and_id_are_extracted(html_article):
    assert html_article.title == "Naltrexone Basics"
    assert html_article.url == "https://www.opium.org/naltrexone-basics.html"
    assert html_article.id == "naltrexone-basics"


def test_html_main_text_is_kept(html_article):
    assert "blocks the euphoric effects of opioids" in html_article.text
    assert "carry a card saying they take naltrexone" in html_article.text


def test_html_nav_and_footer_are_left_out(html_article):
    for boilerplate in ("Home", "About Our Helpline Menu", "Footer Company", "All rights reserved"):
        assert boilerplate not in html_article.text


def test_html_h2_is_a_heading_block(html_article):
    assert block_texts(html_article, HEADING) == ["How Is Naltrexone Taken?"]


def test_html_h1_repeating_the_title_is_dropped(html_article):
    assert "Naltrexone Basics" not in html_article.text
    assert html_article.blocks[0].kind == PARAGRAPH
    assert html_article.text.startswith("Naltrexone is an opioid antagonist")


def test_html_block_offsets_index_into_the_text(html_article):
    assert "\n\n".join(block_texts(html_article)) == html_article.text


def test_html_without_canonical_url_is_skipped(tmp_path):
    page = write(tmp_path / "page.html", HTML_PAGE.format(canonical=""))
    corpus = load_corpus(tmp_path)
    assert corpus.articles == []
    assert "canonical" in problem_for(corpus, page).reason


def test_html_without_main_text_is_skipped(tmp_path):
    page = write(tmp_path / "blank.html", f"<html><head><title>Blank</title>{CANONICAL}</head><body></body></html>")
    corpus = load_corpus(tmp_path)
    assert corpus.articles == []
    assert "no main text" in problem_for(corpus, page).reason


def test_html_with_only_navigation_and_footer_is_skipped(tmp_path):
    # A menu or category page has no main text: its links must not become an article's text.
    start, end = HTML_PAGE.index("<article>"), HTML_PAGE.index("</article>") + len("</article>")
    page = write(tmp_path / "menu.html", (HTML_PAGE[:start] + HTML_PAGE[end:]).format(canonical=CANONICAL))
    corpus = load_corpus(tmp_path)
    assert [a.text for a in corpus.articles] == []
    assert "no main text" in problem_for(corpus, page).reason


# --- JSON Lines -----------------------------------------------------------------------------------


def jsonl(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


JSONL_TEXT = (
    "Naltrexone blocks opioid receptors. It is not addictive.\n\n"
    "How Is It Taken?\n\n"
    "As a daily tablet or a monthly shot.\n\n"
    "Side Effects\n\n"
    "- nausea\n\n"
    "Headache is common, and it passes."
)


def test_jsonl_records_become_articles(tmp_path):
    write(
        tmp_path / "site.jsonl",
        jsonl(
            {"id": "naltrexone", "title": "Naltrexone", "url": "https://x.org/n", "text": JSONL_TEXT},
            {"id": "methadone", "title": "Methadone", "url": "https://x.org/m", "text": "Methadone is an agonist."},
        ),
    )
    corpus = load_corpus(tmp_path)
    assert corpus.problems == []
    articles = by_id(corpus)
    assert list(articles) == ["naltrexone", "methadone"]
    assert articles["naltrexone"].title == "Naltrexone"
    assert articles["naltrexone"].url == "https://x.org/n"
    assert articles["naltrexone"].text == JSONL_TEXT
    assert articles["methadone"].source == f"{tmp_path / 'site.jsonl'}:2"


def test_jsonl_numeric_id_is_kept_as_its_string(tmp_path):
    write(tmp_path / "site.jsonl", jsonl({"id": 42, "title": "T", "url": "https://x.org/t", "text": "Text."}))
    [article] = load_corpus(tmp_path).articles
    assert article.id == "42"


def test_jsonl_missing_id_is_file_stem_and_line_number(tmp_path):
    write(
        tmp_path / "site.jsonl",
        jsonl(
            {"id": "a", "title": "A", "url": "https://x.org/a", "text": "First."},
            {"title": "B", "url": "https://x.org/b", "text": "Second."},
        ),
    )
    assert [a.id for a in load_corpus(tmp_path).articles] == ["a", "site-2"]


def test_jsonl_headings_are_detected_from_layout(tmp_path):
    write(tmp_path / "site.jsonl", jsonl({"id": "n", "title": "N", "url": "https://x.org/n", "text": JSONL_TEXT}))
    [article] = load_corpus(tmp_path).articles
    assert block_texts(article, HEADING) == ["How Is It Taken?", "Side Effects"]
    assert "\n\n".join(block_texts(article)) == article.text


def test_jsonl_list_line_is_not_a_heading(tmp_path):
    write(tmp_path / "site.jsonl", jsonl({"id": "n", "title": "N", "url": "https://x.org/n", "text": JSONL_TEXT}))
    [article] = load_corpus(tmp_path).articles
    assert "- nausea" in block_texts(article, PARAGRAPH)


@pytest.mark.parametrize(
    "paragraph",
    [
        "It is not addictive.",  # ends like a sentence
        "Call us now:",  # ends with a colon
        "One line\nand another",  # more than one line
        "A very long single line " * 6,  # too long for a heading
        "1. Detox first",  # numbered list item
    ],
)
def test_jsonl_paragraphs_that_are_not_headings(tmp_path, paragraph):
    text = f"Intro sentence here.\n\n{paragraph.strip()}\n\nClosing sentence here."
    write(tmp_path / "site.jsonl", jsonl({"id": "n", "title": "N", "url": "https://x.org/n", "text": text}))
    [article] = load_corpus(tmp_path).articles
    assert block_texts(article, HEADING) == []


# --- A single file --------------------------------------------------------------------------------


def test_single_markdown_file_as_corpus_path(tmp_path):
    path = write(tmp_path / "Naltrexone Basics.md", MARKDOWN_ARTICLE)
    write(tmp_path / "other.md", GOOD_MD)  # beside it, not part of the corpus
    corpus = load_corpus(path)
    assert corpus.files == 1
    assert [a.id for a in corpus.articles] == ["naltrexone-basics"]


def test_single_jsonl_file_as_corpus_path(tmp_path):
    path = write(tmp_path / "site.jsonl", jsonl({"id": "n", "title": "N", "url": "https://x.org/n", "text": "Text."}))
    assert [a.id for a in load_corpus(path).articles] == ["n"]


# --- Bad input ------------------------------------------------------------------------------------


@pytest.fixture
def with_good(tmp_path):
    """A folder that holds one good article beside whatever bad file the test adds."""
    write(tmp_path / "good.md", GOOD_MD)
    return tmp_path


def assert_skipped(folder: Path, bad: Path, *words: str, line: int | None = None):
    corpus = load_corpus(folder)
    assert "good" in by_id(corpus), "the good file must still load"
    problem = problem_for(corpus, bad)
    assert str(bad) in str(problem)
    for word in words:
        assert word.lower() in problem.reason.lower(), problem.reason
    if line is not None:
        assert problem.line == line
        assert f"{bad}:{line}:" in str(problem)
    return problem


@pytest.mark.parametrize(
    "name, data, word",
    [
        ("empty.md", b"", "empty"),
        ("blank.md", b"  \n\t\n\n", "empty"),
        ("empty.jsonl", b"\n\n", "empty"),
        ("binary.md", b"---\ntitle: x\x00\x01\x02\n", "binary"),
        ("latin1.md", "---\ntitle: Caf\u00e9\nurl: https://x.org/c\n---\n\nCaf\u00e9.\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_unreadable_content_is_reported(with_good, name, data, word):
    bad = write(with_good / name, data)
    assert_skipped(with_good, bad, word)


def test_file_with_only_a_byte_order_mark_is_reported_empty(with_good):
    # Editors on Windows save an "empty" UTF-8 file as just the BOM; it must not vanish silently.
    bad = write(with_good / "bom.jsonl", b"\xef\xbb\xbf\n")
    assert_skipped(with_good, bad, "empty")


def test_unreadable_file_is_reported(with_good, monkeypatch):
    bad = write(with_good / "locked.md", GOOD_MD)
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self == bad:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert_skipped(with_good, bad, "cannot read", "permission denied")


def test_markdown_without_front_matter_is_reported(with_good):
    bad = write(with_good / "plain.md", "# Naltrexone\n\nJust text, no metadata.\n")
    assert_skipped(with_good, bad, "front matter")


def test_front_matter_with_invalid_yaml_is_reported_with_its_line(with_good):
    bad = write(with_good / "broken.md", "---\ntitle: A\nurl: [https://x.org/a\n---\n\nText.\n")
    assert_skipped(with_good, bad, "front matter", "YAML", line=3)


def test_front_matter_that_is_not_a_mapping_is_reported(with_good):
    bad = write(with_good / "list.md", "---\n- title\n- url\n---\n\nText.\n")
    assert_skipped(with_good, bad, "front matter")


@pytest.mark.parametrize(
    "field, front",
    [
        ("url", "title: A\n"),
        ("title", "url: https://x.org/a\n"),
        ("url", "title: A\nurl: ''\n"),
    ],
)
def test_front_matter_missing_a_required_field_is_reported(with_good, field, front):
    bad = write(with_good / "partial.md", f"---\n{front}---\n\nText.\n")
    assert_skipped(with_good, bad, "missing", f"'{field}'")


def test_markdown_without_text_after_front_matter_is_reported(with_good):
    bad = write(with_good / "nobody.md", "---\ntitle: A\nurl: https://x.org/a\n---\n\n")
    assert_skipped(with_good, bad, "no text")


def test_unquoted_yaml_date_is_accepted(tmp_path):
    # `date: 2024-03-01` is how front matter dates are usually written; YAML reads it as a date.
    write(tmp_path / "dated.md", md("Dated", "https://x.org/d", "Text.", date="2024-03-01"))
    corpus = load_corpus(tmp_path)
    assert corpus.problems == []
    [article] = corpus.articles
    assert article.date == "2024-03-01"


@pytest.mark.parametrize(
    "line, words",
    [
        ("{not json", ["not valid JSON"]),
        ('["a", "list"]', ["expected a JSON object", "list"]),
        ('{"id": "x", "title": "X", "url": "https://x.org/x"}', ["missing 'text'"]),
        ('{"id": "x", "text": 5}', ["'text' must be a string"]),
        ('{"id": "x", "text": "   "}', ["'text' is empty"]),
        ('{"id": ["x"], "text": "Text."}', ["'id' must be text"]),
    ],
)
def test_bad_jsonl_line_is_reported_with_its_line_number(with_good, line, words):
    bad = write(
        with_good / "site.jsonl",
        jsonl(
            {"id": "ok", "title": "OK", "url": "https://x.org/ok", "text": "Fine."},
            "",
            line,
            {"id": "after", "title": "After", "url": "https://x.org/after", "text": "Also fine."},
        ),
    )
    assert_skipped(with_good, bad, *words, line=3)
    assert {"ok", "after"} <= set(by_id(load_corpus(with_good)))


def test_duplicate_id_across_files_keeps_the_first(with_good):
    bad = write(
        with_good / "site.jsonl", jsonl({"id": "good", "title": "Copy", "url": "https://x.org/c", "text": "Copy."})
    )
    problem = assert_skipped(with_good, bad, "duplicate", "'good'")
    assert str(with_good / "good.md") in problem.reason  # says where the first one is
    [good] = load_corpus(with_good).articles
    assert good.title == "Good Article"


def test_duplicate_id_within_jsonl_names_the_line(tmp_path):
    bad = write(tmp_path / "site.jsonl", jsonl({"id": 1, "text": "First."}, {"id": "1", "text": "Second."}))
    corpus = load_corpus(tmp_path)
    assert [a.text for a in corpus.articles] == ["First."]
    [problem] = corpus.problems
    assert f"{bad}:2:" in str(problem)
    assert "duplicate" in problem.reason


def test_unsupported_extension_is_reported(with_good):
    bad = write(with_good / "leaflet.pdf", b"%PDF-1.4 not really a pdf")
    assert_skipped(with_good, bad, "unsupported", ".pdf")


def test_hidden_files_and_folders_are_ignored_silently(with_good):
    write(with_good / ".notes.md", "no front matter here")
    write(with_good / ".git" / "config", "[core]\n")
    write(with_good / ".git" / "HEAD.md", "")
    write(with_good / "sub" / ".cache" / "x.jsonl", "{broken")
    corpus = load_corpus(with_good)
    assert corpus.problems == []
    assert corpus.files == 1
    assert list(by_id(corpus)) == ["good"]


def test_many_bad_files_each_reported_once(with_good):
    bad = [
        write(with_good / "a-empty.md", ""),
        write(with_good / "b.pdf", b"x"),
        write(with_good / "c.md", "no front matter"),
    ]
    corpus = load_corpus(with_good)
    assert sorted(p.source for p in corpus.problems) == sorted(str(p) for p in bad)
    assert list(by_id(corpus)) == ["good"]


def test_missing_corpus_path_raises_corpus_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-corpus"
    with pytest.raises(CorpusError, match=str(missing)):
        load_corpus(missing)


# --- Fingerprint ----------------------------------------------------------------------------------


def test_fingerprint_matches_corpus_fingerprint(with_good):
    write(with_good / "site.jsonl", jsonl({"id": "n", "text": "Text."}))
    write(with_good / "notes.pdf", b"ignored by both")
    assert load_corpus(with_good).fingerprint == corpus_fingerprint(with_good)


def test_fingerprint_matches_with_an_empty_file_beside_the_others(with_good):
    write(with_good / "empty.md", b"")  # cannot be memory-mapped: read as it is
    assert load_corpus(with_good).fingerprint == corpus_fingerprint(with_good)
    before = corpus_fingerprint(with_good)
    write(with_good / "empty.md", b"# Now\n\nText.\n")
    assert corpus_fingerprint(with_good) != before


def test_fingerprint_matches_for_a_single_file(tmp_path):
    path = write(tmp_path / "one.md", GOOD_MD)
    assert load_corpus(path).fingerprint == corpus_fingerprint(path)


def test_fingerprint_is_stable_when_nothing_changes(with_good):
    assert corpus_fingerprint(with_good) == corpus_fingerprint(with_good) == load_corpus(with_good).fingerprint


def test_fingerprint_changes_when_a_file_changes(with_good):
    before = corpus_fingerprint(with_good)
    write(with_good / "good.md", GOOD_MD.replace("blocks", "reverses"))
    assert corpus_fingerprint(with_good) != before
    assert load_corpus(with_good).fingerprint != before


def test_fingerprint_changes_when_a_file_is_added_or_renamed(with_good):
    before = corpus_fingerprint(with_good)
    write(with_good / "more.md", GOOD_MD)
    added = corpus_fingerprint(with_good)
    (with_good / "more.md").rename(with_good / "renamed.md")
    assert len({before, added, corpus_fingerprint(with_good)}) == 3


def test_fingerprint_ignores_hidden_files(with_good):
    before = corpus_fingerprint(with_good)
    write(with_good / ".draft.md", GOOD_MD)
    assert corpus_fingerprint(with_good) == before
