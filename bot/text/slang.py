"""The slang list (bot/data/slang.yaml): read by the search's analyzer and by the crisis triage alike."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


from bot.text import yamlfile

SECTIONS = ("slang", "triage_only", "languages")


def _read(text: str, source: str, sections: tuple[str, ...] | None = None) -> dict[str, dict[str, str]]:
    """The sections (all of them when None) of a file of "how people write it: plain words" lines."""
    try:
        data = yamlfile.safe_load(text) or {}
    except yamlfile.error() as e:
        raise ValueError(f"{source}: not valid YAML ({e})") from None
    out: dict[str, dict[str, str]] = {}
    for section in tuple(data) if sections is None else sections:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"{source}: {section} must hold 'how people write it: plain words' lines")
        for written, meant in entries.items():
            if not isinstance(written, str) or not isinstance(meant, str):
                raise ValueError(
                    f"{source}: {section}: {written!r}: {meant!r} must both be words in quotes "
                    "(YAML reads a bare number or yes/no otherwise)"
                )
        out[section] = {str(k): str(v) for k, v in entries.items()}
    return out


def parse(text: str, source: str = "bot/data/slang.yaml") -> dict[str, dict[str, str]]:
    return _read(text, source, SECTIONS)


@lru_cache(maxsize=1)
def shipped_text() -> str:
    return resources.files("bot.data").joinpath("slang.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict[str, str]]:
    return parse(shipped_text())


@lru_cache(maxsize=1)
def translations_text() -> str:
    return resources.files("bot.data").joinpath("translations.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def translations() -> dict[str, str]:
    """bot/data/translations.yaml (one section per language): crisis phrases -> English, for the triage alone."""
    languages = _read(translations_text(), "bot/data/translations.yaml")
    return {written: meant for entries in languages.values() for written, meant in entries.items()}


_TOKEN = re.compile(r"[\w']+")  # what a replacement's edges, (?<![\w']) and (?![\w']), set apart
# scripts written without spaces between words (Chinese, Japanese, Thai) or with endings joined to them (Korean,
# read as jamo once folded): a written form there is found inside a run of letters, its meaning set apart by spaces
_UNSPACED = re.compile(
    "[\u0e00-\u0e7f"  # Thai
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul: jamo, compatibility jamo, syllables
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # Han
)


class Replacements:
    """Slang replacements ("written" -> "plain"), applied to a text one after the other, in their order.

    As `for each: if written in text: text = re.sub(rf"(?<![\\w']){written}(?![\\w'])", plain, text)`, with the
    same results, without a pass over every pair for every text: a `written` made of word characters and
    apostrophes only can match only where it is a whole run of them, so those come from the text's runs (a set
    lookup), and one with other characters too ("me quiero matar") from its longest run; the few others are
    looked for as before, those with letters beyond ASCII only in a text that has some. A form in a script
    without spaces (`_UNSPACED`) matches anywhere, inside a run, and becomes " plain ". Each pattern is compiled
    the first time it can match.
    """

    def __init__(self, pairs: list[tuple[str, str]], index: dict | None = None) -> None:
        self.pairs = pairs
        self._patterns: list[re.Pattern | None] = [None] * len(pairs)
        if index is not None:  # what index() gave for these pairs (bot/safety/prepared.py keeps it)
            self._by_word, self._by_run = index["by_word"], index["by_run"]
            self._others, self._ascii_others, self._unspaced = index["others"], index["ascii_others"], index["unspaced"]
            return
        self._by_word: dict[str, list[int]] = {}  # a written form made of [\w'] alone -> its places in pairs
        # The others ("me quiero matar"): their pattern stands between non-[\w'] edges, so each run of [\w'] in
        # one is a whole run of the text wherever it matches: the longest run of each is looked up like a word
        self._by_run: dict[str, list[int]] = {}
        self._others: list[int] = []  # no run at all, or in a script without spaces: looked for in the text
        self._ascii_others: list[int] = []  # the others an ASCII text can hold
        self._unspaced = [bool(_UNSPACED.search(written)) for written, _ in pairs]
        for i, (written, _) in enumerate(pairs):
            if _TOKEN.fullmatch(written) and not self._unspaced[i]:
                self._by_word.setdefault(written, []).append(i)
            elif _TOKEN.search(written) and not self._unspaced[i]:
                self._by_run.setdefault(max(_TOKEN.findall(written), key=len), []).append(i)
            else:
                self._others.append(i)
                if written.isascii():
                    self._ascii_others.append(i)

    def index(self) -> dict:
        """Where each pair is looked for, as JSON values: Replacements(pairs, index) skips finding it again."""
        return {
            "by_word": self._by_word,
            "by_run": self._by_run,
            "others": self._others,
            "ascii_others": self._ascii_others,
            "unspaced": self._unspaced,
        }

    def apply(self, text: str) -> str:
        candidates = self._candidates(text, 0)
        while candidates:
            i = candidates.pop(0)
            pattern = self._patterns[i]
            if pattern is None:
                written = re.escape(self.pairs[i][0])
                pattern = re.compile(written if self._unspaced[i] else rf"(?<![\w']){written}(?![\w'])")
                self._patterns[i] = pattern
            plain = self.pairs[i][1]
            replaced = pattern.sub(f" {plain} " if self._unspaced[i] else plain, text)
            if replaced != text:  # what follows is looked for in the new text
                text = replaced
                candidates = self._candidates(text, i + 1)
        return text

    def _candidates(self, text: str, first: int) -> list[int]:
        """The pairs from `first` on that can match text, in order."""
        by_word, by_run = self._by_word, self._by_run
        runs = _TOKEN.findall(text)
        words = by_word.keys() & runs
        found = [i for word in words for i in by_word[word] if i >= first] if words else []
        held = by_run.keys() & runs
        if held:
            found += [i for run in held for i in by_run[run] if i >= first and self.pairs[i][0] in text]
        others = self._ascii_others if text.isascii() else self._others
        found += [i for i in others if i >= first and self.pairs[i][0] in text]
        found.sort()
        return found
