"""Articles into chunks that follow the text's structure: within one section, whole sentences only.

A chunk is a span of its article's text (character offsets), so a citation can always quote the
article's own words. Consecutive chunks of a section share a sentence, so an answer that straddles
a boundary is still found whole in one of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from bot.search import nltk_lean  # noqa: F401  (first: nltk without SciPy and scikit-learn)

from bot.corpus.articles import HEADING, Article

try:  # compiled by pip install (setup.py); without a C compiler, the same spans the Python way
    from bot.search._punkt import sentence_spans as _c_sentence_spans
except ImportError:  # pragma: no cover (the test suite runs both ways)
    _c_sentence_spans = None


@dataclass(frozen=True)
class ChunkSettings:
    target_chars: int = 700
    overlap_sentences: int = 1

    def __post_init__(self) -> None:
        if self.target_chars < 50:
            raise ValueError("chunk target_chars must be at least 50")
        if self.overlap_sentences < 0:
            raise ValueError("chunk overlap_sentences must be 0 or more")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    id: str
    article: int  # position of the article in the corpus
    section: str  # the heading the chunk sits under; "" before the first heading
    start: int
    end: int


@lru_cache(maxsize=1)
def _punkt():
    """Imported when first needed: building, or an index without its sentences (a tenth of a second)."""
    from bot.search import punkt_fast

    return punkt_fast.tokenizer(abbreviations())


def abbreviations() -> set[str]:
    text = resources.files("bot.data").joinpath("abbreviations.txt").read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as absolute spans; a line break always ends a sentence (lists, captions)."""
    end = len(text) if end is None else end
    punkt = _punkt()
    if _c_sentence_spans is not None:  # bot/search/_punkt.c: these loops in C (None: a text it leaves to these)
        found = _c_sentence_spans(text, start, end, punkt.decided, punkt.decide, punkt.kept, punkt.long_line)
        if found is not None:
            return found
    spans = []
    offset = start
    while offset < end:  # each line: a run of characters other than "\n"
        stop = text.find("\n", offset, end)
        stop = end if stop < 0 else stop
        if stop > offset:
            words = text[offset:stop]
            if "." in words or "?" in words or "!" in words:
                for s, e in punkt.span_tokenize(words):
                    if s < e and (not words[s].isspace() or words[s:e].strip()):  # blank ones are left out
                        spans.append((offset + s, offset + e))
            else:  # no ".", "?" or "!": punkt's one sentence, found without it
                kept = len(words.rstrip())
                if kept:
                    spans.append((offset, offset + kept))
        offset = stop + 1
    return spans


def sections(article: Article) -> list[tuple[str, list[tuple[int, int]]]]:
    """(heading, paragraph spans) in order; text before the first heading has the heading ""."""
    out: list[tuple[str, list[tuple[int, int]]]] = [("", [])]
    for block in article.blocks:
        if block.kind == HEADING:
            out.append((article.text[block.start : block.end], []))
        else:
            out[-1][1].append((block.start, block.end))
    return [(heading, paras) for heading, paras in out if paras]


def chunk_article(
    article: Article,
    index: int,
    settings: ChunkSettings = ChunkSettings(),
    sentences_found: list[tuple[int, int]] | None = None,
) -> list[Chunk]:
    """The article's chunks; every sentence found on the way, and the headings', is added to `sentences_found`
    when given (what an answer would otherwise split again)."""
    chunks: list[Chunk] = []
    if sentences_found is not None:
        for block in article.blocks:
            if block.kind == HEADING:
                sentences_found.extend(sentence_spans(article.text, block.start, block.end))
    for heading, paragraphs in sections(article):
        sentences = [span for start, end in paragraphs for span in sentence_spans(article.text, start, end)]
        if sentences_found is not None:
            sentences_found.extend(sentences)
        for first, last in _windows([e - s for s, e in sentences], settings):
            chunks.append(Chunk(f"{article.id}#{len(chunks)}", index, heading, sentences[first][0], sentences[last][1]))
    return chunks


def _windows(lengths: list[int], settings: ChunkSettings) -> list[tuple[int, int]]:
    """Greedy runs of sentences up to the target size (a longer sentence stands alone), with overlap."""
    n = len(lengths)

    def extend(i: int) -> int:
        j, size = i, lengths[i]
        while j + 1 < n and size + 1 + lengths[j + 1] <= settings.target_chars:
            j += 1
            size += 1 + lengths[j]
        return j

    windows: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = extend(i)
        if windows and j <= windows[-1][1]:
            # The overlap sentences could not take the next one in: they alone would repeat the chunk before.
            i = windows[-1][1] + 1
            j = extend(i)
        windows.append((i, j))
        if j + 1 >= n:
            break
        i = max(j + 1 - settings.overlap_sentences, i + 1)
    return windows
