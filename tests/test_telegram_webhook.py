"""The webhook (`run --webhook`): an update python-telegram-bot cannot parse gets a 200 (so Telegram does
not post it again for ever), is counted and logged once without its content, and the rest are answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bot.answering.answer import Answerer
from bot.telegram.app import build_application
from bot.telegram.retry import RetryingRateLimiter
from bot.telegram.webhook import WebhookRefused
from tests import test_telegram_e2e as e2e
from tests.conftest import ROOT, SAMPLE_CORPUS
from tests.test_telegram_e2e import QUESTION, SEED_URL, free_port, run, wait

fake, config = e2e.fake, e2e.config  # the end-to-end tests' fixtures: tdlib judges every message sent
pytestmark = pytest.mark.over_http  # the webhook: the fake is served on 127.0.0.1
SECRET = "right-secret"
BAD_POLL = {"poll": {"id": "p1", "question": "secret words of a poll"}}  # a poll without its required fields


def message(update_id: int, text: str, chat_id: int = 77) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
        },
    }


def post_raw(url: str, body: bytes, secret: str = SECRET) -> int:
    """POST a body as Telegram would (JSON content type, the secret), whatever it holds."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code


@contextlib.asynccontextmanager
async def webhook(config, sample, port: int, **options):
    application = build_application(
        config, Answerer(sample, config.answer), rate_limiter=RetryingRateLimiter(backoff=0.05)
    )  # its 4 tries, quickly
    await application.initialize()
    await application.start()
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token=SECRET,
        **options,
    )
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


def test_an_update_the_library_cannot_parse_gets_a_200_is_logged_once_and_the_next_is_answered(
    fake, config, sample, caplog
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"

    async def scenario():
        async with webhook(config, sample, port) as application:
            statuses = [
                await asyncio.to_thread(fake.post_to_webhook, url, {"update_id": 10, **BAD_POLL}, SECRET),
                await asyncio.to_thread(post_raw, url, b"{not json at all"),
                await asyncio.to_thread(post_raw, url, b"[1, 2]"),
                await asyncio.to_thread(fake.post_to_webhook, url, message(11, QUESTION), SECRET),
            ]
            assert statuses == [200, 200, 200, 200]
            [sent] = await wait(fake, "sendMessage")
            assert SEED_URL in sent["text"] and sent["chat_id"] == 77
            assert application.updater.screen.skipped == 3
            assert await asyncio.to_thread(post_raw, url, b"{}", "wrong-secret") == 403  # still refused

    with caplog.at_level(logging.INFO):
        run(scenario)
    logged = [r.getMessage() for r in caplog.records]
    assert sum("skipped update 10 (poll)" in line for line in logged) == 1, logged
    assert any("dropped an update without a usable id (3 skipped since start)" in line for line in logged)
    assert not any("secret words" in line or "detoxing" in line or "not json" in line for line in logged)
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


def test_a_webhook_telegram_refuses_is_one_clear_error(fake, config, sample):
    fake.inject("setWebhook", "400")

    async def scenario():
        with pytest.raises(WebhookRefused, match="Telegram refused the webhook http://127.0.0.1:.*: Injected fault"):
            async with webhook(config, sample, free_port()):
                pass

    run(scenario)


def test_registering_the_webhook_is_retried_while_telegram_cannot_be_reached(fake, config, sample, caplog):
    fake.inject("setWebhook", "502", times=4)  # the rate limiter's four tries all fail, then the webhook's own
    port = free_port()

    async def scenario():
        async with webhook(config, sample, port, bootstrap_retries=-1):
            assert fake.webhook["url"] == f"http://127.0.0.1:{port}/telegram"

    with caplog.at_level(logging.WARNING):
        run(scenario)
    assert [r.getMessage() for r in caplog.records if "register the webhook" in r.getMessage()] == [
        "could not register the webhook with Telegram (NetworkError); trying again in 1 s"
    ]


@pytest.mark.slow
def test_run_webhook_as_a_process_skips_an_unparsable_update_and_answers_the_next(fake, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
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
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "TELEGRAM_WEBHOOK_PATH": "telegram",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--webhook"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        fake.wait_for("setWebhook", timeout=60)
        assert fake.post_to_webhook(url, {"update_id": 20, **BAD_POLL}, SECRET) == 200
        assert fake.post_to_webhook(url, message(21, QUESTION, chat_id=8675309), SECRET) == 200
        [sent] = fake.wait_for("sendMessage", timeout=30)
        assert SEED_URL in sent["text"]
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert out.count("skipped update 20 (poll) the library could not read") == 1, out
    assert "answered a private question" in out and "Traceback" not in out and "CRITICAL" not in out
    for secret in ("secret words", "detoxing", "8675309", SECRET, fake.TOKEN.split(":")[1]):
        assert secret not in out, f"{secret!r} leaked into the log"
