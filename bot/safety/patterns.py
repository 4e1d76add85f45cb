"""The crisis phrases' patterns: each compiled the first time a text could match it, and which of a long list
a text could match found from its words (bot/safety/rules.py builds them from bot/data/safety.yaml)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Lazy:
    """A phrase's pattern, compiled the first time a text could match it.

    The shipped phrases make about a thousand patterns, and compiling them took most of a second at every
    start; most messages hold none of their words. A pattern can only match a text that holds every literal
    word of one of its alternatives, each as a word of its own (between spaces or the text's ends: the
    patterns join their words with single spaces and stand between whitespace), so a text without them is
    answered "no match" without the pattern, which is compiled the first time a text passes that check. The
    results are the compiled pattern's.
    """

    __slots__ = ("_source", "_needs", "_compiled")

    def __init__(self, source: str, needs: list[tuple[str, ...]] | None) -> None:
        self._source = source
        # None: no check (an alternative of word lists only); else the words of each alternative
        self._needs = None if needs is None else [frozenset(words) for words in needs]
        self._compiled: re.Pattern | None = None

    def possible(self, text: str) -> bool:
        """Whether text holds the words of one of the alternatives (else it cannot match)."""
        if self._needs is None:
            return True
        held = _words_of(text)  # this runs for every pattern on every message: the text's words are kept
        for words in self._needs:
            if words <= held:
                return True
        return False

    def _pattern(self, text: str) -> re.Pattern | None:
        if not self.possible(text):
            return None
        if self._compiled is None:
            self._compiled = re.compile(self._source)
        return self._compiled

    def search(self, text: str):
        p = self._pattern(text)
        return p.search(text) if p is not None else None

    def match(self, text: str):
        p = self._pattern(text)
        return p.match(text) if p is not None else None

    def finditer(self, text: str):
        p = self._pattern(text)
        return p.finditer(text) if p is not None else iter(())

    def sub(self, replacement: str, text: str) -> str:
        p = self._pattern(text)
        return p.sub(replacement, text) if p is not None else text


class Patterns(list):
    """A long list of patterns (a kind's signs, its concern phrases) that knows which of them a text could
    match from the text's words, instead of asking each: the same patterns as [p for p in self if
    p.possible(text)], in the same order."""

    def possible(self, text: str) -> list[Lazy]:
        index = self.__dict__.get("index")
        if index is None:  # a word of each alternative -> the patterns it is in; and those with no check
            index = self.__dict__["index"] = ({}, [])
            for n, pattern in enumerate(self):
                if pattern._needs is None:
                    index[1].append(n)
                for words in pattern._needs or ():
                    index[0].setdefault(max(words, key=len), set()).add(n)
        by_word, always = index
        held = by_word.keys() & _words_of(text)
        candidates = set(always).union(*(by_word[w] for w in held)) if held else set(always)
        return [self[n] for n in sorted(candidates) if self[n].possible(text)]


def possible(patterns: list[Lazy], text: str) -> list[Lazy]:
    if isinstance(patterns, Patterns):
        return patterns.possible(text)
    return [p for p in patterns if p.possible(text)]
