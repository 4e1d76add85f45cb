"""Triage: the phrases' reading and the model's, weighed into one level.

Levels: `emergency` (happening now: the emergency reply alone), `concern` (distress or risk, not an
emergency now: a caring lead with the crisis line, then the answer), `none`. Lost tolerance is its own
signal and leads whatever the level. The model may raise the level only on a message that carries a risk
cue (a guard for text unlike anything it was trained on), and a denial ("im safe") lowers what the model
alone would say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.safety.model import Reading, SafetyModel
from bot.safety.rules import LONG_MESSAGE_WORDS, OVERDOSE, SUICIDE, WITHDRAWAL, RuleReading, SafetyRules

EMERGENCY, CONCERN, NONE = "emergency", "concern", "none"
URGENCY = {OVERDOSE: 0, WITHDRAWAL: 1, SUICIDE: 2}  # minutes matter most first
TOLERANCE_MIN_WORDS = 4
SURE_TOLERANCE = 0.9  # the model all but sure someone is about to use after a break
PURPOSE_RISK = 0.5  # the model's emergency, when a break in use and dying are both named
ASKED_CONCERN = 0.9  # a question: the model's concern alone must be all but sure (it asks; it does not tell)
SHORT_WORDS = 3  # a message this short that no phrase reads is concern at most on the model's word
SURE_EMERGENCY = 0.97  # "lol guess this is it. bought rope": a laugh does not lower what the model is sure of
DEFAULT_THRESHOLDS = {"emergency": 0.5, "weak": 0.3, "concern": 0.5, "lost_tolerance": 0.5}


@dataclass(frozen=True)
class Triage:
    level: str = NONE
    kinds: tuple[str, ...] = ()  # most urgent first
    lost_tolerance: bool = False
    notes: tuple[str, ...] = ()  # topics worth a one-line safety note when the level is none
    # what fired, for eval output; it quotes the message, so it is kept out of repr (and so of any log line)
    evidence: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def crisis(self) -> bool:
        return self.level == EMERGENCY

    @property
    def emergencies(self) -> tuple[str, ...]:
        return self.kinds if self.crisis else ()

    def to_json(self) -> dict:
        return {"level": self.level, "kinds": list(self.kinds), "lost_tolerance": self.lost_tolerance}


def _ordered(kinds) -> tuple[str, ...]:
    return tuple(sorted(set(kinds), key=URGENCY.get))


def decide(rules: RuleReading, model: Reading | None, thresholds: dict[str, float]) -> Triage:
    evidence = list(rules.evidence)
    kinds = set(rules.emergencies)
    concern = set(rules.concern)
    tolerance = rules.tolerance
    if model is not None and rules.cues and not rules.denied:  # "im safe", "not gonna use": the model is not asked
        risk = model.emergency
        # a concern phrase ("whats the point") says what the model's emergency would only guess at
        about_to_use = rules.tolerance or model.lost_tolerance >= SURE_TOLERANCE
        if (
            risk >= thresholds["emergency"]
            # "is it an overdose if hes breathing but like barely": a question the model is all but sure tells one
            and not (rules.asking and risk < SURE_EMERGENCY)
            # "... breathing like every 10 seconds is that ok": what was told decides, when the model is all but sure
            # (a withdrawal asked about, "shaking and sweaty day 2, is that normal", stays concern)
            and not (rules.asked_after and (risk < SURE_EMERGENCY or model.kind == WITHDRAWAL))
            and not rules.concern
            and not (
                # "off the bupe 10 days and ive got a bag": the danger is the dose, which the warning names
                model.kind == SUICIDE and about_to_use and not rules.death_wish
            )
        ):
            # "lol im gonna kill my brother": a laugh makes the model's guess concern, unless it is all but sure;
            # three words or fewer that no phrase reads ("all done") too: too little to be sure of, unless the model
            # is all but sure of them and they ask nothing ("already swallowed them", "hes gone limp"; "tonight?")
            short = (
                rules.written_words <= SHORT_WORDS
                and not (rules.emergencies or rules.weak)
                and (risk < SURE_EMERGENCY or rules.question_mark)
            )
            # "... but hanging in there": coping said, the model's guess is concern
            lowered = short or rules.coping or (rules.laughing and risk < SURE_EMERGENCY)
            (concern if lowered else kinds).add(model.kind)
            evidence.append(
                f"{model.kind}: model {risk:.2f}{', laughing, coping or short: concern' if lowered else ''}"
            )
        elif (
            # ... or, without a break, the dose said to be meant to kill ("took everything on purpose")
            (about_to_use or (rules.purpose and model.kind == SUICIDE))
            and rules.death_wish
            # with the purpose said, distress suffices ("ill probably die and thats what i want": concern to it)
            and (risk + model.probabilities["concern"] if rules.purpose else risk)
            >= (thresholds["weak"] if rules.purpose else PURPOSE_RISK)
            and not rules.asking
        ):
            # "been off methadone 2 months, a normal dose would kill me now, thats the point": a dose meant to kill
            kinds.add(SUICIDE)
            concern_said = model.probabilities["concern"]
            evidence.append(
                f"suicide: a dose meant to kill, dying named, model {risk:.2f} (concern {concern_said:.2f})"
            )
        elif rules.weak and risk >= thresholds["weak"]:
            # "heart rate 120 after my addy, is that normal": asked of what it told, a state is concern; a laugh
            # lowers it as it lowers the model's own guess ("drove to the bridge for the fireworks lol")
            # ... and coping, as it lowers the model's own guess ("i dont wanna kill myself i just wish i could
            # sleep and never wake up": a sign denied, a wish told)
            lowered = rules.asked_after or rules.coping or (rules.laughing and risk < SURE_EMERGENCY)
            (concern if lowered else kinds).update(rules.weak)
            evidence.append(f"{'+'.join(rules.weak)}: phrases and model {risk:.2f}{', concern' * lowered}")
        elif risk + model.probabilities["concern"] >= (ASKED_CONCERN if rules.asking else thresholds["concern"]):
            concern.add(model.kind)
            evidence.append(f"concern: model {risk + model.probabilities['concern']:.2f}")
    words = len(rules.text.split())
    # "naltrexone detox" names topics; saying one is about to use after a break takes a few more words
    # naltrexone while on opioids ("can i take vivitrol while on subs") is a precipitated withdrawal asked about,
    # not a use after a break: the model alone does not warn of tolerance there
    if (
        model is not None
        and not tolerance
        and rules.tolerance_cue
        and words >= TOLERANCE_MIN_WORDS
        and not (rules.precipitated and rules.asking)
    ):
        tolerance = model.lost_tolerance >= thresholds["lost_tolerance"]
        if tolerance:
            evidence.append(f"lost tolerance: model {model.lost_tolerance:.2f}")
    # in a long message, a state read with a break the model alone saw needs the model's emergency too (a case
    # told: "a head cold ... after he had the stroke")
    agrees = model is None or model.emergency >= thresholds["weak"]
    if (
        OVERDOSE in rules.weak
        and tolerance
        and not kinds
        and (rules.tolerance or agrees or words <= LONG_MESSAGE_WORDS)
    ):
        # "first shot since my taper ended, getting really sleepy": a sign of an overdose after a break in use
        kinds.add(OVERDOSE)
        evidence.append("overdose: a state after using, tolerance lost")
    if rules.reported and not kinds:
        # "my friend keeps texting me she wants to die": told of someone else, at least concern
        concern.add(SUICIDE)
        evidence.append("concern: someone's wish to die told")
    if rules.urgent and rules.concern and not kinds and not rules.denied:
        # "thinking of suicide rn", "help me i cant do this anymore": distress said to be happening now
        kinds.update(rules.concern)
        evidence.append("concern said to be happening now")
    if SUICIDE in kinds and rules.denied and not rules.urgent:
        # "everyone would be better off without me, but i wouldnt do anything": thoughts, intent denied
        kinds.discard(SUICIDE)
        concern.add(SUICIDE)
        evidence.append("suicide: intent denied, concern")
    if OVERDOSE in kinds and rules.purpose and rules.death_wish and not rules.denied:
        # "she took her pills to end it, slurring": an overdose taken to die is a suicide emergency too
        kinds.add(SUICIDE)
        evidence.append("suicide: the overdose said to be meant to kill")
    if rules.stimulant and WITHDRAWAL in kinds | concern:
        # "seizure right after shooting up speed", "heart 180 after that line": an overdose, not a withdrawal
        for found in (kinds, concern):
            if WITHDRAWAL in found:
                found.discard(WITHDRAWAL)
                found.add(OVERDOSE)
        evidence.append("overdose: a stimulant used, signs read as withdrawal")
    if rules.precipitated and OVERDOSE in kinds and not rules.stimulant:
        # "took the sub too early, 8 hours of vomiting, passed out once": withdrawal set off, an emergency of its own;
        # an overdose only the model read is not one
        kinds.add(WITHDRAWAL)
        if OVERDOSE not in rules.emergencies and OVERDOSE not in rules.weak:
            kinds.discard(OVERDOSE)
        evidence.append("withdrawal: set off by a blocker or a sub")
    if kinds:
        return Triage(EMERGENCY, _ordered(kinds), tolerance, (), tuple(evidence))
    if concern:
        return Triage(CONCERN, _ordered(concern), tolerance, (), tuple(evidence))
    return Triage(NONE, (), tolerance, _ordered(rules.notes), tuple(evidence))


class Triager:
    """The phrases and, when shipped, the model: what the answer path asks before any search."""

    def __init__(self, rules: SafetyRules, model: SafetyModel | None = None) -> None:
        self.rules = rules
        self.model = model
        self.thresholds = dict(DEFAULT_THRESHOLDS, **(model.thresholds if model else {}))

    def read(self, message: str) -> tuple[RuleReading, Reading | None]:
        rules = self.rules.read(message)
        asked = self.model is not None and (rules.cues or rules.tolerance_cue)
        return rules, (self.model.read(rules.text) if asked else None)

    def triage(self, message: str) -> Triage:
        return decide(*self.read(message), self.thresholds)
