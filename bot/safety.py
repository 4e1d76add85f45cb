"""Crisis triage, before any retrieval: is this message an emergency, and which kind?

The phrases live in bot/data/safety.yaml (read its header): people who run the bot can extend them
without touching code. Matching copes with how people write in a hurry: case, punctuation and
apostrophes are ignored, slang is mapped to plain words, small typos are forgiven (rapidfuzz), and a
sign is not counted when it is denied ("im not suicidal") or sits in a question about the topic.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from nltk.tokenize import RegexpTokenizer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

OVERDOSE, SUICIDE, WITHDRAWAL = "overdose", "suicide", "withdrawal_emergency"
MODEL_MIN_WORDS = 5  # below this the model is not asked (see triage)
EMERGENCIES = (OVERDOSE, SUICIDE, WITHDRAWAL)
_CLAUSE_BREAK = re.compile(r"[.!?;,:\n()\"]+|\s(?:but|and then|though)\s")
_TOKENIZER = RegexpTokenizer(r"[a-z0-9]+")


@dataclass(frozen=True)
class Triage:
    emergencies: tuple[str, ...] = ()  # kinds happening now, most urgent first
    notes: tuple[str, ...] = ()  # kinds the message is about, without an emergency: one-line notes
    lost_tolerance: bool = False
    evidence: tuple[str, ...] = field(default=(), compare=False)  # which phrases fired, for eval output

    @property
    def crisis(self) -> bool:
        return bool(self.emergencies)


@dataclass
class _Kind:
    signs: list[re.Pattern]
    questions: list[re.Pattern]
    topics: list[re.Pattern]
    together: list[tuple[re.Pattern, re.Pattern]] = field(default_factory=list)


class SafetyRules:
    model: "SafetyModel | None" = None

    def __init__(self, data: dict) -> None:
        words = {name: [self._plain(w) for w in values] for name, values in (data.get("words") or {}).items()}
        self._words = words
        self.replacements = sorted(((self._fold(k), v) for k, v in (data.get("replacements") or {}).items()),
                                   key=lambda kv: -len(kv[0]))
        self._replacement_res = [(re.compile(rf"(?<![\w']){re.escape(k)}(?![\w'])"), v) for k, v in self.replacements]
        self.negations = [self._plain(n).split() for n in data.get("negations") or []]
        self.urgent = [self._compile(u) for u in data.get("urgent") or []]
        self.resolved = [self._compile(u) for u in data.get("resolved") or []]
        self.kinds: dict[str, _Kind] = {}
        vocabulary: set[str] = set()
        for name, spec in (data.get("kinds") or {}).items():
            if name == "lost_tolerance":
                continue
            self.kinds[name] = _Kind(*[[self._compile(p) for p in spec.get(part) or []]
                                       for part in ("signs", "questions", "topics")])
            for pair in spec.get("together") or []:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ValueError(f"safety.yaml: {name}: together takes pairs of word lists, got {pair!r}")
                first, second = (self._compile(f"<{p}>") for p in pair)
                # [x, x] means two different phrases of list x ("paid off my debts", "gave away my cat")
                self.kinds[name].together.append((first, first if pair[0] == pair[1] else second))
                for list_name in pair:
                    vocabulary.update(w for entry in words.get(list_name, ()) for w in entry.split()
                                      if not w.startswith("<"))
            for phrase in spec.get("signs") or []:
                vocabulary.update(w for w in self._plain(phrase).split() if not w.startswith("<"))
        tolerance = (data.get("kinds") or {}).get("lost_tolerance") or {}
        self.tolerance_use = [self._compile(p) for p in tolerance.get("use") or []]
        self.tolerance_after = [self._compile(p) for p in tolerance.get("after") or []]
        keep = {self._plain(w) for w in data.get("keep") or []}
        # Typos are corrected towards the words of the signs only; long enough words only.
        self._vocabulary = sorted(w for w in vocabulary if len(w) >= 5)
        self._keep = keep | set(self._vocabulary)

    @staticmethod
    def _fold(text: str) -> str:
        if not isinstance(text, str):  # YAML reads a bare no / yes / on as true or false
            raise ValueError(f"safety.yaml: {text!r} must be written in quotes (YAML reads it as a number or true/false)")
        text = unicodedata.normalize("NFKC", text).casefold()
        return re.sub("[\u2019\u2018\u02bc`]", "'", text)

    @classmethod
    def _plain(cls, text: str) -> str:
        return " ".join(cls._fold(text).replace("'", "").split())

    def _compile(self, phrase: str) -> re.Pattern:
        return re.compile(r"(?<!\S)" + self._sequence(self._plain(phrase), phrase) + r"(?!\S)")

    def _sequence(self, words: str, phrase: str, depth: int = 0) -> str:
        """Words as a regex: <name> is a word list, * is up to three other words."""
        pattern = ""
        for token in words.split():
            if token == "*":
                pattern += r"(?:\S+ ){0,3}"
                continue
            m = re.fullmatch(r"<(\w+)>", token)
            pattern += (self._list_pattern(m.group(1), phrase, depth) if m else re.escape(token)) + " "
        return pattern.rstrip()

    def _list_pattern(self, name: str, phrase: str, depth: int) -> str:
        """A word list as a regex alternation; entries may name other lists ("my <relation>")."""
        if name not in self._words:
            raise ValueError(f"safety.yaml: {phrase!r} names an unknown word list <{name}>")
        if depth > 3:
            raise ValueError(f"safety.yaml: word list <{name}> refers to itself")
        entries = sorted(self._words[name], key=len, reverse=True)
        return "(?:" + "|".join(self._sequence(e, phrase, depth + 1) for e in entries) + ")"

    # --- reading a message ----------------------------------------------------------------------

    def clauses(self, message: str) -> list[str]:
        """The message as plain clauses: slang replaced, apostrophes and punctuation gone, typos mended."""
        text = self._fold(message)
        text = re.sub(r"(?<=\w)'s\b", " s", text)  # he's -> he s (the "s" is in the <be> list)
        for pattern, plain in self._replacement_res:
            text = pattern.sub(plain, text)
        text = text.replace("'", "")
        out = []
        for clause in _CLAUSE_BREAK.split(f" {text} "):
            tokens = [self._mend(t) for t in _TOKENIZER.tokenize(clause)]
            if tokens:
                out.append(" ".join(tokens))
        return out

    def _mend(self, token: str) -> str:
        if len(token) < 5 or token in self._keep or token.isdigit():
            return token
        limit = 1 if len(token) < 8 else 2
        close = process.extract(token, self._vocabulary, scorer=Levenshtein.distance, score_cutoff=limit, limit=5)
        # fewest edits first; among equals the most alike overall ("seizre" is "seizure", not "seize");
        # and never a word that is not alike overall ("watching" is not "twitching")
        close = [c for c in close if fuzz.ratio(token, c[0]) >= 85]
        return min(close, key=lambda c: (c[1], -fuzz.ratio(token, c[0])))[0] if close else token

    def _negated(self, clause: str, start: int) -> bool:
        before = clause[:start].split()
        for negation in self.negations:
            n = len(negation)
            # the denial ends right before the sign, or one word before it ("not really suicidal")
            if before[-n:] == negation or (len(before) > n and before[-n - 1:-1] == negation):
                return True
        return False

    def _first_sign(self, name: str, signs: list[re.Pattern], kind: _Kind, clauses: list[str], urgent: bool,
                    resolved: bool, evidence: list[str]) -> bool:
        """Whether a sign is there, not denied and not part of a question about the topic."""
        for clause in clauses:
            for sign in signs:
                for m in sign.finditer(clause):
                    if self._negated(clause, m.start()):
                        evidence.append(f"{name}: denied '{m.group()}'")
                    elif not urgent and any(q.search(clause) for q in kind.questions):
                        evidence.append(f"{name}: question '{m.group()}'")
                    elif not urgent and resolved:
                        evidence.append(f"{name}: over '{m.group()}'")
                    else:
                        evidence.append(f"{name}: '{m.group()}'")
                        return True
        return False

    def triage(self, message: str) -> Triage:
        clauses = self.clauses(message)
        whole = " ".join(clauses)
        urgent = any(p.search(whole) for p in self.urgent)
        resolved = any(p.search(whole) for p in self.resolved)  # "he is stable now": it is over
        emergencies: list[str] = []
        notes: list[str] = []
        evidence: list[str] = []
        for name, kind in self.kinds.items():
            found = self._first_sign(name, kind.signs, kind, clauses, urgent, resolved, evidence)
            for state, context in kind.together:
                if found:
                    break
                # a state ("slumped", "seeing things") counts with a context ("after using", "quit drinking")
                if context is state:
                    if len({m.group() for clause in clauses for m in state.finditer(clause)}) >= 2:
                        found = self._first_sign(name, [state], kind, clauses, urgent, resolved, evidence)
                elif any(context.search(clause) for clause in clauses):
                    found = self._first_sign(name, [state], kind, clauses, urgent, resolved, evidence)
            if found:
                emergencies.append(name)
            elif any(t.search(whole) for t in kind.topics) or any(e.startswith(f"{name}:") for e in evidence):
                notes.append(name)
        tolerance = (not emergencies and any(p.search(whole) for p in self.tolerance_use)
                     and any(p.search(whole) for p in self.tolerance_after))
        # A few words are too little for the model to read intent from ("i need help"); the phrases still
        # catch the short, explicit emergencies ("hes blue", "pls help od").
        if not emergencies and not tolerance and self.model is not None and len(whole.split()) >= MODEL_MIN_WORDS:
            kind, probability = self.model.predict(message)
            if kind:
                emergencies.append(kind)
                evidence.append(f"{kind}: model {probability:.2f}")
                notes = [n for n in notes if n != kind]
        order = {OVERDOSE: 0, WITHDRAWAL: 1, SUICIDE: 2}
        if SUICIDE in emergencies and OVERDOSE not in emergencies:
            order[SUICIDE] = -1  # someone who wants to die hears about the 988 Lifeline first
        return Triage(tuple(sorted(emergencies, key=order.get)), tuple(notes), tolerance, tuple(evidence))


class SafetyModel:
    """A learned second opinion for what the phrases miss: people say these things in endless ways.

    Logistic regression over word and character n-grams of the message as the rules read it, trained
    at start-up (a fraction of a second) from the labelled messages in bot/data/safety_training.jsonl:
    nothing serialized is read back. It can only add an emergency, never clear one the rules found.
    """

    # The lowest threshold (in steps of 0.05) whose false alarms on informational and ordinary messages
    # together stay under 5% in 5-fold cross-validation on the training messages: 0.55 gave 5.8%, 0.6
    # gives 4.9% with 95.7% of emergencies caught (the model alone).
    THRESHOLD = 0.6

    def __init__(self, rows: list[tuple[str, str]], normalize) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self._normalize = normalize
        labels = [_MODEL_LABELS.get(label, "other") for _, label in rows]
        features = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                              TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2))
        model = make_pipeline(features, LogisticRegression(C=10, class_weight="balanced", max_iter=2000))
        model.fit([normalize(text) for text, _ in rows], labels)
        self.pipeline = model  # kept for the test that checks the direct arithmetic below against it
        self._classes = list(model.classes_)
        # Predicting through sklearn costs milliseconds of overhead per message; the fitted model is a few
        # dictionaries and a matrix, so it is applied here directly (same numbers, a tenth of the time).
        coef = model[-1].coef_
        self._intercept = model[-1].intercept_.tolist()
        self._parts = []
        offset = 0
        for _, vectorizer in model[0].transformer_list:
            vocabulary = vectorizer.vocabulary_
            weights = {gram: (float(vectorizer.idf_[i]), coef[:, offset + i].tolist()) for gram, i in vocabulary.items()}
            self._parts.append((vectorizer.build_analyzer(), weights))
            offset += len(vocabulary)

    def probabilities(self, message: str) -> dict[str, float]:
        text = self._normalize(message)
        scores = list(self._intercept)
        for analyze, weights in self._parts:
            counts: dict[str, int] = {}
            for gram in analyze(text):
                if gram in weights:
                    counts[gram] = counts.get(gram, 0) + 1
            # sublinear tf times idf, then the l2 norm of the part, as TfidfVectorizer does
            values = {g: (1.0 + math.log(c)) * weights[g][0] for g, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
            for g, v in values.items():
                for k, w in enumerate(weights[g][1]):
                    scores[k] += w * v / norm
        top = max(scores)
        exp = [math.exp(x - top) for x in scores]
        total = sum(exp)
        return {c: e / total for c, e in zip(self._classes, exp)}

    def predict(self, message: str) -> tuple[str | None, float]:
        """(the likeliest emergency kind, or None; the probability of any emergency)."""
        probabilities = self.probabilities(message)
        emergency = 1.0 - probabilities.get("other", 0.0)
        kind = max(EMERGENCIES, key=lambda k: probabilities.get(k, 0.0))
        return (kind if emergency >= self.THRESHOLD else None), emergency


_MODEL_LABELS = {"overdose": OVERDOSE, "suicide": SUICIDE, "withdrawal": WITHDRAWAL}


def read_examples(text: str) -> list[tuple[str, str]]:
    rows = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            rows.append((record["text"], record["label"]))
    return rows


@lru_cache(maxsize=4)
def load_rules(path: str | None = None, with_model: bool = True) -> SafetyRules:
    """The shipped rules (or an operator's own file), with the learned second opinion."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("bot.data").joinpath("safety.yaml").read_text(encoding="utf-8")
    rules = SafetyRules(yaml.safe_load(text) or {})
    if with_model:
        examples = resources.files("bot.data").joinpath("safety_training.jsonl").read_text(encoding="utf-8")
        rules.model = SafetyModel(read_examples(examples), lambda m: " ".join(rules.clauses(m)))
    return rules


def triage(message: str) -> Triage:
    return load_rules().triage(message)
