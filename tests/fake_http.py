"""The fake Bot API served over HTTP on 127.0.0.1: the way in for what only HTTP shows.

python-telegram-bot's own HTTP client (httpx) talks to it as to api.telegram.org, so the tests see what the
wire does: a connection dropped or left hanging, an answer that comes too late, 5xx and 429 answers as httpx
reads them, the bot run as a process (`python -m bot run`), the webhook. Each request is answered by the same
FakeBotAPI.route / take_fault / dispatch as in-process (tests/fake_request.py), from a form body, as PTB
sends it. Started by FakeBotAPI.start() (or ``with FakeBotAPI() as fake``); `fake.base_url` is its address.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import traceback
import urllib.parse
from typing import TYPE_CHECKING, Any

from tests.fake_bot_api import CONNECTION_FAULTS, ApiError, bad_request, decode_field

if TYPE_CHECKING:
    from tests.fake_bot_api import FakeBotAPI


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    serving: "HTTPServing"

    def handle_error(self, request, client_address):  # noqa: ARG002 - never print, never die
        exc = traceback.format_exc()
        if "ConnectionResetError" not in exc and "BrokenPipeError" not in exc:
            self.serving.fake.server_errors.append(exc)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotAPI/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.serving.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.serving.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.server.serving.serve(self)

    do_GET = do_POST


class HTTPServing:
    """One fake's HTTP server: a thread per request, as the in-process way runs each call in a worker."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.serving = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeBotAPI", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def stop(self) -> None:
        """Stop at once: connections still open (a hanging long poll) are cut."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=1.0)

    def track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ---------------------------------------------------------------- a request

    def serve(self, handler: _Handler) -> None:
        try:
            self._serve(handler)
        except OSError:  # the client went away, or stop() cut the connection
            handler.close_connection = True
        except Exception:  # a bug in the fake: answer 500, record it, keep serving
            self.fake.server_errors.append(traceback.format_exc())
            handler.close_connection = True
            try:
                _send_json(
                    handler,
                    500,
                    {"ok": False, "error_code": 500, "description": "Internal Server Error (bug in FakeBotAPI)"},
                )
            except Exception:
                pass

    def _serve(self, handler: _Handler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        try:
            length = int(handler.headers.get("Content-Length") or 0)
        except ValueError:  # a malformed Content-Length: the client's fault
            handler.close_connection = True
            _send_json(handler, 400, bad_request("can't read the request body").payload())
            return
        body = handler.rfile.read(length) if length > 0 else b""
        try:
            method = self.fake.route(parts.path)
        except ApiError as error:
            _send_json(handler, error.status, error.payload())
            return
        try:
            params = _form(handler, parts.query, body)
        except ApiError as error:
            self.fake.rejected.append((method, {}, error.status, error.description))
            _send_json(handler, error.status, error.payload())
            return
        fault = self.fake.take_fault(method)
        if fault is not None and self._serve_fault(handler, fault):
            return
        _send_json(handler, *self.fake.dispatch(method, params))

    def _serve_fault(self, handler: _Handler, fault: dict) -> bool:
        """Serve an injected fault. True if the request is done with."""
        kind = fault["fault"]
        if kind not in CONNECTION_FAULTS:
            _send_json(handler, *self.fake.fault_answer(fault))
            return True
        self.fake.pause(None if kind == "hang" else fault["delay"])
        if kind == "slow":
            return False  # then performed and answered
        handler.close_connection = True  # "drop", "timeout", "hang": no answer at all
        return True


def _form(handler: _Handler, query: str, body: bytes) -> dict:
    """The fields of the query string and a form body, as PTB sends them (no files: the bot sends none)."""
    mime = handler.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if body and mime not in ("", "application/x-www-form-urlencoded"):
        raise bad_request(
            f"the fake Bot API reads form bodies only (what python-telegram-bot sends without files), not {mime}"
        )
    fields = urllib.parse.parse_qsl(query, keep_blank_values=True)
    fields += urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: decode_field(key, value) for key, value in fields}


def _send_json(handler: _Handler, status: int, payload: dict) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
