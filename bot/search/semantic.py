"""Semantic reranking: each chunk's sentence vector, kept beside the index, and a question's.

BM25 ranks the candidates; the encoder says which of them means what was asked. The vectors of a build
are computed once (0.1 to 0.4 s a chunk on one busy core) and kept in the cache folder under the build's sealed
manifest, so an index that does not change is never encoded twice, and a changed one never reads stale
vectors. A corpus too large to encode in reasonable time (`AUTO_MAX_CHUNKS`) is served by BM25 alone
unless the operator asks for it (BOT_SEMANTIC=on).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.search.encoder import WIDTH, SentenceEncoder

AUTO_MAX_CHUNKS = 2000  # 3 to 10 minutes of encoding, once per build, on one core of this small machine
MODES = ("auto", "on", "off")
WEIGHT = 0.1  # of BM25 (as a share of the best score) against the cosine: chosen on spent question sets


@dataclass(frozen=True)
class ChunkVectors:
    vectors: np.ndarray  # (chunks, WIDTH) float16, unit length
    encoder: SentenceEncoder

    def question(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def rerank(self, question: np.ndarray, hits: list, top: float) -> list:
        """Hits (chunk, score, ...) ordered by meaning first, BM25 second; ties keep BM25's order."""
        if not hits:
            return hits
        chunks = np.fromiter((h[0] for h in hits), dtype=np.int64, count=len(hits))
        cosine = self.vectors[chunks].astype(np.float32) @ question
        value = cosine + WEIGHT * np.array([h[1] for h in hits]) / (top or 1.0)
        order = sorted(range(len(hits)), key=lambda i: (-round(float(value[i]), 9), i))
        return [hits[i] for i in order]


def wanted(mode: str, chunks: int) -> bool:
    return mode == "on" or (mode == "auto" and chunks <= AUTO_MAX_CHUNKS)


def _key(index) -> str:
    sealed = json.dumps(index.manifest, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(sealed).hexdigest()[:24]


def chunk_texts(index) -> list[str]:
    out = []
    for i in range(index.chunk_count):
        chunk = index.chunk(i)
        article = index.articles[int(index.chunk_article[i])]
        heading = f"{article.title}. {chunk.section}. " if chunk.section else f"{article.title}. "
        out.append(heading + article.text[chunk.start : chunk.end])
    return out


def vectors_for(index, cache_dir: Path, encoder: SentenceEncoder, say=lambda _: None) -> ChunkVectors:
    """The build's vectors from the cache, or encoded now and cached (a damaged file is encoded again)."""
    path = cache_dir / "vectors" / f"{_key(index)}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape == (index.chunk_count, WIDTH) and vectors.dtype == np.float16:
            return ChunkVectors(vectors, encoder)
        say(f"note: {path} does not fit this index; encoding its chunks again")
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        say(f"note: {path} is unreadable ({type(e).__name__}); encoding its chunks again")
    say(f"encoding {index.chunk_count} chunks for semantic reranking (once per build)")
    vectors = encoder.encode(chunk_texts(index)).astype(np.float16)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as f:
            np.save(f, vectors, allow_pickle=False)
        os.replace(temporary, path)
    except OSError as e:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        say(f"note: cannot keep the chunk vectors in {path.parent} ({e.strerror or e}); they are encoded each start")
    return ChunkVectors(vectors, encoder)
