"""The crisis phrases as SafetyRules prepares them, kept as plain JSON in the cache folder between starts.

Preparing them (10,000 slang and translated pairs and 1,200 phrases spelled as messages are, their word lists
expanded into patterns) took 0.1 to 0.5 s of every cold `ask`, from files that change only with a release or an
operator's edit. What it makes is strings and lists only: every pattern's source and the words it needs,
the spelled replacements, the word lists, the typo vocabulary. Kept under the sha256 of the phrases' text,
the shipped slang and translations, the installed PyYAML and the source of the code that prepares them
(bot/text/jsoncache.py), it is read back into the same SafetyRules; tests/test_jsoncache.py holds the
two equal, attribute by attribute and reading by reading. A pattern is still compiled the first time a text
could match it.
"""

from __future__ import annotations

import sys

from bot.safety import loose, patterns, rules
from bot.safety.loose import LooseForms
from bot.safety.patterns import Lazy, Patterns
from bot.safety.rules import SafetyRules, _Kind
from bot.text import jsoncache, normal, slang, yamlfile

_LAZY_LISTS = (
    "urgent",
    "resolved",
    "idioms",
    "denials",
    "asking",
    "asking_ahead",
    "asking_now",
    "tolerance_use",
    "tolerance_after",
)
_LAZY_ONES = (
    "death_wish",
    "purpose",
    "laughing",
    "coping",
    "reported",
    "precipitated",
    "told_in_question",
    "asking_end",
    "at_hand",
    "stimulants",
    "stopped",
)


def rules_from(text: str) -> SafetyRules:
    """SafetyRules(the YAML in text), its prepared state read from the cache folder when kept there."""
    make = lambda: SafetyRules(yamlfile.safe_load(text) or {})  # noqa: E731
    if jsoncache.folder() is None:
        return make()
    key = jsoncache.key_of(
        text,
        slang.shipped_text(),
        slang.translations_text(),
        yamlfile._installed(),
        jsoncache.source_of(rules, loose, patterns, slang, normal, jsoncache, sys.modules[__name__]),
    )
    return jsoncache.cached("safety-rules", key, make, encode=state, decode=from_state)


def _lazy(p: Lazy) -> list:
    return [p._source, None if p._needs is None else [sorted(words) for words in p._needs]]


def _unlazy(v: list) -> Lazy:
    source, needs = v
    if not isinstance(source, str):
        raise TypeError("a pattern's source is a string")
    return Lazy(source, None if needs is None else [tuple(words) for words in needs])


def state(r: SafetyRules) -> dict:
    """Everything SafetyRules.__init__ set, as JSON values."""
    return {
        "replacements": [list(pair) for pair in r.replacements],
        "replacer": r._replacer.index(),
        "words": r._words,
        "lists": [[name, depth, built] for (name, depth), built in r._lists.items()],
        "negations": r.negations,
        "kinds": {
            name: {
                "signs": [_lazy(p) for p in k.signs],
                "questions": [_lazy(p) for p in k.questions],
                "topics": [_lazy(p) for p in k.topics],
                # [x, x] pairs one pattern with itself: kept as null, so it is one object again
                "together": [[_lazy(a), None if b is a else _lazy(b)] for a, b in k.together],
            }
            for name, k in r.kinds.items()
        },
        "concern": {name: [_lazy(p) for p in ps] for name, ps in r.concern.items()},
        "cues": {name: _lazy(p) for name, p in r.cues.items()},
        **{name: [_lazy(p) for p in getattr(r, name)] for name in _LAZY_LISTS},
        **{name: _lazy(getattr(r, name)) for name in _LAZY_ONES},
        "vocabulary": r._vocabulary,
        "keep": sorted(r._keep),
        "loose": r._loose.state(),
    }


def from_state(s: dict) -> SafetyRules:
    """The SafetyRules that state() was taken of."""
    r = SafetyRules.__new__(SafetyRules)
    r.replacements = [(written, plain) for written, plain in s["replacements"]]
    r._replacer = slang.Replacements(r.replacements, s["replacer"])
    r._words = s["words"]
    r._lists = {(name, depth): built for name, depth, built in s["lists"]}
    r.negations = s["negations"]
    r.kinds = {}
    for name, k in s["kinds"].items():
        together = []
        for a, b in k["together"]:
            first = _unlazy(a)
            together.append((first, first if b is None else _unlazy(b)))
        r.kinds[name] = _Kind(*(Patterns(map(_unlazy, k[part])) for part in ("signs", "questions", "topics")), together)
    r.concern = {name: Patterns(map(_unlazy, ps)) for name, ps in s["concern"].items()}
    r.cues = {name: _unlazy(p) for name, p in s["cues"].items()}
    for name in _LAZY_LISTS:
        setattr(r, name, Patterns(map(_unlazy, s[name])))
    for name in _LAZY_ONES:
        setattr(r, name, _unlazy(s[name]))
    r._vocabulary = s["vocabulary"]
    r._keep = set(s["keep"])
    r._loose = LooseForms.from_state(s["loose"])
    r._mended = {}
    return r
