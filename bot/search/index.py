"""The searchable corpus: articles, their chunks and the BM25 postings, built, saved and loaded.

On disk an index is a folder of plain arrays (.npy, read with allow_pickle=False) and JSON, with a manifest
that records the format version, the analyzer and chunking settings and the corpus fingerprint. Builds
go to a fresh folder beside the live one; a pointer file is then swapped atomically, so a failed build
leaves the previous index serving.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bot.errors import BotError
from bot.search.analysis import Analyzer
from bot.search.bm25 import BM25Index, BM25Params
from bot.search.chunking import Chunk, ChunkSettings, chunk_article
from bot.corpus.articles import Article, Corpus, CorpusError, Problem, corpus_fingerprint, load_corpus

FORMAT = "recovery-answers-index"
FORMAT_VERSION = 2  # 2: articles without their blocks
POINTER = "CURRENT"
Progress = Callable[[Iterable, int, str], Iterable]  # bot.progress: a bar on a terminal, else nothing
_CHUNK_ARRAYS = ("chunk_article", "chunk_start", "chunk_end", "chunk_section")


class IndexLoadError(BotError):
    """An index that cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class IndexSettings:
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    bm25: BM25Params = field(default_factory=BM25Params)
    index_titles: bool = True  # a chunk's title and heading are part of what it is about

    def as_dict(self) -> dict:
        return {"chunking": self.chunking.as_dict(), "bm25": asdict(self.bm25), "index_titles": self.index_titles}


@dataclass
class BuildReport:
    articles: int
    chunks: int
    problems: list[Problem]
    seconds: float
    path: Path | None = None

    def summary(self) -> str:
        skipped = len(self.problems)
        return (f"indexed {self.articles} article{'s' * (self.articles != 1)}, {self.chunks} chunks, "
                f"skipped {skipped} in {self.seconds:.1f} s")


class SearchIndex:
    """Articles, chunks and postings, ready to search; immutable once built or loaded."""

    def __init__(self, articles: list[Article], chunk_article: np.ndarray, chunk_start: np.ndarray,
                 chunk_end: np.ndarray, chunk_section: np.ndarray, sections: list[str], bm25: BM25Index,
                 analyzer: Analyzer, settings: IndexSettings, manifest: dict) -> None:
        self.articles = articles
        self.chunk_article, self.chunk_start, self.chunk_end = chunk_article, chunk_start, chunk_end
        self.chunk_section, self.sections = chunk_section, sections
        self.bm25, self.analyzer, self.settings, self.manifest = bm25, analyzer, settings, manifest
        self.build: str | None = None  # the folder under index/ this was loaded from or saved to
        # The first chunk of each article, to name chunks "<article id>#<n>" without storing the names.
        self._first_chunk = np.searchsorted(chunk_article, np.arange(len(articles)), side="left")

    @property
    def chunk_count(self) -> int:
        return int(self.chunk_article.shape[0])

    def chunk_id(self, i: int) -> str:
        a = int(self.chunk_article[i])
        return f"{self.articles[a].id}#{i - int(self._first_chunk[a])}"

    def chunk(self, i: int) -> Chunk:
        return Chunk(self.chunk_id(i), int(self.chunk_article[i]), self.sections[int(self.chunk_section[i])],
                     int(self.chunk_start[i]), int(self.chunk_end[i]))

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        return self.bm25.search(terms, k)

    def surface(self, term: str) -> str | None:
        """A word as the articles write it, for a term (lowercased): "buprenorphine" for buprenorphin."""
        t = self.bm25.vocab.get(term)
        if t is None or self.bm25.offsets[t] == self.bm25.offsets[t + 1]:
            return None
        seen: dict[str, int] = {}
        lo = int(self.bm25.offsets[t])
        for doc in self.bm25.docs[lo:min(lo + 3, int(self.bm25.offsets[t + 1]))].tolist():
            chunk = self.chunk(doc)
            article = self.articles[chunk.article]
            for text in (article.text[chunk.start:chunk.end], chunk.section, article.title):
                for token in self.analyzer.tokens(text):
                    if token.term == term:
                        word = text[token.start:token.end].lower()
                        seen[word] = seen.get(word, 0) + 1
        # the most used spelling; among equals the shortest ("work" rather than "works")
        return min(seen, key=lambda w: (-seen[w], len(w))) if seen else None

    def terms_in_chunk(self, i: int, terms: set[str]) -> set[str]:
        """Which of these terms chunk i was indexed under, read from the postings (no re-analysis)."""
        found = set()
        for term in terms:
            t = self.bm25.vocab.get(term)
            if t is None:
                continue
            lo, hi = int(self.bm25.offsets[t]), int(self.bm25.offsets[t + 1])
            at = lo + int(np.searchsorted(self.bm25.docs[lo:hi], i))
            if at < hi and int(self.bm25.docs[at]) == i:
                found.add(term)
        return found

    def section_end(self, i: int) -> int:
        """Where the section of chunk i ends: how far a passage may grow past the chunk (never into the
        next heading)."""
        end, j = int(self.chunk_end[i]), i + 1
        while (j < self.chunk_count and self.chunk_article[j] == self.chunk_article[i]
               and self.chunk_section[j] == self.chunk_section[i] and self.chunk_start[j] <= end + 2):
            end, j = max(end, int(self.chunk_end[j])), j + 1
        return end

    def chunk_terms(self, i: int) -> list[str]:
        """The terms chunk i was indexed under (its title and heading too, when those are indexed)."""
        chunk = self.chunk(i)
        article = self.articles[chunk.article]
        return _document_terms(self.analyzer, article.title, chunk.section,
                               article.text[chunk.start:chunk.end], self.settings.index_titles)

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def build(cls, corpus: Corpus, analyzer: Analyzer, settings: IndexSettings = IndexSettings(),
              corpus_path: Path | None = None, progress: Progress | None = None) -> "SearchIndex":
        if not corpus.articles:
            raise CorpusError("no usable articles in the corpus" +
                              (f" ({len(corpus.problems)} skipped, see above)" if corpus.problems else ""))
        section_ids: dict[str, int] = {}
        rows: list[tuple[int, int, int, int]] = []
        documents: list[list[str]] = []
        articles = progress(corpus.articles, len(corpus.articles), "articles") if progress else corpus.articles
        for a, article in enumerate(articles):
            for chunk in chunk_article(article, a, settings.chunking):
                section = section_ids.setdefault(chunk.section, len(section_ids))
                rows.append((a, chunk.start, chunk.end, section))
                documents.append(_document_terms(analyzer, article.title, chunk.section,
                                                 article.text[chunk.start:chunk.end], settings.index_titles))
        if not rows:
            raise CorpusError("the articles have no text to index")
        table = np.asarray(rows, dtype=np.int32)
        bm25 = BM25Index.build(documents, settings.bm25)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "analyzer": analyzer.fingerprint,
            "settings": settings.as_dict(),
            "corpus": {"path": str(corpus_path.resolve()) if corpus_path else None,
                       "fingerprint": corpus.fingerprint},
            "counts": {"articles": len(corpus.articles), "chunks": len(rows), "terms": len(bm25.terms),
                       "postings": int(bm25.docs.shape[0]), "skipped": len(corpus.problems)},
        }
        sections = [None] * len(section_ids)
        for s, i in section_ids.items():
            sections[i] = s
        return cls(list(corpus.articles), table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(),
                   table[:, 3].copy(), sections, bm25, analyzer, settings, manifest)

    # --- saving and loading ---------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write beside the live index, then point CURRENT at it; the old build is removed after."""
        index_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
        try:
            for name in _CHUNK_ARRAYS:
                np.save(work / f"{name}.npy", getattr(self, name), allow_pickle=False)
            _write_json(work / "sections.json", self.sections)
            with open(work / "articles.jsonl", "w", encoding="utf-8") as f:
                for a in self.articles:
                    # blocks are for chunking, done by now: a serving bot has no use for them
                    record = {"id": a.id, "title": a.title, "url": a.url, "date": a.date, "excerpt": a.excerpt,
                              "source": a.source, "text": a.text}
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.bm25.save(work)
            files = {p.name: p.stat().st_size for p in sorted(work.iterdir())}
            _write_json(work / "manifest.json", {**self.manifest, "files": files})
            final = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{work.name[-8:]}"
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        previous = _current_build(index_dir)
        pointer_tmp = index_dir / f".{POINTER}.tmp"
        pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
        os.replace(pointer_tmp, index_dir / POINTER)
        for old in index_dir.glob("build-*"):
            if old != final and old != previous:
                shutil.rmtree(old, ignore_errors=True)  # keep the one just replaced: a reader may be on it
        self.build = final.name
        return final

    @classmethod
    def load(cls, index_dir: Path, analyzer: Analyzer) -> "SearchIndex":
        build = _current_build(index_dir)
        if build is None:
            raise IndexLoadError(f"no index in {index_dir} (build one with: python -m bot index --index {index_dir})")
        manifest_path = build / "manifest.json"
        manifest = _read_json(manifest_path)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexLoadError(f"{manifest_path} is not a manifest of this bot's index")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexLoadError(f"{manifest_path}: index format {manifest.get('format_version')} is not "
                                 f"format {FORMAT_VERSION}; rebuild it with: python -m bot index --index {index_dir}")
        differences = _differences(manifest.get("analyzer", {}), analyzer.fingerprint)
        if differences:
            raise IndexLoadError(f"{index_dir} was built with other analyzer settings ({differences}); "
                                 f"rebuild it with: python -m bot index --index {index_dir}")
        for name, size in manifest.get("files", {}).items():
            path = build / name
            actual = path.stat().st_size if path.exists() else None
            if actual != size:
                raise IndexLoadError(f"{path} is {'missing' if actual is None else f'{actual} bytes, expected {size}'}"
                                     f" (truncated or changed); rebuild with: python -m bot index --index {index_dir}")
        try:
            settings = _settings_from(manifest["settings"])
            arrays = {name: np.load(build / f"{name}.npy", allow_pickle=False) for name in _CHUNK_ARRAYS}
            sections = _read_json(build / "sections.json")
            articles = []
            with open(build / "articles.jsonl", encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    articles.append(Article(r["id"], r["title"], r["url"], r["text"], (), r["source"],
                                            r["date"], r["excerpt"]))
            bm25 = BM25Index.load(build, settings.bm25)
        except IndexLoadError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexLoadError(f"{build}: the index is damaged ({type(e).__name__}: {e}); "
                                 f"rebuild it with: python -m bot index --index {index_dir}") from e
        n = arrays["chunk_article"].shape[0]
        if bm25.doc_count != n or any(arrays[a].shape != (n,) for a in _CHUNK_ARRAYS):
            raise IndexLoadError(f"{build}: chunk tables and postings disagree ({n} vs {bm25.doc_count} chunks)")
        index = cls(articles, *(arrays[a] for a in _CHUNK_ARRAYS), sections, bm25, analyzer, settings, manifest)
        index.build = build.name
        return index


def _document_terms(analyzer: Analyzer, title: str, section: str, text: str, with_titles: bool) -> list[str]:
    if not with_titles:
        return analyzer.terms(text)
    return analyzer.terms(title) + analyzer.terms(section) + analyzer.terms(text)


def _settings_from(d: dict) -> IndexSettings:
    return IndexSettings(ChunkSettings(**d["chunking"]), BM25Params(**d["bm25"]), bool(d["index_titles"]))


def _differences(saved: dict, current: dict) -> str:
    keys = sorted(set(saved) | set(current))
    return ", ".join(f"{k}: index has {saved.get(k)!r}, this bot uses {current.get(k)!r}"
                     for k in keys if saved.get(k) != current.get(k))


def current_build_name(index_dir: Path) -> str | None:
    """Which build CURRENT points at now: cheap, so a running bot can poll it."""
    build = _current_build(index_dir)
    return build.name if build else None


def _current_build(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    build = index_dir / name
    return build if name and "/" not in name and build.is_dir() else None


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexLoadError(f"{path} is missing; rebuild the index with: python -m bot index") from None
    except (OSError, ValueError) as e:
        raise IndexLoadError(f"{path} cannot be read ({e}); rebuild the index with: python -m bot index") from None


# --- the policy the CLI and the bot share ---------------------------------------------------------

def build_index(corpus_path: Path, index_dir: Path, analyzer: Analyzer, settings: IndexSettings = IndexSettings(),
                progress: Progress | None = None) -> tuple[SearchIndex, BuildReport]:
    started = time.perf_counter()
    corpus = load_corpus(corpus_path)
    index = SearchIndex.build(corpus, analyzer, settings, corpus_path, progress)
    path = index.save(index_dir)
    report = BuildReport(len(corpus.articles), index.chunk_count, corpus.problems,
                         time.perf_counter() - started, path)
    return index, report


def stale_reason(index_dir: Path, corpus_path: Path, analyzer: Analyzer, settings: IndexSettings) -> str | None:
    """Why the index in index_dir cannot answer for corpus_path as it is now, or None if it can."""
    build = _current_build(index_dir)
    if build is None:
        return "there is no index yet"
    try:
        manifest = _read_json(build / "manifest.json")
    except IndexLoadError as e:
        return str(e)
    if manifest.get("format_version") != FORMAT_VERSION:
        return "the index format changed"
    if manifest.get("analyzer") != analyzer.fingerprint:
        return "the analyzer settings changed"
    if manifest.get("settings") != settings.as_dict():
        return "the index settings changed"
    if manifest.get("corpus", {}).get("fingerprint") != corpus_fingerprint(corpus_path):
        return "the corpus changed since the index was built"
    return None
