"""Buttons the bot honours are its own, for this chat and question, dated now, and about the answer it is
still giving."""

from __future__ import annotations

import pytest

from bot.telegram.buttons import FUTURE_SECONDS, Button, ButtonCodec, ButtonError, answer_digest

CHAT, QUESTION_ID = 4242, 17


def test_round_trip_and_fits_telegrams_64_bytes():
    codec = ButtonCodec(b"secret")
    for action in ("more", "helpful", "unhelpful"):
        button = Button(action, 3, 6, answer_digest(["a#1", "b#2"]))
        data = codec.encode(button, -1001234567890123, 2**31 - 1)  # the longest ids Telegram gives
        assert len(data.encode()) <= 64
        assert codec.decode(data, -1001234567890123, 2**31 - 1) == button
        assert codec.action_of(data, -1001234567890123, 2**31 - 1) == action


@pytest.mark.parametrize("data", ["", "hello", "2|m|0|3|abc|0|sig", "2|h|0|3|abcdef|67890abc|AAAAAAAAAAAAAAAA", None])
def test_forged_or_foreign_data_is_refused(data):
    with pytest.raises(ButtonError):
        ButtonCodec(b"secret").decode(data, CHAT, QUESTION_ID)


def test_data_signed_by_another_key_or_tampered_is_refused():
    data = ButtonCodec(b"other").encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    with pytest.raises(ButtonError, match="signature"):
        ButtonCodec(b"secret").decode(data, CHAT, QUESTION_ID)
    good = ButtonCodec(b"secret").encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    with pytest.raises(ButtonError):
        ButtonCodec(b"secret").decode(good.replace("|3|", "|4|"), CHAT, QUESTION_ID)


def test_data_from_another_chat_or_another_question_is_refused():
    codec = ButtonCodec(b"secret")
    data = codec.encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    for chat, question in ((CHAT + 1, QUESTION_ID), (CHAT, QUESTION_ID + 1), (-CHAT, QUESTION_ID)):
        with pytest.raises(ButtonError, match="another chat"):
            codec.decode(data, chat, question)
        assert codec.action_of(data, chat, question) is None


def test_data_of_the_unbound_first_version_is_refused():
    codec = ButtonCodec(b"secret")
    data = codec.encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    with pytest.raises(ButtonError, match="older version"):
        codec.decode("1" + data[1:], CHAT, QUESTION_ID)


def test_old_buttons_expire():
    now = [1_000_000.0]
    codec = ButtonCodec(b"secret", max_age=60, clock=lambda: now[0])
    data = codec.encode(Button("more", 0, 3, "abc"), CHAT, QUESTION_ID)
    now[0] += 61
    with pytest.raises(ButtonError, match="too old"):
        codec.decode(data, CHAT, QUESTION_ID)


def test_buttons_dated_in_the_future_are_refused_beyond_a_minute_of_clock_drift():
    now = [1_000_000.0]
    codec = ButtonCodec(b"secret", clock=lambda: now[0])
    drifted = codec.encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    now[0] += FUTURE_SECONDS + 5
    future = codec.encode(Button("helpful", 0, 3, "abc"), CHAT, QUESTION_ID)
    now[0] -= FUTURE_SECONDS + 5
    with pytest.raises(ButtonError, match="future"):
        codec.decode(future, CHAT, QUESTION_ID)
    now[0] -= FUTURE_SECONDS - 5  # signed 55 s "later" than now: a clock put back a little
    assert codec.decode(drifted, CHAT, QUESTION_ID).action == "helpful"
