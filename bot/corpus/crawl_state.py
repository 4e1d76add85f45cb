"""What a crawl leaves beside the articles, and how it puts a new corpus in place all at once.

The state file (.crawl-state.json; the loader skips dot-files) records, per page of the sitemaps, its
lastmod, ETag, Last-Modified and which article it gave, and per article its file and content hash: what the
next crawl needs to fetch only what changed. A crawl writes the whole new folder beside the old one (files
that did not change are hard links) and then swaps the two, so one that fails half way changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from bot.errors import BotError

STATE_FILE = ".crawl-state.json"
FORMAT = "recovery-answers-crawl"
VERSION = 1


class CrawlStateError(BotError):
    """The folder cannot be crawled into: not the crawler's, or its state is damaged."""


@dataclass
class Page:
    lastmod: str | None = None
    validators: dict[str, str] = field(default_factory=dict)  # etag, last_modified
    article: str | None = None  # the canonical address of the article it gave
    skipped: str | None = None  # why it gave none, remembered so an unchanged page is not fetched again


@dataclass
class Kept:
    file: str  # relative to the folder
    id: str
    hash: str


@dataclass
class CrawlState:
    site: str
    crawled_at: str | None = None
    pages: dict[str, Page] = field(default_factory=dict)
    articles: dict[str, Kept] = field(default_factory=dict)  # canonical address -> its file
    sitemaps: dict[str, dict] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}


def read_state(folder: Path) -> CrawlState | None:
    path = folder / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise CrawlStateError(f"{path} cannot be read ({e}); remove it to crawl the site afresh") from None
    try:
        if raw.get("format") != FORMAT or raw.get("version") != VERSION:
            raise ValueError(f"not version {VERSION} of {FORMAT}")
        return CrawlState(
            site=raw["site"],
            crawled_at=raw.get("crawled_at"),
            pages={u: Page(**p) for u, p in raw["pages"].items()},
            articles={u: Kept(**a) for u, a in raw["articles"].items()},
            sitemaps=dict(raw.get("sitemaps", {})),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise CrawlStateError(f"{path} is damaged ({e}); remove it to crawl the site afresh") from None


def site_summary(folder: Path) -> tuple[str, str, int] | None:
    """(site, when it was last read, articles) for /about; None when the folder was never crawled."""
    try:
        state = read_state(folder)
    except CrawlStateError:
        return None
    if state is None or not state.crawled_at:
        return None
    return state.site, state.crawled_at, len(state.articles)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One crawl of a folder at a time (the bot's own and one by hand would undo each other's work)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.crawl-lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CrawlStateError(f"another crawl into {folder} is running: try again when it has ended") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _siblings(folder: Path) -> tuple[Path, Path]:
    return folder.parent / f".{folder.name}.crawl-new", folder.parent / f".{folder.name}.crawl-old"


def recover(folder: Path) -> None:
    """Undo what a crawl stopped between its two renames (or while writing) left behind."""
    new, old = _siblings(folder)
    if not folder.exists() and old.is_dir():
        os.rename(old, folder)
    for leftover in (new, old):
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)


def check_folder(folder: Path, state: CrawlState | None) -> None:
    """Only an empty folder, or one this crawler wrote, is crawled into: nothing else is ever removed."""
    if state is not None or not folder.exists():
        return
    if not folder.is_dir():
        raise CrawlStateError(f"{folder} is a file, not a folder: crawl into a folder (--corpus DIR)")
    theirs = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if theirs:
        raise CrawlStateError(
            f"{folder} holds {len(theirs)} file{'s' * (len(theirs) != 1)} the crawler did not "
            f"write (such as {theirs[0]}): crawl into a new folder (--corpus DIR, then set "
            f"BOT_CORPUS to it), or move them away"
        )


def write_state(folder: Path, state: CrawlState) -> None:
    """The state alone (no article changed): one atomic replace."""
    tmp = folder / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / STATE_FILE)


def publish(folder: Path, state: CrawlState, writes: dict[str, str], removals: set[str]) -> None:
    """The folder as it was, less `removals`, with `writes` (relative path -> text) and the new state,
    built beside it and swapped in. Files are never written in place: a hard link shares its inode."""
    recover(folder)
    new, old = _siblings(folder)
    new.mkdir(parents=True)
    try:
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                target = new / rel
                if path.is_dir():
                    target.mkdir(exist_ok=True)
                elif rel.as_posix() not in removals and rel.as_posix() not in writes and rel.name != STATE_FILE:
                    _link_or_copy(path, target)
        for rel, text in writes.items():
            target = new / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        write_state(new, state)
        if folder.exists():
            os.rename(folder, old)
        os.rename(new, folder)
    except BaseException:
        recover(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
