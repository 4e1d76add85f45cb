"""One chat cannot delay the others: a chat's messages are handled one at a time, and a chat past its
limits (BOT_CHAT_LIMIT waiting, BOT_CHAT_PER_MINUTE a minute: bot/state/limits.py) is asked to wait.

python-telegram-bot hands every update to its own task at once, and answering runs in worker threads
every chat shares: 300 messages from one chat would fill those threads and the messages a second the bot
may send, and another chat's question would wait behind all of them. Here a chat holds at most one
worker thread at a time and a few places in line; the rest of a flood is declined in microseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import AsyncIterator, Awaitable, Callable, Hashable

from telegram import ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.state.limits import Admission, ChatLimiter
from bot.telegram import texts

log = logging.getLogger(__name__)
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Turns:
    """Per chat, admitted messages take turns (asyncio.Lock wakes its waiters first come, first served)."""

    def __init__(self, limiter: ChatLimiter) -> None:
        self.limiter = limiter
        self._locks: dict[Hashable, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def turn(self, chat: Hashable) -> AsyncIterator[Admission]:
        admission = self.limiter.admit(chat)
        if not admission.admitted:
            yield admission
            return
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                yield admission
        finally:
            self.limiter.release(chat)
            if self.limiter.waiting(chat) == 0:  # nobody else of this chat holds or awaits the lock
                self._locks.pop(chat, None)


def fair(callback: Handler) -> Handler:
    """The handler, run in its chat's turn; past the chat's limits, a polite "one moment" instead."""

    @functools.wraps(callback)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return await callback(update, context)
        services = context.application.bot_data["services"]
        async with services.turns.turn(chat.id) as admission:
            if admission.admitted:
                return await callback(update, context)
        await _decline(update, context, admission, services.contacts)

    return handler


async def _decline(update: Update, context: ContextTypes.DEFAULT_TYPE, admission: Admission, contacts) -> None:
    if admission.notify:
        log.info(
            "a %s chat is past its limit (%s): asked it to wait; more of its messages within %.0f s are "
            "dropped without a reply",
            update.effective_chat.type,
            admission.reason,
            context.application.bot_data["services"].turns.limiter.notice_seconds,
        )
    try:
        if update.callback_query:  # always answered (the button spins otherwise); a pop-up is not a message
            await update.callback_query.answer(texts.toast(texts.BUSY_BUTTON, contacts))
        elif admission.notify and update.effective_message:
            await context.bot.send_message(
                update.effective_chat.id,
                texts.busy(admission.reason, contacts),
                reply_parameters=ReplyParameters(
                    message_id=update.effective_message.message_id, allow_sending_without_reply=True
                ),
            )
    except TelegramError as e:
        log.warning("could not ask a chat to wait: %s", type(e).__name__)
