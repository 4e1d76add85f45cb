"""Buttons the bot honours are its own, recent, and about the answer it is still giving."""
from __future__ import annotations

import pytest

from bot.telegram.buttons import Button, ButtonCodec, ButtonError, answer_digest
from bot.state.feedback import FeedbackStore


def test_round_trip_and_fits_telegrams_64_bytes():
    codec = ButtonCodec(b"secret")
    for action in ("more", "helpful", "unhelpful"):
        button = Button(action, 3, 6, answer_digest(["a#1", "b#2"]))
        data = codec.encode(button)
        assert len(data.encode()) <= 64
        assert codec.decode(data) == button


@pytest.mark.parametrize("data", ["", "hello", "1|m|0|3|abc|0|sig", "1|h|0|3|abcdef|67890abc|AAAAAAAAAAAAAAAA", None])
def test_forged_or_foreign_data_is_refused(data):
    with pytest.raises(ButtonError):
        ButtonCodec(b"secret").decode(data)


def test_data_signed_by_another_key_or_tampered_is_refused():
    data = ButtonCodec(b"other").encode(Button("helpful", 0, 3, "abc"))
    with pytest.raises(ButtonError, match="signature"):
        ButtonCodec(b"secret").decode(data)
    good = ButtonCodec(b"secret").encode(Button("helpful", 0, 3, "abc"))
    with pytest.raises(ButtonError):
        ButtonCodec(b"secret").decode(good.replace("|3|", "|4|"))


def test_old_buttons_expire():
    now = [1_000_000.0]
    codec = ButtonCodec(b"secret", max_age=60, clock=lambda: now[0])
    data = codec.encode(Button("more", 0, 3, "abc"))
    now[0] += 61
    with pytest.raises(ButtonError, match="too old"):
        codec.decode(data)


def test_feedback_counts_have_no_ids_or_text(tmp_path):
    path = tmp_path / "feedback.json"
    store = FeedbackStore(path)
    store.record("helpful", ["a", "a", "b"], ["a#0", "a#2", "b#1"])
    store.record("unhelpful", ["a"], ["a#0"])
    again = FeedbackStore(path).counts()
    assert again["articles"] == {"a": {"helpful": 1, "unhelpful": 1}, "b": {"helpful": 1, "unhelpful": 0}}
    assert again["answers"]["a#0 a#2 b#1"] == {"helpful": 1, "unhelpful": 0}
    assert set(again) == {"articles", "answers"}


def test_unreadable_feedback_file_names_itself(tmp_path):
    (tmp_path / "feedback.json").write_text("{oops")
    with pytest.raises(ValueError, match="feedback.json"):
        FeedbackStore(tmp_path / "feedback.json")
