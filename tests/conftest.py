"""Every test runs offline and isolated: no nltk data, no settings from the machine, no shared cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before nltk is imported anywhere: the analyzer must work with no downloaded data at all.
_EMPTY_NLTK = tempfile.mkdtemp(prefix="empty-nltk-data-")
os.environ["NLTK_DATA"] = _EMPTY_NLTK

import nltk  # noqa: E402
import pytest  # noqa: E402

nltk.data.path[:] = [_EMPTY_NLTK]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = ROOT / "corpus"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("BOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BOT_ENV_FILE", os.devnull)
    monkeypatch.setenv("BOT_CACHE_DIR", str(tmp_path / "cache"))
    # every fresh cache would encode its chunks again (about a second a test): BM25 alone unless a test
    # asks for semantic reranking (tests/test_semantic.py does, by the shipped default "auto" too)
    monkeypatch.setenv("BOT_SEMANTIC", "off")
    monkeypatch.setenv("NLTK_DATA", _EMPTY_NLTK)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample():
    """The sample corpus, indexed in memory once for the whole run."""
    from bot.search.analysis import Analyzer
    from bot.corpus.articles import load_corpus
    from bot.search.index import SearchIndex

    return SearchIndex.build(load_corpus(SAMPLE_CORPUS), Analyzer())


@pytest.fixture(scope="session")
def answerer(sample):
    from bot.answering.answer import Answerer

    return Answerer(sample)
