"""What the crisis phrases found in one message: the facts triage weighs with the model's reading.

Kept apart from the phrases' matching (bot/safety/rules.py) so that triage's rules read as a list of facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleReading:
    """What the phrases found in a message; triage weighs it with the model's reading."""

    text: str = field(repr=False)  # the message as the rules read it (clauses joined): what the model reads too
    emergencies: tuple[str, ...]  # kinds with an explicit sign, not denied, not in a question
    weak: tuple[str, ...]  # kinds with a state and its context ("slumped" + "after using"): the model decides
    concern: tuple[str, ...]  # kinds with a concern phrase ("i think about dying every day")
    notes: tuple[str, ...]  # kinds the message is about without a sign: a one-line note
    tolerance: bool  # about to use after a break, by the phrases
    cues: tuple[str, ...]  # risk cues present and not denied: without one, the model may not raise the level
    tolerance_cue: bool  # a break in use is mentioned (detox, jail, months clean)
    denied: bool  # "im safe", "not going to do anything": a model-only alarm is lowered
    asking: bool  # opens as a question ("can i quit drinking cold turkey"): a model-only emergency is concern
    urgent: bool = False  # says it is happening now ("right now", "help me")
    death_wish: bool = False  # dying named as a wish ("end things", "not wake up"), denied or not
    laughing: bool = False  # "lol", "haha": what the model alone reads as an emergency is concern
    stimulant: bool = False  # a stimulant used and not stopped: a seizure or a racing heart is an overdose
    asked_after: bool = False  # ends asking whether what it told is normal: a model-only emergency is concern
    purpose: bool = False  # the dose said to be meant to kill ("so itll work", "not by accident")
    written_words: int = 0  # the message's own words, read or not (a glossary may leave most of a language unread)
    coping: bool = False  # "but hanging in there": what the model alone reads as an emergency is concern
    reported: bool = False  # "she keeps texting me she wants to die": someone else's wish to die, at least concern
    precipitated: bool = False  # "took the sub too early": a blocker or a sub set off withdrawal
    question_mark: bool = False  # "tonight?": written as a question, whatever its words
    evidence: tuple[str, ...] = field(default=(), compare=False, repr=False)
