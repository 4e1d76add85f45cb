"""getUpdates answers screened before python-telegram-bot parses them: one bad update never stops the bot.

python-telegram-bot parses a whole getUpdates batch at once; one update it cannot parse (a poll without its
required fields, as after a Bot API change) fails the batch, which is fetched again, forever, with every
update's content logged at CRITICAL each time. Here, at the request layer (python-telegram-bot's own
extension point), an update that does not parse is replaced by an empty one with the same id, so it is
acknowledged and skipped, and the rest of the batch is answered; one with no usable id is dropped. Each
is logged once, by id and kind only: never its content.
"""
from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


def screen_updates(result: list[Any]) -> list[Any]:
    """The batch with unreadable updates made empty (acknowledged and skipped) or dropped (no usable id)."""
    out = []
    for item in result:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("dropped an update without a usable id")
            continue
        try:
            Update.de_json(item, None)
        except Exception as e:  # noqa: BLE001 - any parse failure is the same to us: skip it
            kinds = sorted(k for k in item if k != "update_id")
            log.warning("skipped update %d (%s) the library could not read: %s", update_id,
                        ",".join(kinds)[:60] or "empty", type(e).__name__)
            out.append({"update_id": update_id})
            continue
        out.append(item)
    return out


class ScreenedUpdatesRequest(HTTPXRequest):
    """The request used for getUpdates only; every other call goes through the ordinary one."""

    async def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        result = await super().post(url, *args, **kwargs)
        if isinstance(result, list) and url.rstrip("/").endswith("/getUpdates"):
            result = screen_updates(result)
        return result
