"""The site a crawl reads, and the manners it keeps there: which addresses belong to it, who is asking.

Light on purpose (the standard library only): the configuration imports it at every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import bot
from bot.errors import BotError

BOT_NAME = "RecoveryAnswersBot"  # the User-Agent's product token, matched against robots.txt groups
DEFAULT_MAX_BYTES = 5 * 2**20  # a WordPress page is 50-300 KB; more is not an article
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SITEMAP_ENDINGS = (".xml", ".xml.gz", ".txt", ".txt.gz")


class SiteError(BotError):
    """The site's address cannot be used."""


@dataclass(frozen=True)
class CrawlSettings:
    """How a crawl behaves towards the site: settings BOT_CRAWL_CONTACT and BOT_CRAWL_DELAY, options beside."""

    contact: str = ""  # how the site's owner reaches whoever runs this crawler: sent in the User-Agent
    delay: float = 1.0  # seconds between two requests (robots.txt's Crawl-delay, when longer, wins)
    timeout: float = 20.0  # seconds a request may take, from connecting to the last byte
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pages: int | None = None  # pages fetched at most in one crawl

    @property
    def user_agent(self) -> str:
        contact = f"; +{self.contact}" if self.contact else ""
        return f"{BOT_NAME}/{bot.__version__} (answers questions from this site's articles{contact})"


def site_key(url: str) -> tuple[str, int | None]:
    """What makes two addresses one site: the host without "www." and the port when not the scheme's own."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    try:
        port = parts.port
    except ValueError:
        return host, -1
    return host, None if port in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else port


@dataclass(frozen=True)
class Site:
    origin: str  # scheme://host[:port], no slash
    sitemap: str | None  # the sitemap named on the command line, if one was

    @classmethod
    def parse(cls, text: str) -> "Site":
        """https://www.opium.org, www.opium.org/ or a sitemap's address; anything else named as wrong."""
        text = text.strip()
        if "://" not in text:
            text = "https://" + text
        parts = urlsplit(text)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or site_key(text)[1] == -1:
            raise SiteError(f"not a web address like https://www.opium.org: {text!r}")
        origin = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))
        last = parts.path.rsplit("/", 1)[-1].lower()
        is_sitemap = last.endswith(_SITEMAP_ENDINGS) or "sitemap" in last
        return cls(origin, text if is_sitemap else None)

    @property
    def key(self) -> tuple[str, int | None]:
        return site_key(self.origin)

    def owns(self, url: str) -> bool:
        """Whether the address is on this site (http or https, with or without www.): the only ones fetched."""
        return urlsplit(url).scheme.lower() in _DEFAULT_PORTS and site_key(url) == self.key

    def url(self, path: str) -> str:
        return self.origin + path
