"""The one analyzer: questions and articles go through the same steps, or they would never meet.

Everything here needs no downloaded nltk data (tokenizer is a regex, the stemmer is rule-based, the stop
list ships with the package), so it works offline on a fresh machine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from functools import cached_property
from itertools import chain
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from bot.text import normal, slang, yamlfile
from bot.search import nltk_lean  # noqa: F401  (first: nltk without SciPy and scikit-learn)

try:  # compiled by pip install (setup.py); without a C compiler, the same terms the Python way
    from bot.search._words import WordTable as _CWordTable
except ImportError:  # pragma: no cover (the test suite runs both ways)
    _CWordTable = None
from nltk.stem.porter import PorterStemmer
from nltk.stem.snowball import SnowballStemmer

ANALYZER_VERSION = 1

# A word is letters/digits, optionally joined by hyphens or apostrophes ("12-step", "don't", "person's").
# The apostrophe and hyphen variants cover what phones and word processors type.
_APOSTROPHES = "'\u2019\u2018\u02bc"
_HYPHENS = "\\-\u2010\u2011\u2012\u2013"
_WORD_PATTERN = rf"[^\W_]+(?:[{_APOSTROPHES}{_HYPHENS}][^\W_]+)*"
_HYPHEN_RE = re.compile(rf"[{_HYPHENS}]")
_APOSTROPHE_RE = re.compile(rf"[{_APOSTROPHES}]")
_POSSESSIVE_RE = re.compile(rf"[{_APOSTROPHES}]s$")
# ASCII text's words without a regular expression: every character but a letter, a digit, "'" and "-" made a
# space; then an "'" or "-" that is not between two letters or digits (what the pattern never joins with)
_ASCII_KEPT = str.maketrans({c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) in "'-")})
_LOOSE_JOINERS = ("''", "--", "'-", "-'", " '", "' ", " -", "- ")

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
    synonyms: bool = True
    fold_accents: bool = True
    hyphen_compounds: bool = True
    version: int = ANALYZER_VERSION

    def __post_init__(self) -> None:
        if self.stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {self.stemmer!r} (choose from {', '.join(STEMMERS)})")


class Token(NamedTuple):
    """A term and the span of the word it came from (a tuple: made by the thousand for every answer)."""

    term: str
    start: int
    end: int


class Analyzer:
    """Turns text into BM25 terms: normalise, tokenize (nltk's pattern), drop stopwords, stem (nltk)."""

    def __init__(self, settings: AnalyzerSettings | None = None, synonyms_file: str | Path | None = None) -> None:
        self.settings = settings or AnalyzerSettings()
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
        self._word_cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._word_terms: dict[str, tuple[str, ...]] = {}  # the same words' terms alone, for terms()
        self._phrase_words: set[str] = set()  # the words of _word_cache with a part that starts a phrase
        self._ascii_word_re = re.compile(_WORD_PATTERN)
        self._concepts: dict[str, str] = {}  # one word -> its concept's term
        self._names: dict[str, str] = {}  # a concept's term -> the name the articles use ("buprenorphine")
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # first word -> (words, term)
        if self.settings.synonyms:
            text = (
                Path(synonyms_file).read_text(encoding="utf-8")
                if synonyms_file
                else resources.files("bot.data").joinpath("synonyms.yaml").read_text(encoding="utf-8")
            )
            self._load_synonyms(text, str(synonyms_file or "bot/data/synonyms.yaml"))
            self._data_digest["synonyms_sha256"] = _sha256([text])
            self._load_slang(slang.shipped()["slang"])
            self._data_digest["slang_sha256"] = _sha256([slang.shipped_text()])

    @cached_property
    def _word_re(self):
        """The engine nltk's RegexpTokenizer uses, so both paths split words alike ("x²y" included); imported and
        compiled when a text beyond ASCII first comes (20 ms of a start that may see none)."""
        import regex

        return regex.compile(_WORD_PATTERN)

    @cached_property
    def _c_table(self):
        """The compiled lookup of the cached words' terms (bot/search/_words.c), over the cache's dict and set."""
        return _CWordTable(self._word_cache, self._phrases)

    @cached_property
    def fingerprint(self) -> dict:
        """The settings plus digests of the shipped word lists: equal fingerprints analyze alike."""
        return {**asdict(self.settings), **self._data_digest}

    def normalize(self, word: str) -> str:
        return normal.fold(word, accents=self.settings.fold_accents)

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

    def _load_synonyms(self, text: str, source: str) -> None:
        """Every name of a concept becomes one term: the stem of its single-word name, or its words joined."""
        try:
            data = yamlfile.safe_load(text) or {}
        except yamlfile.error() as e:
            raise ValueError(f"{source}: not valid YAML ({e})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected 'name: [other names]' lines")
        for canonical, variants in data.items():
            if not isinstance(variants, list):
                raise ValueError(f"{source}: '{canonical}' must be followed by a list in [brackets]")
            names = [str(canonical)] + [str(v) for v in variants]
            words = [n.split() for n in (self._plain_name(n) for n in names) if n]
            term = self.stem(words[0][0]) if len(words[0]) == 1 else "_".join(words[0])
            self._names.setdefault(term, " ".join(words[0]))
            for name in words:
                if len(name) == 1:
                    self._concepts.setdefault(name[0], term)
                else:
                    self._phrases.setdefault(name[0], []).append((tuple(name), term))

    def _load_slang(self, spelled: dict[str, str]) -> None:
        """A slang word ("fent", "oding") becomes the term of the plain word it stands for; slang of several
        words, or for several words that are no concept ("kms": kill myself), is the triage's alone."""
        for written, meant in spelled.items():
            variant, words = self._plain_name(written), self._plain_name(meant).split()
            if not written.isalnum() or not words:  # "od'd" is not "odd"; "od ing" is the triage's
                continue
            if len(words) == 1 and words[0] in self._stopwords:  # "ur" is "your": a stop word too
                if words[0] not in self._concepts:
                    self._stopwords = self._stopwords | {variant}
                continue
            if len(words) == 1:
                term = self._term(words[0])
            else:
                term = next((t for p, t in self._phrases.get(words[0], ()) if p == tuple(words)), None)
                if term is None:
                    continue
            self._concepts.setdefault(variant, term)

    def concept_name(self, term: str) -> str | None:
        """The articles' own name for a synonym concept's term, or None for a plain word's term."""
        return self._names.get(term)

    def _plain_name(self, name: str) -> str:
        name = _APOSTROPHE_RE.sub("", self.normalize(name))
        return " ".join(_HYPHEN_RE.sub(" ", name).split())

    def tokens(self, text: str) -> Iterator[Token]:
        """Terms with the character span of the word they came from, for highlighting; in text order."""
        out: list[Token] = []
        flat: list[tuple[str, int, int, int]] = []  # every word part with its word's span and index
        words = (self._ascii_word_re if text.isascii() else self._word_re).finditer(text)  # as in terms()
        cached = self._word_cache.get
        for n, match in enumerate(words):
            start, end = match.span()
            word = match.group()
            terms, parts = cached(word) or self._known(word)
            for term in terms:
                out.append(Token(term, start, end))
            for part in parts:
                flat.append((part, start, end, n))
        if self._phrases:
            found = len(out)
            for first, last, term in self._phrase_matches([p for p, *_ in flat], lambda: [f[3] for f in flat]):
                out.append(Token(term, flat[first][1], flat[last][2]))
            if len(out) > found:  # else already in order: words in text order, each word's terms together
                out.sort(key=lambda t: (t.start, -t.end))
        return iter(out)

    def spans_of(self, text: str, terms: set[str] | frozenset[str]) -> list[tuple[int, int]]:
        """[(t.start, t.end) for t in self.tokens(text) if t.term in terms], in that order, without making a
        Token of every word: what highlighting needs. (tokens() is in (start, -end) order, words' terms in text
        order and phrases sorted in; a stable sort of the few kept gives the order of those in the whole.)"""
        out: list[tuple[int, int]] = []
        phrases = bool(self._phrases) and not self._phrase_terms.isdisjoint(terms)
        flat: list[tuple[str, int, int, int]] = []
        cached = self._word_cache.get
        for n, match in enumerate((self._ascii_word_re if text.isascii() else self._word_re).finditer(text)):
            word = match.group()
            word_terms, parts = cached(word) or self._known(word)
            for term in word_terms:
                if term in terms:
                    out.append(match.span())
            if phrases:
                start, end = match.span()
                for part in parts:
                    flat.append((part, start, end, n))
        if phrases:
            found = [
                (flat[first][1], flat[last][2])
                for first, last, term in self._phrase_matches([p for p, *_ in flat], lambda: [f[3] for f in flat])
                if term in terms
            ]
            if found:
                out.extend(found)
                out.sort(key=lambda span: (span[0], -span[1]))
        return out

    @cached_property
    def _phrase_terms(self) -> frozenset[str]:
        return frozenset(term for listed in self._phrases.values() for _, term in listed)

    def terms(self, text: str) -> list[str]:
        """The terms of tokens(), without their spans: the hot path of indexing and answering.

        Same pattern and regex engine as nltk's RegexpTokenizer, without its per-match timeout guard (this
        linear pattern does not need it), and a cache of each distinct word's terms; tests hold it equal to
        tokens() on real and on generated text.
        """
        ascii = text.isascii()
        if ascii and _CWordTable is not None:  # bot/search/_words.c: the words found and looked up in C
            table = self._c_table
            out, found = table.terms(text)
            if out is None:  # words not seen before: analysed (and kept), then looked up again
                for word in found:
                    self._known(word)
                out, found = table.terms(text)
            if out is not None:  # found: the parts, their word numbers and where a phrase may start
                return out if found is None else self._phrases_at(out, *found)
        words = _ascii_words(text) if ascii else self._word_re.findall(text)
        known_terms = list(map(self._word_terms.get, words))  # each word's terms, looked up in C
        if None in known_terms:  # words not seen before: analysed (and kept), then looked up again
            for word in [w for w, k in zip(words, known_terms) if k is None]:
                self._known(word)
            known_terms = list(map(self._word_terms.get, words))
        if None in known_terms:  # past the cache's size: the long way
            return self._with_phrases(list(chain.from_iterable([k[0] for k in map(self._known, words)])), words)
        out = list(chain.from_iterable(known_terms))
        if self._phrase_words.isdisjoint(words):  # most texts hold no phrase's first word
            return out
        return self._with_phrases(out, words)

    def _with_phrases(self, out: list[str], words: list[str]) -> list[str]:
        """The terms of words (out), then the synonym phrases' that they hold."""
        if self._phrases:
            known = list(map(self._word_cache.get, words))
            if None in known:  # past the cache's size
                known = [self._known(w) for w in words]
            parts_of_words = [k[1] for k in known]
            parts = list(chain.from_iterable(parts_of_words))
            if not self._phrases.keys().isdisjoint(parts):
                numbers = lambda: [n for n, p in enumerate(parts_of_words) for _ in p]  # noqa: E731
                out.extend(term for _, _, term in self._phrase_matches(parts, numbers))
        return out

    def _phrases_at(self, out: list[str], parts: list[str], numbers: list[int], starts: list[int]) -> list[str]:
        """_with_phrases's end, from what the compiled lookup found: _phrase_matches at the parts that start a
        phrase, which it has listed."""
        phrases = self._phrases
        for i in starts:
            for phrase, term in phrases[parts[i]]:
                last = i + len(phrase) - 1
                if tuple(parts[i : last + 1]) == phrase and numbers[last] != numbers[i]:
                    out.append(term)
        return out

    def document_terms(
        self, title: str, section: str, text: str, with_titles: bool, headings: dict[str, list[str]] | None = None
    ) -> list[str]:
        """What a chunk is indexed under: its title's, section's and text's terms (`headings` keeps the
        first two for the chunks of one article)."""
        if not with_titles:
            return self.terms(text)
        if headings is None:
            return self.terms(title) + self.terms(section) + self.terms(text)
        if "\0title" not in headings:
            headings["\0title"] = self.terms(title)
        if section not in headings:
            headings[section] = self.terms(section)
        return headings["\0title"] + headings[section] + self.terms(text)

    def _known(self, word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A word's terms and its non-empty parts, kept for the next time it is seen."""
        known = self._word_cache.get(word)
        if known is None:
            parts = self._word_parts(word)
            known = (tuple(self._parts_terms(parts)), tuple(p for p in parts if p))
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = known
                self._word_terms[word] = known[0]
                if not self._phrases.keys().isdisjoint(known[1]):
                    self._phrase_words.add(word)
        return known

    def _phrase_matches(self, parts: list[str], words: Callable[[], list[int]]) -> Iterator[tuple[int, int, str]]:
        """(first part, last part, concept) of each synonym phrase in a run of word parts; a phrase must
        span words ("12-step" is one word, already its own concept). `words()` gives each part's word number,
        asked for only when a phrase's parts are there."""
        phrases = self._phrases
        numbers = None
        for i in [i for i, part in enumerate(parts) if part in phrases]:  # the few parts that start a phrase
            for phrase, term in phrases[parts[i]]:
                last = i + len(phrase) - 1
                if tuple(parts[i : last + 1]) == phrase:
                    numbers = words() if numbers is None else numbers
                    if numbers[last] != numbers[i]:
                        yield i, last, term

    def _word_parts(self, raw: str) -> list[str]:
        word = _POSSESSIVE_RE.sub("", self.normalize(raw))
        if _HYPHEN_RE.search(word):
            return [_APOSTROPHE_RE.sub("", p) for p in _HYPHEN_RE.split(word)]
        return [_APOSTROPHE_RE.sub("", word)]

    def _parts_terms(self, parts: list[str]) -> list[str]:
        if len(parts) > 1:
            joined = "".join(parts)
            out = [self._term(p) for p in parts if p and (p in self._concepts or p not in self._stopwords)]
            if self.settings.hyphen_compounds and joined not in self._stopwords:
                out.append(self._term(joined))  # "12-step" is also "12step", and so the concept twelve step
            return out
        word = parts[0]
        if not word or (word in self._stopwords and word not in self._concepts):
            return []
        return [self._term(word)]

    def _term(self, word: str) -> str:
        concept = self._concepts.get(word)
        return concept if concept is not None else self.stem(word)


def _ascii_words(text: str) -> list[str]:
    """What _WORD_PATTERN finds in ASCII text (where it is [A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*), found by
    str.translate and str.split, a third of the time: a word is a run of letters and digits joined by single
    "'" or "-" between two of them; the others are made spaces (none of them can be next to another after
    the pairs are gone). tests/test_analysis.py holds it equal to the pattern on generated text."""
    kept = text.translate(_ASCII_KEPT)
    if "'" in kept or "-" in kept:
        kept = f" {kept} "
        for loose in _LOOSE_JOINERS:
            kept = kept.replace(loose, "  ")
    return kept.split()
