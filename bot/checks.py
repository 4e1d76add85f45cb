"""`python -m bot check`: is this deployment ready to serve? One line a point, exit 0 only when all hold.

Each point is what a running bot would trip over first: a token the Bot API refuses, an index that does not
load or does not match its checksums, a state database it cannot write, the operator's site (BOT_SITE) out
of reach.
Nothing here prints the token: the Bot API is asked with it, and only the answer's status is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from bot.config import Config
from bot.errors import BotError

TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"

    def to_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def check_token(config: Config, client: httpx.Client) -> Check:
    try:
        token = config.telegram.require_token()
    except BotError as e:
        return Check("token", False, str(e))
    base = config.telegram.api_base_url
    host = httpx.URL(base).host or base
    try:
        response = client.get(f"{base}{token}/getMe")
    except httpx.HTTPError as e:
        return Check("token", False, f"the Bot API at {host} cannot be reached ({type(e).__name__})")
    if response.status_code in (401, 404):
        return Check(
            "token",
            False,
            f"the Bot API at {host} refuses the token ({response.status_code}): "
            "get a new one from @BotFather and set TELEGRAM_BOT_TOKEN",
        )
    if response.status_code != 200:
        return Check("token", False, f"the Bot API at {host} answered {response.status_code}")
    try:
        name = response.json()["result"]["username"]
    except (ValueError, KeyError, TypeError):
        return Check("token", False, f"the Bot API at {host} gave an answer that is not a bot's")
    return Check("token", True, f"accepted by the Bot API at {host} (@{name})")


def check_index(config: Config) -> Check:
    from bot.engine import make_analyzer
    from bot.search.index import SearchIndex

    try:
        index = SearchIndex.load(config.index, make_analyzer(config))
    except (BotError, OSError, ValueError) as e:
        said = str(e)
        return Check("index", False, said if str(config.index) in said else f"{config.index}: {said}")
    sealed = "checksums match" if index.checksums else "loads, but has no checksums (rebuild: python -m bot index)"
    return Check(
        "index",
        index.checksums,
        f"{config.index}: {len(index.articles)} articles, {index.chunk_count} passages, {sealed}",
    )


def check_database(config: Config) -> Check:
    from bot.state.database import Database

    path = Path(config.database)
    try:
        database = Database(path)
        with database.transaction() as conn:  # takes the write lock, writes nothing
            conn.execute("SELECT 1")
    except (BotError, OSError) as e:
        return Check("database", False, f"{path}: {e}")
    except Exception as e:  # sqlite3 errors of every kind: one line, never a traceback
        return Check("database", False, f"{path}: cannot be written ({type(e).__name__}: {e})")
    return Check("database", True, f"{path}: writable")


def check_site(config: Config, client: httpx.Client) -> Check:
    """The site answers its robots.txt (or its sitemap) over the network, as the crawler will ask it."""
    from bot.corpus.site import Site, SiteError

    try:
        site = Site.parse(config.site)
    except SiteError as e:
        return Check("site", False, f"BOT_SITE is {e}")
    url = site.sitemap or site.url("/robots.txt")
    try:
        response = client.get(url, headers={"User-Agent": config.crawl.user_agent})
    except httpx.HTTPError as e:
        return Check("site", False, f"{url} cannot be reached ({type(e).__name__})")
    if response.status_code >= 500:
        return Check("site", False, f"{url} answered {response.status_code}")
    return Check("site", True, f"{url} answered {response.status_code}")


def run_checks(
    config: Config, client: httpx.Client | None = None, extra: tuple[Callable[[Config, httpx.Client], Check], ...] = ()
) -> list[Check]:
    own = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        checks = [check_token(config, own), check_index(config), check_database(config)]
        if config.site:
            checks.append(check_site(config, own))
        checks += [point(config, own) for point in extra]
    finally:
        if client is None:
            own.close()
    return checks
