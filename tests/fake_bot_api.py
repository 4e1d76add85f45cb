"""A local fake of the Telegram Bot API, for end-to-end tests of the bot.

Standard library only. It listens on 127.0.0.1 (a free port) and answers the way
api.telegram.org does, closely enough for python-telegram-bot (PTB) to be pointed at it
with ``Bot(token, base_url=fake.base_url)`` or ``ApplicationBuilder().base_url(...)``:

* every answer carries the real HTTP status; errors have the body
  ``{"ok": false, "error_code": N, "description": "..."}`` (PTB reads the status, not "ok");
* requests are read the way PTB sends them: form fields (urlencoded or multipart) where
  strings are sent as they are and every other value JSON-encoded; a JSON body works too;
* ``parse_mode=HTML`` texts are judged by tdlib, Telegram's own parser (tests/tdlib: refused
  with "can't parse entities" as Telegram refuses them, "message is too long" over 4,096 UTF-16
  units of parsed text, and only the first 100 entities kept, as Telegram keeps them); every
  verdict is recorded in ``FakeBotAPI.judged`` so tests can assert on lengths and entity counts.
  They are also parsed by the fake's own parser, which must agree with tdlib, and which,
  stricter than Telegram, refuses a bare ``&`` too (see ``FakeBotAPI.strict_html``), so
  escaping bugs fail loudly in tests.

Usage::

    with FakeBotAPI() as fake:
        fake.push_command("/start")
        ...run the bot against fake.base_url...
        [params] = fake.wait_for("sendMessage")
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import http.server
import json
import re
import socket
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from tests import tdlib

__all__ = ["FakeBotAPI", "HTMLParseError", "parse_html", "visible_text", "MAX_TEXT_LENGTH"]

MAX_TEXT_LENGTH = 4096  # UTF-16 units of the text after entity parsing
MAX_ENTITIES = 100  # Telegram keeps the formatting of the first 100 entities of a message, drops the rest
_LONG_POLL_CAP = 5.0  # seconds a getUpdates may block, whatever `timeout` asks for

# --------------------------------------------------------------------------------------
# Telegram HTML
# --------------------------------------------------------------------------------------


class HTMLParseError(ValueError):
    """The text is not valid Telegram HTML. ``str(exc)`` is what follows
    "Bad Request: can't parse entities: " in the server's answer."""


_SPACE = " \t\r\n\v\f"
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "code", "pre", "tg-spoiler", "span", "blockquote", "tg-emoji",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HEX = frozenset("0123456789abcdefABCDEF")
_DEC = frozenset("0123456789")


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_html_entity(text: str, i: int, strict: bool) -> tuple[str | None, int]:
    """``text[i] == "&"``. Returns (character, index after the entity) or (None, i)."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        if j < n and text[j] in "xX":
            j += 1
            start, digits_ok, base = j, _HEX, 16
        else:
            start, digits_ok, base = j, _DEC, 10
        while j < n and text[j] in digits_ok:
            j += 1
        digits = text[start:j]
        if not digits or len(digits) > 7:
            return None, i
        value = int(digits, base)
        if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return None, i
        char = chr(value)
    else:
        start = j
        while j < n and text[j].isascii() and text[j].isalpha():
            j += 1
        char = _NAMED_ENTITIES.get(text[start:j])
        if char is None:
            return None, i
    if j < n and text[j] == ";":
        return char, j + 1
    if strict:  # Telegram takes "&lt" without ";"; the strict fake wants well-formed HTML
        return None, i
    return char, j


def _bad_ampersand(text: str, i: int) -> HTMLParseError:
    return HTMLParseError(
        f'Character "&" at byte offset {_byte_offset(text, i)} does not start an HTML entity '
        '(only &lt; &gt; &amp; &quot; and numeric ones are supported); escape it as "&amp;"'
    )


def parse_html(html: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram HTML into (visible text, list of MessageEntity dicts).

    Follows tdlib's parser (supported tags only, end tags must match the innermost open tag,
    unknown attributes ignored, a bare ">" is text). With ``strict`` (the default) a "&"
    that does not start &lt; &gt; &amp; &quot; or a numeric entity, with its ";", is an
    error; Telegram itself would show it as a literal "&". Raises HTMLParseError.
    Entity offsets and lengths are in UTF-16 code units, like Telegram's.
    """
    out: list[str] = []
    entities: list[dict] = []
    stack: list[dict] = []
    utf16 = 0
    n = len(html)
    i = 0
    while i < n:
        c = html[i]
        if c == "&":
            char, j = _decode_html_entity(html, i, strict)
            if char is not None:
                out.append(char)
                utf16 += _utf16_len(char)
                i = j
                continue
            if strict:
                raise _bad_ampersand(html, i)
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if i < n and html[i] == "/":  # end tag
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {_byte_offset(html, begin)}")
            i += 1
            j = i
            while j < n and html[j] not in _SPACE and html[j] != ">":
                j += 1
            end_name = html[i:j].lower()
            while j < n and html[j] in _SPACE:
                j += 1
            if j >= n or html[j] != ">":
                raise HTMLParseError(f"Unclosed end tag at byte offset {_byte_offset(html, begin)}")
            i = j + 1
            top = stack.pop()
            if end_name and end_name != top["tag"]:
                raise HTMLParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(html, begin)}, "
                    f'expected "</{top["tag"]}>", found "</{end_name}>"'
                )
            _close_entity(top, utf16, out, entities)
            continue

        # start tag
        j = i
        while j < n and html[j] not in _SPACE and html[j] != ">":
            j += 1
        if j >= n:
            raise HTMLParseError(f"Unclosed start tag at byte offset {_byte_offset(html, begin)}")
        tag = html[i:j].lower()
        if tag not in _SUPPORTED_TAGS:
            raise HTMLParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(html, begin)}'
            )
        attrs: dict[str, str] = {}
        i = j
        while True:
            while i < n and html[i] in _SPACE:
                i += 1
            if i >= n:
                raise HTMLParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}'
                )
            if html[i] == ">":
                i += 1
                break
            name_start = i
            while i < n and html[i] not in _SPACE and html[i] not in "=>":
                i += 1
            name = html[name_start:i].lower()
            if not name:
                raise HTMLParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(html, begin)}'
                )
            while i < n and html[i] in _SPACE:
                i += 1
            if i >= n:
                raise HTMLParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}'
                )
            if html[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    attrs[name] = ""
                    continue
                raise HTMLParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(html, begin)}"
                )
            i += 1
            while i < n and html[i] in _SPACE:
                i += 1
            if i >= n:
                raise HTMLParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(html, begin)}'
                )
            quote = html[i]
            if quote in "\"'":
                i += 1
                value_chars: list[str] = []
                while i < n and html[i] != quote:
                    if html[i] == "&":
                        char, j = _decode_html_entity(html, i, strict)
                        if char is not None:
                            value_chars.append(char)
                            i = j
                            continue
                        if strict:
                            raise _bad_ampersand(html, i)
                    value_chars.append(html[i])
                    i += 1
                if i >= n:
                    raise HTMLParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(html, begin)}"
                    )
                i += 1
                value = "".join(value_chars)
            else:  # a name token
                token_start = i
                while i < n and ((html[i].isascii() and html[i].isalnum()) or html[i] in ".-"):
                    i += 1
                value = html[token_start:i].lower()
                if i >= n or (html[i] not in _SPACE and html[i] != ">"):
                    raise HTMLParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(html, token_start)}"
                    )
            attrs[name] = value
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HTMLParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(html, begin)}'
            )
        if tag == "tg-emoji" and not attrs.get("emoji-id"):
            raise HTMLParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte_offset(html, begin)}'
            )
        stack.append({"tag": tag, "attrs": attrs, "offset": utf16, "out_pos": len(out)})

    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_entity(top: dict, utf16: int, out: list[str], entities: list[dict]) -> None:
    offset = top["offset"]
    length = utf16 - offset
    if length <= 0:
        return
    tag, attrs = top["tag"], top["attrs"]
    if tag in _SIMPLE_ENTITY_TYPES:
        entities.append({"type": _SIMPLE_ENTITY_TYPES[tag], "offset": offset, "length": length})
    elif tag == "a":
        url = attrs.get("href") or "".join(out[top["out_pos"]:])
        entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    elif tag == "tg-emoji":
        entities.append(
            {"type": "custom_emoji", "offset": offset, "length": length,
             "custom_emoji_id": attrs["emoji-id"]}
        )
    elif tag == "code":
        cls = attrs.get("class", "")
        language = cls[len("language-"):] if cls.startswith("language-") else ""
        last = entities[-1] if entities else None
        if (last and last["type"] == "pre" and language and last["offset"] == offset
                and last["length"] == length):
            last["language"] = language
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if language:
                entity["_language"] = language
            entities.append(entity)
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (last and last["type"] == "code" and last.get("_language")
                and last["offset"] == offset and last["length"] == length):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})


def visible_text(html: str) -> str:
    """The text a user sees for ``html`` sent with parse_mode=HTML (tags removed, entities
    decoded); Telegram's limit of 4,096 UTF-16 units applies to this. Raises HTMLParseError."""
    return parse_html(html)[0]


def _strip_formatted(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims the whitespace around a message's text; move the entities along."""
    stripped_left = text.lstrip()
    shift = _utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip()
    total = _utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


# --------------------------------------------------------------------------------------
# Request decoding
# --------------------------------------------------------------------------------------

# Fields PTB (and Telegram) treat as plain strings: never JSON-decoded.
TEXT_FIELDS = frozenset(
    {
        "text", "caption", "parse_mode", "secret_token", "url", "callback_query_id",
        "inline_query_id", "query", "switch_pm_text", "switch_pm_parameter", "next_offset",
        "action", "description", "short_description", "name", "language_code",
        "inline_message_id", "ip_address", "emoji", "title", "business_connection_id",
        "message_effect_id", "data", "game_short_name", "question", "explanation",
        "first_name", "last_name", "phone_number", "vcard", "address", "foursquare_id",
        "foursquare_type", "google_place_id", "google_place_type", "payload",
        "provider_token", "currency", "start_parameter", "sticker", "photo", "document",
        "video", "audio", "voice", "animation", "video_note", "thumbnail", "file_id",
        "custom_description", "sticker_set_name", "custom_title", "invite_link",
        "explanation_parse_mode", "question_parse_mode", "caption_parse_mode",
    }
)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def decode_field(name: str, raw: str) -> Any:
    """Decode one form field as PTB encodes it: strings verbatim, anything else as JSON."""
    if name in TEXT_FIELDS:
        return raw
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw


class _BadRequestBody(Exception):
    pass


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _Ok:
    """A successful result with Telegram's optional "description" (e.g. "Webhook was set")."""

    def __init__(self, result: Any, description: str):
        self.result = result
        self.description = description


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


_PATH_RE = re.compile(r"/bot([^/]*)/([^/]*)")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
FAULTS = frozenset({"429", "500", "502", "403", "400", "timeout", "drop", "hang", "slow"})
_FAULT_ERRORS = {
    "400": (400, "Bad Request: injected fault"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def _update_type(update: dict) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad("wrong parameter type")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad("wrong parameter type") from None


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: "FakeBotAPI"

    def handle_error(self, request, client_address):  # noqa: ARG002 - never print, never die
        exc = traceback.format_exc()
        if "ConnectionResetError" not in exc and "BrokenPipeError" not in exc:
            self.fake.server_errors.append(exc)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotAPI/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track_connection(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track_connection(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._serve(self)

    do_GET = do_POST


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeBotAPI:
    """A fake Telegram Bot API server on 127.0.0.1. See the module docstring."""

    # Shaped like a real token (the bot checks the shape), written in two parts so that secret scanners
    # looking for real tokens in the repository are not set off by it.
    TOKEN = "123456789:" + "AAFakeTokenForTestsOnly_abcdefghijkl"

    #: Refuse a bare "&" in parse_mode=HTML texts (Telegram shows it literally). Set to False
    #: on an instance to parse exactly as leniently as Telegram.
    strict_html: bool = True

    def __init__(self, token: str = TOKEN, username: str = "recovery_test_bot", bot_id: int = 999000):
        if not token or "/" in token:
            raise ValueError(f"unusable token: {token!r}")
        tdlib.require()  # the judge of every HTML text: without it, fail now and say how to fetch it
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.bot_user: dict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Recovery Test Bot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopped = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

        # what the bot did
        self.calls: list[tuple[str, dict]] = []
        self.sent_messages: list[dict] = []
        self.faults_served: list[tuple[str, str]] = []
        #: error answers the server gave on its own (not injected): (method, params, status, description)
        self.rejected: list[tuple[str, dict, int, str]] = []
        #: tracebacks of bugs in the fake itself (a test may assert this stays empty)
        self.server_errors: list[str] = []
        #: updates POSTed by post_to_webhook: (url, update, HTTP status)
        self.webhook_deliveries: list[tuple[str, dict, int]] = []
        #: tdlib's verdict on every parse_mode=HTML text: {"method", "units", "entities", "links", "error"}
        self.judged: list[dict] = []

        # Telegram's state
        self.webhook: dict | None = None
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self._updates: list[dict] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._next_query_id = 1
        self._messages: dict[tuple[Any, int], dict] = {}
        self._chats: dict[Any, dict] = {}
        self._users: dict[int, dict] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._faults: list[dict] = []

        self._handlers: dict[str, Callable[[dict], Any]] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "sendMessage": self._m_send_message,
            "sendChatAction": self._m_send_chat_action,
            "answerCallbackQuery": self._m_answer_callback_query,
            "answerInlineQuery": self._m_answer_inline_query,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "deleteMessage": self._m_delete_message,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyDescription": self._m_set_my_description,
            "getMyDescription": self._m_get_my_description,
            "setMyShortDescription": self._m_set_my_short_description,
            "getMyShortDescription": self._m_get_my_short_description,
            "close": self._m_true,
            "logOut": self._m_true,
        }
        # Telegram's method names are case-insensitive
        self._method_names = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "FakeBotAPI":
        if self._server is not None:
            return self
        self._stopped.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="FakeBotAPI", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeBotAPI":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For PTB's ``base_url``: PTB appends the token, then ``/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    def _track_connection(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ---------------------------------------------------------------- sending updates

    def _user(self, user_id: int, first_name: str | None = None) -> dict:
        with self._lock:
            user = self._users.get(user_id)
            if user is None or (first_name and user.get("first_name") != first_name):
                user = {"id": user_id, "is_bot": False, "first_name": first_name or "Alex",
                        "language_code": "en"}
                self._users[user_id] = user
            return dict(user)

    def _remember_message(self, message: dict) -> None:
        """Called with the lock held."""
        chat = message.get("chat")
        if not isinstance(chat, dict) or "id" not in chat or "message_id" not in message:
            return
        self._chats[chat["id"]] = dict(chat)
        sender = message.get("from")
        if isinstance(sender, dict) and "id" in sender and not sender.get("is_bot"):
            self._users.setdefault(sender["id"], dict(sender))
        if isinstance(message["message_id"], int):
            self._next_message_id = max(self._next_message_id, message["message_id"] + 1)
        reply = message.get("reply_to_message")
        if isinstance(reply, dict) and (chat["id"], reply.get("message_id")) not in self._messages:
            self._remember_message(reply)
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)

    def _prepare_update(self, update: dict) -> dict:
        """Assign an update_id, remember what the update carries. Lock held."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        for key in _MESSAGE_KEYS:
            if isinstance(update.get(key), dict):
                self._remember_message(update[key])
        query = update.get("callback_query")
        if isinstance(query, dict):
            if "id" in query:
                self._open_callback_queries.add(str(query["id"]))
            if isinstance(query.get("message"), dict):
                self._remember_message(query["message"])
        inline = update.get("inline_query")
        if isinstance(inline, dict) and "id" in inline:
            self._open_inline_queries.add(str(inline["id"]))
        return update

    def push_update(self, update: dict) -> dict:
        """Queue an update for getUpdates, as Telegram would. Returns the queued update."""
        with self._cond:
            update = self._prepare_update(update)
            self._updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _chat_for_push(self, chat_id: int, chat_type: str, first_name: str) -> dict:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name}
        title = "Test channel" if chat_type == "channel" else "Test group"
        return {"id": chat_id, "type": chat_type, "title": title}

    def push_message(
        self,
        text: str | None = None,
        *,
        chat_id: int = 1001,
        user_id: int = 1001,
        chat_type: str = "private",
        entities: list | None = None,
        reply_to: dict | None = None,
        first_name: str = "Alex",
        **fields: Any,
    ) -> dict:
        """Queue a user's message. ``fields`` go into the Message (e.g. sticker=..., photo=[...],
        or "from" to replace the sender). ``reply_to`` is a Message dict (e.g. one the bot sent)."""
        with self._lock:
            message_id = self._next_message_id
            self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._user(user_id, first_name),
            "chat": self._chat_for_push(chat_id, chat_type, first_name),
            "date": int(time.time()),
        }
        if text is not None:
            message["text"] = text
        if entities:
            message["entities"] = list(entities)
        if reply_to is not None:
            with self._lock:
                key = (reply_to.get("chat", {}).get("id"), reply_to.get("message_id"))
                current = copy.deepcopy(self._messages.get(key, reply_to))
            current.pop("reply_to_message", None)
            message["reply_to_message"] = current
        message.update(fields)
        return self.push_update({"message": message})

    def push_command(self, command: str, args: str = "", **kw: Any) -> dict:
        """Queue "/command args" with its bot_command entity. ``command`` may be "start",
        "/start" or "/start@botname"."""
        token = command if command.startswith("/") else "/" + command
        text = f"{token} {args}" if args else token
        entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(token)}]
        entities += list(kw.pop("entities", None) or [])
        return self.push_message(text, entities=entities, **kw)

    def push_mention(self, text: str, **kw: Any) -> dict:
        """Queue "@<bot username> text" with its mention entity."""
        mention = "@" + self.username
        shift = _utf16_len(mention) + 1
        entities = [{"type": "mention", "offset": 0, "length": _utf16_len(mention)}]
        for entity in kw.pop("entities", None) or []:
            entities.append({**entity, "offset": entity["offset"] + shift})
        return self.push_message(f"{mention} {text}", entities=entities, **kw)

    def push_callback(self, data: str, message: dict, *, user_id: int = 1001) -> dict:
        """Queue a press of an inline button with callback ``data`` on ``message`` (a Message
        dict the bot sent, e.g. from ``sent_messages``; its current state is used)."""
        with self._lock:
            key = (message.get("chat", {}).get("id"), message.get("message_id"))
            current = copy.deepcopy(self._messages.get(key, message))
            query_id = str(self._next_query_id)
            self._next_query_id += 1
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": current,
            "chat_instance": f"chat-instance-{key[0]}",
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def push_inline_query(self, query: str, *, user_id: int = 1001) -> dict:
        with self._lock:
            query_id = str(self._next_query_id)
            self._next_query_id += 1
        inline = {"id": query_id, "from": self._user(user_id), "query": query, "offset": ""}
        return self.push_update({"inline_query": inline})

    @property
    def pending_updates(self) -> list[dict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def get_message(self, chat_id: Any, message_id: int) -> dict | None:
        """The current state of a message the server knows (after edits), or None."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message) if message is not None else None

    # ---------------------------------------------------------------- what the bot did

    def calls_to(self, method: str) -> list[dict]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def _calls_summary(self) -> str:
        with self._lock:
            calls = list(self.calls)
            faults = list(self.faults_served)
            rejected = [(m, s, d) for m, _, s, d in self.rejected]
            errors = len(self.server_errors)
        collapsed: list[str] = []
        previous, run = None, 0
        for name, _ in calls:
            if name == previous:
                run += 1
                continue
            if previous is not None:
                collapsed.append(previous if run == 1 else f"{previous} x{run}")
            previous, run = name, 1
        if previous is not None:
            collapsed.append(previous if run == 1 else f"{previous} x{run}")
        text = f"calls received: [{', '.join(collapsed) or 'none'}]"
        if faults:
            text += f"; faults served: {faults}"
        if rejected:
            text += f"; error answers: {rejected[-5:]}"
        if errors:
            text += f"; {errors} internal error(s) in the fake (see .server_errors)"
        return text

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[dict], bool] | None = None,
    ) -> list[dict]:
        """Block until at least ``count`` calls to ``method`` (matching ``where(params)``) were
        answered; return them all. Raises AssertionError, saying what WAS called, on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [
                    params for name, params in self.calls
                    if name == method and (where is None or where(params))
                ]
                if len(matching) >= count:
                    return copy.deepcopy(matching)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
        qualifier = " matching `where`" if where is not None else ""
        raise AssertionError(
            f"expected {count} call(s) to {method}{qualifier} within {timeout}s, got "
            f"{len(matching)}; {self._calls_summary()}"
        )

    # ---------------------------------------------------------------- faults

    def inject(self, method: str, fault: str, times: int = 1, retry_after: int = 1,
               delay: float = 0.0) -> None:
        """Make the next ``times`` calls to ``method`` ("*": any method but getUpdates) fail.

        fault: "429" (with parameters.retry_after), "500", "502", "403" (bot blocked),
        "400"; "drop" (connection closed, no answer); "timeout" (wait ``delay`` s, then
        close without answering); "hang" (no answer until stop()); "slow" (wait ``delay`` s,
        then perform the call and answer normally). ``delay`` also delays the error answers.
        Except for "slow", the call is not performed and not recorded in ``calls``; every
        served fault is recorded in ``faults_served`` as (method, fault).
        """
        fault = str(fault)
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(
                {"method": method, "fault": fault, "times": times,
                 "retry_after": retry_after, "delay": delay}
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault["method"] == method or (fault["method"] == "*" and method != "getUpdates"):
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self._faults.remove(fault)
                    self.faults_served.append((method, fault["fault"]))
                    self._cond.notify_all()
                    return fault
        return None

    def _serve_fault(self, handler: _Handler, method: str, fault: dict) -> bool:
        """Serve an injected fault. True if the request is done with."""
        kind, delay = fault["fault"], fault["delay"]
        if kind == "hang":
            self._stopped.wait()
            handler.close_connection = True
            return True
        if delay:
            self._stopped.wait(delay)
        if kind == "slow":
            return False
        if kind in ("drop", "timeout"):
            handler.close_connection = True
            return True
        if kind == "429":
            retry_after = fault["retry_after"]
            error = _ApiError(429, f"Too Many Requests: retry after {retry_after}",
                              {"retry_after": retry_after})
        else:
            error = _ApiError(*_FAULT_ERRORS[kind])
        self._send_json(handler, error.status, error.payload())
        return True

    # ---------------------------------------------------------------- webhook helper

    def post_to_webhook(self, url: str, update: dict, secret_token: str | None) -> int:
        """POST ``update`` to ``url`` like Telegram delivers to a webhook (JSON body,
        Content-Type exactly application/json, header X-Telegram-Bot-Api-Secret-Token if
        ``secret_token`` is not None). Loopback URLs only. Returns the HTTP status."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"post_to_webhook only posts to loopback http(s) URLs, not {url!r}")
        with self._lock:
            update = self._prepare_update(update)
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        request = urllib.request.Request(
            url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        with self._lock:
            self.webhook_deliveries.append((url, update, status))
        return status

    # ---------------------------------------------------------------- request handling

    def _send_json(self, handler: _Handler, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()

    def _serve(self, handler: _Handler) -> None:
        try:
            self._serve_request(handler)
        except OSError:  # the client went away, or stop() cut the connection
            handler.close_connection = True
        except Exception:  # a bug in the fake: answer 500, record it, keep serving
            self.server_errors.append(traceback.format_exc())
            handler.close_connection = True
            try:
                self._send_json(handler, 500, {"ok": False, "error_code": 500,
                                               "description": "Internal Server Error (bug in FakeBotAPI)"})
            except Exception:
                pass

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = handler.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline(65537)
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _parse_params(handler: _Handler, query: str, body: bytes) -> dict:
        params: dict[str, Any] = {}
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[key] = decode_field(key, value)
        if not body:
            return params
        content_type = handler.headers.get("Content-Type", "")
        mime = content_type.split(";")[0].strip().lower()
        if mime == "application/json":
            try:
                data = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise _BadRequestBody("can't parse JSON object") from None
            if not isinstance(data, dict):
                raise _BadRequestBody("can't parse JSON object")
            for key, value in data.items():
                params[key] = decode_field(key, value) if isinstance(value, str) else value
        elif mime == "multipart/form-data":
            head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            if not message.is_multipart():
                raise _BadRequestBody("can't parse multipart/form-data")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    params[name] = {"filename": filename, "content_type": part.get_content_type(),
                                    "size": len(payload), "content": payload}
                else:
                    params[name] = decode_field(name, payload.decode("utf-8", "replace"))
        else:  # application/x-www-form-urlencoded, or no type at all
            text = body.decode("utf-8", "replace")
            for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
                params[key] = decode_field(key, value)
        return params

    def _serve_request(self, handler: _Handler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        try:
            body = self._read_body(handler)
        except ValueError:  # a malformed Content-Length or chunk size: the client's fault
            handler.close_connection = True
            self._send_json(handler, 400, _bad("can't read the request body").payload())
            return
        match = _PATH_RE.fullmatch(parts.path)
        if not match:
            self._send_json(handler, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, name = match.groups()
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                error = _ApiError(401, "Unauthorized")
            else:
                error = _ApiError(404, "Not Found")
            with self._lock:
                self.rejected.append((name, {}, error.status, error.description))
            self._send_json(handler, error.status, error.payload())
            return
        method = self._method_names.get(name.lower(), name)
        try:
            params = self._parse_params(handler, parts.query, body)
        except _BadRequestBody as exc:
            error = _bad(str(exc))
            with self._lock:
                self.rejected.append((method, {}, error.status, error.description))
            self._send_json(handler, error.status, error.payload())
            return
        fault = self._take_fault(method)
        if fault is not None and self._serve_fault(handler, method, fault):
            return
        status, payload = self._dispatch(method, params)
        self._send_json(handler, status, payload)

    def _dispatch(self, method: str, params: dict) -> tuple[int, dict]:
        method_handler = self._handlers.get(method)
        recorded = copy.deepcopy(params)
        with self._cond:
            record_first = method == "getUpdates"  # so tests can see a long poll has begun
            if record_first:
                self.calls.append((method, recorded))
                self._cond.notify_all()
            try:
                if method_handler is None:
                    raise _ApiError(404, "Not Found: method not found")
                result = method_handler(params)
                if isinstance(result, _Ok):
                    status, payload = 200, {"ok": True, "result": result.result,
                                            "description": result.description}
                else:
                    status, payload = 200, {"ok": True, "result": result}
            except _ApiError as error:
                status, payload = error.status, error.payload()
                self.rejected.append((method, recorded, error.status, error.description))
            if not record_first:
                self.calls.append((method, recorded))
            self._cond.notify_all()
        return status, payload

    # ---------------------------------------------------------------- helpers for methods

    def _chat(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, (int, str)):
            raise _bad("chat not found")
        if isinstance(chat_id, str):
            if re.fullmatch(r"-?\d+", chat_id):
                chat_id = int(chat_id)
            elif re.fullmatch(r"@[A-Za-z0-9_]{4,32}", chat_id):
                for chat in self._chats.values():
                    if chat.get("username", "").lower() == chat_id[1:].lower():
                        return dict(chat)
                return {"id": -1000000000000 - (sum(map(ord, chat_id)) % 10**9), "type": "channel",
                        "title": chat_id[1:], "username": chat_id[1:]}
            else:
                raise _bad("chat not found")
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id > 0:
            return {"id": chat_id, "type": "private"}
        if chat_id <= -1000000000000:
            return {"id": chat_id, "type": "supergroup"}
        return {"id": chat_id, "type": "group"}

    def _judge(self, method: str, raw: str) -> tdlib.Parsed:
        """tdlib's verdict, recorded; refused as Telegram refuses it."""
        try:
            parsed = tdlib.parse_html(raw)
        except tdlib.TdlibParseError as exc:
            message = str(exc)
            self.judged.append({"method": method, "units": None, "entities": None, "links": [], "error": message})
            raise _bad(message[:1].lower() + message[1:]) from None  # "can't parse entities: Can't find ..."
        self.judged.append({"method": method, "units": parsed.units, "entities": len(parsed.entities),
                            "links": parsed.links(), "error": None})
        if parsed.units > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return parsed

    def _formatted_text(self, params: dict, field: str = "text", method: str = "sendMessage") -> tuple[str, list[dict]]:
        raw = params.get(field)
        if raw is None or raw == "":
            raise _bad("message text is empty")
        if not isinstance(raw, str):
            raw = json.dumps(raw)
        parse_mode = params.get("parse_mode")
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            judged = self._judge(method, raw)
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HTMLParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
            if text != judged.text or len(entities) != len(judged.entities):
                self.server_errors.append(f"the fake's HTML parser disagrees with tdlib on {raw!r}: "
                                          f"{text!r} {entities} vs {judged.text!r} {list(judged.entities)}")
            entities = sorted(entities, key=lambda e: e["offset"])[:MAX_ENTITIES]
        elif mode == "":
            text = raw
            entities = [dict(e) for e in params.get("entities") or [] if isinstance(e, dict)]
        elif mode in ("markdown", "markdownv2"):
            text, entities = raw, []  # not parsed by the fake: the length check uses the raw text
        else:
            raise _bad("unsupported parse_mode")
        if _utf16_len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        if not text.strip():
            raise _bad("message text is empty")
        return _strip_formatted(text, entities)

    @staticmethod
    def _inline_markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            if not isinstance(markup["inline_keyboard"], list):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            for row in markup["inline_keyboard"]:
                if not isinstance(row, list):
                    raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                    data = button.get("callback_data")
                    if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                        raise _bad("BUTTON_DATA_INVALID")
            return copy.deepcopy(markup)
        if markup is not None and not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        return None

    def _reply_target(self, params: dict, chat: dict) -> dict | None:
        reply_parameters = params.get("reply_parameters")
        chat_id, message_id = chat["id"], None
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            chat_id = reply_parameters.get("chat_id", chat_id)
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            return None
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply

    def _bot_sender(self) -> dict:
        return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    def _stored_message(self, params: dict, verb: str) -> dict:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None or message_id == "":
            raise _bad("message identifier is not specified")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            raise _bad(f"message to {verb} not found")
        return stored

    # ---------------------------------------------------------------- methods
    # Each runs with the lock held and returns the "result" (or raises _ApiError).

    def _m_true(self, params: dict) -> bool:
        return True

    def _m_get_me(self, params: dict) -> dict:
        return copy.deepcopy(self.bot_user)

    def _m_get_updates(self, params: dict) -> list[dict]:
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                 "use deleteWebhook to delete the webhook first")
        offset = _as_int(params.get("offset"), 0)
        limit = min(100, max(1, _as_int(params.get("limit"), 100)))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            raise _bad("wrong parameter type") from None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(kind) for kind in allowed} or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # a waiting getUpdates is terminated by this one

        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(timeout, _LONG_POLL_CAP)
        while True:
            batch = self._deliverable(limit)
            if batch or self._stopped.is_set():
                return copy.deepcopy(batch)
            if generation != self._poll_generation:
                raise _ApiError(409, "Conflict: terminated by other getUpdates request; "
                                     "make sure that only one bot instance is running")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)

    def _deliverable(self, limit: int) -> list[dict]:
        def allowed(update: dict) -> bool:
            kind = _update_type(update)
            if self._allowed_updates is None:
                return kind not in _DEFAULT_EXCLUDED_UPDATES
            return kind in self._allowed_updates

        self._updates = [u for u in self._updates if allowed(u)]  # unwanted ones never arrive
        return self._updates[:limit]

    def _m_send_message(self, params: dict) -> dict:
        chat = self._chat(params)
        text, entities = self._formatted_text(params)
        markup = self._inline_markup(params)
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "from": self._bot_sender(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        self._next_message_id += 1
        if entities:
            message["entities"] = entities
        reply = self._reply_target(params, chat)
        if reply is not None:
            message["reply_to_message"] = reply
        if markup is not None:
            message["reply_markup"] = markup
        if isinstance(params.get("link_preview_options"), dict):
            message["link_preview_options"] = copy.deepcopy(params["link_preview_options"])
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        self.sent_messages.append(copy.deepcopy(message))
        return message

    def _m_send_chat_action(self, params: dict) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _m_edit_message_text(self, params: dict) -> Any:
        if params.get("inline_message_id"):
            self._formatted_text(params, method="editMessageText")
            return True
        stored = self._stored_message(params, "edit")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        if "text" not in stored:
            raise _bad("there is no text in the message to edit")
        text, entities = self._formatted_text(params, method="editMessageText")
        markup = self._inline_markup(params)  # no reply_markup: the keyboard goes away
        if (text == stored["text"] and entities == stored.get("entities", [])
                and markup == stored.get("reply_markup")):
            raise _bad(_NOT_MODIFIED)
        stored["text"] = text
        for key, value in (("entities", entities), ("reply_markup", markup)):
            if value:
                stored[key] = value
            else:
                stored.pop(key, None)
        stored["edit_date"] = int(time.time())
        self.sent_messages.append(copy.deepcopy(stored))
        return copy.deepcopy(stored)

    def _m_edit_message_reply_markup(self, params: dict) -> Any:
        if params.get("inline_message_id"):
            self._inline_markup(params)
            return True
        stored = self._stored_message(params, "edit")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        markup = self._inline_markup(params)
        if markup == stored.get("reply_markup"):
            raise _bad(_NOT_MODIFIED)
        if markup:
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    def _m_delete_message(self, params: dict) -> bool:
        stored = self._stored_message(params, "delete")
        del self._messages[(stored["chat"]["id"], stored["message_id"])]
        return True

    def _m_answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callback_queries:
            raise _bad(_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    def _m_answer_inline_query(self, params: dict) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._open_inline_queries:
            raise _bad(_QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad("results must be an Array")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type") or not result.get("id"):
                raise _bad("can't parse InlineQueryResult: field \"type\"/\"id\" must be a non-empty String")
            result_id = str(result["id"])
            if len(result_id.encode("utf-8")) > 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article" and not result.get("title"):
                raise _bad("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                try:
                    self._formatted_text(
                        {"text": content.get("message_text"), "parse_mode": content.get("parse_mode"),
                         "entities": content.get("entities")}, method="answerInlineQuery"
                    )
                except _ApiError as error:
                    raise _bad(f"result {result_id}: {error.description.removeprefix('Bad Request: ')}") from None
        self._open_inline_queries.discard(query_id)
        return True

    @staticmethod
    def _commands_key(params: dict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be an Array")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        clean = []
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": command["command"], "description": description})
        key = self._commands_key(params)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: dict) -> list[dict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _m_delete_my_commands(self, params: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _m_set_webhook(self, params: dict) -> Any:
        url = params.get("url")
        if not url:
            was_set = self.webhook is not None
            self.webhook = None
            return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")
        parts = urllib.parse.urlsplit(str(url))
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(kind) for kind in allowed} or None
        webhook = {key: copy.deepcopy(value) for key, value in params.items()
                   if key != "certificate"}
        webhook["has_custom_certificate"] = "certificate" in params
        self.webhook = webhook
        return _Ok(True, "Webhook was set")

    def _m_delete_webhook(self, params: dict) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set = self.webhook is not None
        self.webhook = None
        return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _m_get_webhook_info(self, params: dict) -> dict:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["has_custom_certificate"] = self.webhook["has_custom_certificate"]
            info["max_connections"] = self.webhook.get("max_connections", 40)
            for key in ("ip_address", "allowed_updates"):
                if key in self.webhook:
                    info[key] = copy.deepcopy(self.webhook[key])
        return info

    def _m_set_my_description(self, params: dict) -> bool:
        description = str(params.get("description") or "")
        if len(description) > 512:
            raise _bad("description is too long")
        self.descriptions[str(params.get("language_code") or "")] = description
        return True

    def _m_get_my_description(self, params: dict) -> dict:
        return {"description": self.descriptions.get(str(params.get("language_code") or ""), "")}

    def _m_set_my_short_description(self, params: dict) -> bool:
        description = str(params.get("short_description") or "")
        if len(description) > 120:
            raise _bad("short description is too long")
        self.short_descriptions[str(params.get("language_code") or "")] = description
        return True

    def _m_get_my_short_description(self, params: dict) -> dict:
        return {"short_description": self.short_descriptions.get(str(params.get("language_code") or ""), "")}
