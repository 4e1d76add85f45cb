"""The token in no output of any kind, whatever the Bot API does: each failure run as a process, every byte
it writes searched. Faults that pass get the question answered; faults that last end in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, SAMPLE_CORPUS
from tests.fake_bot_api import FakeBotAPI

QUESTION = "can i take naltrexone while detoxing"


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server


def _env(fake, tmp_path, **extra) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": fake.TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_CORPUS": str(SAMPLE_CORPUS),
        "BOT_INDEX": str(tmp_path / "index"),
        "BOT_DATABASE": str(tmp_path / "state" / "bot.sqlite3"),
        "BOT_LOG_LEVEL": "INFO",
        "BOT_RELOAD_SECONDS": "0",
        **extra,
    }


def _assert_no_secret(output: str, fake) -> None:
    """The token nowhere; the question nowhere above DEBUG (a DEBUG line may hold it); no traceback at INFO."""
    for secret in (fake.TOKEN, fake.TOKEN.split(":")[1]):
        assert secret not in output, f"the token leaked: {output[-2000:]}"
    above_debug = "\n".join(line for line in output.splitlines() if " DEBUG " not in line[:40])
    assert QUESTION not in above_debug, above_debug[-2000:]
    assert "Traceback" not in output, output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, fault",
    [
        ("getMe", "500"),
        ("getMe", "502"),
        ("getMe", "429"),
        ("getMe", "drop"),
        ("getMe", "timeout"),
        ("setMyCommands", "500"),
        ("setMyCommands", "400"),
        ("getUpdates", "500"),
        ("getUpdates", "drop"),
        ("sendMessage", "429"),
        ("sendMessage", "500"),
        ("sendMessage", "drop"),
    ],
)
def test_a_passing_fault_of_the_bot_api_leaks_nothing_and_the_question_is_answered(fake, tmp_path, method, fault):
    fake.inject(method, fault, times=2, retry_after=1, delay=0.5)
    fake.push_message(QUESTION)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=_env(fake, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answered = fake.wait_for("sendMessage", timeout=90)
        assert answered
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    _assert_no_secret(out, fake)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["run"], ["check"], ["--help"], ["run", "--help"]])
def test_a_token_refused_or_malformed_is_never_printed(fake, tmp_path, args):
    for token in ("123456789:" + "C" * 35, "not-a-token-" + "D" * 30):
        for level in ("INFO", "DEBUG"):  # DEBUG shows tracebacks, and they must not hold the token either
            env = _env(fake, tmp_path, TELEGRAM_BOT_TOKEN=token, BOT_LOG_LEVEL=level)
            result = subprocess.run(
                [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90
            )
            output = result.stdout + result.stderr
            for secret in (token, token.split(":")[-1], token[12:]):
                assert secret not in output, output[-2000:]
            assert level == "DEBUG" or "Traceback" not in output, output[-3000:]
            if args[-1] != "--help":
                assert result.returncode != 0
