"""Hot reload: a rebuilt index swapped in whole while the bot serves, and nothing on disk able to stop it.

`s` is the application's Services (config, answerer, reload_lock). A build that cannot be loaded, for any
reason, is logged in one line and the index already serving goes on serving.
"""

from __future__ import annotations

import asyncio
import logging

from bot.answering.answer import Answerer
from bot.engine import chunk_vectors
from bot.search.index import IndexLoadError, SearchIndex, current_build_name

log = logging.getLogger(__name__)


async def reload_index(s, reason: str) -> bool:
    """Load the index CURRENT names now and swap it in whole; on any problem keep serving the old one.

    Handlers take s.answerer once per update, so an answer is made from one index, never from two.
    """
    async with s.reload_lock:
        old = s.answerer
        try:
            index = await asyncio.to_thread(SearchIndex.load, s.config.index, old.index.analyzer)
            if index.build == old.index.build:
                return False
            # a new build's chunks are encoded here, off the event loop, while the old index serves on
            vectors = await asyncio.to_thread(chunk_vectors, s.config, index, log.info)
            answerer = Answerer(index, old.settings, old.safety, vectors)
        except IndexLoadError as e:
            log.error("did not reload the index (%s): %s; still serving the previous one", reason, e)
            return False
        except Exception as e:  # not foreseen, still not the end of serving: one line, the traceback at DEBUG
            log.error(
                "did not reload the index (%s): %s: %s; still serving the previous one", reason, type(e).__name__, e
            )
            log.debug("the reload failed", exc_info=True)
            return False
        s.answerer = answerer
        log.info("reloaded the index (%s): %d articles, %d passages", reason, len(index.articles), index.chunk_count)
        return True


async def watch_index(s) -> None:
    """Reload when a rebuild (python -m bot index) points CURRENT at a new build. Nothing on disk stops it:
    a damaged CURRENT or a build that is refused is logged once, and watching goes on."""
    refused: str | None = None  # what was last refused (a build's name or CURRENT's error): not retried
    while True:
        await asyncio.sleep(s.config.reload_seconds)
        try:
            name = await asyncio.to_thread(current_build_name, s.config.index)
        except Exception as e:  # a damaged CURRENT (IndexLoadError) or anything else reading it
            problem = str(e) if isinstance(e, IndexLoadError) else f"{type(e).__name__}: {e}"
            if problem != refused:
                log.error("did not reload the index: %s; still serving the previous one", problem)
                refused = problem
            continue
        if name and name != s.answerer.index.build and name != refused:
            if not await reload_index(s, "index changed on disk"):
                refused = name
