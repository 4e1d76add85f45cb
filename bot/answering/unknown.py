"""Names in a question that no article holds: "is gabapentin addictive" over articles that never say gabapentin.

BM25 scores only the words it knows, so such a question is answered as if it asked about addiction in general:
a passage that matches its other words answers another question. A name is a word rare in English (Zipf under
2.6: "chantix", "ayahuasca", not "diff" or "cranky") that no chunk contains, that no synonym concept covers (a
medicine the synonyms know, like Suboxone, is the subjects' to answer for: bot/answering/subjects.py), and that
is no typo one edit from a common word ("usualy") nor a texting spelling the slang list reads ("tmrw").
"""

from __future__ import annotations

from bot.search.index import SearchIndex
from bot.search.query import Query
from bot.text import english

NAME_ZIPF = 2.6  # rarer in English than this, a word no chunk holds is a name the articles lack
MIN_LETTERS = 4
TYPO_OF_ZIPF = 3.5  # one edit from a word this common, a word is a typo of it
# more than this many of the question's other words held by under 1% of chunks: a name missing is one detail
# (spent answer sets and SciFact: the questions no article answers kept at most 2, SciFact claims up to 9)
SPECIFIC_SHARE, MAX_SPECIFIC_LEFT = 0.01, 2
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def unknown_names(text: str, query: Query, index: SearchIndex) -> list[str]:
    """The question's names no article holds, as typed, in order."""
    if not query.terms:
        return []
    bm25, analyzer, out = index.bm25, index.analyzer, []
    for token in analyzer.tokens(text):
        typed = text[token.start : token.end]
        if (
            "_" not in token.term  # a phrase concept ("medication-assisted treatment") is read by its names
            and not analyzer.concept_name(token.term)
            # a texting spelling ("tmrw") is the word it spells, not a name
            and analyzer.stem(analyzer.normalize(typed)) == token.term
            and len(typed) >= MIN_LETTERS
            and typed.isalpha()
            and bm25.doc_freq(token.term) == 0
            and 0.0 < english.zipf(typed.casefold()) < NAME_ZIPF  # a word somewhere, not "asdfgh"
            and typed not in out
            and not typo_of_a_word(typed.casefold())
        ):
            out.append(typed)
    if out:
        # a claim or question with other specific words the articles hold ("Venules ... compared to arterioles")
        # is still theirs to answer; "is gabapentin addictive" has only "addictive" left, which many passages hold
        chunks = max(bm25.doc_count, 1)
        specific = {t for t in query.terms if 0 < bm25.doc_freq(t) < SPECIFIC_SHARE * chunks}
        if len(specific) > MAX_SPECIFIC_LEFT:
            return []
    return out


def typo_of_a_word(word: str) -> bool:
    """Whether one edit (a letter dropped, added, changed, or two swapped) makes a common English word."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    edits.discard(word)
    return any(english.zipf(e) >= TYPO_OF_ZIPF for e in edits)
