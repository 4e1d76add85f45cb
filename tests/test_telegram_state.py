"""Votes and fairness end to end: the real python-telegram-bot Application against the fake Bot API.

One vote per answer message, button data bound to its chat and refused when dated in the future, a
damaged database set aside at start; and a chat flooding the bot never delays another chat's answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time


from bot.answering.answer import Answerer
from bot.state.feedback import FeedbackStore
from bot.telegram.buttons import ButtonCodec
from tests import test_telegram_e2e as e2e
from tests.conftest import write
from tests.fake_bot_api import FakeBotAPI
from tests.test_telegram_e2e import DISCLAIMER, HELPLINE, QUESTION, SEED_URL, polling, run, wait

ARTICLE = "naltrexone-as-an-opium-addiction-treatment"
fake, config = e2e.fake, e2e.config  # the end-to-end tests' fixtures: in-process, tdlib judging every message


def answer_to(fake: FakeBotAPI, chat_id: int) -> dict:
    return next(m for m in reversed(fake.sent_messages) if m["chat"]["id"] == chat_id and "reply_markup" in m)


def data_of(message: dict, label: str) -> str:
    return next(
        b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row if label in b["text"]
    )


def popups(fake: FakeBotAPI) -> list[str]:
    return [p.get("text", "") for p in fake.calls_to("answerCallbackQuery")]


def test_a_vote_counts_once_and_another_chats_or_future_dated_data_changes_nothing(fake, config, sample):
    async def scenario():
        async with polling(fake, config, sample):
            for chat in (4242, 4343):  # the same question in two chats: the same passages, the same digest
                fake.push_message(QUESTION, chat_id=chat, user_id=chat)
                await wait(fake, "sendMessage", where=lambda p, c=chat: p["chat_id"] == c)
            mine, theirs = answer_to(fake, 4242), answer_to(fake, 4343)
            helpful, unhelpful = data_of(mine, "Helpful"), data_of(mine, "Not helpful")

            fake.push_callback(helpful, mine, user_id=4242)
            await wait(fake, "editMessageReplyMarkup")  # the vote buttons go
            for data in (helpful, helpful, unhelpful):  # pressed again (an old client, a double tap), the other
                fake.push_callback(data, mine, user_id=4242)
            await wait(fake, "answerCallbackQuery", 4)
            assert "Thank you, that helps" in popups(fake)[0]
            assert all("already told us" in text for text in popups(fake)[1:])

            fake.push_callback(helpful, theirs, user_id=4343)  # data copied from another chat's message
            secret = FeedbackStore.open(config.database).database.secret("button key")
            later = ButtonCodec(secret, clock=lambda: time.time() + 3600)
            theirs_button = later.decode(data_of(theirs, "Helpful"), 4343, theirs["reply_to_message"]["message_id"])
            future = later.encode(theirs_button, 4343, theirs["reply_to_message"]["message_id"])
            fake.push_callback(future, theirs, user_id=4343)  # signed with our key, but an hour from now
            await wait(fake, "answerCallbackQuery", 6)
            assert all("no longer works" in text for text in popups(fake)[4:6])
            assert FeedbackStore.open(config.database).counts()["helpful"] == 1

            fake.push_callback(data_of(theirs, "Not helpful"), theirs, user_id=4343)  # their own: counted
            await wait(fake, "answerCallbackQuery", 7)
            counts = FeedbackStore.open(config.database).counts()
            assert (counts["helpful"], counts["unhelpful"]) == (1, 1)
            assert counts["articles"][ARTICLE] == {"helpful": 1, "unhelpful": 1}

    run(scenario)
    for text in popups(fake):
        assert HELPLINE in text


def test_a_corrupt_database_and_an_invalid_old_file_are_set_aside_and_the_bot_starts(fake, config, sample, caplog):
    write(config.database, b"SQLite format 3\x00" + b"\xde\xad" * 2000)  # a header, then ruin
    write(config.feedback_file, "{")
    with caplog.at_level(logging.INFO):

        async def scenario():
            async with polling(fake, config, sample):
                fake.push_message(QUESTION)
                [sent] = await wait(fake, "sendMessage")
                fake.push_callback(data_of(sent, "Helpful"), fake.sent_messages[-1])
                await wait(fake, "answerCallbackQuery")

        run(scenario)
    assert FeedbackStore.open(config.database).counts()["articles"][ARTICLE]["helpful"] == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("bot")]
    assert len(lines) == 2 and "set aside as bot.sqlite3.corrupt-" in lines[0] and "feedback.json.corrupt-" in lines[1]
    assert sorted(p.name.split("-")[0] for p in config.database.parent.glob("*.corrupt-*")) == ["bot.sqlite3.corrupt"]


class Gated(Answerer):
    """Questions starting "flood" wait for the gate: answering as slow as it can be, for as long as the test
    wants; any other question is answered at once."""

    gate = threading.Event()

    def page(self, question, *args, **kwargs):
        if question.startswith("flood"):
            assert self.gate.wait(60)
        return super().page(question, *args, **kwargs)


FLOOD, OTHER = 7001, 7002


def test_a_chat_flooding_the_bot_does_not_delay_another_chats_answer(fake, config, sample):
    gated = Gated(sample, config.answer)
    gated.gate = threading.Event()
    limit = config.chat_limit

    async def scenario():
        async with polling(fake, config, sample, gated):
            fake.push_message(QUESTION, chat_id=FLOOD, user_id=FLOOD)  # answered before the flood
            await wait(fake, "sendMessage", where=lambda p: p["chat_id"] == FLOOD)
            earlier = answer_to(fake, FLOOD)
            asked = [
                fake.push_message(f"flood question {n}", chat_id=FLOOD, user_id=FLOOD)["message"]["message_id"]
                for n in range(300)
            ]
            fake.push_message(QUESTION, chat_id=OTHER, user_id=OTHER)  # behind all 300 in the queue
            [theirs] = await wait(fake, "sendMessage", where=lambda p: p["chat_id"] == OTHER, timeout=30)
            assert SEED_URL in theirs["text"]
            assert not gated.gate.is_set()  # the flood's first question is still being answered: nothing drained

            [notice] = await wait(fake, "sendMessage", where=lambda p: "One moment" in p["text"])
            assert notice["chat_id"] == FLOOD and HELPLINE in notice["text"] and DISCLAIMER in notice["text"].lower()
            assert "call 911" in notice["text"]
            fake.push_callback(data_of(earlier, "Helpful"), earlier, user_id=FLOOD)  # a press waits its turn too
            [toast] = await wait(fake, "answerCallbackQuery")
            assert "One moment" in toast["text"]

            gated.gate.set()
            answers = await wait(fake, "sendMessage", 2 + limit, where=lambda p: p["chat_id"] == FLOOD)
            fake.push_callback(data_of(earlier, "Helpful"), earlier, user_id=FLOOD)  # now there is room
            await wait(fake, "answerCallbackQuery", 2)
            await asyncio.sleep(0.5)
            return asked, answers

    asked, answers = run(scenario)
    flood = [p for p in fake.calls_to("sendMessage") if p["chat_id"] == FLOOD]
    assert len(flood) == 2 + limit, "the earlier answer, one notice, and the questions within the limit"
    replied = [p["reply_parameters"]["message_id"] for p in answers[2:]]
    assert replied == asked[:limit], "a chat's questions are answered one at a time, in the order asked"
    assert "Thank you" in popups(fake)[-1]
    assert FeedbackStore.open(config.database).counts()["helpful"] == 1


def test_past_its_messages_a_minute_a_chat_is_asked_to_wait_once(fake, config, sample):
    config = dataclasses.replace(config, chat_per_minute=3)

    async def scenario():
        async with polling(fake, config, sample):
            for n in range(8):
                fake.push_message(
                    None,
                    chat_id=FLOOD,
                    user_id=FLOOD,
                    sticker={
                        "file_id": "s",
                        "file_unique_id": "s",
                        "type": "regular",
                        "width": 1,
                        "height": 1,
                        "is_animated": False,
                        "is_video": False,
                    },
                )
                await wait(fake, "sendMessage", min(n + 1, 4), where=lambda p: p["chat_id"] == FLOOD)
            fake.push_message(QUESTION, chat_id=OTHER, user_id=OTHER)
            await wait(fake, "sendMessage", where=lambda p: p["chat_id"] == OTHER)
            await asyncio.sleep(0.3)

    run(scenario)
    flood = [p["text"] for p in fake.calls_to("sendMessage") if p["chat_id"] == FLOOD]
    assert len(flood) == 4 and all("only read text" in t for t in flood[:3])
    assert "many messages in the last minute" in flood[3]
