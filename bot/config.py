"""One frozen configuration, from the environment and an optional .env file; bad settings fail at start.

Every setting is listed in SETTINGS with its default and meaning: the README's table and .env.example
are checked against it by the tests, so the three never drift apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from bot.errors import BotError
from bot.answering.answer import AnswerSettings
from bot.answering.contacts import DEFAULT_DISCLAIMER, Contacts, Helpline
from bot.corpus.site import CrawlSettings, Site, SiteError
from bot.search.analysis import STEMMERS, AnalyzerSettings
from bot.search.bm25 import BM25Params
from bot.search.chunking import ChunkSettings
from bot.search.index import IndexSettings


class ConfigError(BotError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SEMANTIC_MODES = ("auto", "on", "off")  # bot.search.semantic.wanted() reads them
MAX_TOP_K = 50  # tools ranking ten articles need more than ten passages (at most two per article)

SETTINGS = (
    Setting("BOT_CORPUS", "corpus", "folder or file of articles (Markdown, HTML, JSONL)"),
    Setting("BOT_INDEX", "index", "folder where the built index lives"),
    Setting(
        "BOT_CACHE_DIR",
        "~/.cache/recovery-answers-bot",
        "where `ask --corpus PATH` keeps the index it builds, and, for a fast start, wordfreq's English words "
        "and the parsed word lists",
    ),
    Setting("BOT_TOP_K", "3", f"passages in one answer (1-{MAX_TOP_K})"),
    Setting("BOT_MIN_COVERAGE", "0.35", "share of a question's weight a passage must match to be an answer (0-1)"),
    Setting(
        "BOT_MIN_KEYNESS",
        "0.5",
        "how topical a word a passage matches must be: log10 of how much more "
        "common in the articles than in English (-3 to 3)",
    ),
    Setting("BOT_MIN_SCORE", "0.0", "BM25 score a passage must exceed to be an answer"),
    Setting("BOT_DISCLAIMER", DEFAULT_DISCLAIMER, "shown under every reply"),
    Setting("BOT_HELPLINE_NAME", Helpline.name, "helpline shown on every reply"),
    Setting("BOT_HELPLINE_NUMBER", Helpline.number, "its phone number"),
    Setting("BOT_HELPLINE_HOURS", Helpline.hours, "when and how it answers"),
    Setting("BOT_HELPLINE_TEXT", Helpline.text, "its text-message option (empty for none)"),
    Setting("BOT_EMERGENCY_NUMBER", Contacts.emergency_number, "emergency number given in every emergency reply"),
    Setting("BOT_CRISIS_LINE_NAME", Contacts.crisis_line, "crisis line given in every emergency reply"),
    Setting("BOT_CRISIS_LINE_CONTACT", Contacts.crisis_contact, "how to reach it"),
    Setting("BOT_SYNONYMS", "", "your own synonyms (a copy of bot/data/synonyms.yaml); empty: the shipped ones"),
    Setting(
        "BOT_SAFETY_RULES",
        "",
        "your own crisis-triage phrases (a copy of bot/data/safety.yaml); empty: the shipped ones",
    ),
    Setting("BOT_STEMMER", "snowball", f"analyzer stemmer: {', '.join(STEMMERS)} (changing it needs a rebuild)"),
    Setting("BOT_CHUNK_CHARS", str(ChunkSettings.target_chars), "target chunk size in characters"),
    Setting("BOT_BM25_K1", str(BM25Params.k1), "BM25 k1"),
    Setting("BOT_BM25_B", str(BM25Params.b), "BM25 b"),
    Setting("BOT_BM25_EPSILON", str(BM25Params.epsilon), "BM25Okapi idf floor, as a share of the mean idf"),
    Setting("BOT_BM25_IDF", BM25Params.idf, "BM25 idf: okapi (rank_bm25's) or lucene (never negative)"),
    Setting(
        "BOT_DATABASE",
        "state/bot.sqlite3",
        "SQLite database of the helpful / not helpful counts and the "
        "button key (no ids, no text); several bot processes may share it",
    ),
    Setting(
        "BOT_FEEDBACK_FILE",
        "feedback.json",
        "the JSON counts of earlier versions: moved into BOT_DATABASE once, then renamed feedback.json.migrated",
    ),
    Setting(
        "BOT_CHAT_LIMIT",
        "5",
        "messages one chat may have waiting or being answered at once; past it the "
        "chat is asked to wait (answered one at a time, so one chat never delays the others)",
    ),
    Setting(
        "BOT_CHAT_PER_MINUTE", "20", "messages one chat may have answered a minute; past it the chat is asked to wait"
    ),
    Setting("BOT_MESSAGES_PER_SECOND", "30", "messages the bot sends a second at most (Telegram's limit is 30)"),
    Setting(
        "BOT_RELOAD_SECONDS",
        "5",
        "how often `run` checks index/ for a rebuilt index to swap in (0: never; SIGHUP always)",
    ),
    Setting(
        "BOT_BUILD_WAIT_SECONDS",
        "600",
        "how long a build waits for another build of the same index folder "
        "to finish before giving up (0: give up at once)",
    ),
    Setting(
        "BOT_SITE",
        "",
        "your site's address, or its sitemap's: `run` crawls it into BOT_CORPUS (first when "
        "BOT_CORPUS was never crawled, then every BOT_CRAWL_HOURS); empty: no crawling",
    ),
    Setting("BOT_CRAWL_HOURS", "24", "hours between two crawls of BOT_SITE while `run` runs (0: only the first)"),
    Setting(
        "BOT_CRAWL_DELAY",
        "1",
        "seconds between two requests to the site while crawling (robots.txt's Crawl-delay, when longer, wins)",
    ),
    Setting(
        "BOT_CRAWL_CONTACT",
        "",
        "how the site's owner can reach you (an email or a web address), sent in the crawler's User-Agent",
    ),
    Setting(
        "BOT_SEMANTIC",
        "auto",
        "rerank BM25's candidates by meaning with a sentence encoder: on, off, or auto (on up to "
        "2,000 chunks; each chunk is encoded once, 0.1-0.4 s, and kept)",
    ),
    Setting("BOT_LOG_LEVEL", "INFO", "log level of `run` (DEBUG, INFO, WARNING, ERROR)"),
    Setting("TELEGRAM_BOT_TOKEN", "", "the bot's token from @BotFather (required for `run`)"),
    Setting(
        "TELEGRAM_API_BASE_URL",
        "https://api.telegram.org/bot",
        "Bot API base URL, the token is appended (a self-hosted server: http://127.0.0.1:8081/bot)",
    ),
    Setting("TELEGRAM_WEBHOOK_URL", "", "public HTTPS URL Telegram posts updates to (`run --webhook`)"),
    Setting("TELEGRAM_WEBHOOK_SECRET", "", "secret every webhook request must carry (1-256 of A-Z a-z 0-9 _ -)"),
    Setting("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1", "address the webhook server listens on"),
    Setting("TELEGRAM_WEBHOOK_PORT", "8443", "port the webhook server listens on"),
    Setting("TELEGRAM_WEBHOOK_PATH", "telegram", "URL path the webhook server answers on"),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}


_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(default="", repr=False)  # never printed, never logged
    api_base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in the environment or in .env"
            )
        if not _TOKEN_RE.match(self.token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then "
                "30 or more letters, digits, _ or -)"
            )
        return self.token

    def require_webhook(self) -> None:
        if not self.webhook_url.startswith(("https://", "http://")):
            raise ConfigError("TELEGRAM_WEBHOOK_URL must be set to the public URL of the webhook for --webhook")
        if not _SECRET_RE.match(self.webhook_secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be set for --webhook: 1 to 256 characters of A-Z, a-z, 0-9, _ and -"
            )


@dataclass(frozen=True)
class Config:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    cache_dir: Path = Path("~/.cache/recovery-answers-bot").expanduser()
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    index_settings: IndexSettings = field(default_factory=IndexSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    feedback_file: Path = Path("feedback.json")
    database: Path = Path("state/bot.sqlite3")
    chat_limit: int = 5
    chat_per_minute: int = 20
    log_level: str = "INFO"
    reload_seconds: float = 5.0
    build_wait_seconds: float = 600.0
    messages_per_second: float = 30.0
    safety_rules: Path | None = None
    synonyms_file: Path | None = None
    site: str = ""
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    crawl_hours: float = 24.0
    semantic: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = None) -> "Config":
        """Settings from `environ` (default os.environ) over those in `env_file` (default ./.env if present)."""
        environ = os.environ if environ is None else environ
        if env_file is None:
            env_file = environ.get("BOT_ENV_FILE") or ".env"
            required = "BOT_ENV_FILE" in environ
        else:
            required = True
        values: dict[str, str] = {}
        path = Path(env_file)
        if path.is_file():
            from dotenv import dotenv_values  # only for a settings file: a start without one skips it

            values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        elif required and str(env_file) != os.devnull:
            raise ConfigError(f"settings file not found: {env_file}")
        values.update({k: v for k, v in environ.items() if k in DEFAULTS})
        get = lambda name: values.get(name, DEFAULTS[name]).strip()  # noqa: E731

        helpline = Helpline(
            _text(get, "BOT_HELPLINE_NAME"),
            _text(get, "BOT_HELPLINE_NUMBER"),
            get("BOT_HELPLINE_HOURS"),
            get("BOT_HELPLINE_TEXT"),
        )
        contacts = Contacts(
            helpline,
            _text(get, "BOT_EMERGENCY_NUMBER"),
            _text(get, "BOT_CRISIS_LINE_NAME"),
            _text(get, "BOT_CRISIS_LINE_CONTACT"),
            _text(get, "BOT_DISCLAIMER"),
        )
        answer = AnswerSettings(
            top_k=_number(get, "BOT_TOP_K", int, 1, MAX_TOP_K),
            min_coverage=_number(get, "BOT_MIN_COVERAGE", float, 0.0, 1.0),
            min_keyness=_number(get, "BOT_MIN_KEYNESS", float, -3.0, 3.0),
            min_score=_number(get, "BOT_MIN_SCORE", float, 0.0, 1000.0),
            contacts=contacts,
        )
        synonyms = get("BOT_SYNONYMS")
        if synonyms and not Path(synonyms).expanduser().is_file():
            raise ConfigError(f"BOT_SYNONYMS names a file that does not exist: {synonyms}")
        safety_rules = get("BOT_SAFETY_RULES")
        if safety_rules and not Path(safety_rules).expanduser().is_file():
            raise ConfigError(f"BOT_SAFETY_RULES names a file that does not exist: {safety_rules}")
        stemmer = get("BOT_STEMMER")
        if stemmer not in STEMMERS:
            raise ConfigError(f"BOT_STEMMER must be one of {', '.join(STEMMERS)}, got {stemmer!r}")
        bm25 = BM25Params(
            _number(get, "BOT_BM25_K1", float, 0.0, 10.0),
            _number(get, "BOT_BM25_B", float, 0.0, 1.0),
            _number(get, "BOT_BM25_EPSILON", float, 0.0, 10.0),
            _bm25_idf(get("BOT_BM25_IDF")),
        )
        chunking = ChunkSettings(target_chars=_number(get, "BOT_CHUNK_CHARS", int, 100, 10_000))
        base_url = get("TELEGRAM_API_BASE_URL")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"TELEGRAM_API_BASE_URL must start with http:// or https://, got {base_url!r}")
        telegram = TelegramSettings(
            token=get("TELEGRAM_BOT_TOKEN"),
            api_base_url=base_url,
            webhook_url=get("TELEGRAM_WEBHOOK_URL"),
            webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
            webhook_listen=_text(get, "TELEGRAM_WEBHOOK_LISTEN"),
            webhook_port=_number(get, "TELEGRAM_WEBHOOK_PORT", int, 1, 65535),
            webhook_path=get("TELEGRAM_WEBHOOK_PATH").strip("/"),
        )
        reload_seconds = _number(get, "BOT_RELOAD_SECONDS", float, 0.0, 3600.0)
        build_wait_seconds = _number(get, "BOT_BUILD_WAIT_SECONDS", float, 0.0, 86_400.0)
        messages_per_second = _number(get, "BOT_MESSAGES_PER_SECOND", float, 0.1, 100_000.0)
        database = _text(get, "BOT_DATABASE")
        site = get("BOT_SITE")
        if site:
            try:
                Site.parse(site)
            except SiteError as e:
                raise ConfigError(f"BOT_SITE is {e}") from None
        crawl = CrawlSettings(contact=get("BOT_CRAWL_CONTACT"), delay=_number(get, "BOT_CRAWL_DELAY", float, 0.0, 60.0))
        semantic = get("BOT_SEMANTIC").strip().lower()
        if semantic not in SEMANTIC_MODES:
            raise ConfigError(f"BOT_SEMANTIC must be one of {', '.join(SEMANTIC_MODES)}, got {semantic!r}")
        log_level = get("BOT_LOG_LEVEL").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"BOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
        return cls(
            corpus=Path(get("BOT_CORPUS")).expanduser(),
            index=Path(get("BOT_INDEX")).expanduser(),
            cache_dir=Path(get("BOT_CACHE_DIR")).expanduser(),
            answer=answer,
            analyzer=AnalyzerSettings(stemmer=stemmer),
            index_settings=IndexSettings(chunking, bm25),
            telegram=telegram,
            feedback_file=Path(get("BOT_FEEDBACK_FILE")).expanduser(),
            database=Path(database).expanduser(),
            chat_limit=_number(get, "BOT_CHAT_LIMIT", int, 1, 10_000),
            chat_per_minute=_number(get, "BOT_CHAT_PER_MINUTE", int, 1, 100_000),
            log_level=log_level,
            reload_seconds=reload_seconds,
            build_wait_seconds=build_wait_seconds,
            messages_per_second=messages_per_second,
            safety_rules=Path(safety_rules).expanduser() if safety_rules else None,
            synonyms_file=Path(synonyms).expanduser() if synonyms else None,
            site=site,
            crawl=crawl,
            crawl_hours=_number(get, "BOT_CRAWL_HOURS", float, 0.0, 8760.0),
            semantic=semantic,
        )


def _text(get: Callable[[str], str], name: str) -> str:
    value = get(name)
    if not value:
        raise ConfigError(f"{name} must not be empty")
    return value


def _number(get: Callable[[str], str], name: str, kind: type, low: float, high: float):
    raw = get(name)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _bm25_idf(value: str) -> str:
    value = value.strip().lower()
    if value not in ("okapi", "lucene"):
        raise ConfigError(f"BOT_BM25_IDF must be okapi or lucene, got {value!r}")
    return value
