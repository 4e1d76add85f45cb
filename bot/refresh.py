"""Keeping a running bot in step with its site: crawl BOT_SITE every BOT_CRAWL_HOURS, rebuild, swap in.

The crawl replaces the corpus whole or not at all and the build goes beside the live index, so whatever
fails, the bot keeps answering from the last good index, and the log says why in one line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Awaitable, Callable

from bot.config import Config
from bot.corpus.crawl import crawl
from bot.corpus.crawl_state import read_state
from bot.engine import make_analyzer, report_build
from bot.errors import BotError
from bot.search.index import build_index, stale_reason

log = logging.getLogger(__name__)
RETRY_HOURS = 1.0  # after a failed crawl, the next try (sooner than BOT_CRAWL_HOURS when that is longer)


def crawl_and_build(config: Config, say: Callable[[str], None]) -> bool:
    """Crawl the site, then rebuild the index when it no longer matches the articles: True if rebuilt."""
    report = crawl(config.site, config.corpus, config.crawl)
    say(report.summary())
    for url, reason in report.failed:
        say(f"failed {url}: {reason}")
    analyzer = make_analyzer(config)
    if stale_reason(config.index, config.corpus, analyzer, config.index_settings) is None:
        return False
    _, built = build_index(config.corpus, config.index, analyzer, config.index_settings)
    report_build(built, say)
    return True


def first_crawl(config: Config, say: Callable[[str], None]) -> None:
    """At start, a corpus never crawled is read from the site before the bot opens it."""
    if config.site and read_state(config.corpus) is None:
        say(f"reading {config.site} into {config.corpus} first: it was never crawled")
        say(crawl(config.site, config.corpus, config.crawl).summary())


def seconds_until_due(config: Config, now: float | None = None) -> float:
    """From the last crawl's time in the state, so a restart does not crawl again before it is due."""
    state = read_state(config.corpus)
    if state is None or not state.crawled_at:
        return 0.0
    last = datetime.fromisoformat(state.crawled_at).timestamp()
    return max(0.0, last + config.crawl_hours * 3600 - (time.time() if now is None else now))


async def keep_in_step(config: Config, reload: Callable[[], Awaitable[object]]) -> None:
    """Until cancelled: crawl when due, rebuild, and let `reload` swap the new index in."""
    wait = None
    while True:
        try:
            if wait is None:
                wait = await asyncio.to_thread(seconds_until_due, config)
            await asyncio.sleep(wait)
            rebuilt = await asyncio.to_thread(crawl_and_build, config, log.info)
        except BotError as e:
            log.error("did not refresh from %s: %s; still serving the previous index", config.site, e)
            wait = min(config.crawl_hours, RETRY_HOURS) * 3600
            continue
        except Exception:  # a bug or a full disk must not end the refreshes, nor the bot
            log.exception("refreshing from %s failed; still serving the previous index", config.site)
            wait = min(config.crawl_hours, RETRY_HOURS) * 3600
            continue
        if rebuilt:
            await reload()
        wait = config.crawl_hours * 3600
