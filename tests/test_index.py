"""The index on disk: plain files with a manifest, atomic swaps, and clear errors for anything wrong."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bot.search.analysis import Analyzer, AnalyzerSettings
from bot.search.bm25 import BM25Index
from bot.search.index import IndexLoadError, IndexSettings, SearchIndex, build_index, stale_reason
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
    assert manifest["format_version"] == 2
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
    with pytest.raises(IndexLoadError, match=r"other analyzer settings \(stemmer: index has 'snowball', "
                                             r"this bot uses 'porter'"):
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
        raise OSError("disk full")

    monkeypatch.setattr(BM25Index, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
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
    assert stale_reason(index_dir, corpus, Analyzer(AnalyzerSettings(stemmer="none")), settings) == \
        "the analyzer settings changed"


def test_corpus_with_no_usable_article_is_an_error_and_keeps_the_old_index(tmp_path):
    build(tmp_path)
    before = current_build(tmp_path / "index")
    bad = tmp_path / "bad"
    write(bad / "empty.md", "")
    from bot.corpus.articles import CorpusError
    with pytest.raises(CorpusError, match="no usable articles"):
        build_index(bad, tmp_path / "index", Analyzer())
    assert current_build(tmp_path / "index") == before
