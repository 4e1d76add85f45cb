"""The slang list (bot/data/slang.yaml): read by the search's analyzer and by the crisis triage alike."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from bot.text import yamlfile

SECTIONS = ("slang", "triage_only", "languages")


def parse(text: str, source: str = "bot/data/slang.yaml") -> dict[str, dict[str, str]]:
    try:
        data = yamlfile.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{source}: not valid YAML ({e})") from None
    out: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"{source}: {section} must hold 'how people write it: plain words' lines")
        for written, meant in entries.items():
            if not isinstance(written, str) or not isinstance(meant, str):
                raise ValueError(
                    f"{source}: {section}: {written!r}: {meant!r} must both be words in quotes "
                    "(YAML reads a bare number or yes/no otherwise)"
                )
        out[section] = {str(k): str(v) for k, v in entries.items()}
    return out


@lru_cache(maxsize=1)
def shipped_text() -> str:
    return resources.files("bot.data").joinpath("slang.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict[str, str]]:
    return parse(shipped_text())
