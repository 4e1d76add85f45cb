"""Fetching from one site, politely: its own host only, robots.txt obeyed, a pause between requests.

Every request names the bot (and its operator's contact) in the User-Agent, waits the delay since the one
before, ends by a deadline (a page that drips its bytes is cut off too), and reads at most a set number of
bytes. Redirects are followed by hand, each hop checked: on the site, allowed by robots.txt. httpx rather
than trafilatura's downloader, which refuses private addresses (a site served on 127.0.0.1 in the tests).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from bot.corpus.site import BOT_NAME, CrawlSettings, Site

MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 500 * 1024  # what RFC 9309 asks a crawler to read at least
MAX_CRAWL_DELAY = 60.0
HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchFailed(Exception):
    """The address could not be read this time (network, timeout): what it had before is kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """The address is not fetched or not kept: off the site, disallowed, too large, not a web page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Response:
    url: str  # where the answer came from, after redirects
    status: int
    headers: httpx.Headers
    body: bytes = b""

    @property
    def validators(self) -> dict[str, str]:
        """What to send next time to be told "304 Not Modified" instead of the page again."""
        return {
            k: v
            for k, v in (("etag", self.headers.get("etag")), ("last_modified", self.headers.get("last-modified")))
            if v
        }


def _megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


class Fetcher:
    """One site's HTTP client; close() it (or use it in a with block)."""

    def __init__(self, site: Site, settings: CrawlSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.site, self.settings = site, settings
        self.delay = settings.delay
        self.requests = 0
        self._last = 0.0
        self._robots: Protego | None = None
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent},
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout),
            transport=transport,
        )

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- robots.txt -------------------------------------------------------------------------------

    def read_robots(self) -> list[str]:
        """Read robots.txt (as RFC 9309 says: a 4xx allows everything, a 5xx nothing); its Sitemap lines."""
        url = self.site.url("/robots.txt")
        try:
            response = self.get(url, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)
        except Refused:  # redirected off the site: as if there were none
            response = None
        if response is not None and 500 <= response.status:
            raise FetchFailed(f"{url} answered {response.status}: until it answers, nothing may be fetched")
        text = response.body.decode("utf-8", "replace") if response is not None and response.status == 200 else ""
        self._robots = Protego.parse(text)
        crawl_delay = self._robots.crawl_delay(BOT_NAME)
        if crawl_delay:
            self.delay = max(self.delay, min(float(crawl_delay), MAX_CRAWL_DELAY))
        return [u for u in self._robots.sitemaps]

    def allowed(self, url: str) -> bool:
        return self._robots is None or self._robots.can_fetch(url, BOT_NAME)

    # --- requests ---------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        validators: dict[str, str] | None = None,
        html_only: bool = False,
        max_bytes: int | None = None,
        check_robots: bool = True,
    ) -> Response:
        """GET, following redirects within the site. Refused: the address or a hop is not to be fetched;
        FetchFailed: it could not be read now. Any HTTP status is returned, with a body only for 200."""
        headers = {}
        if validators:
            if validators.get("etag"):
                headers["If-None-Match"] = validators["etag"]
            if validators.get("last_modified"):
                headers["If-Modified-Since"] = validators["last_modified"]
        for hop in range(MAX_REDIRECTS + 1):
            if not self.site.owns(url):
                raise Refused(
                    f"redirects off the site (to {urlsplit(url).netloc})"
                    if hop
                    else "off the site: only its own host is read"
                )
            if check_robots and not self.allowed(url):
                raise Refused("disallowed by robots.txt" + (f" (redirected to {url})" if hop else ""))
            response = self._request(url, headers, html_only, max_bytes or self.settings.max_bytes)
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return response
            url = urljoin(url, location.strip())
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: dict[str, str], html_only: bool, max_bytes: int) -> Response:
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.requests += 1
        deadline = time.monotonic() + self.settings.timeout
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                if r.status_code == 429 or (r.status_code == 503 and "retry-after" in r.headers):
                    self.delay = min(max(2 * self.delay, 1.0), MAX_CRAWL_DELAY)  # the site asks for less
                if r.status_code != 200:
                    return Response(url, r.status_code, r.headers)
                kind = r.headers.get("content-type", "").split(";")[0].strip().lower()
                if html_only and kind and kind not in HTML_TYPES:
                    raise Refused(f"not a web page ({kind})")
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise Refused(f"larger than {_megabytes(max_bytes)} ({_megabytes(int(declared))})")
                body = bytearray()
                for piece in r.iter_bytes():
                    body += piece
                    if len(body) > max_bytes:
                        raise Refused(f"larger than {_megabytes(max_bytes)}")
                    if time.monotonic() > deadline:
                        raise FetchFailed(f"timed out after {self.settings.timeout:g} s")
                return Response(url, 200, r.headers, bytes(body))
        except httpx.TimeoutException:
            raise FetchFailed(f"timed out after {self.settings.timeout:g} s") from None
        except httpx.ConnectError as e:
            raise FetchFailed(f"could not connect ({_cause(e)})") from None
        except httpx.HTTPError as e:
            raise FetchFailed(f"{type(e).__name__}: {_cause(e)}") from None
        finally:
            self._last = time.monotonic()


def _cause(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.split("] ", 1)[-1]  # "[Errno 111] Connection refused" -> "Connection refused"
