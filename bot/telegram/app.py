"""The Telegram side: handlers that parse, call the core, render and send; and the one place they are wired.

Run with `python -m bot run` (long polling) or `python -m bot run --webhook`. The index is loaded once at
start and handed to the handlers in bot_data; answering runs in a worker thread so one slow question never
stalls the others, and every handler with a chat runs in that chat's turn (bot/telegram/fairness.py), so
one chat's flood never delays another chat's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Callable

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, MessageEntityType, ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram import texts
from bot.answering.answer import MAX_QUESTION_CHARS, Answerer
from bot.telegram.buttons import MAX_AGE_SECONDS, ButtonCodec, answer_digest
from bot.config import Config
from bot.corpus.crawl_state import site_summary
from bot.refresh import keep_in_step
from bot.state.feedback import DAY, FeedbackStore
from bot.state.limits import ChatLimiter
from bot.telegram.fairness import Turns, fair
from bot.telegram.pages import keyboard, on_button, question_of, reply
from bot.telegram.reloading import reload_index, watch_index
from bot.telegram.running import watch_polling
from bot.telegram.services import Services, services_of
from bot.telegram.services import services as _services
from bot.telegram.updates import ScreenedUpdatesRequest, UpdateScreen
from bot.telegram.webhook import ScreenedUpdater
from bot.telegram.html import answer_html, footer, lead_html, shared_html
from bot.telegram.retry import RetryingRateLimiter

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
INLINE_RESULTS = 5


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
GROUP_QUESTION = (
    NEW_MESSAGE & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & (_MentionsMe() | _RepliesToMe())
)
PRIVATE_NOT_TEXT = NEW_MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
PRIVATE_UNKNOWN_COMMAND = NEW_MESSAGE & filters.ChatType.PRIVATE & filters.COMMAND


# --- handlers -------------------------------------------------------------------------------------


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
    await reply(message, pages, keyboard(s, answer, 0, has_more, answer.citations, message))
    log.info(
        "answered a %s question: answered=%s passages=%d in %.0f ms",
        message.chat.type,
        answer.answered,
        len(answer.citations),
        1000 * (time.perf_counter() - started),
    )


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
        texts.about(len(index.articles), index.chunk_count, built, s.contacts, site)
    )


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.privacy(_services(context).contacts))


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    s = _services(context)
    answerer = s.answerer
    answer = await asyncio.to_thread(answerer.answer, query.query, INLINE_RESULTS)
    tail = footer(s.contacts.disclaimer, str(s.contacts.helpline))
    results = []
    if answer.lead:  # an emergency or a safety note is offered first, as in a chat
        results.append(
            InlineQueryResultArticle(
                id="lead",
                title="Emergency: what to do now" if answer.crisis else "Safety first",
                description=answer.lead[:180],
                input_message_content=InputTextMessageContent(
                    f"{lead_html(answer.lead)}\n\n{tail}", parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ),
            )
        )
    results += [
        InlineQueryResultArticle(
            id=f"{c.rank}-{answer_digest([c.chunk_id])}",
            title=(f"{c.title} \u203a {c.section}" if c.section else c.title)[:200],
            description=c.passage[:180],
            input_message_content=InputTextMessageContent(
                shared_html(c, tail), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            ),
        )
        for c in answer.citations
    ]
    if not results:
        results = [
            InlineQueryResultArticle(
                id="helpline",
                title="No article found \u2014 talk to someone now",
                description=str(answerer.settings.helpline),
                input_message_content=InputTextMessageContent(
                    texts.helpline_text(s.contacts), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ),
            )
        ]
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
    try:  # the menu is a comfort: a Bot API that refuses it must not keep the bot from answering
        await application.bot.set_my_commands(list(texts.COMMANDS.items()))
    except InvalidToken:
        raise
    except TelegramError as e:
        log.warning("could not set the command menu (%s); answering without it", type(e).__name__)
    s = services_of(application)
    index = s.answerer.index
    log.info(
        "started as @%s with %d articles, %d passages", application.bot.username, len(index.articles), index.chunk_count
    )
    if s.config.reload_seconds > 0 and index.build is not None:
        # a plain task: the application is not "running" yet during post_init; cancelled in post_shutdown
        application.bot_data["watcher"] = asyncio.get_running_loop().create_task(watch_index(s))
    application.bot_data["polling_watch"] = asyncio.get_running_loop().create_task(watch_polling(application))
    if s.config.site and s.config.crawl_hours > 0:  # BOT_SITE: crawl, rebuild, then the reload below
        application.bot_data["site"] = asyncio.get_running_loop().create_task(
            keep_in_step(s.config, lambda: reload_index(s, "the site was crawled"))
        )
    with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):  # no SIGHUP on some systems
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: application.create_task(reload_index(s, "SIGHUP"))
        )


async def _post_shutdown(application: Application) -> None:
    for name in ("watcher", "polling_watch", "site"):
        task = application.bot_data.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def build_application(
    config: Config,
    answerer: Answerer,
    feedback: FeedbackStore | None = None,
    rate_limiter: RetryingRateLimiter | None = None,
    poll_read_timeout: float | None = None,
    transport: Callable[[], BaseRequest] | None = None,
) -> Application:
    """The bot, wired. `transport` makes the requests that carry the Bot API calls: by default (running)
    python-telegram-bot's HTTP client; the tests hand in one answered in-process (tests/fake_request.py)."""
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
    # Updates the library cannot parse are skipped, polled (getUpdates through a screening request,
    # bot/telegram/updates.py) or posted to the webhook (bot/telegram/webhook.py), counted once a run;
    # poll_read_timeout: how long the HTTP client waits for a silent getUpdates before asking again
    screen = UpdateScreen()
    if transport is None:  # the library's own client for calls, as it builds it; one connection for getUpdates
        timeouts = {"read_timeout": poll_read_timeout} if poll_read_timeout is not None else {}
        polls: BaseRequest = HTTPXRequest(connection_pool_size=1, **timeouts)
    else:
        builder = builder.request(transport())
        polls = transport()
    builder = builder.get_updates_request(ScreenedUpdatesRequest(polls, screen))
    application = builder.build()
    application.updater = ScreenedUpdater(application.bot, application.update_queue, screen)
    if feedback is None:
        feedback = FeedbackStore.open(
            config.database, legacy=config.feedback_file, keep_days=MAX_AGE_SECONDS // DAY + 1
        )
    application.bot_data["services"] = Services(
        config,
        answerer,
        feedback,
        ButtonCodec(feedback.database.secret("button key")),
        Turns(ChatLimiter(pending=config.chat_limit, per_minute=config.chat_per_minute)),
    )

    # Commands first, so "/help" is never taken for a question; in groups they work as /help@name.
    # Everything with a chat takes the chat's turn (fair): a flood from one chat never delays another.
    for name, callback in (
        ("start", on_start),
        ("help", on_help),
        ("helpline", on_helpline),
        ("about", on_about),
        ("privacy", on_privacy),
    ):
        application.add_handler(CommandHandler(name, fair(callback)))
    application.add_handler(MessageHandler(PRIVATE_QUESTION | GROUP_QUESTION, fair(on_question)))
    application.add_handler(MessageHandler(PRIVATE_UNKNOWN_COMMAND, fair(on_unknown_command)))
    application.add_handler(MessageHandler(PRIVATE_NOT_TEXT, fair(on_not_text)))
    application.add_handler(CallbackQueryHandler(fair(on_button)))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_error_handler(on_error)
    return application
