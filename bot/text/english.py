"""How common a word is in ordinary English: wordfreq's Zipf scale, without importing wordfreq for plain words.

`import wordfreq` brings ftfy, langcodes and its own regexes (a fifth of a second), and its first lookup
reads the English list (another fifth): most of what `ask` spent before answering. A word of the letters
a-z alone is one token to wordfreq, looked up as it is; for those, the list (wordfreq's own file) is read
here and the value computed with wordfreq's arithmetic (tests/test_text.py holds every word of the list, and
words missing from it, equal to wordfreq.zipf_frequency). Any other word is wordfreq's to read.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import math
import re
import threading
from functools import lru_cache
from pathlib import Path

_PLAIN = re.compile(r"[a-z]+")
_LIST = "large_en.msgpack.gz"  # wordfreq's "best" list for English
_MINIMUM = 10**0.0 / 1e9  # zipf_frequency's default minimum (Zipf 0) as a frequency: zipf_to_freq(0.0)
_lock = threading.Lock()
_buckets: dict[str, int] | None = None


def zipf(word: str) -> float:
    """wordfreq.zipf_frequency(word, "en")."""
    if _PLAIN.fullmatch(word):
        table = _table()
        if table is not None:
            return _bucket_zipf(table.get(word))
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _table() -> dict[str, int] | None:
    """Each plain word of the list -> its bucket (minus its frequency in centibels); None without the file."""
    global _buckets
    if _buckets is None:
        with _lock:
            if _buckets is None:
                _buckets = _read()
    return _buckets or None


def _read() -> dict[str, int]:
    import msgpack  # wordfreq's own dependency

    spec = importlib.util.find_spec("wordfreq")
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / "data" / _LIST if folders else None
    if path is None or not path.is_file():
        return {}
    data = msgpack.unpackb(gzip.decompress(path.read_bytes()), raw=False)
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
