"""A running bot with BOT_SITE follows the site by itself: crawl, rebuild beside the live index, swap it in;
a crawl that fails keeps the live index and says so. Against the fake Bot API and a WordPress-like site."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from bot.config import Config
from bot.engine import open_answerer
from bot.refresh import first_crawl, seconds_until_due
from tests.conftest import ROOT
from tests.fake_bot_api import FakeBotAPI
from tests.test_telegram_e2e import polling, run, wait
from tests.wordpress_site import OffSite, WordPressSite

STRIPS = "what are fentanyl test strips"


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def site():
    with OffSite() as offsite, WordPressSite(offsite.url) as server:
        server.slow = False
        yield server


def settings(fake: FakeBotAPI, site: WordPressSite, tmp_path, hours: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_SITE": site.url,
        "BOT_CORPUS": str(tmp_path / "site"),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_CRAWL_HOURS": hours,
        "BOT_CRAWL_DELAY": "0",
        "BOT_RELOAD_SECONDS": "0",
        "BOT_FEEDBACK_FILE": str(tmp_path / "fb.json"),
    }


async def until(condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


@pytest.mark.slow  # 3 s: a crawl, a rebuild and a swap while serving
def test_a_running_bot_picks_up_the_sites_changes_by_itself(fake, site, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    config = Config.from_env(settings(fake, site, tmp_path, "0.0001"))  # a crawl every 0.36 s
    first_crawl(config, lambda line: None)
    answerer = open_answerer(config)

    async def scenario():
        async with polling(fake, config, answerer.index, answerer) as application:
            services = application.bot_data["services"]
            fake.push_message(STRIPS, chat_id=1, user_id=1)
            [before] = await wait(fake, "sendMessage")
            assert "fentanyl-test-strips" not in before["text"]

            site.change()
            first = services.answerer.index.build
            await until(lambda: services.answerer.index.build != first)
            fake.push_message(STRIPS, chat_id=2, user_id=2)
            fake.push_message("how long does opium withdrawal last", chat_id=3, user_id=3)
            answers = {p["chat_id"]: p["text"] for p in await wait(fake, "sendMessage", 3)}
            assert f'href="{site.url}/fentanyl-test-strips.html' in answers[2]
            assert "withdrawal-treatment-work" not in answers[3]

            fake.push_command("about", chat_id=4, user_id=4)
            [about] = await wait(fake, "sendMessage", 1, where=lambda p: p["chat_id"] == 4)
            assert f"The site {site.url} was last read" in about["text"] and ": 5 articles" in about["text"]

            site.refuse = lambda path: True  # the site goes down: the next crawl fails, the bot goes on
            second = services.answerer.index.build
            await until(lambda: "did not refresh from" in caplog.text)
            assert "still serving the previous index" in caplog.text
            assert services.answerer.index.build == second
            fake.push_message(STRIPS, chat_id=5, user_id=5)
            [still] = await wait(fake, "sendMessage", 1, where=lambda p: p["chat_id"] == 5)
            assert "fentanyl-test-strips.html" in still["text"]

    run(scenario, timeout=180)
    assert "reloaded the index (the site was crawled)" in caplog.text


def test_a_restart_waits_for_the_next_crawl_that_is_due(fake, site, tmp_path):
    config = Config.from_env(settings(fake, site, tmp_path, "24"))
    first_crawl(config, lambda line: None)
    assert 23.9 * 3600 < seconds_until_due(config) <= 24 * 3600
    since = len(site.requests)
    first_crawl(config, lambda line: None)  # crawled already: nothing asked of the site at start
    assert site.paths(since) == []


@pytest.mark.slow
def test_run_with_bot_site_reads_the_site_first_then_follows_it(fake, site, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_LOG_LEVEL": "INFO", **settings(fake, site, tmp_path, "0.0003")}
    log_path = tmp_path / "bot.log"
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
        fake.push_message("how is methadone taken", chat_id=1, user_id=1)
        [sent] = fake.wait_for("sendMessage", timeout=30)
        assert f"{site.url}/methadone-maintenance.html" in sent["text"]
        site.change()
        deadline = time.monotonic() + 90
        while "reloaded the index (the site was crawled)" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        fake.push_message(STRIPS, chat_id=2, user_id=2)
        sent = fake.wait_for("sendMessage", 2, timeout=30)
        assert f"{site.url}/fentanyl-test-strips.html" in sent[-1]["text"]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert process.returncode == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text()
    assert f"reading {site.url} into" in output and "crawled " + site.url in output
    assert "Traceback" not in output and fake.TOKEN not in output
