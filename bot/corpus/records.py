"""What the corpus is made of: articles, their text's blocks (headings and paragraphs with character
offsets), a Problem naming a file (or line) that was skipped, and the Corpus that holds them.

Apart from bot/corpus/articles.py, which reads them from files, so that what an article is can be read
without how each format is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import BotError

HEADING, PARAGRAPH = "heading", "paragraph"


class CorpusError(BotError):
    """The corpus as a whole cannot be used (missing path, nothing loadable)."""


@dataclass(frozen=True)
class Block:
    kind: str  # HEADING or PARAGRAPH
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    url: str
    text: str
    blocks: tuple[Block, ...]
    source: str
    date: str | None = None
    excerpt: bool = False  # the text is a cut-off teaser of the article at `url`, not the whole of it


@dataclass(frozen=True)
class Problem:
    """Why one file (or one line of it) was skipped."""

    source: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


@dataclass
class Corpus:
    articles: list[Article]
    problems: list[Problem]
    fingerprint: str
    files: int = 0
