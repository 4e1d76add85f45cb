"""Reading a site into the corpus, and keeping it in step: `python -m bot crawl SITE`.

The sitemaps say which pages exist and when each changed; a page the sitemap says is unchanged is not
fetched, the others are asked for conditionally (ETag, Last-Modified). Each article is kept once, under its
canonical address, as a Markdown file named by its slug. A page that answers 404 or 410, or left the
sitemaps, takes its article with it; a page that cannot be read now (timeout, 5xx) keeps the one it had.
Nothing changes on disk until the end, and then all at once; an unreachable site changes nothing.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, TypeVar
from urllib.parse import urlsplit

import httpx

from bot.corpus import crawl_state
from bot.corpus.crawl_state import CrawlState, Kept, Page
from bot.corpus.extract import Extracted, NotAnArticle, digest, extract, render, slug
from bot.corpus.fetch import Fetcher, FetchFailed, Refused
from bot.corpus.site import CrawlSettings, Site, SiteError
from bot.corpus.sitemaps import SitemapError, SitemapReader
from bot.errors import BotError

T = TypeVar("T")
Progress = Callable[[Iterable[T], int, str], Iterable[T]]  # (items, how many, what they are): bot.progress
GIVE_UP_AFTER = 3  # pages in a row the site did not answer: it is down, and the crawl changes nothing


class CrawlError(BotError):
    """The crawl as a whole failed (site unreachable, no sitemap): nothing was changed."""


@dataclass
class CrawlReport:
    site: str
    corpus: str
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fetched: int = 0  # pages asked for (robots.txt and sitemaps apart)
    seconds: float = 0.0

    @property
    def articles(self) -> int:
        return len(self.new) + len(self.changed) + len(self.unchanged)

    @property
    def modified(self) -> bool:
        return bool(self.new or self.changed or self.removed)

    def as_json(self) -> dict:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": [{"url": u, "reason": r} for u, r in self.failed],
            "skipped": [{"url": u, "reason": r} for u, r in self.skipped],
            "articles": self.articles,
            "fetched": self.fetched,
            "site": self.site,
            "corpus": self.corpus,
            "seconds": round(self.seconds, 2),
        }

    def summary(self) -> str:
        return (
            f"crawled {self.site}: {len(self.new)} new, {len(self.changed)} changed, {len(self.unchanged)} "
            f"unchanged, {len(self.removed)} removed, {len(self.failed)} failed, {len(self.skipped)} skipped "
            f"({self.fetched} pages fetched in {self.seconds:.1f} s) -> {self.corpus}: {self.articles} articles"
        )


def _no_progress(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    return items


def crawl(
    site: str,
    folder: Path,
    settings: CrawlSettings | None = None,
    progress: Progress = _no_progress,
    transport: httpx.BaseTransport | None = None,
) -> CrawlReport:
    """Crawl `site` into `folder`; raises CrawlError (nothing changed) when the crawl cannot be made."""
    started = time.perf_counter()
    settings = settings or CrawlSettings()
    try:
        where = Site.parse(site)
    except SiteError as e:
        raise CrawlError(f"SITE is {e}") from None
    folder = Path(folder)
    with crawl_state.locked(folder):
        report = _crawl(where, folder, settings, progress, transport)
    report.seconds = time.perf_counter() - started
    return report


def _crawl(
    where: Site, folder: Path, settings: CrawlSettings, progress: Progress, transport: httpx.BaseTransport | None
) -> CrawlReport:
    crawl_state.recover(folder)
    previous = crawl_state.read_state(folder)
    crawl_state.check_folder(folder, previous)
    if previous is not None and Site.parse(previous.site).key != where.key:
        raise CrawlError(
            f"{folder} holds the articles of {previous.site}, not {where.origin}: crawl "
            f"{where.origin} into another folder (--corpus DIR)"
        )
    previous = previous or CrawlState(site=where.origin)
    with Fetcher(where, settings, transport) as fetcher:
        run = _Run(where, fetcher, settings, previous, CrawlReport(where.origin, str(folder)))
        try:
            listed = fetcher.read_robots()
            sitemaps = SitemapReader(where, fetcher.get, fetcher.allowed, previous.sitemaps).discover(listed)
        except (FetchFailed, SitemapError) as e:
            raise CrawlError(f"could not read {where.origin}: {getattr(e, 'reason', e)}; nothing changed") from None
        if not sitemaps.pages:
            raise CrawlError(
                f"the sitemaps of {where.origin} list no pages ({', '.join(sitemaps.read)}); nothing changed"
            )
        run.report.skipped += sitemaps.skipped
        run.pages(sitemaps.pages, progress)
    state, writes, removals = run.outcome(sitemaps.state)
    try:
        if run.report.modified:
            crawl_state.publish(folder, state, writes, removals)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            crawl_state.write_state(folder, state)
    except OSError as e:
        raise CrawlError(f"could not write {folder} ({e.strerror or e}); nothing changed") from None
    return run.report


class _Run:
    """One crawl's decisions, page by page; nothing is written until outcome() is published."""

    def __init__(
        self, site: Site, fetcher: Fetcher, settings: CrawlSettings, previous: CrawlState, report: CrawlReport
    ) -> None:
        self.site, self.fetcher, self.settings, self.previous, self.report = site, fetcher, settings, previous, report
        self.pages_now: dict[str, Page] = {}
        self.fetched: dict[str, tuple[Extracted, str]] = {}  # canonical -> (the article, the page it came from)
        self.down = 0  # pages in a row that could not be reached

    def pages(self, listed: dict[str, str | None], progress: Progress) -> None:
        due = []
        for url, lastmod in listed.items():
            before = self.previous.pages.get(url)
            reason = self._refused(url)
            if reason:
                self.report.skipped.append((url, reason))
            elif before and lastmod and before.lastmod == lastmod:  # the sitemap says it has not changed
                self.pages_now[url] = before
                if before.skipped:
                    self.report.skipped.append((url, before.skipped))
            else:
                due.append((url, lastmod))
        for n, (url, lastmod) in enumerate(progress(due, len(due), "pages")):
            if self.settings.max_pages is not None and n >= self.settings.max_pages:
                self._keep(url, f"not fetched: --max-pages {self.settings.max_pages} reached", skipped=True)
                continue
            self._page(url, lastmod)

    def _refused(self, url: str) -> str | None:
        if not self.site.owns(url):
            return f"off the site ({urlsplit(url).netloc}): only its own host is read"
        if not self.fetcher.allowed(url):
            return "disallowed by robots.txt"
        if urlsplit(url).path in ("", "/") and not urlsplit(url).query:
            return "the home page: a list of articles, not one"
        return None

    def _keep(self, url: str, reason: str, skipped: bool = False) -> None:
        """The page could not be read or used now: it keeps the article it had, if any."""
        (self.report.skipped if skipped else self.report.failed).append((url, reason))
        before = self.previous.pages.get(url)
        if before is not None and before.article:
            self.pages_now[url] = before

    def _page(self, url: str, lastmod: str | None) -> None:
        before = self.previous.pages.get(url)
        self.report.fetched += 1
        try:
            response = self.fetcher.get(url, before.validators if before and before.article else None, html_only=True)
        except Refused as e:
            self._keep(url, e.reason, skipped=True)
            if not (before and before.article):
                self.pages_now[url] = Page(lastmod, skipped=e.reason)
            self.down = 0
            return
        except FetchFailed as e:
            self._keep(url, e.reason)
            self.down += 1
            if self.down >= GIVE_UP_AFTER:
                raise CrawlError(
                    f"{self.site.origin} stopped answering ({GIVE_UP_AFTER} pages in a row, the last "
                    f"{url}: {e.reason}); nothing changed"
                ) from None
            return
        self.down = 0
        status = response.status
        if status == 304 and before and before.article:
            self.pages_now[url] = Page(lastmod, before.validators, before.article)
        elif status in (404, 410):
            reason = f"answered {status} {'Not Found' if status == 404 else 'Gone'}"
            self.report.skipped.append((url, reason))
            self.pages_now[url] = Page(lastmod, skipped=reason)  # its article, if it had one, goes
        elif status == 429 or status >= 500 or status == 304:
            self._keep(url, f"answered {status}" + (": the site asks for fewer requests" if status == 429 else ""))
        elif status != 200:
            self._keep(url, f"answered {status}", skipped=True)
        else:
            self._article(url, lastmod, response)

    def _article(self, url: str, lastmod: str | None, response) -> None:
        try:
            article = extract(response.body, response.url)
        except NotAnArticle as e:
            self._keep(url, e.reason, skipped=True)
            return
        except Exception as e:  # the extractor's own failure on one page must not end the crawl
            self._keep(url, f"could not be read as an article ({type(e).__name__}: {e})", skipped=True)
            return
        canonical = article.canonical if article.canonical and self.site.owns(article.canonical) else response.url
        canonical = canonical.split("#", 1)[0]
        page = Page(lastmod, response.validators, canonical)
        if canonical in self.fetched:
            reason = f"the same article as {self.fetched[canonical][1]} (its canonical address is {canonical})"
            self.pages_now[url] = dataclasses.replace(page, skipped=reason)
            self.report.skipped.append((url, reason))
            return
        if not article.date:
            article = dataclasses.replace(article, date=(lastmod or "")[:10] or None)
        self.fetched[canonical] = (article, url)
        self.pages_now[url] = page

    def outcome(self, sitemaps: dict[str, dict]) -> tuple[CrawlState, dict[str, str], set[str]]:
        """The new state, the files to write and the files to remove; the report's counts filled in."""
        old = self.previous.articles
        kept: dict[str, Kept] = {}
        for page in self.pages_now.values():  # unchanged or unreadable pages keep their articles as they were
            if page.article and page.article not in self.fetched and page.article in old:
                kept[page.article] = old[page.article]
        taken = {k.id for k in kept.values()}
        writes: dict[str, str] = {}
        for canonical, (article, _) in self.fetched.items():
            article_id = old[canonical].id if canonical in old else _free_id(slug(canonical), taken, old)
            taken.add(article_id)
            text = render(article, canonical, article_id)
            entry = Kept(f"{article_id}.md", article_id, digest(text))
            kept[canonical] = entry
            if canonical not in old:
                self.report.new.append(canonical)
            elif old[canonical].hash != entry.hash:
                self.report.changed.append(canonical)
            else:
                self.report.unchanged.append(canonical)
                continue
            writes[entry.file] = text
        self.report.unchanged += [c for c in kept if c not in self.fetched]
        self.report.removed = [c for c in old if c not in kept]
        removals = {old[c].file for c in self.report.removed}
        # pages whose article went (404, left the sitemap) must not point at it any more
        pages = {u: p for u, p in self.pages_now.items() if not p.article or p.article in kept}
        state = CrawlState(
            site=self.site.origin,
            crawled_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            pages=pages,
            articles=kept,
            sitemaps=sitemaps,
        )
        return state, writes, removals


def _free_id(wanted: str, taken: set[str], old: dict[str, Kept]) -> str:
    """The slug, or slug-2, slug-3 ... when another article (now or kept from before) has it."""
    used = taken | {k.id for k in old.values()}
    if wanted not in used:
        return wanted
    n = 2
    while f"{wanted}-{n}" in used:
        n += 1
    return f"{wanted}-{n}"
