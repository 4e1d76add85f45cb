"""articles.jsonl of an index: one article a line, read when an answer first needs that article.

Parsing every article's JSON at load took a third of a second at 100,000 chunks (three at a million), before
any question could be answered, while an answer reads a handful of articles. A checked index (its sha256
verified at load) holds exactly what was written, so its lines are parsed on first use (the file memory-mapped,
as the postings are; splitting its 50 MB into lines at load took another fifth of a second at 100,000 chunks);
an index without checksums is parsed whole at load, so that damage is found there and not in an answer.
"""

from __future__ import annotations

import json
import mmap
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.corpus.articles import Article
from bot.text import jsoncache


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


def read(path: Path, lazily: bool, digest: str | None = None) -> Sequence[Article]:
    """`digest`: the sha256 the file is checked against before any answer reads it (the manifest's); its line
    ends are then kept in the cache folder under it (bot/text/jsoncache.py), where a start reads them instead
    of finding them in 50 MB: a file with that sha256 has those line ends, and one without it is refused."""
    if not lazily:
        data = path.read_bytes()
        articles = ArticleLines(data, _line_ends(data))
        return [articles[i] for i in range(len(articles))]
    with open(path, "rb") as f:
        try:  # mapped, as the postings are: only the articles an answer reads are copied out
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            data = b""
    if digest is None or jsoncache.folder() is None:
        return ArticleLines(data, _line_ends(data))
    key = jsoncache.key_of(digest, str(len(data)), jsoncache.source_of(sys.modules[__name__]))
    return ArticleLines(data, jsoncache.cached("line-ends", key, lambda: _line_ends(data), decode=_ends_of))


def _ends_of(value) -> list[int]:
    if not (isinstance(value, list) and all(type(v) is int for v in value)):
        raise ValueError("not a list of line ends")
    return value


def _line_ends(data) -> list[int]:
    """Where each line ends. json.dumps escapes every newline inside a record, so lines end at b"\n" only
    (bytes.splitlines() also split at b"\r", which no line written here holds); a last line without its
    newline counts as a line, as splitlines() counts it. Found with find(), not by splitting 50 MB."""
    ends, at, size = [], 0, len(data)
    find = data.find
    while at < size:
        end = find(b"\n", at)
        if end < 0:
            end = size
        ends.append(end)
        at = end + 1
    return ends


class ArticleLines(Sequence):
    """The articles of an index, each parsed the first time it is asked for, then kept."""

    def __init__(self, data, ends: list[int]) -> None:
        self._data = data
        self._ends = ends
        self._parsed: list[Article | None] = [None] * len(ends)

    def __len__(self) -> int:
        return len(self._ends)

    def _line(self, i: int) -> bytes:
        start = self._ends[i - 1] + 1 if i > 0 else 0
        return self._data[start : self._ends[i]]

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        article = self._parsed[i]
        if article is None:
            r = json.loads(self._line(i))
            article = Article(r["id"], r["title"], r["url"], r["text"], (), r["source"], r["date"], r["excerpt"])
            self._parsed[i] = article
        return article
