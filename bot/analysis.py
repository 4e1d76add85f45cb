"""The one analyzer: questions and articles go through the same steps, or they would never meet.

Everything here needs no downloaded nltk data (tokenizer is a regex, the stemmer is rule-based, the stop
list ships with the package), so it works offline on a fresh machine.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib import resources
from typing import Iterator

from nltk.stem import PorterStemmer
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

ANALYZER_VERSION = 1

# A word is letters/digits, optionally joined by hyphens or apostrophes ("12-step", "don't", "person's").
# The apostrophe and hyphen variants cover what phones and word processors type.
_APOSTROPHES = "'\u2019\u2018\u02bc"
_HYPHENS = "\\-\u2010\u2011\u2012\u2013"
_WORD_PATTERN = rf"[^\W_]+(?:[{_APOSTROPHES}{_HYPHENS}][^\W_]+)*"
_HYPHEN_RE = re.compile(rf"[{_HYPHENS}]")
_APOSTROPHE_RE = re.compile(rf"[{_APOSTROPHES}]")
_POSSESSIVE_RE = re.compile(rf"[{_APOSTROPHES}]s$")

STEMMERS = ("snowball", "porter", "none")


def _data_lines(name: str) -> list[str]:
    """Lines of a shipped data file, without comments and blanks."""
    text = resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _sha256(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class AnalyzerSettings:
    """What decides which terms a text becomes; saved in every index and checked when it is loaded."""

    stemmer: str = "snowball"
    stopwords: bool = True
    fold_accents: bool = True
    hyphen_compounds: bool = True
    version: int = ANALYZER_VERSION

    def __post_init__(self) -> None:
        if self.stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {self.stemmer!r} (choose from {', '.join(STEMMERS)})")


@dataclass(frozen=True)
class Token:
    term: str
    start: int
    end: int


class Analyzer:
    """Turns text into BM25 terms: normalise, tokenize (nltk), drop stopwords, stem (nltk)."""

    def __init__(self, settings: AnalyzerSettings | None = None) -> None:
        self.settings = settings or AnalyzerSettings()
        self._tokenizer = RegexpTokenizer(_WORD_PATTERN)
        stop_lines = _data_lines("stopwords.txt")
        self._stopwords = frozenset(stop_lines) if self.settings.stopwords else frozenset()
        override_lines = _data_lines("stem_overrides.txt")
        self._overrides = dict(line.split()[:2] for line in override_lines)
        self._data_digest = {
            "stopwords_sha256": _sha256(stop_lines) if self.settings.stopwords else None,
            "stem_overrides_sha256": _sha256(override_lines) if self.settings.stemmer != "none" else None,
        }
        if self.settings.stemmer == "snowball":
            self._stem_word = SnowballStemmer("english").stem
        elif self.settings.stemmer == "porter":
            self._stem_word = PorterStemmer().stem
        else:
            self._stem_word = None
        self._stem_cache: dict[str, str] = {}

    @cached_property
    def fingerprint(self) -> dict:
        """The settings plus digests of the shipped word lists: equal fingerprints analyze alike."""
        return {**asdict(self.settings), **self._data_digest}

    def normalize(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word).casefold()
        if self.settings.fold_accents and not word.isascii():
            word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
        return word

    def stem(self, word: str) -> str:
        """Stem one normalised word; overrides first, for families a rule stemmer splits (detox/detoxification)."""
        cached = self._stem_cache.get(word)
        if cached is None:
            if self._stem_word is None:
                cached = word
            else:
                cached = self._stem_word(self._overrides.get(word, word))
            self._stem_cache[word] = cached
        return cached

    def is_stopword(self, word: str) -> bool:
        return word in self._stopwords

    def tokens(self, text: str) -> Iterator[Token]:
        """Terms with the character span of the word they came from, for highlighting."""
        for start, end in self._tokenizer.span_tokenize(text):
            for term in self._word_terms(text[start:end]):
                yield Token(term, start, end)

    def terms(self, text: str) -> list[str]:
        return [t.term for t in self.tokens(text)]

    def _word_terms(self, raw: str) -> list[str]:
        word = self.normalize(raw)
        word = _POSSESSIVE_RE.sub("", word)
        if _HYPHEN_RE.search(word):
            parts = [_APOSTROPHE_RE.sub("", p) for p in _HYPHEN_RE.split(word)]
            out = [self.stem(p) for p in parts if p and p not in self._stopwords]
            if self.settings.hyphen_compounds:
                joined = "".join(parts)
                if joined not in self._stopwords:
                    out.append(self.stem(joined))
            return out
        word = _APOSTROPHE_RE.sub("", word)
        if not word or word in self._stopwords:
            return []
        return [self.stem(word)]
