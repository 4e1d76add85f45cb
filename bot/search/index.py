"""The searchable corpus: articles, their chunks and the BM25 postings, built, saved and loaded.

On disk an index is a folder of plain arrays (.npy, read with allow_pickle=False) and JSON, with a manifest
(bot/search/manifest.py) that records the format version, the analyzer and chunking settings, the corpus
fingerprint and each file's sha256. Builds go to a fresh folder beside the live one, one at a time, and a
pointer file is then swapped atomically (bot/search/storage.py), so a failed or killed build leaves the
previous index serving.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from bot.search import article_file, storage
from bot.search.analysis import Analyzer
from bot.search.bm25 import BM25Index
from bot.search.chunking import Chunk, chunk_article, sentence_spans
from bot.search.manifest import (
    CHUNK_ARRAYS,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    OLD_FILES,
    IndexSettings,
    checked_manifest,
    settings_from,
)
from bot.search.manifest import stale_reason  # noqa: F401 (imported from here too)
from bot.search.sentences import SentenceTable
from bot.search.storage import IndexLoadError, IndexWriteError, rebuild_hint  # noqa: F401 (imported from here too)
from bot.corpus.articles import Article, Corpus, CorpusError, Problem, load_corpus

POINTER = storage.POINTER
BUILD_WAIT_SECONDS = 600.0
Progress = Callable[[Iterable, int, str], Iterable]  # bot.progress: a bar on a terminal, else nothing


@dataclass
class BuildReport:
    articles: int
    chunks: int
    problems: list[Problem]
    seconds: float
    path: Path | None = None

    def summary(self) -> str:
        skipped = len(self.problems)
        return (
            f"indexed {self.articles} article{'s' * (self.articles != 1)}, {self.chunks} chunks, "
            f"skipped {skipped} in {self.seconds:.1f} s"
        )


class SearchIndex:
    """Articles, chunks and postings, ready to search; immutable once built or loaded."""

    def __init__(
        self,
        articles: Sequence[Article],
        chunk_article: np.ndarray,
        chunk_start: np.ndarray,
        chunk_end: np.ndarray,
        chunk_section: np.ndarray,
        sections: list[str],
        bm25: BM25Index,
        analyzer: Analyzer,
        settings: IndexSettings,
        manifest: dict,
        sentences: SentenceTable | None = None,
    ) -> None:
        self.articles = articles
        self.chunk_article, self.chunk_start, self.chunk_end = chunk_article, chunk_start, chunk_end
        self.chunk_section, self.sections = chunk_section, sections
        self.bm25, self.analyzer, self.settings, self.manifest = bm25, analyzer, settings, manifest
        self.sentences = sentences  # None for an index of format 3 or older: split when asked
        self.build: str | None = None  # the folder under index/ this was loaded from or saved to
        self.checksums = True  # False for a format-2 index: damage that keeps a file's size goes unseen
        self._verification: storage.Verification | None = None  # the sha256 still being checked (load)
        # The first chunk of each article, to name chunks "<article id>#<n>" without storing the names.
        self._first_chunk = np.searchsorted(chunk_article, np.arange(len(articles)), side="left")

    @property
    def chunk_count(self) -> int:
        return int(self.chunk_article.shape[0])

    def chunk_id(self, i: int) -> str:
        a = int(self.chunk_article[i])
        return f"{self.articles[a].id}#{i - int(self._first_chunk[a])}"

    def chunk(self, i: int) -> Chunk:
        return Chunk(
            self.chunk_id(i),
            int(self.chunk_article[i]),
            self.sections[int(self.chunk_section[i])],
            int(self.chunk_start[i]),
            int(self.chunk_end[i]),
        )

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        return self.verified().bm25.search(terms, k)

    def search_with_terms(self, terms: list[str], k: int) -> list[tuple[int, float, frozenset[str]]]:
        """search(), with the query's terms each chunk holds (told by the same search, not read again)."""
        return self.verified().bm25.search_with_terms(terms, k)

    def surface(self, term: str) -> str | None:
        """A word as the articles write it, for a term (lowercased): "buprenorphine" for buprenorphin."""
        t = self.bm25.vocab.get(term)
        if t is None or self.bm25.offsets[t] == self.bm25.offsets[t + 1]:
            return None
        seen: dict[str, int] = {}
        lo = int(self.bm25.offsets[t])
        for doc in self.bm25.docs[lo : min(lo + 3, int(self.bm25.offsets[t + 1]))].tolist():
            chunk = self.chunk(doc)
            article = self.articles[chunk.article]
            for text in (article.text[chunk.start : chunk.end], chunk.section, article.title):
                for token in self.analyzer.tokens(text):
                    if token.term == term:
                        word = text[token.start : token.end].lower()
                        seen[word] = seen.get(word, 0) + 1
        # the most used spelling; among equals the shortest ("work" rather than "works")
        return min(seen, key=lambda w: (-seen[w], len(w))) if seen else None

    def sentences_in(self, article: int, start: int, end: int) -> list[tuple[int, int]]:
        """The sentences of an article's text[start:end], as sentence_spans() splits them: read from the index."""
        text = self.articles[article].text
        if self.sentences is None:
            return sentence_spans(text, start, end)
        return self.sentences.spans(article, text, start, end)

    def section_end(self, i: int) -> int:
        """Where the section of chunk i ends: how far a passage may grow past the chunk (never into the
        next heading)."""
        end, j = int(self.chunk_end[i]), i + 1
        while (
            j < self.chunk_count
            and self.chunk_article[j] == self.chunk_article[i]
            and self.chunk_section[j] == self.chunk_section[i]
            and self.chunk_start[j] <= end + 2
        ):
            end, j = max(end, int(self.chunk_end[j])), j + 1
        return end

    def chunk_terms(self, i: int) -> list[str]:
        """The terms chunk i was indexed under (its title and heading too, when those are indexed)."""
        chunk = self.chunk(i)
        article = self.articles[chunk.article]
        return self.analyzer.document_terms(
            article.title, chunk.section, article.text[chunk.start : chunk.end], self.settings.index_titles
        )

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        analyzer: Analyzer,
        settings: IndexSettings = IndexSettings(),
        corpus_path: Path | None = None,
        say: Callable[[str], None] | None = None,
        progress: Progress | None = None,
    ) -> "SearchIndex":
        """Index the corpus. An article that cannot be indexed is skipped (added to corpus.problems, and said
        when `say` is given), never the whole build."""
        section_ids: dict[str, int] = {}
        rows: list[tuple[int, int, int, int]] = []
        documents: list[list[str]] = []
        articles: list[Article] = []
        sentences: list[list[tuple[int, int]]] = []
        for article in progress(corpus.articles, len(corpus.articles), "articles") if progress else corpus.articles:
            found: list[tuple[int, int]] = []
            headings: dict[str, list[str]] = {}  # the title's and each section's terms, once per article
            try:
                chunks = [
                    (
                        chunk,
                        analyzer.document_terms(
                            article.title,
                            chunk.section,
                            article.text[chunk.start : chunk.end],
                            settings.index_titles,
                            headings,
                        ),
                    )
                    for chunk in chunk_article(article, len(articles), settings.chunking, found)
                ]
            except TimeoutError:  # nltk 3.10 gives each regex 5 s; a huge paragraph must not stop the build
                problem = Problem(
                    article.source,
                    f"its text took nltk's sentence splitter over its time limit "
                    f"({len(article.text):,} characters); split it into paragraphs",
                )
                corpus.problems.append(problem)
                if say:
                    say(f"skipped {problem}")
                continue
            for chunk, terms in chunks:
                section = section_ids.setdefault(chunk.section, len(section_ids))
                rows.append((len(articles), chunk.start, chunk.end, section))
                documents.append(terms)
            articles.append(article)
            sentences.append(found)
        if not articles:
            skipped = len(corpus.problems)
            detail = (
                ""
                if not skipped
                else (
                    f" ({skipped} skipped, each named above)"
                    if say
                    else f" ({skipped} skipped, the first: {corpus.problems[0]})"
                )
            )
            raise CorpusError(f"no usable articles in {corpus_path or 'the corpus'}{detail}")
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
            "corpus": {"path": str(corpus_path.resolve()) if corpus_path else None, "fingerprint": corpus.fingerprint},
            "counts": {
                "articles": len(articles),
                "chunks": len(rows),
                "terms": len(bm25.terms),
                "postings": int(bm25.docs.shape[0]),
                "skipped": len(corpus.problems),
            },
        }
        sections = [None] * len(section_ids)
        for s, i in section_ids.items():
            sections[i] = s
        return cls(
            articles,
            table[:, 0].copy(),
            table[:, 1].copy(),
            table[:, 2].copy(),
            table[:, 3].copy(),
            sections,
            bm25,
            analyzer,
            settings,
            manifest,
            SentenceTable.build(sentences),
        )

    # --- saving and loading ---------------------------------------------------------------------

    def save(self, index_dir: Path) -> Path:
        """Write a new build beside the live one, then point CURRENT at it; builds older than the one just
        replaced are removed. The caller holds the folder's build lock (build_index does)."""
        try:
            work = Path(tempfile.mkdtemp(prefix=storage.WORK_PREFIX, dir=index_dir))
        except OSError as e:
            raise storage.write_failure(index_dir, e) from None
        final: Path | None = None
        try:
            self._write(work)
            storage.sync_folder(work)
            final = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{work.name[-8:]}"
            os.rename(work, final)
            previous = storage.current_or_none(index_dir)
            storage.swap_pointer(index_dir, final.name)
        except BaseException as e:
            shutil.rmtree(final or work, ignore_errors=True)
            if isinstance(e, OSError):
                raise storage.write_failure(index_dir, e) from None
            raise
        for old in index_dir.glob("build-*"):
            if old != final and old != previous:
                shutil.rmtree(old, ignore_errors=True)  # keep the one just replaced: a reader may be on it
        self.build = final.name
        return final

    def _write(self, work: Path) -> None:
        for name in CHUNK_ARRAYS:
            np.save(work / f"{name}.npy", getattr(self, name), allow_pickle=False)
        storage.write_json(work / "sections.json", self.sections)
        article_file.write(work / "articles.jsonl", self.articles)
        self.bm25.save(work)
        if self.sentences is not None:
            self.sentences.save(work)
        files = storage.describe_files(work)
        storage.write_json(work / "manifest.json", storage.seal({**self.manifest, "files": files}))

    @classmethod
    def load(cls, index_dir: Path, analyzer: Analyzer, background: bool = False) -> "SearchIndex":
        """The build CURRENT names, every file checked against the manifest's sizes and sha256 first; with
        `background`, the sha256 on a second thread while the caller goes on (bot/engine.py builds the triage
        meanwhile): nothing is searched before verified() has seen every file match."""
        build = storage.current_build(index_dir)
        if build is None:
            raise IndexLoadError(f"no index in {index_dir} (build one with: python -m bot index --index {index_dir})")
        manifest, version = checked_manifest(build, index_dir, analyzer.fingerprint)
        checksums = version >= 3
        required = FILES if version >= 4 else OLD_FILES
        pending = storage.check_sizes(build, manifest.get("files"), required, index_dir, checksums)
        verification = storage.Verification(pending, index_dir, background)
        try:
            index = cls._read(build, index_dir, analyzer, manifest, version)
        except BaseException:
            # read before its sha256 matched, a damaged file can fail in any way: it is named, as the cause
            verification.wait()
            raise
        index._verification = verification
        return index

    @classmethod
    def _read(cls, build: Path, index_dir: Path, analyzer: Analyzer, manifest: dict, version: int) -> "SearchIndex":
        checksums = version >= 3
        try:
            settings = settings_from(manifest["settings"])
            arrays = {name: np.load(build / f"{name}.npy", allow_pickle=False) for name in CHUNK_ARRAYS}
            sections = storage.read_json(build / "sections.json", index_dir)
            # its sha256 as the manifest has it, checked before any answer reads an article
            digest = ((manifest.get("files") or {}).get("articles.jsonl") or {}).get("sha256") if checksums else None
            articles = article_file.read(build / "articles.jsonl", lazily=checksums, digest=digest)
            bm25 = BM25Index.load(build, settings.bm25, with_bounds=version >= 4)
            sentence_table = SentenceTable.load(build, len(articles)) if version >= 4 else None
        except IndexLoadError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            raise IndexLoadError(
                f"{build}: the index is damaged ({type(e).__name__}: {e}); {rebuild_hint(index_dir)}"
            ) from e
        n = arrays["chunk_article"].shape[0]
        odd = [a for a in CHUNK_ARRAYS if arrays[a].dtype.kind != "i"]
        if odd:
            raise IndexLoadError(
                f"{build / (odd[0] + '.npy')} holds {arrays[odd[0]].dtype}, not integers; {rebuild_hint(index_dir)}"
            )
        if bm25.doc_count != n or any(arrays[a].shape != (n,) for a in CHUNK_ARRAYS):
            raise IndexLoadError(f"{build}: chunk tables and postings disagree ({n} vs {bm25.doc_count} chunks)")
        index = cls(
            articles, *(arrays[a] for a in CHUNK_ARRAYS), sections, bm25, analyzer, settings, manifest, sentence_table
        )
        index.build = build.name
        index.checksums = checksums
        return index

    def verified(self) -> "SearchIndex":
        """This index, once every file matched its sha256; else the IndexLoadError naming the first that did not."""
        if self._verification is not None:
            self._verification.wait()
            self._verification = None
        return self


def current_build_name(index_dir: Path) -> str | None:
    """Which build CURRENT points at now: cheap, so a running bot can poll it. A damaged CURRENT raises."""
    build = storage.current_build(index_dir)
    return build.name if build else None


# --- the policy the CLI and the bot share ---------------------------------------------------------


def build_index(
    corpus_path: Path,
    index_dir: Path,
    analyzer: Analyzer,
    settings: IndexSettings = IndexSettings(),
    say: Callable[[str], None] | None = None,
    wait_seconds: float = BUILD_WAIT_SECONDS,
    progress: Progress | None = None,
) -> tuple[SearchIndex, BuildReport]:
    """Build under the folder's lock (waiting up to wait_seconds for another build), saying each skipped
    article as it is found; the previous index serves until the new one is complete."""
    if not Path(corpus_path).exists():
        raise CorpusError(f"corpus not found: {corpus_path}")
    tell = say or (lambda _: None)
    with storage.build_lock(index_dir, wait_seconds, tell):
        started = time.perf_counter()
        removed = storage.remove_leftovers(index_dir)
        if removed:
            tell(
                f"removed {len(removed)} unfinished build{'s' * (len(removed) != 1)} left in {index_dir} by a "
                f"build that was stopped ({', '.join(removed)})"
            )
        corpus = load_corpus(corpus_path)
        for problem in corpus.problems:
            tell(f"skipped {problem}")
        index = SearchIndex.build(corpus, analyzer, settings, corpus_path, say, progress)
        path = index.save(index_dir)
    report = BuildReport(len(index.articles), index.chunk_count, corpus.problems, time.perf_counter() - started, path)
    return index, report
