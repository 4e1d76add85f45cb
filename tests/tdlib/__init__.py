"""tdlib, Telegram's own client library, as the judge of the HTML the bot sends: offline, through ctypes.

Telegram counts a message's length in UTF-16 units of its text after entity parsing (an emoji counts 2;
at most 4,096) and keeps the formatting of a message's first 100 entities only. tdlib's synchronous
`td_execute` parses Telegram HTML exactly as Telegram does, so the fake Bot API asks it about every
parse_mode=HTML text it receives. The library comes from the python-telegram wheel, extracted once by
`python tests/tdlib/fetch.py` (the README's test command and .ci/run run it); it is never installed.
"""

from __future__ import annotations

import ctypes
import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / ".tdlib" / "libtdjson.so"
FETCH = ".venv/bin/python tests/tdlib/fetch.py"
MAX_UNITS = 4096  # UTF-16 units of the parsed text
MAX_ENTITIES = 100  # entities past these lose their formatting, silently


class TdlibMissing(RuntimeError):
    """The library is not there (or does not load): the tests that need it fail, saying how to fetch it."""


class TdlibParseError(ValueError):
    """tdlib refused the HTML; str() is its message ("Can't parse entities: ...")."""


@dataclass(frozen=True)
class Parsed:
    text: str
    entities: tuple[dict, ...]  # tdlib's textEntity objects, offsets and lengths in UTF-16 units

    @property
    def units(self) -> int:
        return utf16_len(self.text)

    def links(self) -> list[str]:
        """The URLs of the text links among the entities Telegram keeps (the first 100)."""
        kept = sorted(self.entities, key=lambda e: e["offset"])[:MAX_ENTITIES]
        return [e["type"]["url"] for e in kept if e["type"]["@type"] == "textEntityTypeTextUrl"]


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


_lock = threading.Lock()  # td_execute's answer lives in a per-thread buffer; one call at a time is plenty


@functools.cache
def _library() -> ctypes.CDLL:
    if not LIBRARY.is_file():
        raise TdlibMissing(
            f"tdlib's libtdjson.so, the judge of Telegram HTML in these tests, is missing at "
            f"{LIBRARY}: fetch it with `{FETCH}` from the repository root (it downloads the "
            "python-telegram wheel once and extracts only the library)"
        )
    try:
        library = ctypes.CDLL(str(LIBRARY))
    except OSError as e:
        raise TdlibMissing(f"{LIBRARY} does not load ({e}): delete it and fetch it again with `{FETCH}`") from None
    library.td_execute.restype = ctypes.c_char_p
    library.td_execute.argtypes = [ctypes.c_char_p]
    _execute(library, {"@type": "setLogVerbosityLevel", "new_verbosity_level": 0})  # nothing on stderr
    return library


def _execute(library: ctypes.CDLL, request: dict) -> dict:
    with _lock:
        answer = library.td_execute(json.dumps(request).encode("utf-8"))
    return json.loads(answer.decode("utf-8"))


def execute(request: dict) -> dict:
    """One synchronous tdlib request (td_execute), its JSON answer."""
    return _execute(_library(), request)


def require() -> None:
    """Fail now, with how to fetch it, if the library is not there."""
    _library()


def parse_html(html: str) -> Parsed:
    """The text and entities Telegram makes of `html` with parse_mode HTML; raises TdlibParseError."""
    answer = execute({"@type": "parseTextEntities", "text": html, "parse_mode": {"@type": "textParseModeHTML"}})
    if answer.get("@type") == "error":
        raise TdlibParseError(answer.get("message", "unknown error"))
    return Parsed(answer["text"], tuple(answer["entities"]))
