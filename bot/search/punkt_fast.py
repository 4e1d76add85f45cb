"""nltk's punkt sentence splitter, with its costliest step written out for the parameters the bot gives it.

Punkt asks, at every ".", "?" or "!", whether the words around it make a sentence break
(`text_contains_sentbreak`): it builds a PunktToken object per word and runs two annotation passes of
generators over them. With the bot's parameters (a list of abbreviations; no collocations, no orthographic
statistics, no sentence starters: nothing trained) most of those rules can never fire, and what is left
fits in a few lines on plain strings. Everything else (finding the candidate breaks, realigning them) is
nltk's own code, and so are the regular expressions used here. tests/test_chunking.py holds the spans
equal to nltk's PunktSentenceTokenizer on real health pages and on generated text. Splitting sentences
was half the time of building an index.
"""

from __future__ import annotations

from bot.search import nltk_lean  # noqa: F401  (first: nltk without SciPy and scikit-learn)

_PUNCTUATION = frozenset(";:,.!?")  # PunktSentenceTokenizer.PUNCTUATION: never the start of a sentence


def tokenizer(abbreviations: set[str]):
    """A PunktSentenceTokenizer over these abbreviations and nothing trained (what the fast check assumes)."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer, PunktToken

    params = PunktParameters()
    params.abbrev_types = set(abbreviations)
    initial, numeric = PunktToken._RE_INITIAL, PunktToken._RE_NUMERIC

    class FastPunkt(PunktSentenceTokenizer):
        def text_contains_sentbreak(self, text: str) -> bool:
            """True when a word of text, not the last, ends a sentence: nltk's two passes, as they run
            when nothing is trained (ortho_context, collocations and sent_starters empty)."""
            words = self._lang_vars.word_tokenize
            tokens = [t for line in text.split("\n") if line.strip() for t in words(line)]
            return any(self._breaks(tokens[i], tokens[i + 1]) for i in range(len(tokens) - 1))

        def _breaks(self, tok: str, following: str) -> bool:
            if tok in self._lang_vars.sent_end_chars:  # first pass: ".", "?", "!" alone break
                if tok != ".":
                    return True  # no final period: the second pass leaves it
            elif not tok.endswith(".") or tok.endswith(".."):
                return False  # no final period, or an ellipsis ("..", "..."): never a break
            else:
                lowered = tok[:-1].lower()
                abbrevs = self._params.abbrev_types
                if lowered in abbrevs or lowered.split("-")[-1] in abbrevs:
                    return False  # an abbreviation; untrained, nothing makes it a break again
            # second pass, for a token ending in a period that the first pass made a break
            # (the cheap tests first: an initial is two characters, a number has a digit in its first three)
            is_initial = len(tok) == 2 and bool(initial.match(tok))
            if is_initial or (any(c.isdigit() for c in tok[:3]) and numeric.match(tok.lower())):  # "J.", "12."
                starts_sentence = (
                    False if following in _PUNCTUATION or following[0].islower() else "unknown"
                )  # _ortho_heuristic with no orthographic statistics
                if starts_sentence is False:
                    return False
                if is_initial and following[0].isupper():
                    return False  # an initial before a capital ("J. Bach"), untrained: not a break
            return True

    return FastPunkt(params)
