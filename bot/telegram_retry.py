"""Retries for Bot API calls: flood control (429) via PTB's AIORateLimiter, plus 5xx answers, timeouts
and dropped connections with exponential backoff. Bad requests are never retried: they would fail again.

getUpdates does not pass through here: PTB's updater retries it itself and confirms updates by offset,
so no update is lost or handled twice.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)


class RetryingRateLimiter(AIORateLimiter):
    def __init__(self, attempts: int = 4, backoff: float = 0.5, max_retries_on_429: int = 3) -> None:
        super().__init__(max_retries=max_retries_on_429)
        self.attempts, self.backoff = attempts, backoff

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args) -> Any:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except NetworkError as e:  # 5xx, timeouts, dropped connections (RetryAfter is handled inside)
                if attempt == self.attempts:
                    raise
                log.warning("%s failed (%s); retry %d of %d in %.1f s", endpoint, type(e).__name__,
                            attempt, self.attempts - 1, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
