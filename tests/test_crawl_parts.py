"""The crawler's parts on their own: sitemaps, politeness, slugs, the state's folder, progress, settings."""

from __future__ import annotations

import gzip
import io
import time

import httpx
import pytest

from bot.config import Config, ConfigError
from bot.corpus.crawl import CrawlError, crawl
from bot.corpus.crawl_state import CrawlState, publish, read_state
from bot.corpus.extract import slug
from bot.corpus.fetch import Fetcher, FetchFailed, Refused
from bot.corpus.site import CrawlSettings, Site, SiteError
from bot.corpus.sitemaps import SitemapError, gunzip, is_archive, parse
from bot.progress import progress_bar
from bot.telegram import texts

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def fetcher(handler, **settings) -> Fetcher:
    fetch = Fetcher(
        Site.parse("https://www.opium.org"),
        CrawlSettings(**{"delay": 0, **settings}),
        transport=httpx.MockTransport(handler),
    )
    return fetch


# --- sitemaps ---------------------------------------------------------------------------------------


def test_sitemap_indexes_urlsets_gzip_and_plain_text_are_read():
    kind, entries = parse(
        f"<sitemapindex {NS}><sitemap><loc>https://a/post-sitemap.xml</loc>"
        f"<lastmod>2024-01-01</lastmod></sitemap></sitemapindex>".encode()
    )
    assert kind == "index" and [(e.url, e.lastmod) for e in entries] == [("https://a/post-sitemap.xml", "2024-01-01")]
    xml = f'<?xml version="1.0"?><urlset {NS}><url><loc> https://a/x.html </loc></url></urlset>'.encode()
    assert parse(gzip.compress(xml)) == ("urlset", parse(xml)[1]) and parse(xml)[1][0].url == "https://a/x.html"
    assert parse(b"https://a/one.html\nhttps://a/two.html\n")[1][1].url == "https://a/two.html"
    for junk in (b"<html><body>Not found</body></html>", b"hello", b"<urlset"):
        with pytest.raises(ValueError):
            parse(junk)


def test_a_sitemap_cannot_make_the_parser_read_files_or_grow_without_bound():
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<urlset {NS}><url><loc>https://a/&x;</loc></url></urlset>"
    ).encode()
    try:
        entries = parse(xxe)[1]
    except ValueError:
        entries = []
    assert not any("root:" in e.url for e in entries)
    with pytest.raises(SitemapError, match="unpacks to more than"):
        gunzip(gzip.compress(b"0" * 3_000_000), limit=2 * 2**20)


@pytest.mark.parametrize(
    "url, archive",
    [
        ("https://a/wp-sitemap-posts-post-1.xml", False),
        ("https://a/wp-sitemap-posts-page-1.xml", False),
        ("https://a/post-sitemap.xml", False),
        ("https://a/page-sitemap2.xml", False),
        ("https://a/wp-sitemap-taxonomies-category-1.xml", True),
        ("https://a/wp-sitemap-users-1.xml", True),
        ("https://a/category-sitemap.xml", True),
        ("https://a/post_tag-sitemap.xml", True),
        ("https://a/author-sitemap.xml", True),
        ("https://a/wp-sitemap-taxonomies-post_tag-1.xml", True),
    ],
)
def test_archive_sitemaps_are_told_from_article_sitemaps(url, archive):
    assert is_archive(url) is archive


# --- the site and its addresses ---------------------------------------------------------------------


def test_the_site_is_its_host_with_or_without_www_on_either_scheme():
    site = Site.parse("www.opium.org/")
    assert site.origin == "https://www.opium.org" and site.sitemap is None
    assert site.owns("http://opium.org/a.html") and site.owns("https://www.opium.org:443/b")
    assert not site.owns("https://evil.org/opium.org") and not site.owns("https://opium.org.evil.org/")
    assert not site.owns("https://www.opium.org:8443/") and not site.owns("ftp://www.opium.org/")
    assert Site.parse("https://www.opium.org/sitemap_index.xml").sitemap == "https://www.opium.org/sitemap_index.xml"
    for bad in ("", "ftp://x.org", "https://", "http://a:99999/"):
        with pytest.raises(SiteError):
            Site.parse(bad)


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "https://www.opium.org/naltrexone-as-an-opium-addiction-treatment.html",
            "naltrexone-as-an-opium-addiction-treatment",
        ),
        ("https://www.opium.org/2021/05/Opium-Street-Names/", "opium-street-names"),
        ("https://www.opium.org/?p=42", "p-42"),
        ("https://www.opium.org/caf%C3%A9.php", "caf"),
    ],
)
def test_an_article_id_is_its_slug(url, expected):
    assert slug(url) == expected


# --- politeness -------------------------------------------------------------------------------------


def test_requests_wait_the_delay_and_name_the_bot_and_its_operator():
    seen = []

    def handler(request):
        seen.append((time.monotonic(), request.headers["user-agent"]))
        return httpx.Response(200, text="ok")

    with fetcher(handler, delay=0.2, contact="ops@example.org") as fetch:
        for _ in range(3):
            fetch.get("https://www.opium.org/robots.txt", check_robots=False)
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:])]
    assert min(gaps) >= 0.19, gaps
    assert all(ua.startswith("RecoveryAnswersBot/") and "+ops@example.org" in ua for _, ua in seen)


def test_a_page_is_cut_off_at_its_size_limit_and_its_deadline_even_without_a_length():
    def handler(request):
        if request.url.path == "/drip.html":

            def drip():
                for _ in range(20):
                    time.sleep(0.05)
                    yield b"<p>x</p>"

            return httpx.Response(200, headers={"content-type": "text/html"}, content=drip())
        return httpx.Response(200, headers={"content-type": "text/html"}, content=iter([b"x" * 4096] * 10))

    with fetcher(handler, timeout=0.3, max_bytes=10_000) as fetch:
        with pytest.raises(Refused, match="larger than 10 KB"):
            fetch.get("https://www.opium.org/big.html", html_only=True)
        with pytest.raises(FetchFailed, match="timed out after 0.3 s"):
            fetch.get("https://www.opium.org/drip.html", html_only=True)


def test_robots_txt_crawl_delay_is_kept_and_a_5xx_robots_txt_stops_the_crawl(tmp_path):
    with fetcher(lambda r: httpx.Response(200, text="User-agent: *\nCrawl-delay: 5\nDisallow: /x/\n")) as fetch:
        fetch.read_robots()
        assert fetch.delay == 5 and not fetch.allowed("https://www.opium.org/x/y.html")
    with fetcher(lambda r: httpx.Response(404)) as fetch:
        fetch.read_robots()
        assert fetch.allowed("https://www.opium.org/anything.html")
    with pytest.raises(CrawlError, match="robots.txt answered 503: until it answers, nothing may be fetched"):
        crawl(
            "https://www.opium.org",
            tmp_path / "site",
            CrawlSettings(delay=0),
            transport=httpx.MockTransport(lambda r: httpx.Response(503)),
        )
    assert not (tmp_path / "site").exists()


def test_redirect_loops_end_and_every_hop_is_checked():
    def handler(request):
        return httpx.Response(301, headers={"location": "/loop.html" if request.url.path != "/loop.html" else "/a"})

    with fetcher(handler) as fetch:
        with pytest.raises(Refused, match="more than 5 redirects"):
            fetch.get("https://www.opium.org/a")


# --- the folder -------------------------------------------------------------------------------------


def test_publishing_swaps_the_folder_whole_and_a_failure_leaves_it_as_it_was(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    publish(folder, CrawlState("https://a"), {"one.md": "1", "two.md": "2"}, set())
    publish(folder, CrawlState("https://a"), {"three.md": "3"}, {"one.md"})
    assert sorted(p.name for p in folder.iterdir()) == [".crawl-state.json", "three.md", "two.md"]
    assert read_state(folder).site == "https://a"

    import bot.corpus.crawl_state as module

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(module, "write_state", broken)
    with pytest.raises(OSError):
        publish(folder, CrawlState("https://a"), {"four.md": "4"}, {"two.md"})
    assert sorted(p.name for p in folder.iterdir()) == [".crawl-state.json", "three.md", "two.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing half-written left beside it


def test_a_crawl_stopped_between_its_two_renames_is_undone_by_the_next(tmp_path):
    from bot.corpus.crawl_state import recover

    old, new = tmp_path / ".site.crawl-old", tmp_path / ".site.crawl-new"
    old.mkdir()
    (old / "a.md").write_text("the corpus as it was")
    new.mkdir()
    (new / "a.md").write_text("half written")
    recover(tmp_path / "site")
    assert (tmp_path / "site" / "a.md").read_text() == "the corpus as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_damaged_state_file_is_named(tmp_path):
    (tmp_path / ".crawl-state.json").write_text("{not json")
    with pytest.raises(Exception, match=r"\.crawl-state\.json cannot be read .* remove it"):
        read_state(tmp_path)


# --- progress, settings, /about -----------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only():
    terminal = _Terminal()
    assert list(progress_bar(stream=terminal)(range(3), 3, "pages")) == [0, 1, 2]
    assert "0/3 [" in terminal.getvalue() and "pages:" in terminal.getvalue()  # redrawn at most 10 times a second
    quiet = _Terminal()
    assert list(progress_bar(enabled=False, stream=quiet)(range(3), 3, "pages")) == [0, 1, 2]
    piped = io.StringIO()
    list(progress_bar(stream=piped)(range(3), 3, "pages"))
    assert quiet.getvalue() == "" and piped.getvalue() == ""


def test_an_index_build_reports_its_progress(tmp_path):
    from bot.corpus.articles import load_corpus
    from bot.search.analysis import Analyzer
    from bot.search.index import SearchIndex
    from tests.conftest import SAMPLE_CORPUS

    calls = []

    def progress(items, total, label):
        calls.append((total, label))
        return items

    SearchIndex.build(load_corpus(SAMPLE_CORPUS), Analyzer(), progress=progress)
    assert calls == [(6, "articles")]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("BOT_SITE", "ftp://opium.org", "BOT_SITE is not a web address"),
        ("BOT_CRAWL_HOURS", "-1", "BOT_CRAWL_HOURS must be between 0 and 8760"),
        ("BOT_CRAWL_DELAY", "soon", "BOT_CRAWL_DELAY must be a number"),
    ],
)
def test_bad_crawl_settings_fail_naming_the_setting(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env({name: value})


def test_about_says_when_the_site_was_last_read_escaped():
    config = Config.from_env({})
    html = texts.about(
        5, 9, "2024-06-01 08:00 UTC", config.answer.contacts, ("https://a.org/<b>", "2024-06-01T08:00:00+00:00", 5)
    )
    assert "The site https://a.org/&lt;b&gt; was last read 2024-06-01 08:00:00 UTC: 5 articles." in html
    assert "was last read" not in texts.about(5, 9, "x", config.answer.contacts)
