"""An index's manifest: the format it was written in, the files it holds, the settings it was built with,
and whether a saved build still fits this bot and its corpus.

Apart from bot/search/index.py (the index itself: built, searched, saved, loaded) so that what a build
records, and the checks made on it before any array is read, are in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.corpus.articles import corpus_fingerprint
from bot.search import storage
from bot.search.analysis import Analyzer
from bot.search.bm25 import FILES as BM25_FILES, OLD_FILES as OLD_BM25_FILES, BM25Params
from bot.search.chunking import ChunkSettings
from bot.search.sentences import FILES as SENTENCE_FILES
from bot.search.storage import IndexLoadError, rebuild_hint

FORMAT = "recovery-answers-index"
FORMAT_VERSION = 4  # 4: term bounds, sentences; 3: each file's sha256; 2: articles without their blocks
READABLE_VERSIONS = (2, 3, 4)  # a format-2 index is read with a warning: only its files' sizes can be checked
CHUNK_ARRAYS = ("chunk_article", "chunk_start", "chunk_end", "chunk_section")
FILES = tuple(f"{name}.npy" for name in CHUNK_ARRAYS) + ("sections.json", "articles.jsonl") + BM25_FILES
OLD_FILES = tuple(f for f in FILES if f not in BM25_FILES) + OLD_BM25_FILES  # formats 2 and 3: no term_max
FILES += SENTENCE_FILES  # nor sentences


@dataclass(frozen=True)
class IndexSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    bm25: BM25Params = field(default_factory=BM25Params)
    index_titles: bool = True  # a chunk's title and heading are part of what it is about

    def as_dict(self) -> dict:
        return {"chunking": self.chunking.as_dict(), "bm25": asdict(self.bm25), "index_titles": self.index_titles}


def settings_from(d: dict) -> IndexSettings:
    return IndexSettings(ChunkSettings(**d["chunking"]), BM25Params(**d["bm25"]), bool(d["index_titles"]))


def checked_manifest(build: Path, index_dir: Path, analyzer: dict) -> tuple[dict, int]:
    """The build's manifest and format version, once it is this bot's, in a readable format, sealed (format 3
    on) and made with the analyzer settings `analyzer` (an Analyzer's fingerprint)."""
    manifest_path = build / "manifest.json"
    manifest = storage.read_json(manifest_path, index_dir)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexLoadError(f"{manifest_path} is not a manifest of this bot's index")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise IndexLoadError(
            f"{manifest_path}: index format {version} is not format {FORMAT_VERSION}; {rebuild_hint(index_dir)}"
        )
    if version >= 3:
        storage.check_seal(manifest, manifest_path, index_dir)
    saved_analyzer = manifest.get("analyzer")
    differences = _differences(saved_analyzer if isinstance(saved_analyzer, dict) else {}, analyzer)
    if differences:
        raise IndexLoadError(
            f"{index_dir} was built with other analyzer settings ({differences}); {rebuild_hint(index_dir)}"
        )
    return manifest, version


def _differences(saved: dict, current: dict) -> str:
    keys = sorted(set(saved) | set(current))
    return ", ".join(
        f"{k}: index has {saved.get(k)!r}, this bot uses {current.get(k)!r}"
        for k in keys
        if saved.get(k) != current.get(k)
    )


def stale_reason(index_dir: Path, corpus_path: Path, analyzer: Analyzer, settings: IndexSettings) -> str | None:
    """Why the index in index_dir cannot answer for corpus_path as it is now, or None if it can."""
    try:
        build = storage.current_build(index_dir)
        if build is None:
            return "there is no index yet"
        manifest = storage.read_json(build / "manifest.json", index_dir)
    except IndexLoadError as e:
        return str(e)
    if not isinstance(manifest, dict):
        return "the index manifest is damaged"
    if manifest.get("format_version") != FORMAT_VERSION:
        return "the index format changed"
    if manifest.get("analyzer") != analyzer.fingerprint:
        return "the analyzer settings changed"
    if manifest.get("settings") != settings.as_dict():
        return "the index settings changed"
    corpus = manifest.get("corpus")
    if not isinstance(corpus, dict) or corpus.get("fingerprint") != corpus_fingerprint(corpus_path):
        return "the corpus changed since the index was built"
    return None
