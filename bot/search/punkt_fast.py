"""nltk's punkt sentence splitter, written out for the parameters the bot gives it.

Punkt finds every ".", "?" or "!" that could end a sentence, asks whether the words around it make a break
(`text_contains_sentbreak`: a PunktToken object per word and two annotation passes of generators over
them), and realigns closing quotes and brackets onto the sentence before. With the bot's parameters (a list
of abbreviations; no collocations, no orthographic statistics, no sentence starters: nothing trained) most of
the rules can never fire, and what is left fits in a few lines on plain strings. `span_tokenize` runs nltk's
three steps (`_match_potential_end_contexts`, `_slices_from_text`, `_realign_boundaries`) as one loop, with
nltk's own regular expressions compiled by the standard library's engine: on text without the four control
characters "\\x1c" to "\\x1f" (the only ones its `\\s` reads otherwise than the `regex` module nltk compiles
them with) they find the same matches. These three patterns run in linear time, and nltk's 5 s limit on each
match is there for patterns that do not: a text with one of those characters, or a line of more than 100,000
characters (where that limit could matter: tests/test_index.py), goes through nltk's own steps. A break
decision depends only on its few words of context, so each is kept. tests/test_chunking.py holds the
spans equal to nltk's PunktSentenceTokenizer on real health pages and on generated text. Splitting
sentences was half the time of building an index.
"""

from __future__ import annotations

import re
from itertools import chain

from bot.search import nltk_lean  # noqa: F401  (first: nltk without SciPy and scikit-learn)

_PUNCTUATION = frozenset(";:,.!?")  # PunktSentenceTokenizer.PUNCTUATION: never the start of a sentence
_OTHER_SPACES = "\t\n\r\x0b\x0c"  # string.whitespace, which nltk looks for before a candidate, less " "
_LAST = (None,)  # after the last candidate
_DECISIONS_KEPT = 200_000  # break decisions kept, by their context (a few words each)
# a line this long (a page without line breaks) goes through nltk's own steps, under nltk's time limit, as before
LONG_LINE = 100_000


def _plain(pattern) -> re.Pattern:
    """nltk's pattern (its `regex` one inside nltk's timed wrapper, or a plain one) in the standard library."""
    raw = getattr(pattern, "_rx", pattern)
    return re.compile(raw.pattern, raw.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE))


def tokenizer(abbreviations: set[str]):
    """A PunktSentenceTokenizer over these abbreviations and nothing trained (what the fast path assumes)."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer, PunktToken

    params = PunktParameters()
    params.abbrev_types = set(abbreviations)
    initial, numeric = PunktToken._RE_INITIAL, PunktToken._RE_NUMERIC

    class FastPunkt(PunktSentenceTokenizer):
        def __init__(self, parameters: PunktParameters) -> None:
            super().__init__(parameters)
            lang = self._lang_vars
            self._period_re = _plain(lang.period_context_re())
            self._realign_re = _plain(lang.re_boundary_realignment)
            self._words = _plain(lang._word_tokenizer_re()).findall
            self._decided: dict[str, bool] = {}
            # what bot/search/_punkt.c, the same loops in C, is given: the decisions kept, shared with these
            self.decided, self.kept, self.long_line = self._decided, _DECISIONS_KEPT, LONG_LINE

        def decide(self, context: str) -> bool:
            return self._contains_break(context, self._words)

        def span_tokenize(self, text: str, realign_boundaries: bool = True):
            # "\x1c" to "\x1f": whitespace to the standard library's \s, not to the regex module's
            odd = "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text
            if odd or not realign_boundaries or len(text) > LONG_LINE:
                return super().span_tokenize(text, realign_boundaries)
            return iter(self._realigned(text, self._slices(text)))

        def _slices(self, text: str) -> list[tuple[int, int]]:
            """nltk's _slices_from_text over its _match_potential_end_contexts: each candidate's context is
            the word before it (back to the last whitespace, or the previous word's start when there is none
            in between), the candidate and what follows it; a candidate whose word overlaps the next one's
            ("acting!!!") gives way to it. A break ends a slice; the next starts after the whitespace, or at
            the punctuation that follows."""
            slices = []
            last_break = 0
            previous = None
            word_start = word_end = start = end = 0  # the previous candidate's word: text[word_start:word_end]
            other_spaces = "\t" in text or "\n" in text or "\r" in text or "\x0b" in text or "\x0c" in text
            decided, words = self._decided, self._words
            for match in chain(self._period_re.finditer(text), _LAST):
                if match is not None:
                    end = match.start()
                    space = text.rfind(" ", word_end, end)
                    if other_spaces:
                        for c in _OTHER_SPACES:
                            space = max(space, text.rfind(c, word_end, end))
                    start = space + 1 if space > word_end else word_start  # nltk's "index 0 is no whitespace"
                if previous is not None and (match is None or word_end <= start):
                    context = text[word_start:word_end] + previous.group() + previous.group("after_tok")
                    breaks = decided.get(context)
                    if breaks is None:
                        breaks = self._contains_break(context, words)
                        if len(decided) < _DECISIONS_KEPT:
                            decided[context] = breaks
                    if breaks:
                        slices.append((last_break, previous.end()))
                        following = previous.start("next_tok")
                        last_break = following if following >= 0 else previous.end()
                previous, word_start, word_end = match, start, end
            slices.append((last_break, len(text.rstrip())))
            return slices

        def _realigned(self, text: str, slices: list[tuple[int, int]]) -> list[tuple[int, int]]:
            """nltk's _realign_boundaries: closing quotes and brackets at the start of a sentence go to the one
            before ("(Sent1.) Sent2.")."""
            out = []
            realign = 0
            last = len(slices) - 1
            realign_re = self._realign_re
            for k, (start, stop) in enumerate(slices):
                start += realign
                if k == last:
                    if start < stop:
                        out.append((start, stop))
                    break
                next_start, next_stop = slices[k + 1]
                m = realign_re.match(text, next_start, next_stop) if next_start < next_stop else None
                if m:
                    out.append((start, next_start + len(m.group().rstrip())))
                    realign = m.end() - next_start
                else:
                    realign = 0
                    if start < stop:
                        out.append((start, stop))
            return out

        def text_contains_sentbreak(self, text: str) -> bool:
            """nltk's own steps call this (a text with an odd control character): its word patterns."""
            return self._contains_break(text, self._lang_vars.word_tokenize)

        def _contains_break(self, text: str, words) -> bool:
            """True when a word of text, not the last, ends a sentence: nltk's two passes, as they run when
            nothing is trained (ortho_context, collocations and sent_starters empty)."""
            if "\n" in text:
                tokens = [t for line in text.split("\n") if line.strip() for t in words(line)]
            else:
                tokens = words(text)  # (a blank text has no words either way)
            if len(tokens) == 2:
                return self._breaks(tokens[0], tokens[1])
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
