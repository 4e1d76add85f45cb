"""Helpful / not helpful counts, one vote per answer message, in the bot's database (bot/state/database.py).

Kept: the totals, and per article and per answer (the chunk ids it quoted, so the operator can see which
passages help) a helpful and a not-helpful count. To count a message once, a keyed hash of its chat id
and message id, under a random key of this database, is kept with the day of the vote, and deleted once
the buttons it could come from have expired. No user id, no chat id, no message id, no text.
The first vote on a message wins: pressing it again, or the other button, changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable

from bot.state.database import Database, StateError, aside_name

log = logging.getLogger(__name__)
KINDS = ("helpful", "unhelpful")
DAY = 24 * 3600
_ADD = (
    "INSERT INTO counts (scope, name, helpful, unhelpful) VALUES (?, ?, ?, ?) ON CONFLICT (scope, name) "
    "DO UPDATE SET helpful = helpful + excluded.helpful, unhelpful = unhelpful + excluded.unhelpful"
)


def empty_counts() -> dict:
    return {"helpful": 0, "unhelpful": 0, "articles": {}, "answers": {}}


class FeedbackStore:
    def __init__(self, database: Database, keep_days: int = 8, clock: Callable[[], float] = time.time) -> None:
        self.database, self.keep_days, self._clock = database, keep_days, clock

    @classmethod
    def open(cls, path: Path, legacy: Path | None = None, keep_days: int = 8) -> "FeedbackStore":
        """The store in the database at `path`; the counts of an old JSON file `legacy` moved in once."""
        store = cls(Database(path), keep_days)
        if legacy is not None:
            store.migrate(legacy)
        return store

    def vote(
        self, chat_id: int, message_id: int, kind: str, article_ids: Iterable[str], chunk_ids: Iterable[str]
    ) -> bool:
        """Count a press under one answer message; False, changing nothing, if that message has a vote."""
        if kind not in KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        articles, chunks = list(dict.fromkeys(article_ids)), list(chunk_ids)
        today = int(self._clock() // DAY)
        for attempt in (1, 2):  # a database found damaged is replaced inside transaction(): try once more
            try:
                with self.database.transaction() as conn:
                    key = self._message_key(conn, chat_id, message_id)
                    conn.execute("DELETE FROM votes WHERE day < ?", (today - self.keep_days,))
                    if (
                        conn.execute("INSERT OR IGNORE INTO votes (message, day) VALUES (?, ?)", (key, today)).rowcount
                        == 0
                    ):
                        return False
                    _add(conn, kind, articles, [" ".join(chunks)], 1)
                    return True
            except sqlite3.DatabaseError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def counts(self) -> dict:
        """{"helpful": N, "unhelpful": N, "articles": {id: {...}}, "answers": {chunk ids: {...}}}."""
        out = empty_counts()
        with self.database.connect() as conn:
            rows = conn.execute("SELECT scope, name, helpful, unhelpful FROM counts ORDER BY scope, name").fetchall()
        for scope, name, helpful, unhelpful in rows:
            pair = {"helpful": helpful, "unhelpful": unhelpful}
            if scope == "total":
                out.update(pair)
            elif scope in ("article", "answer"):
                out[scope + "s"][name] = pair
        return out

    def _message_key(self, conn: sqlite3.Connection, chat_id: int, message_id: int) -> bytes:
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('vote key', ?)", (secrets.token_bytes(32),))
        secret = bytes(conn.execute("SELECT value FROM meta WHERE name = 'vote key'").fetchone()[0])
        return hmac.new(secret, f"{chat_id}:{message_id}".encode(), hashlib.sha256).digest()[:16]

    # --- the JSON file of earlier versions (BOT_FEEDBACK_FILE) ------------------------------------

    def migrate(self, path: Path) -> bool:
        """Add the counts of the old feedback.json once, then rename it feedback.json.migrated. A file that
        is not such a file is renamed *.corrupt-<time> with one log line, and the bot goes on without it."""
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return False  # nothing to migrate (or another process has just moved it)
        except OSError as e:
            return self._set_aside(path, e.strerror or str(e))
        try:
            articles, answers = _legacy_counts(json.loads(raw.decode("utf-8")))
        except ValueError as e:
            return self._set_aside(path, str(e))
        marker = "migrated " + hashlib.sha256(raw).hexdigest()
        with self.database.transaction() as conn:  # the marker: two processes starting at once add it once
            if conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?, x'')", (marker,)).rowcount:
                for name, pair in answers.items():
                    for kind in KINDS:
                        _add(conn, kind, [], [name], pair[kind])
                for name, pair in articles.items():
                    for kind in KINDS:
                        _add(conn, kind, [name], [], pair[kind], total=False)
        target = _rename(path, "migrated", f"BOT_FEEDBACK_FILE {path}: migrated, but it cannot be renamed")
        if target is None:
            return False
        log.info("moved the counts of %s into %s; the old file is now %s", path, self.database.path, target.name)
        return True

    def _set_aside(self, path: Path, reason: str) -> bool:
        target = _rename(path, "corrupt", f"BOT_FEEDBACK_FILE {path} cannot be read ({reason}) nor moved aside")
        if target is None:
            return False
        log.warning(
            "%s is not a feedback file this bot can read (%s): set aside as %s; starting without its counts",
            path,
            reason,
            target.name,
        )
        return False


def _add(
    conn: sqlite3.Connection, kind: str, articles: list[str], answers: list[str], n: int, total: bool = True
) -> None:
    if n <= 0:
        return
    pair = (n, 0) if kind == "helpful" else (0, n)
    rows = ([("total", "")] if total else []) + [("article", a) for a in articles] + [("answer", a) for a in answers]
    conn.executemany(_ADD, [(scope, name, *pair) for scope, name in rows])


def _legacy_counts(data: object) -> tuple[dict, dict]:
    """The old file's {"articles": {id: counts}, "answers": {chunk ids: counts}}, checked; ValueError says
    what is wrong. Its totals are the sum over answers: each vote added one to exactly one answer."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = set(data) - {"articles", "answers"}
    if unknown:
        raise ValueError(f"unexpected key {sorted(unknown)[0]!r}")
    out = []
    for part in ("articles", "answers"):
        table = data.get(part, {})
        if not isinstance(table, dict):
            raise ValueError(f"{part!r} is not an object")
        checked = {}
        for name, pair in table.items():
            if not isinstance(pair, dict) or set(pair) - set(KINDS):
                raise ValueError(f"{part}[{name!r}] is not a pair of counts")
            values = {kind: pair.get(kind, 0) for kind in KINDS}
            if any(type(v) is not int or v < 0 for v in values.values()):
                raise ValueError(f"{part}[{name!r}] holds something other than a count")
            checked[name] = values
        out.append(checked)
    return out[0], out[1]


def _rename(path: Path, kind: str, failure: str) -> Path | None:
    """Rename the old file aside (name.migrated, name.corrupt-<time>); None when it is already gone (another
    process moved it), a StateError saying `failure` when it cannot be moved."""
    target = aside_name(path, kind)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"{failure} ({e.strerror}); move it away yourself") from None
    return target
