"""The index on disk: plain files with a manifest, atomic swaps, and clear errors for anything wrong."""

from __future__ import annotations

import errno
import hashlib
import json

import numpy as np
import pytest

from bot.search.analysis import Analyzer, AnalyzerSettings
from bot.search.bm25 import BM25Index
from bot.search.index import (
    IndexLoadError,
    IndexSettings,
    IndexWriteError,
    SearchIndex,
    build_index,
    current_build_name,
    stale_reason,
)
from tests.conftest import SAMPLE_CORPUS, write


def build(tmp_path, corpus=SAMPLE_CORPUS):
    return build_index(corpus, tmp_path / "index", Analyzer())


def current_build(index_dir):
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_build_writes_plain_arrays_json_and_a_manifest(tmp_path):
    index, report = build(tmp_path)
    assert (report.articles, report.chunks, report.problems) == (6, index.chunk_count, [])
    folder = current_build(tmp_path / "index")
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "articles.jsonl", "terms.json", "sections.json", "docs.npy", "weights.npy"} <= names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    for npy in folder.glob("*.npy"):
        np.load(npy, allow_pickle=False)  # loads without pickle
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == 4
    assert set(manifest["files"]) == names - {"manifest.json"}
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}, name
    assert manifest["analyzer"] == Analyzer().fingerprint
    assert manifest["settings"]["bm25"] == {"k1": 1.5, "b": 0.75, "epsilon": 0.25, "idf": "lucene"}
    assert len(manifest["corpus"]["fingerprint"]) == 64
    assert report.summary().startswith("indexed 6 articles, ")


def test_loaded_index_answers_like_the_built_one(tmp_path):
    built, _ = build(tmp_path)
    loaded = SearchIndex.load(tmp_path / "index", Analyzer())
    terms = Analyzer().terms("naltrexone detox withdrawal")
    assert loaded.search(terms, 10) == built.search(terms, 10)
    assert [loaded.chunk(i) for i in range(loaded.chunk_count)] == [built.chunk(i) for i in range(built.chunk_count)]
    strip = lambda a: (a.id, a.title, a.url, a.text, a.source, a.date, a.excerpt)  # noqa: E731 (no blocks once built)
    assert [strip(a) for a in loaded.articles] == [strip(a) for a in built.articles]


def test_chunk_ids_name_article_and_position(tmp_path):
    index, _ = build(tmp_path)
    ids = [index.chunk_id(i) for i in range(index.chunk_count)]
    assert ids[0] == "naltrexone-as-an-opium-addiction-treatment#0"
    assert len(set(ids)) == len(ids)


def test_index_built_with_other_analyzer_settings_is_rejected(tmp_path):
    build(tmp_path)
    with pytest.raises(
        IndexLoadError,
        match=r"other analyzer settings \(stemmer: index has 'snowball', "
        r"this bot uses 'porter'",
    ):
        SearchIndex.load(tmp_path / "index", Analyzer(AnalyzerSettings(stemmer="porter")))


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexLoadError, match="no index in .* python -m bot index"):
        SearchIndex.load(tmp_path / "nothing", Analyzer())


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage-manifest", "foreign-manifest"])
def test_damaged_index_fails_naming_the_file(tmp_path, damage):
    build(tmp_path)
    folder = current_build(tmp_path / "index")
    if damage == "truncate":
        data = (folder / "weights.npy").read_bytes()
        (folder / "weights.npy").write_bytes(data[: len(data) // 2])
        expected = "weights.npy"
    elif damage == "delete":
        (folder / "terms.json").unlink()
        expected = "terms.json"
    elif damage == "garbage-manifest":
        (folder / "manifest.json").write_text("{not json")
        expected = "manifest.json"
    else:
        (folder / "manifest.json").write_text(json.dumps({"format": "something-else"}))
        expected = "manifest.json"
    with pytest.raises(IndexLoadError, match=expected):
        SearchIndex.load(tmp_path / "index", Analyzer())


def test_failed_build_leaves_the_previous_index_serving(tmp_path, monkeypatch):
    build(tmp_path)
    before = current_build(tmp_path / "index")

    def broken_save(self, directory):
        (directory / "docs.npy").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BM25Index, "save", broken_save)
    with pytest.raises(
        IndexWriteError,
        match=r"cannot write the index in .*/index: the disk is full \(No space "
        r"left on device\); the index there is unchanged",
    ):
        build(tmp_path)
    assert current_build(tmp_path / "index") == before
    assert not list((tmp_path / "index").glob(".building-*")), "the half-written build was not cleaned up"
    monkeypatch.undo()
    assert SearchIndex.load(tmp_path / "index", Analyzer()).chunk_count > 0


def test_rebuilds_swap_and_keep_only_the_last_two(tmp_path):
    for _ in range(4):
        build(tmp_path)
    assert len(list((tmp_path / "index").glob("build-*"))) <= 2
    SearchIndex.load(tmp_path / "index", Analyzer())


def test_stale_reason_follows_the_corpus(tmp_path):
    corpus = tmp_path / "articles"
    write(corpus / "a.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken daily.\n")
    index_dir = tmp_path / "index"
    settings = IndexSettings()
    assert stale_reason(index_dir, corpus, Analyzer(), settings) == "there is no index yet"
    build_index(corpus, index_dir, Analyzer(), settings)
    assert stale_reason(index_dir, corpus, Analyzer(), settings) is None
    write(corpus / "b.md", "---\ntitle: Naloxone\nurl: https://example.org/n\n---\n\nNaloxone reverses overdoses.\n")
    assert "corpus changed" in stale_reason(index_dir, corpus, Analyzer(), settings)
    build_index(corpus, index_dir, Analyzer(), settings)
    assert (
        stale_reason(index_dir, corpus, Analyzer(AnalyzerSettings(stemmer="none")), settings)
        == "the analyzer settings changed"
    )


def test_corpus_with_no_usable_article_is_an_error_and_keeps_the_old_index(tmp_path):
    build(tmp_path)
    before = current_build(tmp_path / "index")
    bad = tmp_path / "bad"
    write(bad / "empty.md", "")
    from bot.corpus.articles import CorpusError

    with pytest.raises(CorpusError, match="no usable articles"):
        build_index(bad, tmp_path / "index", Analyzer())
    assert current_build(tmp_path / "index") == before


def flip_bytes(path, at=-5):
    """Damage that keeps the size: what a bad disk or a careless edit does."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def load_checked(index_dir, background):
    """load(), then verified(): what bot/engine.py does before it hands out an Answerer."""
    return SearchIndex.load(index_dir, Analyzer(), background=background).verified()


@pytest.mark.parametrize("background", [False, True], ids=["at load", "on a second thread"])
@pytest.mark.parametrize("name", ["docs.npy", "weights.npy", "chunk_start.npy", "articles.jsonl", "terms.json"])
def test_bytes_changed_inside_a_file_are_refused_naming_it(tmp_path, name, background):
    build(tmp_path)
    folder = current_build(tmp_path / "index")
    size = (folder / name).stat().st_size
    flip_bytes(folder / name, at=size // 2)
    assert (folder / name).stat().st_size == size
    with pytest.raises(IndexLoadError, match=rf"{name} is damaged \(its contents do not match the build's sha256\)"):
        load_checked(tmp_path / "index", background)


@pytest.mark.parametrize("background", [False, True], ids=["at load", "on a second thread"])
def test_a_changed_npy_header_is_refused_before_numpy_reads_it(tmp_path, background):
    """docs.npy as floats loaded, and then every answer failed; now its checksum refuses it (on a second
    thread, numpy refuses it first, and the file is named by its sha256 all the same)."""
    build(tmp_path)
    path = current_build(tmp_path / "index") / "docs.npy"
    data = path.read_bytes()
    assert b"'<i4'" in data[:128]
    path.write_bytes(data.replace(b"'<i4'", b"'<f4'", 1))
    with pytest.raises(IndexLoadError, match="docs.npy is damaged"):
        load_checked(tmp_path / "index", background)


def test_an_index_checked_on_a_second_thread_searches_nothing_before_its_files_matched(tmp_path):
    build(tmp_path)
    good = SearchIndex.load(tmp_path / "index", Analyzer(), background=True)
    terms = good.analyzer.terms("naltrexone detox")
    assert good.search(terms, 3) == SearchIndex.load(tmp_path / "index", Analyzer()).search(terms, 3) != []
    folder = current_build(tmp_path / "index")
    flip_bytes(folder / "weights.npy", at=(folder / "weights.npy").stat().st_size // 2)  # still parses
    damaged = SearchIndex.load(tmp_path / "index", Analyzer(), background=True)
    for _ in range(2):  # search() waits for the check, and says what it found every time
        with pytest.raises(IndexLoadError, match="weights.npy is damaged"):
            damaged.search(terms, 3)
    with pytest.raises(IndexLoadError, match="weights.npy is damaged"):
        damaged.search_with_terms(terms, 3)
    with pytest.raises(IndexLoadError, match="weights.npy is damaged"):
        damaged.verified()


def test_a_manifest_edited_into_other_valid_json_is_refused(tmp_path):
    build(tmp_path)
    path = current_build(tmp_path / "index") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["settings"]["bm25"]["k1"] = 1.6
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match=r"manifest.json is damaged \(its contents do not match its checksum\)"):
        SearchIndex.load(tmp_path / "index", Analyzer())


def as_format_2(folder):
    """The manifest an index built before checksums has: sizes only, no seal."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 2
    manifest["files"] = {name: entry["bytes"] for name, entry in manifest["files"].items()}
    del manifest["sha256"]
    path.write_text(json.dumps(manifest))


def test_an_index_from_before_checksums_loads_marked_unchecked_and_its_types_are_still_checked(tmp_path):
    build(tmp_path)
    folder = current_build(tmp_path / "index")
    as_format_2(folder)
    old = SearchIndex.load(tmp_path / "index", Analyzer())
    assert old.checksums is False and old.chunk_count > 0
    assert stale_reason(tmp_path / "index", SAMPLE_CORPUS, Analyzer(), IndexSettings()) == "the index format changed"
    data = (folder / "docs.npy").read_bytes()
    (folder / "docs.npy").write_bytes(data.replace(b"'<i4'", b"'<f4'", 1))  # the size check cannot see this
    with pytest.raises(IndexLoadError, match=r"docs.npy holds float32, not integers"):
        SearchIndex.load(tmp_path / "index", Analyzer())


def test_an_index_from_before_term_bounds_loads_and_finds_the_same(tmp_path):
    """Format 3 had no term_max.npy: the bounds are computed on load, and the answers do not change."""
    from bot.search import storage

    built, _ = build(tmp_path)
    folder = current_build(tmp_path / "index")
    (folder / "term_max.npy").unlink()
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 3
    del manifest["files"]["term_max.npy"]
    path.write_text(json.dumps(storage.seal({k: v for k, v in manifest.items() if k != "sha256"})))
    old = SearchIndex.load(tmp_path / "index", Analyzer())
    assert old.checksums is True
    np.testing.assert_array_equal(old.bm25.term_max, built.bm25.term_max)
    for question in ("naltrexone detox", "how long does methadone withdrawal last", "relapse help"):
        terms = Analyzer().terms(question)
        assert old.search(terms, 10) == built.search(terms, 10)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"\xff\xfe build", r"CURRENT is damaged \(not UTF-8 text, so it names no build\)"),
        (b"../../etc\n", r"CURRENT is damaged \(it should name a build-\* folder, it holds '../../etc'\)"),
        (b"build-gone\n", r"CURRENT names build-gone, which is not in"),
    ],
)
def test_a_damaged_current_is_one_clear_error_and_makes_the_index_stale(tmp_path, content, expected):
    build(tmp_path)
    (tmp_path / "index" / "CURRENT").write_bytes(content)
    with pytest.raises(IndexLoadError, match=expected):
        SearchIndex.load(tmp_path / "index", Analyzer())
    with pytest.raises(IndexLoadError, match=expected):
        current_build_name(tmp_path / "index")
    assert "CURRENT" in stale_reason(tmp_path / "index", SAMPLE_CORPUS, Analyzer(), IndexSettings())
    build(tmp_path)  # and a rebuild repairs it
    assert SearchIndex.load(tmp_path / "index", Analyzer()).chunk_count > 0


def test_an_article_too_long_is_skipped_with_its_size_and_the_others_indexed(tmp_path):
    from bot.corpus.articles import MAX_ARTICLE_CHARS

    corpus = tmp_path / "articles"
    write(corpus / "a.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken daily.\n")
    huge = "word " * (MAX_ARTICLE_CHARS // 5 + 1)
    write(corpus / "huge.md", "---\ntitle: Huge\nurl: https://example.org/h\n---\n\n" + huge)
    said = []
    index, report = build_index(corpus, tmp_path / "index", Analyzer(), say=said.append)
    assert [a.id for a in index.articles] == ["a"]
    assert [str(p) for p in report.problems] == [
        f"{corpus / 'huge.md'}: 1,000,004 characters of text, more than the "
        "1,000,000 an article may have; split it into smaller articles"
    ]
    assert said == [f"skipped {report.problems[0]}"]


def test_an_article_nltk_gives_up_on_is_skipped_and_the_others_indexed(tmp_path, monkeypatch):
    """nltk 3.10 runs its regexes under a time limit (5 s) and raises TimeoutError past it: one article's
    problem, not the build's. The limit is lowered here so that a long one-line article trips it."""
    import nltk.redos

    corpus = tmp_path / "articles"
    write(corpus / "a.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken daily.\n")
    write(
        corpus / "long.md",
        "---\ntitle: Long\nurl: https://example.org/l\n---\n\n"
        + "Naltrexone blocks opioids. It is taken daily. " * 20_000,
    )
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 0.1)
    said = []
    index, report = build_index(corpus, tmp_path / "index", Analyzer(), say=said.append)
    assert [a.id for a in index.articles] == ["a"] and report.chunks == index.chunk_count
    assert len(report.problems) == 1
    assert "long.md: its text took nltk's sentence splitter over its time limit" in said[0]
    assert SearchIndex.load(tmp_path / "index", Analyzer()).articles[0].id == "a"


def test_a_corpus_of_nothing_usable_names_each_file_before_the_error_that_points_at_them(tmp_path):
    from bot.corpus.articles import CorpusError

    bad = tmp_path / "bad"
    write(bad / "empty.md", "")
    write(bad / "notes.txt", "x")
    said = []
    with pytest.raises(CorpusError, match=r"no usable articles in .*bad \(2 skipped, each named above\)"):
        build_index(bad, tmp_path / "index", Analyzer(), say=said.append)
    assert len(said) == 2 and all(line.startswith(f"skipped {bad}") for line in said)
    with pytest.raises(CorpusError, match=r"\(2 skipped, the first: .*empty.md: empty file\)"):  # nothing said before
        from bot.corpus.articles import load_corpus

        SearchIndex.build(load_corpus(bad), Analyzer())


def hold_lock(index_dir):
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    f = open(index_dir / ".lock", "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def test_a_build_waits_for_the_one_running_and_gives_up_after_the_time_allowed(tmp_path):
    import threading

    build(tmp_path)
    before = current_build(tmp_path / "index")
    held = hold_lock(tmp_path / "index")
    said = []
    with pytest.raises(
        IndexWriteError,
        match=r"another build is writing the index in .*index and has not finished "
        r"after 0.3 s \(BOT_BUILD_WAIT_SECONDS\); the index there is unchanged",
    ):
        build_index(SAMPLE_CORPUS, tmp_path / "index", Analyzer(), say=said.append, wait_seconds=0.3)
    assert said == [f"waiting for another build of {tmp_path / 'index'} to finish (at most 0.3 s)"]
    assert current_build(tmp_path / "index") == before

    threading.Timer(0.5, held.close).start()  # the running build ends: the waiting one goes ahead
    _, report = build_index(SAMPLE_CORPUS, tmp_path / "index", Analyzer(), wait_seconds=30)
    assert current_build(tmp_path / "index") == report.path != before


def test_a_build_removes_what_a_killed_build_left(tmp_path):
    build(tmp_path)
    leftover = tmp_path / "index" / ".building-abcd1234"
    leftover.mkdir()
    (leftover / "docs.npy").write_bytes(b"half")
    said = []
    build_index(SAMPLE_CORPUS, tmp_path / "index", Analyzer(), say=said.append)
    assert not leftover.exists()
    assert said == [
        f"removed 1 unfinished build left in {tmp_path / 'index'} by a build that was stopped (.building-abcd1234)"
    ]


@pytest.mark.slow  # an equivalence check over much text: CI runs it with -m slow
@pytest.mark.parametrize("pages", [0, 40])
def test_the_sentences_kept_in_the_index_are_the_ones_punkt_finds(tmp_path, pages):
    """Answers read sentences from the index instead of splitting them again: the same spans, for a chunk,
    for a chunk and what follows it (cut mid-sentence), and for what comes before one; on the sample
    articles and on real health pages (MedQuAD's first ones)."""
    import itertools

    from bot.search.chunking import sentence_spans
    from tests.conftest import SHARED_DATA

    if pages:
        with open(SHARED_DATA / "medquad" / "articles.jsonl", encoding="utf-8") as f:
            write(tmp_path / "pages" / "pages.jsonl", "".join(itertools.islice(f, pages)))
        build(tmp_path, tmp_path / "pages")
    else:
        build(tmp_path)
    index = SearchIndex.load(tmp_path / "index", Analyzer())
    assert index.sentences is not None
    checked = 0
    for i in range(index.chunk_count):
        chunk = index.chunk(i)
        text = index.articles[chunk.article].text
        end = index.section_end(i)
        for lo, hi in ((chunk.start, chunk.end), (chunk.start, min(end, chunk.end + 157)), (chunk.start, end)):
            assert index.sentences_in(chunk.article, lo, hi) == sentence_spans(text, lo, hi), (i, lo, hi)
            checked += 1
        # Looking back, only the sentence just before the chunk is read. (Split again, a window that
        # starts inside a sentence can split that piece differently: the kept sentences are the true ones.)
        lo = max(0, chunk.start - 300)
        assert index.sentences_in(chunk.article, lo, chunk.start)[-1:] == sentence_spans(text, lo, chunk.start)[-1:]
    assert checked > (1000 if pages else 30)


def test_answers_are_the_same_with_kept_sentences_and_split_ones(tmp_path):
    from bot.answering.answer import Answerer

    built, _ = build(tmp_path)
    kept = Answerer(built)
    split = Answerer(SearchIndex.load(tmp_path / "index", Analyzer()))
    split.index.sentences = None
    for question in (
        "can i take naltrexone while im still detoxing",
        "how long does methadone withdrawal last",
        "what is suboxone",
        "relapse what now",
        "how often is vivitrol given",
    ):
        assert kept.answer(question, 5).to_json() == split.answer(question, 5).to_json(), question


def test_a_checked_index_reads_its_articles_when_asked_and_an_unchecked_one_at_load(tmp_path):
    from bot.search.article_file import ArticleLines

    built, _ = build(tmp_path)
    loaded = SearchIndex.load(tmp_path / "index", Analyzer())
    assert isinstance(loaded.articles, ArticleLines) and len(loaded.articles) == len(built.articles)
    for mine, theirs in zip(loaded.articles, built.articles):
        assert (mine.id, mine.title, mine.url, mine.text, mine.date) == (
            theirs.id,
            theirs.title,
            theirs.url,
            theirs.text,
            theirs.date,
        )
    as_format_2(current_build(tmp_path / "index"))
    assert isinstance(SearchIndex.load(tmp_path / "index", Analyzer()).articles, list)
