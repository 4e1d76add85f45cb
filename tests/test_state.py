"""The bot's state in SQLite: one vote per answer message, safe for several processes, and a damaged or
old file set aside (never a stop); the `stats` command that reads it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from bot.state.database import Database, StateError
from bot.state.feedback import FeedbackStore
from tests.conftest import ROOT, write

A, B = "naltrexone", "kratom"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "state" / "bot.sqlite3"


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_one_vote_per_answer_message_the_first_wins(db):
    store = FeedbackStore.open(db)
    assert store.vote(1001, 7, "helpful", [A, A, B], ["a#0", "a#2", "b#1"]) is True
    assert store.vote(1001, 7, "helpful", [A], ["a#0"]) is False  # pressed again
    assert store.vote(1001, 7, "unhelpful", [A], ["a#0"]) is False  # the other button
    assert store.vote(1001, 8, "unhelpful", [A], ["a#0"]) is True  # another answer message
    assert store.vote(1002, 7, "unhelpful", [B], ["b#1"]) is True  # the same message id in another chat
    counts = FeedbackStore.open(db).counts()  # and it is on disk
    assert counts == {
        "helpful": 1,
        "unhelpful": 2,
        "articles": {A: {"helpful": 1, "unhelpful": 1}, B: {"helpful": 1, "unhelpful": 1}},
        "answers": {
            "a#0 a#2 b#1": {"helpful": 1, "unhelpful": 0},
            "a#0": {"helpful": 0, "unhelpful": 1},
            "b#1": {"helpful": 0, "unhelpful": 1},
        },
    }


def test_the_database_holds_no_id_and_forgets_which_messages_voted_once_their_buttons_expired(db):
    now = [1_700_000_000.0]
    store = FeedbackStore(Database(db), keep_days=8, clock=lambda: now[0])
    store.vote(123456789, 4242, "helpful", [A], ["a#0"])
    with contextlib.closing(sqlite3.connect(db)) as conn:
        values = [v for t in ("meta", "votes", "counts") for row in conn.execute(f"SELECT * FROM {t}") for v in row]
        assert not any(v in (123456789, 4242) or "123456789" in str(v) or "4242" in str(v) for v in values)
        now[0] += 9 * 24 * 3600
        store.vote(1, 1, "helpful", [A], ["a#0"])
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 1  # the first one's code is gone
    assert store.counts()["helpful"] == 2  # its count is not


def test_threads_voting_at_once_lose_nothing(db):
    store = FeedbackStore.open(db)
    threads, each = 8, 40
    start = threading.Barrier(threads)
    results: list[bool] = []

    def voter(n: int) -> None:
        start.wait()
        for i in range(each):
            results.append(store.vote(n, i, "helpful" if i % 2 else "unhelpful", [A, B], [f"a#{i % 3}"]))
            results.append(store.vote(0, 0, "helpful", [A], ["shared"]))  # everyone presses one answer too

    workers = [threading.Thread(target=voter, args=(n + 1,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    counts = store.counts()
    assert results.count(True) == threads * each + 1
    assert counts["helpful"] + counts["unhelpful"] == threads * each + 1
    assert counts["articles"][A] == {"helpful": threads * each // 2 + 1, "unhelpful": threads * each // 2}
    assert counts["answers"]["shared"] == {"helpful": 1, "unhelpful": 0}


VOTER = """
import sys, time
from pathlib import Path
from bot.state.feedback import FeedbackStore
store = FeedbackStore.open(Path(sys.argv[1]))
process, start = int(sys.argv[2]), float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
counted = sum(store.vote(process, i, "helpful", ["a"], ["a#0"]) + store.vote(0, 0, "helpful", ["a"], ["a#0"])
              for i in range(150))
print(counted)
"""


def test_two_processes_voting_at_once_lose_nothing(db):
    FeedbackStore.open(db)
    start = time.time() + 1.0  # both are running before either votes
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", VOTER, str(db), str(n), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in (1, 2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum(int(out) for out, _ in outputs) == 301
    assert FeedbackStore.open(db).counts()["articles"]["a"] == {"helpful": 301, "unhelpful": 0}


@pytest.mark.parametrize("damage", [b"this is not a database at all, just words" * 100, "directory"])
def test_a_corrupt_or_unreadable_database_is_set_aside_with_one_line(db, caplog, damage):
    if damage == "directory":
        (db / "inside").mkdir(parents=True)
    else:
        write(db, damage)
        write(db.with_name(db.name + "-wal"), b"a stale log that must never be replayed into the new file")
    with caplog.at_level(logging.INFO):
        store = FeedbackStore.open(db)
    assert store.vote(1, 1, "helpful", [A], ["a#0"]) and store.counts()["helpful"] == 1
    [line] = warnings_of(caplog)
    assert "could not be used" in line and "set aside as bot.sqlite3.corrupt-" in line
    aside = [p for p in db.parent.iterdir() if ".corrupt-" in p.name]
    if damage == "directory":
        assert [p.name.split(".corrupt-")[0] for p in aside] == ["bot.sqlite3"] and aside[0].is_dir()
    else:
        assert next(p for p in aside if not p.name.endswith("-wal")).read_bytes() == damage  # kept, not deleted
        live = db.with_name(db.name + "-wal")
        assert not live.exists() or b"stale log" not in live.read_bytes()


def test_a_database_damaged_while_running_is_replaced_and_the_vote_kept(db, caplog):
    store = FeedbackStore.open(db)
    store.vote(1, 1, "helpful", [A], ["a#0"])
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the vote is in the main file, not only in the log
    with open(db, "r+b") as f:  # the same file, overwritten in place: the open connection sees garbage
        f.write(b"\x00garbage" * 4096)
    with caplog.at_level(logging.WARNING):
        assert store.vote(1, 2, "unhelpful", [A], ["a#0"]) is True
    assert store.counts() == {
        "helpful": 0,
        "unhelpful": 1,
        "articles": {A: {"helpful": 0, "unhelpful": 1}},
        "answers": {"a#0": {"helpful": 0, "unhelpful": 1}},
    }
    assert len(warnings_of(caplog)) == 1


def test_a_database_of_a_newer_version_is_refused_naming_the_setting(db):
    db.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="BOT_DATABASE .* newer version"):
        FeedbackStore.open(db)


def test_a_database_folder_that_cannot_be_made_names_the_setting(tmp_path):
    write(tmp_path / "file", "a file where the folder should be")
    with pytest.raises(StateError, match="BOT_DATABASE: cannot create the folder"):
        FeedbackStore.open(tmp_path / "file" / "bot.sqlite3")


LEGACY = {
    "articles": {A: {"helpful": 3, "unhelpful": 1}, B: {"helpful": 1, "unhelpful": 0}},
    "answers": {"a#0 b#1": {"helpful": 1, "unhelpful": 0}, "a#0": {"helpful": 2, "unhelpful": 1}},
}


def test_the_old_feedback_file_is_migrated_once_then_renamed(db, tmp_path, caplog):
    legacy = write(tmp_path / "feedback.json", json.dumps(LEGACY))
    with caplog.at_level(logging.INFO):
        counts = FeedbackStore.open(db, legacy=legacy).counts()
    assert counts == {"helpful": 3, "unhelpful": 1, **LEGACY}
    assert not legacy.exists() and (tmp_path / "feedback.json.migrated").read_text() == json.dumps(LEGACY)
    assert any("moved the counts of" in r.getMessage() for r in caplog.records) and not warnings_of(caplog)
    write(legacy, json.dumps(LEGACY))  # the same file put back (a backup restored): not counted twice
    store = FeedbackStore.open(db, legacy=legacy)
    assert store.counts() == counts and not legacy.exists()
    store.vote(1, 1, "helpful", [A], ["a#0"])
    assert FeedbackStore.open(db, legacy=legacy).counts()["articles"][A] == {"helpful": 4, "unhelpful": 1}


def test_two_processes_starting_at_once_migrate_the_old_file_once(db, tmp_path):
    legacy = write(tmp_path / "feedback.json", json.dumps(LEGACY))
    start = threading.Barrier(4)

    def opener() -> None:
        start.wait()
        FeedbackStore.open(db, legacy=legacy)

    workers = [threading.Thread(target=opener) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert FeedbackStore.open(db).counts()["articles"] == LEGACY["articles"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{oops",
        "[1, 2]",
        '{"articles": {"a": {"helpful": -1}}}',
        '{"articles": {"a": {"helpful": "many"}}}',
        '{"votes": {}}',
        b"\xff\xfe\x00",
    ],
)
def test_an_invalid_old_feedback_file_is_set_aside_with_one_line(db, tmp_path, caplog, content):
    legacy = write(tmp_path / "feedback.json", content)
    with caplog.at_level(logging.INFO):
        store = FeedbackStore.open(db, legacy=legacy)
    assert store.counts()["articles"] == {} and not legacy.exists()
    [line] = warnings_of(caplog)
    assert "feedback.json is not a feedback file this bot can read" in line and "feedback.json.corrupt-" in line
    [aside] = tmp_path.glob("feedback.json.corrupt-*")
    assert aside.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def stats(tmp_path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_ENV_FILE": os.devnull, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", "stats", *args],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stats_prints_the_counts_and_migrates_the_old_file_from_the_working_folder(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "feedback": {"helpful": 0, "unhelpful": 0, "articles": {}, "answers": {}}
    }
    assert not (tmp_path / "state").exists(), "looking at the counts made a database"
    write(tmp_path / "feedback.json", json.dumps(LEGACY))
    assert main(["stats", "--json"]) == 0
    feedback = json.loads(capsys.readouterr().out)["feedback"]
    assert (feedback["helpful"], feedback["unhelpful"], feedback["articles"]) == (3, 1, LEGACY["articles"])
    assert feedback["answers"] == LEGACY["answers"]
    assert (tmp_path / "state" / "bot.sqlite3").is_file() and (tmp_path / "feedback.json.migrated").is_file()
    assert main(["stats"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("feedback: 3 helpful, 1 not helpful") and A in text[1] and B in text[2]


def test_stats_with_a_corrupt_database_says_one_line_and_prints_a_new_ones_counts(tmp_path):
    write(tmp_path / "custom.db", b"garbage " * 512)
    result = stats(tmp_path, "--json", env={"BOT_DATABASE": "custom.db"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["feedback"]["helpful"] == 0
    [line] = result.stderr.splitlines()
    assert "custom.db could not be used (file is not a database): set aside as custom.db.corrupt-" in line


def test_a_chat_past_its_limits_is_declined_and_told_so_once_per_notice_interval():
    from bot.state.limits import ChatLimiter

    now = [0.0]
    limiter = ChatLimiter(pending=2, per_minute=4, notice_seconds=30, clock=lambda: now[0])
    assert [limiter.admit("a").admitted for _ in range(2)] == [True, True]
    declined = [limiter.admit("a") for _ in range(300)]  # a flood while two are being answered
    assert not any(d.admitted for d in declined) and [d.notify for d in declined].count(True) == 1
    assert declined[0].reason == "waiting" and limiter.admit("b").admitted  # another chat is not held back
    limiter.release("a")
    limiter.release("a")
    assert [limiter.admit("a").admitted for _ in range(2)] == [True, True]  # room again
    limiter.release("a")
    limiter.release("a")
    per_minute = limiter.admit("a")  # four admitted within the minute: the window is full
    assert (per_minute.admitted, per_minute.reason, per_minute.notify) == (False, "per_minute", False)
    now[0] += 31
    again = limiter.admit("a")
    assert (again.admitted, again.notify) == (False, True)  # told again, once, after the interval
    now[0] += 30
    assert limiter.admit("a").admitted  # the minute has passed


def test_idle_chats_are_forgotten():
    from bot.state.limits import ChatLimiter

    now = [0.0]
    limiter = ChatLimiter(clock=lambda: now[0])
    for chat in range(999):
        limiter.admit(chat)
        limiter.release(chat)
    now[0] += 120
    limiter.admit("last")  # the 1,000th admission sweeps the chats with nothing pending or recent
    assert len(limiter) == 1
