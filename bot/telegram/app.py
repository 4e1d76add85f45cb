"""The Telegram side: handlers that parse, call the core, render and send; and the one place they are wired.

Run with `python -m bot run` (long polling) or `python -m bot run --webhook`. The index is loaded once at
start and handed to the handlers in bot_data; answering runs in a worker thread so one slow question never
stalls the others.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from dataclasses import dataclass, field

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle,
                      InputTextMessageContent, LinkPreviewOptions, Message, ReplyParameters, Update)
from telegram.constants import ChatAction, MessageEntityType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          Defaults, InlineQueryHandler, MessageHandler, filters)

from bot.telegram import texts
from bot.answering.answer import MAX_QUESTION_CHARS, Answer, Answerer, Citation
from bot.telegram.buttons import Button, ButtonCodec, ButtonError, answer_digest
from bot.config import Config
from bot.answering.contacts import Contacts
from bot.corpus.crawl_state import site_summary
from bot.refresh import keep_in_step
from bot.state.feedback import FeedbackStore
from bot.search.index import IndexLoadError, SearchIndex, current_build_name
from bot.telegram.running import watch_polling
from bot.telegram.updates import ScreenedUpdatesRequest
from bot.telegram.html import answer_html, citation_html, footer, lead_html
from bot.telegram.retry import RetryingRateLimiter

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
INLINE_RESULTS = 5


@dataclass
class Services:
    """What the handlers need, built once at start-up."""

    config: Config
    answerer: Answerer  # replaced whole on reload: read it once per update
    feedback: FeedbackStore
    buttons: ButtonCodec
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def contacts(self) -> Contacts:
        return self.answerer.settings.contacts


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


# --- which messages are questions -----------------------------------------------------------------

class _MentionsMe(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        me = message.get_bot()
        for entity in message.entities:
            if entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == me.id:
                return True
            if entity.type == MessageEntityType.MENTION:
                if message.parse_entity(entity).lstrip("@").lower() == (me.username or "").lower():
                    return True
        return False


class _RepliesToMe(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id)


NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits are not new questions: answering them would answer twice
PRIVATE_QUESTION = NEW_MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
GROUP_QUESTION = NEW_MESSAGE & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & (_MentionsMe() | _RepliesToMe())
PRIVATE_NOT_TEXT = NEW_MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
PRIVATE_UNKNOWN_COMMAND = NEW_MESSAGE & filters.ChatType.PRIVATE & filters.COMMAND


def question_of(message: Message | None, username: str | None) -> str | None:
    """The question a message asks: its text without the bot's @name; None if it has no text."""
    if message is None or message.text is None:
        return None
    text = message.text
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.I)
    return " ".join(text.split())


# --- handlers -------------------------------------------------------------------------------------

def _keyboard(s: Services, answer: Answer, first: int, has_more: bool, shown: tuple[Citation, ...],
              feedback: bool = True) -> InlineKeyboardMarkup | None:
    """The buttons under a page: `shown` is every citation up to it, which the buttons are tied to."""
    if not answer.citations:
        return None
    count = first + len(answer.citations)
    digest = answer_digest(c.chunk_id for c in shown)
    rows = []
    if has_more:
        rows.append([InlineKeyboardButton("More \u25b8", callback_data=s.buttons.encode(Button("more", first, count, digest)))])
    if feedback:
        rows.append([
            InlineKeyboardButton("\U0001F44D Helpful", callback_data=s.buttons.encode(Button("helpful", first, count, digest))),
            InlineKeyboardButton("\U0001F44E Not helpful", callback_data=s.buttons.encode(Button("unhelpful", first, count, digest))),
        ])
    return InlineKeyboardMarkup(rows)


async def _reply(message: Message, pages: list[str], keyboard: InlineKeyboardMarkup | None,
                 reply_to: int | None = None) -> None:
    """Send the pages as replies to the question (so buttons can find it again), buttons on the last."""
    target = ReplyParameters(message_id=reply_to or message.message_id, allow_sending_without_reply=True)
    for i, page in enumerate(pages):
        await message.get_bot().send_message(
            message.chat_id, page, message_thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_parameters=target, reply_markup=keyboard if i == len(pages) - 1 else None)


async def on_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    s = _services(context)
    question = question_of(message, context.bot.username) or ""
    started = time.perf_counter()
    try:
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError:
        pass  # the indicator is a courtesy; the answer matters
    answerer = s.answerer  # once: a reload mid-update must not mix two indexes in one answer
    answer, has_more = await asyncio.to_thread(answerer.page, question)
    note = texts.LONG_NOTE.format(limit=MAX_QUESTION_CHARS) if len(question) > MAX_QUESTION_CHARS else ""
    pages = answer_html(answer, note)
    await _reply(message, pages, _keyboard(s, answer, 0, has_more, answer.citations))
    log.info("answered a %s question: answered=%s passages=%d in %.0f ms", message.chat.type,
             answer.answered, len(answer.citations), 1000 * (time.perf_counter() - started))


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.plain(texts.NOT_TEXT, _services(context).contacts))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.plain(texts.UNKNOWN_COMMAND, _services(context).contacts))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.start(_services(context).contacts))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.help_text(_services(context).contacts))


async def on_helpline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.helpline_text(_services(context).contacts))


async def on_about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = _services(context)
    index = s.answerer.index
    built = str(index.manifest.get("built_at", "unknown")).replace("T", " ").replace("+00:00", " UTC")
    site = await asyncio.to_thread(site_summary, s.config.corpus)
    await update.effective_message.reply_text(
        texts.about(len(index.articles), index.chunk_count, built, s.contacts, site))


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.privacy(_services(context).contacts))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    s = _services(context)
    try:
        button = s.buttons.decode(query.data)
    except ButtonError as e:
        log.info("refused a button: %s", e)
        await query.answer(texts.toast(texts.STALE_BUTTON, s.contacts))
        return
    message = query.message if isinstance(query.message, Message) else None
    question = question_of(message.reply_to_message if message else None, context.bot.username)
    if not question:
        await query.answer(texts.toast(texts.QUESTION_GONE, s.contacts))
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
        await query.answer(texts.toast(texts.STALE_BUTTON, s.contacts))  # the articles changed since: the counts would go to the wrong ones
        return
    if button.action == "more":
        page = view.answer
        if not page.citations:
            await query.answer(texts.toast(texts.NO_MORE, s.contacts))
            return
        await query.answer()
        await _reply(message, answer_html(page),
                     _keyboard(s, page, button.shown, view.has_more, view.shown),
                     reply_to=message.reply_to_message.message_id)
        await _edit_keyboard(s, query, has_more=False, feedback=_has(s, message, "helpful"))
    else:
        mine = before[button.first:button.shown]
        s.feedback.record(button.action, [c.article_id for c in mine], [c.chunk_id for c in mine])
        await query.answer(texts.toast(texts.THANKS, s.contacts))
        await _edit_keyboard(s, query, has_more=_has(s, message, "more"), feedback=False)


def _has(s: Services, message: Message, action: str) -> bool:
    """Whether the message still has a button for this action (read from the buttons' data)."""
    markup = message.reply_markup
    return bool(markup and any(s.buttons.action_of(b.callback_data) == action
                               for row in markup.inline_keyboard for b in row))


async def _edit_keyboard(s: Services, query, has_more: bool, feedback: bool) -> None:
    """Drop the buttons that were used, so a vote counts once per message and More is pressed once."""
    markup = query.message.reply_markup
    keep = {"more"} if has_more else set()
    keep |= {"helpful", "unhelpful"} if feedback else set()
    rows = [row for row in (markup.inline_keyboard if markup else ())
            if s.buttons.action_of(row[0].callback_data) in keep]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except TelegramError as e:
        log.warning("could not update the buttons: %s", type(e).__name__)


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    s = _services(context)
    answerer = s.answerer
    answer = await asyncio.to_thread(answerer.answer, query.query, INLINE_RESULTS)
    tail = footer(s.contacts.disclaimer, str(s.contacts.helpline))
    results = []
    if answer.lead:  # an emergency or a safety note is offered first, as in a chat
        results.append(InlineQueryResultArticle(
            id="lead", title="Emergency: what to do now" if answer.crisis else "Safety first",
            description=answer.lead[:180],
            input_message_content=InputTextMessageContent(f"{lead_html(answer.lead)}\n\n{tail}",
                                                          parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)))
    results += [
        InlineQueryResultArticle(
            id=f"{c.rank}-{answer_digest([c.chunk_id])}",
            title=(f"{c.title} \u203a {c.section}" if c.section else c.title)[:200],
            description=c.passage[:180],
            input_message_content=InputTextMessageContent(
                f"{citation_html(c, numbered=False)}\n\n{tail}", parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW))
        for c in answer.citations
    ]
    if not results:
        results = [InlineQueryResultArticle(
            id="helpline", title="No article found \u2014 talk to someone now", description=str(answerer.settings.helpline),
            input_message_content=InputTextMessageContent(texts.helpline_text(s.contacts),
                                                          parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))]
    await query.answer(results, cache_time=300, is_personal=False)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the person only that it failed, kindly, with the helpline."""
    log.error("an update could not be handled", exc_info=context.error)
    if not isinstance(update, Update):
        return
    s = _services(context)
    try:
        if update.callback_query:
            await update.callback_query.answer(texts.toast(texts.BUTTON_ERROR, s.contacts))
        elif update.inline_query:
            pass  # an inline query has no chat to write to
        elif update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, texts.plain(texts.ERROR, s.contacts))
    except TelegramError:
        log.warning("could not tell the user about the failure either")


# --- wiring ---------------------------------------------------------------------------------------

async def _post_init(application: Application) -> None:
    await application.bot.set_my_commands(list(texts.COMMANDS.items()))
    s = _services_of(application)
    index = s.answerer.index
    log.info("started as @%s with %d articles, %d passages", application.bot.username,
             len(index.articles), index.chunk_count)
    if s.config.reload_seconds > 0 and index.build is not None:
        # a plain task: the application is not "running" yet during post_init; cancelled in post_shutdown
        application.bot_data["watcher"] = asyncio.get_running_loop().create_task(_watch_index(application))
    application.bot_data["polling_watch"] = asyncio.get_running_loop().create_task(watch_polling(application))
    if s.config.site and s.config.crawl_hours > 0:  # BOT_SITE: crawl, rebuild, then the reload below
        application.bot_data["site"] = asyncio.get_running_loop().create_task(
            keep_in_step(s.config, lambda: reload_index(application, "the site was crawled")))
    with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):  # no SIGHUP on some systems
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: application.create_task(reload_index(application, "SIGHUP")))


async def reload_index(application: Application, reason: str) -> bool:
    """Load the index CURRENT names now and swap it in whole; on any problem keep serving the old one.

    Handlers take s.answerer once per update, so an answer is made from one index, never from two.
    """
    s = _services_of(application)
    async with s.reload_lock:
        old = s.answerer
        try:
            index = await asyncio.to_thread(SearchIndex.load, s.config.index, old.index.analyzer)
        except IndexLoadError as e:
            log.error("did not reload the index (%s): %s; still serving the previous one", reason, e)
            return False
        if index.build == old.index.build:
            return False
        s.answerer = Answerer(index, old.settings, old.safety)
        log.info("reloaded the index (%s): %d articles, %d passages", reason, len(index.articles), index.chunk_count)
        return True


async def _watch_index(application: Application) -> None:
    """Reload when a rebuild (python -m bot index) points CURRENT at a new build."""
    s = _services_of(application)
    while True:
        await asyncio.sleep(s.config.reload_seconds)
        name = await asyncio.to_thread(current_build_name, s.config.index)
        if name and name != s.answerer.index.build:
            await reload_index(application, "index changed on disk")


async def _post_shutdown(application: Application) -> None:
    for name in ("watcher", "polling_watch", "site"):
        task = application.bot_data.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _services_of(application: Application) -> Services:
    return application.bot_data["services"]


def build_application(config: Config, answerer: Answerer, feedback: FeedbackStore | None = None,
                      rate_limiter: RetryingRateLimiter | None = None,
                      poll_read_timeout: float | None = None) -> Application:
    token = config.telegram.require_token()
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.telegram.api_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
        .rate_limiter(rate_limiter or RetryingRateLimiter(messages_per_second=config.messages_per_second))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    # getUpdates through a request that skips updates the library cannot parse (bot/telegram/updates.py);
    # poll_read_timeout: how long a silent getUpdates is waited for before asking again
    timeouts = {"read_timeout": poll_read_timeout} if poll_read_timeout is not None else {}
    builder = builder.get_updates_request(ScreenedUpdatesRequest(connection_pool_size=1, **timeouts))
    application = builder.build()
    application.bot_data["services"] = Services(
        config, answerer, feedback if feedback is not None else FeedbackStore(config.feedback_file),
        ButtonCodec(token.encode()))

    # Commands first, so "/help" is never taken for a question; in groups they work as /help@name.
    for name, callback in (("start", on_start), ("help", on_help), ("helpline", on_helpline),
                           ("about", on_about), ("privacy", on_privacy)):
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(MessageHandler(PRIVATE_QUESTION | GROUP_QUESTION, on_question))
    application.add_handler(MessageHandler(PRIVATE_UNKNOWN_COMMAND, on_unknown_command))
    application.add_handler(MessageHandler(PRIVATE_NOT_TEXT, on_not_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_error_handler(on_error)
    return application
