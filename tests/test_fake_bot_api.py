"""The fake Bot API, driven by python-telegram-bot's real client: what it answers both ways in (in-process
through FakeRequest, and over HTTP on 127.0.0.1), and what only its HTTP server does (connection faults)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import http.server
import json
import socket
import threading
import time
import types

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fake_bot_api import FakeBotAPI, visible_text
from tests.fake_request import BASE_URL, FakeRequest

NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


@pytest.fixture(params=["in-process", "http"])
def fake(request):
    """The fake, reached one way or the other: each test using it runs both ways."""
    server = FakeBotAPI()
    if request.param == "http":
        server.start()
    yield server
    server.stop()
    assert server.server_errors == []


@pytest.fixture
def http_fake():
    with FakeBotAPI() as server:
        yield server
    assert server.server_errors == []


def make_bot(fake: FakeBotAPI, token: str = FakeBotAPI.TOKEN, **kwargs) -> telegram.Bot:
    if fake.serving:
        return telegram.Bot(token, base_url=fake.base_url, **kwargs)
    return telegram.Bot(
        token, base_url=BASE_URL, request=FakeRequest(fake), get_updates_request=FakeRequest(fake), **kwargs
    )


def run(fake: FakeBotAPI, scenario, **bot_kwargs):
    """Run ``await scenario(bot)`` with a real, initialised telegram.Bot against the fake."""

    async def main():
        async with make_bot(fake, **bot_kwargs) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def form(**fields) -> types.SimpleNamespace:
    """Fields as PTB's RequestData carries them (json_parameters: strings as they are, the rest JSON)."""
    encoded = {name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items()}
    return types.SimpleNamespace(json_parameters=encoded, contains_files=False)


def raw(fake: FakeBotAPI, token: str, method: str, **fields) -> tuple[int, dict]:
    """One call as PTB's request layer sends it, below PTB's error handling: the status and the body."""
    if fake.serving:
        answer = httpx.post(f"{fake.base_url}{token}/{method}", data=form(**fields).json_parameters)
        return answer.status_code, answer.json()

    async def call():
        request = FakeRequest(fake)
        try:
            return await request.do_request(f"{BASE_URL}{token}/{method}", "POST", form(**fields))
        finally:
            await request.shutdown()

    status, body = asyncio.run(call())
    return status, json.loads(body)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# ------------------------------------------------------------------------------ both ways in


def test_get_me(fake):
    me = run(fake, lambda bot: bot.get_me())
    assert me.is_bot and me.id == 999000 and me.username == "recovery_test_bot"
    assert me.supports_inline_queries is True and me.can_join_groups is True
    assert me.can_read_all_group_messages is False
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


def test_html_is_judged_by_tdlib(fake):
    async def scenario(bot):
        good = await bot.send_message(
            1001,
            '<b>Help</b> &amp; <a href="https://example.org/a?x=1&amp;y=2">support</a> 1 &lt; 2 \U0001f48a <i>x</i>',
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
    assert good.text == "Help & support 1 < 2 \U0001f48a x"
    assert [(e.type, e.offset, e.length) for e in good.entities] == [
        ("bold", 0, 4),
        ("text_link", 7, 7),
        ("italic", 24, 1),
    ]  # the emoji counts 2
    assert good.entities[1].url == "https://example.org/a?x=1&y=2"
    # PTB drops "Bad Request: " and str.capitalize()s the rest: everything after the first letter
    # is lower-cased, so match these messages case-insensitively.
    assert all(e.startswith("Can't parse entities: ") for e in errors), errors
    assert 'can\'t find end tag corresponding to start tag "b"' in errors[0]
    assert '"&" at byte offset 2' in errors[1]  # tdlib takes it; the fake, stricter, does not
    assert 'unsupported start tag "br"' in errors[2]
    assert "unmatched end tag" in errors[3] and 'class "tg-spoiler"' in errors[4]
    assert 'unsupported start tag "" at byte offset 2' in errors[5]
    assert plain.text == "a & b <b>"
    assert len(fake.sent_messages) == 2  # refused calls are in `calls`, not in sent_messages
    assert len(fake.calls_to("sendMessage")) == 8
    assert [status for _, _, status, _ in fake.rejected] == [400] * 6
    assert [v["error"] is None for v in fake.judged] == [True, False, True, False, False, False, False]
    assert fake.judged[0]["units"] == 25 and fake.judged[0]["links"] == ["https://example.org/a?x=1&y=2"]
    assert visible_text("<b>a</b> &lt;3") == "a <3"


def test_lenient_html_takes_a_bare_ampersand_as_telegram_does(fake):
    fake.strict_html = False
    message = run(fake, lambda bot: bot.send_message(1001, "a & b &amp c", parse_mode="HTML"))
    assert message.text == "a & b & c"


def test_length_counts_visible_text_and_empty_text(fake):
    async def scenario(bot):
        ok = await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(1001, "\U0001f48a" * 2049, parse_mode="HTML")  # 4,098 UTF-16 units
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(1001, "x" * 4097)
        with pytest.raises(BadRequest, match="(?i)text is empty"):
            await bot.send_message(1001, "  \n ")
        with pytest.raises(BadRequest, match="(?i)text is empty"):
            await bot.send_message(1001, "<b></b>", parse_mode="HTML")
        return ok

    assert len(run(fake, scenario).text) == 4096


def test_edit_reply_markup(fake):
    async def scenario(bot):
        sent = await bot.send_message(1001, "Was this helpful?", reply_markup=keyboard("more", "yes"))
        edited = await bot.edit_message_reply_markup(
            chat_id=1001, message_id=sent.message_id, reply_markup=keyboard("more")
        )
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id, reply_markup=keyboard("more"))
        bare = await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_reply_markup(chat_id=1001, message_id=sent.message_id + 100)
        return sent, edited, bare

    sent, edited, bare = run(fake, scenario)
    assert edited.message_id == sent.message_id and edited.edit_date
    assert [b.callback_data for b in edited.reply_markup.inline_keyboard[0]] == ["more"]
    assert bare.reply_markup is None and "reply_markup" not in fake.get_message(1001, sent.message_id)
    incoming = fake.push_message("mine")["message"]
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        run(fake, lambda bot: bot.edit_message_reply_markup(chat_id=1001, message_id=incoming["message_id"]))


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
        bad = InlineQueryResultArticle("2", "Bad", InputTextMessageContent("<b>Detox", parse_mode="HTML"))
        with pytest.raises(BadRequest, match="(?i)result 2: can't parse entities"):
            await bot.answer_inline_query(got_inline.inline_query.id, [result, bad])
        answered = await bot.answer_inline_query(got_inline.inline_query.id, [result], cache_time=0)
        return sent, update, got, first, inline, got_inline, answered

    sent, update, got, first, inline, got_inline, answered = run(fake, scenario)
    assert got.update_id == update["update_id"] and got.callback_query.data == "yes"
    assert got.callback_query.message.message_id == sent.message_id
    assert first is True and answered is True
    assert got_inline.inline_query.query == "detox" and got_inline.inline_query.id == inline["inline_query"]["id"]
    params = fake.calls_to("answerInlineQuery")[-1]
    assert params["inline_query_id"] == inline["inline_query"]["id"] and isinstance(params["inline_query_id"], str)
    assert params["cache_time"] == 0 and params["results"][0]["input_message_content"]["parse_mode"] == "HTML"
    assert [v["method"] for v in fake.judged] == ["answerInlineQuery"] * 3


def test_commands_chat_action_and_methods_it_does_not_know(fake):
    async def scenario(bot):
        assert await bot.set_my_commands([("start", "Start"), ("help", "How to use the bot")]) is True
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([("Bad-Command", "x")])
        action = await bot.send_chat_action(1001, "typing")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        with pytest.raises(InvalidToken, match="(?i)method not found"):  # what PTB makes of Telegram's 404
            await bot.get_my_commands()  # a method the bot does not call: the fake does not answer it
        return action

    assert run(fake, scenario) is True
    assert [c["command"] for c in fake.calls_to("setMyCommands")[0]["commands"]] == ["start", "help"]
    assert fake.calls_to("noSuchMethod") == [{}] and fake.calls_to("getMyCommands") == [{}]
    assert fake.calls_to("sendChatAction") == [{"chat_id": 1001, "action": "typing"}]
    assert raw(fake, fake.TOKEN, "deleteMessage", chat_id=1001, message_id=1) == (404, NOT_FOUND)
    status, body = raw(fake, fake.TOKEN, "SENDMESSAGE", chat_id=7, text="true")  # case-insensitive; text stays text
    assert status == 200 and body["result"]["text"] == "true"
    assert raw(fake, fake.TOKEN, "sendMessage", text="no chat") == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"},
    )


@pytest.mark.parametrize("token", ["123456789:WrongTokenWrongTokenWrongToken_xyz", "not-a-token"])
def test_wrong_token_is_rejected(fake, token):
    async def main():
        bot = make_bot(fake, token)
        with pytest.raises(InvalidToken):
            await bot.get_me()
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await bot.initialize()
        await bot.shutdown()

    asyncio.run(main())
    assert fake.calls == []
    expected = 401 if token[0].isdigit() else 404
    assert raw(fake, token, "getMe") == (
        expected,
        {"ok": False, "error_code": expected, "description": "Unauthorized" if expected == 401 else "Not Found"},
    )


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


def test_star_fault_spares_get_updates_and_consumes_in_order(fake):
    fake.inject("*", "500", times=2)

    async def scenario(bot):  # initialize() -> getMe already consumed one fault
        updates = await bot.get_updates()
        with pytest.raises(NetworkError):
            await bot.get_me()
        return updates, await bot.get_me()

    async def main():
        bot = make_bot(fake)
        with pytest.raises(NetworkError):
            await bot.initialize()
        try:
            return await scenario(bot)
        finally:
            await bot.shutdown()

    updates, me = asyncio.run(main())
    assert updates == () and me.username == "recovery_test_bot"
    assert fake.faults_served == [("getMe", "500"), ("getMe", "500")]


def test_wait_for_names_what_was_called(fake):
    run(fake, lambda bot: bot.send_chat_action(1001, "typing"))
    with pytest.raises(AssertionError) as info:
        fake.wait_for("sendMessage", timeout=0.2)
    message = str(info.value)
    assert "sendMessage" in message and "getMe" in message and "sendChatAction" in message
    assert fake.wait_for("sendChatAction", where=lambda p: p["action"] == "typing")[0]["chat_id"] == 1001


def test_application_polling_end_to_end(fake):
    from telegram.ext import ApplicationBuilder, CommandHandler

    async def start(update, context):
        await update.message.reply_html(f"Hi <b>{update.effective_user.first_name}</b>!", do_quote=True)

    async def main():
        builder = ApplicationBuilder().token(fake.TOKEN)
        if fake.serving:
            builder = builder.base_url(fake.base_url)
        else:
            builder = builder.base_url(BASE_URL).request(FakeRequest(fake)).get_updates_request(FakeRequest(fake))
        app = builder.build()
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


# ------------------------------------------------------------------------------ in-process only


def test_a_connection_fault_in_process_is_recorded_as_a_mistake_of_the_test():
    fake = FakeBotAPI()
    fake.inject("sendMessage", "drop")

    async def send(bot):
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "hi")

    run(fake, send)
    assert fake.faults_served == [("sendMessage", "drop")]
    assert len(fake.server_errors) == 1 and "connection faults need the HTTP server" in fake.server_errors[0]


def test_in_process_a_call_past_its_read_timeout_times_out_and_stop_ends_the_wait():
    fake = FakeBotAPI()

    async def main():
        request = FakeRequest(fake)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await request.post(f"{BASE_URL}{fake.TOKEN}/getUpdates", form(timeout=3), read_timeout=0.2)
        took = time.monotonic() - started
        fake.stop()  # the long poll the client gave up on ends now, not in 3 s
        await request.shutdown()
        return took

    assert asyncio.run(main()) < 1.5
    assert fake.calls_to("getUpdates") == [{"timeout": 3}]


# ------------------------------------------------------------------------------ HTTP only: connection faults


def test_drop_raises_network_error_without_retry(http_fake):
    http_fake.inject("sendMessage", "drop")

    async def scenario(bot):
        with pytest.raises(NetworkError) as info:
            await bot.send_message(1001, "hi")
        return info.value

    error = run(http_fake, scenario)
    assert not isinstance(error, TimedOut)
    assert http_fake.faults_served == [("sendMessage", "drop")]  # httpx did not silently resend
    assert http_fake.calls_to("sendMessage") == [] and http_fake.sent_messages == []


def test_timeout_raises_timed_out(http_fake):
    http_fake.inject("sendMessage", "timeout", delay=1.0)
    request = HTTPXRequest(read_timeout=0.3)

    async def scenario(bot):
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "hi")

    run(http_fake, scenario, request=request)
    assert http_fake.faults_served == [("sendMessage", "timeout")] and http_fake.calls_to("sendMessage") == []


def test_slow_fault_performs_the_call_the_client_gave_up_on(http_fake):
    http_fake.inject("sendMessage", "slow", delay=0.6)
    run(http_fake, _send_expect_timeout, request=HTTPXRequest(read_timeout=0.2))
    http_fake.wait_for("sendMessage", timeout=3)
    assert len(http_fake.sent_messages) == 1  # delivered although the bot saw a timeout


async def _send_expect_timeout(bot):
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "hi")


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


def test_raw_protocol_details(http_fake):
    assert http_fake.base_url.startswith("http://127.0.0.1:") and http_fake.base_url.endswith("/bot")
    base = f"{http_fake.base_url}{http_fake.TOKEN}"
    assert httpx.post(f"{base}/fooBar").json() == NOT_FOUND
    assert httpx.get(f"{base}/getMe").json()["result"]["is_bot"] is True  # GET works too
    query = httpx.post(f"{base}/sendMessage?chat_id=7", data={"text": "ünï\r\ncode"})  # fields in the query string
    assert query.status_code == 200 and query.json()["result"]["text"] == "ünï\r\ncode"
    as_json = httpx.post(f"{base}/sendMessage", json={"chat_id": 7, "text": "json"})  # PTB never sends JSON
    assert as_json.status_code == 400 and "form bodies only" in as_json.json()["description"]
    assert httpx.post("http://127.0.0.1:%d/nowhere" % http_fake.port).json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }


def test_server_survives_garbage(http_fake):
    for junk in (
        b"GARBAGE\r\n\r\n",
        b"\x16\x03\x01\x00",
        b"POST /bot1:x/getMe HTTP/1.1\r\nContent-Length: many\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", http_fake.port), timeout=2) as conn:
            conn.sendall(junk)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(4096)
    assert run(http_fake, lambda bot: bot.get_me()).is_bot
    assert http_fake.server_errors == []


# ------------------------------------------------------------------------------ webhooks (HTTP)


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


def test_webhook_set_delete_and_delivery(http_fake):
    fake = http_fake
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    _Receiver.received = []

    async def scenario(bot):
        assert await bot.set_webhook(hook, secret_token="s3cret", allowed_updates=["message"]) is True
        webhook = dict(fake.webhook)
        with pytest.raises(Conflict):
            await bot.get_updates()
        with pytest.raises(BadRequest):
            await bot.set_webhook(hook, secret_token="not allowed!")
        assert await bot.delete_webhook() is True
        return webhook

    try:
        webhook = run(fake, scenario)
        assert webhook["url"] == hook and webhook["allowed_updates"] == ["message"] and fake.webhook is None
        status = fake.post_to_webhook(
            hook,
            {"message": {"message_id": 5, "date": 0, "text": "hi", "chat": {"id": 1, "type": "private"}}},
            "s3cret",
        )
        wrong = fake.post_to_webhook(
            hook, {"message": {"message_id": 6, "date": 0, "text": "x", "chat": {"id": 1, "type": "private"}}}, None
        )
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
