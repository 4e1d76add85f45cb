"""A local fake of the Telegram Bot API, for end-to-end tests of the bot.

It answers the calls the bot and python-telegram-bot (PTB) make, and no others, the way api.telegram.org
does: getMe, getUpdates, deleteWebhook and setWebhook (PTB's start-up), sendMessage, sendChatAction,
answerCallbackQuery, answerInlineQuery, editMessageReplyMarkup and setMyCommands (the bot). Any other
method gets Telegram's own answer, 404 "Not Found: method not found", so a bot calling something new fails
loudly in the tests until the fake learns it. Two ways in, one Telegram:

* in-process, through PTB's request layer (tests/fake_request.py: no socket): for everything but what
  only HTTP shows;
* over HTTP on 127.0.0.1 (tests/fake_http.py: ``with FakeBotAPI() as fake``, then ``fake.base_url``): for
  faults on the wire (timeouts, dropped connections, 5xx and 429 answers), a bot run as a process, the webhook.

Either way:

* every answer carries the real HTTP status; errors have the body
  ``{"ok": false, "error_code": N, "description": "..."}`` (PTB reads the status, not "ok");
* fields are read as PTB sends them (a form: strings as they are, every other value JSON-encoded);
* ``parse_mode=HTML`` texts are judged by tdlib, Telegram's own parser (tests/tdlib): refused with
  "can't parse entities" as Telegram refuses them, "message is too long" over 4,096 UTF-16 units of parsed
  text, and only the first 100 entities kept, as Telegram keeps them; every verdict is recorded in
  ``FakeBotAPI.judged`` so tests can assert on lengths and entity counts. Stricter than Telegram, a bare
  ``&`` is refused too (see ``FakeBotAPI.strict_html``), so escaping bugs fail loudly.

Usage::

    fake = FakeBotAPI()
    fake.push_command("/start")
    ...run the bot with FakeRequest(fake), or against fake.base_url inside ``with fake:``...
    [params] = fake.wait_for("sendMessage")
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from tests import tdlib

__all__ = ["FakeBotAPI", "ApiError", "bad_request", "visible_text", "decode_field", "CONNECTION_FAULTS"]

MAX_TEXT_LENGTH = 4096  # UTF-16 units of the text after entity parsing
MAX_ENTITIES = 100  # Telegram keeps the formatting of the first 100 entities of a message, drops the rest
_LONG_POLL_CAP = 5.0  # seconds a getUpdates may block, whatever `timeout` asks for

# --------------------------------------------------------------------------------------
# Telegram HTML, as tdlib parses it
# --------------------------------------------------------------------------------------

# tdlib's entity types as the Bot API names them in a Message (those Telegram HTML can make but a mention)
_ENTITY_TYPES = {
    "textEntityTypeBold": "bold",
    "textEntityTypeItalic": "italic",
    "textEntityTypeUnderline": "underline",
    "textEntityTypeStrikethrough": "strikethrough",
    "textEntityTypeSpoiler": "spoiler",
    "textEntityTypeCode": "code",
    "textEntityTypePre": "pre",
    "textEntityTypePreCode": "pre",
    "textEntityTypeTextUrl": "text_link",
    "textEntityTypeBlockQuote": "blockquote",
    "textEntityTypeExpandableBlockQuote": "expandable_blockquote",
    "textEntityTypeCustomEmoji": "custom_emoji",
}
_ENTITY_FIELDS = {"url": "url", "language": "language", "custom_emoji_id": "custom_emoji_id"}
# a "&" that starts none of the entities Telegram HTML has (&lt; &gt; &amp; &quot; and numeric ones), with ";"
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)")


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def visible_text(html: str) -> str:
    """The text a user sees for ``html`` sent with parse_mode=HTML, as tdlib parses it (tags removed,
    entities decoded); Telegram's limit of 4,096 UTF-16 units applies to this. Raises TdlibParseError."""
    return tdlib.parse_html(html).text


def _message_entities(parsed: tdlib.Parsed) -> list[dict]:
    """tdlib's entities as Bot API MessageEntity dicts, the first 100 (the ones Telegram keeps)."""
    entities = []
    for entity in sorted(parsed.entities, key=lambda e: e["offset"])[:MAX_ENTITIES]:
        kind = entity["type"]
        converted = {"type": _ENTITY_TYPES[kind["@type"]], "offset": entity["offset"], "length": entity["length"]}
        converted.update({ours: kind[theirs] for theirs, ours in _ENTITY_FIELDS.items() if theirs in kind})
        entities.append(converted)
    return entities


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
# Request decoding, answers
# --------------------------------------------------------------------------------------

# The string parameters of the methods the fake answers: PTB sends them as they are, never JSON-encoded.
TEXT_FIELDS = frozenset(
    {
        "text",
        "parse_mode",
        "action",
        "callback_query_id",
        "inline_query_id",
        "next_offset",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "inline_message_id",
    }
)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def decode_field(name: str, raw: str) -> Any:
    """Decode one field as PTB encodes it (RequestData.json_parameters): strings verbatim, the rest JSON."""
    if name in TEXT_FIELDS:
        return raw
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw


class ApiError(Exception):
    """An error answer: its HTTP status and the Bot API's error body."""

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


def bad_request(description: str) -> ApiError:
    """Telegram's 400."""
    return ApiError(400, f"Bad Request: {description}")


_PATH_RE = re.compile(r"/bot([^/]*)/([^/]*)")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message")
#: faults only a connection can have: served by the HTTP server, refused in-process
CONNECTION_FAULTS = frozenset({"timeout", "drop", "hang", "slow"})
_FAULT_ERRORS = {
    "400": (400, "Bad Request: injected fault"),
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
}
FAULTS = CONNECTION_FAULTS | {"429"} | set(_FAULT_ERRORS)
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
        raise bad_request("wrong parameter type")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("wrong parameter type") from None


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeBotAPI:
    """A fake Telegram Bot API, in-process or on 127.0.0.1. See the module docstring."""

    # Shaped like a real token (the bot checks the shape), written in two parts so that secret scanners
    # looking for real tokens in the repository are not set off by it.
    TOKEN = "123456789:" + "AAFakeTokenForTestsOnly_abcdefghijkl"

    #: Refuse a bare "&" in parse_mode=HTML texts (Telegram shows it literally). Set to False
    #: on an instance to take them as leniently as Telegram.
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
        self._http: Any = None  # tests/fake_http.py's HTTPServing while it serves HTTP

        # what the bot did
        self.calls: list[tuple[str, dict]] = []
        self.sent_messages: list[dict] = []
        self.faults_served: list[tuple[str, str]] = []
        #: error answers the fake gave on its own (not injected): (method, params, status, description)
        self.rejected: list[tuple[str, dict, int, str]] = []
        #: bugs in the fake itself, or calls it cannot answer as asked (a test may assert this stays empty)
        self.server_errors: list[str] = []
        #: tdlib's verdict on every parse_mode=HTML text: {"method", "units", "entities", "links", "error"}
        self.judged: list[dict] = []

        # Telegram's state
        self.webhook: dict | None = None
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
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "sendMessage": self._m_send_message,
            "sendChatAction": self._m_send_chat_action,
            "answerCallbackQuery": self._m_answer_callback_query,
            "answerInlineQuery": self._m_answer_inline_query,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "setMyCommands": self._m_set_my_commands,
        }
        # Telegram's method names are case-insensitive
        self._method_names = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "FakeBotAPI":
        """Serve HTTP on 127.0.0.1, a free port (tests/fake_http.py). Not needed in-process (tests/fake_request.py)."""
        from tests.fake_http import HTTPServing  # here: it imports this module

        if self._http is None:
            self._stopped.clear()
            self._http = HTTPServing(self)
        return self

    def stop(self) -> None:
        """End every waiting long poll and pause; stop serving HTTP if it does."""
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        http, self._http = self._http, None
        if http is not None:
            http.stop()

    def pause(self, seconds: float | None) -> None:
        """Wait `seconds` (None: until stop()), cut short by stop()."""
        self._stopped.wait(seconds)

    def __enter__(self) -> "FakeBotAPI":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def serving(self) -> bool:
        """Whether it serves HTTP (start() or ``with``)."""
        return self._http is not None

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("FakeBotAPI is not serving HTTP: start() it, or reach it with FakeRequest")
        return self._http.port

    @property
    def base_url(self) -> str:
        """For PTB's ``base_url``: PTB appends the token, then ``/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ---------------------------------------------------------------- sending updates

    def _user(self, user_id: int, first_name: str | None = None) -> dict:
        with self._lock:
            user = self._users.get(user_id)
            if user is None or (first_name and user.get("first_name") != first_name):
                user = {"id": user_id, "is_bot": False, "first_name": first_name or "Alex", "language_code": "en"}
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
        """The current state of a message the fake knows (after edits), or None."""
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
                    params for name, params in self.calls if name == method and (where is None or where(params))
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

    def inject(self, method: str, fault: str, times: int = 1, retry_after: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` calls to ``method`` ("*": any method but getUpdates) fail.

        fault: "429" (with parameters.retry_after), "500", "502", "400"; and, over HTTP only (see
        CONNECTION_FAULTS), "drop" (connection closed, no answer), "timeout" (wait ``delay`` s, then
        close without answering), "hang" (no answer until stop()), "slow" (wait ``delay`` s, then
        perform the call and answer normally). ``delay`` also delays the error answers.
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
                {"method": method, "fault": fault, "times": times, "retry_after": retry_after, "delay": delay}
            )

    def take_fault(self, method: str) -> dict | None:
        """The fault injected for this call to ``method``, if any, counted as served."""
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

    def fault_answer(self, fault: dict) -> tuple[int, dict]:
        """The status and body of an injected error answer ("429", "500", "502", "400"), after its delay."""
        if fault["delay"]:
            self.pause(fault["delay"])
        if fault["fault"] == "429":
            retry_after = fault["retry_after"]
            error = ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        else:
            error = ApiError(*_FAULT_ERRORS[fault["fault"]])
        return error.status, error.payload()

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
        request = urllib.request.Request(url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        return status

    # ---------------------------------------------------------------- answering a call (either way in)

    def route(self, path: str) -> str:
        """The method ``/bot<token>/<method>`` calls. Raises ApiError with Telegram's answer to a path
        that is not one (404) or a token that is not the bot's (401 if shaped like one, else 404)."""
        match = _PATH_RE.fullmatch(path)
        if not match:
            raise ApiError(404, "Not Found")
        token, name = match.groups()
        if token != self.token:
            error = ApiError(401, "Unauthorized") if _TOKEN_RE.fullmatch(token) else ApiError(404, "Not Found")
            with self._lock:
                self.rejected.append((name, {}, error.status, error.description))
            raise error
        return self._method_names.get(name.lower(), name)

    def dispatch(self, method: str, params: dict) -> tuple[int, dict]:
        """Perform a call and record it: the HTTP status and JSON body Telegram would answer."""
        method_handler = self._handlers.get(method)
        recorded = copy.deepcopy(params)
        with self._cond:
            record_first = method == "getUpdates"  # so tests can see a long poll has begun
            if record_first:
                self.calls.append((method, recorded))
                self._cond.notify_all()
            try:
                if method_handler is None:
                    raise ApiError(404, "Not Found: method not found")  # what Telegram answers
                result = method_handler(params)
                if isinstance(result, _Ok):
                    status, payload = 200, {"ok": True, "result": result.result, "description": result.description}
                else:
                    status, payload = 200, {"ok": True, "result": result}
            except ApiError as error:
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
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise bad_request("the fake Bot API knows numeric chat ids only (the bot writes to no @username)")
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
            raise bad_request(message[:1].lower() + message[1:]) from None  # "can't parse entities: Can't find ..."
        self.judged.append(
            {
                "method": method,
                "units": parsed.units,
                "entities": len(parsed.entities),
                "links": parsed.links(),
                "error": None,
            }
        )
        if parsed.units > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return parsed

    def _formatted_text(self, params: dict, field: str = "text", method: str = "sendMessage") -> tuple[str, list[dict]]:
        raw = params.get(field)
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        if not isinstance(raw, str):
            raw = json.dumps(raw)
        parse_mode = params.get("parse_mode")
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            parsed = self._judge(method, raw)
            bare = _BARE_AMPERSAND.search(raw) if self.strict_html else None
            if bare:  # Telegram would show it as it is; the bot meant to escape it
                offset = len(raw[: bare.start()].encode("utf-8"))
                raise bad_request(
                    f'can\'t parse entities: Character "&" at byte offset {offset} does not start an HTML '
                    'entity (only &lt; &gt; &amp; &quot; and numeric ones are supported); escape it as "&amp;"'
                )
            text, entities = parsed.text, _message_entities(parsed)
        elif mode == "":
            text = raw
            entities = [dict(e) for e in params.get("entities") or [] if isinstance(e, dict)]
        else:  # the bot sends HTML only: any other mode is news the fake should hear of
            raise bad_request(f"the fake Bot API judges parse_mode HTML only, not {parse_mode!r}")
        if _utf16_len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        if not text.strip():
            raise bad_request("message text is empty")
        return _strip_formatted(text, entities)

    @staticmethod
    def _inline_markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
            raise bad_request("the fake Bot API knows inline keyboards only (the bot sends no other markup)")
        for row in markup["inline_keyboard"]:
            if not isinstance(row, list):
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    raise bad_request("BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _reply_target(self, params: dict, chat: dict) -> dict | None:
        reply_parameters = params.get("reply_parameters")
        if not isinstance(reply_parameters, dict):
            return None
        key = (reply_parameters.get("chat_id", chat["id"]), reply_parameters.get("message_id"))
        stored = self._messages.get(key)
        if stored is None:
            return None
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply

    def _bot_sender(self) -> dict:
        return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    # ---------------------------------------------------------------- methods
    # Each runs with the lock held and returns the "result" (or raises ApiError).

    def _m_get_me(self, params: dict) -> dict:
        return copy.deepcopy(self.bot_user)

    def _m_get_updates(self, params: dict) -> list[dict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset"), 0)
        limit = min(100, max(1, _as_int(params.get("limit"), 100)))
        try:
            timeout = max(0.0, float(params.get("timeout") or 0))
        except (TypeError, ValueError):
            raise bad_request("wrong parameter type") from None
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
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
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

    def _m_delete_webhook(self, params: dict) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set = self.webhook is not None
        self.webhook = None
        return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _m_set_webhook(self, params: dict) -> Any:
        url = params.get("url")
        if not url:
            return self._m_delete_webhook({})
        parts = urllib.parse.urlsplit(str(url))
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(kind) for kind in allowed} or None
        self.webhook = copy.deepcopy(params)
        return _Ok(True, "Webhook was set")

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
        reply = self._reply_target(params, chat)
        self._next_message_id += 1
        if entities:
            message["entities"] = entities
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
            raise bad_request("wrong parameter action in request")
        return True

    def _m_edit_message_reply_markup(self, params: dict) -> Any:
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id is None or message_id == "":
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            raise bad_request("message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        markup = self._inline_markup(params)  # none: the keyboard goes away
        if markup == stored.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        if markup:
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    def _m_answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callback_queries:
            raise bad_request(_QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    def _m_answer_inline_query(self, params: dict) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._open_inline_queries:
            raise bad_request(_QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("results must be an Array")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type") or not result.get("id"):
                raise bad_request('can\'t parse InlineQueryResult: field "type"/"id" must be a non-empty String')
            result_id = str(result["id"])
            if len(result_id.encode("utf-8")) > 64:
                raise bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article" and not result.get("title"):
                raise bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                try:
                    self._formatted_text(
                        {
                            "text": content.get("message_text"),
                            "parse_mode": content.get("parse_mode"),
                            "entities": content.get("entities"),
                        },
                        method="answerInlineQuery",
                    )
                except ApiError as error:
                    raise bad_request(
                        f"result {result_id}: {error.description.removeprefix('Bad Request: ')}"
                    ) from None
        self._open_inline_queries.discard(query_id)
        return True

    def _m_set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be an Array")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        return True
