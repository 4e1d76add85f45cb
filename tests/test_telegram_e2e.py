"""The real python-telegram-bot Application against the fake Bot API, as a user would meet it.

The bot's calls reach the fake in-process, through python-telegram-bot's request layer (tests/fake_request.py);
a test marked `over_http` reaches it over HTTP on 127.0.0.1 instead, for what only HTTP shows: timeouts,
dropped connections and error answers on the wire, the bot run as a process, the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from bot.search.analysis import Analyzer
from bot.answering.answer import Answerer
from bot.config import Config
from bot.corpus.articles import load_corpus
from bot.state.feedback import FeedbackStore
from bot.search.index import SearchIndex
from bot.telegram.app import build_application
from bot.telegram.retry import RetryingRateLimiter
from tests.conftest import ROOT, SAMPLE_CORPUS
from tests.fake_bot_api import FakeBotAPI, visible_text
from tests.fake_request import BASE_URL, FakeRequest

SEED_URL = "https://www.opium.org/naltrexone-as-an-opium-addiction-treatment.html"
QUESTION = "can i take naltrexone while im still detoxing?"
HELPLINE = "1-800-662-4357"
DISCLAIMER = "not medical advice"


@pytest.fixture
def sample_index(sample) -> SearchIndex:
    return sample


@pytest.fixture
def fake(request):
    """The fake Bot API: reached in-process (FakeRequest), or served on 127.0.0.1 for a test marked over_http."""
    server = FakeBotAPI()
    if request.node.get_closest_marker("over_http") or getattr(request, "param", None) == "http":
        server.start()
    yield server
    server.stop()
    assert server.server_errors == []
    assert_telegram_took_every_message(server)


def api_url(fake: FakeBotAPI) -> str:
    """TELEGRAM_API_BASE_URL for the bot: the fake's HTTP server if it serves one, else the in-process one."""
    return fake.base_url if fake.serving else BASE_URL


def transport(fake: FakeBotAPI):
    """build_application's transport: None (python-telegram-bot's HTTP client) if the fake serves HTTP."""
    return None if fake.serving else (lambda: FakeRequest(fake))


def assert_telegram_took_every_message(fake: FakeBotAPI) -> None:
    """tdlib, Telegram's own parser, judged every HTML text the bot sent: parsed, at most 4,096 UTF-16 units,
    at most 100 entities (past those Telegram drops the formatting)."""
    for verdict in fake.judged:
        assert verdict["error"] is None and verdict["units"] <= 4096 and verdict["entities"] <= 100, verdict


@pytest.fixture
def config(fake, tmp_path) -> Config:
    return Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "TELEGRAM_API_BASE_URL": api_url(fake),
            "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
            "BOT_DATABASE": str(tmp_path / "state" / "bot.sqlite3"),
        }
    )


@contextlib.asynccontextmanager
async def polling(fake: FakeBotAPI, config: Config, index: SearchIndex, answerer: Answerer | None = None):
    application = build_application(
        config,
        answerer or Answerer(index, config.answer),
        rate_limiter=RetryingRateLimiter(backoff=0.05, messages_per_second=config.messages_per_second),
        transport=transport(fake),
    )
    await application.initialize()
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


def wait(fake: FakeBotAPI, method: str, count: int = 1, timeout: float = 10.0, where=None):
    return asyncio.to_thread(fake.wait_for, method, count, timeout, where)


def run(scenario, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(scenario(), timeout))


def texts_to(fake: FakeBotAPI, chat_id: int) -> list[str]:
    return [p["text"] for p in fake.calls_to("sendMessage") if p["chat_id"] == chat_id]


def assert_footer(html: str) -> None:
    assert DISCLAIMER in html and HELPLINE in html


def assert_nothing_personal(database, ids, text: str) -> None:
    """No id as a value anywhere in the database, and no text of the question in any of its files."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(database)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        values = [v for table in tables for row in conn.execute(f"SELECT * FROM {table}") for v in row]
    assert values and not any(v in ids or str(v) in map(str, ids) for v in values)
    for path in database.parent.glob(database.name + "*"):
        assert text.encode() not in path.read_bytes()


def test_start_registers_commands_and_introduces_the_bot(fake, config, sample_index):
    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_command("start")
            [sent] = await wait(fake, "sendMessage")
            assert sent["parse_mode"] == "HTML"
            assert "not a doctor" in sent["text"]
            assert_footer(sent["text"])
            [commands] = fake.calls_to("setMyCommands")
            assert [c["command"] for c in commands["commands"]] == ["start", "help", "helpline", "about", "privacy"]
            for command, expected in (
                ("help", "How to ask"),
                ("helpline", HELPLINE),
                ("about", "6</b> articles"),
                ("privacy", "no user id"),
            ):
                fake.push_command(command)
                sent = (await wait(fake, "sendMessage", where=lambda p, e=expected: e in p["text"]))[0]
                assert_footer(sent["text"])

    run(scenario)


def test_a_question_gets_quoted_linked_passages_with_buttons(fake, config, sample_index):
    async def scenario():
        async with polling(fake, config, sample_index):
            asked = fake.push_message(QUESTION, chat_id=4242, user_id=4242)
            [sent] = await wait(fake, "sendMessage")
            assert fake.calls_to("sendChatAction")[0]["action"] == "typing"
            html = sent["text"]
            assert sent["parse_mode"] == "HTML" and sent["link_preview_options"] == {"is_disabled": True}
            assert sent["reply_parameters"]["message_id"] == asked["message"]["message_id"]
            assert re.search(
                rf'<a href="{re.escape(SEED_URL)}#:~:text=[^"]+">Naltrexone as an Opium Addiction Treatment '
                r"\u203a How Does Naltrexone",
                html,
            )
            assert "<b>naltrexone</b>" in html.lower() and "<b>detoxification</b>" in html
            assert "still in detoxification" in visible_text(html)
            assert_footer(html)
            buttons = [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
            assert "\U0001f44d Helpful" in buttons and "\U0001f44e Not helpful" in buttons

    run(scenario)


def test_helpful_counts_once_and_forged_buttons_change_nothing(fake, config, sample_index):
    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_message(QUESTION)
            await wait(fake, "sendMessage")
            message = fake.sent_messages[-1]
            rows = message["reply_markup"]["inline_keyboard"]
            helpful = next(b["callback_data"] for row in rows for b in row if "Helpful" in b["text"])

            fake.push_callback(helpful.replace("|h|", "|u|"), message)  # tampered: signature no longer matches
            fake.push_callback("1|h|0|3|deadbeef00|0|AAAAAAAAAAAAAAAA", message)  # forged
            fake.push_callback("garbage", message)
            refused = await wait(fake, "answerCallbackQuery", 3)
            assert all("no longer works" in a["text"] for a in refused)
            assert FeedbackStore.open(config.database).counts()["articles"] == {}

            fake.push_callback(helpful, message)
            thanks = await wait(fake, "answerCallbackQuery", 4)
            assert "Thank you" in thanks[-1]["text"]
            await wait(fake, "editMessageReplyMarkup")
            counts = FeedbackStore.open(config.database).counts()
            assert counts["articles"]["naltrexone-as-an-opium-addiction-treatment"]["helpful"] == 1
            assert counts["helpful"] == 1 and counts["unhelpful"] == 0
            assert_nothing_personal(config.database, [message["chat"]["id"], message["message_id"]], QUESTION)
            after = fake.get_message(message["chat"]["id"], message["message_id"])
            assert not any(
                "Helpful" in b["text"] for row in after.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            )

    run(scenario)


def test_more_shows_the_next_passages(fake, config, sample_index, monkeypatch):
    from bot.answering.answer import Answerer

    searches = []
    real = Answerer._citations
    monkeypatch.setattr(Answerer, "_citations", lambda self, *a, **k: searches.append(1) or real(self, *a, **k))

    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_message("opium addiction treatment")
            await wait(fake, "sendMessage")
            first = fake.sent_messages[-1]
            more = next(
                b["callback_data"]
                for row in first["reply_markup"]["inline_keyboard"]
                for b in row
                if b["text"].startswith("More")
            )
            before = len(searches)
            fake.push_callback(more, first)
            [_, second] = await wait(fake, "sendMessage", 2)
            assert re.search(r"<b>4\.</b>", second["text"]) and not re.search(r"<b>1\.</b>", second["text"])
            assert_footer(second["text"])
            await wait(fake, "answerCallbackQuery")
            assert len(searches) - before == 1, "one search per press"

    run(scenario)


def test_inline_query_offers_passages_to_share(fake, config, sample_index):
    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_inline_query("naltrexone detox")
            [answered] = await wait(fake, "answerInlineQuery")
            results = answered["results"]
            assert results and results[0]["type"] == "article"
            content = results[0]["input_message_content"]
            assert content["parse_mode"] == "HTML" and SEED_URL in content["message_text"]
            assert_footer(content["message_text"])
            fake.push_inline_query("sourdough bread recipe")
            [_, empty] = await wait(fake, "answerInlineQuery", 2)
            assert [r["id"] for r in empty["results"]] == ["helpline"]
            assert_footer(empty["results"][0]["input_message_content"]["message_text"])

    run(scenario)


def test_groups_answer_only_when_addressed(fake, config, sample_index):
    group = {"chat_id": -100200, "chat_type": "supergroup", "user_id": 5}

    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_message("naltrexone and detox, anyone?", **group)
            fake.push_mention(QUESTION, **group)
            [sent] = await wait(fake, "sendMessage")
            assert "still in detoxification" in visible_text(sent["text"])
            await asyncio.sleep(0.5)
            assert len(fake.calls_to("sendMessage")) == 1, "answered a message that was not addressed to the bot"
            fake.push_message("what about methadone?", reply_to=fake.sent_messages[-1], **group)
            fake.push_command(f"/help@{fake.username}", **group)
            await wait(fake, "sendMessage", 3)

    run(scenario)


@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            "only read text",
        ),
        ({"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}, "only read text"),
        ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}}, "only read text"),
        ({"text": "   "}, "type your question"),
        ({"command": "frobnicate"}, "don't know that command"),
    ],
)
def test_odd_messages_get_a_short_kind_reply(fake, config, sample_index, fields, expected):
    async def scenario():
        async with polling(fake, config, sample_index):
            if "command" in fields:
                fake.push_command(fields["command"])
            else:
                text = fields.pop("text", None)
                fake.push_message(text, **fields)
            [sent] = await wait(fake, "sendMessage")
            assert expected in sent["text"]
            assert_footer(sent["text"])

    run(scenario)


def test_very_long_and_html_laden_questions(fake, config, sample_index):
    async def scenario():
        async with polling(fake, config, sample_index):
            fake.push_message('<b>naltrexone</b> & "detox" <script>alert(1)</script> ' + "x" * 6000)
            sent = await wait(fake, "sendMessage")
            assert "first 1,000 characters" in sent[0]["text"]
            assert fake.rejected == [], fake.rejected
            fake.push_message("<i>naltrexone</i> & detox?")
            sent = await wait(fake, "sendMessage", len(sent) + 1)
            assert "<script>" not in sent[-1]["text"] and fake.rejected == []

    run(scenario)


@pytest.mark.over_http
@pytest.mark.parametrize("fault", ["429", "500", "502", "drop", "timeout"])
def test_flood_control_and_server_errors_are_retried_without_doubling(fake, config, sample_index, fault):
    async def scenario():
        async with polling(fake, config, sample_index):
            fake.inject("sendMessage", fault, retry_after=1, delay=0.3 if fault == "timeout" else 0.0)
            fake.push_message(QUESTION)
            await wait(fake, "sendMessage")
            await asyncio.sleep(0.3)
            assert len(fake.calls_to("sendMessage")) == 1
            assert fake.faults_served == [("sendMessage", fault)]

    run(scenario)


def test_a_failure_gets_a_kind_fixed_message_and_the_log_gets_the_traceback(fake, config, sample_index, caplog):
    class Broken(Answerer):
        def page(self, *args, **kwargs):
            raise RuntimeError("secret internal detail")

    async def scenario():
        async with polling(fake, config, sample_index, Broken(sample_index, config.answer)):
            fake.push_message(QUESTION)
            [sent] = await wait(fake, "sendMessage")
            assert "went wrong" in sent["text"] and "secret internal detail" not in sent["text"]
            assert_footer(sent["text"])

    with caplog.at_level(logging.ERROR):
        run(scenario)
    assert any(r.exc_info and "secret internal detail" in str(r.exc_info[1]) for r in caplog.records)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.over_http
def test_webhook_accepts_the_right_secret_and_refuses_a_wrong_one(fake, config, sample_index):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"

    def update(update_id: int, text: str) -> dict:
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "text": text,
                "chat": {"id": 77, "type": "private", "first_name": "Sam"},
                "from": {"id": 77, "is_bot": False, "first_name": "Sam"},
            },
        }

    async def scenario():
        application = build_application(config, Answerer(sample_index, config.answer))
        await application.initialize()
        await application.start()
        await application.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="telegram", webhook_url=url, secret_token="right-secret"
        )
        try:
            assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "right-secret"
            wrong = await asyncio.to_thread(fake.post_to_webhook, url, update(1, QUESTION), "wrong-secret")
            missing = await asyncio.to_thread(fake.post_to_webhook, url, update(2, QUESTION), None)
            assert (wrong, missing) == (403, 403)
            ok = await asyncio.to_thread(fake.post_to_webhook, url, update(3, QUESTION), "right-secret")
            assert ok == 200
            [sent] = await wait(fake, "sendMessage")
            assert SEED_URL in sent["text"]
            await asyncio.sleep(0.3)
            assert len(fake.calls_to("sendMessage")) == 1
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

    run(scenario)


def test_a_button_from_before_the_articles_changed_is_refused(fake, config, sample_index, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "n.md").write_text(
        "---\ntitle: Naltrexone\nurl: https://example.org/n\n---\n\n"
        "Naltrexone is not taken during detoxification.\n\nMethadone is.\n\nBread.\n"
    )
    (other / "b.md").write_text("---\ntitle: Bread\nurl: https://example.org/b\n---\n\nBread is baked.\n")
    (other / "c.md").write_text("---\ntitle: Cake\nurl: https://example.org/c\n---\n\nCake is sweet.\n")

    async def scenario():
        async with polling(fake, config, sample_index) as application:
            fake.push_message(QUESTION)
            await wait(fake, "sendMessage")
            message = fake.sent_messages[-1]
            helpful = next(
                b["callback_data"]
                for row in message["reply_markup"]["inline_keyboard"]
                for b in row
                if "Helpful" in b["text"]
            )
            changed = SearchIndex.build(load_corpus(other), Analyzer())
            application.bot_data["services"].answerer = Answerer(changed, config.answer)
            fake.push_callback(helpful, message)
            [refused] = await wait(fake, "answerCallbackQuery")
            assert "no longer works" in refused["text"]
            assert FeedbackStore.open(config.database).counts()["articles"] == {}

    run(scenario)


@pytest.mark.over_http
@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_run_as_a_process_answers_keeps_secrets_out_of_the_log_and_stops_on_a_signal(fake, tmp_path, stop_signal):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake.TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_CORPUS": str(SAMPLE_CORPUS),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
        "BOT_LOG_LEVEL": "INFO",
        "BOT_RELOAD_SECONDS": "0",
    }
    log_path = tmp_path / "bot.log"
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "bot.sqlite3").write_bytes(b"not a database " * 100)  # the default BOT_DATABASE
    (tmp_path / "feedback.json").write_text('{"articles": {"a": {"helpful": 2}}, "answers": {"a#0": {"helpful": 2}}}')
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        fake.wait_for("setMyCommands", timeout=60)
        fake.push_message(QUESTION, chat_id=8675309, user_id=8675309)
        [sent] = fake.wait_for("sendMessage", timeout=30)
        assert SEED_URL in sent["text"]
        fake.push_callback(
            next(
                b["callback_data"]
                for row in sent["reply_markup"]["inline_keyboard"]
                for b in row
                if "Helpful" in b["text"]
            ),
            fake.sent_messages[-1],
            user_id=8675309,
        )
        assert "Thank you" in fake.wait_for("answerCallbackQuery", timeout=30)[0]["text"]
        if stop_signal == signal.SIGTERM:  # and a rebuilt index is swapped in on SIGHUP
            rebuilt = subprocess.run(
                [sys.executable, "-m", "bot", "index"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert rebuilt.returncode == 0, rebuilt.stderr
            process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 90
            while "reloaded the index (SIGHUP)" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "reloaded the index (SIGHUP)" in log_path.read_text()
        started = time.monotonic()
        process.send_signal(stop_signal)
        process.wait(timeout=20)
        assert time.monotonic() - started < 10
        assert process.returncode == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text()
    assert "started as @recovery_test_bot" in output
    assert "answered a private question" in output
    assert output.count("set aside") == 1 and "Traceback" not in output  # the damaged database: one line
    assert "moved the counts of" in output and (tmp_path / "feedback.json.migrated").is_file()
    counts = FeedbackStore.open(tmp_path / "state" / "bot.sqlite3").counts()
    assert (counts["helpful"], counts["articles"]["a"]["helpful"]) == (3, 2)
    for secret in (fake.TOKEN, fake.TOKEN.split(":")[1], "detoxing", "8675309"):
        assert secret not in output, f"{secret!r} leaked into the log"


@pytest.mark.over_http
def test_a_rejected_token_ends_the_process_with_one_line_that_never_holds_it(fake, tmp_path):
    wrong = "123456789:" + "A" * 35
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": wrong,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_CORPUS": str(SAMPLE_CORPUS),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
        "BOT_LOG_LEVEL": "INFO",
        "BOT_RELOAD_SECONDS": "0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in output, output
    for secret in (wrong, wrong.split(":")[1]):
        assert secret not in output


@pytest.mark.over_http
@pytest.mark.slow
def test_an_unreachable_bot_api_is_retried_with_one_line_a_failure_and_no_traceback(tmp_path):
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.1 nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": FakeBotAPI.TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "BOT_CORPUS": str(SAMPLE_CORPUS),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
        "BOT_LOG_LEVEL": "INFO",
        "BOT_RELOAD_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    import threading

    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        # two failures said means it retried; waited for, not slept on (a loaded machine starts slowly)
        deadline = time.monotonic() + 90
        while sum("failed (NetworkError)" in line for line in lines) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "it keeps trying: " + "".join(lines)
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        reader.join(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out = "".join(lines)
    assert sum("failed (NetworkError)" in line for line in lines) >= 2 and "Traceback" not in out, out
    assert FakeBotAPI.TOKEN not in out and FakeBotAPI.TOKEN.split(":")[1] not in out


@pytest.mark.over_http
@pytest.mark.slow
def test_a_token_revoked_while_running_ends_the_process_with_one_line(fake, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake.TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_CORPUS": str(SAMPLE_CORPUS),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
        "BOT_LOG_LEVEL": "INFO",
        "BOT_RELOAD_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake.wait_for("setMyCommands", timeout=60)
        fake.wait_for("getUpdates", timeout=30)  # polling
        fake.token = "987654321:" + "B" * 35  # the token is revoked: every call now gets 401
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert "python -m bot: error: Telegram stopped accepting TELEGRAM_BOT_TOKEN while the bot was running" in err, err
    assert "Traceback" not in err and fake.TOKEN not in err and fake.TOKEN.split(":")[1] not in err


def test_every_reply_a_user_can_receive_carries_the_disclaimer_and_the_helpline(fake, config, sample_index):
    """Walk every reply path, then read everything the bot sent: messages, button pop-ups, inline results.
    (One chat sends them all at once: its limits are lifted here; the "one moment" reply is walked in
    tests/test_telegram_state.py.)"""
    import dataclasses

    config = dataclasses.replace(config, chat_limit=100, chat_per_minute=1000)

    async def scenario():
        async with polling(fake, config, sample_index):
            expected_messages = 0
            for command in ("start", "help", "helpline", "about", "privacy", "frobnicate"):
                fake.push_command(command)
            for text in (
                QUESTION,
                "sourdough bread recipe",
                "hi",
                "thanks",
                "where can i get help",
                "my friend od'd and wont wake up",
                "i want to end my life",
                "just got out of rehab, gonna use tonight",
                "how does naloxone work",
                "   ",
                "naltrexone " * 700,
                "opium addiction treatment",
            ):
                fake.push_message(text)
            fake.push_message(
                None,
                sticker={
                    "file_id": "s",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                },
            )
            expected_messages = 6 + 12 + 1
            await wait(fake, "sendMessage", expected_messages, timeout=30)

            answered = next(m for m in fake.sent_messages if "More" in json.dumps(m.get("reply_markup", {})))
            buttons = {
                b["text"]: b["callback_data"] for row in answered["reply_markup"]["inline_keyboard"] for b in row
            }
            fake.push_callback(buttons["\U0001f44d Helpful"], answered)
            fake.push_callback("forged|data", answered)
            orphan = {**{k: v for k, v in answered.items() if k != "reply_to_message"}, "message_id": 99999}
            fake.push_callback(buttons["\U0001f44e Not helpful"], orphan)
            fake.push_callback(buttons["More \u25b8"], answered)
            await wait(fake, "answerCallbackQuery", 4)
            await wait(fake, "sendMessage", expected_messages + 1)
            for query in ("naltrexone detox", "", "he is not breathing after using"):
                fake.push_inline_query(query)
            await wait(fake, "answerInlineQuery", 3)

    run(scenario)
    messages = [p["text"] for p in fake.calls_to("sendMessage")]
    popups = [p["text"] for p in fake.calls_to("answerCallbackQuery") if p.get("text")]
    inline = [
        r["input_message_content"]["message_text"] for p in fake.calls_to("answerInlineQuery") for r in p["results"]
    ]
    assert (len(messages), len(popups), len(inline) >= 3) == (20, 3, True)
    assert any("Call 911 now" in t for t in messages + inline) and any("988" in t for t in messages)
    for text in messages + popups + inline:
        assert HELPLINE in text, text
        assert DISCLAIMER in text.lower(), text
    assert [r for r in fake.rejected if r[0] != "getUpdates"] == []  # every reply was valid Telegram HTML


@pytest.mark.over_http
@pytest.mark.parametrize(
    "fault", [pytest.param("hang", marks=pytest.mark.slow), "500", "drop", pytest.param("429", marks=pytest.mark.slow)]
)
def test_get_updates_faults_lose_nothing_and_double_nothing(fake, config, sample_index, fault):
    async def scenario():
        application = build_application(
            config,
            Answerer(sample_index, config.answer),
            rate_limiter=RetryingRateLimiter(backoff=0.05),
            poll_read_timeout=1.0,
        )
        await application.initialize()
        await application.start()
        fake.inject("getUpdates", fault, retry_after=1)
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            for n in range(3):
                fake.push_message(f"{QUESTION} {n}", chat_id=500 + n, user_id=500 + n)
            sent = await wait(fake, "sendMessage", 3, timeout=30)
            await asyncio.sleep(0.5)
            assert sorted(p["chat_id"] for p in fake.calls_to("sendMessage")) == [500, 501, 502]
            assert ("getUpdates", fault) in fake.faults_served
            assert all(SEED_URL in p["text"] for p in sent)
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

    run(scenario)


def test_without_a_transport_the_bot_talks_http_through_the_librarys_own_client(fake, config, sample_index):
    """What `run` builds: calls and getUpdates over python-telegram-bot's HTTPXRequest, getUpdates screened;
    FakeRequest only when a test hands it in."""
    from telegram.request import HTTPXRequest

    from bot.telegram.updates import ScreenedUpdatesRequest

    running = build_application(config, Answerer(sample_index, config.answer)).bot
    polls = running._request[0]  # noqa: SLF001 - the library keeps the getUpdates request there
    assert type(running.request) is HTTPXRequest and isinstance(polls, ScreenedUpdatesRequest)
    assert type(polls.inner) is HTTPXRequest and polls.inner is not running.request
    tested = build_application(config, Answerer(sample_index, config.answer), transport=transport(fake)).bot
    assert type(tested.request) is FakeRequest and type(tested._request[0].inner) is FakeRequest  # noqa: SLF001


@pytest.mark.parametrize("fake", ["http", "in-process"], indirect=True)
def test_an_update_the_library_cannot_parse_is_skipped_and_the_rest_answered(fake, config, sample_index, caplog):
    """A poll without its required fields (as after a Bot API change) in the middle of a batch: screened on its
    way from python-telegram-bot's HTTP client, as when running, and from the in-process one."""

    async def scenario():
        application = build_application(
            config, Answerer(sample_index, config.answer), poll_read_timeout=1.0, transport=transport(fake)
        )
        await application.initialize()
        await application.start()
        fake.push_message(f"{QUESTION} first", chat_id=601, user_id=601)
        fake.push_update({"poll": {"id": "p1", "question": "secret words of a poll"}})
        fake.push_message(f"{QUESTION} last", chat_id=602, user_id=602)
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            await wait(fake, "sendMessage", 2, timeout=30)
            await asyncio.sleep(1.0)
            assert sorted(p["chat_id"] for p in fake.calls_to("sendMessage")) == [601, 602]
            assert len(fake.calls_to("getUpdates")) < 20, "the batch is not fetched again and again"
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

    with caplog.at_level(logging.INFO):
        run(scenario)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "skipped update" in logged and "secret words" not in logged and "detoxing" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


@pytest.mark.slow
def test_a_rebuilt_index_is_swapped_in_while_questions_keep_coming(fake, tmp_path):
    import shutil

    from bot.engine import open_answerer
    from bot.search.index import build_index

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    config = Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "TELEGRAM_API_BASE_URL": api_url(fake),
            "BOT_CORPUS": str(corpus),
            "BOT_INDEX": str(tmp_path / "index"),
            "BOT_RELOAD_SECONDS": "0.1",
            "BOT_FEEDBACK_FILE": str(tmp_path / "fb.json"),
            "BOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        }
    )
    answerer = open_answerer(config)
    new_article = (
        "---\ntitle: Fentanyl Test Strips\nurl: https://www.opium.org/fentanyl-test-strips.html\n---\n\n"
        "Fentanyl test strips show whether a drug contains fentanyl before it is used.\n"
    )
    questions = 120

    async def scenario():
        async with polling(fake, config, answerer.index, answerer) as application:

            async def ask_throughout():
                for n in range(questions):
                    fake.push_message(
                        "what are fentanyl test strips" if n % 2 else QUESTION, chat_id=10_000 + n, user_id=10_000 + n
                    )
                    await asyncio.sleep(0.01)

            asker = asyncio.create_task(ask_throughout())
            await asyncio.sleep(0.3)
            (corpus / "strips.md").write_text(new_article, encoding="utf-8")
            await asyncio.to_thread(build_index, corpus, config.index, answerer.index.analyzer, config.index_settings)
            await asker
            await wait(fake, "sendMessage", questions, timeout=60)
            services = application.bot_data["services"]
            # with meaning reranking on (the default here), the new build's new chunks are encoded before
            # the swap, while the old index answers on
            for _ in range(600):
                if services.answerer.index.build != answerer.index.build:
                    break
                await asyncio.sleep(0.1)
            assert services.answerer.index.build != answerer.index.build, "the new build was not swapped in"

            # A broken build is refused; the bot keeps serving the last good one.
            broken = config.index / "build-broken"
            broken.mkdir()
            (broken / "manifest.json").write_text("{not json")
            (config.index / "CURRENT").write_text("build-broken\n")
            await asyncio.sleep(0.5)
            assert services.answerer.index.build not in (None, "build-broken")
            fake.push_message("what are fentanyl test strips", chat_id=99, user_id=99)
            await wait(fake, "sendMessage", questions + 1, timeout=30)

    run(scenario)
    sent = fake.calls_to("sendMessage")
    assert len(sent) == questions + 1 and len({p["chat_id"] for p in sent}) == questions + 1  # one answer each
    assert not any("went wrong" in p["text"] for p in sent)
    strips = [p for p in sent if "chat_id" in p and p["chat_id"] >= 10_000 and (p["chat_id"] - 10_000) % 2]
    assert "fentanyl-test-strips" not in strips[0]["text"]  # asked before the rebuild
    # the last ones asked in the stream may come before the new build's chunks are encoded and it is swapped in;
    # the question asked after the swap (below) is answered from it
    assert "fentanyl-test-strips.html" in sent[-1]["text"]  # still served after the broken build was refused


@pytest.mark.slow  # 3-4 s: three rebuilds while serving
def test_a_running_bot_refuses_damaged_builds_keeps_serving_and_keeps_watching(fake, tmp_path, caplog):
    """Bytes changed inside an .npy, a CURRENT that is not UTF-8, an .npy header changed, a missing file:
    each is logged in one line, once; the live index answers throughout; then a good build is swapped in."""
    import shutil

    from bot.search.index import build_index

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    config = Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "TELEGRAM_API_BASE_URL": api_url(fake),
            "BOT_INDEX": str(tmp_path / "index"),
            "BOT_RELOAD_SECONDS": "0.05",
            "BOT_FEEDBACK_FILE": str(tmp_path / "fb.json"),
        }
    )
    analyzer = Analyzer()
    build_index(corpus, config.index, analyzer)
    live = SearchIndex.load(config.index, analyzer)
    (corpus / "strips.md").write_text(
        "---\ntitle: Fentanyl Test Strips\nurl: https://www.opium.org/strips.html\n"
        "---\n\nFentanyl test strips show whether a drug contains fentanyl.\n"
    )
    staging = tmp_path / "staging"

    def new_build(name: str, damage) -> None:
        """A build with the new article, damaged, put beside the live one and made CURRENT."""
        build_index(corpus, staging, analyzer)
        folder = config.index / name
        shutil.copytree(staging / (staging / "CURRENT").read_text().strip(), folder)
        damage(folder)
        (config.index / "CURRENT.new").write_text(name + "\n")
        os.replace(config.index / "CURRENT.new", config.index / "CURRENT")

    def flip(folder) -> None:
        data = bytearray((folder / "weights.npy").read_bytes())
        data[-3] ^= 0xFF
        (folder / "weights.npy").write_bytes(bytes(data))

    def header(folder) -> None:
        data = (folder / "docs.npy").read_bytes()
        (folder / "docs.npy").write_bytes(data.replace(b"'<i4'", b"'<f4'", 1))

    def refusals() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("did not reload the index")]

    async def until(condition, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert condition(), refusals()

    async def answered_from_the_live_index(chat_id: int) -> None:
        fake.push_message("what are fentanyl test strips", chat_id=chat_id, user_id=chat_id)
        [sent] = await wait(fake, "sendMessage", where=lambda p: p["chat_id"] == chat_id)
        assert "strips.html" not in sent["text"] and "went wrong" not in sent["text"]
        assert_footer(sent["text"])

    async def scenario():
        async with polling(fake, config, live) as application:
            services = application.bot_data["services"]
            steps = [
                ("build-flipped", flip, "weights.npy is damaged (its contents do not match the build's sha256)"),
                (None, None, "CURRENT is damaged (not UTF-8 text, so it names no build)"),
                ("build-header", header, "docs.npy is damaged (its contents do not match"),
                ("build-missing", lambda f: (f / "terms.json").unlink(), "terms.json is missing"),
            ]
            for n, (name, damage, expected) in enumerate(steps, start=1):
                if name:
                    await asyncio.to_thread(new_build, name, damage)
                else:
                    (config.index / "CURRENT").write_bytes(b"\xff\xfe\x00")
                await until(lambda n=n: len(refusals()) == n)
                assert expected in refusals()[-1] and "\n" not in refusals()[-1]
                await answered_from_the_live_index(500 + n)
                assert services.answerer.index.build == live.build
            await asyncio.sleep(0.3)  # twenty more looks at the same damage: nothing more in the log
            assert len(refusals()) == len(steps)
            await asyncio.to_thread(build_index, corpus, config.index, analyzer)  # a good build: swapped in
            # The swap encodes the new build's passages for semantic reranking first: seconds on a busy machine.
            await until(lambda: services.answerer.index.build != live.build, timeout=90.0)
            fake.push_message("what are fentanyl test strips", chat_id=900, user_id=900)
            [sent] = await wait(fake, "sendMessage", where=lambda p: p["chat_id"] == 900)
            assert "strips.html" in sent["text"]

    with caplog.at_level(logging.INFO):
        run(scenario, timeout=180)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


LOAD_QUESTIONS = [
    QUESTION,
    "how does naltrexone work",
    "can i take vivitrol while on subs",
    "what is kratom",
    "opium street names",
    "is heroin hard to quit",
    "bupe vs methadone",
    "naltrexon side effects",
    "how long does withdrawal last",
    "can naltrexone help with alcohol cravings",
    "hi",
    "thanks",
    "where can i get help",
    "what are fentanyl test strips",
    "is NA a 12 step group",
    "methods of opium addiction treatment",
    "why do people stop taking naltrexone",
    "does insurance cover rehab",
    "what is the weather in paris",
    "can i use kratom for withdrawl",
]


@pytest.mark.over_http
@pytest.mark.slow
def test_a_burst_of_2000_questions_from_500_users_gets_exactly_one_answer_each(fake, tmp_path, sample_index, capsys):
    """The bot's own capacity: Telegram's 30 messages a second is lifted for the fake server."""
    config = Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": fake.TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "BOT_FEEDBACK_FILE": str(tmp_path / "feedback.json"),
            "BOT_MESSAGES_PER_SECOND": "100000",
            "BOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        }
    )
    users, per_user = 500, 4
    arrivals: dict[tuple[int, int], float] = {}
    pushed: dict[tuple[int, int], float] = {}

    def watch(stop):
        seen = 0
        while not stop.is_set():
            calls = fake.calls_to("sendMessage")
            now = time.monotonic()
            for params in calls[seen:]:
                key = (params["chat_id"], params["reply_parameters"]["message_id"])
                assert key not in arrivals, f"answered twice: {key}"
                arrivals[key] = now
            seen = len(calls)
            stop.wait(0.005)

    async def scenario():
        import threading

        async with polling(fake, config, sample_index):
            stop = threading.Event()
            watcher = threading.Thread(target=watch, args=(stop,), daemon=True)
            watcher.start()
            started = time.monotonic()
            for n in range(users * per_user):
                user = 20_000 + n % users
                update = fake.push_message(LOAD_QUESTIONS[n % len(LOAD_QUESTIONS)], chat_id=user, user_id=user)
                pushed[(user, update["message"]["message_id"])] = time.monotonic()
            await wait(fake, "sendMessage", users * per_user, timeout=240)
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.3)
            stop.set()
            watcher.join()
            return elapsed

    elapsed = run(scenario, timeout=300)
    assert set(arrivals) == set(pushed), "every question gets exactly one answer"
    latencies = sorted(arrivals[key] - pushed[key] for key in pushed)
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    with capsys.disabled():
        print(
            f"\nload: {len(pushed)} questions from {users} users answered in {elapsed:.1f} s: "
            f"{len(pushed) / elapsed:.0f} answers/s; update-to-reply p50 {latencies[len(latencies) // 2]:.2f} s, "
            f"p95 {p95:.2f} s"
        )
