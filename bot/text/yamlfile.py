"""YAML read with libyaml's parser when PyYAML has it: ten times faster than the pure-Python one.

The shipped word lists (safety phrases, slang, synonyms, intents) are read at every start; in pure Python
that alone took a fifth of a second of `ask`. Both loaders build the same plain values (SafeLoader's rules).
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
