"""Running the bot: serving until a signal, and ending with one line when Telegram refuses the token."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.config import Config
from bot.errors import BotError

POLLING_TASK = "Updater:start_polling:polling_task"  # python-telegram-bot's name for its polling task


async def watch_polling(application: Application, every: float = 1.0) -> None:
    """A token revoked while running stops python-telegram-bot's polling for good ("Invalid token. Aborting
    retry loop.": its retry loop ends on nothing else) and leaves the process up, answering nobody: stop it,
    so run() ends with one line and a supervisor sees the exit."""
    seen = False
    while True:
        await asyncio.sleep(every)
        polling = any(task.get_name() == POLLING_TASK for task in asyncio.all_tasks())
        seen = seen or polling
        updater = application.updater
        if seen and not polling and updater is not None and updater.running and application.running:
            application.bot_data["token_revoked"] = True
            application.stop_running()
            return


class TokenRejected(BotError):
    """Telegram refused the token: said in one line that never holds it (InvalidToken's own message does)."""


def run(config: Config, application: Application, webhook: bool) -> None:
    """Serve until SIGINT or SIGTERM (PTB stops cleanly on both). An unreachable Bot API at start is retried
    for ever, with the library's backoff, one log line a failure: the network comes back, the bot starts."""
    t = config.telegram
    try:
        if webhook:
            application.run_webhook(
                listen=t.webhook_listen,
                port=t.webhook_port,
                url_path=t.webhook_path,
                webhook_url=t.webhook_url,
                secret_token=t.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=-1,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
    except InvalidToken:
        if not application.bot_data.get("token_revoked"):
            raise TokenRejected(
                "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check it with @BotFather, "
                "or whether it was revoked"
            ) from None
    if application.bot_data.get("token_revoked"):
        # the library's last getUpdates fails too, leaving its tasks to be torn down as the process ends
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise TokenRejected(
            "Telegram stopped accepting TELEGRAM_BOT_TOKEN while the bot was running (revoked?): "
            "stopped; set a valid token and start it again"
        )
