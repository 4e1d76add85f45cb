"""Semantic reranking: each chunk's sentence vector, kept beside the index, and a question's.

BM25 ranks the candidates; the encoder says which of them means what was asked, and which sentence of a
passage says it (bot/answering/passages.py). A chunk or a sentence is encoded once
(0.1 to 0.4 s on one busy core) and its vector kept in the cache folder under its text's sha256, so a
rebuild after a crawl encodes only the chunks that changed, and a changed chunk never reads a stale vector.
A corpus too large to encode in reasonable time (`AUTO_MAX_CHUNKS`) is served by BM25 alone unless the
operator asks for it (BOT_SEMANTIC=on).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.encoder import WIDTH, SentenceEncoder

AUTO_MAX_CHUNKS = 2000  # 3 to 10 minutes of encoding, once per build, on one core of this small machine
KEY_BYTES = 16  # of a chunk text's sha256
WEIGHT = 0.1  # of BM25 (as a share of the best score) against the cosine: chosen on spent question sets
# the "not covered" gates, by meaning (cosines, chosen on the same spent sets): no candidate this close means
# the shared words are a coincidence; a passage this close answers even when it shares few of the words.
# 0.2 declined more off-topic questions (blind2 60 -> 69%) but also "i keep craving it what do i do" on the
# six sample articles: a wrong "not covered" to someone struggling costs more than a needless passage.
UNRELATED, VOUCHES = 0.15, 0.5
# When many passages share the question's words and none is near in meaning, the words are common ones ("how do i
# get my puppy to stop biting" shares "stop" with dozens): the gate rises. A word only a few passages hold
# ("campral", "doctor shopping", "craving" on six articles) is trusted at the lower gate. Chosen on spent sets
# (dev, blind to blind6): no in-scope question there is lost at 0.3 with many candidates; 11 off-topic declined.
UNRELATED_MANY, MANY, AMONG = 0.3, 12, 24
# No sentence of the cited articles this near the question, when many passages share its words: the articles
# are on its topic but do not say what was asked ("where can i find a needle exchange near me"); with few (a
# rare word: "i keep craving it what do i do" on six articles) the words are trusted. Chosen on the same spent
# sets: 0.35 declines 6 of the 63 off-topic and uncovered questions they answered and loses no right article
# (0.4: 12, and 5).
SENTENCE_UNRELATED = 0.35


def crowded(candidates: list) -> bool:
    """Many passages share the question's words: the words alone say little about what was asked."""
    return len(candidates[:AMONG]) >= MANY


def unrelated(close: dict[int, float], crowded: bool) -> bool:
    """No candidate near enough in meaning: the words in common are a coincidence (`crowded`: see crowded())."""
    gate = UNRELATED_MANY if crowded else UNRELATED
    return max(close.values(), default=0.0) < gate


@dataclass(frozen=True)
class ChunkVectors:
    vectors: np.ndarray  # (chunks, WIDTH) float16, unit length
    encoder: SentenceEncoder
    table: np.ndarray  # every vector of the build: its chunks' and its sentences'
    rows: dict[bytes, int]  # a text's key -> its row of `table`

    def _sentence(self, text: str) -> np.ndarray:
        row = self.rows.get(_key(text))  # every sentence of the build is there; another is encoded now
        return self.table[row].astype(np.float32) if row is not None else self.encoder.encode([text])[0]

    def question(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def near(self, question: np.ndarray, sentence: str) -> float:
        """A sentence's cosine with the question, from the vector kept for it."""
        return float(self._sentence(sentence) @ question)

    def closeness(self, question: np.ndarray, chunks: list[int]) -> dict[int, float]:
        """Each chunk's cosine with the question (vectors are unit length)."""
        if not chunks:
            return {}
        rows = self.vectors[np.asarray(chunks, dtype=np.int64)].astype(np.float32)
        return dict(zip(chunks, (rows @ question).tolist()))

    def rerank(self, hits: list, close: dict[int, float], top: float) -> list:
        """Hits (chunk, score, ...) ordered by meaning first, BM25 second; ties keep BM25's order."""
        value = [close[h[0]] + WEIGHT * h[1] / (top or 1.0) for h in hits]
        order = sorted(range(len(hits)), key=lambda i: (-round(value[i], 9), i))
        return [hits[i] for i in order]


def wanted(mode: str, chunks: int) -> bool:
    return mode == "on" or (mode == "auto" and chunks <= AUTO_MAX_CHUNKS)


def _store(index, cache_dir: Path) -> Path:
    """One store per corpus: a rebuild of the same site finds its unchanged chunks there."""
    corpus = str((index.manifest.get("corpus") or {}).get("path") or "")
    return cache_dir / "vectors" / f"{hashlib.sha256(corpus.encode('utf-8')).hexdigest()[:16]}.npz"


def chunk_texts(index) -> list[str]:
    out = []
    for i in range(index.chunk_count):
        chunk = index.chunk(i)
        article = index.articles[int(index.chunk_article[i])]
        heading = f"{article.title}. {chunk.section}. " if chunk.section else f"{article.title}. "
        out.append(heading + article.text[chunk.start : chunk.end])
    return out


def _read_store(path: Path, say) -> dict[bytes, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as store:
            keys, vectors = store["keys"], store["vectors"]
        if keys.ndim == 2 and keys.shape[1] == KEY_BYTES and vectors.shape == (len(keys), WIDTH):
            return {k.tobytes(): v for k, v in zip(keys, vectors.astype(np.float16))}
        say(f"note: {path} does not hold chunk vectors; encoding the chunks again")
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, EOFError) as e:
        say(f"note: {path} is unreadable ({type(e).__name__}); encoding the chunks again")
    return {}


def _write_store(path: Path, keys: list[bytes], vectors: np.ndarray, say) -> None:
    """Written whole to a temporary file, then renamed over the old one: a reader never sees half of it."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as f:
            array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
            np.savez(f, keys=array, vectors=vectors)
        os.replace(temporary, path)
    except OSError as e:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        say(f"note: cannot keep the chunk vectors in {path.parent} ({e.strerror or e}); they are encoded each start")


def sentence_texts(index) -> list[str]:
    """Every sentence of every article, as the passage picker reads them."""
    out: dict[str, None] = {}
    for number, article in enumerate(index.articles):
        for start, end in index.sentences_in(number, 0, len(article.text)):
            out[article.text[start:end]] = None
    return list(out)


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]


def vectors_for(index, cache_dir: Path, encoder: SentenceEncoder, say=lambda _: None) -> ChunkVectors:
    """The vectors of the index's chunks and sentences: those seen before (by their text) from the cache, the
    others encoded now and kept; a damaged cache is encoded again, never trusted."""
    path = _store(index, cache_dir)
    chunks = chunk_texts(index)
    texts = chunks + sentence_texts(index)
    keys = list(dict.fromkeys(_key(t) for t in texts))
    known = _read_store(path, say)
    missing = [t for t in dict.fromkeys(texts) if _key(t) not in known]
    if missing:
        say(
            f"encoding {len(missing)} of {len(keys)} chunks and sentences for semantic reranking "
            "(new or changed ones only)"
        )
        for text, vector in zip(missing, encoder.encode(missing).astype(np.float16)):
            known[_key(text)] = vector
    table = np.zeros((len(keys), WIDTH), dtype=np.float16)
    for i, k in enumerate(keys):
        table[i] = known[k]
    if missing or len(known) != len(keys):  # the store holds exactly this build's chunks and sentences
        _write_store(path, keys, table, say)
    row = {k: i for i, k in enumerate(keys)}
    vectors = table[[row[_key(t)] for t in chunks]]
    return ChunkVectors(vectors, encoder, table, row)
