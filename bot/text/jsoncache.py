"""Parsed start-up data kept as plain JSON in the cache folder (BOT_CACHE_DIR), so a start reads it instead
of working it out again.

`ask` spent a fifth of its cold start turning the shipped YAML into values (importing PyYAML included) and
the crisis phrases into patterns (2,500 phrases spelled), every time, from files that rarely change. A
value is kept under the sha256 of everything it is made from (the caller's `key`: the source texts, and
the code and Python that read them), in a file that carries the sha256 of its own contents: a file that
is missing, damaged or made by other inputs is not used (the value is worked out as before and written
again). Plain JSON only, so nothing read back can run code; a folder that cannot be written costs only the
saving. Without a folder (cache_in(None), the default), nothing is kept and nothing is read.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")
_MAGIC = "bot-json-cache-1"
_lock = threading.Lock()
_folder: Path | None = None


def cache_in(folder: Path | None) -> None:
    """Where the values may be kept between processes (None: work them out each time)."""
    global _folder
    with _lock:
        _folder = folder


def folder() -> Path | None:
    return _folder


def key_of(*parts: str | bytes) -> str:
    """The sha256 of the parts, each length-prefixed (no two lists of parts give one key), and Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(f"\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def source_of(*modules) -> bytes:
    """The source of the given modules: a key made with it changes when the code that makes the value does."""
    return b"\0".join(Path(m.__file__).read_bytes() for m in modules)


def cached(kind: str, key: str, make: Callable[[], T], encode: Callable[[T], object] = lambda v: v,
           decode: Callable[[object], T] = lambda v: v) -> T:  # fmt: skip
    """make(), or the value kept for `key`: decode(the JSON that encode(make()) gave). encode returns None
    when a value cannot be kept as JSON exactly; it is then made every time."""
    where = _folder
    if where is None:
        return make()
    path = where / f"{kind}-{key[:40]}.json"
    stored = _read(path, key)
    if stored is not None:
        try:
            return decode(stored[1])
        except (KeyError, TypeError, ValueError, IndexError):
            pass  # written by other code under the same key: cannot be, but is not trusted either
    value = make()
    plain = encode(value)
    if plain is not None and is_plain(plain):
        _write(where, path, key, plain)
    return value


def _read(path: Path, key: str) -> tuple[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    head, _, payload = text.partition("\n")
    parts = head.split(" ")
    if len(parts) != 3 or parts[0] != _MAGIC or parts[1] != key:
        return None
    if hashlib.sha256(payload.encode("utf-8")).hexdigest() != parts[2]:
        return None  # damaged: made again
    try:
        return key, json.loads(payload)
    except ValueError:
        return None


def _write(where: Path, path: Path, key: str, plain: object) -> None:
    payload = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    try:
        import tempfile  # only when writing

        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:20]}-", dir=where)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"{_MAGIC} {key} {hashlib.sha256(payload.encode('utf-8')).hexdigest()}\n{payload}")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full folder: the value serves this process all the same


def is_plain(value: object) -> bool:
    """Whether JSON gives this value back exactly: dicts with str keys, lists, str, int, bool, None and finite
    floats, no container met twice (YAML's anchors share one; JSON would give two copies)."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if v is None or type(v) in (str, bool, int):
            continue
        if type(v) is float:
            if not math.isfinite(v):
                return False
            continue
        if type(v) not in (dict, list) or id(v) in seen:
            return False
        seen.add(id(v))
        if type(v) is dict:
            if not all(type(k) is str for k in v):
                return False
            stack.extend(v.values())
        else:
            stack.extend(v)
    return True
