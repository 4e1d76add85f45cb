"""articles.jsonl of an index: its lines found without splitting the file, each article as it was written."""

from __future__ import annotations

import pytest

from bot.corpus.records import Article
from bot.search import article_file


def _articles() -> list[Article]:
    texts = ["plain", "two\nlines\r\nand a carriage\rreturn", "\u2028 line separator \u0085 next line", "", "<&>\"'"]
    return [
        Article(f"a{i}", f"title {i} \U0001f600", f"https://example.org/{i}", text, (), f"src/{i}.md", None, i % 2 == 1)
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize("lazily", [True, False])
def test_articles_read_back_as_written_with_newlines_and_separators_in_their_text(tmp_path, lazily):
    path = tmp_path / "articles.jsonl"
    article_file.write(path, _articles())
    data = path.read_bytes()
    assert article_file._line_ends(data) == [m for m in range(len(data)) if data[m : m + 1] == b"\n"]
    assert len(data.splitlines()) == len(_articles())  # what the file was split with before
    read = article_file.read(path, lazily)
    assert [(a.id, a.title, a.url, a.text, a.source, a.date, a.excerpt) for a in read] == [
        (a.id, a.title, a.url, a.text, a.source, a.date, a.excerpt) for a in _articles()
    ]
    assert [a.id for a in read[1:4]] == ["a1", "a2", "a3"]


def test_line_ends_count_a_last_line_without_its_newline_and_an_empty_file_has_none(tmp_path):
    assert article_file._line_ends(b"") == []
    assert article_file._line_ends(b"{}") == [2]
    assert article_file._line_ends(b"{}\n{}") == [2, 5]
    assert article_file._line_ends(b"{}\n{}\n") == [2, 5]
    empty = tmp_path / "articles.jsonl"
    empty.write_bytes(b"")
    assert len(article_file.read(empty, lazily=True)) == 0
