"""Updates python-telegram-bot cannot read, over real HTTP: skipped, counted, logged without their content,
and polling goes on (the issue's poisoned batch, and an id that is not an integer)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.answering.answer import Answerer
from bot.config import Config
from bot.telegram.app import build_application
from tests.fake_bot_api import FakeBotAPI

QUESTION = "can i take naltrexone while detoxing"


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server


def _message(update_id, chat_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + chat_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "T"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
        },
    }


@pytest.mark.slow  # polls for a while over real HTTP
def test_an_update_whose_id_is_not_an_integer_is_dropped_and_polling_goes_on(fake, sample, tmp_path, caplog):
    config = Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "BOT_DATABASE": str(tmp_path / "state" / "bot.sqlite3"),
        }
    )

    async def scenario():
        application = build_application(config, Answerer(sample, config.answer), poll_read_timeout=1.0)
        await application.initialize()
        await application.start()
        first = fake.push_message(f"{QUESTION} first", chat_id=701, user_id=701)
        fake.push_update(_message(first["update_id"] + 0.5, 702, f"{QUESTION} with an odd id"))
        fake.push_message(f"{QUESTION} last", chat_id=703, user_id=703)
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            await asyncio.to_thread(fake.wait_for, "sendMessage", 2, 30)
            await asyncio.sleep(1.0)
            fake.push_message(f"{QUESTION} after", chat_id=704, user_id=704)
            await asyncio.to_thread(fake.wait_for, "sendMessage", 3, 30)
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

    with caplog.at_level(logging.INFO):
        asyncio.run(asyncio.wait_for(scenario(), 90))
    answered = sorted(p["chat_id"] for p in fake.calls_to("sendMessage"))
    assert answered == [701, 703, 704], answered
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "without a usable id" in logged and "odd id" not in logged and "detoxing" not in logged
