"""Crisis triage, before any retrieval: rules (bot/data/safety.yaml) and a model trained offline.

The path: `rules` reads the message (phrases, cues, denials), `model` gives its second opinion from
shipped weights, `triage` weighs both into a level; `training` (offline, scikit-learn) writes the
weights and `evaluation` measures the whole.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path


from bot.safety.model import SafetyModel
from bot.safety.rules import EMERGENCIES, OVERDOSE, SUICIDE, WITHDRAWAL, RuleReading, SafetyRules
from bot.safety.triage import CONCERN, EMERGENCY, NONE, Triage, Triager

__all__ = [
    "CONCERN",
    "EMERGENCIES",
    "EMERGENCY",
    "NONE",
    "OVERDOSE",
    "SUICIDE",
    "WITHDRAWAL",
    "RuleReading",
    "SafetyModel",
    "SafetyRules",
    "Triage",
    "Triager",
    "load_rules",
    "read_rules",
    "shipped_model",
]


def read_rules(path: str | None = None) -> SafetyRules:
    """The shipped phrases, or an operator's own copy of them."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("bot.data").joinpath("safety.yaml").read_text(encoding="utf-8")
    from bot.safety.prepared import rules_from  # (its module imports this package's)

    return rules_from(text)


@lru_cache(maxsize=1)
def shipped_model() -> SafetyModel:
    """The weights in bot/data/safety_model, read once per process."""
    return SafetyModel.load()


@lru_cache(maxsize=4)
def load_rules(path: str | None = None, with_model: bool = True) -> Triager:
    """Triage as the bot runs it: the phrases with the shipped model (the model alone may be left out)."""
    return Triager(read_rules(path), shipped_model() if with_model else None)
