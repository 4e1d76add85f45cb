"""`python -m bot crawl` against a WordPress-like site on 127.0.0.1: what is imported, what is left alone,
what a second crawl fetches, and that a failed crawl changes nothing."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from bot.answering.answer import Answerer
from bot.cli import main
from bot.corpus.articles import load_corpus
from bot.corpus.crawl import CrawlError, crawl
from bot.corpus.crawl_state import STATE_FILE, CrawlStateError, read_state
from bot.corpus.site import CrawlSettings
from bot.search.analysis import Analyzer
from bot.search.index import SearchIndex
from tests.conftest import SAMPLE_CORPUS
from tests.wordpress_site import BOILERPLATE, OffSite, Post, WordPressSite, page_html

FAST = CrawlSettings(delay=0, timeout=0.3, contact="webmaster@example.org")
POSTS = {
    "naltrexone-as-an-opium-addiction-treatment",
    "methadone-maintenance",
    "buprenorphine-basics",
    "how-does-opium-withdrawal-treatment-work",
    "kratom-facts",
}
SITEMAPS = ("/robots.txt", "/sitemap_index.xml", "/post-sitemap.xml", "/page-sitemap.xml.gz")


@pytest.fixture
def offsite():
    with OffSite() as server:
        yield server


@pytest.fixture
def site(offsite):
    with WordPressSite(offsite.url) as server:
        yield server


@pytest.fixture
def quick_site(offsite):
    """The same site without its slow page, which costs every crawl its timeout."""
    with WordPressSite(offsite.url) as server:
        server.slow = False
        yield server


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cited(index: SearchIndex, question: str) -> list[str]:
    return [c.url for c in Answerer(index).answer(question, 5).citations]


def pages_fetched(site: WordPressSite, since: int) -> set[str]:
    return {p for p in site.paths(since) if p not in SITEMAPS}


def test_the_first_crawl_imports_every_post_once_and_nothing_disallowed_or_off_site(site, offsite, tmp_path):
    folder = tmp_path / "site"
    report = crawl(site.url, folder, FAST)

    corpus = load_corpus(folder)
    assert corpus.problems == []
    by_id = {a.id: a for a in corpus.articles}
    assert set(by_id) == POSTS and report.as_json()["new"] == len(POSTS)
    # kept under the canonical address: the redirect's target, and /?p=42 only once, as its post
    assert by_id["buprenorphine-basics"].url == site.url + "/buprenorphine-basics.html"
    assert by_id["methadone-maintenance"].url == site.url + "/methadone-maintenance.html"
    assert sum("Methadone is a long-acting" in a.text for a in corpus.articles) == 1

    skipped = {s["url"].removeprefix(site.url): s["reason"] for s in report.as_json()["skipped"]}
    assert skipped["/private/staff-notes.html"] == "disallowed by robots.txt"
    assert skipped[offsite.url + "/elsewhere.html"].startswith("off the site")
    assert skipped["/wp-content/uploads/opium-guide.pdf"] == "not a web page (application/pdf)"
    assert skipped["/missing-post.html"] == "answered 404 Not Found"
    assert skipped["/?p=42"].startswith("the same article as")
    assert "archive pages" in skipped["/category-sitemap.xml"]
    assert report.as_json()["failed"] == [{"url": site.url + "/slow-post.html", "reason": "timed out after 0.3 s"}]

    asked = site.paths()
    assert not any(p.startswith("/private/") for p in asked) and "/category-sitemap.xml" not in asked
    assert offsite.requests == [], "an off-site address was asked for"
    assert all(
        r.headers["user-agent"].startswith("RecoveryAnswersBot/") and "webmaster@example.org" in r.headers["user-agent"]
        for r in site.requests
    )


def test_articles_are_the_main_text_with_front_matter_and_no_boilerplate(quick_site, tmp_path):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    text = (folder / "methadone-maintenance.md").read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    assert front.splitlines() == [
        "title: How Methadone Works & Helps",
        f"url: {quick_site.url}/methadone-maintenance.html",
        "id: methadone-maintenance",
        "date: '2024-02-14'",
    ]  # modified, not 2019's
    assert "## How Is Methadone Taken?" in text and "- " not in text.split("---\n", 2)[2][:3]
    for article in folder.glob("*.md"):
        body = article.read_text(encoding="utf-8")
        for junk in BOILERPLATE:
            assert junk not in body, f"{junk!r} left in {article.name}"
        assert "Opium.org" not in body.split("---\n", 2)[2]


def test_answers_cite_the_posts_canonical_addresses(quick_site, tmp_path):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    index = SearchIndex.build(load_corpus(folder), Analyzer())
    assert cited(index, "what is suboxone")[0] == quick_site.url + "/buprenorphine-basics.html"
    assert cited(index, "how is methadone taken")[0] == quick_site.url + "/methadone-maintenance.html"
    assert all(
        "?p=" not in url and "old-" not in url for q in ("methadone", "buprenorphine") for url in cited(index, q)
    )


def test_a_second_crawl_fetches_only_what_changed_and_the_answers_follow(site, tmp_path):
    folder = tmp_path / "site"
    crawl(site.url, folder, FAST)
    before = snapshot(folder)
    index = SearchIndex.build(load_corpus(folder), Analyzer())
    assert site.url + "/how-does-opium-withdrawal-treatment-work.html" in cited(
        index, "how long does opium withdrawal last"
    )
    assert not any("fentanyl" in u for u in cited(index, "what are fentanyl test strips"))

    site.change()
    since = len(site.requests)
    report = crawl(site.url, folder, FAST).as_json()
    assert (report["new"], report["changed"], report["removed"], report["unchanged"]) == (1, 1, 1, 3)
    # the edited post, the new one, the one the sitemap gives no date (asked conditionally: 304) and the one
    # that timed out last time; not the unchanged pages sitemap either
    assert pages_fetched(site, since) == {
        "/methadone-maintenance.html",
        "/fentanyl-test-strips.html",
        "/kratom-facts.html",
        "/slow-post.html",
    }
    [kratom] = [r for r in site.requests[since:] if r.path == "/kratom-facts.html"]
    assert kratom.headers.get("if-none-match") and kratom.headers.get("if-modified-since")

    after = snapshot(folder)
    assert "how-does-opium-withdrawal-treatment-work.md" not in after and "fentanyl-test-strips.md" in after
    assert after["kratom-facts.md"] == before["kratom-facts.md"]
    index = SearchIndex.build(load_corpus(folder), Analyzer())
    assert not any("withdrawal-treatment" in u for u in cited(index, "how long does opium withdrawal last"))
    assert cited(index, "what are fentanyl test strips")[0] == site.url + "/fentanyl-test-strips.html"
    saturday = Answerer(index).answer("are methadone clinics open on saturday")
    assert "Saturday mornings" in saturday.citations[0].passage

    since = len(site.requests)
    again = crawl(site.url, folder, FAST).as_json()  # nothing changed: nothing fetched but the undated and the slow
    assert (again["new"], again["changed"], again["removed"], again["unchanged"]) == (0, 0, 0, 5)
    assert pages_fetched(site, since) == {"/kratom-facts.html", "/slow-post.html"}


def test_a_page_that_answers_404_loses_its_article_and_one_that_fails_keeps_it(quick_site, tmp_path):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    before = snapshot(folder)
    quick_site.posts["kratom-facts"].status = 410  # still in the sitemap (without a date): asked again, and gone
    methadone = quick_site.posts["methadone-maintenance"]
    methadone.status, methadone.modified = 503, "2024-07-01T00:00:00+00:00"
    report = crawl(quick_site.url, folder, FAST).as_json()
    assert report["removed"] == 1 and not (folder / "kratom-facts.md").exists()
    assert {"url": quick_site.url + "/methadone-maintenance.html", "reason": "answered 503"} in report["failed"]
    assert snapshot(folder)["methadone-maintenance.md"] == before["methadone-maintenance.md"]
    methadone.status = 200  # back: fetched again, as its lastmod still differs from the one last seen
    since = len(quick_site.requests)
    report = crawl(quick_site.url, folder, FAST).as_json()
    assert (report["changed"], report["unchanged"]) == (1, 3)  # its date moved to the page's new modified time
    assert "/methadone-maintenance.html" in quick_site.paths(since)
    assert "date: '2024-07-01'" in (folder / "methadone-maintenance.md").read_text()


def test_an_unreachable_site_changes_nothing_and_says_so_in_one_line(quick_site, tmp_path, capsys):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    before = snapshot(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}"
    state = json.loads((folder / STATE_FILE).read_text())
    state["site"] = nobody  # the same folder, its site moved to where nobody listens
    (folder / STATE_FILE).write_text(json.dumps(state))
    before[STATE_FILE] = (folder / STATE_FILE).read_bytes()
    code = main(["crawl", nobody, "--corpus", str(folder), "--delay", "0"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"could not read {nobody}: could not connect" in err and "nothing changed" in err
    assert snapshot(folder) == before


def test_a_crawl_that_fails_half_way_leaves_the_corpus_as_it_was(quick_site, tmp_path):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    before = snapshot(folder)
    quick_site.change()
    quick_site.posts["naltrexone-as-an-opium-addiction-treatment"].modified = "2024-06-03T00:00:00+00:00"
    answered = []

    def down_after_one_page(path: str) -> bool:  # the first page is served, then the site goes down
        if path.endswith(".html"):
            answered.append(path)
            return len(answered) > 1
        return False

    quick_site.refuse = down_after_one_page
    with pytest.raises(CrawlError, match="stopped answering .* nothing changed"):
        crawl(quick_site.url, folder, FAST)
    assert answered[0] == "/naltrexone-as-an-opium-addiction-treatment.html"  # fetched before the site went down
    assert snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.crawl-lock", "site"], "nothing left beside it"


def test_a_sitemap_that_cannot_be_read_changes_nothing(quick_site, tmp_path):
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    before = snapshot(folder)
    quick_site.change()
    quick_site.extra["/post-sitemap.xml"] = (500, {"Content-Type": "text/html"}, b"error")
    with pytest.raises(CrawlError, match="post-sitemap.xml answered 500; nothing changed"):
        crawl(quick_site.url, folder, FAST)
    assert snapshot(folder) == before


def test_only_an_empty_folder_or_the_crawlers_own_is_crawled_into(quick_site, tmp_path):
    mine = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, mine)
    before = snapshot(mine)
    with pytest.raises(CrawlStateError, match=r"holds 6 files the crawler did not write .*--corpus DIR"):
        crawl(quick_site.url, mine, FAST)
    assert snapshot(mine) == before
    folder = tmp_path / "site"
    crawl(quick_site.url, folder, FAST)
    with pytest.raises(CrawlError, match="holds the articles of http://127.0.0.1"):
        crawl("https://www.opium.org", folder, FAST)


def test_one_crawl_of_a_folder_at_a_time(quick_site, tmp_path):
    from bot.corpus.crawl_state import locked

    with locked(tmp_path / "site"):
        with pytest.raises(CrawlStateError, match="another crawl into .* is running"):
            crawl(quick_site.url, tmp_path / "site", FAST)
    assert crawl(quick_site.url, tmp_path / "site", FAST).articles == len(POSTS)


def test_sitemaps_are_found_without_robots_txt_and_a_sitemap_can_be_named(quick_site, tmp_path):
    quick_site.robots = "User-agent: *\nDisallow: /private/\n"  # no Sitemap line
    report = crawl(quick_site.url, tmp_path / "a", FAST)
    assert quick_site.paths()[:3] == ["/robots.txt", "/wp-sitemap.xml", "/sitemap_index.xml"]
    assert report.articles == len(POSTS)

    since = len(quick_site.requests)
    named = crawl(quick_site.url + "/post-sitemap.xml", tmp_path / "b", FAST)
    assert quick_site.paths(since)[:2] == ["/robots.txt", "/post-sitemap.xml"]
    assert "/page-sitemap.xml.gz" not in quick_site.paths(since) and named.articles == len(POSTS)


def test_redirects_off_the_site_and_oversized_pages_are_skipped_with_a_reason(quick_site, offsite, tmp_path):
    quick_site.extra["/moved-away.html"] = (302, {"Location": offsite.url + "/elsewhere.html"}, b"")
    big = page_html(Post("big", "A Big Post", ["Methadone. " * 500_000]), quick_site.url, offsite.url).encode()
    quick_site.extra["/big.html"] = (200, {"Content-Type": "text/html"}, big)
    report = crawl(quick_site.url, tmp_path / "site", FAST).as_json()
    skipped = {s["url"].removeprefix(quick_site.url): s["reason"] for s in report["skipped"]}
    assert skipped["/moved-away.html"] == f"redirects off the site (to {offsite.url.split('//')[1]})"
    assert skipped["/big.html"] == "larger than 5.0 MB (5.2 MB)"
    assert offsite.requests == []


def test_two_articles_with_one_slug_get_two_ids_that_stay(quick_site, offsite, tmp_path):
    for folder in ("a", "b"):
        post = Post("dosing", f"Dosing {folder.upper()}", [f"Dosing guide {folder} for methadone patients."])
        quick_site.extra[f"/{folder}/dosing.html"] = (
            200,
            {"Content-Type": "text/html"},
            page_html(post, quick_site.url, offsite.url, f"/{folder}/dosing.html").encode(),
        )
    crawl(quick_site.url, tmp_path / "site", FAST)
    ids = {a.id: a.url for a in load_corpus(tmp_path / "site").articles}
    assert ids["dosing"] == quick_site.url + "/a/dosing.html" and ids["dosing-2"] == quick_site.url + "/b/dosing.html"
    state = read_state(tmp_path / "site")
    assert state.articles[quick_site.url + "/b/dosing.html"].id == "dosing-2"


def test_the_command_prints_one_line_or_one_json_object_and_no_progress_off_a_terminal(site, tmp_path, capsys):
    folder = tmp_path / "site"
    args = ["crawl", site.url, "--corpus", str(folder), "--delay", "0", "--timeout", "0.3"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert line.startswith(f"crawled {site.url}: 5 new, 0 changed, 0 unchanged, 0 removed, 1 failed, 7 skipped")
    assert f"failed {site.url}/slow-post.html: timed out after 0.3 s" in err.splitlines()
    assert "%|" not in err  # no progress bar: standard error is no terminal here

    assert main(args + ["--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert err == ""
    assert {"new", "changed", "unchanged", "removed", "failed", "skipped"} <= set(report)
    assert (report["new"], report["unchanged"]) == (0, 5)
    assert all(set(item) == {"url", "reason"} for item in report["failed"] + report["skipped"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["crawl"], "crawl needs the site's address"),
        (["crawl", "ftp://example.org"], "SITE is not a web address"),
        (["crawl", "https://example.org", "--delay", "-1"], "--delay must be between 0 and 60"),
        (["crawl", "https://example.org", "--max-pages", "0"], "--max-pages must be 1 or more"),
    ],
)
def test_bad_arguments_are_one_line_naming_what_is_wrong(args, message, capsys, tmp_path):
    assert main(args + ["--corpus", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_max_pages_fetches_no_more_and_keeps_what_it_did_not_fetch(quick_site, tmp_path):
    folder = tmp_path / "site"
    report = crawl(quick_site.url, folder, CrawlSettings(delay=0, timeout=0.3, max_pages=2))
    assert report.fetched == 2 and report.articles == 2
    assert sum("--max-pages 2 reached" in r for _, r in report.skipped) > 0
    full = crawl(quick_site.url, folder, FAST)
    assert full.articles == len(POSTS) and len(full.new) == len(POSTS) - 2 and full.removed == []
