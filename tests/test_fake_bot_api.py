"""The fake Bot API, driven by python-telegram-bot's real client over loopback."""
from __future__ import annotations

import asyncio
import datetime as dtm
import http.server
import json
import socket
import threading
import time

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fake_bot_api import FakeBotAPI, HTMLParseError, parse_html, visible_text


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server
    assert server.server_errors == []


def run(fake: FakeBotAPI, scenario, **bot_kwargs):
    """Run ``await scenario(bot)`` with a real, initialised telegram.Bot against the fake."""

    async def main():
        async with telegram.Bot(fake.TOKEN, base_url=fake.base_url, **bot_kwargs) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# ------------------------------------------------------------------------------ basics


def test_get_me(fake):
    me = run(fake, lambda bot: bot.get_me())
    assert me.is_bot and me.id == 999000 and me.username == "recovery_test_bot"
    assert me.supports_inline_queries is True and me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/bot")
    assert [name for name, _ in fake.calls] == ["getMe", "getMe"]  # initialize() + get_me()


def test_get_updates_offset_confirms_and_forgets(fake):
    first = fake.push_message("hello")
    second = fake.push_command("/start", "deep-link")

    async def scenario(bot):
        got = await bot.get_updates()
        again = await bot.get_updates()  # not confirmed yet: delivered again
        confirmed = await bot.get_updates(offset=got[-1].update_id + 1)
        third = fake.push_message("third")
        later = await bot.get_updates(offset=got[-1].update_id + 1)
        return got, again, confirmed, third, later

    got, again, confirmed, third, later = run(fake, scenario)
    assert [u.update_id for u in got] == [first["update_id"], second["update_id"]]
    assert [u.update_id for u in again] == [u.update_id for u in got]
    assert got[0].message.text == "hello" and got[0].message.chat.type == "private"
    assert got[1].message.text == "/start deep-link"
    assert got[1].message.entities[0].type == "bot_command" and got[1].message.entities[0].length == 6
    assert confirmed == ()
    assert [u.update_id for u in later] == [third["update_id"]]
    assert fake.calls_to("getUpdates")[2]["offset"] == got[-1].update_id + 1  # decoded to int
    assert fake.pending_updates == [third]


def test_get_updates_limit_and_allowed_updates(fake):
    for i in range(3):
        fake.push_message(f"m{i}")
    fake.push_inline_query("abc")

    async def scenario(bot):
        two = await bot.get_updates(limit=2)
        only_inline = await bot.get_updates(allowed_updates=["inline_query"])
        return two, only_inline

    two, only_inline = run(fake, scenario)
    assert [u.message.text for u in two] == ["m0", "m1"]
    assert len(only_inline) == 1 and only_inline[0].inline_query.query == "abc"
    assert fake.calls_to("getUpdates")[1]["allowed_updates"] == ["inline_query"]


def test_long_poll_wakes_on_push_and_times_out_empty(fake):
    async def scenario(bot):
        start = time.monotonic()
        empty = await bot.get_updates(timeout=1)
        empty_took = time.monotonic() - start
        threading.Timer(0.3, fake.push_message, args=("wake up",)).start()
        start = time.monotonic()
        woke = await bot.get_updates(timeout=30)  # the fake blocks at most 5 s
        return empty, empty_took, woke, time.monotonic() - start

    empty, empty_took, woke, woke_took = run(fake, scenario)
    assert empty == () and 0.9 <= empty_took < 3
    assert [u.message.text for u in woke] == ["wake up"] and 0.25 <= woke_took < 2


# ------------------------------------------------------------------------------ messages


def test_send_message_returns_whole_message_with_reply(fake):
    incoming = fake.push_message("how do I get help?", chat_id=4242, user_id=4242, first_name="Sam")["message"]

    async def scenario(bot):
        reply = await bot.send_message(
            4242, "Here is help.", reply_to_message_id=incoming["message_id"], reply_markup=keyboard("more")
        )
        plain = await bot.send_message(-100123, "12345")  # numeric text stays text
        return reply, plain

    reply, plain = run(fake, scenario)
    assert reply.text == "Here is help." and reply.from_user.id == 999000 and reply.from_user.is_bot
    assert reply.chat.id == 4242 and reply.chat.type == "private" and reply.chat.first_name == "Sam"
    assert reply.reply_to_message.message_id == incoming["message_id"]
    assert reply.reply_to_message.text == "how do I get help?"
    assert reply.reply_markup.inline_keyboard[0][0].callback_data == "more"
    assert isinstance(reply.date, dtm.datetime) and reply.message_id > incoming["message_id"]
    assert plain.message_id == reply.message_id + 1 and plain.text == "12345"
    assert plain.chat.type == "group"  # negative id the fake never saw

    first, second = fake.calls_to("sendMessage")
    assert first["chat_id"] == 4242 and first["text"] == "Here is help."
    assert first["reply_parameters"] == {"message_id": incoming["message_id"]}  # PTB converts the legacy arg
    assert first["reply_markup"] == {"inline_keyboard": [[{"text": "more", "callback_data": "more"}]]}
    assert second["text"] == "12345" and second["chat_id"] == -100123
    assert [m["message_id"] for m in fake.sent_messages] == [reply.message_id, plain.message_id]


def test_reply_keyboard_is_not_echoed(fake):
    # Telegram only returns inline keyboards in a Message; echoing a ReplyKeyboardMarkup
    # would even make PTB crash parsing it.
    markup = telegram.ReplyKeyboardMarkup([["Yes", "No"]])
    message = run(fake, lambda bot: bot.send_message(1001, "Pick one", reply_markup=markup))
    assert message.reply_markup is None
    assert fake.calls_to("sendMessage")[0]["reply_markup"]["keyboard"] == [[{"text": "Yes"}, {"text": "No"}]]


def test_html_validation(fake):
    async def scenario(bot):
        good = await bot.send_message(
            1001, '<b>Help</b> &amp; <a href="https://example.org/a?x=1&amp;y=2">support</a> 1 &lt; 2',
            parse_mode="HTML",
        )
        errors = []
        for bad in ("<b>x", "a & b", "<br>", "<b><i>x</b></i>", '<span class="x">y</span>', "a < b"):
            with pytest.raises(BadRequest) as info:
                await bot.send_message(1001, bad, parse_mode="HTML")
            errors.append(str(info.value))
        plain = await bot.send_message(1001, "a & b <b>")  # no parse_mode: anything goes
        return good, errors, plain

    good, errors, plain = run(fake, scenario)
    assert good.text == "Help & support 1 < 2"
    assert [(e.type, e.offset, e.length) for e in good.entities] == [("bold", 0, 4), ("text_link", 7, 7)]
    assert good.entities[1].url == "https://example.org/a?x=1&y=2"
    # PTB drops "Bad Request: " and str.capitalize()s the rest: everything after the first letter
    # is lower-cased, so match these messages case-insensitively.
    assert all(e.startswith("Can't parse entities: ") for e in errors), errors
    assert "can't find end tag corresponding to start tag \"b\"" in errors[0]
    assert '"&"' in errors[1] and 'unsupported start tag "br"' in errors[2]
    assert "unmatched end tag" in errors[3] and 'class "tg-spoiler"' in errors[4]
    assert 'unsupported start tag "" at byte offset 2' in errors[5]
    assert plain.text == "a & b <b>"
    assert len(fake.sent_messages) == 2  # refused calls are in `calls`, not in sent_messages
    assert len(fake.calls_to("sendMessage")) == 8
    assert [status for _, _, status, _ in fake.rejected] == [400] * 6


def test_length_counts_visible_text_and_empty_text(fake):
    async def scenario(bot):
        ok = await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(1001, "x" * 4097)
        with pytest.raises(BadRequest, match="(?i)text is empty"):
            await bot.send_message(1001, "  \n ")
        with pytest.raises(BadRequest, match="(?i)text is empty"):
            await bot.send_message(1001, "<b></b>", parse_mode="HTML")
        return ok

    assert len(run(fake, scenario).text) == 4096


def test_visible_text_and_parse_html():
    assert visible_text("<b>a</b> &lt;3 &#128512; &#x41;") == "a <3 😀 A"
    assert visible_text("x > y") == "x > y"  # Telegram accepts a bare ">"
    text, entities = parse_html('😀 <pre><code class="language-python">print(1)</code></pre> <tg-spoiler>s</tg-spoiler>')
    assert text == "😀 print(1) s"
    assert entities == [
        {"type": "pre", "offset": 3, "length": 8, "language": "python"},  # after a 2-unit emoji
        {"type": "spoiler", "offset": 12, "length": 1},
    ]
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == "expandable_blockquote"
    for bad in ("<b>x", "x</b>", "a & b", "&nbsp;", "&amp", "<p>x</p>", '<a href="?a=1&b=2">x</a>'):
        with pytest.raises(HTMLParseError):
            visible_text(bad)
    assert parse_html("a & b &amp", strict=False)[0] == "a & b &"  # exactly Telegram's leniency


def test_edit_and_delete(fake):
    async def scenario(bot):
        sent = await bot.send_message(1001, "Searching…", reply_markup=keyboard("stop"))
        edited = await bot.edit_message_text("<i>Found</i>", chat_id=1001, message_id=sent.message_id,
                                             parse_mode="HTML", reply_markup=keyboard("more"))
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("<i>Found</i>", chat_id=1001, message_id=sent.message_id,
                                        parse_mode="HTML", reply_markup=keyboard("more"))
        bare = await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id)
        await bot.delete_message(1001, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(1001, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=1001, message_id=sent.message_id)
        return sent, edited, bare

    sent, edited, bare = run(fake, scenario)
    assert edited.message_id == sent.message_id and edited.text == "Found" and edited.edit_date
    assert edited.entities[0].type == "italic"
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "more"
    assert bare.reply_markup is None
    assert [m["text"] for m in fake.sent_messages] == ["Searching…", "Found"]


def test_callback_and_inline_queries(fake):
    async def scenario(bot):
        sent = await bot.send_message(1001, "Was this helpful?", reply_markup=keyboard("yes", "no"))
        update = fake.push_callback("yes", fake.sent_messages[-1])
        [got] = await bot.get_updates()
        first = await bot.answer_callback_query(got.callback_query.id, text="Thanks!")
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(got.callback_query.id)
        inline = fake.push_inline_query("detox")
        [got_inline] = await bot.get_updates(offset=got.update_id + 1)
        result = InlineQueryResultArticle("1", "Detox", InputTextMessageContent("<b>Detox</b>", parse_mode="HTML"))
        answered = await bot.answer_inline_query(got_inline.inline_query.id, [result], cache_time=0)
        return sent, update, got, first, inline, got_inline, answered

    sent, update, got, first, inline, got_inline, answered = run(fake, scenario)
    assert got.update_id == update["update_id"] and got.callback_query.data == "yes"
    assert got.callback_query.message.message_id == sent.message_id
    assert first is True and answered is True
    assert got_inline.inline_query.query == "detox" and got_inline.inline_query.id == inline["inline_query"]["id"]
    params = fake.calls_to("answerInlineQuery")[0]
    assert params["inline_query_id"] == inline["inline_query"]["id"] and isinstance(params["inline_query_id"], str)
    assert params["cache_time"] == 0 and params["results"][0]["input_message_content"]["parse_mode"] == "HTML"


def test_commands_descriptions_and_misc(fake):
    async def scenario(bot):
        await bot.set_my_commands([("start", "Start"), ("help", "How to use the bot")])
        commands = await bot.get_my_commands()
        with pytest.raises(BadRequest):
            await bot.set_my_commands([("Bad-Command", "x")])
        await bot.delete_my_commands()
        after = await bot.get_my_commands()
        action = await bot.send_chat_action(1001, "typing")
        await bot.set_my_description("Answers questions")
        await bot.set_my_short_description("Answers")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        return commands, after, action

    commands, after, action = run(fake, scenario)
    assert [(c.command, c.description) for c in commands] == [("start", "Start"), ("help", "How to use the bot")]
    assert after == () and action is True
    assert fake.descriptions == {"": "Answers questions"} and fake.short_descriptions == {"": "Answers"}
    assert fake.calls_to("noSuchMethod") == [{}]
    assert fake.calls_to("sendChatAction") == [{"chat_id": 1001, "action": "typing"}]


# ------------------------------------------------------------------------------ faults


def test_429_raises_retry_after_and_is_not_recorded(fake, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22: retry_after as a timedelta, no warning
    fake.inject("sendMessage", "429", retry_after=3)

    async def scenario(bot):
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(1001, "hi")
        again = await bot.send_message(1001, "hi")
        return info.value, again

    error, again = run(fake, scenario)
    assert error.retry_after == dtm.timedelta(seconds=3)
    assert fake.faults_served == [("sendMessage", "429")]
    assert len(fake.calls_to("sendMessage")) == 1 and len(fake.sent_messages) == 1
    assert again.text == "hi"


@pytest.mark.parametrize(("fault", "words"), [("500", "Internal Server Error"), ("502", "Bad Gateway")])
def test_5xx_raise_network_error(fake, fault, words):
    async def scenario(bot):
        fake.inject("*", fault)  # after initialize(), whose getMe would take a "*" fault
        with pytest.raises(NetworkError) as info:
            await bot.send_message(1001, "hi")
        return info.value

    error = run(fake, scenario)
    assert type(error) is NetworkError and words in str(error)
    assert fake.faults_served == [("sendMessage", fault)] and fake.calls_to("sendMessage") == []


def test_drop_raises_network_error_without_retry(fake):
    fake.inject("sendMessage", "drop")

    async def scenario(bot):
        with pytest.raises(NetworkError) as info:
            await bot.send_message(1001, "hi")
        return info.value

    error = run(fake, scenario)
    assert not isinstance(error, TimedOut)
    assert fake.faults_served == [("sendMessage", "drop")]  # httpx did not silently resend
    assert fake.calls_to("sendMessage") == [] and fake.sent_messages == []


def test_timeout_raises_timed_out(fake):
    fake.inject("sendMessage", "timeout", delay=1.0)
    request = HTTPXRequest(read_timeout=0.3)

    async def scenario(bot):
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "hi")

    run(fake, scenario, request=request)
    assert fake.faults_served == [("sendMessage", "timeout")] and fake.calls_to("sendMessage") == []


def test_slow_fault_performs_the_call_the_client_gave_up_on(fake):
    fake.inject("sendMessage", "slow", delay=0.6)
    run(fake, _send_expect_timeout, request=HTTPXRequest(read_timeout=0.2))
    fake.wait_for("sendMessage", timeout=3)
    assert len(fake.sent_messages) == 1  # delivered although the bot saw a timeout


async def _send_expect_timeout(bot):
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "hi")


def test_star_fault_spares_get_updates_and_consumes_in_order(fake):
    fake.inject("*", "500", times=2)

    async def scenario(bot):  # initialize() -> getMe already consumed one fault
        updates = await bot.get_updates()
        with pytest.raises(NetworkError):
            await bot.get_me()
        return updates, await bot.get_me()

    async def main():
        bot = telegram.Bot(fake.TOKEN, base_url=fake.base_url)
        with pytest.raises(NetworkError):
            await bot.initialize()
        try:
            return await scenario(bot)
        finally:
            await bot.shutdown()

    updates, me = asyncio.run(main())
    assert updates == () and me.username == "recovery_test_bot"
    assert fake.faults_served == [("getMe", "500"), ("getMe", "500")]


def test_stop_is_fast_with_hanging_long_poll():
    fake = FakeBotAPI().start()
    fake.inject("getUpdates", "hang")
    url = f"{fake.base_url}{fake.TOKEN}/getUpdates"
    outcome = {}

    def poll():
        try:
            httpx.post(url, data={"timeout": "30"}, timeout=10)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    poller = threading.Thread(target=poll)
    poller.start()
    deadline = time.monotonic() + 3
    while not fake.faults_served and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.faults_served == [("getUpdates", "hang")]
    start = time.monotonic()
    fake.stop()
    assert time.monotonic() - start < 1.0
    poller.join(2)
    assert not poller.is_alive() and isinstance(outcome.get("error"), httpx.HTTPError)


def test_stop_is_fast_while_a_real_long_poll_waits():
    fake = FakeBotAPI().start()
    url = f"{fake.base_url}{fake.TOKEN}/getUpdates"
    poller = threading.Thread(target=lambda: _quietly(lambda: httpx.post(url, data={"timeout": "5"}, timeout=10)))
    poller.start()
    fake.wait_for("getUpdates", timeout=3)
    start = time.monotonic()
    fake.stop()
    assert time.monotonic() - start < 1.0
    poller.join(2)
    assert not poller.is_alive()


def _quietly(call):
    try:
        call()
    except httpx.HTTPError:
        pass


# ------------------------------------------------------------------------------ tokens, robustness


@pytest.mark.parametrize("token", ["123456789:WrongTokenWrongTokenWrongToken_xyz", "not-a-token"])
def test_wrong_token_is_rejected(fake, token):
    async def main():
        bot = telegram.Bot(token, base_url=fake.base_url)
        with pytest.raises(InvalidToken):
            await bot.get_me()
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await bot.initialize()
        await bot.shutdown()

    asyncio.run(main())
    assert fake.calls == []
    body = httpx.post(f"{fake.base_url}{token}/getMe").json()
    expected = 401 if token[0].isdigit() else 404
    assert body == {"ok": False, "error_code": expected,
                    "description": "Unauthorized" if expected == 401 else "Not Found"}


def test_raw_protocol_details(fake):
    base = f"{fake.base_url}{fake.TOKEN}"
    unknown = httpx.post(f"{base}/fooBar")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    # multipart, JSON body, GET query and case-insensitive method names all work
    multipart = httpx.post(f"{base}/sendMessage", data={"chat_id": "7", "text": "ünï\r\ncode"},
                           files={"doc": ("a.txt", b"\x00\x01", "text/plain")})
    assert multipart.status_code == 200 and multipart.json()["result"]["text"] == "ünï\r\ncode"
    as_json = httpx.post(f"{base}/SENDMESSAGE", json={"chat_id": 7, "text": "json",
                                                       "reply_markup": json.dumps(keyboard("a").to_dict())})
    assert as_json.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    assert httpx.get(f"{base}/getMe").json()["result"]["is_bot"] is True
    first, second = fake.calls_to("sendMessage")
    assert first["chat_id"] == 7 and first["doc"]["filename"] == "a.txt" and first["doc"]["content"] == b"\x00\x01"
    assert second["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    bad = httpx.post(f"{base}/sendMessage", data={"text": "no chat"})
    assert bad.status_code == 400 and bad.json()["description"] == "Bad Request: chat_id is empty"


def test_server_survives_garbage(fake):
    for junk in (b"GARBAGE\r\n\r\n", b"POST /bot" + fake.TOKEN.encode() + b"/sendMessage HTTP/1.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{bad}", b"\x16\x03\x01\x00",
                 b"POST /bot1:x/getMe HTTP/1.1\r\nContent-Length: many\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", fake.port), timeout=2) as conn:
            conn.sendall(junk)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(4096)
    assert run(fake, lambda bot: bot.get_me()).is_bot
    assert fake.rejected[-1][2:] == (400, "Bad Request: can't parse JSON object")
    assert fake.server_errors == []


def test_wait_for_names_what_was_called(fake):
    run(fake, lambda bot: bot.send_chat_action(1001, "typing"))
    with pytest.raises(AssertionError) as info:
        fake.wait_for("sendMessage", timeout=0.2)
    message = str(info.value)
    assert "sendMessage" in message and "getMe" in message and "sendChatAction" in message
    assert fake.wait_for("sendChatAction", where=lambda p: p["action"] == "typing")[0]["chat_id"] == 1001


# ------------------------------------------------------------------------------ webhooks


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), json.loads(body)))
        ok = self.headers.get("X-Telegram-Bot-Api-Secret-Token") == "s3cret"
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_set_info_delete_and_delivery(fake):
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    _Receiver.received = []

    async def scenario(bot):
        assert await bot.set_webhook(hook, secret_token="s3cret", allowed_updates=["message"]) is True
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
        with pytest.raises(BadRequest):
            await bot.set_webhook(hook, secret_token="not allowed!")
        assert await bot.delete_webhook() is True
        return info, await bot.get_webhook_info()

    try:
        info, after = run(fake, scenario)
        assert info.url == hook and info.allowed_updates == ("message",) and after.url == ""
        assert fake.webhook is None
        status = fake.post_to_webhook(hook, {"message": {"message_id": 5, "date": 0, "text": "hi",
                                                         "chat": {"id": 1, "type": "private"}}}, "s3cret")
        wrong = fake.post_to_webhook(hook, {"message": {"message_id": 6, "date": 0, "text": "x",
                                                        "chat": {"id": 1, "type": "private"}}}, None)
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert (status, wrong) == (200, 403)
    headers, body = _Receiver.received[0]
    assert headers["Content-Type"] == "application/json"  # exactly: PTB's webhook refuses anything else
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert body["message"]["text"] == "hi" and isinstance(body["update_id"], int)
    assert "X-Telegram-Bot-Api-Secret-Token" not in _Receiver.received[1][0]
    assert fake.get_message(1, 5)["text"] == "hi"  # remembered, so the bot can reply to it
    with pytest.raises(ValueError):
        fake.post_to_webhook("http://example.org/hook", {}, None)


# ------------------------------------------------------------------------------ a whole Application


def test_application_polling_end_to_end(fake):
    from telegram.ext import ApplicationBuilder, CommandHandler

    async def start(update, context):
        await update.message.reply_html(f"Hi <b>{update.effective_user.first_name}</b>!", do_quote=True)

    async def main():
        app = ApplicationBuilder().token(fake.TOKEN).base_url(fake.base_url).build()
        app.add_handler(CommandHandler("start", start))
        async with app:
            await app.start()
            await app.updater.start_polling(drop_pending_updates=True)
            pushed = fake.push_command("/start", first_name="Dana")
            [params] = await asyncio.to_thread(fake.wait_for, "sendMessage", 1, 5.0)
            await app.updater.stop()
            await app.stop()
        return pushed, params

    start_time = time.monotonic()
    pushed, params = asyncio.run(main())
    assert time.monotonic() - start_time < 3
    assert params["text"] == "Hi <b>Dana</b>!" and params["parse_mode"] == "HTML"
    assert params["reply_parameters"]["message_id"] == pushed["message"]["message_id"]
    assert fake.sent_messages[-1]["text"] == "Hi Dana!"
    assert fake.sent_messages[-1]["reply_to_message"]["text"] == "/start"
    assert fake.calls_to("deleteWebhook") == [{"drop_pending_updates": True}]
    assert fake.pending_updates == []  # the final getUpdates confirmed the processed update
