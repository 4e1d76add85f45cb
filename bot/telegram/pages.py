"""An answer's pages and the buttons under them: sending them, and what a press of More or a vote does.

The bot keeps no questions: a button finds its question in the message its answer replies to, and its
data is signed for that chat and that question (bot/telegram/buttons.py). A vote counts once per answer
message (bot/state/feedback.py): the first press wins.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.answering.answer import Answer, Citation
from bot.state.database import StateError
from bot.telegram import texts
from bot.telegram.buttons import Button, ButtonError, answer_digest
from bot.telegram.html import answer_html
from bot.telegram.services import Services, services

log = logging.getLogger(__name__)


def question_of(message: Message | None, username: str | None) -> str | None:
    """The question a message asks: its text without the bot's @name; None if it has no text."""
    if message is None or message.text is None:
        return None
    text = message.text
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.I)
    return " ".join(text.split())


def keyboard(
    s: Services,
    answer: Answer,
    first: int,
    has_more: bool,
    shown: tuple[Citation, ...],
    question: Message,
    feedback: bool = True,
) -> InlineKeyboardMarkup | None:
    """The buttons under a page: `shown` is every citation up to it, which the buttons are tied to, and
    `question` the message asking, to whose chat and id their data is bound."""
    if not answer.citations:
        return None
    count = first + len(answer.citations)
    digest = answer_digest(c.chunk_id for c in shown)

    def data(action: str) -> str:
        return s.buttons.encode(Button(action, first, count, digest), question.chat_id, question.message_id)

    rows = []
    if has_more:
        rows.append([InlineKeyboardButton("More \u25b8", callback_data=data("more"))])
    if feedback:
        rows.append(
            [
                InlineKeyboardButton("\U0001f44d Helpful", callback_data=data("helpful")),
                InlineKeyboardButton("\U0001f44e Not helpful", callback_data=data("unhelpful")),
            ]
        )
    return InlineKeyboardMarkup(rows)


async def reply(
    message: Message, pages: list[str], markup: InlineKeyboardMarkup | None, reply_to: int | None = None
) -> None:
    """Send the pages as replies to the question (so buttons can find it again), buttons on the last."""
    target = ReplyParameters(message_id=reply_to or message.message_id, allow_sending_without_reply=True)
    for i, page in enumerate(pages):
        await message.get_bot().send_message(
            message.chat_id,
            page,
            message_thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_parameters=target,
            reply_markup=markup if i == len(pages) - 1 else None,
        )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    s = services(context)
    message = query.message if isinstance(query.message, Message) else None
    asked = message.reply_to_message if message else None
    question = question_of(asked, context.bot.username)
    if not question:
        await query.answer(texts.toast(texts.QUESTION_GONE, s.contacts))
        return
    try:
        button = s.buttons.decode(query.data, message.chat_id, asked.message_id)
    except ButtonError as e:
        log.info("refused a button: %s", e)
        await query.answer(texts.toast(texts.STALE_BUTTON, s.contacts))
        return
    answerer = s.answerer
    # one search: the citations the button was shown under, and for "More" the page after them
    if button.action == "more":
        view = await asyncio.to_thread(answerer.browse, question, button.shown)
        before = view.earlier
    else:
        view = await asyncio.to_thread(answerer.browse, question, button.first, button.shown - button.first)
        before = view.shown
    if len(before) != button.shown or answer_digest(c.chunk_id for c in before) != button.digest:
        await query.answer(
            texts.toast(texts.STALE_BUTTON, s.contacts)
        )  # the articles changed since: the counts would go to the wrong ones
        return
    if button.action == "more":
        page = view.answer
        if not page.citations:
            await query.answer(texts.toast(texts.NO_MORE, s.contacts))
            return
        await query.answer()
        await reply(
            message,
            answer_html(page),
            keyboard(s, page, button.shown, view.has_more, view.shown, asked),
            reply_to=asked.message_id,
        )
        await _edit_keyboard(s, query, asked, has_more=False, feedback=_has(s, message, asked, "helpful"))
        return
    mine = before[button.first : button.shown]
    try:
        counted = await asyncio.to_thread(
            s.feedback.vote,
            message.chat_id,
            message.message_id,
            button.action,
            [c.article_id for c in mine],
            [c.chunk_id for c in mine],
        )
    except StateError as e:
        log.warning("a vote could not be saved: %s", e)
        await query.answer(texts.toast(texts.VOTE_NOT_SAVED, s.contacts))
        return
    await query.answer(texts.toast(texts.THANKS if counted else texts.ALREADY_VOTED, s.contacts))
    if counted:
        await _edit_keyboard(s, query, asked, has_more=_has(s, message, asked, "more"), feedback=False)


def _has(s: Services, message: Message, asked: Message, action: str) -> bool:
    """Whether the message still has a button for this action (read from the buttons' data)."""
    markup = message.reply_markup
    return bool(
        markup
        and any(
            s.buttons.action_of(b.callback_data, asked.chat_id, asked.message_id) == action
            for row in markup.inline_keyboard
            for b in row
        )
    )


async def _edit_keyboard(s: Services, query, asked: Message, has_more: bool, feedback: bool) -> None:
    """Drop the buttons that were used, so More is pressed once and the votes are seen to be taken."""
    markup = query.message.reply_markup
    keep = {"more"} if has_more else set()
    keep |= {"helpful", "unhelpful"} if feedback else set()
    rows = [
        row
        for row in (markup.inline_keyboard if markup else ())
        if s.buttons.action_of(row[0].callback_data, asked.chat_id, asked.message_id) in keep
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except TelegramError as e:
        log.warning("could not update the buttons: %s", type(e).__name__)
