"""A WordPress-like site on 127.0.0.1 for the crawler's tests, changeable while it runs.

Yoast-style sitemap index with lastmod (a plain posts sitemap, a gzipped pages sitemap, a category one),
robots.txt with a Disallow, posts wrapped in a theme's navigation, sidebar, call-now banners, related posts,
comment form and footer, with ETag and Last-Modified answered by 304. Also: a redirect, a 404, a PDF, a slow
page, a second address of one post (?p=42) and a link and a sitemap entry on another site. Every request is
logged with its headers.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

BOILERPLATE = (
    "Call now",
    "Who Answers",
    "Recent Posts",
    "All rights reserved",
    "Leave a Reply",
    "Treatment Options",
    "Related Articles",
    "Staff Writer",
    "free, confidential consultation",
)


@dataclass
class Post:
    slug: str
    title: str
    paragraphs: list[str]
    modified: str = "2024-02-14T09:30:00+00:00"
    published: str = "2019-03-01T10:00:00+00:00"
    lastmod: bool = True  # listed in the sitemap with its lastmod
    listed: bool = True  # in the sitemap at all
    status: int = 200

    @property
    def path(self) -> str:
        return f"/{self.slug}.html"


def default_posts() -> dict[str, Post]:
    posts = [
        Post(
            "naltrexone-as-an-opium-addiction-treatment",
            "Naltrexone as an Opium Addiction Treatment",
            [
                "Naltrexone is a medication that blocks the effects of opioids such as opium, heroin and morphine.",
                "## How Does Naltrexone Work to Treat Opium Addiction?",
                "Naltrexone cannot be taken while a person is still in detoxification, because it triggers a "
                "withdrawal reaction in anyone who is dependent on opioids. It is started seven to ten days after "
                "the last dose.",
            ],
        ),
        Post(
            "methadone-maintenance",
            "How Methadone Works & Helps",
            [
                "Methadone is a long-acting opioid agonist used for decades to treat opioid addiction. Taken once a "
                "day, it prevents withdrawal symptoms and reduces cravings.",
                "## How Is Methadone Taken?",
                "Patients visit a licensed opioid treatment program every morning, where a nurse gives a measured "
                "liquid dose. After months of stable attendance some patients earn take-home doses.",
                '<p>Read more on <a href="{offsite}/elsewhere.html">another site</a>.</p>',
            ],
        ),
        Post(
            "how-does-opium-withdrawal-treatment-work",
            "How Does Opium Withdrawal Treatment Work?",
            [
                "Opium withdrawal symptoms begin within twelve hours of the last dose and usually last five to seven "
                "days: aching muscles, sweating, diarrhoea and strong cravings.",
                "## What Happens in a Detox Program?",
                "In a supervised detox program, doctors ease the symptoms with medications such as clonidine.",
            ],
        ),
        Post(
            "buprenorphine-basics",
            "Buprenorphine Basics",
            [
                "Buprenorphine is a partial opioid agonist: it eases withdrawal and cravings with a ceiling on its "
                "effects, which makes an overdose less likely than with full agonists.",
                "## What Is Suboxone?",
                "Suboxone combines buprenorphine with naloxone to discourage injecting it.",
            ],
            listed=False,
        ),
        Post(
            "kratom-facts",
            "Kratom Facts",
            [
                "Kratom is a plant from Southeast Asia whose leaves act on the same receptors as opioids; it is not "
                "an approved treatment for opioid withdrawal."
            ],
            lastmod=False,
        ),
        Post("staff-notes", "Staff Notes", ["Internal notes that robots.txt keeps out."]),
    ]
    return {p.slug: p for p in posts}


def page_html(post: Post, base: str, offsite: str, canonical_path: str | None = None) -> str:
    body = "\n".join(
        p.format(offsite=offsite)
        if p.startswith("<")
        else f"<h2>{html.escape(p[3:])}</h2>"
        if p.startswith("## ")
        else f"<p>{html.escape(p)}</p>"
        for p in post.paragraphs
    )
    title = html.escape(post.title)
    canonical = base + (canonical_path or post.path)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{title} | Opium.org</title>
<link rel="canonical" href="{canonical}">
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<meta property="og:site_name" content="Opium.org">
<meta property="article:published_time" content="{post.published}">
<meta property="article:modified_time" content="{post.modified}">
</head><body class="post-template-default single single-post">
<div class="top-bar call-now-banner"><a href="tel:8777430081">Call now: 877-743-0081 (Who Answers?)</a>
Treatment specialists are standing by 24/7.</div>
<header id="masthead" class="site-header"><div class="site-branding"><a href="/">Opium.org</a></div>
<nav id="site-navigation" class="main-navigation"><ul><li><a href="/">Home</a></li>
<li><a href="/opium-drug-facts.html">Drug Facts</a></li><li><a href="/treatment/">Treatment Options</a></li>
<li><a href="/contact/">Contact Us</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main" class="site-main">
<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<div class="entry-meta">Posted on <time datetime="{post.published}">{post.published[:10]}</time> by
<span class="author">Staff Writer</span></div></header>
<div class="entry-content">
{body}
<div class="cta-box wp-block-button"><a href="tel:8777430081">Ready to get help? Call now: 877-743-0081 (Who Answers?)</a></div>
</div>
<footer class="entry-footer">Categories: <a href="/category/treatment/">Treatment</a></footer>
</article>
<div class="related-posts"><h3>Related Articles</h3><ul><li><a href="/ways.html">Ways that you Sabotage your
Recovery from Heroin Addiction</a> - Recovery from heroin addiction is hard and ...</li></ul></div>
<div id="comments" class="comments-area"><h2>Leave a Reply</h2><form><textarea></textarea></form></div>
</main>
<aside id="secondary" class="widget-area sidebar"><section class="widget"><h2 class="widget-title">Recent Posts</h2>
<ul><li><a href="/kratom-facts.html">Kratom Facts</a></li></ul></section>
<section class="widget widget_text"><div class="textwidget">Call now for a free, confidential consultation:
1-877-743-0081.</div></section></aside></div>
<footer id="colophon" class="site-footer"><div class="site-info">&copy; 2024 Opium.org. All rights reserved.
Privacy Policy.</div></footer>
</body></html>"""


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (the slow page's timeout) or a dropped connection: expected here


class WordPressSite:
    """with WordPressSite() as site: ... site.url, site.posts (change them), site.requests, site.paths()."""

    def __init__(self, offsite: str = "http://127.0.0.1:9") -> None:
        self.posts = default_posts()
        self.offsite = offsite
        self.slow_seconds = 1.0
        self.slow = True  # /slow-post.html is listed (every crawl then waits its timeout for it)
        self.requests: list[Request] = []
        self.refuse = lambda path: False  # True: the connection is dropped unanswered (the site is down)
        self.extra: dict[str, tuple[int, dict[str, str], bytes]] = {}  # more routes, listed in the posts sitemap
        self.robots = (
            "User-agent: *\nDisallow: /private/\nDisallow: /wp-admin/\n"
            "Allow: /wp-admin/admin-ajax.php\n\nSitemap: {base}/sitemap_index.xml\n"
        )
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "WordPressSite":
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()

    def change(self) -> None:
        """One post edited, one removed (from the sitemap, and 404), one added."""
        methadone = self.posts["methadone-maintenance"]
        methadone.paragraphs.append("Most methadone clinics are also open on Saturday mornings for dosing.")
        methadone.modified = "2024-06-01T08:00:00+00:00"
        withdrawal = self.posts["how-does-opium-withdrawal-treatment-work"]
        withdrawal.listed, withdrawal.status = False, 404
        self.posts["fentanyl-test-strips"] = Post(
            "fentanyl-test-strips",
            "Fentanyl Test Strips",
            ["Fentanyl test strips show whether a drug has been mixed with fentanyl before it is used."],
            modified="2024-06-02T08:00:00+00:00",
        )

    def paths(self, since: int = 0) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests[since:]]

    # --- what the site serves -------------------------------------------------------------------

    def _post_sitemap(self) -> str:
        entries = []
        for post in self.posts.values():
            if not post.listed:
                continue
            path = "/private/staff-notes.html" if post.slug == "staff-notes" else post.path
            lastmod = f"<lastmod>{post.modified}</lastmod>" if post.lastmod else ""
            entries.append(f"<url><loc>{self.url}{path}</loc>{lastmod}</url>")
        for path in ("/old-buprenorphine-guide.html", "/missing-post.html", "/slow-post.html", "/?p=42"):
            if path == "/slow-post.html" and not self.slow:
                continue
            entries.append(
                f"<url><loc>{escape(self.url + path)}</loc><lastmod>2023-05-01T00:00:00+00:00</lastmod></url>"
            )
        entries.append(f"<url><loc>{self.offsite}/elsewhere.html</loc></url>")
        entries += [f"<url><loc>{escape(self.url + path)}</loc></url>" for path in self.extra]
        return (
            '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(entries) + "</urlset>"
        )

    def _page_sitemap(self) -> bytes:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{self.url}/</loc><lastmod>2024-01-01</lastmod></url>"
            f"<url><loc>{self.url}/wp-content/uploads/opium-guide.pdf</loc><lastmod>2022-01-01</lastmod></url>"
            "</urlset>"
        )
        return gzip.compress(xml.encode(), mtime=0)

    def _index(self) -> str:
        newest = max(p.modified for p in self.posts.values())
        children = [
            ("post-sitemap.xml", newest),
            ("page-sitemap.xml.gz", "2024-01-01T00:00:00+00:00"),
            ("category-sitemap.xml", newest),
        ]
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(
                f"<sitemap><loc>{self.url}/{name}</loc><lastmod>{lastmod}</lastmod></sitemap>"
                for name, lastmod in children
            )
            + "</sitemapindex>"
        )

    def route(self, path: str) -> tuple[int, dict[str, str], bytes, str | None]:
        """(status, headers, body, modified) for a path."""
        xml = {"Content-Type": "application/xml; charset=UTF-8"}
        if path in self.extra:
            return (*self.extra[path], None)
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self.robots.format(base=self.url).encode(), None
        if path == "/sitemap_index.xml":
            return 200, xml, self._index().encode(), None
        if path == "/post-sitemap.xml":
            return 200, xml, self._post_sitemap().encode(), None
        if path == "/page-sitemap.xml.gz":
            return 200, {"Content-Type": "application/x-gzip"}, self._page_sitemap(), None
        if path == "/category-sitemap.xml":
            return 200, xml, b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>', None
        if path == "/old-buprenorphine-guide.html":
            return 301, {"Location": "/buprenorphine-basics.html"}, b"", None
        if path == "/wp-content/uploads/opium-guide.pdf":
            return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 " + b"0" * 2000, None
        if path == "/slow-post.html":
            time.sleep(self.slow_seconds)
            return 200, {"Content-Type": "text/html"}, b"<html><title>Slow</title><p>Late.</p></html>", None
        if path == "/":
            return 200, {"Content-Type": "text/html"}, b"<html><title>Opium.org</title><p>Latest posts</p></html>", None
        post = None
        if path == "/?p=42":
            post, canonical = self.posts.get("methadone-maintenance"), "/methadone-maintenance.html"
        else:
            slug = path.removeprefix("/private/").removeprefix("/").removesuffix(".html")
            post, canonical = self.posts.get(slug), None
        if post is None or post.status == 404:
            return 404, {"Content-Type": "text/html"}, b"<html><title>Page not found</title></html>", None
        if post.status != 200:
            return post.status, {"Content-Type": "text/html"}, b"error", None
        page = page_html(post, self.url, self.offsite, canonical).encode()
        return 200, {"Content-Type": "text/html; charset=UTF-8"}, page, post.modified

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
                if site.refuse(self.path):
                    self.close_connection = True
                    return
                status, headers, body, modified = site.route(self.path)
                if status == 200 and "text/html" in headers.get("Content-Type", "") or self.path.endswith(".xml"):
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    headers = {**headers, "ETag": etag}
                    if modified:
                        when = datetime.fromisoformat(modified).astimezone(timezone.utc)
                        headers["Last-Modified"] = format_datetime(when, usegmt=True)
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


class OffSite:
    """Another site on 127.0.0.1 (another port): the crawler must never ask it anything."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><title>Elsewhere</title><p>Another site.</p></html>")

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "OffSite":
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()
