"""A fetched page as an article file: its main text and headings in Markdown, under YAML front matter.

trafilatura finds the main text (navigation, sidebars, footers, comment forms and call-now banners go);
the title, the canonical address and the modified date come from the page's own metadata, so the file is
what bot/corpus/articles.py reads: title, url, id and date.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import yaml

_SLUG_EXTENSIONS = re.compile(r"\.(html?|php|aspx?)$", re.I)


class NotAnArticle(Exception):
    """The page has no article to keep (no main text, no title)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Extracted:
    title: str
    canonical: str | None  # <link rel="canonical">, made absolute
    date: str | None  # YYYY-MM-DD the page says it was last modified
    body: str  # Markdown: paragraphs, lists, tables and ## headings


def extract(html: bytes, url: str) -> Extracted:
    """The article in a page fetched from `url`."""
    import trafilatura
    from htmldate import find_date

    tree = trafilatura.load_html(html)
    if tree is None:
        raise NotAnArticle("not readable as HTML")
    canonical = None
    for href in tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'):
        if href.strip():
            canonical = urljoin(url, href.strip())
            break
    meta = trafilatura.extract_metadata(tree, default_url=url)
    title = " ".join((meta.title or "").split()) if meta else ""
    # the modified date the page gives (article:modified_time, dateModified, ...), else the published one
    date = find_date(tree, url=url, original_date=False, extensive_search=False, outputformat="%Y-%m-%d")
    body = trafilatura.extract(
        tree,
        url=url,
        output_format="markdown",
        include_formatting=True,
        include_links=False,
        include_images=False,
        include_tables=True,
        include_comments=False,
        favor_precision=True,
    )
    if not title:
        raise NotAnArticle("no title found (<title> or og:title)")
    body = _without_title(body or "", title)
    if not body.strip():
        raise NotAnArticle("no main text found in the page")
    return Extracted(title, canonical, date, body)


def _without_title(body: str, title: str) -> str:
    """Extractors sometimes keep the page's <h1>: it repeats the title and is no section of the text."""
    lines = body.strip().split("\n", 1)
    if lines and lines[0].lstrip("#").strip() == title and lines[0].startswith("#"):
        return lines[1].strip() if len(lines) > 1 else ""
    return body.strip()


def slug(url: str) -> str:
    """The id of an article from its address: https://www.opium.org/opium-drug-facts.html -> opium-drug-facts."""
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).split("/") if s]
    last = _SLUG_EXTENSIONS.sub("", segments[-1]) if segments else ""
    if not last and parts.query:
        last = parts.query  # ?p=42, when nothing better is given
    name = re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-")
    return name[:120] or "article"


def render(article: Extracted, url: str, article_id: str) -> str:
    """The Markdown file: front matter (title, url, id, date), a blank line, the text."""
    meta = {"title": article.title, "url": url, "id": article_id}
    if article.date:
        meta["date"] = article.date
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n\n{article.body}\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
