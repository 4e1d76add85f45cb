"""The webhook, screened like polling: an update python-telegram-bot cannot parse is acknowledged and skipped.

python-telegram-bot's own webhook handler answers such an update with a 400 and logs its whole content at
CRITICAL; Telegram takes anything but a 2xx as "not delivered" and posts it again, and again (a body that
is not JSON at all gets a 500). The library has no extension point there, so under `run --webhook` this
Updater serves its own small handler (tornado, which python-telegram-bot's webhooks extra installs) and
keeps the rest of python-telegram-bot's life cycle (start-up retries, signals, shutdown). Every request
carrying the secret gets a 200; an update that cannot be read is counted and logged once, by id and kind,
never its content (UpdateScreen, shared with polling); the others go on the update queue, as the library's
handler puts them. Polling is the library's own, untouched.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot, Updater

from bot.errors import BotError
from bot.telegram.updates import UpdateScreen

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0  # seconds between two tries at registering the webhook, at most


class WebhookRefused(BotError):
    """Telegram refused to register the webhook (a wrong URL, a port it does not post to, ...)."""


class _UpdateHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, updater: ScreenedUpdater, secret: str | None) -> None:
        self.updater, self.secret = updater, secret

    async def post(self) -> None:
        if self.request.headers.get("Content-Type") != "application/json":  # as python-telegram-bot checks
            raise tornado.web.HTTPError(403)
        given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode("utf-8", "replace")
        if self.secret is not None and not hmac.compare_digest(given, self.secret.encode()):
            raise tornado.web.HTTPError(403)
        try:
            item: Any = json.loads(self.request.body)
        except ValueError:  # not JSON, or not UTF-8: nothing to read, nothing to post again
            item = None
        update = self.updater.screen.read(item, self.updater.bot)
        if update is not None:
            if isinstance(self.updater.bot, ExtBot):
                self.updater.bot.insert_callback_data(update)
            await self.updater.update_queue.put(update)

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001 - tornado's signature
        if not isinstance(value, tornado.web.HTTPError):  # tornado's own line holds the request's headers
            log.error("the webhook could not handle a request: %s", typ.__name__ if typ else "error")


class ScreenedUpdater(Updater):
    """python-telegram-bot's Updater with the webhook served by _UpdateHandler."""

    def __init__(self, bot: Bot, update_queue: asyncio.Queue, screen: UpdateScreen | None = None) -> None:
        super().__init__(bot=bot, update_queue=update_queue)
        self.screen = screen or UpdateScreen()
        self._server: HTTPServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None or super().running

    async def start_webhook(
        self,
        listen: str = "127.0.0.1",
        port: int = 80,
        url_path: str = "",
        webhook_url: str | None = None,
        allowed_updates=None,
        secret_token: str | None = None,
        bootstrap_retries: int = 0,
        drop_pending_updates: bool | None = None,
        max_connections: int = 40,
        ip_address: str | None = None,
        **unsupported: Any,
    ) -> asyncio.Queue:
        """Listen, then register the webhook with Telegram, retrying (with backoff, one line a failure)
        while Telegram cannot be reached, `bootstrap_retries` times (-1: for ever)."""
        if any(value is not None for value in unsupported.values()):
            raise WebhookRefused(
                f"the webhook does not serve {', '.join(sorted(unsupported))}: terminate TLS in a proxy in front of it"
            )
        if self.running:
            raise RuntimeError("This Updater is already running!")
        path = "/" + url_path.strip("/")
        app = tornado.web.Application(
            [(rf"{re.escape(path)}/?", _UpdateHandler, {"updater": self, "secret": secret_token})],
            log_function=lambda _: None,
        )
        server = HTTPServer(app)
        server.listen(port, address=listen)
        self._server = server
        try:
            await self._register(
                webhook_url or f"http://{listen}:{port}{path}",
                bootstrap_retries,
                allowed_updates=allowed_updates,
                secret_token=secret_token,
                drop_pending_updates=drop_pending_updates,
                max_connections=max_connections,
                ip_address=ip_address,
            )
        except BaseException:
            await self._close()
            raise
        return self.update_queue

    async def _register(self, url: str, retries: int, **options: Any) -> None:
        attempt, delay = 0, 1.0
        while True:
            try:
                await self.bot.set_webhook(url=url, **options)
                return
            except InvalidToken:
                raise
            except BadRequest as e:  # a NetworkError to python-telegram-bot, but Telegram answered: no
                raise WebhookRefused(f"Telegram refused the webhook {url}: {e}") from None
            except (NetworkError, RetryAfter) as e:  # Telegram not reached (TimedOut is a NetworkError)
                if 0 <= retries <= attempt:
                    raise
                wait = e.retry_after if isinstance(e, RetryAfter) else delay
                wait = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                log.warning(
                    "could not register the webhook with Telegram (%s); trying again in %.0f s", type(e).__name__, wait
                )
                await asyncio.sleep(wait)
                attempt, delay = attempt + 1, min(MAX_BACKOFF, delay * 1.5)
            except TelegramError as e:  # Telegram answered, and said no: trying again changes nothing
                raise WebhookRefused(f"Telegram refused the webhook {url}: {e}") from None

    async def stop(self) -> None:
        if self._server is None:
            await super().stop()  # polling: the library's own
            return
        await self._close()

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
