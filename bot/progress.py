"""Progress bars for long crawls and builds, on a terminal only: silent under --json, in logs and in pipes."""

from __future__ import annotations

import sys
from typing import Callable, Iterable, TextIO, TypeVar

T = TypeVar("T")
Progress = Callable[[Iterable[T], int, str], Iterable[T]]  # (items, how many, what they are) -> the same items


def silent(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    return items


def progress_bar(enabled: bool = True, stream: TextIO | None = None) -> Progress:
    """A tqdm bar on `stream` (standard error) when it is a terminal and `enabled`; else nothing at all."""
    stream = stream or sys.stderr
    if not enabled or not getattr(stream, "isatty", lambda: False)():
        return silent
    from tqdm import tqdm

    def bar(items: Iterable[T], total: int, label: str) -> Iterable[T]:
        return tqdm(
            items, total=total, desc=label, unit=label.rstrip("s") or "it", file=stream, leave=False, dynamic_ncols=True
        )

    return bar
