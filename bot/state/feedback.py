"""Helpful / not helpful counts, per article and per answer: no user id, no chat id, no question text.

An "answer" is named by the chunk ids it quoted, so the operator can see which passages help.
Saved as JSON, replaced atomically on every vote (votes are rare; losing one to a crash is worse).
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

KINDS = ("helpful", "unhelpful")


class FeedbackStore:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data = {"articles": {}, "answers": {}}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._data["articles"] = dict(loaded.get("articles", {}))
                    self._data["answers"] = dict(loaded.get("answers", {}))
            except (OSError, ValueError) as e:
                raise ValueError(f"{path}: feedback file cannot be read ({e}); move it aside to start afresh") from e

    def record(self, kind: str, article_ids: list[str], chunk_ids: list[str]) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        with self._lock:
            for article in dict.fromkeys(article_ids):
                counts = self._data["articles"].setdefault(article, {k: 0 for k in KINDS})
                counts[kind] = counts.get(kind, 0) + 1
            counts = self._data["answers"].setdefault(" ".join(chunk_ids), {k: 0 for k in KINDS})
            counts[kind] = counts.get(kind, 0) + 1
            self._save()

    def counts(self) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._data))

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self._data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
