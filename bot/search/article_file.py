"""articles.jsonl of an index: one article a line, read when an answer first needs that article.

Parsing every article's JSON at load took a third of a second at 100,000 chunks (three at a million), before
any question could be answered, while an answer reads a handful of articles. A checked index (its sha256
verified at load) holds exactly what was written, so its lines are parsed on first use; an index without
checksums is parsed whole at load, so that damage is found there and not in the middle of an answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.corpus.articles import Article


def write(path: Path, articles: Sequence[Article]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for a in articles:
            # blocks are for chunking, done by now: a serving bot has no use for them
            record = {
                "id": a.id,
                "title": a.title,
                "url": a.url,
                "date": a.date,
                "excerpt": a.excerpt,
                "source": a.source,
                "text": a.text,
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def read(path: Path, lazily: bool) -> Sequence[Article]:
    lines = path.read_bytes().splitlines()
    articles = ArticleLines(lines)
    if not lazily:
        return [articles[i] for i in range(len(articles))]
    return articles


class ArticleLines(Sequence):
    """The articles of an index, each parsed the first time it is asked for, then kept."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._parsed: list[Article | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        article = self._parsed[i]
        if article is None:
            r = json.loads(self._lines[i])
            article = Article(r["id"], r["title"], r["url"], r["text"], (), r["source"], r["date"], r["excerpt"])
            self._parsed[i] = article
        return article
