"""Retries for Bot API calls: flood control (429) via PTB's AIORateLimiter, plus 5xx answers, timeouts
and dropped connections with exponential backoff. Bad requests are never retried: they would fail again.

getUpdates does not pass through here: PTB's updater retries it itself and confirms updates by offset,
so no update is lost or handled twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)


# Calls that send nothing a user reads as a message: not held back by the messages-per-second limit.
UNMETERED = frozenset(
    {
        "sendChatAction",
        "answerCallbackQuery",
        "answerInlineQuery",
        "getMe",
        "setMyCommands",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
    }
)


class RetryingRateLimiter(AIORateLimiter):
    """Telegram's flood limits (30 messages a second overall, 20 a minute per group) and retries."""

    def __init__(
        self, attempts: int = 4, backoff: float = 0.5, max_retries_on_429: int = 3, messages_per_second: float = 30.0
    ) -> None:
        super().__init__(overall_max_rate=messages_per_second, max_retries=max_retries_on_429)
        self.attempts, self.backoff = attempts, backoff

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args) -> Any:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                if endpoint in UNMETERED:
                    return await callback(*args, **kwargs)
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except (BadRequest, RetryAfter) as e:
                if isinstance(e, RetryAfter) and endpoint in UNMETERED and attempt < self.attempts:
                    await asyncio.sleep(float(e._retry_after.total_seconds()) + 0.1)  # noqa: SLF001 (PTB's own way)
                    continue
                raise
            except NetworkError as e:  # 5xx, timeouts, dropped connections (RetryAfter is handled inside)
                if attempt == self.attempts:
                    raise
                log.warning(
                    "%s failed (%s); retry %d of %d in %.1f s",
                    endpoint,
                    type(e).__name__,
                    attempt,
                    self.attempts - 1,
                    delay,
                )
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
