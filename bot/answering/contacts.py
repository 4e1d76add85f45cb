"""Who to call: the helpline on every reply, and the emergency and crisis lines for emergencies.

One place for all of them, built from the settings: /helpline, every answer and every crisis reply read
these, so an operator outside the US changes them once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DISCLAIMER = (
    "General information from our articles, not medical advice. Talk to a doctor before "
    "starting or stopping a medication."
)


@dataclass(frozen=True)
class Helpline:
    name: str = "SAMHSA National Helpline"
    number: str = "1-800-662-4357"
    hours: str = "free, confidential, 24/7"
    text: str = "or text your ZIP code to 435748 (HELP4U)"

    def __str__(self) -> str:
        out = f"{self.name}: {self.number}"
        if self.hours:
            out += f" ({self.hours})"
        if self.text:
            out += f", {self.text}"
        return out

    def short(self) -> str:
        return f"{self.name}: {self.number}"


@dataclass(frozen=True)
class Contacts:
    helpline: Helpline = field(default_factory=Helpline)
    emergency_number: str = "911"
    crisis_line: str = "988 Suicide & Crisis Lifeline"
    crisis_contact: str = "call or text 988"
    disclaimer: str = DEFAULT_DISCLAIMER

    def fill(self, template: str) -> str:
        return template.format(
            emergency=self.emergency_number,
            crisis_line=self.crisis_line,
            crisis_contact=self.crisis_contact,
            helpline=str(self.helpline),
        )
