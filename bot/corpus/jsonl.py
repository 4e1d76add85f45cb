"""JSON Lines files of labelled data, read with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator


def records(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line, which must be an object holding `fields`."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                missing = [name for name in fields if name not in record]
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path}:{number}: not valid JSON ({e})") from None
            if missing:
                expected = ", ".join(f'"{name}"' for name in fields)
                raise ValueError(f"{path}:{number}: expected an object with {expected}; missing {missing[0]!r}")
            yield number, record
