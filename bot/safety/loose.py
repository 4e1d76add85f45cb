"""Translated crisis phrases found as people write them: the same words in another order, inflected, a word between.

bot/data/translations.yaml holds each phrase as its translators wrote it ("bi co giat", "nangisay ako kanina",
"передозировка"); a message says "co giật", "nangisay siya kanina", "передозировки", and the exact replacements
miss it. So in a message mostly not in English, a translated form whose every word is there is read as its English,
as an exact form is: a word of five letters or more may differ in its ending (the two the same but for their last
three letters at most, and in five at least), the words may come in any order with a few other words between them,
within one sentence. A form of one word must be one of five letters or more, and is inflected only a little and
only when long (ALONE_*: "farmaci" is no "farmacia"). English messages are left alone (an English word as rare as
"detoxing" must never be read as a Spanish one), and so are the scripts written without spaces, where a word's edges
are not known.

Held out (blind32-36, written after these settings were fixed; their messages mostly not in English, slang.yaml's
own entries taken away so only the translators' forms count, the phrases alone without the model): emergencies a
phrase reads 46 -> 58 of 148, questions and everyday messages a phrase reads 1 -> 1 of 105. The settings were chosen
on blind22-31 (159 -> 178 of 246 emergencies at their level there: a development figure).
"""

from __future__ import annotations

import re

from bot.text import english, slang

STEM = 5  # a word this long or longer may end otherwise ("передозировка", "передозировки")
ENDING = 3  # how many letters at the end of either may differ
# a form of one word, with nothing beside it to confirm it, must be longer and may differ less ("farmacos" is
# no "farmacia"; "передозировки" is "передозировка")
ALONE_STEM, ALONE_ENDING = 8, 2
SLACK = 3  # other words allowed among a form's own
ENGLISH_SHARE = 0.5  # a message at least this share common English words is read as English
TELLING = 4  # words this long or longer tell the language
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?;\n]")


def _english(text: str) -> bool:
    """At least half its words common English; short words are shared ("se", "las", "ya", "mi" are common in
    English text too), so the longer ones tell when there are a few."""
    words = [w for w in _WORD.findall(text) if not w.isdigit()]
    if len(words) < 3 and text.isascii():
        return True  # too few to tell: "overdosing" alone is read as English
    telling = [w for w in words if len(w) >= TELLING]
    telling = telling if len(telling) >= 3 else words
    common = sum(w.isascii() and english.common(w) for w in telling)
    return bool(telling) and common >= ENGLISH_SHARE * len(telling)


def _alike(word: str, key: str, stem: int = STEM, ending: int = ENDING) -> bool:
    if word == key:
        return True
    if len(word) < stem or len(key) < stem:
        return False
    same = 0
    for a, b in zip(word, key):
        if a != b:
            break
        same += 1
    return same >= max(stem, max(len(word), len(key)) - ending)


class LooseForms:
    def __init__(self, forms: list[list], first: dict[str, list[int]]) -> None:
        self.forms = forms  # [its words, distinct, in order; how many words it has; its English]
        self.first = first  # a word's first STEM letters (or the whole of a shorter one) -> forms looked for from it

    @classmethod
    def of(cls, translations: dict[str, str]) -> LooseForms:
        """From the translated pairs ("written form": "english"), both folded as messages are."""
        forms = []
        for written, meant in translations.items():
            if slang._UNSPACED.search(written):
                continue
            words = _WORD.findall(written)
            keys = list(dict.fromkeys(words))
            if written == meant or not keys or (len(keys) == 1 and (len(words) > 1 or len(keys[0]) < STEM)):
                continue  # one word says enough only alone and long: "передозировка", not "tu tu" or "kufa"
            forms.append([keys, len(words), meant])
        # the most words first: "muon ket thuc cuoc doi" is read before "muon ket"
        forms.sort(key=lambda f: (-len(f[0]), -f[1], f[0]))
        # each form is looked for from its least English word alone (every word must be there anyway), so an
        # English message rarely has a form to try
        first: dict[str, list[int]] = {}
        for i, (keys, _, _) in enumerate(forms):
            first.setdefault(min(keys, key=lambda k: (english.zipf(k), -len(k), k))[:STEM], []).append(i)
        return cls(forms, first)

    def state(self) -> dict:
        return {"forms": self.forms, "first": self.first}

    @classmethod
    def from_state(cls, s: dict) -> LooseForms:
        return cls([[list(k), int(n), str(m)] for k, n, m in s["forms"]], {k: list(v) for k, v in s["first"].items()})

    def apply(self, text: str, written: str | None = None) -> str:
        """The text with each loosely written form read as its English (the text as it was when none is there).

        `written`: the message as it came, accents and all, which tells its language better (a word with a
        letter beyond ASCII is no English word; "bo em bi co giat" folded could pass for English)."""
        tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        words = [w for _, _, w in tokens if not w.isdigit()]
        if not words:
            return text
        candidates = sorted({i for w in words for i in self.first.get(w[:STEM], ())})
        if not candidates or _english(text if written is None else written.lower()):
            return text
        used = [False] * len(tokens)
        spans = []
        for i in candidates:
            keys, size, meant = self.forms[i]
            places: list[int] = []
            stem, ending = (ALONE_STEM, ALONE_ENDING) if size == 1 else (STEM, ENDING)
            for key in keys:
                at = next(
                    (
                        j
                        for j, (_, _, w) in enumerate(tokens)
                        if not used[j] and j not in places and _alike(w, key, stem, ending)
                    ),
                    None,
                )
                if at is None:
                    break
                places.append(at)
            else:
                low, high = min(places), max(places)
                if high - low + 1 > size + SLACK or _SENTENCE_END.search(text, tokens[low][0], tokens[high][1]):
                    continue
                for j in range(low, high + 1):
                    used[j] = True
                spans.append((tokens[low][0], tokens[high][1], meant))
        for start, end, meant in sorted(spans, reverse=True):
            text = f"{text[:start]} {meant} {text[end:]}"
        return text
