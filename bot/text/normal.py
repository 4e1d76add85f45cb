"""One way to read what people type, shared by the search, the crisis triage and the intents.

Phones type curly apostrophes, some keyboards accents and full-width letters; a question and the phrase
that should match it must meet whatever was typed, so every stage folds text here.
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = "'\u2019\u2018\u02bc`"
_APOSTROPHE_RE = re.compile(f"[{APOSTROPHES}]")
_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def fold(text: str, accents: bool = False) -> str:
    """Unicode-compatible forms, case folded, every apostrophe one character; accents dropped if asked."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if accents and not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _APOSTROPHE_RE.sub("'", text)


# letters no accent-stripping takes apart, typed without their stroke or dot as often as with it
_BARE_LETTERS = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "ħ": "h"})


def bare(text: str) -> str:
    """Folded, accents dropped, and the letters they leave whole too ("đang" is "dang", "wziął" "wzial")."""
    return fold(text, accents=True).translate(_BARE_LETTERS)


def plain(text: str) -> str:
    """Folded, without apostrophes ("what's" is "whats"), single spaces."""
    return " ".join(fold(text).replace("'", "").split())


def words(text: str) -> list[str]:
    """The words of a text, folded and without apostrophes; punctuation is dropped."""
    return [w.replace("'", "") for w in _WORDS.findall(fold(text))]
