"""Logging that keeps health data and secrets out: no message text or ids at INFO, never the token.

The HTTP client logs every request URL at INFO, and Bot API URLs carry the token: it is turned down to
WARNING, and a filter on every handler blanks the token (and any other secret) wherever it appears.
Below DEBUG, an error is one line (what failed and why), never a traceback on the console: the libraries'
retry loops log whole tracebacks for an unreachable server or a rejected token.
"""

from __future__ import annotations

import logging
import sys
from typing import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str], tracebacks: bool = False) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._tracebacks = tracebacks

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not self._tracebacks:
            error = record.exc_info[1]
            if error is not None:
                message = f"{message} ({type(error).__name__}: {error})"
            record.exc_info, record.exc_text = None, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(level: str, secrets: Iterable[str] = (), stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets(secrets, tracebacks=logging.getLevelName(level) <= logging.DEBUG))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if logging.getLevelName(level) > logging.DEBUG:  # "Exception ignored in ..." at exit: one line, not a traceback
        sys.unraisablehook = lambda u: logging.getLogger("bot").warning(
            "ignored while shutting down: %s", type(u.exc_value).__name__ if u.exc_value else u.exc_type.__name__
        )
    for noisy in ("httpx", "httpcore", "tornado.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
