"""Inline-button data the bot can trust: signed, dated, bound to its chat and question, and tied to the
answer it was shown under.

Telegram hands button data back verbatim, and anyone can send any data: a button is honoured only if
its signature is ours for the chat and the question it is pressed under (data copied from another
chat's message is refused), it is neither too old nor dated in the future, and the answer it names is
still the answer the index gives. The chat and the question are in the signature, not in the data:
nothing about the user is in it (Telegram caps it at 64 bytes anyway). The key is a random secret kept
in the bot's database, so every process sharing it honours the same buttons.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from bot.errors import BotError

ACTIONS = {"more": "m", "helpful": "h", "unhelpful": "u"}
_CODES = {v: k for k, v in ACTIONS.items()}
MAX_AGE_SECONDS = 7 * 24 * 3600
FUTURE_SECONDS = 60  # clocks move a little (NTP); data dated later than this was not signed by our clock
VERSION = "2"  # 1: not bound to a chat, refused since


class ButtonError(BotError):
    """Button data the bot did not make, or made too long ago."""


@dataclass(frozen=True)
class Button:
    action: str  # "more", "helpful" or "unhelpful"
    first: int  # passages shown before the message this button is under
    shown: int  # passages shown up to and including that message
    digest: str  # of the chunk ids of all those passages


def answer_digest(chunk_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(chunk_ids).encode()).hexdigest()[:10]


class ButtonCodec:
    def __init__(self, secret: bytes, max_age: int = MAX_AGE_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"recovery-answers-buttons\0" + secret).digest()
        self.max_age, self._clock = max_age, clock

    def _sign(self, body: str, chat_id: int, question_id: int) -> str:
        mac = hmac.new(self._key, f"{chat_id}|{question_id}|{body}".encode(), hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def encode(self, button: Button, chat_id: int, question_id: int) -> str:
        """Data for a button under the answer to message `question_id` in chat `chat_id`."""
        body = (
            f"{VERSION}|{ACTIONS[button.action]}|{button.first}|{button.shown}|{button.digest}|{int(self._clock()):x}"
        )
        return f"{body}|{self._sign(body, chat_id, question_id)}"

    def action_of(self, data: str | None, chat_id: int, question_id: int) -> str | None:
        """The action of a button of ours already on a message (signature checked, age not): which buttons
        a keyboard still holds is read from their data, never from their labels."""
        parts = (data or "").split("|")
        if (
            len(parts) != 7
            or parts[0] != VERSION
            or not hmac.compare_digest(self._sign("|".join(parts[:6]), chat_id, question_id), parts[6])
        ):
            return None
        return _CODES.get(parts[1])

    def decode(self, data: str | None, chat_id: int, question_id: int) -> Button:
        """The button pressed under the answer to `question_id` in `chat_id`; ButtonError if it is not ours
        for that chat and question, too old, or dated in the future."""
        parts = (data or "").split("|")
        if len(parts) != 7 or parts[0] != VERSION:
            raise ButtonError("not a button of this bot (or of an older version)")
        body, signature = "|".join(parts[:6]), parts[6]
        if not hmac.compare_digest(self._sign(body, chat_id, question_id), signature):
            raise ButtonError("signature does not match (forged, or from another chat or answer)")
        _, code, first, shown, digest, issued = parts[:6]
        try:
            age = self._clock() - int(issued, 16)
            button = Button(_CODES[code], int(first), int(shown), digest)
        except (KeyError, ValueError):
            raise ButtonError("malformed button") from None
        if not 0 <= button.first < button.shown <= 100:
            raise ButtonError("malformed button")
        if age > self.max_age:
            raise ButtonError("button too old")
        if age < -FUTURE_SECONDS:
            raise ButtonError("button dated in the future")
        return button
