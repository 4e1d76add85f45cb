"""What the phrases of bot/data/safety.yaml find in a message: signs, concern, cues, denials, lost tolerance.

The phrases live in bot/data/safety.yaml (read its header): people who run the bot can extend them
without touching code. Matching copes with how people write in a hurry: case, punctuation and
apostrophes are ignored, slang is mapped to plain words, small typos are forgiven (rapidfuzz), and a
sign is not counted when it is denied ("im not suicidal") or sits in a question about the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.safety.patterns import Lazy as _Lazy, Patterns as _Patterns, possible as _possible
from bot.safety.loose import LooseForms
from bot.safety.reading import RuleReading
from bot.text import english, fuzzy, normal, slang

OVERDOSE, SUICIDE, WITHDRAWAL = "overdose", "suicide", "withdrawal"
EMERGENCIES = (OVERDOSE, SUICIDE, WITHDRAWAL)
TOLERANCE = "lost_tolerance"
_GET = frozenset({"get", "getting", "got", "gotten", "am", "im", "is", "are", "was", "be"})  # "get used to": no denial
DENIED = ": denied "  # how _first_sign() notes a denied sign in the evidence, after its kind
# words whose "'s" people write joined as often ("whats", "thats", "its"): read as one word, as phrases are
_JOINED_S = re.compile(r"\b(that|what|it|there|here|who|where|let|how|when|everything|nothing|something)'s\b")
LONG_MESSAGE_WORDS = 60
ALONE_NO_CUE = frozenset({"help", "helpp", "hlep"})
MENDED_KEPT = 20_000  # words whose mending is kept (a few MB at most)
MEND_RATIO = 85  # how alike (0-100) a typo must be to a sign's word: stricter than the search's speller
_CLAUSE_BREAK = re.compile(r"[.!?;,:\n()\"]+|\s(?:but|and then|though)\s")
_WORDS = re.compile(r"[a-z0-9]+")  # what nltk's RegexpTokenizer made of this pattern: its matches, in order
_LIST_NAME = re.compile(r"<(\w+)>")


@dataclass
class _Kind:
    signs: list[_Lazy]
    questions: list[_Lazy]
    topics: list[_Lazy]
    together: list[tuple[_Lazy, _Lazy]] = field(default_factory=list)


class SafetyRules:
    def __init__(self, data: dict) -> None:
        # the shipped slang (bot/data/slang.yaml, shared with the search; other languages the triage's own), then the
        # operator's own
        shipped = slang.shipped()
        spelled = {
            **slang.translations(),  # other languages' crisis phrases; slang.yaml's own entries win
            **shipped["slang"],
            **shipped["triage_only"],
            **shipped["languages"],
            **(data.get("replacements") or {}),
        }
        self.replacements = sorted(
            ((self._fold(k), self._fold(v)) for k, v in spelled.items()), key=lambda kv: -len(kv[0])
        )
        self._replacer = slang.Replacements(self.replacements)  # each pattern compiled when it can first match
        self._loose = LooseForms.of({self._fold(k): self._fold(v) for k, v in slang.translations().items()})
        words = {name: [self._phrase(w) for w in values] for name, values in (data.get("words") or {}).items()}
        # a kind's concern phrases are a word list too: despair said with a means or a time is more than concern
        for kind, phrases in (data.get("concern") or {}).items():
            words.setdefault(f"concern_{kind}", [self._phrase(p) for p in phrases or []])
        self._words = words
        self._lists: dict[tuple[str, int], str] = {}
        self.negations = [self._phrase(n).split() for n in data.get("negations") or []]
        # the lists looked through on every message know which of their patterns a text could match (patterns.py)
        self.urgent = _Patterns(self._compile(u) for u in data.get("urgent") or [])
        self.resolved = _Patterns(self._compile(u) for u in data.get("resolved") or [])
        self.kinds: dict[str, _Kind] = {}
        vocabulary: set[str] = set()
        for name, spec in (data.get("kinds") or {}).items():
            if name == "lost_tolerance":
                continue
            self.kinds[name] = _Kind(
                *[
                    _Patterns(self._compile(p) for p in spec.get(part) or [])
                    for part in ("signs", "questions", "topics")
                ]
            )
            for pair in spec.get("together") or []:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ValueError(f"safety.yaml: {name}: together takes pairs of word lists, got {pair!r}")
                first, second = (self._compile(f"<{p}>") for p in pair)
                # [x, x] means two different phrases of list x ("paid off my debts", "gave away my cat")
                self.kinds[name].together.append((first, first if pair[0] == pair[1] else second))
                for list_name in pair:
                    vocabulary.update(
                        w for entry in words.get(list_name, ()) for w in entry.split() if not w.startswith("<")
                    )
            for phrase in spec.get("signs") or []:
                vocabulary.update(w for w in self._phrase(phrase).split() if not w.startswith("<"))
        self.concern = {
            name: _Patterns(self._compile(p) for p in phrases) for name, phrases in (data.get("concern") or {}).items()
        }
        self.cues = {name: self._compile_any(phrases) for name, phrases in (data.get("cues") or {}).items()}
        self.death_wish = self._compile_any(data.get("death_wish") or [])
        self.purpose = self._compile_any(data.get("purpose") or [])
        self.idioms = _Patterns(self._compile(p) for p in data.get("idioms") or [])
        self.laughing = self._compile_any(data.get("laughing") or [])
        # a habit told is read as coping is: neither is an emergency by the model alone
        self.coping = self._compile_any([*(data.get("coping") or []), *(data.get("habitual") or [])])
        self.reported = self._compile_any(data.get("reported") or [])
        self.precipitated = self._compile_any(data.get("precipitated") or [])
        self.denials = _Patterns(self._compile(p) for p in data.get("denials") or [])
        self.asking = _Patterns(self._compile(p, start="^") for p in data.get("asking") or [])
        self.asking_ahead = _Patterns(self._compile(p, start="^") for p in data.get("asking_ahead") or [])
        self.asking_end = self._compile_any(data.get("asking_end") or [])
        self.told_in_question = self._compile_any(data.get("told_in_question") or [])
        self.asking_now = _Patterns(self._compile(p, start="^") for p in data.get("asking_now") or [])
        listed = data.get("words") or {}
        # at hand: its own phrases and the lists of means and preparation ("i have the bottle", "a rope")
        self.at_hand = self._compile_any(
            [*(data.get("at_hand") or []), *(listed.get("means") or []), *(listed.get("preparation") or [])]
        )
        self.stimulants = self._compile_any(data.get("stimulants") or [])
        self.stopped = self._compile_any(listed.get("stopped_drinking") or [])
        tolerance = (data.get("kinds") or {}).get("lost_tolerance") or {}
        self.tolerance_use = _Patterns(self._compile(p) for p in tolerance.get("use") or [])
        self.tolerance_after = _Patterns(self._compile(p) for p in tolerance.get("after") or [])
        keep = {self._phrase(w) for w in data.get("keep") or []}
        # Typos are corrected towards the words of the signs only; long enough words only.
        self._vocabulary = sorted(w for w in vocabulary if len(w) >= 5)
        self._keep = keep | set(self._vocabulary)
        self._mended: dict[str, str] = {}  # a word's mending, kept: the same words come back message after message

    @staticmethod
    def _fold(text: str) -> str:
        if not isinstance(text, str):  # YAML reads a bare no / yes / on as true or false
            raise ValueError(
                f"safety.yaml: {text!r} must be written in quotes (YAML reads it as a number or true/false)"
            )
        return normal.bare(text)  # "está" is typed "esta" as often, "wziął" "wzial": one form

    def _spelled(self, text: str) -> str:
        """Folded, slang replaced, apostrophes gone: what messages and phrases alike become."""
        # "what's the point" is "whats the point", as the phrases write it; he's -> he s (the "s" is in <be>)
        text = _JOINED_S.sub(r"\1s", self._fold(text))
        text = re.sub(r"(?<=\w)'s\b", " s", text)
        return self._replacer.apply(text).replace("'", "")

    def _phrase(self, phrase: str) -> str:
        """A phrase read as messages are: "od at" is written as people write it and matches "overdose at"."""
        return " ".join(self._spelled(phrase).split())

    def _compile(self, phrase: str, start: str = r"(?<!\S)") -> _Lazy:
        words = self._phrase(phrase)
        return _Lazy(start + self._sequence(words, phrase) + r"(?!\S)", self._needs([words]))

    def _compile_any(self, phrases: list[str]) -> _Lazy:
        """Many phrases as one pattern: cues are checked on every message, so one pass each."""
        if not phrases:
            return _Lazy(r"(?!)", [])  # matches nothing
        spelled = [self._phrase(p) for p in phrases]
        alternatives = sorted((self._sequence(w, p) for w, p in zip(spelled, phrases)), key=len, reverse=True)
        return _Lazy(r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)", self._needs(spelled))

    @staticmethod
    def _needs(alternatives: list[str]) -> list[tuple[str, ...]] | None:
        """The literal words each alternative cannot match without; None when one has none (lists only)."""
        needs = []
        for words in alternatives:
            literal = tuple(w for w in words.split() if w != "*" and not _LIST_NAME.fullmatch(w))
            if not literal:
                return None
            needs.append(literal)
        return needs

    def _sequence(self, words: str, phrase: str, depth: int = 0) -> str:
        """Words as a regex: <name> is a word list, * is up to three other words."""
        pattern = ""
        for token in words.split():
            if token == "*":
                pattern += r"(?:\S+ ){0,3}"
                continue
            m = _LIST_NAME.fullmatch(token)
            pattern += (self._list_pattern(m.group(1), phrase, depth) if m else re.escape(token)) + " "
        return pattern.rstrip()

    def _list_pattern(self, name: str, phrase: str, depth: int) -> str:
        """A word list as a regex alternation; entries may name other lists ("my <relation>")."""
        known = self._lists.get((name, depth))  # the same list in many phrases: built once per depth
        if known is not None:
            return known
        if name not in self._words:
            raise ValueError(f"safety.yaml: {phrase!r} names an unknown word list <{name}>")
        if depth > 3:
            raise ValueError(f"safety.yaml: word list <{name}> refers to itself")
        entries = sorted(self._words[name], key=len, reverse=True)
        built = "(?:" + "|".join(self._sequence(e, phrase, depth + 1) for e in entries) + ")"
        self._lists[(name, depth)] = built
        return built

    # --- reading a message ----------------------------------------------------------------------

    def clauses(self, message: str) -> list[str]:
        """The message as plain clauses: slang replaced, apostrophes and punctuation gone, typos mended."""
        text = self._loose.apply(self._spelled(message), message)
        out = []
        for clause in _CLAUSE_BREAK.split(f" {text} "):
            tokens = [self._mend(t) for t in _WORDS.findall(clause)]
            line = " ".join(tokens)
            # "the lasagna is to die for": read without the idiom, by phrases and model. Taking one out only takes
            # words away, so an idiom the line could not match at first it cannot match after another is out
            for idiom in _possible(self.idioms, line):
                line = " ".join(idiom.sub(" ", line).split())
            if line:
                out.append(line)
        return out

    def _mend(self, token: str) -> str:
        if len(token) < 5 or token in self._keep or token.isdigit():
            return token
        mended = self._mended.get(token)
        if mended is None:
            if english.common(token):
                mended = token  # "stable" is no typo of "table": a common word is what it says
            else:
                # fewest edits first; among equals the most alike overall ("seizre" is "seizure", not "seize");
                # and never a word that is not alike overall ("watching" is not "twitching")
                mended = fuzzy.nearest(token, self._vocabulary, 1 if len(token) < 8 else 2, MEND_RATIO, limit=5)
                mended = mended or token
            if len(self._mended) < MENDED_KEPT:
                self._mended[token] = mended
        return mended

    def _negated(self, clause: str, start: int) -> bool:
        before = clause[:start].split()
        for negation in self.negations:
            n = len(negation)
            # the denial ends right before the sign, or one word before it ("not really suicidal")
            at = next(
                (a for a in (len(before) - n, len(before) - n - 1) if a >= 0 and before[a : a + n] == negation), None
            )
            if at is not None and not (negation[0] == "used" and at > 0 and before[at - 1] in _GET):
                return True  # ... but "to get used to the edge" denies nothing
        return False

    def _first_sign(
        self,
        name: str,
        signs: list[_Lazy],
        kind: _Kind,
        clauses: list[str],
        urgent: bool,
        resolved: bool,
        evidence: list[str],
        asked_first: bool = False,
    ) -> bool:
        """Whether a sign is there, not denied and not part of a question about the topic (`asked_first`: the
        first clause opens as a question, "what happens at the ER if you go in for suicidal thoughts")."""
        whole = " ".join(clauses)
        signs = _possible(signs, whole)  # what no clause can match, in none is looked for
        for number, clause in enumerate(clauses):
            for sign in signs:
                for m in sign.finditer(clause):
                    if self._negated(clause, m.start()):
                        evidence.append(f"{name}{DENIED}'{m.group()}'")
                    elif (
                        not urgent
                        # "is it bad if someone is blue" asks of what is happening: the sign counts
                        and not any(p.match(clause) for p in _possible(self.asking_now, whole))
                        and ((asked_first and number == 0) or any(q.search(clause) for q in kind.questions))
                    ):
                        evidence.append(f"{name}: question '{m.group()}'")
                    elif not urgent and resolved:
                        evidence.append(f"{name}: over '{m.group()}'")
                    else:
                        evidence.append(f"{name}: '{m.group()}'")
                        return True
        return False

    def _present(self, patterns: list[_Lazy], clauses: list[str]) -> list[str]:
        """Phrases found and not denied right before."""
        found = []
        whole = " ".join(clauses)
        patterns = _possible(patterns, whole)
        for clause in clauses:
            for pattern in patterns:
                for m in pattern.finditer(clause):
                    if not self._negated(clause, m.start()):
                        found.append(m.group())
        return found

    def _said(self, pattern: _Lazy, text: str) -> bool:
        """Whether the pattern is found somewhere not denied right before it."""
        return any(not self._negated(text, m.start()) for m in pattern.finditer(text))

    def _ends_asking(self, clauses: list[str]) -> bool:
        """The message ends on "is that normal": asked of what it told ("... is that bad im alone" is not)."""
        if not clauses or not self.asking_end.possible(clauses[-1]):
            return False
        last = clauses[-1]
        return any(m.end() == len(last) for m in self.asking_end.finditer(last))

    def read(self, message: str) -> RuleReading:
        clauses = self.clauses(message)
        whole = " ".join(clauses)
        # "what do i do" says it is happening; "what do i do if" asks ahead
        urgent = any(
            not whole[m.end() :].startswith(" if ") for p in _possible(self.urgent, whole) for m in p.finditer(whole)
        )
        resolved = any(p.search(whole) for p in _possible(self.resolved, whole))  # "he is stable now": it is over
        emergencies: list[str] = []
        weak: list[str] = []
        notes: list[str] = []
        evidence: list[str] = []
        # A long message with a sign in it is more often a case told or a question asked than an emergency
        # typed in a hurry: there a sign is weak evidence, and the model must agree.
        long = len(whole.split()) > LONG_MESSAGE_WORDS
        asked_first = (
            bool(clauses)
            and any(p.match(clauses[0]) for p in _possible(self.asking, whole))
            and not self.told_in_question.search(clauses[0])
        )
        for name, kind in self.kinds.items():
            if self._first_sign(name, kind.signs, kind, clauses, urgent, resolved, evidence, asked_first):
                (weak if long and not urgent else emergencies).append(name)
                continue
            for state, context in kind.together:
                # a state ("slumped", "seeing things") counts with a context ("after using", "quit drinking")
                if context is state:
                    hit = len({m.group() for clause in clauses for m in state.finditer(clause)}) >= 2
                else:
                    hit = any(context.search(clause) for clause in clauses)
                if hit and self._first_sign(name, [state], kind, clauses, urgent, resolved, evidence, asked_first):
                    weak.append(name)
                    break
            if name not in weak + emergencies and (
                any(t.search(whole) for t in _possible(kind.topics, whole))
                or any(e.startswith(f"{name}:") for e in evidence)
            ):
                notes.append(name)
        concern = []
        for name, patterns in self.concern.items():
            found = self._present(patterns, clauses)
            if found:
                concern.append(name)
                evidence.append(f"concern {name}: '{found[0]}'")
        after = any(p.search(whole) for p in _possible(self.tolerance_after, whole))
        tolerance = after and any(p.search(whole) for p in _possible(self.tolerance_use, whole))
        # a cue counts even when denied ("not breathing" is the strongest one); denials are their own list
        found = {name for name, pattern in self.cues.items() if pattern.search(whole)}
        if whole in ALONE_NO_CUE:  # "help" alone asks what the bot does (the answer says it, with the lines)
            found = set()
        tolerance_cue = TOLERANCE in found or after
        found.update(weak)  # a state in its context is a cue of its kind, whatever the cue lists hold
        cues = tuple(name for name in self.cues if name in found and name != TOLERANCE)
        death_wish = bool(self.death_wish.search(whole))
        # "not going to do anything stupid, just want to know if 60 mg and the gin will stop my breathing. i have
        # both here": beside a death wish and the means at hand, a denial denies nothing and a laugh is no joke
        # ... the means said, not denied ("i dont have a plan" holds "have a plan")
        means_said = death_wish and self._said(self.at_hand, whole)
        denied = any(p.search(whole) for p in _possible(self.denials, whole)) and not means_said
        # "... hes drinking way too much. what signs should i watch for" asks ahead, in any clause
        asking = not urgent and (
            any(p.match(whole) for p in _possible(self.asking, whole))
            # "been taking xans every day for 2 years, can i just quit cold turkey": told, then asked
            # ("... is that bad im alone" asks of what it told: asking_end's, not this)
            or (
                len(clauses) > 1
                and not self.asking_end.search(clauses[-1])
                and any(p.match(clauses[-1]) for p in _possible(self.asking, whole))
            )
            # a clause holds no word the whole message does not: what the whole cannot match, no clause can
            or any(p.match(clause) for p in _possible(self.asking_ahead, whole) for clause in clauses)
        )
        asked_after = not urgent and self._ends_asking(clauses)
        if asking:  # "how long does it take to die from tylenol. i have the bottle open in front of me"
            asking = not (len(clauses) > 1 and self.at_hand.search(" ".join(clauses[1:])))
        stimulant = bool(self.stimulants.search(whole)) and not self.stopped.search(whole)
        sign_denied = any(e.startswith(SUICIDE + DENIED) for e in evidence)
        return RuleReading(
            whole,
            tuple(emergencies),
            tuple(weak),
            tuple(concern),
            tuple(notes),
            tolerance,
            cues,
            tolerance_cue,
            denied,
            asking,
            urgent,
            death_wish,
            bool(self.laughing.search(whole)) and not means_said,
            stimulant,
            asked_after,
            bool(self.purpose.search(whole)),
            len(message.split()),
            # "i dont want to kill myself": a suicide sign denied, and none said, is read as coping is; it denies
            # no overdose ("starting to black out, i dont want to die i just wanted to sleep")
            (bool(self.coping.search(whole)) or (sign_denied and SUICIDE not in emergencies and OVERDOSE not in weak))
            and not means_said,
            self._said(self.reported, whole),
            bool(self.precipitated.search(whole)),
            "?" in message or "\uff1f" in message,  # and the full-width one (Chinese, Japanese)
            tuple(evidence),
        )
