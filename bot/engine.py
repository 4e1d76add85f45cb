"""Getting a ready Answerer for a run: open the index, building it first when it is missing or stale.

Shared by the CLI and the Telegram bot, so both follow one rule: a named index is used as it is (the
user is told if its corpus changed), a corpus is indexed when its index does not match it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Callable


from bot.search.analysis import Analyzer
from bot.answering.answer import Answerer
from bot.config import Config, ConfigError
from bot.corpus.articles import corpus_fingerprint
from bot.search.index import BuildReport, IndexLoadError, SearchIndex, build_index, current_build_name, stale_reason
from bot.safety import SafetyRules, Triager, read_rules, shipped_model
from bot.search import encoder, semantic
from bot.search.encoder import shipped_encoder
from bot.text import english, jsoncache, yamlfile


def make_analyzer(config: Config) -> Analyzer:
    try:
        return Analyzer(config.analyzer, config.synonyms_file)
    except (OSError, ValueError) as e:
        raise ConfigError(f"BOT_SYNONYMS: {e}") from None


def report_build(report: BuildReport, say: Callable[[str], None]) -> None:
    """The build's one-line summary (each skipped article was said while it was built)."""
    say(report.summary())


def build(
    config: Config, corpus: Path, index: Path, analyzer: Analyzer, say: Callable[[str], None], progress=None
) -> tuple[SearchIndex, BuildReport]:
    return build_index(
        corpus,
        index,
        analyzer,
        config.index_settings,
        say=say,
        wait_seconds=config.build_wait_seconds,
        progress=progress,
    )


def load(index: Path, analyzer: Analyzer, say: Callable[[str], None]) -> SearchIndex:
    loaded = SearchIndex.load(index, analyzer, background=True)  # verified() before open_answerer returns
    if not loaded.checksums:
        say(
            f"note: {index} was built before indexes had checksums, so damage inside its files cannot be "
            f"noticed; rebuild it with: python -m bot index --index {index}"
        )
    return loaded


def open_answerer(
    config: Config, corpus: Path | None = None, index: Path | None = None, say: Callable[[str], None] = lambda _: None
) -> Answerer:
    """`index` alone: load it. `corpus` alone: an index cached for it. Neither: the configured pair."""
    jsoncache.cache_in(config.cache_dir)  # the word lists' values and the crisis phrases' patterns, kept there
    analyzer = make_analyzer(config)
    english.cache_in(config.cache_dir)  # wordfreq's words kept sorted there: a start need not read the list
    encoder.cache_in(config.cache_dir)  # the sentence encoder's matrices, transposed once, kept there

    def answerer(search_index: SearchIndex, before_check: Callable[[], None] = lambda: None) -> Answerer:
        # the crisis triage is built while the index's sha256 are checked on a second thread; no Answerer
        # is handed out before every file matched
        try:
            triage = safety_rules(config)
        finally:
            before_check()
        verified = search_index.verified()
        return Answerer(verified, config.answer, triage, chunk_vectors(config, verified, say))

    if index is not None and corpus is None:
        loaded = load(index, analyzer, say)
        recorded = loaded.manifest.get("corpus", {})
        path = recorded.get("path")
        # hashed on a third thread while the triage is built (50 MB at 100,000 chunks), said where it was said
        changed = _Background(
            lambda: bool(path and Path(path).exists() and corpus_fingerprint(Path(path)) != recorded.get("fingerprint"))
        )

        def note() -> None:
            if changed.result():
                say(
                    f"note: {path} changed since this index was built; rebuild with: python -m bot index "
                    f"--corpus {path} --index {index}"
                )

        return answerer(loaded, note)
    if corpus is not None and index is None:
        # one cached index per corpus and settings, so comparing settings does not rebuild back and forth
        identity = json.dumps(
            [str(corpus.resolve()), analyzer.fingerprint, config.index_settings.as_dict()], sort_keys=True
        )
        key = hashlib.sha256(identity.encode()).hexdigest()[:16]
        index = config.cache_dir / "indexes" / key
    corpus = corpus if corpus is not None else config.corpus
    index = index if index is not None else config.index
    if not corpus.exists():
        if current_build_name(index) is not None:  # an index shipped without its articles: use it as it is
            return answerer(load(index, analyzer, say))
        raise IndexLoadError(f"corpus not found: {corpus}")
    reason = stale_reason(index, corpus, analyzer, config.index_settings)
    if reason is None:
        try:
            return answerer(SearchIndex.load(index, analyzer, background=True))
        except IndexLoadError as e:
            reason = str(e)
    say(f"building the index in {index} from {corpus} ({reason})")
    built, report = build(config, corpus, index, analyzer, say)
    report_build(report, say)
    return answerer(built)


class _Background:
    """A call run on its own thread (hashlib lets go of the interpreter); result() waits for it, its
    exception raised there as if it had been called then."""

    def __init__(self, call: Callable[[], bool]) -> None:
        self._value: bool = False
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as e:  # noqa: BLE001 (raised again by result(), in the caller's thread)
                self._error = e

        self._thread = threading.Thread(target=run, name="corpus-sha256", daemon=True)
        self._thread.start()

    def result(self) -> bool:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def chunk_vectors(config: Config, index: SearchIndex, say: Callable[[str], None] = lambda _: None):
    """The index's chunk vectors when semantic reranking is on for it (BOT_SEMANTIC), else None; the
    encoder's 90 MB are read only then."""
    if not semantic.wanted(config.semantic, index.chunk_count):
        return None
    return semantic.vectors_for(index, config.cache_dir, shipped_encoder(), say)


def safety_phrases(config: Config) -> SafetyRules:
    """The configured crisis phrases; a bad file is a setting error naming BOT_SAFETY_RULES."""
    try:
        return read_rules(str(config.safety_rules) if config.safety_rules else None)
    except (OSError, ValueError, yamlfile.error()) as e:
        raise ConfigError(f"BOT_SAFETY_RULES: {config.safety_rules}: {e}") from None


def safety_rules(config: Config) -> Triager:
    phrases = safety_phrases(config)
    try:
        model = shipped_model()
    except (OSError, ValueError, KeyError) as e:
        raise IndexLoadError(
            f"the crisis model in bot/data/safety_model cannot be read ({e}); "
            "reinstall the package or run: python -m bot train-safety"
        ) from None
    return Triager(phrases, model)
