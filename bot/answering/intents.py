"""Messages that are not questions for the articles: greetings, thanks, and asking for help.

The phrases live in bot/data/intents.yaml so that the people who run the bot can extend them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from bot.text import normal, yamlfile

GREETING, THANKS, HELP_SEEKING, RELAPSE, ABOUT = "greeting", "thanks", "help_seeking", "relapse", "about"
KINDS = (GREETING, THANKS, HELP_SEEKING, RELAPSE, ABOUT)
# left over around "about" phrases, these still make the message one about the bot ("hey so who are you")
_FILLER = frozenset(
    "so and but ok okay um uh hey hi hello please pls lol wait then also like just really u you".split()
)


def _normal(text: str) -> str:
    # apostrophes dropped on both sides, so "what's" and "whats" are one phrase
    return " ".join(normal.words(text))


@lru_cache(maxsize=1)
def _phrases() -> dict[str, list[str]]:
    data = yamlfile.safe_load(resources.files("bot.data").joinpath("intents.yaml").read_text(encoding="utf-8"))
    phrases = {kind: [_normal(p) for p in data.get(kind) or []] for kind in KINDS}
    phrases[ABOUT].sort(key=lambda p: -len(p))  # longest first, so "are you a real person" goes whole
    return phrases


def classify(message: str) -> str | None:
    text = _normal(message)
    if not text:
        return None
    phrases = _phrases()
    for kind in (GREETING, THANKS):
        for phrase in phrases[kind]:
            if text == phrase or (
                text.startswith(phrase + " ")
                and len(text.split()) <= len(phrase.split()) + 2
                and kind == GREETING
                and "?" not in message
            ):
                return kind
    padded = f" {text} "
    rest = padded
    for phrase in phrases[ABOUT]:
        rest = rest.replace(f" {phrase} ", "  ")
    if rest != padded and all(word in _FILLER for word in rest.split()):
        return ABOUT
    for kind in (RELAPSE, HELP_SEEKING):
        if any(f" {phrase} " in padded for phrase in phrases[kind]):
            return kind
    return None


def without_help_phrases(message: str) -> str:
    """What is left to search for once "where can i get help" is taken out ("... for heroin")."""
    padded = f" {_normal(message)} "
    for phrase in _phrases()[HELP_SEEKING]:
        padded = padded.replace(f" {phrase} ", " ")
    return padded.strip()
