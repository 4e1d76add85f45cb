"""Sitemaps: which pages a site says it has, and when each last changed.

Reads sitemap indexes and urlsets (sitemaps.org, as WordPress core and Yoast write them), gzipped or not,
and plain-text sitemaps. XML is parsed with entities and network access off, so a sitemap cannot make the
parser fetch or expand anything. A sitemap the index says is unchanged (same lastmod) is not fetched again,
and the others are asked for conditionally: what they listed last time is kept in the crawl's state.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from lxml import etree

from bot.corpus.fetch import FetchFailed, Refused, Response
from bot.corpus.site import Site

WELL_KNOWN = ("/wp-sitemap.xml", "/sitemap_index.xml", "/sitemap.xml")  # WordPress core, Yoast, the rest
MAX_SITEMAP_BYTES = 50 * 2**20  # the sitemaps.org limit, uncompressed
MAX_DEPTH = 3
MAX_SITEMAPS = 2_000
# Sitemaps of archive pages (WordPress core: taxonomies, users; Yoast: category, post_tag, author): lists of
# teasers of the articles, not articles.
_ARCHIVES = re.compile(
    r"taxonom|categor|(^|[-_/])(post_)?tags?([-_.\d]|$)|author|users?([-_.\d]|$)|"
    r"attachment|post_format",
    re.I,
)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, recover=False, remove_comments=True, remove_pis=True
)

Fetch = Callable[..., Response]  # Fetcher.get


class SitemapError(Exception):
    """The site's sitemaps cannot be read: the crawl stops and changes nothing."""


@dataclass(frozen=True)
class Entry:
    url: str
    lastmod: str | None


@dataclass
class Sitemaps:
    """What the sitemaps list: page address -> lastmod, in the order listed, plus what was left out."""

    pages: dict[str, str | None] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    state: dict[str, dict] = field(default_factory=dict)  # per sitemap: lastmod, validators, kind, entries
    read: list[str] = field(default_factory=list)  # the sitemaps that were found


def gunzip(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress a gzipped sitemap, refusing one that grows past the limit (a gzip bomb)."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as e:
        raise SitemapError(f"a gzipped sitemap is damaged ({e})") from None
    if len(out) > limit:
        raise SitemapError(f"a gzipped sitemap unpacks to more than {limit // 2**20} MB")
    return out


def parse(data: bytes) -> tuple[str, list[Entry]]:
    """("index", child sitemaps) or ("urlset", pages); ValueError when it is no sitemap."""
    data = gunzip(data).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data.startswith(b"<"):
        lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
        if lines and all(ln.startswith(("http://", "https://")) for ln in lines):
            return "urlset", [Entry(ln, None) for ln in lines]  # a plain-text sitemap: one address a line
        raise ValueError("neither XML nor a list of addresses")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise ValueError(f"not valid XML ({e})") from None
    kind = etree.QName(root).localname
    if kind not in ("sitemapindex", "urlset"):
        raise ValueError(f"an XML document of <{kind}>, not a sitemap")
    entries = []
    for item in root:
        if not isinstance(item.tag, str) or etree.QName(item).localname not in ("sitemap", "url"):
            continue
        values = {
            etree.QName(child).localname: (child.text or "").strip() for child in item if isinstance(child.tag, str)
        }
        if values.get("loc"):
            entries.append(Entry(values["loc"], values.get("lastmod") or None))
    return ("index" if kind == "sitemapindex" else "urlset"), entries


def is_archive(url: str) -> bool:
    return bool(_ARCHIVES.search(urlsplit(url).path.rsplit("/", 1)[-1]))


class SitemapReader:
    """Walks a site's sitemaps from their roots; `previous` is what the last crawl recorded of them."""

    def __init__(self, site: Site, fetch: Fetch, allowed: Callable[[str], bool], previous: dict[str, dict]) -> None:
        self.site, self.fetch, self.allowed, self.previous = site, fetch, allowed, previous
        self.found = Sitemaps()

    def discover(self, listed: list[str]) -> Sitemaps:
        """The sitemap named as SITE; else those robots.txt lists; else the first well-known one found."""
        if self.site.sitemap:
            self._read(self.site.sitemap, None, 0, required=True)
            return self.found
        on_site = [u for u in listed if self.site.owns(u)]
        self.found.skipped += [
            (u, "a sitemap off the site: only its own host is read") for u in listed if not self.site.owns(u)
        ]
        for url in on_site:
            self._read(url, None, 0, required=False)
        if not self.found.read:
            for path in WELL_KNOWN:
                if self._read(self.site.url(path), None, 0, required=False):
                    break
        if not self.found.read:
            tried = ", ".join(on_site + [self.site.url(p) for p in WELL_KNOWN])
            raise SitemapError(f"no sitemap found (tried {tried}): give the sitemap's address as SITE")
        return self.found

    def _read(self, url: str, lastmod: str | None, depth: int, required: bool) -> bool:
        """Read one sitemap (and what it points to). False if an optional one does not exist."""
        if len(self.found.state) >= MAX_SITEMAPS:
            raise SitemapError(f"more than {MAX_SITEMAPS} sitemaps")
        if url in self.found.state:
            return True
        before = self.previous.get(url)
        if before and lastmod and before.get("lastmod") == lastmod:
            kind, entries = before["kind"], [Entry(*e) for e in before["entries"]]  # unchanged: not fetched
            record = before
        else:
            kind, entries, record = self._fetch(url, before, required)
            if kind is None:
                return False
            record = {**record, "lastmod": lastmod}
        self.found.state[url] = record
        self.found.read.append(url)
        if kind == "urlset":
            for entry in entries:
                self.found.pages.setdefault(entry.url, entry.lastmod)
            return True
        if depth >= MAX_DEPTH:
            raise SitemapError(f"{url}: sitemap indexes nested more than {MAX_DEPTH} deep")
        for child in entries:
            if not self.site.owns(child.url):
                self.found.skipped.append((child.url, "a sitemap off the site: only its own host is read"))
            elif is_archive(child.url):
                self.found.skipped.append(
                    (child.url, "a sitemap of archive pages (categories, tags, authors), not articles")
                )
            elif not self.allowed(child.url):
                self.found.skipped.append((child.url, "a sitemap disallowed by robots.txt"))
            else:
                self._read(child.url, child.lastmod, depth + 1, required=True)
        return True

    def _fetch(self, url: str, before: dict | None, required: bool) -> tuple[str | None, list[Entry], dict]:
        try:
            response = self.fetch(url, validators=(before or {}).get("validators"), max_bytes=MAX_SITEMAP_BYTES)
        except Refused as e:
            if not required:
                return None, [], {}
            raise SitemapError(f"sitemap {url}: {e.reason}") from None
        except FetchFailed as e:
            raise SitemapError(f"sitemap {url}: {e.reason}") from None
        if response.status == 304 and before:
            return before["kind"], [Entry(*e) for e in before["entries"]], before
        if response.status != 200:
            if not required and response.status in (404, 410):
                return None, [], {}
            raise SitemapError(f"sitemap {url} answered {response.status}")
        try:
            kind, entries = parse(response.body)
        except ValueError as e:
            if not required:  # a well-known address answered with something else (a theme's "not found" page)
                return None, [], {}
            raise SitemapError(f"sitemap {url} is {e}") from None
        record = {"validators": response.validators, "kind": kind, "entries": [[e.url, e.lastmod] for e in entries]}
        return kind, entries, record
