"""Updates screened before python-telegram-bot parses them: one bad update never stops the bot.

python-telegram-bot parses a whole getUpdates batch at once; one update it cannot parse (a poll without its
required fields, as after a Bot API change) fails the batch, which is fetched again, forever, with every
update's content logged at CRITICAL each time. Here, at the request layer (python-telegram-bot's own
extension point), an update that does not parse is replaced by an empty one with the same id, so it is
acknowledged and skipped, and the rest of the batch is answered; one with no usable id is dropped. Under a
webhook the same screen reads each posted update (bot/telegram/webhook.py). Each skipped update is counted
and logged once, by id and kind only: never its content.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest

log = logging.getLogger(__name__)


def _update_id(item: Any) -> int | None:
    update_id = item.get("update_id") if isinstance(item, dict) else None
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None


class UpdateScreen:
    """Reads updates as python-telegram-bot does, and counts (and logs once) those it cannot read."""

    def __init__(self) -> None:
        self.skipped = 0

    def read(self, item: Any, bot: Bot | None = None) -> Update | None:
        """The update, or None when it has no usable id or the library cannot parse it (counted, logged)."""
        update_id = _update_id(item)
        if update_id is None:
            self.skipped += 1
            log.warning("dropped an update without a usable id (%d skipped since start)", self.skipped)
            return None
        try:
            return Update.de_json(item, bot)
        except Exception as e:  # noqa: BLE001 - any parse failure is the same to us: skip it
            self.skipped += 1
            kinds = sorted(str(k) for k in item if k != "update_id")
            log.warning(
                "skipped update %d (%s) the library could not read: %s (%d skipped since start)",
                update_id,
                ",".join(kinds)[:60] or "empty",
                type(e).__name__,
                self.skipped,
            )
            return None

    def screen(self, result: list[Any]) -> list[Any]:
        """A getUpdates batch with unreadable updates made empty (acknowledged, skipped) or dropped (no id)."""
        out = []
        for item in result:
            if self.read(item) is not None:
                out.append(item)
            elif _update_id(item) is not None:
                out.append({"update_id": item["update_id"]})
        return out


class ScreenedUpdatesRequest(BaseRequest):
    """The request used for getUpdates only, around the one that carries it (python-telegram-bot's HTTPXRequest
    when running; tests hand in one answered in-process); every other call goes through the ordinary one."""

    def __init__(self, inner: BaseRequest, screen: UpdateScreen | None = None) -> None:
        self.inner = inner
        self.screen = screen or UpdateScreen()

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return await self.inner.do_request(*args, **kwargs)

    async def post(self, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        result = await self.inner.post(url, *args, **kwargs)
        if isinstance(result, list) and url.rstrip("/").endswith("/getUpdates"):
            result = self.screen.screen(result)
        return result
