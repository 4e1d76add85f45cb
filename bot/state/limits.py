"""Fairness between chats: how many messages one chat may have waiting, and how many a minute.

A chat past either limit is declined (told "one moment", at most once per NOTICE_SECONDS, so a flood
does not get a flood of those): its messages cannot fill the worker threads or the outgoing messages a
second that every other chat shares. In memory, per process; chats are keys here and nowhere else.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Hashable

WINDOW_SECONDS = 60.0
NOTICE_SECONDS = 30.0
_SWEEP_EVERY = 1000  # admissions between sweeps of idle chats, so memory follows the chats active now


@dataclass(frozen=True)
class Admission:
    admitted: bool
    notify: bool = False  # declined, and the chat has not been told so within NOTICE_SECONDS
    reason: str = ""  # "waiting" (too many at once) or "per_minute"


@dataclass
class _Chat:
    pending: int = 0
    recent: deque = field(default_factory=deque)  # when its admitted messages arrived, within the window
    noticed: float | None = None


class ChatLimiter:
    """admit() before handling a chat's message, release() after each admitted one, whatever happened."""

    def __init__(
        self,
        pending: int = 5,
        per_minute: int = 20,
        notice_seconds: float = NOTICE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pending, self.per_minute, self.notice_seconds, self._clock = pending, per_minute, notice_seconds, clock
        self._chats: dict[Hashable, _Chat] = {}
        self._admitted = 0

    def admit(self, chat: Hashable) -> Admission:
        now = self._clock()
        state = self._chats.setdefault(chat, _Chat())
        while state.recent and state.recent[0] <= now - WINDOW_SECONDS:
            state.recent.popleft()
        if state.pending >= self.pending:
            return self._decline(state, now, "waiting")
        if len(state.recent) >= self.per_minute:
            return self._decline(state, now, "per_minute")
        state.pending += 1
        state.recent.append(now)
        self._admitted += 1
        if self._admitted % _SWEEP_EVERY == 0:
            self._sweep(now)
        return Admission(True)

    def release(self, chat: Hashable) -> None:
        state = self._chats.get(chat)
        if state is not None and state.pending > 0:
            state.pending -= 1

    def waiting(self, chat: Hashable) -> int:
        state = self._chats.get(chat)
        return state.pending if state else 0

    def _decline(self, state: _Chat, now: float, reason: str) -> Admission:
        notify = state.noticed is None or now - state.noticed >= self.notice_seconds
        if notify:
            state.noticed = now
        return Admission(False, notify, reason)

    def _sweep(self, now: float) -> None:
        for chat in [
            c
            for c, s in self._chats.items()
            if s.pending == 0
            and (not s.recent or s.recent[-1] <= now - WINDOW_SECONDS)
            and (s.noticed is None or s.noticed <= now - self.notice_seconds)
        ]:
            del self._chats[chat]

    def __len__(self) -> int:
        return len(self._chats)
