"""How common a word is in ordinary English: wordfreq's Zipf scale, without importing wordfreq for plain words.

`import wordfreq` brings ftfy, langcodes and its own regexes (a fifth of a second), and its first lookup
reads the English list (another fifth): most of what `ask` spent before answering. A word of the letters
a-z alone is one token to wordfreq, looked up as it is; for those, the list (wordfreq's own file) is read
here and the value computed with wordfreq's arithmetic (tests/test_text.py holds every word of the list, and
words missing from it, equal to wordfreq.zipf_frequency). Any other word is wordfreq's to read.

Reading the list still took 0.15 to 0.2 s (a gzip, 320,000 strings, a dict of them), at every start of
`ask`. With a cache folder (cache_in(), given by bot/engine.py from BOT_CACHE_DIR) the plain words are
written there once, sorted, with their buckets, named by the sha256 of wordfreq's file, and later starts
look words up in that file by binary search (a few milliseconds to read and check its own sha256). A cache
that cannot be written or does not check is not used: the list is read as before.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import itertools
import math
import os
import re
import struct
import threading
from functools import lru_cache
from pathlib import Path

_PLAIN = re.compile(r"[a-z]+")
_LIST = "large_en.msgpack.gz"  # wordfreq's "best" list for English
_MINIMUM = 10**0.0 / 1e9  # zipf_frequency's default minimum (Zipf 0) as a frequency: zipf_to_freq(0.0)
_MAGIC = b"bot-english-1\n"
_lock = threading.Lock()
_buckets: dict[str, int] | None = None
_cache_dir: Path | None = None
_sorted: "_SortedWords | None | bool" = None  # False: looked for and not usable


def cache_in(folder: Path | None) -> None:
    """Where the sorted plain words may be kept between processes (None: read wordfreq's list each time)."""
    global _cache_dir, _sorted
    with _lock:
        if folder != _cache_dir:
            _cache_dir, _sorted = folder, None


COMMON = 3.0  # the Zipf frequency from which a word is common English (about once in a million words)


def common(word: str) -> bool:
    """A common English word: never a misspelling to correct, a slang word to read, or a sign of another language."""
    return zipf(word) >= COMMON


def zipf(word: str) -> float:
    """wordfreq.zipf_frequency(word, "en")."""
    if _PLAIN.fullmatch(word):
        found = _plain_bucket(word)
        if found is not False:
            return _bucket_zipf(found)
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _plain_bucket(word: str) -> int | None | bool:
    """The bucket of a plain word (None: not listed); False when there is no list to read it from."""
    words = _sorted_words()
    if words is not None:
        return words.get(word)
    table = _table()
    return table.get(word) if table is not None else False


def _source() -> Path | None:
    spec = importlib.util.find_spec("wordfreq")
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / "data" / _LIST if folders else None
    return path if path is not None and path.is_file() else None


def _table() -> dict[str, int] | None:
    """Each plain word of the list -> its bucket (minus its frequency in centibels); None without the file."""
    global _buckets
    if _buckets is None:
        with _lock:
            if _buckets is None:
                _buckets = _read()
    return _buckets or None


def _read(raw: bytes | None = None) -> dict[str, int]:
    import msgpack  # wordfreq's own dependency

    if raw is None:
        path = _source()
        if path is None:
            return {}
        raw = path.read_bytes()
    data = msgpack.unpackb(gzip.decompress(raw), raw=False)
    header = data[0]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        return {}  # a format this does not know: wordfreq reads it
    buckets = data[1:]
    # as get_frequency_dict, where a later bucket wins; built in C (a Python loop takes twice as long)
    return dict(
        zip(
            itertools.chain.from_iterable(buckets),
            itertools.chain.from_iterable(itertools.repeat(i, len(b)) for i, b in enumerate(buckets)),
        )
    )


class _SortedWords:
    """The plain words of the list, sorted, each with its bucket: looked up by binary search in one file."""

    def __init__(self, payload: bytes) -> None:
        (count,) = struct.unpack_from("<I", payload)
        view = memoryview(payload)
        self._offsets = view[4 : 4 + 4 * (count + 1)].cast("I")
        start = 4 + 4 * (count + 1)
        self._buckets = view[start : start + 2 * count].cast("H")
        self._blob = payload[start + 2 * count :]
        self._count = count
        if len(self._blob) != self._offsets[count]:
            raise ValueError("inconsistent cache")

    @lru_cache(maxsize=65536)  # noqa: B019 (one instance a process; questions repeat their words)
    def get(self, word: str) -> int | None:
        key, blob, offsets = word.encode("ascii"), self._blob, self._offsets
        lo, hi = 0, self._count
        while lo < hi:
            mid = (lo + hi) // 2
            if blob[offsets[mid] : offsets[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < self._count and blob[offsets[lo] : offsets[lo + 1]] == key:
            return self._buckets[lo]
        return None

    @staticmethod
    def payload(table: dict[str, int]) -> bytes:
        words = sorted(w for w in table if _PLAIN.fullmatch(w))
        encoded = [w.encode("ascii") for w in words]
        offsets = [0, *itertools.accumulate(len(w) for w in encoded)]
        return b"".join(
            (
                struct.pack("<I", len(words)),
                struct.pack(f"<{len(offsets)}I", *offsets),
                struct.pack(f"<{len(words)}H", *(table[w] for w in words)),
                b"".join(encoded),
            )
        )


def _sorted_words() -> _SortedWords | None:
    """The cached sorted words, written first when missing; None without a usable cache folder or list."""
    global _sorted
    if _sorted is None:
        with _lock:
            if _sorted is None:
                _sorted = _open_cache() or False
    return _sorted or None


def _open_cache() -> _SortedWords | None:
    folder = _cache_dir
    source = _source() if folder is not None else None
    if folder is None or source is None:
        return None
    try:
        raw = source.read_bytes()
    except OSError:
        return None
    path = folder / f"english-{hashlib.sha256(raw).hexdigest()[:32]}.bin"
    try:
        data = path.read_bytes()
        digest, payload = data[len(_MAGIC) : len(_MAGIC) + 32], data[len(_MAGIC) + 32 :]
        if data.startswith(_MAGIC) and hashlib.sha256(payload).digest() == digest:
            return _SortedWords(payload)
    except (OSError, ValueError, struct.error, TypeError):
        pass  # missing or damaged: written again below
    table = _read(raw)
    if not table:
        return None
    payload = _SortedWords.payload(table)
    try:
        import tempfile  # only when writing: its import costs more than reading the cache

        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".english-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full cache folder: these words serve this process all the same
    return _SortedWords(payload)


@lru_cache(maxsize=None)
def _bucket_zipf(index: int | None) -> float:
    """wordfreq's word_frequency and zipf_frequency for a one-token word in bucket `index` (None: absent)."""
    if index is None:
        freq = _MINIMUM
    else:
        freq = 1.0 / (0.0 + 1.0 / 10 ** (-index / 100))  # cB_to_freq, then 1 / sum(1 / f) over one token
        unrounded = max(freq, _MINIMUM)
        leading_zeroes = math.floor(-math.log(unrounded, 10))
        freq = round(unrounded, leading_zeroes + 3)
    return round(math.log(freq, 10) + 9, 2)
