"""The bot's one SQLite database (BOT_DATABASE): safe for several bot processes sharing it at once.

WAL mode lets readers and one writer work together; every write is a short BEGIN IMMEDIATE transaction
(the write lock is taken first, so two writers queue on the busy timeout instead of failing half way);
a connection is opened per operation, so no thread or process holds one across a slow network call.
A file that is not a database of ours, or cannot be read, is renamed aside with one log line and a new
one is made: the bot starts rather than stopping on a damaged counts file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from bot.errors import BotError

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS votes (message BLOB PRIMARY KEY, day INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counts (scope TEXT NOT NULL, name TEXT NOT NULL,
    helpful INTEGER NOT NULL DEFAULT 0, unhelpful INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, name)) WITHOUT ROWID;
"""
# what the code reads: a database lacking any of these is not ours (or is damaged)
PROBES = (
    "SELECT name, value FROM meta LIMIT 0",
    "SELECT message, day FROM votes LIMIT 0",
    "SELECT scope, name, helpful, unhelpful FROM counts LIMIT 0",
)
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED: another process holds the lock, nothing is wrong


class StateError(BotError):
    """The database cannot be used or replaced (a folder that cannot be written, a newer schema)."""


class StateBusy(StateError):
    """Another process held the database's write lock for longer than the busy timeout."""


def is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    return any(word in str(error).lower() for word in ("locked", "busy"))


def aside_name(path: Path, kind: str) -> Path:
    """A free name beside `path` for a file set aside: name.corrupt-20250101T120000 (or .migrated)."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    candidate = path.with_name(f"{path.name}.{kind}-{stamp}" if kind == "corrupt" else f"{path.name}.{kind}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{kind}-{stamp}-{n}")
        n += 1
    return candidate


class Database:
    """Connections to BOT_DATABASE with WAL, a busy timeout and the schema in place."""

    def __init__(self, path: Path, busy_timeout: float = 10.0) -> None:
        self.path, self.busy_timeout = Path(path), busy_timeout
        self._local = threading.local()
        self._generation = 0  # raised when the file is replaced: every thread opens the new one
        self._prepare()

    # --- connections ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, in autocommit mode (transactions are explicit). Kept open: closing the
        last connection checkpoints the WAL, which would cost a disk sync a vote. Opened again when the
        file at the path is another one (set aside and replaced, here or by another process)."""
        identity = _identity(self.path)
        cached = getattr(self._local, "conn", None)
        if cached is not None and (cached[1], cached[2]) != (identity, self._generation):
            self._drop()
            cached = None
        if cached is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: a crash of the bot loses nothing committed
            except BaseException:
                conn.close()
                raise
            cached = self._local.conn = (conn, _identity(self.path), self._generation)
        try:
            yield cached[0]
        except sqlite3.Error:
            self._drop()
            raise

    def _drop(self) -> None:
        cached = getattr(self._local, "conn", None)
        self._local.conn = None
        if cached is not None:
            with contextlib.suppress(sqlite3.Error):
                cached[0].close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. A database found damaged here is set
        aside and replaced, and the error raised again for the caller to retry once."""
        try:
            with self.connect() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):  # the error that got here is the one to report
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            if is_busy(e):
                raise StateBusy(
                    f"{self.path} is busy: another process held it for over {self.busy_timeout:g} s"
                ) from None
            self._replace(e)
            raise

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret kept in the database, made on first use; every process sharing it sees the same."""
        for attempt in (1, 2):
            try:
                with self.transaction() as conn:
                    conn.execute(
                        "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", (name, secrets.token_bytes(size))
                    )
                    return bytes(conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0])
            except sqlite3.DatabaseError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- opening, and setting a damaged file aside ------------------------------------------------

    def _prepare(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(f"BOT_DATABASE: cannot create the folder {self.path.parent} ({e.strerror})") from None
        for attempt in (1, 2):
            seen = _identity(self.path)
            try:
                self._check()
                return
            except sqlite3.Error as e:
                if is_busy(e):
                    raise StateError(
                        f"BOT_DATABASE {self.path} is locked by another process for over {self.busy_timeout:g} s"
                    ) from None
                if attempt == 2 or not self.path.exists():
                    raise StateError(f"BOT_DATABASE {self.path} cannot be used: {e}") from None
                if _identity(self.path) == seen:  # another process may have replaced it already
                    self._set_aside(e)

    def _check(self) -> None:
        with self.connect() as conn:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.DatabaseError(f"journal mode is {mode}, not wal")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"damaged ({check})")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"BOT_DATABASE {self.path} was written by a newer version of the bot "
                    f"(schema {version}, this one reads {SCHEMA_VERSION})"
                )
            conn.execute("BEGIN IMMEDIATE")  # statement by statement: executescript() would commit first
            try:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                for probe in PROBES:
                    conn.execute(probe)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _replace(self, error: sqlite3.Error) -> None:
        """Damaged while running: set it aside and make a new one (the caller retries its write once)."""
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.ProgrammingError):
            seen = _identity(self.path)
            try:
                self._check()
                return  # it was not the file (a constraint, a full disk): nothing to replace
            except sqlite3.Error as e:
                if is_busy(e) or _identity(self.path) != seen:
                    return
                self._set_aside(e)
            self._prepare()

    def _set_aside(self, error: Exception) -> None:
        self._drop()
        self._generation += 1
        target = aside_name(self.path, "corrupt")
        for suffix in ("", "-wal", "-shm"):  # a stale WAL must never be replayed into the new file
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                try:
                    os.replace(source, target.with_name(target.name + suffix))
                except OSError as e:
                    raise StateError(
                        f"BOT_DATABASE {self.path} cannot be used ({error}) nor moved aside ({e.strerror})"
                    ) from None
        log.warning(
            "%s could not be used (%s): set aside as %s; starting with a new one", self.path, error, target.name
        )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino
