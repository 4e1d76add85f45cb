"""YAML read with libyaml's parser when PyYAML has it: ten times faster than the pure-Python one.

The shipped word lists (safety phrases, slang, synonyms, intents) are read at every start; in pure Python
that alone took a fifth of a second of `ask`. Both loaders build the same plain values (SafeLoader's rules).
With a cache folder (bot/text/jsoncache.py) the values of a text read before come from their JSON there,
keyed by the text and the installed PyYAML, and PyYAML itself is not imported (a further 25 ms of a start):
only values JSON gives back exactly are kept (jsoncache.is_plain), so a start reads the same values.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from bot.text import jsoncache


class _NeverRaised(Exception):
    """What error() names while PyYAML was never imported: no YAML was parsed, so none was bad."""


def error() -> type[Exception]:
    """yaml.YAMLError, without importing PyYAML for it (for `except (..., yamlfile.error())`)."""
    yaml = sys.modules.get("yaml")
    return getattr(yaml, "YAMLError", _NeverRaised)


def parse(text: str):
    """yaml.load(text) with the safe loader, libyaml's when there: the values as PyYAML makes them."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (a safe loader)


def _installed() -> str:
    """Which PyYAML would parse: a reinstall or an upgrade rewrites its files, and so changes the cache's key."""
    spec = importlib.util.find_spec("yaml")
    origin = spec.origin if spec is not None else None
    if not origin:
        return "none"
    stat = os.stat(origin)
    return f"{origin}\0{stat.st_size}\0{stat.st_mtime_ns}"


def safe_load(text: str):
    if jsoncache.folder() is None:
        return parse(text)
    return jsoncache.cached("yaml", jsoncache.key_of(text, _installed()), lambda: parse(text))
